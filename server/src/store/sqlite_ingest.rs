//! Ingestion on SQLite: one thread owns its own connection to the database file and stores each
//! batch of events in one transaction with cached prepared statements.
//!
//! Going through the pool would cost a hop to the driver's worker thread for every statement
//! (BEGIN, the INSERT, the look-up, COMMIT) and build the SQL text anew for every batch; a
//! thread of its own does the whole batch in one go. The caller still takes the process's write
//! turn ([`super::Store::write_turn`]) around a batch, so the other writers of this process do
//! not meet this connection's write lock.
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

use super::events::{InsertOutcome, NewEvent};
use super::{StoreError, StoreResult};
use crate::domain::status::EventStatus;

/// One row per event; a redelivery (same source and webhook id) changes nothing.
const INSERT: &str = "INSERT INTO events \
     (id, source, kind, webhook_id, body_hash, payload, status, attempts, next_attempt_at, received_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8) \
     ON CONFLICT (source, webhook_id) DO NOTHING";
/// What is stored under a key an INSERT did not take.
const STORED: &str = "SELECT id, body_hash FROM events WHERE source = ?1 AND webhook_id = ?2";

type Answer = Result<Vec<InsertOutcome>, String>;
type Job = (Vec<NewEvent>, oneshot::Sender<Answer>);

/// The ingest thread of one SQLite database; it ends when the last handle is dropped.
pub(super) struct SqliteIngest {
    jobs: mpsc::Sender<Job>,
}

impl SqliteIngest {
    /// Opens a connection to the database file at `path` (already created, in WAL mode, by the
    /// pool) with the pool's settings, and starts the thread that owns it.
    pub(super) fn start(path: &str) -> anyhow::Result<SqliteIngest> {
        let db = open(path)?;
        let (jobs, pending) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-ingest".into())
            .spawn(move || run(db, pending))?;
        Ok(SqliteIngest { jobs })
    }

    /// Stores `batch` in one transaction and answers, per event in order, what it came to.
    /// Answers only after the transaction committed; on any failure nothing of the batch is
    /// stored and the error is answered.
    pub(super) async fn insert(&self, batch: Vec<NewEvent>) -> StoreResult<Vec<InsertOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send((batch, reply)).map_err(|_| stopped())?;
        match answer.await {
            Ok(Ok(outcomes)) => Ok(outcomes),
            Ok(Err(message)) => Err(StoreError::Db(sea_orm::DbErr::Custom(message))),
            Err(_) => Err(stopped()),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(
        "the SQLite ingest thread has stopped".into(),
    ))
}

/// The same settings as the pool's connections (see [`super::Store::connect`]).
fn open(path: &str) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(30))?;
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;",
    )?;
    Ok(db)
}

fn run(mut db: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok((batch, reply)) = jobs.recv() {
        let answer = store_batch(&mut db, &batch).map_err(|e| format!("SQLite: {e}"));
        // The sender may have gone (the request was cancelled): the batch is stored anyway.
        let _ = reply.send(answer);
    }
    tracing::debug!("SQLite ingest thread stopped");
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
    use crate::store::Store;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        store.migrate().await.unwrap();
        assert!(
            store.sqlite_ingest.is_some(),
            "an SQLite file uses the thread"
        );
        (dir, store)
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
        }
    }

    #[tokio::test]
    async fn a_batch_mixing_new_duplicate_and_conflicting_deliveries_answers_each() {
        let (_dir, store) = store().await;
        let first = store
            .insert_events(vec![event("evt_a", EventSource::Ats, "m1", r#"{"a":1}"#)])
            .await
            .unwrap();
        assert_eq!(first, vec![InsertOutcome::Accepted]);

        let outcomes = store
            .insert_events(vec![
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
            ])
            .await
            .unwrap();
        assert_eq!(
            outcomes,
            vec![
                InsertOutcome::Accepted,
                InsertOutcome::Duplicate {
                    event_id: "evt_a".into()
                },
                InsertOutcome::Conflict {
                    event_id: "evt_a".into()
                },
                InsertOutcome::Accepted,
                InsertOutcome::Duplicate {
                    event_id: "evt_b".into()
                },
                InsertOutcome::Conflict {
                    event_id: "evt_b".into()
                },
            ]
        );
        let stored = store.get_event("evt_e").await.unwrap();
        assert_eq!(
            (stored.status.as_str(), stored.payload.as_str()),
            ("pending", r#"{"a":2}"#)
        );
        assert!(store.get_event("evt_c").await.is_err());
    }

    #[tokio::test]
    async fn a_batch_that_fails_stores_nothing_and_the_next_one_is_stored() {
        let (_dir, store) = store().await;
        store
            .insert_events(vec![event("evt_a", EventSource::Ats, "m1", "{}")])
            .await
            .unwrap();
        // An event id that is taken fails the whole batch (ids are never reused in practice).
        let failed = store
            .insert_events(vec![
                event("evt_b", EventSource::Ats, "m2", "{}"),
                event("evt_a", EventSource::Ats, "m3", "{}"),
            ])
            .await;
        assert!(failed.is_err());
        assert!(store.get_event("evt_b").await.is_err(), "rolled back");

        let outcomes = store
            .insert_events(vec![event("evt_b", EventSource::Ats, "m2", "{}")])
            .await
            .unwrap();
        assert_eq!(outcomes, vec![InsertOutcome::Accepted]);
    }
}
