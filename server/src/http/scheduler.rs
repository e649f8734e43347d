//! `POST /v1/scheduler/{job}/run`: runs a scheduled job now and answers with what it did.
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/scheduler/{job}/run", web::post().to(run));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RunQuery {
    /// `retention` only: count what would go, change nothing.
    pub dry_run: Option<bool>,
}

/// Runs `job` (`bizreach-poll`, `progress-sync`, `career-relay-report`, `retention`) now;
/// answers its report when done. An unknown job is a `404` listing the known ones.
/// `?dry_run=true` (only `retention`) answers what would go and changes nothing.
#[utoipa::path(post, path = "/v1/scheduler/{job}/run", tag = "scheduler", params(RunQuery),
    responses((status = 200, description = "the job's report: the poller's {groups, fetched, new_events, duplicates, errors}; progress sync's {groups, pushed, unchanged, failed, failures, deferred}; the monthly report's {month, recipients, queued}; retention's {dry_run, payloads, mail_bodies, script_logs, candidates, audit_entries, batches}", body = Object),
        (status = 404, body = super::error::ErrorBody), (status = 502), (status = 503)),
    security(("bearer" = [])))]
async fn run(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    job: web::Path<String>,
    query: web::Query<RunQuery>,
) -> Result<HttpResponse, ApiError> {
    if query.dry_run == Some(true) {
        if job.as_str() != crate::retention::RETENTION_JOB {
            return Err(ApiError::field(
                ErrorCode::BadRequest,
                "dry_run",
                format!("only `retention` has a dry run, not `{job}`"),
            ));
        }
        let report = state.retention.run(true).await?;
        return Ok(HttpResponse::Ok().json(report));
    }
    let report = state.scheduler.run_now(&job).await?;
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "scheduler.run",
        &job,
        report.clone(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}
