//! The one SCIM error type and its wire form (RFC 7644 section 3.12).

use serde_json::{Map, Value, json};

/// The schema URN of a SCIM error response body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Everything that can go wrong in the protocol layer, each variant carrying a human-readable detail.
///
/// Every variant maps to an HTTP status ([`ScimError::status`]) and, for the 400 family, to the RFC 7644
/// `scimType` keyword ([`ScimError::scim_type`]). [`ScimError::to_json`] renders the response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 `invalidFilter`: the filter syntax is invalid or the filter uses an operator the attribute cannot take.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// 400 `tooMany`: the filter would yield more results than the server is willing to compute.
    #[error("too many results: {0}")]
    TooMany(String),
    /// 409 `uniqueness`: a unique attribute value is already taken.
    #[error("uniqueness violation: {0}")]
    Uniqueness(String),
    /// 400 `mutability`: the request tries to change a readOnly or immutable attribute, or removes a required one.
    #[error("mutability violation: {0}")]
    Mutability(String),
    /// 400 `invalidSyntax`: the request body is not a valid SCIM message.
    #[error("invalid syntax: {0}")]
    InvalidSyntax(String),
    /// 400 `invalidPath`: an attribute path is malformed or names no supported attribute.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// 400 `noTarget`: the path did not yield an attribute or value that could be operated on.
    #[error("no target: {0}")]
    NoTarget(String),
    /// 400 `invalidValue`: a value is missing, of the wrong type or otherwise unacceptable.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// 400 `invalidVers`: the requested SCIM protocol version is not supported.
    #[error("invalid version: {0}")]
    InvalidVersion(String),
    /// 403 `sensitive`: the request carries confidential data in the URL (for example a filter on a password).
    #[error("sensitive data in request: {0}")]
    Sensitive(String),
    /// 404: the resource or endpoint does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 413: the request body or bulk request is larger than the server accepts.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
}

impl ScimError {
    /// The HTTP status code this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ScimError::Uniqueness(_) => 409,
            ScimError::Sensitive(_) => 403,
            ScimError::NotFound(_) => 404,
            ScimError::PayloadTooLarge(_) => 413,
            ScimError::InvalidFilter(_)
            | ScimError::TooMany(_)
            | ScimError::Mutability(_)
            | ScimError::InvalidSyntax(_)
            | ScimError::InvalidPath(_)
            | ScimError::NoTarget(_)
            | ScimError::InvalidValue(_)
            | ScimError::InvalidVersion(_) => 400,
        }
    }

    /// The RFC 7644 `scimType` keyword, or `None` for errors that have none (404, 413).
    pub fn scim_type(&self) -> Option<&'static str> {
        match self {
            ScimError::InvalidFilter(_) => Some("invalidFilter"),
            ScimError::TooMany(_) => Some("tooMany"),
            ScimError::Uniqueness(_) => Some("uniqueness"),
            ScimError::Mutability(_) => Some("mutability"),
            ScimError::InvalidSyntax(_) => Some("invalidSyntax"),
            ScimError::InvalidPath(_) => Some("invalidPath"),
            ScimError::NoTarget(_) => Some("noTarget"),
            ScimError::InvalidValue(_) => Some("invalidValue"),
            ScimError::InvalidVersion(_) => Some("invalidVers"),
            ScimError::Sensitive(_) => Some("sensitive"),
            ScimError::NotFound(_) | ScimError::PayloadTooLarge(_) => None,
        }
    }

    /// The human-readable detail, without the kind prefix that `Display` adds.
    pub fn detail(&self) -> &str {
        match self {
            ScimError::InvalidFilter(detail)
            | ScimError::TooMany(detail)
            | ScimError::Uniqueness(detail)
            | ScimError::Mutability(detail)
            | ScimError::InvalidSyntax(detail)
            | ScimError::InvalidPath(detail)
            | ScimError::NoTarget(detail)
            | ScimError::InvalidValue(detail)
            | ScimError::InvalidVersion(detail)
            | ScimError::Sensitive(detail)
            | ScimError::NotFound(detail)
            | ScimError::PayloadTooLarge(detail) => detail,
        }
    }

    /// The same error with its detail rewritten, e.g. to add context.
    pub fn map_detail(self, rewrite: impl FnOnce(String) -> String) -> ScimError {
        match self {
            ScimError::InvalidFilter(detail) => ScimError::InvalidFilter(rewrite(detail)),
            ScimError::TooMany(detail) => ScimError::TooMany(rewrite(detail)),
            ScimError::Uniqueness(detail) => ScimError::Uniqueness(rewrite(detail)),
            ScimError::Mutability(detail) => ScimError::Mutability(rewrite(detail)),
            ScimError::InvalidSyntax(detail) => ScimError::InvalidSyntax(rewrite(detail)),
            ScimError::InvalidPath(detail) => ScimError::InvalidPath(rewrite(detail)),
            ScimError::NoTarget(detail) => ScimError::NoTarget(rewrite(detail)),
            ScimError::InvalidValue(detail) => ScimError::InvalidValue(rewrite(detail)),
            ScimError::InvalidVersion(detail) => ScimError::InvalidVersion(rewrite(detail)),
            ScimError::Sensitive(detail) => ScimError::Sensitive(rewrite(detail)),
            ScimError::NotFound(detail) => ScimError::NotFound(rewrite(detail)),
            ScimError::PayloadTooLarge(detail) => ScimError::PayloadTooLarge(rewrite(detail)),
        }
    }

    /// The SCIM error response body: `schemas`, `status` (a string, as RFC 7644 requires), `scimType` when the
    /// error has one, and `detail`.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("schemas".to_owned(), json!([ERROR_SCHEMA]));
        body.insert("status".to_owned(), Value::String(self.status().to_string()));
        if let Some(scim_type) = self.scim_type() {
            body.insert("scimType".to_owned(), Value::String(scim_type.to_owned()));
        }
        body.insert("detail".to_owned(), Value::String(self.detail().to_owned()));
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_status_as_string_and_scim_type() {
        let error = ScimError::InvalidFilter("unexpected end".to_owned());
        assert_eq!(
            error.to_json(),
            json!({
                "schemas": [ERROR_SCHEMA],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "unexpected end",
            })
        );
    }

    #[test]
    fn not_found_has_no_scim_type() {
        let error = ScimError::NotFound("User 42 not found".to_owned());
        assert_eq!(error.status(), 404);
        assert_eq!(error.to_json(), json!({"schemas": [ERROR_SCHEMA], "status": "404", "detail": "User 42 not found"}));
    }

    #[test]
    fn statuses_match_rfc_7644() {
        assert_eq!(ScimError::Uniqueness(String::new()).status(), 409);
        assert_eq!(ScimError::Sensitive(String::new()).status(), 403);
        assert_eq!(ScimError::PayloadTooLarge(String::new()).status(), 413);
        assert_eq!(ScimError::InvalidVersion(String::new()).scim_type(), Some("invalidVers"));
        assert_eq!(ScimError::TooMany(String::new()).status(), 400);
    }
}
