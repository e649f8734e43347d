//! Ingestion on SQLite: a connection of its own that stores each batch of events in one
//! transaction with cached prepared statements, for the ingest writer's thread.
//!
//! Going through the pool would cost a hop to the driver's worker thread for every statement
//! (BEGIN, the INSERT, the look-up, COMMIT) and build the SQL text anew for every batch; a
//! thread with its own connection does the whole batch in one go. It takes the process's write
//! turn ([`Store::write_turn`]) around each batch, so the other writers of this process never
//! meet its write lock.
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::sync::Arc;
use std::time::Duration;

use super::events::{InsertOutcome, NewEvent};
use super::{Store, StoreError, StoreResult};
use crate::domain::status::EventStatus;

/// One row per event; a redelivery (same source and webhook id) changes nothing.
const INSERT: &str = "INSERT INTO events \
     (id, source, kind, webhook_id, body_hash, payload, status, attempts, next_attempt_at, received_at, \
      person_hash, candidate_id) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8, ?9, ?10) \
     ON CONFLICT (source, webhook_id) DO NOTHING";
/// What is stored under a key an INSERT did not take.
const STORED: &str = "SELECT id, body_hash FROM events WHERE source = ?1 AND webhook_id = ?2";

/// Stores batches of ingested events on an SQLite file; used from one blocking thread (its
/// methods block, so never call them on the async runtime).
pub struct SqliteBatchWriter {
    db: Connection,
    turn: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Store {
    /// On an SQLite file, a batch writer with a connection of its own (the pool's settings);
    /// `None` on PostgreSQL and in-memory SQLite, which store through [`Store::insert_events`].
    pub fn sqlite_batch_writer(&self) -> StoreResult<Option<SqliteBatchWriter>> {
        let Some(path) = &self.sqlite_file else {
            return Ok(None);
        };
        let db = open(path).map_err(db_error)?;
        Ok(Some(SqliteBatchWriter {
            db,
            turn: self.write_turn.clone(),
        }))
    }
}

impl SqliteBatchWriter {
    /// Waits for the process's write turn, stores `batch` in one transaction and answers, per
    /// event in order, what it came to (as [`Store::insert_events`] does). Answers only after
    /// the transaction committed; on a failure nothing of the batch is stored (the rollback is
    /// done before the turn is given back).
    pub fn insert_events(&mut self, batch: &[NewEvent]) -> StoreResult<Vec<InsertOutcome>> {
        let _turn = self.turn.as_ref().map(|turn| turn.blocking_lock());
        store_batch(&mut self.db, batch).map_err(db_error)
    }
}

/// As the pool's errors are classified (see [`StoreError`]): the write lock held by another
/// process past the busy timeout, a full disk or a failed write is `Unavailable`.
fn db_error(e: rusqlite::Error) -> StoreError {
    let message = format!("SQLite: {e}");
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::DatabaseBusy
            | rusqlite::ErrorCode::DatabaseLocked
            | rusqlite::ErrorCode::DiskFull
            | rusqlite::ErrorCode::SystemIoFailure,
        ) => StoreError::Unavailable(message),
        _ => StoreError::Db(sea_orm::DbErr::Custom(message)),
    }
}

/// The same settings as the pool's connections (see [`super::Store::connect`]).
fn open(path: &str) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(30))?;
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; \
         PRAGMA secure_delete = ON;",
    )?;
    Ok(db)
}

/// One transaction for the batch. A failure rolls it back (the transaction is dropped before
/// the answer is sent, so the write lock is gone by then).
fn store_batch(db: &mut Connection, batch: &[NewEvent]) -> rusqlite::Result<Vec<InsertOutcome>> {
    let txn = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    {
        let mut insert = txn.prepare_cached(INSERT)?;
        let mut stored = txn.prepare_cached(STORED)?;
        for e in batch {
            let inserted = insert.execute(rusqlite::params![
                e.id,
                e.source.as_str(),
                e.kind,
                e.webhook_id,
                e.body_hash,
                e.payload,
                EventStatus::Pending.as_str(),
                e.received_at,
                e.person.address_hash,
                e.person.candidate_id,
            ])?;
            if inserted == 1 {
                outcomes.push(InsertOutcome::Accepted);
                continue;
            }
            let found: Option<(String, String)> = stored
                .query_row([e.source.as_str(), e.webhook_id.as_str()], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            outcomes.push(match found {
                Some((id, hash)) if hash == e.body_hash => {
                    InsertOutcome::Duplicate { event_id: id }
                }
                Some((id, _)) => InsertOutcome::Conflict { event_id: id },
                // Not inserted and not there: cannot happen inside one transaction.
                None => InsertOutcome::Conflict {
                    event_id: String::new(),
                },
            });
        }
    }
    txn.commit()?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use crate::domain::status::EventSource;
    use crate::store::events::{InsertOutcome, NewEvent};
    use crate::store::{Store, StoreResult};

    use crate::store::test_support::store;

    /// Stores `batch` through the SQLite batch writer, off the runtime as the ingest thread does.
    async fn insert(store: &Store, batch: Vec<NewEvent>) -> StoreResult<Vec<InsertOutcome>> {
        let mut writer = store.sqlite_batch_writer()?.expect("an SQLite file");
        tokio::task::spawn_blocking(move || writer.insert_events(&batch))
            .await
            .unwrap()
    }

    fn event(id: &str, source: EventSource, webhook_id: &str, body: &str) -> NewEvent {
        NewEvent {
            id: id.into(),
            source,
            kind: "application.status_changed".into(),
            webhook_id: webhook_id.into(),
            body_hash: crate::ingest::body_hash(body.as_bytes()),
            payload: body.into(),
            received_at: 1_700_000_000_000,
            person: Default::default(),
        }
    }

    /// A first batch, then one mixing new, duplicate and conflicting deliveries.
    fn mixed_batches() -> [Vec<NewEvent>; 2] {
        [
            vec![event("evt_a", EventSource::Ats, "m1", r#"{"a":1}"#)],
            vec![
                // New.
                event("evt_b", EventSource::Ats, "m2", r#"{"b":1}"#),
                // Redelivery of an event stored by an earlier batch.
                event("evt_c", EventSource::Ats, "m1", r#"{"a":1}"#),
                // Same webhook id, different body.
                event("evt_d", EventSource::Ats, "m1", r#"{"a":2}"#),
                // Same webhook id from another source: a different event.
                event("evt_e", EventSource::CareerRelay, "m1", r#"{"a":2}"#),
                // Redelivery and conflict of an event new in this same batch.
                event("evt_f", EventSource::Ats, "m2", r#"{"b":1}"#),
                event("evt_g", EventSource::Ats, "m2", r#"{"b":2}"#),
            ],
        ]
    }

    fn mixed_outcomes() -> Vec<InsertOutcome> {
        vec![
            InsertOutcome::Accepted,
            InsertOutcome::Duplicate {
                event_id: "evt_a".into(),
            },
            InsertOutcome::Conflict {
                event_id: "evt_a".into(),
            },
            InsertOutcome::Accepted,
            InsertOutcome::Duplicate {
                event_id: "evt_b".into(),
            },
            InsertOutcome::Conflict {
                event_id: "evt_b".into(),
            },
        ]
    }

    /// SQLite's busy and locked codes mean another writer held the lock past the busy timeout:
    /// unavailable, worth a retry; anything else is a failure.
    #[test]
    fn a_lock_held_elsewhere_is_unavailable() {
        use crate::store::StoreError;
        let failure = |code| {
            super::db_error(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_BUSY),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_LOCKED),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_CONSTRAINT),
            StoreError::Db(_)
        ));
    }

    #[tokio::test]
    async fn a_batch_mixing_new_duplicate_and_conflicting_deliveries_answers_each() {
        let (_dir, store) = store().await;
        let [first, mixed] = mixed_batches();
        assert_eq!(
            insert(&store, first).await.unwrap(),
            vec![InsertOutcome::Accepted]
        );
        assert_eq!(insert(&store, mixed).await.unwrap(), mixed_outcomes());
        let stored = store.get_event("evt_e").await.unwrap();
        assert_eq!(
            (stored.status.as_str(), stored.payload.as_str()),
            ("pending", r#"{"a":2}"#)
        );
        assert!(store.get_event("evt_c").await.is_err());
    }

    #[tokio::test]
    async fn the_pool_answers_a_mixed_batch_as_the_batch_writer_does() {
        let (_dir, store) = store().await;
        let [first, mixed] = mixed_batches();
        store.insert_events(&first).await.unwrap();
        assert_eq!(store.insert_events(&mixed).await.unwrap(), mixed_outcomes());
    }

    #[tokio::test]
    async fn a_batch_that_fails_stores_nothing_and_the_next_one_is_stored() {
        let (_dir, store) = store().await;
        insert(&store, vec![event("evt_a", EventSource::Ats, "m1", "{}")])
            .await
            .unwrap();
        // An event id that is taken fails the whole batch (ids are never reused in practice).
        let failed = insert(
            &store,
            vec![
                event("evt_b", EventSource::Ats, "m2", "{}"),
                event("evt_a", EventSource::Ats, "m3", "{}"),
            ],
        )
        .await;
        assert!(failed.is_err());
        assert!(store.get_event("evt_b").await.is_err(), "rolled back");

        let outcomes = insert(&store, vec![event("evt_b", EventSource::Ats, "m2", "{}")])
            .await
            .unwrap();
        assert_eq!(outcomes, vec![InsertOutcome::Accepted]);
    }
}
