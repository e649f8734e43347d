//! `/v1/notifications/subscriptions` (I5, C8): a token's user switches "notify me when a
//! BizReach application arrives" and "send me the monthly Career Relay report" on or off, with
//! the address to write to. Any role has its own switches.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{AnyRole, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::email::Email;
use crate::domain::time::now_millis;
use crate::store::notifications::Switches;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/notifications/subscriptions", web::get().to(get))
        .route("/v1/notifications/subscriptions", web::put().to(put));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsIn {
    pub bizreach_application: bool,
    /// C8: the monthly Career Relay report (off when not given).
    #[serde(default)]
    pub monthly_report: bool,
    /// Required when a switch is on.
    pub email: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionsOut {
    pub bizreach_application: bool,
    pub monthly_report: bool,
    pub email: Option<String>,
}

/// The calling token's switches (all off until set).
#[utoipa::path(get, path = "/v1/notifications/subscriptions", tag = "notifications",
    responses((status = 200, body = SubscriptionsOut)), security(("bearer" = [])))]
async fn get(auth: Auth<AnyRole>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let current = state
        .store
        .notification_subscription(&auth.caller.id)
        .await?;
    Ok(HttpResponse::Ok().json(match current {
        Some(s) => SubscriptionsOut {
            bizreach_application: s.bizreach_application,
            monthly_report: s.monthly_report,
            email: Some(s.email).filter(|e| !e.is_empty()),
        },
        None => SubscriptionsOut {
            bizreach_application: false,
            monthly_report: false,
            email: None,
        },
    }))
}

/// Sets the calling token's switches.
#[utoipa::path(put, path = "/v1/notifications/subscriptions", tag = "notifications", request_body = SubscriptionsIn,
    responses((status = 200, body = SubscriptionsOut), (status = 400, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn put(
    auth: Auth<AnyRole>,
    state: web::Data<AppState>,
    body: web::Json<SubscriptionsIn>,
) -> Result<HttpResponse, ApiError> {
    let email = body
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            Email::parse(e).map_err(|err| {
                ApiError::field(ErrorCode::InvalidField, "email", format!("`email` {err}"))
            })
        })
        .transpose()?;
    let switches = Switches {
        bizreach_application: body.bizreach_application,
        monthly_report: body.monthly_report,
    };
    if switches.any() && email.is_none() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "email",
            "`email` is required to switch a notification on",
        ));
    }
    let saved = state
        .store
        .set_notification_subscription(&auth.caller.id, switches, email.as_ref(), now_millis())
        .await?;
    Ok(HttpResponse::Ok().json(SubscriptionsOut {
        bizreach_application: saved.bizreach_application,
        monthly_report: saved.monthly_report,
        email: Some(saved.email).filter(|e| !e.is_empty()),
    }))
}
