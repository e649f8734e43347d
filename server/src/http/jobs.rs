//! `/v1/jobs`: jobs (求人) that applications are routed to.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::time::{now_millis, rfc3339};
use crate::store::entities::job;
use crate::store::{Store, StoreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/jobs", web::get().to(list))
        .route("/v1/jobs", web::post().to(create))
        .route("/v1/jobs/{id}", web::patch().to(rename));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobIn {
    pub title: String,
    /// The job's id in the ATS, if it has one.
    pub ats_job_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobPatch {
    /// The new title (the routing rules to the job show it from now on).
    pub title: String,
}

/// A job's title, trimmed; `400` naming `title` when nothing is left.
fn title(given: &str) -> Result<&str, ApiError> {
    let title = given.trim();
    if title.is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "title",
            "`title` must not be empty",
        ));
    }
    Ok(title)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobOut {
    pub id: String,
    pub title: String,
    pub ats_job_id: Option<String>,
    pub created_at: String,
}

impl From<&job::Model> for JobOut {
    fn from(j: &job::Model) -> Self {
        JobOut {
            id: j.id.clone(),
            title: j.title.clone(),
            ats_job_id: j.ats_job_id.clone(),
            created_at: rfc3339(j.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub items: Vec<JobOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// Jobs, oldest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "routing", params(PageQuery),
    responses((status = 200, body = JobList)), security(("bearer" = [])))]
async fn list(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let jobs = state
        .store
        .list_jobs(query.cursor.as_deref(), limit)
        .await?;
    let next_cursor = (jobs.len() as u64 == limit)
        .then(|| jobs.last().map(|j| j.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(JobList {
        items: jobs.iter().map(JobOut::from).collect(),
        next_cursor,
    }))
}

/// Creates a job.
#[utoipa::path(post, path = "/v1/jobs", tag = "routing", request_body = JobIn,
    responses((status = 201, body = JobOut), (status = 400, body = super::error::ErrorBody), (status = 409)),
    security(("bearer" = [])))]
async fn create(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<JobIn>,
) -> Result<HttpResponse, ApiError> {
    let title = title(&body.title)?;
    let ats_job_id = body
        .ats_job_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let job = state
        .store
        .in_transaction(async |txn| {
            let job = Store::create_job(txn, title, ats_job_id, now_millis()).await?;
            let detail = serde_json::json!({"title": job.title});
            Store::audit(txn, &auth.actor(), "job.create", &job.id, detail).await?;
            Ok::<_, StoreError>(job)
        })
        .await?;
    Ok(HttpResponse::Created().json(JobOut::from(&job)))
}

/// Renames a job.
#[utoipa::path(patch, path = "/v1/jobs/{id}", tag = "routing", request_body = JobPatch,
    responses((status = 200, body = JobOut), (status = 400, body = super::error::ErrorBody), (status = 404)),
    security(("bearer" = [])))]
async fn rename(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<JobPatch>,
) -> Result<HttpResponse, ApiError> {
    let title = title(&body.title)?;
    let job = state
        .store
        .in_transaction(async |txn| {
            let job = Store::rename_job(txn, &id, title).await?;
            let detail = serde_json::json!({"title": job.title});
            Store::audit(txn, &auth.actor(), "job.rename", &job.id, detail).await?;
            Ok::<_, StoreError>(job)
        })
        .await?;
    Ok(HttpResponse::Ok().json(JobOut::from(&job)))
}
