//! The target ZITADEL's Actions v2 calls: `POST /zitadel/actions/{environment}`, on `warden serve`'s listener. An
//! *event* execution posts each chosen event here, signed with the target's key (`signature`); a verified event
//! makes the environment sync now (`app::push`). What is refused, and how:
//! - an environment not configured, or without `actions_signing_key`: 404;
//! - a body over [`MAX_BODY_BYTES`]: 413; not read within [`BODY_TIMEOUT`]: 408;
//! - unsigned, wrongly signed, stale or replayed (`replay`): 401 with the reason, logged at warn (never the key or
//!   the signature);
//! - correctly signed but not an event execution's body (`event`): 400;
//! - more than [`MAX_IN_FLIGHT`] calls of one environment at once, or its refusals over budget this minute: 429.
//!
//! Each environment has its own bounds, so one environment's flood delays no other's pushes.

pub mod event;
pub mod replay;
pub mod signature;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::actions::replay::{Gate, Remembered};
use crate::actions::signature::Refusal;
use crate::app::App;
use crate::app::push::{self, PushRefused};

/// The largest body taken (ZITADEL's event bodies are a few KiB; a user's metadata at most 500 KiB in base64, which
/// warden does not need: it reads it in the sync).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long a body may take to arrive.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls of one environment handled at once; more are answered 429 at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// The route: `POST /zitadel/actions/{environment}`.
pub fn router(app: &App) -> Router {
    let environments = app
        .settings()
        .environments
        .iter()
        .filter(|environment| environment.actions_signing_key.is_some())
        .map(|environment| {
            let endpoint = Endpoint { gate: Gate::default(), in_flight: Semaphore::new(MAX_IN_FLIGHT) };
            (environment.name().as_str().to_owned(), Arc::new(endpoint))
        })
        .collect();
    let state = Arc::new(ActionsState { app: app.clone(), environments });
    Router::new().route("/zitadel/actions/{environment}", post(receive)).with_state(state)
}

struct ActionsState {
    app: App,
    /// Per environment with a signing key.
    environments: HashMap<String, Arc<Endpoint>>,
}

struct Endpoint {
    gate: Gate,
    in_flight: Semaphore,
}

async fn receive(
    State(state): State<Arc<ActionsState>>,
    Path(environment): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(endpoint) = state.environments.get(&environment) else { return not_found() };
    let started = Instant::now();
    if let Some(wait) = endpoint.gate.blocked_for(started) {
        return too_many(wait);
    }
    let Ok(_permit) = endpoint.in_flight.try_acquire() else { return too_many(Duration::from_secs(1)) };
    let (name, key) = match push::signing_key(&state.app, &environment) {
        Ok(found) => found,
        Err(PushRefused::UnreadableKey(error)) => {
            tracing::error!(%environment, %error, "cannot read the ZITADEL Actions signing key");
            return not_found();
        }
        Err(PushRefused::UnknownEnvironment | PushRefused::NoSigningKey) => return not_found(),
    };
    let too_large = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES as u64);
    if too_large {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    }
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
        Err(_) => return error(StatusCode::REQUEST_TIMEOUT, "body too slow"),
    };
    let now = state.app.now().unix_timestamp();
    let refused = |refusal: Refusal| {
        if endpoint.gate.record_refusal(Instant::now()) {
            tracing::warn!(%environment, "too many refused ZITADEL Actions calls: the rest of the minute's are not read");
        }
        tracing::warn!(%environment, reason = refusal.reason(), "refused a ZITADEL Actions call");
        error(StatusCode::UNAUTHORIZED, refusal.reason())
    };
    let verified = match signature::verify(&headers, &bytes, key.expose_secret().as_bytes(), now) {
        Ok(verified) => verified,
        Err(refusal) => return refused(refusal),
    };
    match endpoint.gate.remember(&verified, now) {
        Remembered::New => {}
        Remembered::Replayed => return refused(Refusal::Replayed),
        Remembered::Full => return too_many(Duration::from_secs(60)),
    }
    let Some(event) = event::parse(&bytes) else {
        tracing::warn!(%environment, "a signed ZITADEL Actions call without an event execution's body");
        return error(StatusCode::BAD_REQUEST, "not an event execution's body");
    };
    if event::changes_synced_state(&event) {
        push::request_sync(&state.app, &name, event);
    } else {
        tracing::debug!(%environment, event_type = %event.event_type, "a pushed event that changes nothing synced");
    }
    (StatusCode::OK, axum::Json(json!({}))).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such target")
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "too many calls");
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
