//! The SCIM transport's one error type, rendered as the SCIM error body (RFC 7644 section 3.12).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use warden_scim::ScimError;
use warden_scim::error::ERROR_SCHEMA;

use crate::app::compute::ComputeError;
use crate::app::scim_records::RecordError;
use crate::scim::wire::SCIM_CONTENT_TYPE;
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A protocol error from `warden_scim` (400, 404, 409, 413 with their `scimType`).
    #[error(transparent)]
    Protocol(#[from] ScimError),
    /// No token, an unknown or disabled one, or one of another tenant: all look the same to the caller.
    #[error("a valid bearer token for this tenant is required")]
    Unauthorized,
    /// ZITADEL vouched for the token, but its user may not manage this org's users.
    #[error("{0}")]
    Forbidden(String),
    /// The token could not be checked with ZITADEL now (unreachable, failing): nothing was done.
    #[error("the bearer token cannot be checked with ZITADEL right now; retry later")]
    TokenCheckUnavailable,
    #[error("too many requests; retry after {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("the resource has changed: If-Match does not name its current version")]
    PreconditionFailed,
    #[error("{0} is not implemented by this server")]
    NotImplemented(&'static str),
    /// 409 without a scimType, e.g. a bulkId that never resolves.
    #[error("{0}")]
    Conflict(String),
    /// The request's deadline passed before it wrote anything: nothing was applied.
    #[error("the request took longer than the server allows; nothing was changed")]
    Timeout,
    #[error("the body must be application/scim+json (or application/json)")]
    UnsupportedMediaType,
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The worker computing the answer failed (a panic): opaque, like a store error.
    #[error("a compute worker failed: {0}")]
    Worker(tokio::task::JoinError),
}

impl From<ComputeError> for Error {
    fn from(error: ComputeError) -> Error {
        match error {
            // The pool closes only when the server stops.
            ComputeError::Closed => Error::Timeout,
            ComputeError::Worker(error) => Error::Worker(error),
        }
    }
}

impl From<RecordError> for Error {
    fn from(error: RecordError) -> Error {
        match error {
            RecordError::Protocol(error) => Error::Protocol(error),
            RecordError::Store(error) => Error::Store(error),
            RecordError::PreconditionFailed => Error::PreconditionFailed,
            RecordError::DeadlinePassed => Error::Timeout,
            RecordError::Compute(error) => error.into(),
        }
    }
}

impl Error {
    pub(crate) fn status_and_body(&self) -> (StatusCode, Value) {
        let plain = |status: StatusCode, detail: String| {
            (status, json!({"schemas": [ERROR_SCHEMA], "status": status.as_u16().to_string(), "detail": detail}))
        };
        match self {
            Error::Protocol(error) => protocol(error),
            Error::Unauthorized => plain(StatusCode::UNAUTHORIZED, self.to_string()),
            Error::Forbidden(detail) => plain(StatusCode::FORBIDDEN, detail.clone()),
            Error::TokenCheckUnavailable => plain(StatusCode::SERVICE_UNAVAILABLE, self.to_string()),
            Error::TooManyRequests { .. } => plain(StatusCode::TOO_MANY_REQUESTS, self.to_string()),
            Error::PreconditionFailed => plain(StatusCode::PRECONDITION_FAILED, self.to_string()),
            Error::NotImplemented(_) => plain(StatusCode::NOT_IMPLEMENTED, self.to_string()),
            Error::Timeout => plain(StatusCode::SERVICE_UNAVAILABLE, self.to_string()),
            Error::UnsupportedMediaType => plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, self.to_string()),
            Error::Worker(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error".to_owned()),
            Error::Conflict(detail) => plain(StatusCode::CONFLICT, detail.clone()),
            Error::Store(store::Error::ScimUniqueness) => {
                protocol(&ScimError::Uniqueness("userName is already taken in this tenant".to_owned()))
            }
            Error::Store(store::Error::ScimVersionMismatch) => {
                plain(StatusCode::PRECONDITION_FAILED, store::Error::ScimVersionMismatch.to_string())
            }
            Error::Store(error @ store::Error::ScimNotFound { .. }) => {
                protocol(&ScimError::NotFound(error.to_string()))
            }
            // Opaque: the cause is logged where the response is made, never sent.
            Error::Store(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error".to_owned()),
        }
    }
}

fn protocol(error: &ScimError) -> (StatusCode, Value) {
    (StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST), error.to_json())
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        let expected = matches!(self, Error::Timeout | Error::NotImplemented(_) | Error::TokenCheckUnavailable);
        if status.is_server_error() && !expected {
            tracing::error!(error = %self, "SCIM request failed");
        }
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_CONTENT_TYPE));
        match self {
            Error::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::TooManyRequests { retry_after_seconds } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            }
            _ => {}
        }
        response
    }
}
