//! Pool connections kept checked out for the SCIM requests, so that they skip the pool's release ping.
//!
//! sqlx's pool pings every connection it takes back, whatever the statement was: one more round trip to the
//! database per use, which nearly doubles the database's work for a SCIM lookup (one statement). A connection here
//! stays checked out of the pool (it still counts against the pool's size) and goes back to this stash once its
//! statements completed (a transaction: committed); one whose statement failed or was cancelled midway is dropped
//! instead, and the pool checks it (and rolls back what it left open) as usual. A kept connection that sat idle is pinged before use; after [`KEEP_AT_MOST`] it goes back
//! to the pool, so the pool's lifetime rules still apply.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, Database, Pool};

/// A kept connection idle for longer than this is pinged before use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);
/// A connection goes back to the pool after it was kept this long.
const KEEP_AT_MOST: Duration = Duration::from_secs(600);

pub(crate) struct KeptConnections<D: Database> {
    pool: Pool<D>,
    /// Connections kept at most; 0 keeps none (every read takes one from the pool and gives it back).
    size: usize,
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
}

impl<D: Database> KeptConnections<D> {
    pub(crate) fn new(pool: Pool<D>, size: usize) -> KeptConnections<D> {
        KeptConnections { pool, size, idle: Mutex::new(Vec::with_capacity(size)) }
    }

    pub(crate) async fn take(&self) -> Result<KeptConnection<'_, D>, sqlx::Error> {
        loop {
            let kept = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some(Kept { mut connection, taken_at, used_at }) = kept else { break };
            if taken_at.elapsed() >= KEEP_AT_MOST {
                continue;
            }
            if used_at.elapsed() < IDLE_BEFORE_PING || connection.ping().await.is_ok() {
                return Ok(KeptConnection { connection, taken_at, owner: self });
            }
        }
        let connection = self.pool.acquire().await?;
        Ok(KeptConnection { connection, taken_at: Instant::now(), owner: self })
    }
}

impl<D: Database> KeptConnection<'_, D> {
    /// Every statement on it completed (and a transaction on it committed): keep it for the next request.
    pub(crate) fn done(self) {
        let KeptConnection { connection, taken_at, owner } = self;
        let mut idle = owner.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < owner.size {
            idle.push(Kept { connection, taken_at, used_at: Instant::now() });
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
