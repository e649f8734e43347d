//! A rate limit on the links hirelay mails out and anyone may open without a token (issue 15):
//! `/r/{token}` (the invitation's tracked link), `/v1/unsubscribe/{token}` and
//! `/v1/link-approvals/{token}`. Each client address (as [`super::client_ip`] finds it) may open
//! [`PER_MINUTE`] of them a minute; past that it gets `429` with `Retry-After`. A person opens a
//! few; a script guessing tokens or hammering the database through them is slowed down, and other
//! addresses are not affected.
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::error::ApiError;
use super::AppState;
use crate::rate_limit::RateLimit;

/// Requests to public links a client address may make in a minute.
pub const PER_MINUTE: usize = 60;

/// The paths the limit covers.
const PREFIXES: [&str; 3] = ["/r/", "/v1/unsubscribe/", "/v1/link-approvals/"];

/// The public links' counter of one process.
pub struct PublicLinkLimit(RateLimit<IpAddr>);

impl Default for PublicLinkLimit {
    fn default() -> Self {
        PublicLinkLimit(RateLimit::new(PER_MINUTE, Duration::from_secs(60)))
    }
}

/// Middleware: counts requests to public links per client address, and refuses the excess.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if PREFIXES.iter().any(|p| req.path().starts_with(p)) {
        if let Some(state) = req.app_data::<web::Data<AppState>>() {
            let ip = super::client_ip::client_ip(req.request(), &state.config.trusted_proxies);
            if let Some(Err(wait)) = ip.map(|ip| state.public_links.0.hit(&ip, Instant::now())) {
                let refused = ApiError::too_many_requests(
                    "too many requests for public links from this address",
                    wait,
                )
                .error_response();
                return Ok(req.into_response(refused).map_into_right_body());
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
