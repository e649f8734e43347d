//! `GET /v1/webhook-deliveries`: outbound webhooks queued for subscribers and how each went;
//! an integrator sees those of the subscriptions its token's scope reaches
//! (`webhook_subscriptions`).
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Auth, Integrator};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::status::DeliveryStatus;
use crate::domain::time::rfc3339;
use crate::store::entities::webhook_delivery;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/webhook-deliveries", web::get().to(list));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `pending`, `delivered` or `dead`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryOut {
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    pub status: String,
    /// Tries so far.
    pub attempts: i32,
    /// Why the last try failed: `HTTP <status>` or a short kind (`connection failed`, `timed
    /// out after …`, `refused: …`); never the receiver's answer.
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// When the next try is due (pending deliveries only).
    pub next_attempt_at: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryOut>,
    pub next_cursor: Option<String>,
}

impl From<&webhook_delivery::Model> for DeliveryOut {
    fn from(d: &webhook_delivery::Model) -> Self {
        DeliveryOut {
            id: d.id.clone(),
            subscription_id: d.subscription_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            last_error: d.last_error.as_deref().map(crate::outbound::error_kind),
            created_at: rfc3339(d.created_at),
            delivered_at: d.delivered_at.map(rfc3339),
            next_attempt_at: (d.status == DeliveryStatus::Pending.as_str())
                .then(|| rfc3339(d.next_attempt_at)),
        }
    }
}

/// Deliveries newest first, filtered by status.
#[utoipa::path(get, path = "/v1/webhook-deliveries", tag = "webhooks", params(ListQuery),
    responses((status = 200, body = DeliveryList), (status = 400, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn list(
    auth: Auth<Integrator>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s)
                .map_err(|e| ApiError::field(ErrorCode::InvalidField, "status", e))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let page = state
        .store
        .list_webhook_deliveries(auth.scope(), status, query.cursor.as_deref(), limit)
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: page.items.iter().map(DeliveryOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
