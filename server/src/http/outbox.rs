//! The mail outbox (issue 13): `GET /v1/outbox` lists mails with their kind (template), version,
//! times, attempts and, when cancelled, why; `POST /v1/outbox/{id}/cancel` cancels one not sent
//! yet. Admins and marketers; a marketer sees each address by its domain only.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Auth, Marketer};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::email::Email;
use crate::domain::role::Role;
use crate::domain::time::rfc3339;
use crate::store::entities::mail_outbox;
use crate::store::outbox::OutboxState;
use crate::store::Store;

/// Mails listed at most at once.
const MAX_LIMIT: u64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/outbox", web::get().to(list))
        .route("/v1/outbox/{id}/cancel", web::post().to(cancel));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `scheduled`, `sent`, `failed`, `dead` or `cancelled`.
    pub status: Option<String>,
    /// The template (`career_relay_invitation`, …).
    pub kind: Option<String>,
    /// At most 500; default 100.
    pub limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MailOut {
    pub id: String,
    /// The template it is rendered from.
    pub kind: String,
    pub template_version: i32,
    /// The address in full for an admin, `***@domain` for a marketer.
    pub recipient: String,
    /// `scheduled`, `sent`, `failed`, `dead` or `cancelled`.
    pub status: &'static str,
    pub attempts: i32,
    pub created_at: String,
    /// When it is (or was) due.
    pub send_at: String,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    pub cancel_reason: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MailList {
    pub items: Vec<MailOut>,
    pub next_cursor: Option<String>,
}

fn mail_out(row: &mail_outbox::Model, role: Role) -> MailOut {
    let recipient = match role {
        Role::Admin => row.recipient.clone(),
        _ => Email::parse(&row.recipient)
            .map(|e| e.redacted())
            .unwrap_or_else(|_| crate::domain::email::redact_invalid(&row.recipient)),
    };
    MailOut {
        id: row.id.clone(),
        kind: row.template.clone(),
        template_version: row.template_version,
        recipient,
        status: OutboxState::of(row),
        attempts: row.attempts,
        created_at: rfc3339(row.created_at),
        send_at: rfc3339(row.next_attempt_at),
        sent_at: row.sent_at.map(rfc3339),
        last_error: row.last_error.clone(),
        cancel_reason: row.cancel_reason.clone(),
    }
}

/// Mails, newest first.
#[utoipa::path(get, path = "/v1/outbox", tag = "mail", params(ListQuery),
    responses((status = 200, body = MailList), (status = 400)), security(("bearer" = [])))]
async fn list(
    auth: Auth<Marketer>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(OutboxState::parse(s).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidField,
                "status",
                format!("`{s}`: one of scheduled, sent, failed, dead, cancelled"),
            )
        })?),
    };
    let limit = super::page_limit(query.limit, 100, MAX_LIMIT)?;
    let rows = state
        .store
        .list_mails(status, query.kind.as_deref(), limit)
        .await?;
    Ok(HttpResponse::Ok().json(MailList {
        items: rows.iter().map(|r| mail_out(r, auth.caller.role)).collect(),
        next_cursor: None,
    }))
}

/// Cancels a mail that is still waiting to be sent; `409` once it is being sent or is done.
#[utoipa::path(post, path = "/v1/outbox/{id}/cancel", tag = "mail",
    responses((status = 200, body = MailOut), (status = 404), (status = 409)), security(("bearer" = [])))]
async fn cancel(
    auth: Auth<Marketer>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = state.store.get_mail(&id).await?;
    let reason = format!("cancelled by {}", auth.actor());
    state
        .store
        .in_transaction(async |txn| {
            if !Store::cancel_mail(txn, &row.id, &reason).await? {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "mail `{}` is {} and can no longer be cancelled",
                        row.id,
                        OutboxState::of(&row)
                    ),
                ));
            }
            let detail = serde_json::json!({"template": row.template});
            Store::audit(txn, &auth.actor(), "mail.cancel", &row.id, detail).await?;
            Ok(())
        })
        .await?;
    let row = state.store.get_mail(&row.id).await?;
    Ok(HttpResponse::Ok().json(mail_out(&row, auth.caller.role)))
}
