//! The pool settings both dialects share.

use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database};

/// A connection idle for longer than this is pinged before it is used (by the pool, and by `KeptConnections`).
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// The pool settings both dialects share. sqlx pings every connection it hands out by default: a round trip to
/// the database before each statement. Only a connection that sat idle (where a restarted server or a dropped
/// link goes unnoticed) is pinged here; one in steady use shows a broken link on its next statement anyway.
pub(crate) fn pool_options<DB: Database>(max_connections: u32) -> PoolOptions<DB> {
    PoolOptions::<DB>::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= IDLE_BEFORE_PING {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}
