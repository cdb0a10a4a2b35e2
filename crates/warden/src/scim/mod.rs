//! The SCIM 2.0 HTTP server: `/scim/v2/{orgId}/...`, a thin front end over `warden_scim` (the protocol) and
//! [`crate::store::ScimStore`] (the storage).
//!
//! - `auth`: the middleware every tenant request passes (token, tenant, limits, timeout, request log).
//! - `resources`: Users and Groups (create, read, replace, patch, delete), ETags and conditional requests.
//! - `query`: lists and searches: the filter's indexed part goes to the store, the rest is evaluated in memory.
//! - `bulk`: `/Bulk`, with `bulkId` references, `failOnErrors` and enforced limits.
//! - `discovery`: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
//! - `request_log`: the log rows of requests that wrote nothing, written in shared batches.
//! - `token`: bearer tokens (only their SHA-256 is stored) and random ids.
//! - `error`: [`Error`], rendered as the SCIM error body; 5xx bodies are opaque.

mod auth;
mod bulk;
mod discovery;
mod error;
mod query;
mod request_log;
mod resources;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;
use time::OffsetDateTime;
use warden_scim::list::ListLimits;
use warden_scim::{SchemaRegistry, ScimError};

use crate::config::ScimConfig;
use crate::store::Store;

pub use auth::{Caller, ConnectionLimiter, FailedAuthLimiter};
pub use error::Error;
pub use request_log::RequestLogWriter;

/// The media type of every SCIM response.
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// The limits the server enforces and advertises.
#[derive(Debug, Clone)]
pub struct ScimSettings {
    pub list_limits: ListLimits,
    pub max_body_bytes: usize,
    pub bulk_max_operations: u64,
    pub request_timeout: Duration,
    pub requests_per_second: u32,
    pub failed_auth_per_minute: u32,
}

impl ScimSettings {
    /// From a validated configuration.
    pub fn from_config(config: &ScimConfig) -> ScimSettings {
        ScimSettings {
            list_limits: ListLimits { max_count: config.max_results, default_count: config.default_page_size },
            max_body_bytes: config.max_body_bytes,
            bulk_max_operations: config.bulk_max_operations,
            request_timeout: config.request_timeout.get(),
            requests_per_second: config.requests_per_second,
            failed_auth_per_minute: config.failed_auth_per_minute,
        }
    }
}

/// What every SCIM handler shares.
#[derive(Clone)]
pub struct ScimState {
    pub store: Arc<dyn Store>,
    pub registry: Arc<SchemaRegistry>,
    pub settings: Arc<ScimSettings>,
    pub connection_limiter: Arc<ConnectionLimiter>,
    pub failed_auth_limiter: Arc<FailedAuthLimiter>,
    pub request_log: Arc<RequestLogWriter>,
}

impl ScimState {
    /// Starts the request-log writer task: call within a Tokio runtime.
    pub fn new(store: Arc<dyn Store>, settings: ScimSettings) -> ScimState {
        ScimState {
            request_log: Arc::new(RequestLogWriter::start(store.clone())),
            store,
            registry: Arc::new(SchemaRegistry::standard()),
            connection_limiter: Arc::new(ConnectionLimiter::new(settings.requests_per_second)),
            failed_auth_limiter: Arc::new(FailedAuthLimiter::new(settings.failed_auth_per_minute)),
            settings: Arc::new(settings),
        }
    }
}

/// The SCIM routes, each behind [`auth::guard`]. Unknown paths under `/scim/` answer 404 with a SCIM body.
pub fn router(state: ScimState) -> Router {
    let tenant = Router::new()
        .route("/scim/v2/{org}/Users", get(resources::list_users).post(resources::create_user))
        .route("/scim/v2/{org}/Users/.search", post(resources::search_users))
        .route(
            "/scim/v2/{org}/Users/{id}",
            get(resources::get_user)
                .put(resources::replace_user)
                .patch(resources::patch_user)
                .delete(resources::delete_user),
        )
        .route("/scim/v2/{org}/Groups", get(resources::list_groups).post(resources::create_group))
        .route("/scim/v2/{org}/Groups/.search", post(resources::search_groups))
        .route(
            "/scim/v2/{org}/Groups/{id}",
            get(resources::get_group)
                .put(resources::replace_group)
                .patch(resources::patch_group)
                .delete(resources::delete_group),
        )
        .route("/scim/v2/{org}/.search", post(resources::search_all))
        .route("/scim/v2/{org}/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/scim/v2/{org}/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/{org}/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/scim/v2/{org}/Schemas", get(discovery::schemas))
        .route("/scim/v2/{org}/Schemas/{id}", get(discovery::schema))
        .route("/scim/v2/{org}/Me", any(not_implemented_me))
        .route("/scim/v2/{org}/Bulk", post(bulk::bulk))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state);
    tenant.route("/scim/{*rest}", any(unknown_endpoint))
}

async fn not_implemented_me() -> Error {
    Error::NotImplemented("/Me")
}

async fn unknown_endpoint() -> Error {
    Error::Protocol(ScimError::NotFound("no such SCIM endpoint".to_owned()))
}

/// The clock, read at the HTTP edge: `meta.created`, `meta.lastModified`, grace periods. Microseconds, as stored.
#[allow(clippy::disallowed_methods, reason = "the SCIM server dates the writes it accepts")]
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}

/// A JSON request body, read up to the configured size (413 beyond it) and parsed (400 `invalidSyntax`).
pub struct ScimBody(pub Value);

impl FromRequest<ScimState> for ScimBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &ScimState) -> Result<ScimBody, Error> {
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
        let value = serde_json::from_slice(&bytes)
            .map_err(|error| ScimError::InvalidSyntax(format!("the body is not valid JSON: {error}")))?;
        Ok(ScimBody(value))
    }
}

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
