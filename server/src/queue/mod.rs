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

/// Handles events: decides (runs the script) and applies the decision inside `txn`.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles `event` inside `txn`; answers the decision record to keep with it, if a script
    /// decided (the worker writes the records of a batch together).
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &event::Model,
    ) -> Result<Option<DecisionRecord>, HandleError>;

    /// Called after a batch's transaction committed (e.g. to wake the mail sender).
    fn after_commit(&self) {}
}
