//! Request bodies: SCIM's JSON media types, a size limit, and no NUL anywhere.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::Value;
use warden_scim::ScimError;

use crate::scim::error::Error;
use crate::scim::state::ScimState;

/// A JSON request body: `application/scim+json` or `application/json` (415 otherwise: RFC 7644 section 3.8 names
/// no other, and every client warden serves sends one of them), read up to the configured size (413 beyond it),
/// parsed (400 `invalidSyntax`), and with no NUL (U+0000) in any string or key (400 `invalidValue`: no database
/// column holds it, and no attribute needs it).
pub struct ScimBody(pub Value);

impl FromRequest<ScimState> for ScimBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &ScimState) -> Result<ScimBody, Error> {
        let media_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
        if !media_type.is_some_and(is_json_media_type) {
            return Err(Error::UnsupportedMediaType);
        }
        let limit = state.settings.max_body_bytes;
        let too_large =
            || Error::Protocol(ScimError::PayloadTooLarge(format!("the body is larger than {limit} bytes")));
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<usize>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| too_large())?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|error| ScimError::InvalidSyntax(format!("the body is not valid JSON: {error}")))?;
        if holds_nul(&value) {
            return Err(ScimError::InvalidValue("the body contains the NUL character (U+0000)".to_owned()).into());
        }
        Ok(ScimBody(value))
    }
}

/// `application/scim+json` or `application/json`, in any case, with any parameters (`; charset=utf-8`).
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    ["application/scim+json", "application/json"].iter().any(|accepted| essence.eq_ignore_ascii_case(accepted))
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(members) => members.iter().any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}
