//! The event queue: workers claim due events in batches, hand each to the [`Handler`] of its
//! source, and commit the handler's effects together with the event's new state. Transient
//! failures are retried with backoff and jitter; after `max_attempts` the event is parked as
//! `dead`; a script error marks it `failed` at once (not transient: replay it after a fix).
pub mod retry;
mod worker;

pub use worker::{spawn_workers, QueueSettings, Worker};

use async_trait::async_trait;
use sea_orm::DatabaseTransaction;

use crate::store::decisions::DecisionRecord;
use crate::store::entities::event;

/// Why handling an event did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// A rule script failed (compile, run time, limits): not retried. The decision record
    /// (script version, log, error) is kept even though the effects are rolled back.
    #[error("{message}")]
    Script {
        message: String,
        record: Option<Box<crate::store::decisions::DecisionRecord>>,
    },
    /// The stored payload cannot be handled (cannot happen for what ingestion accepted).
    #[error("{0}")]
    Invalid(String),
    /// Anything that may pass: the database, a peer. Retried with backoff.
    #[error(transparent)]
    Transient(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for HandleError {
    fn from(e: crate::store::StoreError) -> Self {
        HandleError::Transient(e.into())
    }
}

impl From<sea_orm::DbErr> for HandleError {
    fn from(e: sea_orm::DbErr) -> Self {
        HandleError::Transient(e.into())
    }
}

/// An event of a batch that did not succeed (`None`: the batch's closing writes failed).
#[derive(Debug)]
pub struct BatchFailure {
    pub event_id: Option<String>,
    pub error: HandleError,
}

/// Handles events: decides (runs the script) and applies the decision inside `txn`.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles the events of `batch` in order inside `txn`, taking none after `until` (unix
    /// millis); answers, for each event handled, the decision record to keep with it (the
    /// worker writes a batch's records together). Fails at the first event that does not
    /// succeed; the caller then rolls `txn` back.
    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        batch: &[event::Model],
        until: i64,
    ) -> Result<Vec<Option<DecisionRecord>>, BatchFailure>;

    /// Handles one event inside `txn`.
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &event::Model,
    ) -> Result<Option<DecisionRecord>, HandleError> {
        let mut records = self
            .handle_batch(txn, std::slice::from_ref(event), i64::MAX)
            .await
            .map_err(|failure| failure.error)?;
        Ok(records.pop().flatten())
    }

    /// Called after a batch's transaction committed (e.g. to wake the mail sender).
    fn after_commit(&self) {}

    /// Called with the decision records a transaction committed, failed events' included.
    fn decided(&self, _records: &[DecisionRecord]) {}
}
