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
