//! The simulator's one error type and its JSON body,
//! `{"error": {"code", "message", "field"?}}` as in the contract.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde_json::json;

/// Every way a request can fail, each with a stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A body that is not JSON or does not have the expected fields (400 `invalid_json`).
    #[error("{message}")]
    InvalidJson {
        /// The path of the field at fault, when one is.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A query parameter or value that cannot be used (400 `invalid_parameter`).
    #[error("{message}")]
    InvalidParameter {
        /// The parameter or field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// `POST /api/session` with a wrong email or password (401 `invalid_credentials`).
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// No bearer token, or one the simulator did not issue (401 `unauthorized`).
    #[error("a valid `Authorization: Bearer <token>` header is required")]
    Unauthorized,
    /// An unknown group account, application or route (404 `not_found`).
    #[error("{0}")]
    NotFound(String),
    /// An application id that is already taken (409 `conflict`).
    #[error("{0}")]
    Conflict(String),
    /// An answer injected through `POST /_sim/faults` (`simulated_fault`, any status).
    #[error("fault injected through /_sim/faults")]
    SimulatedFault(StatusCode),
}

impl SimError {
    /// The snake_case code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::SimulatedFault(_) => "simulated_fault",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidJson { field, .. } => field.as_deref(),
            Self::InvalidParameter { field, .. } => Some(field),
            _ => None,
        }
    }

    /// A 400 naming the parameter at fault.
    pub fn parameter(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidParameter {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl ResponseError for SimError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidJson { .. } | Self::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            Self::InvalidCredentials | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::SimulatedFault(status) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
        if let Some(field) = self.field() {
            error["field"] = json!(field);
        }
        HttpResponse::build(self.status_code()).json(json!({ "error": error }))
    }
}

/// Parses a request body into `T`, naming the field at fault when it does not fit.
///
/// Handlers take the raw bytes and call this instead of using `web::Json`, so every
/// bad body is a 400 in the contract's error shape whatever its `Content-Type`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, SimError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        SimError::InvalidJson {
            field: (path != "." && path != "?").then_some(path),
            message: e.inner().to_string(),
        }
    })?;
    de.end().map_err(|e| SimError::InvalidJson {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn a_bad_field_is_named() {
        let err = parse_json::<Body>(br#"{"inner":{"count":"x"}}"#).unwrap_err();
        assert_eq!(err.field(), Some("inner.count"));
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn malformed_json_names_no_field() {
        let err = parse_json::<Body>(b"{").unwrap_err();
        assert_eq!(err.code(), "invalid_json");
        assert_eq!(err.field(), None);
        assert!(parse_json::<Body>(br#"{"inner":{"count":1}} x"#).is_err());
    }
}
