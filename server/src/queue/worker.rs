//! Workers: claim a batch, handle each event inside a savepoint of one transaction, commit once.
use sea_orm::{DatabaseTransaction, TransactionTrait};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::{retry, HandleError, Handler};
use crate::domain::status::EventStatus;
use crate::domain::time::now_millis;
use crate::metrics::Metrics;
use crate::store::entities::event;
use crate::store::Store;

/// How the workers run.
#[derive(Clone, Debug)]
pub struct QueueSettings {
    pub workers: usize,
    pub batch: u64,
    pub lease: Duration,
    pub idle_poll: Duration,
    pub max_attempts: u32,
    pub instance: String,
}

/// One worker; tests may drive it directly with [`Worker::run_once`].
pub struct Worker {
    pub name: String,
    store: Store,
    handler: Arc<dyn Handler>,
    settings: QueueSettings,
    metrics: Metrics,
}

/// Starts `settings.workers` workers; they stop when `shutdown` is cancelled, after finishing
/// the batch in hand.
pub fn spawn_workers(
    store: Store,
    handler: Arc<dyn Handler>,
    settings: QueueSettings,
    metrics: Metrics,
    wake: Arc<tokio::sync::Notify>,
    shutdown: CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..settings.workers)
        .map(|n| {
            let worker = Worker {
                name: format!("{}-w{n}", settings.instance),
                store: store.clone(),
                handler: handler.clone(),
                settings: settings.clone(),
                metrics: metrics.clone(),
            };
            let (shutdown, wake) = (shutdown.clone(), wake.clone());
            tokio::spawn(async move { worker.run(wake, shutdown).await })
        })
        .collect()
}

impl Worker {
    async fn run(self, wake: Arc<tokio::sync::Notify>, shutdown: CancellationToken) {
        let mut last_reclaim = 0i64;
        while !shutdown.is_cancelled() {
            let now = now_millis();
            if now - last_reclaim > self.settings.lease.as_millis() as i64 / 2 {
                last_reclaim = now;
                match self.store.release_expired_leases(now).await {
                    Ok(n) if n > 0 => tracing::warn!(
                        released = n,
                        "events whose worker died are back in the queue"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "releasing expired leases failed"),
                }
            }
            match self.run_once().await {
                Ok(0) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(self.settings.idle_poll) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, worker = %self.name, "claiming events failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// While webhooks wait to be stored on SQLite, a small batch, so the single writer is back
    /// with them soon; otherwise the configured one.
    fn batch_size(&self) -> u64 {
        if self.store.ingest_busy() && !self.store.is_postgres() {
            self.settings.batch.min(8)
        } else {
            self.settings.batch
        }
    }

    /// Claims and handles one batch; answers how many events it took.
    pub async fn run_once(&self) -> Result<usize, crate::store::StoreError> {
        self.store.yield_to_ingest(Duration::from_millis(100)).await;
        let turn = self.store.write_turn().await;
        let now = now_millis();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let batch = self
            .store
            .claim_events(&self.name, now, lease_until, self.batch_size())
            .await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let claimed_in = std::time::Instant::now();
        let txn = self.store.db.begin().await?;
        // Stop taking events from the batch halfway through the lease, so a slow batch never
        // outlives it; what is left goes back to the queue at once.
        let yield_at = now + self.settings.lease.as_millis() as i64 / 2;
        let mut handled = 0;
        for event in &batch {
            if now_millis() > yield_at {
                break;
            }
            self.handle_one(&txn, event).await?;
            handled += 1;
        }
        if handled < batch.len() {
            let rest: Vec<&str> = batch[handled..].iter().map(|e| e.id.as_str()).collect();
            Store::release_events(&txn, &rest, &self.name).await?;
        }
        let handled_in = claimed_in.elapsed();
        txn.commit().await?;
        drop(turn);
        tracing::debug!(worker = %self.name, claimed = batch.len(), handled, handle_ms = handled_in.as_millis() as u64, total_ms = claimed_in.elapsed().as_millis() as u64, "batch committed");
        self.handler.after_commit();
        Ok(handled)
    }

    /// Handles one event in a savepoint: its effects and its new state land together, or the
    /// effects are rolled back and only the new state (retry, failed, dead) is written.
    async fn handle_one(
        &self,
        txn: &DatabaseTransaction,
        event: &event::Model,
    ) -> Result<(), crate::store::StoreError> {
        let span = tracing::info_span!("event", id = %event.id, kind = %event.kind);
        let _guard = span.enter();
        let started = std::time::Instant::now();
        let savepoint = txn.begin().await?;
        let outcome = self.handler.handle(&savepoint, event).await;
        let now = now_millis();
        let (status, error, retry_at) = match &outcome {
            Ok(()) => (EventStatus::Done, None, None),
            Err(HandleError::Script { message, .. }) | Err(HandleError::Invalid(message)) => {
                (EventStatus::Failed, Some(message.clone()), None)
            }
            Err(HandleError::Transient(e))
                if event.attempts as u32 >= self.settings.max_attempts =>
            {
                (EventStatus::Dead, Some(format!("{e:#}")), None)
            }
            Err(HandleError::Transient(e)) => (
                EventStatus::Pending,
                Some(format!("{e:#}")),
                Some(now + retry::backoff_millis(event.attempts as u32, retry::jitter())),
            ),
        };
        // Marking the event finished fails when its lease ran out and another worker took it:
        // then this worker's effects for it roll back and the other worker's count.
        let marked = if outcome.is_ok() {
            let marked = Store::finish_event(
                &savepoint, &event.id, &self.name, status, error, retry_at, now,
            )
            .await;
            settle(savepoint, marked).await?
        } else {
            savepoint.rollback().await?;
            tracing::warn!(
                status = status.as_str(),
                error = error.as_deref().unwrap_or(""),
                "event not done"
            );
            let marking = txn.begin().await?;
            if let Err(HandleError::Script {
                record: Some(record),
                ..
            }) = &outcome
            {
                Store::insert_decision(&marking, record).await?;
            }
            let marked = Store::finish_event(
                &marking, &event.id, &self.name, status, error, retry_at, now,
            )
            .await;
            settle(marking, marked).await?
        };
        if !marked {
            tracing::warn!("the lease ran out and another worker took the event; this worker's effects are dropped");
            return Ok(());
        }
        self.metrics.event_finished(status, started.elapsed());
        Ok(())
    }
}

/// Commits a savepoint whose finishing write succeeded; rolls it back when the event's lease
/// was lost (answers `false`).
async fn settle(
    savepoint: DatabaseTransaction,
    marked: Result<(), crate::store::StoreError>,
) -> Result<bool, crate::store::StoreError> {
    match marked {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(crate::store::StoreError::Conflict(_)) => {
            savepoint.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
