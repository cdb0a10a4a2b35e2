//! Test databases: a temporary SQLite file, or a scratch PostgreSQL database per test.

use std::future::Future;
use std::sync::Arc;

use warden::config::DatabaseUrl;
use warden::store::{self, Store};

/// The PostgreSQL server to make scratch databases on, if configured.
pub fn postgres_admin_url() -> Option<DatabaseUrl> {
    match std::env::var("WARDEN_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(DatabaseUrl::new(url)),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set WARDEN_TEST_DATABASE_URL so the PostgreSQL half of the suite runs"
            );
            None
        }
    }
}

/// Runs `case` against a freshly migrated SQLite store.
pub async fn on_sqlite<F, Fut, T>(case: F) -> T
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = T>,
{
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let store = store::open_and_migrate(&url).await.unwrap();
    case(store).await
}

/// Runs `case` against a freshly migrated scratch PostgreSQL database, then drops it. Does nothing without
/// `WARDEN_TEST_DATABASE_URL` (outside CI).
pub async fn on_postgres<F, Fut, T>(case: F) -> Option<T>
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = T>,
{
    let Some(admin) = postgres_admin_url() else {
        eprintln!("WARDEN_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return None;
    };
    let scratch = store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let store = store::open_and_migrate(&scratch).await.unwrap();
    let outcome = case(store).await;
    store::drop_scratch_database(&admin, &scratch).await.unwrap();
    Some(outcome)
}

/// Declares one test per dialect for each listed `async fn(Arc<dyn Store>)`.
macro_rules! contract_tests {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                crate::support::on_sqlite(super::$case).await;
            })+
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                crate::support::on_postgres(super::$case).await;
            })+
        }
    };
}

pub(crate) use contract_tests;
