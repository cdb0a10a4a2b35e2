//! One bootstrap path for `warden serve` and the tests: [`build`] assembles the [`App`] around the store, [`serve`]
//! runs it on a listener until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::scim::{self, RequestLogWriter, ScimSettings, ScimState};
use crate::store::Store;

/// What [`serve`] runs: the routes, and the background writer it must drain when the server stops.
pub struct App {
    pub router: Router,
    /// The SCIM request log's writer: [`RequestLogWriter::flush`] waits until the rows of the requests answered
    /// so far are committed.
    pub request_log: Arc<RequestLogWriter>,
    /// How long [`serve`] keeps request-log rows (`[scim] request_log_retention`).
    pub request_log_retention: Duration,
}

/// Every route warden serves: `/healthz`, `/readyz` and the SCIM server. Call within a Tokio runtime (it starts
/// the request-log writer).
pub fn build(config: &Config, store: Arc<dyn Store>) -> App {
    let settings = ScimSettings::from_config(config);
    let request_log_retention = settings.request_log_retention;
    let scim_state = ScimState::new(store.clone(), settings);
    let request_log = scim_state.request_log.clone();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz).with_state(store))
        .merge(scim::router(scim_state));
    App { router, request_log, request_log_retention }
}

/// Serves `app` on `listener` until `shutdown` completes, pruning the request log meanwhile; requests in flight are
/// finished, then their request-log rows are committed.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let App { router, request_log, request_log_retention } = app;
    let serving = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .into_future();
    let served = tokio::select! {
        served = serving => served,
        never = request_log.prune_forever(request_log_retention, scim::PRUNE_INTERVAL) => match never {},
    };
    request_log.flush().await;
    served
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
async fn readyz(State(store): State<Arc<dyn Store>>) -> (StatusCode, &'static str) {
    match store.list_environments().await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(error = %error, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
