//! `/v1/tokens`: API tokens for machines (issue 14), for admins: list (never the secret),
//! create (the token is answered once), revoke. The same as `hirelay token list|create|revoke`.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::role::{token_source, Role};
use crate::domain::time::{now_millis, rfc3339};
use crate::store::tokens::{NewToken, TokenInfo};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/tokens", web::get().to(list))
        .route("/v1/tokens", web::post().to(create))
        .route("/v1/tokens/{id}", web::delete().to(revoke));
}

/// The longest a token may be made to last, in days (as `hirelay token create`).
const MAX_DAYS: u32 = 36_500;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A token as listed: everything but the secret, which is not stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The webhook source an integrator token is bound to: it reads and replays only that
    /// source's events, and sees only the subscriptions that source's tokens made.
    pub source: Option<String>,
}

impl From<&TokenInfo> for TokenOut {
    fn from(t: &TokenInfo) -> Self {
        TokenOut {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.clone(),
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            expires_at: t.expires_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
            source: t.source.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    /// Who or what the token is for (shown in the audit log).
    pub name: String,
    /// `admin`, `integrator`, `marketer` or `viewer`.
    pub role: String,
    /// Refuse the token this many days from now (1–36500); default never.
    pub expires_in_days: Option<u32>,
    /// For an integrator token: `ats`, `bizreach` or `career_relay`, the webhook source it
    /// is bound to (its events, its subscriptions). Refused for other roles.
    pub source: Option<String>,
}

/// A new token: `token` is shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewTokenOut {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenOut,
}

/// Every token, revoked and expired ones too, oldest first.
#[utoipa::path(get, path = "/v1/tokens", tag = "console",
    responses((status = 200, body = TokenList), (status = 401), (status = 403)),
    security(("bearer" = [])))]
async fn list(_: Auth<Admin>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tokens = state.store.list_tokens().await?;
    Ok(HttpResponse::Ok().json(TokenList {
        items: tokens.iter().map(TokenOut::from).collect(),
        next_cursor: None,
    }))
}

/// Creates a token; the answer is the only time its secret is shown.
#[utoipa::path(post, path = "/v1/tokens", tag = "console", request_body = TokenIn,
    responses((status = 201, body = NewTokenOut), (status = 400, body = super::error::ErrorBody),
        (status = 401), (status = 403)),
    security(("bearer" = [])))]
async fn create(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<TokenIn>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "name",
            "`name` must not be empty",
        ));
    }
    let role: Role = body
        .role
        .parse()
        .map_err(|e: String| ApiError::field(ErrorCode::InvalidField, "role", e))?;
    let source = token_source(role, body.source.as_deref().filter(|s| !s.is_empty()))
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "source", e))?;
    let now = now_millis();
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_DAYS) => Some(now + i64::from(days) * DAY_MS),
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "expires_in_days",
                format!("`expires_in_days` must be between 1 and {MAX_DAYS}"),
            ))
        }
    };
    let new = NewToken {
        name,
        role,
        source,
        expires_at,
    };
    let (identity, token) = state
        .store
        .create_token_audited(&new, &auth.actor())
        .await?;
    let info = TokenInfo {
        id: identity.id,
        name: identity.name,
        role: role.as_str().to_owned(),
        created_at: now,
        last_used_at: None,
        expires_at,
        revoked_at: None,
        source: source.map(|s| s.as_str().to_owned()),
    };
    Ok(HttpResponse::Created().json(NewTokenOut {
        token,
        info: TokenOut::from(&info),
    }))
}

/// Revokes a token: the next request with it is refused.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "console",
    params(("id" = String, Path, description = "the token's id (`tok_…`)")),
    responses((status = 200, body = TokenOut), (status = 401), (status = 403),
        (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn revoke(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = now_millis();
    let before = state
        .store
        .revoke_token_audited(&id, &auth.actor(), now)
        .await?;
    let after = TokenInfo {
        revoked_at: before.revoked_at.or(Some(now)),
        ..before
    };
    Ok(HttpResponse::Ok().json(TokenOut::from(&after)))
}
