//! Bearer-token authentication and role checks. Endpoints take an [`Auth<R>`] argument, which
//! answers `401` without a valid token and `403` when the token's role is too low.
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use secrecy::ExposeSecret;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::role::Role;
use crate::store::tokens::TokenIdentity;

/// The role an endpoint needs.
pub trait Needs {
    const ROLE: Role;
}

macro_rules! needs {
    ($($name:ident => $role:expr),+) => {$(
        /// Marker for [`Auth`].
        pub struct $name;
        impl Needs for $name {
            const ROLE: Role = $role;
        }
    )+};
}
needs!(Admin => Role::Admin, Marketer => Role::Marketer, Integrator => Role::Integrator, Viewer => Role::Viewer);

/// An authenticated caller whose role allows `R`.
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

async fn identify(req: &HttpRequest) -> Result<TokenIdentity, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
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
    state
        .store
        .find_token(token)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "the token is unknown or revoked"))
}

impl<R: Needs + 'static> FromRequest for Auth<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = identify(&req).await?;
            if !caller.role.allows(R::ROLE) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "this endpoint needs the {} role; the token has {}",
                        R::ROLE.as_str(),
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
