//! Operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. No token needed, except for
//! `/metrics` when `HIRELAY_METRICS_TOKEN` is set.
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::error::{ApiError, ErrorCode};
use super::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi));
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers and scripts and templates are loaded: `200`, else `503` with what is not.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    match state.store.ping().await {
        Ok(()) => {
            checks.insert("database".into(), json!("ok"));
        }
        Err(e) => {
            ready = false;
            tracing::warn!(error = %e, "readiness: database unreachable");
            checks.insert("database".into(), json!("unreachable"));
        }
    }
    for (part, state) in state.readiness.report() {
        match state {
            Ok(()) => checks.insert(part.into(), json!("ok")),
            Err(e) => {
                ready = false;
                checks.insert(part.into(), json!(e))
            }
        };
    }
    // What works only in part (e.g. invitations without the sender's legal display) is shown,
    // but leaves the instance serving.
    for (part, notice) in state.readiness.notices() {
        checks.insert(part.into(), json!(notice));
    }
    let body = json!({"status": if ready { "ready" } else { "not_ready" }, "checks": checks});
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.config.metrics_token {
        check_metrics_token(&req, expected)?;
    }
    let by_status = state
        .metrics
        .event_counts(|| state.store.count_events_by_status())
        .await;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&by_status)))
}

/// `Authorization: Bearer <HIRELAY_METRICS_TOKEN>`, compared in constant time (over digests,
/// so not even the length shows).
fn check_metrics_token(req: &HttpRequest, expected: &SecretString) -> Result<(), ApiError> {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingToken,
                "/metrics needs `Authorization: Bearer <HIRELAY_METRICS_TOKEN>`",
            )
        })?;
    let matches = Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.expose_secret().as_bytes()));
    if bool::from(matches) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidToken,
            "not the metrics token",
        ))
    }
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(super::openapi::document())
}
