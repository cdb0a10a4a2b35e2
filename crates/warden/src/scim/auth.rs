//! Every tenant request passes through [`guard`]: failed-attempt limit per source address, bearer token to
//! connection, tenant check, per-connection rate limit, request timeout, and the request log.
//!
//! The request log: a write commits its row in its own transaction ([`Caller::log_entry`], then
//! [`Caller::mark_logged`]); every other request (reads, refused or failed writes) gets its row from [`guard`] after
//! the response is made.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::scim::error::Error;
use crate::scim::token::{hash_token, same_hash};
use crate::scim::{ScimState, now};
use crate::store::{ScimConnection, ScimConnectionId, ScimRequestLogEntry, ScimTenant};

/// Who is calling: the connection its token belongs to, and the tenant that connection reaches.
#[derive(Debug, Clone)]
pub struct Caller {
    pub connection: ScimConnectionId,
    pub tenant: ScimTenant,
    /// `http://host/scim/v2/{orgId}`, for `meta.location` and `Location`.
    pub base_url: String,
    request: LoggedRequest,
}

/// The request (or bulk operation) a write is logged as.
#[derive(Debug, Clone)]
struct LoggedRequest {
    method: String,
    path: String,
    started: Instant,
    /// Set once a write committed this request's log row; [`guard`] then writes none.
    logged: Arc<AtomicBool>,
}

impl Caller {
    /// This request's log row, answered with `status`, its latency measured until now (just before the write's
    /// transaction commits it).
    pub(crate) fn log_entry(&self, status: StatusCode) -> ScimRequestLogEntry {
        ScimRequestLogEntry {
            connection_id: self.connection.clone(),
            at: now(),
            method: self.request.method.clone(),
            path: self.request.path.clone(),
            status: status.as_u16(),
            latency_ms: u64::try_from(self.request.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// A write committed [`Caller::log_entry`]: the request needs no other row.
    pub(crate) fn mark_logged(&self) {
        self.request.logged.store(true, Ordering::Release);
    }

    /// The caller of one operation of a `/Bulk` request: its writes are logged as `method` on the operation's
    /// path (`/scim/v2/{orgId}/Users/...`), each in its own transaction; the `/Bulk` request itself is logged by
    /// [`guard`].
    pub(crate) fn for_bulk_operation(&self, method: &str, path: &str) -> Caller {
        let separator = if path.starts_with('/') { "" } else { "/" };
        Caller {
            request: LoggedRequest {
                method: method.to_owned(),
                path: format!("/scim/v2/{}{separator}{path}", self.tenant.org_id),
                started: Instant::now(),
                logged: Arc::new(AtomicBool::new(false)),
            },
            ..self.clone()
        }
    }
}

/// Failed authentications per source address, in fixed one-minute windows.
pub struct FailedAuthLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before expired windows are dropped.
const MAX_REMEMBERED_ADDRESSES: usize = 10_000;

impl FailedAuthLimiter {
    pub fn new(per_minute: u32) -> FailedAuthLimiter {
        FailedAuthLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// How long an address must wait, when it has used up its failures in the current window.
    fn blocked_for(&self, address: IpAddr, at: Instant) -> Option<Duration> {
        let windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, failures) = windows.get(&address)?;
        let elapsed = at.saturating_duration_since(*start);
        (elapsed < WINDOW && *failures >= self.per_minute).then(|| WINDOW - elapsed)
    }

    fn record_failure(&self, address: IpAddr, at: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_REMEMBERED_ADDRESSES {
            windows.retain(|_, (start, _)| at.saturating_duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(address).or_insert((at, 0));
        if at.saturating_duration_since(entry.0) >= WINDOW {
            *entry = (at, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// Requests per second per connection.
pub struct ConnectionLimiter {
    limiter: DefaultKeyedRateLimiter<ScimConnectionId>,
    clock: DefaultClock,
}

impl ConnectionLimiter {
    pub fn new(per_second: u32) -> ConnectionLimiter {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        ConnectionLimiter { limiter: RateLimiter::keyed(Quota::per_second(rate)), clock: DefaultClock::default() }
    }

    /// `Err(wait)` when the connection is over its rate.
    fn check(&self, connection: &ScimConnectionId) -> Result<(), Duration> {
        self.limiter.check_key(connection).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The middleware around every `/scim/v2/{orgId}/...` route.
pub(crate) async fn guard(
    State(state): State<ScimState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // Only owned parts cross the await: a request body is not `Sync`.
    let path = request.uri().path().to_owned();
    let token = bearer_token(request.headers()).map(str::to_owned);
    let host = request.headers().get(header::HOST).and_then(|host| host.to_str().ok()).map(str::to_owned);
    let method = request.method().to_string();
    let logged = Arc::new(AtomicBool::new(false));
    let request_log = LoggedRequest { method: method.clone(), path: path.clone(), started, logged: logged.clone() };
    let presented = Presented { token: token.as_deref(), host: host.as_deref().unwrap_or("localhost") };
    let caller = match authenticate(&state, peer.ip(), &path, presented, started, request_log).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let connection = caller.connection.clone();
    let response = match state.connection_limiter.check(&connection) {
        Err(wait) => Error::TooManyRequests { retry_after_seconds: retry_after_seconds(wait) }.into_response(),
        Ok(()) => {
            request.extensions_mut().insert(caller);
            match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => Error::Timeout.into_response(),
            }
        }
    };
    if logged.load(Ordering::Acquire) {
        return response;
    }
    let entry = ScimRequestLogEntry {
        connection_id: connection,
        at: now(),
        method,
        path,
        status: response.status().as_u16(),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    state.request_log.record(entry).await;
    response
}

/// What a request presents: its bearer token, and the host it was sent to (for the URLs it is answered with).
struct Presented<'a> {
    token: Option<&'a str>,
    host: &'a str,
}

async fn authenticate(
    state: &ScimState,
    address: IpAddr,
    path: &str,
    presented: Presented<'_>,
    at: Instant,
    request: LoggedRequest,
) -> Result<Caller, Error> {
    if let Some(wait) = state.failed_auth_limiter.blocked_for(address, at) {
        return Err(Error::TooManyRequests { retry_after_seconds: retry_after_seconds(wait) });
    }
    let org_in_path = path.strip_prefix("/scim/v2/").and_then(|rest| rest.split('/').next());
    let connection = match (org_in_path, presented.token) {
        (Some(org), Some(token)) => {
            let hash = hash_token(token);
            let connection = state.store.scim_connection_by_token(&hash).await?;
            connection.filter(|connection| accepts(connection, &hash, org))
        }
        _ => None,
    };
    let Some(connection) = connection else {
        state.failed_auth_limiter.record_failure(address, at);
        tracing::info!(%address, "SCIM request refused: no valid bearer token for this tenant");
        return Err(Error::Unauthorized);
    };
    Ok(Caller {
        base_url: format!("http://{}/scim/v2/{}", presented.host, connection.tenant.org_id),
        connection: connection.id,
        tenant: connection.tenant,
        request,
    })
}

/// The token's hash is the connection's current one, or its previous one within the grace period; the
/// connection is enabled; and it belongs to the tenant in the path.
fn accepts(connection: &ScimConnection, hash: &crate::store::TokenHash, org_in_path: &str) -> bool {
    let current = same_hash(&connection.token_hash, hash);
    let previous = connection.previous_token_hash.as_ref().is_some_and(|previous| same_hash(previous, hash))
        && connection.previous_valid_until.is_some_and(|until| now() < until);
    (current || previous) && connection.disabled_at.is_none() && connection.tenant.org_id.as_str() == org_in_path
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
