//! Opening a store: the URL picks the dialect.

use std::sync::Arc;

use crate::config::DatabaseUrl;
use crate::store::{Error, Store, postgres, sqlite};

/// Opens the database a URL names (creating an SQLite file if needed) without migrating it.
pub async fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, Error> {
    let text = url.expose();
    if text.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::open(url).await?))
    } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Ok(Arc::new(postgres::open(url).await?))
    } else {
        Err(Error::UnsupportedUrl(url.redacted()))
    }
}

/// Opens the database and brings its schema up to date: what `warden migrate` and every start do.
pub async fn open_and_migrate(url: &DatabaseUrl) -> Result<Arc<dyn Store>, Error> {
    let store = open(url).await?;
    store.migrate().await?;
    Ok(store)
}

/// What [`claim_single_server`] holds: the lock on an SQLite database's `.serve-lock` file, released when dropped
/// (and by the operating system when the process dies, however it dies).
#[derive(Debug)]
pub struct SingleServer {
    _lock: std::fs::File,
}

/// SQLite is one process's database: the `warden serve` on an SQLite file takes this lock, and a second one on the
/// same file is refused ([`Error::AlreadyServed`]). PostgreSQL (and SQLite in memory) need none: `None`.
pub fn claim_single_server(url: &DatabaseUrl) -> Result<Option<SingleServer>, Error> {
    let text = url.expose();
    let Some(rest) = text.strip_prefix("sqlite:") else { return Ok(None) };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") || text.contains("mode=memory") {
        return Ok(None);
    }
    let lock_path = format!("{path}.serve-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|error| Error::Lock { path: lock_path.clone(), message: error.to_string() })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(SingleServer { _lock: file })),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::AlreadyServed { path: path.to_owned() }),
        Err(std::fs::TryLockError::Error(error)) => Err(Error::Lock { path: lock_path, message: error.to_string() }),
    }
}
