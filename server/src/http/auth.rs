//! Bearer-token authentication and role checks. Endpoints take an [`Auth<R>`] argument, which
//! answers `401` without a valid token (or with an expired one), `403` when the token's role is
//! not one the endpoint admits, and `429` to an address with too many failed attempts.
//!
//! [`authenticate`] (a middleware) looks the token up before any extractor runs, so that the
//! answer about the token comes first: a caller without the right token never learns whether
//! its body would have been accepted.
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
    /// Outbound webhook subscriptions and deliveries: admin and integrator.
    Integrator => grants::OUTBOUND_WEBHOOKS,
    /// The caller's own settings: any role.
    AnyRole => grants::OWN_NOTIFICATIONS,
);

/// An authenticated caller whose role is one `R` admits.
pub struct Auth<R: Needs> {
    pub caller: TokenIdentity,
    _role: PhantomData<R>,
}

impl<R: Needs> Auth<R> {
    /// Who to write in the audit log.
    pub fn actor(&self) -> String {
        format!("{} ({})", self.caller.name, self.caller.id)
    }
}

/// The id the bootstrap admin token has in audit entries.
pub const BOOTSTRAP_ID: &str = "tok_bootstrap";

/// What [`authenticate`] found, for the request's [`Auth`] extractor.
struct Authenticated(Result<TokenIdentity, ApiError>);

/// Middleware: for a request with an `Authorization` header, checks the token before the
/// handler's extractors run (they run together, and a body extractor's 400 would otherwise
/// be answered before the token's 401 or 403).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
    {
        let outcome = identify(req.request()).await;
        req.extensions_mut().insert(Authenticated(outcome));
    }
    next.call(req).await
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))
}

async fn identify(req: &HttpRequest) -> Result<TokenIdentity, ApiError> {
    let state = state(req)?;
    if let Some(ip) = req.peer_addr().map(|a| a.ip()) {
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
    if let (Ok(state), Some(addr)) = (state(req), req.peer_addr()) {
        state.auth_throttle.failed(addr.ip(), Instant::now());
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
                None => identify(&req).await,
            };
            let caller = outcome.inspect_err(|e| note_failure(&req, e))?;
            if !caller.role.is_in(R::ROLES) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "this endpoint is for the roles {}; the token has {}",
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
