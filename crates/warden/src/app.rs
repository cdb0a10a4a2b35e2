//! One bootstrap path for `warden serve` and the tests: [`build`] assembles the router around the store, [`serve`]
//! runs it on a listener until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::scim::{self, ScimSettings, ScimState};
use crate::store::Store;

/// Every route warden serves: `/healthz`, `/readyz` and the SCIM server.
pub fn build(config: &Config, store: Arc<dyn Store>) -> Router {
    let scim_state = ScimState::new(store.clone(), ScimSettings::from_config(&config.scim));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz).with_state(store))
        .merge(scim::router(scim_state))
}

/// Serves `router` on `listener` until `shutdown` completes; requests in flight are finished.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
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
