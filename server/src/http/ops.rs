//! Operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. No token needed.
use actix_web::{web, HttpResponse};
use serde_json::json;

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

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let by_status = match state.store.count_events_by_status().await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: counting events failed");
            Default::default()
        }
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&by_status))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(super::openapi::document())
}
