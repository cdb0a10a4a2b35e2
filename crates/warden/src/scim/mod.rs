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
//!
//! CPU-heavy protocol work (normalizing a body, applying a PATCH, filtering and sorting in memory) runs on the
//! [`ComputePool`], off the async runtime's threads, so that no request starves the others or the timer of its own
//! timeout. Every URL handed out starts with `[server] public_url` (else the listen address), never with a header
//! the client sends.

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
use tokio::sync::Semaphore;
use warden_scim::list::ListLimits;
use warden_scim::{SchemaRegistry, ScimError};

use crate::config::Config;
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
    /// Where clients reach the server, without a trailing slash: `[server] public_url`, else `http://{listen}`.
    pub public_base_url: String,
}

impl ScimSettings {
    /// From a validated configuration.
    pub fn from_config(config: &Config) -> ScimSettings {
        let scim = &config.scim;
        ScimSettings {
            list_limits: ListLimits { max_count: scim.max_results, default_count: scim.default_page_size },
            max_body_bytes: scim.max_body_bytes,
            bulk_max_operations: scim.bulk_max_operations,
            request_timeout: scim.request_timeout.get(),
            requests_per_second: scim.requests_per_second,
            failed_auth_per_minute: scim.failed_auth_per_minute,
            public_base_url: config.server.public_base_url(),
        }
    }
}

/// Runs CPU-heavy work off the async runtime's threads, a few at a time: one fewer than the cores (at least one),
/// so that a core stays free for the runtime, which serves every other request and fires every timeout. Work
/// waits its turn in arrival order; the wait counts against the request's timeout.
pub struct ComputePool {
    permits: Arc<Semaphore>,
}

impl ComputePool {
    pub fn new(workers: usize) -> ComputePool {
        ComputePool { permits: Arc::new(Semaphore::new(workers.max(1))) }
    }

    /// One fewer than the cores this process may use, and at least one.
    pub fn for_this_machine() -> ComputePool {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        ComputePool::new(cores.saturating_sub(1))
    }

    /// Runs `work` on a blocking thread once a worker is free. If the request is dropped meanwhile (its timeout),
    /// the work still finishes, but nobody receives the result; writes are never part of it.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| Error::Timeout)?;
        let handle = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        handle.await.map_err(Error::Worker)
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
    pub compute: Arc<ComputePool>,
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
            compute: Arc::new(ComputePool::for_this_machine()),
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
