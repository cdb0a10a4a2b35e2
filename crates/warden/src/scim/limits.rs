//! The limits in front of every tenant request: requests per second per connection, and failed authentications per
//! source address (which never refuse a valid token: Okta and Entra ID call from shared egress addresses).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::scim::error::Error;
use crate::store::{ScimConnectionId, Store, TokenHash};

/// Failed authentications per source address, in fixed one-minute windows. An address over its budget is
/// refused (429) every token that belongs to no connection, without a lookup of its own: the flood costs the
/// database at most the re-reads of [`TokenDirectory`]. A token of a connection is served as from any address: the
/// failures were someone else's (a shared egress address), or are ancient history for the same client.
pub struct FailedAuthLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    pub(crate) directory: TokenDirectory,
}

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before expired windows are dropped.
const MAX_REMEMBERED_ADDRESSES: usize = 10_000;
/// The least time between two re-reads of the connections' token hashes.
const REREAD_SPACING: Duration = Duration::from_millis(100);

impl FailedAuthLimiter {
    pub fn new(per_minute: u32) -> FailedAuthLimiter {
        FailedAuthLimiter { per_minute, windows: Mutex::new(HashMap::new()), directory: TokenDirectory::default() }
    }

    /// How long an address must wait, when it has used up its failures in the current window.
    pub(crate) fn blocked_for(&self, address: IpAddr, at: Instant) -> Option<Duration> {
        let windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, failures) = windows.get(&address)?;
        let elapsed = at.saturating_duration_since(*start);
        (elapsed < WINDOW && *failures >= self.per_minute).then(|| WINDOW - elapsed)
    }

    pub(crate) fn record_failure(&self, address: IpAddr, at: Instant) {
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

/// The token hashes (current and previous) of every connection, as of the last re-read. Consulted only for
/// requests from a throttled address, so it costs nothing otherwise.
#[derive(Default)]
pub(crate) struct TokenDirectory {
    /// When the last re-read began, and what it found.
    known: Mutex<(Option<Instant>, HashSet<[u8; 32]>)>,
    /// One re-read at a time; requests that arrived before one began take its answer.
    reading: tokio::sync::Mutex<()>,
}

impl TokenDirectory {
    /// Whether `hash` belongs to a connection, as of a re-read that began after `asked_at`: a connection created
    /// just before the question is found. Re-reads (all connections, one small statement) run one at a time and at
    /// least [`REREAD_SPACING`] apart, so a flood of unknown tokens costs the database at most ten reads a second.
    pub(crate) async fn knows(&self, store: &dyn Store, hash: &TokenHash, asked_at: Instant) -> Result<bool, Error> {
        if self.contains(hash) {
            return Ok(true);
        }
        let _turn = self.reading.lock().await;
        let last_read = self.lock().0;
        if last_read.is_some_and(|read_at| read_at >= asked_at) {
            return Ok(self.contains(hash));
        }
        if let Some(read_at) = last_read {
            tokio::time::sleep_until((read_at + REREAD_SPACING).into()).await;
        }
        let read_at = Instant::now();
        let connections = store.list_scim_connections().await?;
        let hashes = connections
            .iter()
            .flat_map(|connection| [Some(connection.token_hash), connection.previous_token_hash])
            .flatten()
            .map(|hash| hash.0)
            .collect();
        *self.lock() = (Some(read_at), hashes);
        Ok(self.contains(hash))
    }

    fn contains(&self, hash: &TokenHash) -> bool {
        self.lock().1.contains(&hash.0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Option<Instant>, HashSet<[u8; 32]>)> {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
    pub(crate) fn check(&self, connection: &ScimConnectionId) -> Result<(), Duration> {
        self.limiter.check_key(connection).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
