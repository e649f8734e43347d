//! Authentication and role checks. Endpoints take an [`Auth<R>`] argument, which answers `401`
//! without a valid bearer token or console session (or with an expired one), `403` when the
//! caller's role is not one the endpoint admits, and `429` to an address with too many failed
//! attempts.
//!
//! Two kinds of caller use the same `/v1` API: machines with `Authorization: Bearer <token>`,
//! and people signed in to the console with the [`SESSION_COOKIE`]. A request authenticated by
//! the cookie that may change state (`POST`, `PUT`, `PATCH`, `DELETE`) must also carry
//! [`CSRF_HEADER`] with the session's token, or it is refused with `403` before its handler runs;
//! bearer tokens need none (a browser never adds them on its own).
//!
//! [`authenticate`] (a middleware) looks the caller up before any extractor runs, so that the
//! answer about the credentials comes first: a caller without the right ones never learns
//! whether its body would have been accepted.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use secrecy::ExposeSecret;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Instant;
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::role::{grants, Role};
use crate::domain::time::now_millis;
use crate::store::tokens::{TokenCheck, TokenIdentity};

/// The set of roles an endpoint admits (one of [`grants`]; admin is in every one).
pub trait Needs {
    const ROLES: &'static [Role];
}

macro_rules! needs {
    ($($(#[$doc:meta])* $name:ident => $roles:expr),+ $(,)?) => {$(
        $(#[$doc])*
        pub struct $name;
        impl Needs for $name {
            const ROLES: &'static [Role] = $roles;
        }
    )+};
}
needs!(
    /// Administration: admin only.
    Admin => grants::ADMINISTRATION,
    /// Applications and KPIs, read: admin and viewer (never marketer or integrator).
    Viewer => grants::APPLICATIONS_AND_KPIS,
    /// Email templates and the outbox: admin and marketer.
    Marketer => grants::TEMPLATES,
    /// Outbound webhook subscriptions and deliveries: admin and integrator (an integrator
    /// those of its [`Scope`](crate::domain::role::Scope)).
    Integrator => grants::OUTBOUND_WEBHOOKS,
    /// Received events, read and replayed: admin and integrator (an integrator only its own
    /// source's, through its [`Scope`](crate::domain::role::Scope)).
    EventReader => grants::EVENTS,
    /// The caller's own settings: any role.
    AnyRole => grants::OWN_NOTIFICATIONS,
);

/// An authenticated caller whose role is one `R` admits.
pub struct Auth<R: Needs> {
    pub caller: TokenIdentity,
    _role: PhantomData<R>,
}

impl<R: Needs> Auth<R> {
    /// Who to write in the audit log: the person (`name <email>`) or the token (`name (id)`).
    pub fn actor(&self) -> String {
        match &self.caller.email {
            Some(email) => format!("{} <{email}>", self.caller.name),
            None => format!("{} ({})", self.caller.name, self.caller.id),
        }
    }

    /// What of the events and outbound webhooks the caller reaches.
    pub fn scope(&self) -> crate::domain::role::Scope {
        self.caller.scope()
    }
}

/// The console session's cookie.
pub const SESSION_COOKIE: &str = "hirelay_session";
/// The header a cookie-authenticated state-changing request repeats the session's token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Paths a user who must change the password may still use: to see who they are, to change
/// it, and to sign out.
const PASSWORD_CHANGE_PATHS: [&str; 2] = ["/v1/session", "/v1/session/password"];

/// The id the bootstrap admin token has in audit entries.
pub const BOOTSTRAP_ID: &str = "tok_bootstrap";

/// What [`authenticate`] found, for the request's [`Auth`] extractor.
struct Authenticated(Result<TokenIdentity, ApiError>);

/// Middleware: for a request with an `Authorization` header, or a session cookie on the API,
/// checks the credentials before the handler's extractors run (they run together, and a body
/// extractor's 400 would otherwise be answered before the credentials' 401 or 403, or a CSRF
/// failure's 403).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let has_token = req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION);
    if has_token || (req.path().starts_with("/v1/") && session_cookie(req.request()).is_some()) {
        let outcome = identify_caller(req.request()).await;
        req.extensions_mut().insert(Authenticated(outcome));
    }
    next.call(req).await
}

/// The caller of a request: by its bearer token when it has an `Authorization` header, else by
/// its session cookie, else none (`401 missing_token`).
async fn identify_caller(req: &HttpRequest) -> Result<TokenIdentity, ApiError> {
    if req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
    {
        return identify(req).await;
    }
    match session_cookie(req) {
        Some(cookie) => identify_session(req, &cookie).await,
        None => identify(req).await,
    }
}

/// The value of the session cookie a request carries, if any.
pub fn session_cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Whether a request may change state (and so needs the CSRF token when a cookie signs it).
fn changes_state(method: &actix_web::http::Method) -> bool {
    !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS")
}

/// The caller a session cookie names: its user, while the session is live and the user enabled
/// (a disabled user's sessions stop at once); the CSRF token checked for state changes.
async fn identify_session(req: &HttpRequest, cookie: &str) -> Result<TokenIdentity, ApiError> {
    let state = state(req)?;
    let Some((session, user)) = state.accounts.session(cookie, now_millis()).await? else {
        return Err(ApiError::new(
            ErrorCode::SessionExpired,
            "the session has ended; sign in again",
        ));
    };
    if changes_state(req.method()) {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !bool::from(sent.ct_eq(session.csrf_token.as_bytes())) {
            return Err(ApiError::field(
                ErrorCode::CsrfFailed,
                "X-CSRF-Token",
                "a signed-in browser's POST, PUT, PATCH and DELETE need the header \
                 `X-CSRF-Token` with the session's token (`GET /v1/session` answers it)",
            ));
        }
    }
    if user.password_change_required && !PASSWORD_CHANGE_PATHS.contains(&req.path()) {
        return Err(ApiError::new(
            ErrorCode::PasswordChangeRequired,
            "choose a new password first (`PUT /v1/session/password`)",
        ));
    }
    let role = user
        .role
        .parse()
        .map_err(|e: String| ApiError::internal(anyhow::anyhow!("user {}: {e}", user.id)))?;
    Ok(TokenIdentity {
        id: user.id,
        name: user.name,
        role,
        email: Some(user.email),
        source: None,
    })
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))
}

async fn identify(req: &HttpRequest) -> Result<TokenIdentity, ApiError> {
    let state = state(req)?;
    if let Some(ip) = super::client_ip::client_ip(req, &state.config.trusted_proxies) {
        if let Some(wait) = state.auth_throttle.locked(ip, Instant::now()) {
            let secs = wait.as_secs().max(1);
            return Err(ApiError::new(
                ErrorCode::TooManyRequests,
                format!("too many failed authentications from this address; retry in {secs} s"),
            )
            .with_retry_after(secs));
        }
    }
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingToken,
                "this endpoint needs `Authorization: Bearer <token>`",
            )
        })?;
    let token = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingToken,
                "the Authorization header must be `Bearer <token>`",
            )
        })?;
    if let Some(bootstrap) = &state.config.admin_token {
        if bool::from(bootstrap.expose_secret().as_bytes().ct_eq(token.as_bytes())) {
            return Ok(TokenIdentity {
                id: BOOTSTRAP_ID.into(),
                name: "bootstrap admin".into(),
                role: Role::Admin,
                email: None,
                source: None,
            });
        }
    }
    match state.store.check_token(token, now_millis()).await? {
        TokenCheck::Valid(identity) => Ok(identity),
        TokenCheck::Expired => Err(ApiError::new(
            ErrorCode::TokenExpired,
            "the token has expired; ask an admin for a new one",
        )),
        TokenCheck::Unknown => Err(ApiError::new(
            ErrorCode::InvalidToken,
            "the token is unknown or revoked",
        )),
    }
}

/// Counts a wrong or expired token against the caller's address (a missing one is no guess).
fn note_failure(req: &HttpRequest, err: &ApiError) {
    if !matches!(err.code, ErrorCode::InvalidToken | ErrorCode::TokenExpired) {
        return;
    }
    if let Ok(state) = state(req) {
        if let Some(ip) = super::client_ip::client_ip(req, &state.config.trusted_proxies) {
            state.auth_throttle.failed(ip, Instant::now());
        }
    }
}

fn roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl<R: Needs + 'static> FromRequest for Auth<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.extensions_mut().remove::<Authenticated>();
        let req = req.clone();
        Box::pin(async move {
            let outcome = match found {
                Some(Authenticated(outcome)) => outcome,
                None => identify_caller(&req).await,
            };
            let caller = outcome.inspect_err(|e| note_failure(&req, e))?;
            if !caller.role.is_in(R::ROLES) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "this endpoint is for the roles {}; the caller has {}",
                        roles(R::ROLES),
                        caller.role.as_str()
                    ),
                ));
            }
            Ok(Auth {
                caller,
                _role: PhantomData,
            })
        })
    }
}
