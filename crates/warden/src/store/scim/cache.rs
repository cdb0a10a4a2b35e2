//! SCIM connections by token hash (and the one accepting ZITADEL's tokens, by org), cached in the serving process: every SCIM request authenticates, and without
//! the cache each one would start with a database round trip for the same few rows.
//!
//! Invalidation: the cache is used only while the process listens for connection changes (PostgreSQL `LISTEN`,
//! `Dialect::watch_scim_connections`). Every connection write (create, rotate, disable), from this process or
//! another (`warden scim connection disable`), sends a notification, and each one empties the cache; so does a
//! lost listening connection, and until it listens again nothing is cached. SQLite has no notifications: there the
//! cache stays off (and the lookup is an in-process call). Only found connections are cached; whether one is
//! accepted (disabled, grace period over, tenant) is decided per request, with that request's clock. Entries also
//! expire after [`TTL`], a bound for the unforeseen.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::scim::ScimConnection;
use crate::store::sql::ChangeListener;

const TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct ConnectionCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Whether changes are being listened for: nothing is cached otherwise.
    active: bool,
    /// Grows with every change: a lookup that started before one must not store what it read.
    generation: u64,
    entries: HashMap<CacheKey, (Instant, ScimConnection)>,
}

/// What a connection was looked up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CacheKey {
    /// A token's SHA-256.
    Token([u8; 32]),
    /// An org id, for the connection that accepts the tokens its ZITADEL vouches for.
    ZitadelTokens(String),
}

impl ConnectionCache {
    /// The cached connection of a token hash, if any and fresh; else `Err(generation)`, for [`ConnectionCache::put`]
    /// after reading the database.
    pub(crate) fn get(&self, key: &CacheKey, now: Instant) -> Result<ScimConnection, u64> {
        let inner = self.lock();
        match inner.entries.get(key) {
            Some((stored_at, connection)) if inner.active && now.saturating_duration_since(*stored_at) < TTL => {
                Ok(connection.clone())
            }
            _ => Err(inner.generation),
        }
    }

    /// Caches what a lookup that started at `generation` read, unless a change came in between.
    pub(crate) fn put(&self, key: CacheKey, connection: &ScimConnection, now: Instant, generation: u64) {
        let mut inner = self.lock();
        if !inner.active || inner.generation != generation {
            return;
        }
        // Expired entries go when another is added: the map holds at most the tokens used within one TTL.
        inner.entries.retain(|_, (stored_at, _)| now.saturating_duration_since(*stored_at) < TTL);
        inner.entries.insert(key, (now, connection.clone()));
    }

    /// A connection changed (or changes may have been missed): nothing cached stays.
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }

    /// Listening started (`true`) or stopped (`false`); either way the cache starts empty.
    fn set_active(&self, active: bool) {
        let mut inner = self.lock();
        inner.active = active;
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The dialect's watcher (`Dialect::watch_scim_connections`) turns the cache on while it listens, and empties it on
/// every announced change.
impl ChangeListener for ConnectionCache {
    fn listening(&self, active: bool) {
        self.set_active(active);
    }

    fn changed(&self) {
        self.clear();
    }
}
