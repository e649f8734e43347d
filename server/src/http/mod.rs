//! The HTTP layer: one module per resource, each with its routes (`configure`), DTOs and
//! handlers. `error.rs` holds the one error body; `auth.rs` the token and role checks.
pub mod auth;
pub mod error;
pub mod events;
pub mod openapi;
pub mod ops;
pub mod templates;
pub mod webhooks;

use actix_web::web;
use std::sync::Arc;

use crate::config::Config;
use crate::ingest::Ingest;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use crate::store::Store;

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub ingest: Ingest,
    pub metrics: Metrics,
    pub readiness: Readiness,
    /// Email templates, outbox and sender.
    pub mailer: Mailer,
    /// Wakes idle workers when an event arrives.
    pub queue_wake: Arc<tokio::sync::Notify>,
}

/// Every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(1 << 20)
            .error_handler(|e, _| error::json_body_error(e)),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| error::query_error(e)))
    .app_data(web::PathConfig::default().error_handler(|e, _| error::path_error(e)))
    .configure(ops::configure)
    .configure(webhooks::configure)
    .configure(events::configure)
    .configure(templates::configure);
}
