//! The store's one error type, [`Error`], below every other module of the store: each of them returns it.

use warden_core::id::EnvironmentName;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("environment {0} is not in the store")]
    UnknownEnvironment(EnvironmentName),
    #[error("sync run {0} is not in the store")]
    UnknownSyncRun(i64),
    #[error("stored value {table}.{column} is invalid: {message}")]
    Corrupt { table: &'static str, column: String, message: String },
    #[error("alert {0} does not exist")]
    UnknownAlert(i64),
    #[error("suppression {0} does not exist")]
    UnknownSuppression(i64),
    /// The request contradicts the stored state (an alert's lifecycle, say).
    #[error("{0}")]
    Refused(String),
    /// A SCIM userName is already taken in the tenant (compared case-insensitively).
    #[error("the userName is already taken in this tenant")]
    ScimUniqueness,
    /// A conditional SCIM write found another version stored.
    #[error("the resource was changed since the expected version")]
    ScimVersionMismatch,
    #[error("no SCIM {kind} {id} in this tenant")]
    ScimNotFound { kind: &'static str, id: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Another `warden serve` already uses this SQLite file.
    #[error(
        "another warden serve already uses the SQLite database {path}: SQLite is one process's database \
         (run several replicas on PostgreSQL)"
    )]
    AlreadyServed { path: String },
    #[error("cannot lock {path}: {message}")]
    Lock { path: String, message: String },
}
