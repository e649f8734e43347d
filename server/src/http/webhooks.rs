//! `POST /v1/webhooks/{bizreach,ats,career-relay}`: signed, idempotent, durable before `202`.
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;

use super::error::ApiError;
use super::AppState;
use crate::domain::status::EventSource;
use crate::ingest::{Accepted, Delivery, IngestError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/webhooks/bizreach", web::post().to(bizreach))
        .route("/v1/webhooks/ats", web::post().to(ats))
        .route("/v1/webhooks/career-relay", web::post().to(career_relay));
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AcceptedOut {
    pub event_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// The Standard Webhooks headers every delivery is signed with (docs/contract.md, "Inbound
/// webhooks"): shown on each webhook operation of `/openapi.json`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only its description is used: `receive` reads the headers itself.
pub struct SignatureHeaders {
    /// The delivery's unique id; a second delivery with the same id is a duplicate (`200`).
    #[serde(rename = "webhook-id")]
    webhook_id: String,
    /// Unix seconds when the delivery was signed; more than 5 minutes away from now is refused.
    #[serde(rename = "webhook-timestamp")]
    webhook_timestamp: String,
    /// `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the
    /// source's `whsec_` secret; several space-separated signatures during a secret rotation.
    #[serde(rename = "webhook-signature")]
    webhook_signature: String,
}

/// A BizReach application event (`application.received`, `scout.replied`).
#[utoipa::path(post, path = "/v1/webhooks/bizreach", tag = "webhooks", params(SignatureHeaders),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "`{\"type\": \"application.received\" | \"scout.replied\", \"group_account_id\", \"application\": {id, channel, position_name, applied_at, status, candidate}}` (docs/contract.md; e.g. examples/payloads/bizreach-direct-application.json)"),
    responses((status = 202, body = AcceptedOut), (status = 200, description = "duplicate delivery", body = AcceptedOut),
        (status = 400, body = super::error::ErrorBody), (status = 401), (status = 409), (status = 413), (status = 415), (status = 422)))]
async fn bizreach(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    receive(EventSource::Bizreach, req, body, state).await
}

/// An ATS status change (`application.status_changed`).
#[utoipa::path(post, path = "/v1/webhooks/ats", tag = "webhooks", params(SignatureHeaders),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "`{\"type\": \"application.status_changed\", …}` with the application's source and new status (docs/contract.md; e.g. examples/payloads/ats-status-rejected.json)"),
    responses((status = 202, body = AcceptedOut), (status = 200, body = AcceptedOut), (status = 400, body = super::error::ErrorBody)))]
async fn ats(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    receive(EventSource::Ats, req, body, state).await
}

/// A Career Relay event (`registration.completed`, `referral.updated`).
#[utoipa::path(post, path = "/v1/webhooks/career-relay", tag = "webhooks", params(SignatureHeaders),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "`{\"type\": \"registration.completed\" | \"referral.updated\", …}` (docs/contract.md; e.g. examples/payloads/career-relay-registration.json)"),
    responses((status = 202, body = AcceptedOut), (status = 200, body = AcceptedOut), (status = 400, body = super::error::ErrorBody)))]
async fn career_relay(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    receive(EventSource::CareerRelay, req, body, state).await
}

async fn receive(
    source: EventSource,
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(IngestError::NotJson.into());
    }
    let limit = state.config.body_limit;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(IngestError::TooLarge { limit }.into());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                super::error::ErrorCode::BadRequest,
                format!("reading the body: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(IngestError::TooLarge { limit }.into());
        }
        body.extend_from_slice(&chunk);
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let delivery = Delivery {
        webhook_id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    };
    let now = chrono::Utc::now().timestamp();
    match state.ingest.accept(source, delivery, now).await? {
        Accepted::New { event_id } => {
            state.queue_wake.notify_one();
            Ok(HttpResponse::Accepted().json(AcceptedOut {
                event_id,
                duplicate: false,
            }))
        }
        Accepted::Duplicate { event_id } => Ok(HttpResponse::Ok().json(AcceptedOut {
            event_id,
            duplicate: true,
        })),
    }
}
