//! `GET /v1/audit-log`: who changed which script, template or setting, newest first; and who
//! read, exported or erased which candidate's data (`?candidate=`, issue 16).
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::ApiError;
use super::AppState;
use crate::domain::time::rfc3339;
use crate::store::entities::audit_entry;

/// Entries a request answers when it does not ask for a number.
const DEFAULT_LIMIT: u64 = 50;
/// The most entries one request answers.
const MAX_LIMIT: u64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/audit-log", web::get().to(list));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// How many entries, newest first (1–500, default 50).
    pub limit: Option<u64>,
    /// Only entries about this candidate id: who read, exported, changed or erased their data.
    pub candidate: Option<String>,
}

/// One change: who (`name (token id)`), what (`rule.save`, `template.save`, …), on what, when.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryOut {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// What changed, e.g. `{"version": 3, "origin": "api"}`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The candidate whose data the entry read or changed, if any.
    pub candidate_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditLog {
    pub items: Vec<AuditEntryOut>,
}

impl From<audit_entry::Model> for AuditEntryOut {
    fn from(e: audit_entry::Model) -> Self {
        // Stored as JSON text by `Store::audit`; anything else is shown as the text it is.
        let detail = serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail));
        AuditEntryOut {
            id: e.id,
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail,
            candidate_id: e.candidate_id,
        }
    }
}

/// The newest audit entries first.
#[utoipa::path(get, path = "/v1/audit-log", tag = "operations", params(ListQuery),
    responses((status = 200, body = AuditLog), (status = 400, body = super::error::ErrorBody),
        (status = 401), (status = 403)),
    security(("bearer" = [])))]
async fn list(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let entries = state
        .store
        .audit_entries_about(limit, query.candidate.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(AuditLog {
        items: entries.into_iter().map(AuditEntryOut::from).collect(),
    }))
}
