//! Pool connections kept checked out for the SCIM requests, so that they skip the pool's release ping.
//!
//! sqlx's pool pings every connection it takes back, whatever the statement was: one more round trip to the
//! database per use, which nearly doubles the database's work for a SCIM lookup (one statement). A connection here
//! stays checked out of the pool (it still counts against the pool's size) and goes back to this stash once its
//! statements completed (a transaction: committed); one whose statement failed or was cancelled midway is dropped
//! instead, and the pool checks it (and rolls back what it left open) as usual. A kept connection that sat idle is
//! pinged before use (as the pool pings its own: [`IDLE_BEFORE_PING`]); after [`KEEP_AT_MOST`] it goes back to the pool, so the pool's lifetime rules still apply.
//!
//! At most `size` connections are in use or kept at once: a request beyond waits for a permit, first come first
//! served, so the rest of the pool always serves everything else and no SCIM request is overtaken for long.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, Database, Pool};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::store::sql::IDLE_BEFORE_PING;

/// A connection goes back to the pool after it was kept this long.
const KEEP_AT_MOST: Duration = Duration::from_secs(600);

pub(crate) struct KeptConnections<D: Database> {
    pool: Pool<D>,
    size: usize,
    /// One per connection in use; idle ones hold none, and there are never more than `size` of both together
    /// (a new one is taken from the pool only when none is idle).
    permits: Semaphore,
    idle: Mutex<Vec<Kept<D>>>,
}

struct Kept<D: Database> {
    connection: PoolConnection<D>,
    taken_at: Instant,
    used_at: Instant,
}

/// A connection in use. [`KeptConnection::done`] keeps it for the next request; dropped without it, it goes back
/// to the pool, which pings it and closes it if it is broken.
pub(crate) struct KeptConnection<'a, D: Database> {
    connection: PoolConnection<D>,
    taken_at: Instant,
    owner: &'a KeptConnections<D>,
    /// `None` where nothing is kept.
    _permit: Option<SemaphorePermit<'a>>,
}

impl<D: Database> KeptConnections<D> {
    /// `size` connections at most; with 0, every request takes a connection from the pool and gives it back (the
    /// pool's one connection of an in-memory SQLite database must never be kept from everything else).
    pub(crate) fn new(pool: Pool<D>, size: usize) -> KeptConnections<D> {
        KeptConnections { pool, size, permits: Semaphore::new(size), idle: Mutex::new(Vec::with_capacity(size)) }
    }

    pub(crate) async fn take(&self) -> Result<KeptConnection<'_, D>, sqlx::Error> {
        if self.size == 0 {
            let connection = self.pool.acquire().await?;
            return Ok(KeptConnection { connection, taken_at: Instant::now(), owner: self, _permit: None });
        }
        let permit = Some(self.permits.acquire().await.map_err(|_| sqlx::Error::PoolClosed)?);
        loop {
            let kept = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some(Kept { mut connection, taken_at, used_at }) = kept else { break };
            if taken_at.elapsed() >= KEEP_AT_MOST {
                continue;
            }
            if used_at.elapsed() < IDLE_BEFORE_PING || connection.ping().await.is_ok() {
                return Ok(KeptConnection { connection, taken_at, owner: self, _permit: permit });
            }
        }
        let connection = self.pool.acquire().await?;
        Ok(KeptConnection { connection, taken_at: Instant::now(), owner: self, _permit: permit })
    }

    /// Gives every idle connection back and keeps none from now on: the pool's `close` waits for every
    /// checked-out connection, and a kept one would never come back.
    pub(crate) fn release_all(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

impl<D: Database> KeptConnection<'_, D> {
    /// Every statement on it completed (and a transaction on it committed): keep it for the next request.
    pub(crate) fn done(self) {
        let KeptConnection { connection, taken_at, owner, _permit } = self;
        if owner.size > 0 && !owner.permits.is_closed() {
            let kept = Kept { connection, taken_at, used_at: Instant::now() };
            owner.idle.lock().unwrap_or_else(PoisonError::into_inner).push(kept);
        }
    }
}

impl<D: Database> Deref for KeptConnection<'_, D> {
    type Target = D::Connection;

    fn deref(&self) -> &D::Connection {
        &self.connection
    }
}

impl<D: Database> DerefMut for KeptConnection<'_, D> {
    fn deref_mut(&mut self) -> &mut D::Connection {
        &mut self.connection
    }
}
