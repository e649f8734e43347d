//! `GET /v1/invitations` (admin, C2, C3, C8): each Career Relay invitation with the basis it is
//! sent on under 特定電子メール法, the address it goes to, the template version, its times and,
//! when it was not sent, why.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::invitation_policy::Basis;
use crate::domain::time::{parse_rfc3339, rfc3339};
use crate::store::invitations::InvitationRow;

const STATUSES: &[&str] = &["scheduled", "sent", "cancelled", "clicked", "registered"];
const MAX_LIMIT: u64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/invitations", web::get().to(list));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `scheduled`, `sent`, `cancelled`, `clicked` or `registered`.
    pub status: Option<String>,
    /// RFC 3339: invitations made at or after.
    pub since: Option<String>,
    /// RFC 3339: invitations made before.
    pub until: Option<String>,
    /// At most 500; default 100.
    pub limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationOut {
    pub id: String,
    pub application_id: String,
    pub candidate_id: String,
    /// The normalised address it goes to.
    pub recipient: Option<String>,
    pub status: String,
    /// `consent` (with `consent_given_at` and `consent_method`) or
    /// `exemption:business_relationship`; null for an invitation made before it was recorded.
    pub basis: Option<String>,
    pub basis_description: &'static str,
    /// With basis `consent`: when the recipient consented (RFC 3339).
    pub consent_given_at: Option<String>,
    /// With basis `consent`: how the recipient consented.
    pub consent_method: Option<String>,
    pub template_version: Option<i32>,
    pub created_at: String,
    pub send_at: String,
    pub sent_at: Option<String>,
    pub clicked_at: Option<String>,
    pub registered_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub outbox_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationList {
    pub items: Vec<InvitationOut>,
    pub next_cursor: Option<String>,
}

impl From<InvitationRow> for InvitationOut {
    fn from(r: InvitationRow) -> Self {
        InvitationOut {
            basis_description: Basis::describe(r.basis.as_deref().unwrap_or_default()),
            id: r.id,
            application_id: r.application_id,
            candidate_id: r.candidate_id,
            recipient: r.recipient,
            status: r.status,
            basis: r.basis,
            consent_given_at: r.consent_given_at.map(rfc3339),
            consent_method: r.consent_method,
            template_version: r.template_version,
            created_at: rfc3339(r.created_at),
            send_at: rfc3339(r.send_at),
            sent_at: r.sent_at.map(rfc3339),
            clicked_at: r.clicked_first_at.map(rfc3339),
            registered_at: r.registered_at.map(rfc3339),
            cancel_reason: r.cancel_reason,
            outbox_id: r.outbox_id,
        }
    }
}

fn time(field: &'static str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            parse_rfc3339(v).map_err(|e| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    field,
                    format!("`{v}` is not RFC 3339 (e.g. 2026-11-01T00:00:00+09:00): {e}"),
                )
            })
        })
        .transpose()
}

/// Invitations, newest first.
#[utoipa::path(get, path = "/v1/invitations", tag = "career_relay", params(ListQuery),
    responses((status = 200, body = InvitationList), (status = 400)), security(("bearer" = [])))]
async fn list(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(s) = query.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "status",
            format!("`{s}`: one of {}", STATUSES.join(", ")),
        ));
    }
    let limit = super::page_limit(query.limit, 100, MAX_LIMIT)?;
    let rows = state
        .store
        .list_invitations(
            query.status.as_deref(),
            time("since", query.since.as_deref())?,
            time("until", query.until.as_deref())?,
            limit,
        )
        .await?;
    Ok(HttpResponse::Ok().json(InvitationList {
        items: rows.into_iter().map(InvitationOut::from).collect(),
        next_cursor: None,
    }))
}
