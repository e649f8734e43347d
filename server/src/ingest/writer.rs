//! Group commit: a writer takes every event that is waiting, stores them in one transaction,
//! and only then answers each sender.
//!
//! On an SQLite file the writer is one thread of its own with its own connection (SQLite has
//! one writer anyway, and a batch then costs no hop to the pool's worker thread per statement);
//! on PostgreSQL several writer tasks store through the pool.
use tokio::sync::oneshot;

use super::IngestError;
use crate::store::events::{InsertOutcome, NewEvent};
use crate::store::sqlite_ingest::SqliteBatchWriter;
use crate::store::{Store, StoreError, StoreResult};

/// Most events one transaction takes.
const MAX_BATCH: usize = 1024;
/// Requests that may wait for a writer before senders are slowed down.
const QUEUE: usize = 16_384;

type Reply = oneshot::Sender<Result<InsertOutcome, Failure>>;

/// Why a batch was not stored, as each of its senders is told: the store's error, kept as far
/// as it says whether a retry may succeed.
#[derive(Clone, Debug)]
enum Failure {
    Unavailable(String),
    Failed(String),
}

impl From<&StoreError> for Failure {
    fn from(err: &StoreError) -> Self {
        match err {
            StoreError::Unavailable(why) => Failure::Unavailable(why.clone()),
            other => Failure::Failed(other.to_string()),
        }
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(why) => StoreError::Unavailable(why),
            Failure::Failed(message) => StoreError::Db(sea_orm::DbErr::Custom(message)),
        }
    }
}
type Item = (NewEvent, Reply);
type Pending = async_channel::Receiver<Item>;

#[derive(Clone)]
pub(super) struct Writer {
    queue: async_channel::Sender<Item>,
}

impl Writer {
    /// Starts the SQLite writer thread, or `writers` writer tasks on PostgreSQL.
    pub(super) fn start(store: Store, writers: usize) -> anyhow::Result<Writer> {
        let (queue, pending) = async_channel::bounded(QUEUE);
        if let Some(db) = store.sqlite_batch_writer()? {
            std::thread::Builder::new()
                .name("ingest-writer".into())
                .spawn(move || {
                    run_blocking(store, db, pending);
                    tracing::debug!("ingest writer thread stopped");
                })?;
            return Ok(Writer { queue });
        }
        for n in 0..writers {
            let (store, pending) = (store.clone(), pending.clone());
            tokio::spawn(async move {
                run(store, pending).await;
                tracing::debug!(writer = n, "ingest writer stopped");
            });
        }
        Ok(Writer { queue })
    }

    /// Hands a webhook's event to a writer and waits until it is committed.
    pub(super) async fn submit(&self, event: NewEvent) -> Result<InsertOutcome, IngestError> {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send((event, reply))
            .await
            .map_err(|_| IngestError::Unavailable)?;
        match outcome.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(failure)) => Err(IngestError::Store(failure.into())),
            Err(_) => Err(IngestError::Unavailable),
        }
    }
}

/// The events of one transaction and whom to answer.
struct Batch {
    events: Vec<NewEvent>,
    replies: Vec<Reply>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            events: Vec::with_capacity(MAX_BATCH),
            replies: Vec::with_capacity(MAX_BATCH),
        }
    }

    /// Starts with `first` and takes whatever else is waiting, up to [`MAX_BATCH`].
    fn gather(&mut self, first: Item, pending: &Pending) {
        self.push(first);
        while self.events.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok(next) => self.push(next),
                Err(_) => break,
            }
        }
    }

    fn push(&mut self, (event, reply): Item) {
        self.events.push(event);
        self.replies.push(reply);
    }

    /// Tells the store what this batch says of webhook traffic (see [`Store::ingest_busy`]).
    fn note(&self, store: &Store) {
        store.note_ingest_batch(self.events.len());
    }

    /// Answers every sender with what storing came to, and empties the batch.
    fn answer(&mut self, stored: StoreResult<Vec<InsertOutcome>>) {
        match stored {
            Ok(outcomes) => {
                for (reply, outcome) in self.replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, batch = self.events.len(), "storing a batch of events failed");
                let failure = Failure::from(&err);
                for reply in self.replies.drain(..) {
                    let _ = reply.send(Err(failure.clone()));
                }
            }
        }
        self.events.clear();
    }
}

// Either writer ends when every sender is gone (the HTTP server has stopped), so every request
// that reached it is answered.

async fn run(store: Store, pending: Pending) {
    let mut batch = Batch::new();
    while let Ok(first) = pending.recv().await {
        store.set_ingest_busy(true);
        batch.gather(first, &pending);
        let stored = store.insert_events(&batch.events).await;
        batch.note(&store);
        batch.answer(stored);
        if pending.is_empty() {
            store.set_ingest_busy(false);
        }
    }
}

/// The SQLite writer: blocks on the queue, and on the process's write turn for each batch.
fn run_blocking(store: Store, mut db: SqliteBatchWriter, pending: Pending) {
    let mut batch = Batch::new();
    while let Ok(first) = pending.recv_blocking() {
        store.set_ingest_busy(true);
        batch.gather(first, &pending);
        let stored = db.insert_events(&batch.events);
        batch.note(&store);
        batch.answer(stored);
        if pending.is_empty() {
            store.set_ingest_busy(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status::EventSource;
    use crate::store::test_support::store;
    use std::time::Duration;

    fn event(n: usize) -> NewEvent {
        NewEvent {
            id: crate::domain::ids::new_id("evt"),
            source: EventSource::Ats,
            kind: "application.status_changed".into(),
            webhook_id: format!("w-{n}"),
            body_hash: format!("h-{n}"),
            payload: "{}".into(),
            received_at: 0,
            person: Default::default(),
        }
    }

    /// Every sender of a failed batch is told whether a retry may succeed (a 503, not a 500).
    #[test]
    fn a_failed_batch_tells_each_sender_whether_to_retry() {
        let busy = StoreError::Unavailable("SQLite: database is locked".into());
        let told = StoreError::from(Failure::from(&busy));
        assert!(matches!(told, StoreError::Unavailable(m) if m.contains("locked")));
        let broken = StoreError::Db(sea_orm::DbErr::Custom("no such table".into()));
        let told = StoreError::from(Failure::from(&broken));
        assert!(matches!(told, StoreError::Db(e) if e.to_string().contains("no such table")));
    }

    /// A webhook's event is stored telling event processing that webhooks are arriving.
    #[tokio::test]
    async fn webhooks_make_processing_make_way() {
        let (_dir, store) = store().await;
        let writer = Writer::start(store.clone(), 1).unwrap();
        assert!(!store.ingest_recent(Duration::from_secs(60)));
        writer.submit(event(2)).await.unwrap();
        assert!(store.ingest_recent(Duration::from_secs(60)));
    }
}
