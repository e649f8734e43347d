//! Group commit: writer tasks take every event that is waiting, store them in one transaction,
//! and only then answer each sender. One writer on SQLite (it has one writer anyway), several on
//! PostgreSQL.
use tokio::sync::oneshot;

use super::IngestError;
use crate::store::events::{InsertOutcome, NewEvent};
use crate::store::Store;

/// Most events one transaction takes.
const MAX_BATCH: usize = 1024;
/// Requests that may wait for a writer before senders are slowed down.
const QUEUE: usize = 16_384;

type Reply = oneshot::Sender<Result<InsertOutcome, String>>;

#[derive(Clone)]
pub(super) struct Writer {
    queue: async_channel::Sender<(NewEvent, Reply)>,
}

impl Writer {
    pub(super) fn start(store: Store, writers: usize) -> Writer {
        let (queue, pending) = async_channel::bounded(QUEUE);
        for n in 0..writers {
            let (store, pending) = (store.clone(), pending.clone());
            tokio::spawn(async move {
                run(store, pending).await;
                tracing::debug!(writer = n, "ingest writer stopped");
            });
        }
        Writer { queue }
    }

    /// Hands one event to a writer and waits until it is committed.
    pub(super) async fn submit(&self, event: NewEvent) -> Result<InsertOutcome, IngestError> {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send((event, reply))
            .await
            .map_err(|_| IngestError::Unavailable)?;
        match outcome.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(message)) => Err(IngestError::Store(crate::store::StoreError::Db(
                sea_orm::DbErr::Custom(message),
            ))),
            Err(_) => Err(IngestError::Unavailable),
        }
    }
}

async fn run(store: Store, pending: async_channel::Receiver<(NewEvent, Reply)>) {
    let mut events = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    loop {
        // The writer ends when every sender is gone (the HTTP server has stopped), so every
        // request that reached it is answered.
        let Ok((event, reply)) = pending.recv().await else {
            return;
        };
        store.set_ingest_busy(true);
        events.push(event);
        replies.push(reply);
        while events.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok((event, reply)) => {
                    events.push(event);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match store.insert_events(std::mem::take(&mut events)).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, batch = events.len(), "storing a batch of events failed");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(err.to_string()));
                }
            }
        }
        if pending.is_empty() {
            store.set_ingest_busy(false);
        }
    }
}
