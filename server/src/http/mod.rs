//! The HTTP layer: one module per resource, each with its routes (`configure`), DTOs and
//! handlers. `error.rs` holds the one error body; `auth.rs` the token and role checks.
pub mod access_log;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod candidate_page;
pub mod candidates;
pub mod career_relay;
pub mod client_ip;
pub mod console;
pub mod error;
pub mod events;
pub mod group_accounts;
pub mod imports;
pub mod invitations;
pub mod jobs;
pub mod kpis;
pub mod link_approvals;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod opt_outs;
pub mod outbox;
pub mod progress_sync;
pub mod public_links;
pub mod relay;
pub mod routing;
pub mod rules;
pub mod scheduler;
pub mod security_headers;
pub mod session;
pub mod templates;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_subscriptions;
pub mod webhooks;

use actix_web::web;
use std::sync::Arc;

use crate::bizreach::poller::Poller;
use crate::bizreach::BizreachClient;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::ingest::Ingest;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use crate::scheduler::Scheduler;
use crate::scripting::Scripts;
use crate::store::Store;
use crate::sync::ProgressSync;

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub ingest: Ingest,
    pub metrics: Metrics,
    pub readiness: Readiness,
    /// Email templates, outbox and sender.
    pub mailer: Mailer,
    /// The rule scripts: run, save, reload.
    pub scripts: Scripts,
    /// Wakes idle workers when an event arrives.
    pub queue_wake: Arc<tokio::sync::Notify>,
    /// Seals secrets at rest (BizReach password, webhook signing secrets).
    pub secret_box: SecretBox,
    /// The BizReach source API client; `None` when `HIRELAY_BIZREACH_URL` is not set.
    pub bizreach: Option<BizreachClient>,
    /// The BizReach poller (also the `bizreach-poll` job).
    pub poller: Poller,
    /// Scheduled jobs; `POST /v1/scheduler/{job}/run` runs one now.
    pub scheduler: Scheduler,
    /// Progress sync to BizReach (also the `progress-sync` job); the preview reads it.
    pub progress_sync: ProgressSync,
    /// Issue 16: the `retention` job, which the run endpoint also runs dry.
    pub retention: crate::retention::Retention,
    /// Template test-sends per token ([`templates::TEST_SENDS_PER_HOUR`]).
    pub test_sends: crate::rate_limit::RateLimit,
    /// Failed authentications per client address.
    pub auth_throttle: throttle::AuthThrottle,
    /// Requests to the public links per client address (issue 15).
    pub public_links: public_links::PublicLinkLimit,
    /// Users, their passwords and console sessions.
    pub accounts: crate::accounts::Accounts,
}

/// A CSV document (see `crate::export::chunks`) streamed as a download named `filename`.
pub fn csv_attachment(
    filename: &str,
    chunks: impl Iterator<Item = String> + 'static,
) -> actix_web::HttpResponse {
    let body = futures_util::stream::iter(
        chunks.map(|chunk| Ok::<_, std::convert::Infallible>(web::Bytes::from(chunk))),
    );
    actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body)
}

/// A list's `limit`: `default` when not given, else between 1 and `max` (a 400 naming `limit`).
pub fn page_limit(given: Option<u64>, default: u64, max: u64) -> Result<u64, error::ApiError> {
    match given.unwrap_or(default) {
        limit @ 1.. if limit <= max => Ok(limit),
        _ => Err(error::ApiError::field(
            error::ErrorCode::InvalidField,
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// Every route of the API.
/// Issue 19 item 4: with `HIRELAY_RULES_SOURCE=files` the files on disk are what runs, so the
/// API refuses to save or roll back, saying which file to change instead.
pub fn api_edits_allowed(config: &Config, file: &std::path::Path) -> Result<(), error::ApiError> {
    if config.rules_source.api_edits() {
        return Ok(());
    }
    Err(error::ApiError::new(
        error::ErrorCode::Conflict,
        format!(
            "rule scripts and templates are edited as files here (HIRELAY_RULES_SOURCE=files): \
             change {} on disk (it is picked up within 2 s), or set HIRELAY_RULES_SOURCE=both to \
             edit them through the API as well",
            file.display()
        ),
    ))
}

/// Issue 14: the version a save expects to replace, from `If-Match` (`"4"`, `W/"4"` or `4`, as
/// the `ETag` of a read gives it); `None` without the header or with `*`. A save given one is
/// refused with `412 version_conflict` when someone saved a newer version meanwhile.
pub fn if_match_version(req: &actix_web::HttpRequest) -> Result<Option<i32>, error::ApiError> {
    let Some(raw) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = raw.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    bare.parse::<i32>()
        .ok()
        .filter(|v| *v >= 0)
        .map(Some)
        .ok_or_else(|| {
            error::ApiError::field(
                error::ErrorCode::InvalidField,
                "If-Match",
                format!("`If-Match` must be the version you opened, e.g. `\"4\"`, not `{text}`"),
            )
        })
}

/// The `ETag` of a stored version: its number, quoted, for `If-Match`.
pub fn version_etag(version: i32) -> (actix_web::http::header::HeaderName, String) {
    (actix_web::http::header::ETAG, format!("\"{version}\""))
}

/// Issue 19 item 4: one stored version of a rule script or template (`what` names it for
/// people), by the number in the path; `404` naming the version and the ones there are.
pub async fn stored_version(
    store: &Store,
    kind: crate::store::documents::DocumentKind,
    what: &str,
    name: &str,
    version: &str,
) -> Result<crate::store::entities::document_version::Model, error::ApiError> {
    let number: i32 = version.parse().ok().filter(|v| *v >= 1).ok_or_else(|| {
        error::ApiError::field(
            error::ErrorCode::InvalidField,
            "version",
            format!("`{version}` is not a version number (1, 2, …)"),
        )
    })?;
    let all = store.document_versions(kind, name).await?;
    let last = all.last().map(|v| v.version);
    match (all.into_iter().find(|v| v.version == number), last) {
        (Some(found), _) => Ok(found),
        (None, None) => Err(error::ApiError::not_found(what)),
        (None, Some(last)) => Err(error::ApiError::new(
            error::ErrorCode::NotFound,
            format!("{what} has no version {number}; its versions are 1 to {last}"),
        )),
    }
}

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
    .configure(applications::configure)
    .configure(candidates::configure)
    .configure(group_accounts::configure)
    .configure(progress_sync::configure)
    .configure(link_approvals::configure)
    .configure(scheduler::configure)
    .configure(jobs::configure)
    .configure(routing::configure)
    .configure(imports::configure)
    .configure(webhook_subscriptions::configure)
    .configure(webhook_deliveries::configure)
    .configure(notifications::configure)
    .configure(rules::configure)
    .configure(templates::configure)
    .configure(outbox::configure)
    .configure(invitations::configure)
    .configure(opt_outs::configure)
    .configure(relay::configure)
    .configure(career_relay::configure)
    .configure(console::configure)
    .configure(kpis::configure)
    .configure(audit::configure)
    .configure(session::configure)
    .configure(users::configure)
    .configure(tokens::configure);
}
