//! PostgreSQL: the primary store, shared by replicas.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Connection, Executor, Pool, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;
use tokio::task::AbortHandle;

use crate::config::DatabaseUrl;
use crate::store::Error;
use crate::store::sql::{ChangeListener, ColumnReader, Dialect, SqlValue, pool_options};
use crate::store::sql_store::SqlStore;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connections to the database per process at most.
const MAX_CONNECTIONS: u32 = 16;
/// Of those, kept checked out for the SCIM requests at most (`store::sql::kept_connections`); the rest always serve
/// everything else.
const KEPT_FOR_SCIM: usize = 8;

pub(crate) async fn open(url: &DatabaseUrl) -> Result<SqlStore<Postgres>, Error> {
    let connect_error = |source| Error::Connect { url: url.redacted(), source };
    let options = PgConnectOptions::from_str(url.expose()).map_err(connect_error)?;
    // One direct connection first: it fails at once with the real cause, where the pool would retry until its
    // acquire timeout and then report only that it timed out.
    PgConnection::connect_with(&options).await.map_err(connect_error)?.close().await.map_err(connect_error)?;
    let pool = pool_options::<Postgres>(MAX_CONNECTIONS).connect_with(options).await.map_err(connect_error)?;
    Ok(SqlStore::new(pool, KEPT_FOR_SCIM))
}

/// Listens on `warden_scim_connections` until the connection is lost; the cache is active only meanwhile.
async fn listen_for_connection_changes(pool: &Pool<Postgres>, cache: &impl ChangeListener) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen("warden_scim_connections").await?;
    cache.listening(true);
    // `None`: the connection was lost (notifications may have been missed): start over.
    while listener.try_recv().await?.is_some() {
        cache.changed();
    }
    Ok(())
}

impl Dialect for Postgres {
    const SHORT_NAME: &'static str = "postgres";
    const MAX_PARAMETERS: usize = u16::MAX as usize;
    const BINARY_ORDER: &'static str = " COLLATE \"C\"";
    const RELAXED_COMMIT: Option<&'static str> = Some("SET LOCAL synchronous_commit = off");
    const MIGRATOR: &'static sqlx::migrate::Migrator = &MIGRATOR;
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const WRITES_IN_ONE_STATEMENT: bool = true;
    const NOTIFY_SCIM_CONNECTIONS: Option<&'static str> = Some("NOTIFY warden_scim_connections");

    fn watch_scim_connections<L: ChangeListener>(pool: &Pool<Self>, cache: Arc<L>) -> Option<AbortHandle> {
        let pool = pool.clone();
        let task = tokio::spawn(async move {
            loop {
                let listened = listen_for_connection_changes(&pool, &*cache).await;
                cache.listening(false);
                if let Err(error) = listened {
                    tracing::warn!(error = %error, "not listening for SCIM connection changes; retrying in 1 s");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Some(task.abort_handle())
    }
    const SCIM_USER_GROUPS: &'static str = "(SELECT json_agg(json_build_object('id', m.group_id, 'display', m.group_display_name))::text \
         FROM scim_group_member AS m WHERE m.environment = r.environment AND m.org_id = r.org_id AND m.member_id = r.id)";

    fn bind(builder: &mut QueryBuilder<Self>, value: SqlValue) {
        match value {
            SqlValue::Text(text) => builder.push_bind(text),
            SqlValue::NullableText(text) => builder.push_bind(text),
            SqlValue::Integer(integer) => builder.push_bind(integer),
            SqlValue::NullableInteger(integer) => builder.push_bind(integer),
            SqlValue::Boolean(boolean) => builder.push_bind(boolean),
            SqlValue::NullableBoolean(boolean) => builder.push_bind(boolean),
            SqlValue::Time(time) => builder.push_bind(time),
            SqlValue::Json(json) => builder.push_bind(Json(json)),
            SqlValue::Bytes(bytes) => builder.push_bind(bytes),
        };
    }

    async fn execute(connection: &mut PgConnection, builder: &mut QueryBuilder<Self>) -> Result<u64, sqlx::Error> {
        Ok(connection.execute(builder.build()).await?.rows_affected())
    }

    async fn fetch_all(
        connection: &mut PgConnection,
        builder: &mut QueryBuilder<Self>,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        connection.fetch_all(builder.build()).await
    }

    async fn migrate(pool: &Pool<Self>) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(pool).await
    }

    fn utc_day(column: &str) -> String {
        format!("(({column}) AT TIME ZONE 'UTC')::date")
    }

    async fn refresh_statistics(pool: &Pool<Self>) -> Result<Vec<String>, sqlx::Error> {
        // Autovacuum's own rule (50 rows and a tenth of the table), applied now rather than when autovacuum's
        // worker gets round to it (or never, where it is off).
        let rows = sqlx::query(
            "SELECT relname::text AS table_name FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND relname <> '_sqlx_migrations' \
             AND n_mod_since_analyze > 50 + 0.1 * greatest(n_live_tup, 0) ORDER BY relname",
        )
        .fetch_all(pool)
        .await?;
        let mut analyzed = Vec::with_capacity(rows.len());
        for row in rows {
            let table: String = row.try_get("table_name")?;
            // The name comes from the catalog, not from input; quoted all the same.
            let analyze = format!("ANALYZE \"{}\"", table.replace('"', "\"\""));
            sqlx::query(AssertSqlSafe(analyze)).execute(pool).await?;
            analyzed.push(table);
        }
        Ok(analyzed)
    }

    async fn close(_pool: &Pool<Self>) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn describe_schema(pool: &Pool<Self>) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
             ORDER BY table_name, column_name",
        )
        .fetch_all(pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("table_name")?, row.try_get("column_name")?))).collect()
    }
}

impl ColumnReader for PgRow {
    fn text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(column)
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(column)
    }

    fn boolean(&self, column: &str) -> Result<Option<bool>, sqlx::Error> {
        self.try_get(column)
    }

    fn time(&self, column: &str) -> Result<Option<OffsetDateTime>, String> {
        self.try_get(column).map_err(|error| error.to_string())
    }

    fn json(&self, column: &str) -> Result<Option<serde_json::Value>, sqlx::Error> {
        Ok(self.try_get::<Option<Json<serde_json::Value>>, _>(column)?.map(|json| json.0))
    }

    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        self.try_get(column)
    }
}

/// Creates an empty database beside the one `admin` names and returns its URL: each test and benchmark gets its
/// own, so they run in parallel and leave nothing behind.
#[allow(clippy::disallowed_methods, reason = "a unique name for a scratch database, not a domain time")]
pub async fn create_scratch_database(admin: &DatabaseUrl, prefix: &str) -> Result<DatabaseUrl, Error> {
    let connect_error = |source| Error::Connect { url: admin.redacted(), source };
    let options = PgConnectOptions::from_str(admin.expose()).map_err(connect_error)?;
    let mut connection = PgConnection::connect_with(&options).await.map_err(connect_error)?;
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let name = format!("{prefix}_{}_{nanos}", std::process::id());
    // The name is ours (prefix, process id, clock), never outside input.
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut connection).await?;
    let mut url = admin.expose().to_owned();
    let path_start = url.find("://").map_or(0, |index| index + 3);
    match url[path_start..].find('/') {
        Some(slash) => {
            let database_start = path_start + slash + 1;
            let database_end = url[database_start..].find('?').map_or(url.len(), |index| database_start + index);
            url.replace_range(database_start..database_end, &name);
        }
        None => {
            url.push('/');
            url.push_str(&name);
        }
    }
    Ok(DatabaseUrl::new(url))
}

/// Drops a database made by [`create_scratch_database`], closing any connection still open to it.
pub async fn drop_scratch_database(admin: &DatabaseUrl, scratch: &DatabaseUrl) -> Result<(), Error> {
    let connect_error = |source| Error::Connect { url: admin.redacted(), source };
    let options = PgConnectOptions::from_str(admin.expose()).map_err(connect_error)?;
    let scratch_options = PgConnectOptions::from_str(scratch.expose()).map_err(connect_error)?;
    let Some(name) = scratch_options.get_database() else { return Ok(()) };
    let mut connection = PgConnection::connect_with(&options).await.map_err(connect_error)?;
    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut connection).await?;
    Ok(())
}
