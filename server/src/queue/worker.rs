//! Workers: take a batch of due events and handle it in one transaction (claim its events and
//! handle them one per transaction when one of it does not succeed), commit, repeat.
use sea_orm::DatabaseTransaction;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{retry, HandleError, Handler};
use crate::domain::status::EventStatus;
use crate::domain::time::now_millis;
use crate::metrics::Metrics;
use crate::store::decisions::DecisionRecord;
use crate::store::entities::event;
use crate::store::Store;

/// Webhooks stored this recently keep batches small (see [`Worker::batch_size`]).
const INGEST_RECENT: Duration = Duration::from_millis(100);

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
    /// The most events a batch takes now: halved when a batch ran out of time (half its lease)
    /// before it was handled, doubled back towards `settings.batch` when one is handled well
    /// within it. A machine or database too slow for a full batch then still makes progress.
    cap: AtomicU64,
    /// The last batch, taken after giving way to webhooks, was full: events are piling up, so
    /// the next batch is taken at once and larger. Processing then keeps a share of the writer
    /// under a steady load instead of falling further behind with every batch.
    behind: AtomicBool,
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
                cap: AtomicU64::new(settings.batch),
                behind: AtomicBool::new(false),
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
            // Registered before looking for work, so a wake-up sent while this worker finds
            // none is not missed.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.run_once().await {
                Ok(0) => {
                    tokio::select! {
                        _ = notified => {}
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

    /// While webhooks saturate ingestion, a small batch, so the single writer (SQLite) and the
    /// CPU are back with them within a few milliseconds (one of 32 when the worker is `behind`);
    /// while they arrive at all, one that holds the writer for a few milliseconds; otherwise
    /// the configured one.
    fn batch_size(&self, behind: bool) -> u64 {
        let cap = self.cap.load(Ordering::Relaxed).max(1);
        if self.store.ingest_busy() {
            cap.min(if behind { 32 } else { 4 })
        } else if self.store.ingest_recent(INGEST_RECENT) {
            cap.min(32)
        } else {
            cap
        }
    }

    /// Adjusts [`Worker::cap`] after a batch of `taken` events tried in one transaction took
    /// `took`, and `finished` (committed) or not.
    fn adapt_cap(&self, taken: usize, took: Duration, finished: bool) {
        let half_lease = self.settings.lease / 2;
        let cap = self.cap.load(Ordering::Relaxed);
        let next = if took >= half_lease {
            (taken as u64 / 2).clamp(1, cap.max(1))
        } else if finished && took < half_lease / 4 && taken as u64 >= cap {
            cap.saturating_mul(2).min(self.settings.batch)
        } else {
            cap
        };
        if next != cap {
            tracing::info!(worker = %self.name, from = cap, to = next, took_ms = took.as_millis() as u64, "batch size adjusted to the time a batch takes");
            self.cap.store(next, Ordering::Relaxed);
        }
    }

    /// Takes and handles one batch; answers how many events it finished.
    ///
    /// The batch is taken and handled in one transaction, with one write for the events' new
    /// states and one for their decision records. When an event of it does not succeed (a
    /// script error, a database error), that transaction rolls back, leaving the batch pending
    /// as it was; the batch is then claimed (leased) and handled one event per transaction, so
    /// one bad event never holds up the others and every claimed event leaves `processing`.
    pub async fn run_once(&self) -> Result<usize, crate::store::StoreError> {
        // Acknowledgements first: processing waits while webhooks keep arriving, and takes a
        // small batch at least every quarter second.
        // A worker that is behind (see `behind`) takes this turn at once, and the next after
        // giving way again: batches alternate between the two.
        let behind = self.behind.swap(false, Ordering::Relaxed);
        if !behind {
            self.store.yield_to_ingest(Duration::from_millis(250)).await;
        }
        let turn = self.store.write_turn().await;
        let started = std::time::Instant::now();
        let now = now_millis();
        let txn = self.store.begin_processing().await?;
        let size = self.batch_size(behind);
        let batch = match Store::take_due_events(&txn, now, size).await {
            Ok(batch) if !batch.is_empty() => batch,
            none_or_error => {
                txn.rollback().await?;
                return none_or_error.map(|_| 0);
            }
        };
        let claim_us = started.elapsed().as_micros() as u64;
        self.behind
            .store(!behind && batch.len() as u64 >= size, Ordering::Relaxed);
        // Stop taking events from the batch halfway through the lease, so a slow batch never
        // outlives it; what is left stays pending, due at once.
        let yield_at = now + self.settings.lease.as_millis() as i64 / 2;
        let attempt = std::time::Instant::now();
        let fast = self.batch_in_one_transaction(txn, &batch, yield_at).await;
        self.adapt_cap(batch.len(), attempt.elapsed(), fast.is_ok());
        let handled = match fast {
            Ok(handled) => handled,
            Err(why) => {
                tracing::debug!(worker = %self.name, reason = %why, "handling the batch one event at a time");
                // A lease of its own from now: the time the attempt took (perhaps all of half
                // the lease) is not taken from the careful path.
                let now = now_millis();
                let lease_until = now + self.settings.lease.as_millis() as i64;
                let yield_at = now + self.settings.lease.as_millis() as i64 / 2;
                let ids: Vec<&str> = batch.iter().map(|e| e.id.as_str()).collect();
                let txn = self.store.begin_processing().await?;
                let batch = Store::claim_listed_events(&txn, &ids, &self.name, lease_until).await?;
                txn.commit().await?;
                self.one_at_a_time(&batch, yield_at).await
            }
        };
        drop(turn);
        tracing::debug!(worker = %self.name, claimed = batch.len(), handled, claim_us, total_ms = started.elapsed().as_millis() as u64, "batch committed");
        self.handler.after_commit();
        Ok(handled)
    }

    /// The fast path: every event of the batch taken in `txn` handled there too. Fails
    /// (rolling everything back) at the first event that does not succeed.
    async fn batch_in_one_transaction(
        &self,
        txn: DatabaseTransaction,
        batch: &[event::Model],
        yield_at: i64,
    ) -> Result<usize, BatchFallback> {
        let started = std::time::Instant::now();
        let (handled, records) = match self.handle_batch(&txn, batch, yield_at).await {
            Ok(done) => done,
            Err(why) => {
                // Roll back before the careful path starts, so no write lock outlives the attempt.
                if let Err(e) = txn.rollback().await {
                    tracing::warn!(error = %e, "rolling back a batch failed");
                }
                return Err(why);
            }
        };
        let committing = std::time::Instant::now();
        txn.commit().await?;
        self.handler.decided(&records);
        tracing::debug!(
            handled_us = (committing - started).as_micros() as u64,
            commit_us = committing.elapsed().as_micros() as u64,
            "batch transaction"
        );
        let each = started.elapsed() / handled.max(1) as u32;
        for _ in 0..handled {
            self.metrics.event_finished(EventStatus::Done, each);
        }
        Ok(handled)
    }

    /// Handles the events of `batch` in `txn` until `yield_at`, then writes their decisions and
    /// marks them done; gives back what it did not reach. Answers how many it handled, and
    /// their decisions.
    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        batch: &[event::Model],
        yield_at: i64,
    ) -> Result<(usize, Vec<DecisionRecord>), BatchFallback> {
        let records = self
            .handler
            .handle_batch(txn, batch, yield_at)
            .await
            .map_err(|failure| BatchFallback::Event(failure.event_id, failure.error.to_string()))?;
        let handled = records.len();
        let records: Vec<_> = records.into_iter().flatten().collect();
        let ids: Vec<&str> = batch[..handled].iter().map(|e| e.id.as_str()).collect();
        let writing = std::time::Instant::now();
        Store::insert_decisions(txn, &records).await?;
        let decisions_us = writing.elapsed().as_micros() as u64;
        // The rest of the batch stays pending, due now.
        let finished = Store::finish_taken_events(txn, &ids, now_millis()).await?;
        tracing::debug!(
            decisions_us,
            finish_us = writing.elapsed().as_micros() as u64 - decisions_us,
            "decisions and event states written"
        );
        if finished != ids.len() as u64 {
            return Err(BatchFallback::Taken);
        }
        Ok((handled, records))
    }

    /// The careful path: each event in its own transaction. An event whose transaction cannot
    /// be written is given back to the queue with backoff (or parked as dead), never left held.
    async fn one_at_a_time(&self, batch: &[event::Model], yield_at: i64) -> usize {
        let mut handled = 0;
        for event in batch {
            if now_millis() > yield_at {
                break;
            }
            let span = event_span(event);
            if let Err(e) = self.handle_alone(event).instrument(span.clone()).await {
                let _in_span = span.enter();
                tracing::error!(error = %e, "the event's transaction failed; it goes back to the queue");
                let (status, retry_at) = self.after_failure(event);
                let requeued = Store::finish_event(
                    &self.store.db,
                    &event.id,
                    &self.name,
                    status,
                    Some(format!("{e:#}")),
                    retry_at,
                    now_millis(),
                )
                .await;
                if let Err(e) = requeued {
                    tracing::error!(error = %e, "the event could not be given back; its lease will expire");
                }
            }
            handled += 1;
        }
        let rest: Vec<&str> = batch[handled..].iter().map(|e| e.id.as_str()).collect();
        if !rest.is_empty() {
            if let Err(e) = Store::release_events(&self.store.db, &rest, &self.name).await {
                tracing::error!(error = %e, "releasing the rest of a batch failed; their leases will expire");
            }
        }
        handled
    }

    /// The state a transient failure leaves an event in: pending with backoff, or dead after
    /// the last attempt.
    fn after_failure(&self, event: &event::Model) -> (EventStatus, Option<i64>) {
        if event.attempts as u32 >= self.settings.max_attempts {
            (EventStatus::Dead, None)
        } else {
            let delay = retry::backoff_millis(event.attempts as u32, retry::jitter());
            (EventStatus::Pending, Some(now_millis() + delay))
        }
    }

    /// Handles one event in its own transaction: its effects and its new state land together,
    /// or the effects are rolled back and only the new state (retry, failed, dead) is written.
    async fn handle_alone(&self, event: &event::Model) -> Result<(), crate::store::StoreError> {
        let started = std::time::Instant::now();
        let txn = self.store.begin_processing().await?;
        let outcome = self.handler.handle(&txn, event).await;
        let now = now_millis();
        let (status, error, retry_at, record) = match outcome {
            Ok(record) => (EventStatus::Done, None, None, record),
            Err(HandleError::Script { message, record }) => {
                (EventStatus::Failed, Some(message), None, record.map(|r| *r))
            }
            Err(HandleError::Invalid(message)) => (EventStatus::Failed, Some(message), None, None),
            Err(HandleError::Transient(e)) => {
                let (status, retry_at) = self.after_failure(event);
                (status, Some(format!("{e:#}")), retry_at, None)
            }
        };
        // Effects stay only when the event is done; otherwise a fresh transaction records why.
        let txn = if status == EventStatus::Done {
            txn
        } else {
            txn.rollback().await?;
            tracing::warn!(
                status = status.as_str(),
                error = error.as_deref().unwrap_or(""),
                "event not done"
            );
            self.store.begin_processing().await?
        };
        let finished = async {
            if let Some(record) = &record {
                Store::insert_decision(&txn, record).await?;
            }
            Store::finish_event(&txn, &event.id, &self.name, status, error, retry_at, now).await
        }
        .await;
        match finished {
            Ok(1) => {
                txn.commit().await?;
                self.handler.decided(record.as_slice());
            }
            // The lease ran out and another worker took the event: this worker's effects for
            // it are dropped and the other's count.
            Ok(_) => {
                txn.rollback().await?;
                tracing::warn!("the lease ran out and another worker took the event; this worker's effects are dropped");
                return Ok(());
            }
            Err(e) => {
                txn.rollback().await?;
                return Err(e);
            }
        }
        self.metrics.event_finished(status, started.elapsed());
        Ok(())
    }
}

/// Why a batch is handled again one event at a time.
#[derive(Debug, thiserror::Error)]
enum BatchFallback {
    #[error("event {0:?} did not succeed: {1}")]
    Event(Option<String>, String),
    #[error("an event of the batch was no longer pending")]
    Taken,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<sea_orm::DbErr> for BatchFallback {
    fn from(e: sea_orm::DbErr) -> Self {
        BatchFallback::Store(e.into())
    }
}

fn event_span(event: &event::Model) -> tracing::Span {
    tracing::info_span!("event", id = %event.id, kind = %event.kind)
}
