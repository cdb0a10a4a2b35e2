//! Every tenant request passes through [`guard`]: failed-attempt limit per source address, bearer token to
//! connection (its own token, or one the org's ZITADEL vouches for: `vouch`), tenant check, per-connection rate
//! limit, request timeout, and the request log.
//!
//! The request log: a write commits its row in its own transaction ([`Caller::log_entry`], then
//! [`Caller::mark_logged`]); every other request (reads, refused or failed writes) gets its row from [`guard`] after
//! the response is made.
//!
//! The timeout tells the truth ([`WriteGate`]): a request still reading or computing at its deadline is cut off and
//! answered 503, and then writes nothing; once a write has begun (before the deadline), the request is answered
//! with what its writes did, however long the database takes. A `/Bulk` request starts no operation after its
//! deadline (each one not run is answered 503 inside the bulk response).
//!
//! Failed authentications are limited per source address, but a throttled address is refused only tokens that
//! belong to no connection ([`FailedAuthLimiter`]): Okta and Entra ID call from shared egress addresses, and one
//! customer's misconfigured client must not stop everyone else's provisioning.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::provisioning::ProvisioningTarget;
use crate::app::scim_records::{RecordError, WriteRequest};
use crate::app::tokens::{hash_token, same_hash};
use crate::scim::error::Error;
use crate::scim::limits::retry_after_seconds;
use crate::scim::state::{ScimState, now};
use crate::scim::vouch::{Verdict, VouchError};
use crate::store::{ScimConnection, ScimConnectionId, ScimRequestLogEntry, ScimTenant, TokenHash};

/// Who is calling: the connection its token belongs to, and the tenant that connection reaches.
#[derive(Debug, Clone)]
pub struct Caller {
    pub connection: ScimConnectionId,
    pub tenant: ScimTenant,
    /// `{public_url}/scim/v2/{orgId}`, for `meta.location`, `Location` and `$ref`: from the configuration, never
    /// from the request's `Host` or `X-Forwarded-*` headers.
    pub base_url: String,
    /// Where the connection's writes flow on to, when it provisions into ZITADEL.
    pub provisioning: Option<ProvisioningTarget>,
    request: LoggedRequest,
    gate: Arc<WriteGate>,
}

/// Whether a request may still begin a write. Its deadline is the request's timeout: before it, a write may begin,
/// and from then on the request is answered with what its writes did; after it, none may, and [`guard`] answers 503
/// if none began.
#[derive(Debug)]
pub(crate) struct WriteGate {
    deadline: Instant,
    state: AtomicU8,
}

const NOTHING_WRITTEN: u8 = 0;
const WRITING: u8 = 1;
const CUT_OFF: u8 = 2;

impl WriteGate {
    fn new(deadline: Instant) -> WriteGate {
        WriteGate { deadline, state: AtomicU8::new(NOTHING_WRITTEN) }
    }

    /// Called right before a write: `false` once the deadline has passed (nothing more is written); otherwise
    /// `true`, and the request is answered with the outcome of the write, even if that comes after the deadline.
    fn begin_write(&self) -> bool {
        if Instant::now() >= self.deadline {
            let _ = self.state.compare_exchange(NOTHING_WRITTEN, CUT_OFF, Ordering::AcqRel, Ordering::Acquire);
            return false;
        }
        matches!(
            self.state.compare_exchange(NOTHING_WRITTEN, WRITING, Ordering::AcqRel, Ordering::Acquire),
            Ok(_) | Err(WRITING)
        )
    }

    /// At the deadline: whether the request may be cut off (no write began; none will).
    fn cut_off(&self) -> bool {
        matches!(
            self.state.compare_exchange(NOTHING_WRITTEN, CUT_OFF, Ordering::AcqRel, Ordering::Acquire),
            Ok(_) | Err(CUT_OFF)
        )
    }

    fn passed(&self) -> bool {
        Instant::now() >= self.deadline
    }
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

impl WriteRequest for Caller {
    fn tenant(&self) -> &ScimTenant {
        &self.tenant
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn begin_write(&self) -> Result<(), RecordError> {
        if self.gate.begin_write() { Ok(()) } else { Err(RecordError::DeadlinePassed) }
    }

    fn log_entry(&self, status: u16) -> ScimRequestLogEntry {
        ScimRequestLogEntry {
            connection_id: self.connection.clone(),
            at: now(),
            method: self.request.method.clone(),
            path: self.request.path.clone(),
            status,
            latency_ms: u64::try_from(self.request.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn mark_logged(&self) {
        self.request.logged.store(true, Ordering::Release);
    }

    fn provisioning(&self) -> Option<&ProvisioningTarget> {
        self.provisioning.as_ref()
    }
}

impl Caller {
    /// Whether the request's deadline has passed (a `/Bulk` request then starts no further operation).
    pub(crate) fn deadline_passed(&self) -> bool {
        self.gate.passed()
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
    let method = request.method().to_string();
    let logged = Arc::new(AtomicBool::new(false));
    let request_log = LoggedRequest { method: method.clone(), path: path.clone(), started, logged: logged.clone() };
    let deadline = started + state.settings.request_timeout;
    let gate = Arc::new(WriteGate::new(deadline));
    let presented = Presented { token: token.as_deref(), request: request_log, gate: gate.clone() };
    let caller = match authenticate(&state, peer.ip(), &path, presented, started).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let connection = caller.connection.clone();
    let response = match state.connection_limiter.check(&connection) {
        Err(wait) => Error::TooManyRequests { retry_after_seconds: retry_after_seconds(wait) }.into_response(),
        Ok(()) => {
            request.extensions_mut().insert(caller);
            let handler = next.run(request);
            tokio::pin!(handler);
            tokio::select! {
                response = &mut handler => response,
                () = tokio::time::sleep_until(deadline.into()) => {
                    if gate.cut_off() {
                        Error::Timeout.into_response()
                    } else {
                        // A write began before the deadline: its outcome is the answer.
                        handler.await
                    }
                }
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

/// What a request presents (its bearer token), and what its [`Caller`] carries along.
struct Presented<'a> {
    token: Option<&'a str>,
    request: LoggedRequest,
    gate: Arc<WriteGate>,
}

async fn authenticate(
    state: &ScimState,
    address: IpAddr,
    path: &str,
    presented: Presented<'_>,
    at: Instant,
) -> Result<Caller, Error> {
    let hash = presented.token.map(hash_token);
    let limiter = &state.failed_auth_limiter;
    if let Some(wait) = limiter.blocked_for(address, at) {
        let known = match &hash {
            Some(hash) => {
                state.vouching.recently_accepted(hash, at)
                    || limiter.directory.knows(&*state.records.store, hash, at).await?
            }
            None => false,
        };
        if !known {
            return Err(Error::TooManyRequests { retry_after_seconds: retry_after_seconds(wait) });
        }
    }
    let org_in_path = path.strip_prefix("/scim/v2/").and_then(|rest| rest.split('/').next());
    let (Some(org), Some(token), Some(hash)) = (org_in_path, presented.token, hash) else {
        return Err(refuse(limiter, address, at));
    };
    let store = &state.records.store;
    // A connection's own token is never sent to ZITADEL, whichever tenant it belongs to.
    let connection = match store.scim_connection_by_token(&hash).await? {
        Some(connection) if accepts(&connection, &hash, org) => connection,
        Some(_) => return Err(refuse(limiter, address, at)),
        None => match store.scim_connection_accepting_zitadel_tokens(org).await? {
            Some(connection) => {
                vouched(state, address, connection, token, &hash).await.map_err(|error| match error {
                    Error::Unauthorized => refuse(limiter, address, at),
                    other => other,
                })?
            }
            None => return Err(refuse(limiter, address, at)),
        },
    };
    Ok(Caller {
        base_url: format!("{}/scim/v2/{}", state.settings.public_base_url, connection.tenant.org_id),
        provisioning: connection.settings.provisioning.then(|| ProvisioningTarget {
            connection: connection.id.clone(),
            delete_policy: connection.settings.delete_policy,
        }),
        connection: connection.id,
        tenant: connection.tenant,
        request: presented.request,
        gate: presented.gate,
    })
}

/// A token that is no connection's own, on the org's connection that accepts ZITADEL's tokens: accepted when
/// ZITADEL vouches for it and its user manages the org's users.
async fn vouched(
    state: &ScimState,
    address: IpAddr,
    connection: ScimConnection,
    token: &str,
    hash: &TokenHash,
) -> Result<ScimConnection, Error> {
    let throttled = || state.failed_auth_limiter.blocked_for(address, Instant::now());
    match state.vouching.verdict(&connection, token, hash, throttled).await {
        Ok(Verdict::Accepted { .. }) => Ok(connection),
        Ok(Verdict::Unknown) => Err(Error::Unauthorized),
        Ok(Verdict::Forbidden { user_id }) => {
            Err(Error::Forbidden(Verdict::forbidden_detail(user_id.as_deref(), connection.tenant.org_id.as_str())))
        }
        Err(VouchError::Throttled(wait)) => {
            Err(Error::TooManyRequests { retry_after_seconds: retry_after_seconds(wait) })
        }
        Err(error @ VouchError::Unavailable(_)) => {
            tracing::warn!(connection = %connection.id, %error, "cannot check a bearer token with ZITADEL");
            Err(Error::TokenCheckUnavailable)
        }
    }
}

/// Counts a failed authentication against the address and says no, the same way for every cause.
fn refuse(limiter: &crate::scim::limits::FailedAuthLimiter, address: IpAddr, at: Instant) -> Error {
    limiter.record_failure(address, at);
    tracing::info!(%address, "SCIM request refused: no valid bearer token for this tenant");
    Error::Unauthorized
}

/// The token's hash is the connection's current one, or its previous one within the grace period; the
/// connection is enabled; and it belongs to the tenant in the path.
fn accepts(connection: &ScimConnection, hash: &TokenHash, org_in_path: &str) -> bool {
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
