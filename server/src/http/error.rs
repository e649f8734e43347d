//! The one error body every endpoint answers with, and the one table of error codes.
//!
//! Each layer has its own error enum; the `From` impls here are the single place where a layer's
//! error becomes an HTTP status and a stable, searchable code. Internal errors are logged with
//! their cause chain and answered with an opaque 500.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Every error code hirelay answers with: `(code, HTTP status)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedJson,
    InvalidField,
    BadRequest,
    MissingToken,
    InvalidToken,
    TokenExpired,
    InvalidSignature,
    InvalidCredentials,
    SessionExpired,
    Forbidden,
    CsrfFailed,
    PasswordChangeRequired,
    NotFound,
    Conflict,
    IdempotencyConflict,
    VersionConflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    ScriptInvalid,
    TemplateInvalid,
    BizreachCredentials,
    Upstream,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The table: code users can search for, and its HTTP status.
    pub fn spec(self) -> (&'static str, StatusCode) {
        use ErrorCode::*;
        match self {
            MalformedJson => ("malformed_json", StatusCode::BAD_REQUEST),
            InvalidField => ("invalid_field", StatusCode::BAD_REQUEST),
            BadRequest => ("bad_request", StatusCode::BAD_REQUEST),
            MissingToken => ("missing_token", StatusCode::UNAUTHORIZED),
            InvalidToken => ("invalid_token", StatusCode::UNAUTHORIZED),
            TokenExpired => ("token_expired", StatusCode::UNAUTHORIZED),
            InvalidSignature => ("invalid_signature", StatusCode::UNAUTHORIZED),
            InvalidCredentials => ("invalid_credentials", StatusCode::UNAUTHORIZED),
            SessionExpired => ("session_expired", StatusCode::UNAUTHORIZED),
            Forbidden => ("forbidden", StatusCode::FORBIDDEN),
            CsrfFailed => ("csrf_token_invalid", StatusCode::FORBIDDEN),
            PasswordChangeRequired => ("password_change_required", StatusCode::FORBIDDEN),
            NotFound => ("not_found", StatusCode::NOT_FOUND),
            Conflict => ("conflict", StatusCode::CONFLICT),
            IdempotencyConflict => ("idempotency_conflict", StatusCode::CONFLICT),
            VersionConflict => ("version_conflict", StatusCode::PRECONDITION_FAILED),
            PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            UnsupportedMediaType => ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Unprocessable => ("unprocessable", StatusCode::UNPROCESSABLE_ENTITY),
            TooManyRequests => ("too_many_requests", StatusCode::TOO_MANY_REQUESTS),
            ScriptInvalid => ("script_invalid", StatusCode::UNPROCESSABLE_ENTITY),
            TemplateInvalid => ("template_invalid", StatusCode::UNPROCESSABLE_ENTITY),
            BizreachCredentials => (
                "bizreach_credentials_rejected",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Upstream => ("upstream_error", StatusCode::BAD_GATEWAY),
            Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
            Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The `WWW-Authenticate` challenge of the admin API's 401s (RFC 6750): which scheme to
    /// use, and whether the token given was at fault.
    fn challenge(self) -> Option<&'static str> {
        match self {
            ErrorCode::MissingToken => Some("Bearer realm=\"hirelay\""),
            ErrorCode::InvalidToken => Some("Bearer realm=\"hirelay\", error=\"invalid_token\""),
            ErrorCode::TokenExpired => Some(
                "Bearer realm=\"hirelay\", error=\"invalid_token\", error_description=\"the token has expired\"",
            ),
            _ => None,
        }
    }
}

/// An error as answered: `{"error": {"code", "message", "field"?, "details"?}}`.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub details: Option<serde_json::Value>,
    /// Seconds to wait before trying again (`Retry-After`), for a rate limit.
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
            details: None,
            retry_after: None,
        }
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: Some(field.into()),
            details: None,
            retry_after: None,
        }
    }

    /// A rate limit reached: `429` with `Retry-After`.
    pub fn too_many_requests(message: impl Into<String>, wait: std::time::Duration) -> Self {
        Self::new(ErrorCode::TooManyRequests, message).with_retry_after(wait.as_secs().max(1))
    }

    /// Tells the caller when to retry (`Retry-After`, in seconds).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// An internal failure: logged in full here, answered opaquely.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        tracing::error!(error = format!("{err:#}"), "internal error");
        Self::new(
            ErrorCode::Internal,
            "internal error; the server log has the details",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.spec().0, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.spec().1
    }

    fn error_response(&self) -> HttpResponse {
        let (code, status) = self.code.spec();
        let mut response = HttpResponse::build(status);
        if let Some(challenge) = self.code.challenge() {
            response.insert_header((actix_web::http::header::WWW_AUTHENTICATE, challenge));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, secs));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code,
                message: self.message.clone(),
                field: self.field.clone(),
                details: self.details.clone(),
            },
        })
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        crate::store::StoreError::from(err).into()
    }
}

/// Seconds a sender is asked to wait before retrying when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl From<crate::domain::period::QueryError> for ApiError {
    fn from(e: crate::domain::period::QueryError) -> Self {
        ApiError::field(ErrorCode::InvalidField, e.field, e.message)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            StoreError::Stale(stale) => {
                ApiError::new(ErrorCode::VersionConflict, stale.to_string()).with_details(
                    serde_json::json!({
                        "expected_version": stale.expected,
                        "current_version": stale.current,
                        "author": stale.author,
                        "created_at": stale.created_at.map(crate::domain::time::rfc3339),
                    }),
                )
            }
            StoreError::Unavailable(why) => {
                tracing::error!(error = %why, "the database is unavailable");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "the database is unavailable; nothing was stored, retry shortly",
                )
                .with_retry_after(UNAVAILABLE_RETRY_AFTER_SECS)
            }
            StoreError::Unstorable(why) => ApiError::new(
                ErrorCode::BadRequest,
                format!("a value in the request cannot be stored: {why}"),
            ),
            StoreError::Db(e) => ApiError::internal(e),
            StoreError::Corrupt(e) => ApiError::internal(anyhow::anyhow!(e)),
        }
    }
}

impl From<crate::ingest::IngestError> for ApiError {
    fn from(err: crate::ingest::IngestError) -> Self {
        use crate::ingest::IngestError as E;
        let message = err.to_string();
        match err {
            E::Signature(_) => ApiError::new(ErrorCode::InvalidSignature, message),
            E::NotJson => ApiError::new(ErrorCode::UnsupportedMediaType, message),
            E::TooLarge { .. } => ApiError::new(ErrorCode::PayloadTooLarge, message),
            E::Malformed { field: None, .. } => ApiError::new(ErrorCode::MalformedJson, message),
            E::Malformed {
                field: Some(field), ..
            } => ApiError::field(ErrorCode::InvalidField, field, message),
            E::Refused { field, .. } => ApiError {
                code: ErrorCode::Unprocessable,
                message,
                field,
                details: None,
                retry_after: None,
            },
            E::IdempotencyConflict { .. } => {
                ApiError::field(ErrorCode::IdempotencyConflict, "webhook-id", message)
            }
            E::Unavailable => ApiError::new(ErrorCode::Unavailable, message)
                .with_retry_after(UNAVAILABLE_RETRY_AFTER_SECS),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::bizreach::BizreachError> for ApiError {
    fn from(err: crate::bizreach::BizreachError) -> Self {
        use crate::bizreach::BizreachError as E;
        let message = err.to_string();
        match err {
            E::NotConfigured => ApiError::new(ErrorCode::Unavailable, message),
            E::NotSignedIn => ApiError::new(ErrorCode::Unprocessable, message),
            E::BadCredentials | E::Unauthorized => {
                ApiError::new(ErrorCode::BizreachCredentials, message)
            }
            E::Upstream { .. }
            | E::Network(_)
            | E::Decode(_)
            | E::Redirected { .. }
            | E::TooLarge { .. } => ApiError::new(ErrorCode::Upstream, message),
            E::Store(e) => e.into(),
            E::Crypto(e) => ApiError::internal(e),
        }
    }
}

impl From<crate::outbound::target::TargetError> for ApiError {
    fn from(err: crate::outbound::target::TargetError) -> Self {
        ApiError::field(ErrorCode::Unprocessable, "url", err.to_string())
    }
}

impl From<crate::bizreach::linking::LinkingError> for ApiError {
    fn from(err: crate::bizreach::linking::LinkingError) -> Self {
        use crate::bizreach::linking::LinkingError as E;
        let message = err.to_string();
        match err {
            E::Bizreach(e) => e.into(),
            E::Transition { .. } => ApiError::new(ErrorCode::Conflict, message),
            E::BadAdminEmail { .. } => ApiError::new(ErrorCode::Unprocessable, message),
            E::Mail(e) => ApiError::internal(e),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::bizreach::backfill::BackfillError> for ApiError {
    fn from(err: crate::bizreach::backfill::BackfillError) -> Self {
        use crate::bizreach::backfill::BackfillError as E;
        let message = err.to_string();
        match err {
            E::NotLinked { .. } | E::ProgressSyncOn { .. } => {
                ApiError::new(ErrorCode::Conflict, message)
            }
            E::Bizreach(e) => e.into(),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::scheduler::SchedulerError> for ApiError {
    fn from(err: crate::scheduler::SchedulerError) -> Self {
        use crate::scheduler::SchedulerError as E;
        let message = err.to_string();
        match err {
            E::UnknownJob { known, .. } => ApiError::new(ErrorCode::NotFound, message)
                .with_details(serde_json::json!({ "known_jobs": known })),
            // A job that failed on BizReach answers as BizReach's failure does (503, 422, 502).
            E::Failed { name, source } => match source.downcast::<crate::bizreach::BizreachError>()
            {
                Ok(e) => {
                    let mut api = ApiError::from(e);
                    api.message = format!("job `{name}` failed: {}", api.message);
                    api
                }
                Err(other) => ApiError::internal(other.context(message)),
            },
        }
    }
}

impl From<crate::bizreach::inbox::InboxError> for ApiError {
    fn from(err: crate::bizreach::inbox::InboxError) -> Self {
        use crate::bizreach::inbox::InboxError as E;
        let message = err.to_string();
        match err {
            E::NoApplications => {
                ApiError::field(ErrorCode::InvalidField, "application_ids", message)
            }
            E::UnknownJob(_) => ApiError::field(ErrorCode::Unprocessable, "job_id", message),
            E::UnknownApplications(ids) => {
                ApiError::field(ErrorCode::Unprocessable, "application_ids", message)
                    .with_details(serde_json::json!({ "unknown": ids }))
            }
            E::AlreadyRouted(ids) => {
                ApiError::field(ErrorCode::Conflict, "application_ids", message)
                    .with_details(serde_json::json!({ "already_routed": ids }))
            }
            E::MixedPositions(positions) => {
                ApiError::field(ErrorCode::Unprocessable, "register_rule", message)
                    .with_details(serde_json::json!({ "position_names": positions }))
            }
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::scripting::ScriptError> for ApiError {
    fn from(err: crate::scripting::ScriptError) -> Self {
        use crate::scripting::ScriptError as E;
        match &err {
            E::NotLoaded(name) => ApiError::not_found(format!("rule script `{name}`")),
            E::Compile { file, .. } | E::Runtime { file, .. } | E::Limit { file, .. } => {
                ApiError::new(ErrorCode::ScriptInvalid, err.to_string()).with_details(
                    serde_json::json!({"file": file, "line": err.line(), "column": err.column()}),
                )
            }
        }
    }
}

impl From<crate::scripting::RulesError> for ApiError {
    fn from(err: crate::scripting::RulesError) -> Self {
        use crate::scripting::RulesError as E;
        match err {
            E::Script(e) => e.into(),
            E::NotFound(what) => ApiError::not_found(what),
            E::Invalid { field, message } => {
                ApiError::field(ErrorCode::InvalidField, field, message)
            }
            E::Busy {
                message,
                retry_after,
            } => ApiError::too_many_requests(message, retry_after),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::mail::MailError> for ApiError {
    fn from(err: crate::mail::MailError) -> Self {
        use crate::mail::MailError as E;
        let message = err.to_string();
        match err {
            E::Template(problems) => {
                let first = problems.first();
                ApiError::new(ErrorCode::TemplateInvalid, message).with_details(serde_json::json!({
                    "template": first.map(|p| p.template.clone()),
                    "part": first.map(|p| p.part),
                    "line": first.map(|p| p.line),
                    "column": first.map(|p| p.column),
                    "problems": problems.iter().map(|p| serde_json::json!({
                        "part": p.part, "line": p.line, "column": p.column, "message": p.message,
                    })).collect::<Vec<_>>(),
                }))
            }
            E::UnknownTemplate(name) => ApiError::not_found(format!("template `{name}`")),
            E::Promotional { .. } => ApiError::new(ErrorCode::Unprocessable, message),
            E::Interrupted(_) => ApiError::internal(anyhow::anyhow!(message)),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::accounts::AccountError> for ApiError {
    fn from(err: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError as E;
        let message = err.to_string();
        match err {
            E::BadCredentials => ApiError::new(ErrorCode::InvalidCredentials, message),
            E::Locked { retry_after_secs } => ApiError::new(ErrorCode::TooManyRequests, message)
                .with_retry_after(retry_after_secs),
            E::Invalid { field, .. } => ApiError::field(ErrorCode::InvalidField, field, message),
            E::InvitationInvalid => ApiError::field(ErrorCode::NotFound, "token", message),
            E::Hash(e) => ApiError::internal(e),
            E::Store(e) => e.into(),
        }
    }
}

/// A JSON request body that failed to parse: 400 naming the field at fault.
pub fn json_body_error(err: actix_web::error::JsonPayloadError) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the body must be application/json",
        ),
        J::Overflow { .. } | J::OverflowKnownLength { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, err.to_string())
        }
        J::Deserialize(e) if e.is_data() => ApiError::new(ErrorCode::InvalidField, e.to_string()),
        _ => ApiError::new(ErrorCode::MalformedJson, err.to_string()),
    };
    api.into()
}

/// A query string that failed to parse: 400.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> actix_web::Error {
    ApiError::new(ErrorCode::BadRequest, format!("query string: {err}")).into()
}

/// A path segment that failed to parse: 400/404.
pub fn path_error(err: actix_web::error::PathError) -> actix_web::Error {
    ApiError::new(ErrorCode::NotFound, format!("path: {err}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use sea_orm::{ConnAcquireErr, DbErr};

    /// A connection that cannot be had is a 503 the sender may retry (nothing was stored);
    /// any other database failure an opaque 500.
    #[test]
    fn database_failures_answer_503_when_a_retry_may_succeed() {
        let status = |err: DbErr| ApiError::from(StoreError::from(err)).status_code();
        assert_eq!(
            status(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(DbErr::Custom("constraint failed".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let unavailable = ApiError::from(StoreError::Unavailable("pool timed out".into()));
        assert_eq!(unavailable.code.spec().0, "unavailable");
        assert_eq!(
            unavailable.retry_after,
            Some(UNAVAILABLE_RETRY_AFTER_SECS),
            "a 503 says when to retry"
        );
        // A connection lost mid-statement (PostgreSQL restarted) is as retryable as one that
        // could not be had, whether it came straight from the driver or through sea-orm.
        let lost = || {
            sea_orm::RuntimeErr::SqlxError(sea_orm::sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            )))
        };
        assert_eq!(
            status(DbErr::Query(lost())),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from(DbErr::Exec(lost())).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(DbErr::Query(sea_orm::RuntimeErr::SqlxError(
                sea_orm::sqlx::Error::PoolTimedOut
            ))),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(
            !unavailable.message.contains("pool"),
            "the cause is logged, not answered"
        );
    }
}
