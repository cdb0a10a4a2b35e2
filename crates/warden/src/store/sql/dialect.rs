//! [`Dialect`]: what differs between PostgreSQL and SQLite, implemented in `store/postgres.rs` and
//! `store/sqlite.rs`.
//!
//! The statements are plain SQL that PostgreSQL and SQLite both accept (`INSERT .. ON CONFLICT .. DO UPDATE`,
//! `RETURNING`); what differs between them (parameter limits, how a timestamp is bound and read, collation,
//! migrations, schema introspection) is a [`Dialect`] method.

use std::future::Future;
use std::sync::Arc;

use sqlx::{Database, Pool, QueryBuilder};
use tokio::task::AbortHandle;

use crate::store::sql::{ColumnReader, SqlValue};

/// What differs between PostgreSQL and SQLite.
pub(crate) trait Dialect: Database<Row: ColumnReader> {
    /// `postgres` or `sqlite`.
    const SHORT_NAME: &'static str;
    /// Bind parameters one statement may carry.
    const MAX_PARAMETERS: usize;
    /// Appended to `ORDER BY` on text keys so both dialects order by bytes.
    const BINARY_ORDER: &'static str;
    /// A correlated subquery over the `scim_user` row in scope as `r`: its groups as JSON text, an array of
    /// `{"id", "display"}` in no particular order; NULL or `[]` when it has none. Lets one statement read a page of
    /// users with their groups.
    const SCIM_USER_GROUPS: &'static str;
    /// Run first in a transaction whose commit need not wait for the disk (the request-log rows of reads): on
    /// PostgreSQL `SET LOCAL synchronous_commit = off`; SQLite in WAL mode with `synchronous=NORMAL` already does not.
    const RELAXED_COMMIT: Option<&'static str>;
    /// Whether a write of several statements runs as one statement with data-modifying `WITH` clauses (one round
    /// trip to the server, one implicit transaction) instead of as a transaction of statements (PostgreSQL has
    /// them; for SQLite, in the process, a statement costs no round trip).
    const WRITES_IN_ONE_STATEMENT: bool;
    /// Appended to a subquery that picks rows to claim: on PostgreSQL ` FOR UPDATE SKIP LOCKED`, so that replicas
    /// claiming at once take different rows without waiting for each other; SQLite has one writer at a time.
    const SKIP_LOCKED: &'static str;
    /// Begins a transaction that will write: SQLite's `BEGIN IMMEDIATE` takes the write lock at once (waiting for
    /// it within the busy timeout), where a deferred transaction that read first would fail to upgrade with
    /// `database is locked` while another connection writes; PostgreSQL's plain `BEGIN`.
    const BEGIN_WRITE: &'static str;
    /// Run after every SCIM connection write so that every process's connection cache drops what it holds
    /// (PostgreSQL `NOTIFY`); `None` where there are no notifications.
    const NOTIFY_SCIM_CONNECTIONS: Option<&'static str>;

    /// Starts a task that listens for [`Dialect::NOTIFY_SCIM_CONNECTIONS`], keeps `cache` active while it listens
    /// and empties it on every notification. Where there are no notifications, the cache stays inactive and no
    /// task is started. The task holds a connection: it is aborted before the pool closes.
    fn watch_scim_connections<L: ChangeListener>(pool: &Pool<Self>, cache: Arc<L>) -> Option<AbortHandle>;

    fn bind(builder: &mut QueryBuilder<Self>, value: SqlValue);

    fn execute<'c>(
        connection: &'c mut Self::Connection,
        builder: &'c mut QueryBuilder<Self>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    fn fetch_all<'c>(
        connection: &'c mut Self::Connection,
        builder: &'c mut QueryBuilder<Self>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c;

    fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<(), sqlx::migrate::MigrateError>> + Send + '_;

    /// An SQL expression for the UTC calendar day of a timestamp column (comparable with another such expression).
    fn utc_day(column: &str) -> String;

    /// Gathers planner statistics where warden's tables changed a lot since the last time; returns the tables.
    fn refresh_statistics(pool: &Pool<Self>) -> impl Future<Output = Result<Vec<String>, sqlx::Error>> + Send + '_;

    /// This dialect's migrations (`migrations/postgres` or `migrations/sqlite`).
    const MIGRATOR: &'static sqlx::migrate::Migrator;

    /// What the database should do before the process ends (SQLite: fold the write-ahead log into the file).
    fn close(pool: &Pool<Self>) -> impl Future<Output = Result<(), sqlx::Error>> + Send + '_;

    /// `(table, column)` pairs of warden's tables, sorted.
    fn describe_schema(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Vec<(String, String)>, sqlx::Error>> + Send + '_;
}

/// What [`Dialect::watch_scim_connections`] reports to: whether changes are being listened for, and each change.
pub(crate) trait ChangeListener: Send + Sync + 'static {
    /// Listening started (`true`) or stopped (`false`): changes in between may have been missed.
    fn listening(&self, active: bool);
    /// A change was announced.
    fn changed(&self);
}
