//! `GET /v1/group-accounts/{id}/progress-sync/preview` (P5); the switch itself (P1) is in
//! `group_accounts.rs`, the run in `scheduler.rs`.
use actix_web::{web, HttpResponse};

use super::auth::{Admin, Auth};
use super::error::ApiError;
use super::AppState;
use crate::sync::Preview;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/group-accounts/{id}/progress-sync/preview",
        web::get().to(preview),
    );
}

/// P5: each covered application whose BizReach status progress sync would overwrite (its
/// mapped ATS status differs from what BizReach shows), before and after. Works whether sync
/// is on or off: read it before switching sync on.
#[utoipa::path(get, path = "/v1/group-accounts/{id}/progress-sync/preview", tag = "bizreach",
    responses((status = 200, body = Preview), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn preview(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.progress_sync.preview(&id).await?))
}
