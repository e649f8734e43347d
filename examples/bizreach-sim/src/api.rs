//! The BizReach-compatible source API of the contract, under `/api`.
//!
//! Every `/api/*` request is counted and may meet an injected fault (see
//! [`crate::control`]) before it reaches its handler; every route but
//! `POST /api/session` needs `Authorization: Bearer <token>`.

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::cursor;
use crate::error::{parse_json, SimError};
use crate::model::{jst, Application, Status};
use crate::state::Shared;

/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page; a larger `limit` is lowered to it.
pub const MAX_LIMIT: usize = 500;

/// Registers the `/api` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .wrap(from_fn(count_and_inject_faults))
            .route("/session", web::post().to(sign_in))
            .route("/group-accounts", web::get().to(list_group_accounts))
            .route(
                "/group-accounts/{id}/applications",
                web::get().to(list_applications),
            )
            .route("/applications/{id}/status", web::put().to(push_status))
            .default_service(web::to(not_found)),
    );
}

/// Answers 404 in the contract's error shape for a path no route matches.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    SimError::NotFound(format!("no route for {} {}", req.method(), req.path())).error_response()
}

/// Counts the request under its route, then applies the fault plan: sleep, then
/// answer the injected status instead of calling the handler.
async fn count_and_inject_faults(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let route = format!(
        "{} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| req.path().to_owned())
    );
    let action = req
        .app_data::<web::Data<Shared>>()
        .and_then(|shared| shared.lock().arrive(route));
    if let Some(action) = action {
        if !action.delay.is_zero() {
            tokio::time::sleep(action.delay).await;
        }
        if action.hang {
            // Far past any client's timeout; a client that gives up closes the connection,
            // which drops this request. One that waits this long gets a 504.
            tokio::time::sleep(HANG).await;
            let response = SimError::SimulatedFault(actix_web::http::StatusCode::GATEWAY_TIMEOUT)
                .error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
        if let Some(status) = action.status {
            let response = SimError::SimulatedFault(status).error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
        if action.cut {
            let response = HttpResponse::Ok()
                .content_type("application/json")
                .body(CutBody { sent: false });
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// How long a hung request is held (the `hang` fault).
const HANG: std::time::Duration = std::time::Duration::from_millis(crate::control::MAX_DELAY_MS);

/// A body that sends the start of a JSON answer and then fails, so the connection is closed
/// part-way through (the `cut` fault).
struct CutBody {
    sent: bool,
}

impl MessageBody for CutBody {
    type Error = std::io::Error;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Stream
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<actix_web::web::Bytes, Self::Error>>> {
        if self.sent {
            return std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "simulated cut",
            ))));
        }
        self.sent = true;
        std::task::Poll::Ready(Some(Ok(actix_web::web::Bytes::from_static(
            br#"{"applications":[{"id":"#,
        ))))
    }
}

/// Proof that the request carried the bearer token of an open session.
pub struct SignedIn;

impl FromRequest for SignedIn {
    type Error = SimError;
    type Future = Ready<Result<Self, SimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let signed_in = match (token, req.app_data::<web::Data<Shared>>()) {
            (Some(token), Some(shared)) => shared.lock().is_signed_in(token),
            _ => false,
        };
        ready(if signed_in {
            Ok(SignedIn)
        } else {
            Err(SimError::Unauthorized)
        })
    }
}

#[derive(Deserialize)]
struct SessionIn {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct SessionOut {
    account_name: String,
    token: String,
}

/// `POST /api/session` `{"email","password"}` → `{"account_name","token"}`.
async fn sign_in(shared: web::Data<Shared>, body: web::Bytes) -> Result<HttpResponse, SimError> {
    let input: SessionIn = parse_json(&body)?;
    let (account_name, token) = shared.lock().sign_in(&input.email, &input.password)?;
    Ok(HttpResponse::Ok().json(SessionOut {
        account_name,
        token,
    }))
}

/// `GET /api/group-accounts` → `[{"id","name","admin_email"}]`.
async fn list_group_accounts(_: SignedIn, shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.lock().groups())
}

/// The raw query of the applications list; each value is parsed into [`ListQuery`].
#[derive(Deserialize)]
struct RawListQuery {
    since: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// The applications list's parameters, parsed.
struct ListQuery {
    since: Option<DateTime<FixedOffset>>,
    after: Option<cursor::PageKey>,
    limit: usize,
}

impl ListQuery {
    fn parse(group_id: &str, query_string: &str) -> Result<Self, SimError> {
        let raw = web::Query::<RawListQuery>::from_query(query_string)
            .map_err(|e| SimError::parameter("query", e.to_string()))?
            .into_inner();
        let since = raw
            .since
            .map(|s| {
                DateTime::parse_from_rfc3339(&s).map_err(|e| {
                    SimError::parameter(
                        "since",
                        format!("`{s}` is not RFC 3339 ({e}); an unescaped `+` reads as a space"),
                    )
                })
            })
            .transpose()?;
        let after = raw
            .cursor
            .map(|c| cursor::decode(group_id, &c))
            .transpose()?;
        let limit = match raw.limit {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(0) | Err(_) => {
                    return Err(SimError::parameter("limit", "must be a positive integer"))
                }
                Ok(n) => n.min(MAX_LIMIT),
            },
        };
        Ok(Self {
            since,
            after,
            limit,
        })
    }
}

/// `GET /api/group-accounts/{id}/applications?since=&cursor=&limit=` →
/// `{"applications": [...], "next_cursor": C|null}`, oldest first.
async fn list_applications(
    _: SignedIn,
    shared: web::Data<Shared>,
    group_id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, SimError> {
    let query = ListQuery::parse(&group_id, req.query_string())?;
    let page = shared
        .lock()
        .page(&group_id, query.since, query.after.as_ref(), query.limit)?;
    Ok(HttpResponse::Ok().json(ApplicationsPage {
        next_cursor: page.next.map(|key| cursor::encode(&group_id, &key)),
        applications: page.applications,
    }))
}

/// A page of applications as answered; `next_cursor` is `null` on the last page.
#[derive(Serialize)]
struct ApplicationsPage {
    applications: Vec<Application>,
    next_cursor: Option<String>,
}

/// The body of a status change.
#[derive(Deserialize)]
pub(crate) struct StatusIn {
    pub(crate) status: Status,
}

/// `PUT /api/applications/{id}/status` `{"status"}` → 204, logged in arrival order.
async fn push_status(
    _: SignedIn,
    shared: web::Data<Shared>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, SimError> {
    let input: StatusIn = parse_json(&body)?;
    let at = Utc::now().with_timezone(&jst());
    shared.lock().push_status(&id, input.status, at)?;
    Ok(HttpResponse::NoContent().finish())
}
