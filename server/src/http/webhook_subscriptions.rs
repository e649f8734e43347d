//! `/v1/webhook-subscriptions`: subscribers to hirelay's outbound events. The signing secret
//! (`whsec_…`) is shown once, when created, and stored encrypted. A URL whose host is (or
//! resolves to) an internal address is refused with `422` unless the configuration allows it
//! (`crate::outbound::target`).
//!
//! Issue 15: a subscription belongs to the source of the integrator token that made it; an
//! integrator token sees, and may end, only those of its own source (another's is `404`, as an
//! unknown id), so that a replacement token for the same source keeps its predecessor's
//! subscriptions. Admins see and end all of them; an integrator token bound to no source, the
//! ones no source owns (as before tokens had sources).
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Auth, Integrator};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::time::{now_millis, rfc3339};
use crate::outbound::TargetPolicy;
use crate::store::entities::webhook_subscription;
use crate::store::webhooks::NewSubscription;
use crate::store::{Store, StoreError};

pub use crate::domain::outbound_events::OUTBOUND_EVENT_TYPES;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/webhook-subscriptions", web::get().to(list))
        .route("/v1/webhook-subscriptions", web::post().to(create))
        .route("/v1/webhook-subscriptions/{id}", web::delete().to(delete));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionIn {
    pub url: String,
    pub event_types: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionOut {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub created_at: String,
    /// The source whose integrator tokens see it (`null`: made by an admin or by a token bound
    /// to no source).
    pub owner_source: Option<String>,
    /// Only in the answer to the creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    pub items: Vec<SubscriptionOut>,
    pub next_cursor: Option<String>,
}

fn out(
    sub: &webhook_subscription::Model,
    secret: Option<String>,
) -> Result<SubscriptionOut, ApiError> {
    Ok(SubscriptionOut {
        id: sub.id.clone(),
        url: sub.url.clone(),
        event_types: Store::subscription_event_types(sub)?,
        created_at: rfc3339(sub.created_at),
        owner_source: sub.owner_source.clone(),
        secret,
    })
}

/// The active subscriptions.
#[utoipa::path(get, path = "/v1/webhook-subscriptions", tag = "webhooks",
    responses((status = 200, body = SubscriptionList)), security(("bearer" = [])))]
async fn list(
    auth: Auth<Integrator>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let subs = state.store.webhook_subscriptions_in(auth.scope()).await?;
    let items = subs
        .iter()
        .map(|s| out(s, None))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(SubscriptionList {
        items,
        next_cursor: None,
    }))
}

/// Subscribes a URL to event types; answers the signing secret once.
#[utoipa::path(post, path = "/v1/webhook-subscriptions", tag = "webhooks", request_body = SubscriptionIn,
    responses((status = 201, body = SubscriptionOut), (status = 400, body = super::error::ErrorBody),
        (status = 422, description = "the URL's host is internal or does not resolve; or http:// for a host not allowed", body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn create(
    auth: Auth<Integrator>,
    state: web::Data<AppState>,
    body: web::Json<SubscriptionIn>,
) -> Result<HttpResponse, ApiError> {
    let url = reqwest::Url::parse(&body.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidField,
                "url",
                format!("`{}` is not an http:// or https:// URL", body.url),
            )
        })?;
    if body.event_types.is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "event_types",
            format!("give at least one of: {}", OUTBOUND_EVENT_TYPES.join(", ")),
        ));
    }
    for (i, t) in body.event_types.iter().enumerate() {
        if !OUTBOUND_EVENT_TYPES.contains(&t.as_str()) {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                format!("event_types[{i}]"),
                format!(
                    "unknown event type `{t}`; allowed: {}",
                    OUTBOUND_EVENT_TYPES.join(", ")
                ),
            ));
        }
    }
    let mut event_types = body.event_types.clone();
    event_types.sort();
    event_types.dedup();
    TargetPolicy::new(state.config.outbound_allow_hosts.clone())
        .check_subscription(&url)
        .await?;
    let secret = new_signing_secret();
    let sealed = state.secret_box.seal(&secret);
    let new = NewSubscription {
        url: url.as_str(),
        event_types: &event_types,
        secret_sealed: &sealed,
        owner: auth.scope().owner(),
    };
    let sub = state
        .store
        .in_transaction(async |txn| {
            let sub = Store::create_webhook_subscription(txn, new, now_millis()).await?;
            let detail = serde_json::json!({"url": sub.url, "event_types": event_types});
            let actor = auth.actor();
            Store::audit(txn, &actor, "webhook_subscription.create", &sub.id, detail).await?;
            Ok::<_, StoreError>(sub)
        })
        .await?;
    Ok(HttpResponse::Created().json(out(&sub, Some(secret))?))
}

/// Ends a subscription.
#[utoipa::path(delete, path = "/v1/webhook-subscriptions/{id}", tag = "webhooks",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
async fn delete(
    auth: Auth<Integrator>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .store
        .in_transaction(async |txn| {
            Store::disable_webhook_subscription(txn, &id, auth.scope(), now_millis()).await?;
            let detail = serde_json::json!({});
            Store::audit(
                txn,
                &auth.actor(),
                "webhook_subscription.delete",
                &id,
                detail,
            )
            .await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes.
fn new_signing_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}
