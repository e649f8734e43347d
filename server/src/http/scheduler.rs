//! `POST /v1/scheduler/{job}/run`: runs a scheduled job now and answers with what it did.
use actix_web::{web, HttpResponse};

use super::auth::{Admin, Auth};
use super::error::ApiError;
use super::AppState;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/scheduler/{job}/run", web::post().to(run));
}

/// Runs `job` (`bizreach-poll`, `progress-sync`, `career-relay-report`) now; answers its report when done. An unknown
/// job is a `404` listing the known ones.
#[utoipa::path(post, path = "/v1/scheduler/{job}/run", tag = "scheduler",
    responses((status = 200, description = "the job's report: the poller's {groups, fetched, new_events, duplicates, errors}; progress sync's {groups, pushed, unchanged, failed, failures, deferred}; the monthly report's {month, recipients, queued}", body = Object),
        (status = 404, body = super::error::ErrorBody), (status = 502), (status = 503)),
    security(("bearer" = [])))]
async fn run(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    job: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
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
