//! The one error type of the client. Messages say what was being done and what ZITADEL answered; they never contain
//! a token, a key or a client secret (requests' headers and bodies are never echoed).

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid ZITADEL base URL {0:?}: expected http(s)://host[:port]")]
    InvalidBaseUrl(String),
    #[error("{operation}: cannot reach ZITADEL: {message}")]
    Connection { operation: String, message: String },
    #[error("{operation}: ZITADEL did not answer within {}", humanize(*.after))]
    Timeout { operation: String, after: Duration },
    #[error("{operation}: authentication failed ({message})")]
    Unauthenticated { operation: String, message: String },
    #[error("{operation}: the credential lacks {permission}{scope} ({message})")]
    PermissionDenied { operation: String, permission: String, scope: String, message: String },
    #[error("{operation}: not found ({message})")]
    NotFound { operation: String, message: String },
    #[error("{operation}: ZITADEL answered HTTP {status}: {message}")]
    Api { operation: String, status: u16, code: Option<i32>, error_id: Option<String>, message: String },
    #[error("{operation}: still rate limited by ZITADEL after {attempts} attempts")]
    RateLimited { operation: String, attempts: u32 },
    #[error("{operation}: unexpected response: {message}")]
    InvalidResponse { operation: String, message: String },
    #[error("{operation}: page at offset {offset} held {received} items where {expected} were due (total {total})")]
    ShortPage { operation: String, offset: u64, received: usize, expected: u64, total: u64 },
    #[error("{operation}: the total changed from {before} to {after} while paging; the list is not consistent")]
    TotalChanged { operation: String, before: u64, after: u64 },
    #[error("{operation}: ZITADEL reported {total} items but {distinct} distinct ones arrived")]
    Incomplete { operation: String, total: u64, distinct: usize },
    #[error("{operation}: this ZITADEL does not serve the v2 API this needs (api = \"v2\" is configured)")]
    V2Unavailable { operation: String },
    #[error("token request failed: {message}")]
    Token { message: String },
    #[error("cannot sign the JWT-profile assertion: {message}")]
    Signing { message: String },
}

fn humanize(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

impl Error {
    /// The route is not served by this ZITADEL (older version, or the service is disabled).
    pub fn is_unimplemented(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => *status == 501 || *code == Some(12),
            Error::NotFound { .. } => true,
            _ => false,
        }
    }

    /// ZITADEL did not accept the bearer token (unknown, expired, revoked, or for another audience).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, Error::Unauthenticated { .. })
    }

    pub fn is_permission_denied(&self) -> bool {
        matches!(self, Error::PermissionDenied { .. })
    }

    /// What the call would create exists already (HTTP 409, gRPC AlreadyExists).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::Api { status: 409, .. } | Error::Api { code: Some(6), .. })
    }

    /// What the call names does not exist (HTTP 404, gRPC NotFound).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. } | Error::Api { code: Some(5), .. })
    }

    /// ZITADEL refused a change that is already so: a user already inactive, a profile not changed (gRPC
    /// FailedPrecondition).
    pub fn is_failed_precondition(&self) -> bool {
        matches!(self, Error::Api { code: Some(9), .. })
    }
}

/// ZITADEL's REST error body: `{"code":5,"message":"... (QUERY-Dfbg2)","details":[{"id":"QUERY-Dfbg2",...}]}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) code: Option<i32>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) details: Vec<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default)]
    pub(crate) id: Option<String>,
}

/// What an error response said, read tolerantly: any body, JSON or not, yields a message.
pub(crate) struct ApiFailure {
    pub(crate) status: u16,
    pub(crate) code: Option<i32>,
    pub(crate) error_id: Option<String>,
    pub(crate) message: String,
}

impl ApiFailure {
    pub(crate) fn parse(status: u16, body: &[u8]) -> ApiFailure {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let error_id = parsed.details.into_iter().find_map(|detail| detail.id);
        let message = match parsed.message {
            Some(message) if !message.is_empty() => message,
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() { format!("HTTP {status}") } else { text.chars().take(200).collect() }
            }
        };
        ApiFailure { status, code: parsed.code, error_id, message }
    }

    /// Turns the failure into the error that says what went wrong for this operation.
    pub(crate) fn into_error(self, operation: &str, permission: Option<&str>, org: Option<&str>) -> Error {
        let operation = operation.to_owned();
        match (self.status, self.code) {
            (401, _) | (_, Some(16)) => Error::Unauthenticated { operation, message: self.message },
            (403, _) | (_, Some(7)) => Error::PermissionDenied {
                operation,
                permission: permission.unwrap_or("the required permission").to_owned(),
                scope: org.map(|org| format!(" on org {org}")).unwrap_or_default(),
                message: self.message,
            },
            (404, _) => Error::NotFound { operation, message: self.message },
            _ => Error::Api {
                operation,
                status: self.status,
                code: self.code,
                error_id: self.error_id,
                message: self.message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zitadel_error_bodies_become_errors_that_name_the_permission() {
        let body = br#"{"code":7,"message":"No matching permissions found (AUTH-5mWD2)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-5mWD2","message":"No matching permissions found"}]}"#;
        let error = ApiFailure::parse(403, body).into_error("list org members", Some("org.member.read"), Some("42"));
        assert_eq!(
            error.to_string(),
            "list org members: the credential lacks org.member.read on org 42 (No matching permissions found (AUTH-5mWD2))"
        );

        let failure = ApiFailure::parse(500, b"<html>oops</html>");
        assert_eq!(failure.message, "<html>oops</html>");
        let error = failure.into_error("list users", None, None);
        assert!(matches!(error, Error::Api { status: 500, .. }));
        assert!(ApiFailure::parse(501, b"").into_error("x", None, None).is_unimplemented());
    }
}
