//! Responses in SCIM's media type.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The media type of every SCIM response.
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// A SCIM JSON response with optional `ETag` and `Location` headers.
pub(crate) fn scim_response(status: StatusCode, body: &Value, etag: Option<&str>, location: Option<&str>) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_CONTENT_TYPE));
    for (name, value) in [(header::ETAG, etag), (header::LOCATION, location)] {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(value).ok()) {
            headers.insert(name, value);
        }
    }
    response
}

/// 304 Not Modified, with the current ETag.
pub(crate) fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
