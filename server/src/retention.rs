//! Issue 16: the `retention` job (daily by `HIRELAY_RETENTION_SCHEDULE`, once across instances
//! as every scheduled job): applies the `HIRELAY_RETENTION_*` windows
//! ([`crate::store::retention`]). `POST /v1/scheduler/retention/run?dry_run=true` answers what
//! would go without changing anything.
use std::sync::Arc;

use crate::crypto::AddressKey;
use crate::domain::schedule::Schedule;
use crate::domain::time::now_millis;
use crate::scheduler::Job;
use crate::store::retention::{RetentionReport, RetentionWindows};
use crate::store::{Store, StoreResult};

/// The job's name, as `POST /v1/scheduler/{job}/run` takes it.
pub const RETENTION_JOB: &str = "retention";

/// What the job needs: the store, the windows, the key erasures keep consents under.
#[derive(Clone)]
pub struct Retention {
    pub store: Store,
    pub windows: RetentionWindows,
    pub key: AddressKey,
}

impl Retention {
    /// One run now (or a count of what would go, with `dry_run`).
    pub async fn run(&self, dry_run: bool) -> StoreResult<RetentionReport> {
        let report = self
            .store
            .apply_retention(&self.windows, &self.key, now_millis(), dry_run)
            .await?;
        if !dry_run {
            tracing::info!(
                payloads = report.payloads,
                mail_bodies = report.mail_bodies,
                script_logs = report.script_logs,
                candidates = report.candidates,
                audit_entries = report.audit_entries,
                "retention applied"
            );
        }
        Ok(report)
    }
}

/// The scheduled job.
pub fn job(schedule: Schedule, retention: Retention) -> Job {
    Job {
        name: RETENTION_JOB.to_owned(),
        schedule,
        run: Arc::new(move || {
            let retention = retention.clone();
            Box::pin(async move { Ok(serde_json::to_value(retention.run(false).await?)?) })
        }),
    }
}
