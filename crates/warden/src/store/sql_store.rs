//! [`SqlStore`]: the one implementation of every aggregate's trait (`store/*/sql.rs`), over one dialect: the pool,
//! and what an aggregate keeps beside it (SCIM: connections kept checked out, the connection cache).

use std::sync::Arc;
use std::sync::OnceLock;

use tokio::task::AbortHandle;

use sqlx::Pool;

use crate::store::scim::ConnectionCache;
use crate::store::sql::{Dialect, KeptConnections};

/// The [`crate::store::Store`] over one SQL dialect.
pub(crate) struct SqlStore<D: Dialect> {
    pub(crate) pool: Pool<D>,
    /// SCIM connections by token hash (`store::scim::cache`), filled only while changes are listened for.
    pub(crate) scim_connections: Arc<ConnectionCache>,
    /// The task of `Dialect::watch_scim_connections`, started on the first token lookup (only a server needs it).
    pub(crate) scim_watch: OnceLock<Option<AbortHandle>>,
    /// Connections kept checked out for the SCIM requests, outside the pool's release ping.
    pub(crate) kept_connections: KeptConnections<D>,
}

impl<D: Dialect> SqlStore<D> {
    /// `kept_for_scim`: pool connections [`KeptConnections`] keeps checked out at most (0 where the pool's one
    /// connection is the database, as for SQLite in memory).
    pub(crate) fn new(pool: Pool<D>, kept_for_scim: usize) -> SqlStore<D> {
        SqlStore {
            kept_connections: KeptConnections::new(pool.clone(), kept_for_scim),
            pool,
            scim_connections: Arc::default(),
            scim_watch: OnceLock::new(),
        }
    }
}
