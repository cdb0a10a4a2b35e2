//! The HTTP server `warden serve` and `warden demo --listen` run, for the tests too: [`build`] assembles the routes
//! around an [`App`], [`serve`] runs them on a listener until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::actions;
use crate::app::App;
use crate::scim::{self, RequestLogWriter, ScimState};

/// What [`serve`] runs: the routes, and the background writer it must drain when the server stops.
pub struct Server {
    pub router: Router,
    /// The SCIM request log's writer: [`RequestLogWriter::flush`] waits until the rows of the requests answered
    /// so far are committed.
    pub request_log: Arc<RequestLogWriter>,
}

/// The request header that names a request in every log line about it, honoured when a caller sends a sensible one
/// and generated otherwise; every response carries it.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route warden serves: `/healthz`, `/readyz`, `/metrics`, the SCIM server and the ZITADEL Actions target
/// (`/zitadel/actions/{environment}`), each request in a span named
/// by its request id. Call within a Tokio runtime (it starts the request-log writer).
pub fn build(app: &App) -> Server {
    let settings = app.settings().scim.clone();
    let clients = app.clone();
    let zitadel: scim::ZitadelClients = Arc::new(move |environment| clients.zitadel(environment).ok());
    let scim_state = ScimState::new(app.store().clone(), settings, zitadel);
    let request_log = scim_state.request_log.clone();
    let scim = scim::router(scim_state).layer(middleware::from_fn_with_state(app.clone(), count_scim_request));
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(app.clone())
        .merge(scim)
        .merge(actions::router(app))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn(drop_unusable_request_id));
    Server { router, request_log }
}

/// One span per request, named by its id (never by its query, which may carry a filter with personal data).
fn request_span(request: &Request) -> tracing::Span {
    let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
}

/// A caller's `x-request-id` is kept when it is short and plain (letters, digits, `-`, `_`, `.`, `:`); anything
/// else is replaced by a generated one, so no caller writes what it likes into the logs.
async fn drop_unusable_request_id(mut request: Request, next: Next) -> Response {
    let usable = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 128
            && bytes.iter().all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
    };
    let headers = request.headers_mut();
    if headers.get_all(&REQUEST_ID).iter().count() > 1 || headers.get(&REQUEST_ID).is_some_and(|id| !usable(id)) {
        headers.remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// Counts a SCIM request and its latency by method and status class.
async fn count_scim_request(State(app): State<App>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics().record_scim_request(&method, response.status().as_u16(), started.elapsed());
    response
}

/// The Prometheus exposition text; the open-alert gauge is read from the store first (the store is shared by every
/// replica, so each one reports the same figure).
async fn metrics(State(app): State<App>) -> Response {
    match app.store().list_alerts(None).await {
        Ok(alerts) => {
            let mut counts = Vec::new();
            for alert in &alerts {
                counts.push((alert.severity, 1));
            }
            app.metrics().set_open_alerts(&counts);
        }
        Err(error) => tracing::warn!(%error, "cannot count the open alerts for /metrics"),
    }
    let content_type = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], app.metrics().encode()).into_response()
}

/// Serves `server` on `listener` until `shutdown` completes; requests in flight are finished, then their
/// request-log rows are committed.
pub async fn serve(
    listener: TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Server { router, request_log } = server;
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    request_log.flush().await;
    served
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers, its schema is this build's, and the scheduler (where there is one) runs.
async fn readyz(State(app): State<App>) -> (StatusCode, &'static str) {
    if app.scheduler_stopped() {
        return (StatusCode::SERVICE_UNAVAILABLE, "scheduler stopped");
    }
    match app.store().migrations_behind().await {
        Ok(false) => (StatusCode::OK, "ready"),
        Ok(true) => {
            tracing::warn!("not ready: the database lacks migrations this build needs");
            (StatusCode::SERVICE_UNAVAILABLE, "database migrations behind")
        }
        Err(error) => {
            tracing::warn!(error = %error, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
