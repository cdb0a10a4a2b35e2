//! ZITADEL-style API errors (`{"code","message","details":[ErrorDetail]}`) with the gRPC -> HTTP status mapping.

use axum::http::StatusCode;
use serde_json::json;

use crate::estate::{EstateError, EstateErrorKind};

/// gRPC status codes used by the simulator.
pub(crate) mod grpc {
    pub(crate) const CANCELLED: u16 = 1;
    pub(crate) const UNKNOWN: u16 = 2;
    pub(crate) const INVALID_ARGUMENT: u16 = 3;
    pub(crate) const DEADLINE_EXCEEDED: u16 = 4;
    pub(crate) const NOT_FOUND: u16 = 5;
    pub(crate) const ALREADY_EXISTS: u16 = 6;
    pub(crate) const PERMISSION_DENIED: u16 = 7;
    pub(crate) const RESOURCE_EXHAUSTED: u16 = 8;
    pub(crate) const FAILED_PRECONDITION: u16 = 9;
    pub(crate) const ABORTED: u16 = 10;
    pub(crate) const UNIMPLEMENTED: u16 = 12;
    pub(crate) const INTERNAL: u16 = 13;
    pub(crate) const UNAVAILABLE: u16 = 14;
    pub(crate) const UNAUTHENTICATED: u16 = 16;
}

/// An error answer of a ZITADEL API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// gRPC code.
    pub(crate) code: u16,
    /// ZITADEL error id (`QUERY-Dfbg2`); empty for gateway-level errors (no details then).
    pub(crate) id: String,
    /// Localized message without the id suffix.
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(code: u16, id: &str, message: impl Into<String>) -> Self {
        Self { code, id: id.to_string(), message: message.into() }
    }

    pub(crate) fn invalid_argument(id: &str, message: impl Into<String>) -> Self {
        Self::new(grpc::INVALID_ARGUMENT, id, message)
    }

    pub(crate) fn not_found(id: &str, message: impl Into<String>) -> Self {
        Self::new(grpc::NOT_FOUND, id, message)
    }

    pub(crate) fn unauthenticated(id: &str, message: impl Into<String>) -> Self {
        Self::new(grpc::UNAUTHENTICATED, id, message)
    }

    pub(crate) fn permission_denied() -> Self {
        Self::new(grpc::PERMISSION_DENIED, "AUTH-5mWD2", "No matching permissions found")
    }

    pub(crate) fn user_not_found() -> Self {
        Self::not_found("QUERY-Dfbg2", "User could not be found")
    }

    /// Error body for a simulated fault with HTTP status `status`.
    pub(crate) fn for_http_status(status: u16) -> Self {
        let code = match status {
            401 => grpc::UNAUTHENTICATED,
            403 => grpc::PERMISSION_DENIED,
            404 => grpc::NOT_FOUND,
            409 => grpc::ABORTED,
            412 => grpc::FAILED_PRECONDITION,
            429 => grpc::RESOURCE_EXHAUSTED,
            499 => grpc::CANCELLED,
            501 => grpc::UNIMPLEMENTED,
            503 => grpc::UNAVAILABLE,
            504 => grpc::DEADLINE_EXCEEDED,
            500 => grpc::INTERNAL,
            400..=499 => grpc::INVALID_ARGUMENT,
            _ => grpc::UNKNOWN,
        };
        Self::new(code, "SIM-FAULT", format!("Simulated fault (HTTP {status})"))
    }

    /// HTTP status for the gRPC code (grpc-gateway mapping).
    pub(crate) fn http_status(&self) -> StatusCode {
        match self.code {
            grpc::CANCELLED => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            grpc::INVALID_ARGUMENT | grpc::FAILED_PRECONDITION | 11 => StatusCode::BAD_REQUEST,
            grpc::DEADLINE_EXCEEDED => StatusCode::GATEWAY_TIMEOUT,
            grpc::NOT_FOUND => StatusCode::NOT_FOUND,
            grpc::ALREADY_EXISTS | grpc::ABORTED => StatusCode::CONFLICT,
            grpc::PERMISSION_DENIED => StatusCode::FORBIDDEN,
            grpc::RESOURCE_EXHAUSTED => StatusCode::TOO_MANY_REQUESTS,
            grpc::UNIMPLEMENTED => StatusCode::NOT_IMPLEMENTED,
            grpc::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
            grpc::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> String {
        let value = if self.id.is_empty() {
            json!({"code": self.code, "message": self.message, "details": []})
        } else {
            json!({
                "code": self.code,
                "message": format!("{} ({})", self.message, self.id),
                "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": self.id, "message": self.message}],
            })
        };
        value.to_string()
    }
}

impl From<EstateError> for ApiError {
    fn from(error: EstateError) -> Self {
        let code = match error.kind {
            EstateErrorKind::NotFound => grpc::NOT_FOUND,
            EstateErrorKind::AlreadyExists => grpc::ALREADY_EXISTS,
            EstateErrorKind::InvalidArgument => grpc::INVALID_ARGUMENT,
            EstateErrorKind::FailedPrecondition => grpc::FAILED_PRECONDITION,
        };
        Self::new(code, error.id, error.message)
    }
}
