//! The `progress-sync` job (P1–P4): for each linked group with sync on, every covered
//! application whose ATS status was not pushed yet (or that BizReach is seen showing
//! otherwise) gets its latest ATS status pushed, oldest status change first.
//!
//! A push is recorded (`synced_status`, `synced_at`) only after BizReach took it, so a failed
//! push is retried by the next run, and only the status the application has then is pushed:
//! one application's statuses never arrive out of order. Each push and each failure is kept as
//! a `hirelay` event (`application.status_synced`, `application.status_sync_failed`); a push
//! also queues the outbound webhook `application.status_synced`.
use sea_orm::TransactionTrait;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

use crate::bizreach::{BizreachClient, BizreachError};
use crate::domain::ids::new_id;
use crate::domain::status::{AtsStatus, BizreachStatus};
use crate::domain::status_mapping::{StatusMapping, SyncDecision};
use crate::domain::time::{now_millis, rfc3339};
use crate::metrics::Metrics;
use crate::scheduler::Job;
use crate::store::entities::application;
use crate::store::events::OwnEvent;
use crate::store::{Store, StoreResult};

/// The job's name on the scheduler (`POST /v1/scheduler/progress-sync/run`).
pub const PROGRESS_SYNC_JOB: &str = "progress-sync";
/// The event and outbound webhook type of a push.
pub use crate::domain::outbound_events::STATUS_SYNCED;
/// The event type of a push that failed.
pub const STATUS_SYNC_FAILED: &str = "application.status_sync_failed";

/// After this many failures in a row that say BizReach itself is failing (5xx, network,
/// sign-in), a run stops: the rest wait for the next run instead of each failing in turn.
const FAILING_IN_A_ROW: u32 = 3;
/// Applications read per query while looking for what to push.
const PAGE: u64 = 1_000;

/// What one run did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SyncReport {
    /// Group accounts with sync on (linked).
    pub groups: u64,
    /// Statuses BizReach took.
    pub pushed: u64,
    /// Covered applications whose status was pushed before.
    pub unchanged: u64,
    /// Pushes that failed (after the client's retries); retried by the next run.
    pub failed: u64,
    pub failures: Vec<SyncFailure>,
    /// Applications not tried because BizReach kept failing; tried by the next run.
    pub deferred: u64,
}

/// A push that failed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SyncFailure {
    pub application_id: String,
    pub error: String,
}

/// Progress sync. Cheap to clone.
#[derive(Clone)]
pub struct ProgressSync {
    pub store: Store,
    pub client: Option<BizreachClient>,
    pub mapping: Arc<StatusMapping>,
    pub metrics: Metrics,
}

/// An application to push, and what.
struct Due {
    application: application::Model,
    target: BizreachStatus,
}

impl ProgressSync {
    /// One run over every group with sync on. Fails only when it cannot start (the database,
    /// or no source API configured while some group has sync on).
    pub async fn run(&self) -> Result<SyncReport, BizreachError> {
        let groups: Vec<String> = self
            .store
            .progress_sync_groups()
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect();
        let mut report = SyncReport {
            groups: groups.len() as u64,
            ..SyncReport::default()
        };
        if groups.is_empty() {
            return Ok(report);
        }
        let client = self.client.as_ref().ok_or(BizreachError::NotConfigured)?;
        // What it pushes was decided by event processing, whose commits do not wait for the
        // disk: made durable first, so BizReach never shows what a power failure could undo.
        self.store
            .make_durable()
            .await
            .map_err(crate::store::StoreError::from)?;
        let (due, unchanged) = self.due(&groups).await?;
        report.unchanged = unchanged;
        let mut failing_in_a_row = 0;
        let total = due.len();
        for (done, item) in due.into_iter().enumerate() {
            if failing_in_a_row >= FAILING_IN_A_ROW {
                report.deferred = (total - done) as u64;
                tracing::warn!(
                    deferred = report.deferred,
                    "BizReach keeps failing; the rest of progress sync waits for the next run"
                );
                break;
            }
            let app_id = item.application.id.clone();
            match self.push(client, &item).await {
                Ok(()) => {
                    failing_in_a_row = 0;
                    report.pushed += 1;
                }
                Err(e) => {
                    failing_in_a_row = if bizreach_is_failing(&e) {
                        failing_in_a_row + 1
                    } else {
                        0
                    };
                    report.failed += 1;
                    report.failures.push(SyncFailure {
                        application_id: app_id,
                        error: e.to_string(),
                    });
                }
            }
        }
        tracing::info!(
            groups = report.groups,
            pushed = report.pushed,
            unchanged = report.unchanged,
            failed = report.failed,
            deferred = report.deferred,
            "progress sync done"
        );
        Ok(report)
    }

    /// The applications to push, oldest status change first, and how many are in sync.
    async fn due(&self, groups: &[String]) -> StoreResult<(Vec<Due>, u64)> {
        let mut due = Vec::new();
        let mut unchanged = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .covered_applications_page(groups, after.as_deref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for app in page {
                let decision = match AtsStatus::parse(&app.status) {
                    Ok(status) => self.mapping.decide(
                        status,
                        app.synced_status.as_deref(),
                        app.source_status.as_deref(),
                    ),
                    Err(e) => {
                        // Cannot happen for statuses the pipeline accepted; shown, not pushed.
                        tracing::warn!(application = %app.id, error = %e, "status not synced");
                        SyncDecision::NotCovered
                    }
                };
                match decision {
                    SyncDecision::Push(target) => due.push(Due {
                        application: app,
                        target,
                    }),
                    SyncDecision::InSync => unchanged += 1,
                    SyncDecision::NotCovered => {}
                }
            }
        }
        due.sort_by(|a, b| order_key(&a.application).cmp(&order_key(&b.application)));
        Ok((due, unchanged))
    }

    /// Pushes one status and records the outcome. A failure to record a push that BizReach
    /// took is an error too: the next run pushes the same status again (harmless).
    async fn push(&self, client: &BizreachClient, item: &Due) -> Result<(), BizreachError> {
        let app = &item.application;
        let source_id = app.source_application_id.as_deref().unwrap_or_default();
        match client.put_status(source_id, item.target).await {
            Ok(()) => {
                self.record_pushed(item).await?;
                self.metrics.add("hirelay_progress_sync_pushed_total", 1);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(application = %app.id, status = %item.target, error = %e, "progress sync push failed");
                self.metrics.add("hirelay_progress_sync_failed_total", 1);
                if let Err(store) = self.record_failed(item, &e).await {
                    tracing::error!(application = %app.id, error = %store, "recording a failed push failed");
                }
                Err(e)
            }
        }
    }

    /// In one transaction: the application's synced state, the `done` event, the webhook.
    async fn record_pushed(&self, item: &Due) -> StoreResult<()> {
        let app = &item.application;
        let now = now_millis();
        let payload = event_payload(app, item.target, now);
        let _turn = self.store.write_turn().await;
        let txn = self.store.db.begin().await?;
        let result: StoreResult<_> = async {
            Store::mark_progress_synced(&txn, &app.id, item.target, now).await?;
            Store::record_own_event(
                &txn,
                OwnEvent {
                    kind: STATUS_SYNCED.to_owned(),
                    webhook_id: format!("sync:{}:{}", app.id, new_id("push")),
                    payload: payload.clone(),
                    error: None,
                    candidate_id: Some(app.candidate_id.clone()),
                },
                now,
            )
            .await?;
            let mut webhook = payload;
            webhook["type"] = json!(STATUS_SYNCED);
            Store::enqueue_webhook(
                &txn,
                STATUS_SYNCED,
                &webhook,
                &format!(
                    "synced:{}:{}:{}",
                    app.id,
                    app.status,
                    app.status_changed_at.unwrap_or_default()
                ),
            )
            .await?;
            Ok(())
        }
        .await;
        crate::store::end_transaction(txn, result).await?;
        Ok(())
    }

    /// The `failed` event of a push BizReach did not take.
    async fn record_failed(&self, item: &Due, error: &BizreachError) -> StoreResult<()> {
        let now = now_millis();
        Store::record_own_event(
            &self.store.db,
            OwnEvent {
                kind: STATUS_SYNC_FAILED.to_owned(),
                webhook_id: format!("sync:{}:{}", item.application.id, new_id("fail")),
                payload: event_payload(&item.application, item.target, now),
                error: Some(error.to_string()),
                candidate_id: Some(item.application.candidate_id.clone()),
            },
            now,
        )
        .await?;
        Ok(())
    }
}

/// The payload of the events (and the webhook) of a push.
fn event_payload(app: &application::Model, target: BizreachStatus, at: i64) -> serde_json::Value {
    json!({
        "application_id": app.id,
        "source_application_id": app.source_application_id,
        "group_account_id": app.group_account_id,
        "status": app.status,
        "bizreach_status": target,
        "at": rfc3339(at),
    })
}

/// Oldest status change first (an application never changed in the ATS: its import).
fn order_key(app: &application::Model) -> (i64, &str) {
    (app.status_changed_at.unwrap_or(app.created_at), &app.id)
}

/// Whether an error says BizReach as a whole is failing, not this one application.
fn bizreach_is_failing(e: &BizreachError) -> bool {
    match e {
        BizreachError::Upstream { status, .. } => *status >= 500 || *status == 429,
        BizreachError::Network(_)
        | BizreachError::NotConfigured
        | BizreachError::NotSignedIn
        | BizreachError::Unauthorized
        | BizreachError::BadCredentials
        | BizreachError::Redirected { .. } => true,
        BizreachError::Decode(_)
        | BizreachError::TooLarge { .. }
        | BizreachError::Store(_)
        | BizreachError::Crypto(_) => false,
    }
}

/// P3: progress sync as the `progress-sync` job, on `schedule`.
pub fn job(schedule: crate::domain::schedule::Schedule, sync: ProgressSync) -> Job {
    Job {
        name: PROGRESS_SYNC_JOB.to_owned(),
        schedule,
        run: Arc::new(move || {
            let sync = sync.clone();
            Box::pin(async move {
                let report = sync.run().await?;
                Ok(serde_json::to_value(report)?)
            })
        }),
    }
}
