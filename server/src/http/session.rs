//! `/v1/session`: console sign-in (issue 14). `POST` checks an address and a password and sets
//! the session cookie (`HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when the public URL is
//! https); `GET` says who is signed in and gives the CSRF token; `DELETE` signs out;
//! `PUT /v1/session/password` changes the signed-in user's password.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::time::Instant;

use super::auth::{session_cookie, AnyRole, Auth, SESSION_COOKIE};
use super::error::{ApiError, ErrorCode};
use super::users::UserOut;
use super::AppState;
use crate::accounts::{actor, AccountError};
use crate::domain::time::now_millis;
use crate::store::entities::user;
use crate::store::sessions::NewSession;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/session", web::post().to(sign_in))
        .route("/v1/session", web::get().to(current))
        .route("/v1/session", web::delete().to(sign_out))
        .route("/v1/session/password", web::put().to(change_password))
        .route("/v1/session/invitation", web::post().to(accept_invitation));
}

/// An address and a password. (No `Debug`: the password never reaches a log.)
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// The signed-in user, and the token to send as `X-CSRF-Token` with every `POST`, `PUT`,
/// `PATCH` and `DELETE`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    pub user: UserOut,
    pub csrf_token: String,
}

/// The current and the new password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// An invitation link's token and the password its user chose.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationAcceptance {
    pub token: String,
    pub password: String,
}

/// `Set-Cookie` for a session (or, with `None`, one that removes it).
fn cookie(state: &AppState, session: Option<&NewSession>) -> String {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let (value, max_age) = match session {
        Some(s) => (s.cookie.as_str(), state.accounts.lifetime_secs()),
        None => ("", 0),
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

fn signed_in(state: &AppState, user: &user::Model, session: &NewSession) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::SET_COOKIE, cookie(state, Some(session))))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(SessionOut {
            user: UserOut::from(user),
            csrf_token: session.csrf_token.clone(),
        })
}

fn required(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    Ok(())
}

/// Signs in: sets the session cookie. A wrong address or password answers the same `401`;
/// after `HIRELAY_SIGNIN_MAX_FAILURES` failures the account is locked (`429`, `Retry-After`).
#[utoipa::path(post, path = "/v1/session", tag = "console", request_body = SignIn,
    responses((status = 200, body = SessionOut, description = "signed in; `Set-Cookie: hirelay_session=…; HttpOnly; SameSite=Strict`"),
        (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody),
        (status = 429, body = super::error::ErrorBody)))]
async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    let ip = super::client_ip::client_ip(&req, &state.config.trusted_proxies);
    if let Some(wait) = ip.and_then(|ip| state.auth_throttle.locked(ip, Instant::now())) {
        return Err(ApiError::too_many_requests(
            "too many failed authentications from this address",
            wait,
        ));
    }
    required("email", &body.email)?;
    required("password", &body.password)?;
    let password = SecretString::from(body.password.clone());
    match state
        .accounts
        .sign_in(&body.email, &password, now_millis())
        .await
    {
        Ok(done) => {
            Store::audit(
                &state.store.db,
                &actor(&done.user),
                "session.sign_in",
                &done.user.id,
                serde_json::json!({}),
            )
            .await?;
            Ok(signed_in(&state, &done.user, &done.session))
        }
        Err(e @ AccountError::BadCredentials) => {
            if let Some(ip) = ip {
                state.auth_throttle.failed(ip, Instant::now());
            }
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The signed-in user of a cookie-authenticated request, with its session's CSRF token.
async fn session_of(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(String, crate::store::entities::session::Model, user::Model), ApiError> {
    let cookie = session_cookie(req).ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            "a bearer token has no console session; sign in with `POST /v1/session`",
        )
    })?;
    let (session, user) = state
        .accounts
        .session(&cookie, now_millis())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::SessionExpired,
                "the session has ended; sign in again",
            )
        })?;
    Ok((cookie, session, user))
}

/// Who is signed in, and the CSRF token of the session.
#[utoipa::path(get, path = "/v1/session", tag = "console",
    responses((status = 200, body = SessionOut), (status = 401, body = super::error::ErrorBody)))]
async fn current(
    _: Auth<AnyRole>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, session, user) = session_of(&req, &state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(SessionOut {
            user: UserOut::from(&user),
            csrf_token: session.csrf_token,
        }))
}

/// Signs out: the session ends and the cookie is removed (needs `X-CSRF-Token`).
#[utoipa::path(delete, path = "/v1/session", tag = "console",
    responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
async fn sign_out(
    auth: Auth<AnyRole>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (cookie_value, _, user) = session_of(&req, &state).await?;
    state.store.end_session(&cookie_value).await?;
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "session.sign_out",
        &user.id,
        serde_json::json!({}),
    )
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::SET_COOKIE, cookie(&state, None)))
        .finish())
}

/// Changes the signed-in user's password (needs the current one and `X-CSRF-Token`): every
/// other session of the user ends; this browser gets a new one.
#[utoipa::path(put, path = "/v1/session/password", tag = "console", request_body = PasswordChange,
    responses((status = 200, body = SessionOut), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
async fn change_password(
    auth: Auth<AnyRole>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let (_, _, user) = session_of(&req, &state).await?;
    // Security review A3: a wrong current password is a guess like a wrong sign-in, so it
    // counts against the address's throttle (else a stolen session could guess the password
    // here without limit).
    let ip = super::client_ip::client_ip(&req, &state.config.trusted_proxies);
    if let Some(wait) = ip.and_then(|ip| state.auth_throttle.locked(ip, Instant::now())) {
        return Err(ApiError::too_many_requests(
            "too many failed authentications from this address",
            wait,
        ));
    }
    let now = now_millis();
    let current = SecretString::from(body.current_password.clone());
    let new = SecretString::from(body.new_password.clone());
    let user = match state
        .accounts
        .change_password(&user, &current, new, now)
        .await
    {
        Ok(user) => user,
        Err(
            e @ AccountError::Invalid {
                field: "current_password",
                ..
            },
        ) => {
            if let Some(ip) = ip {
                state.auth_throttle.failed(ip, Instant::now());
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let session = state.accounts.open_session(&user.id, now).await?;
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "user.password_change",
        &user.id,
        serde_json::json!({}),
    )
    .await?;
    Ok(signed_in(&state, &user, &session))
}

/// Accepts an invitation: the invited user chooses a password (at least 12 characters) with the
/// link's token, once and within 72 hours, and is signed in. An unknown, used or expired token:
/// `404` naming `token`.
#[utoipa::path(post, path = "/v1/session/invitation", tag = "console", request_body = InvitationAcceptance,
    responses((status = 200, body = SessionOut), (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
async fn accept_invitation(
    state: web::Data<AppState>,
    body: web::Json<InvitationAcceptance>,
) -> Result<HttpResponse, ApiError> {
    let password = SecretString::from(body.password.clone());
    let done = state
        .accounts
        .accept_invitation(&body.token, password, now_millis())
        .await?;
    Store::audit(
        &state.store.db,
        &actor(&done.user),
        "user.invitation_accepted",
        &done.user.id,
        serde_json::json!({}),
    )
    .await?;
    Ok(signed_in(&state, &done.user, &done.session))
}
