//! SQLite: the embedded default, so a newcomer runs warden with nothing installed.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{Executor, Pool, QueryBuilder, Row, Sqlite};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use tokio::task::AbortHandle;

use crate::config::DatabaseUrl;
use crate::store::Error;
use crate::store::sql::{ChangeListener, ColumnReader, Dialect, SqlValue, pool_options};
use crate::store::sql_store::SqlStore;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub(crate) async fn open(url: &DatabaseUrl) -> Result<SqlStore<Sqlite>, Error> {
    let connect_error = |source| Error::Connect { url: url.redacted(), source };
    let text = url.expose();
    let in_memory = text.contains(":memory:") || text.contains("mode=memory");
    let options = SqliteConnectOptions::from_str(text)
        .map_err(connect_error)?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    // An in-memory database lives and dies with its one connection; a file gets WAL so readers never wait.
    // (The one connection of an in-memory database is never kept for SCIM: everything else would wait for it.)
    let (options, max_connections, kept_for_scim) = if in_memory {
        (options, 1, 0)
    } else {
        (options.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal), 8, 4)
    };
    let pool = pool_options::<Sqlite>(max_connections).connect_with(options).await.map_err(connect_error)?;
    Ok(SqlStore::new(pool, kept_for_scim))
}

/// UTC with exactly six fraction digits, so that text order is time order.
fn format_time(time: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time.to_offset(UtcOffset::UTC).format(&format).unwrap_or_else(|_| time.unix_timestamp().to_string())
}

impl Dialect for Sqlite {
    const SHORT_NAME: &'static str = "sqlite";
    /// `SQLITE_MAX_VARIABLE_NUMBER` of the bundled SQLite.
    const MAX_PARAMETERS: usize = 32_766;
    const BINARY_ORDER: &'static str = "";
    const RELAXED_COMMIT: Option<&'static str> = None;
    const MIGRATOR: &'static sqlx::migrate::Migrator = &MIGRATOR;
    const SKIP_LOCKED: &'static str = "";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const WRITES_IN_ONE_STATEMENT: bool = false;
    const NOTIFY_SCIM_CONNECTIONS: Option<&'static str> = None;

    fn watch_scim_connections<L: ChangeListener>(_pool: &Pool<Self>, _cache: Arc<L>) -> Option<AbortHandle> {
        None
    }
    const SCIM_USER_GROUPS: &'static str = "(SELECT json_group_array(json_object('id', m.group_id, 'display', m.group_display_name)) \
         FROM scim_group_member AS m WHERE m.environment = r.environment AND m.org_id = r.org_id AND m.member_id = r.id)";

    fn bind(builder: &mut QueryBuilder<Self>, value: SqlValue) {
        match value {
            SqlValue::Text(text) => builder.push_bind(text),
            SqlValue::NullableText(text) => builder.push_bind(text),
            SqlValue::Integer(integer) => builder.push_bind(integer),
            SqlValue::NullableInteger(integer) => builder.push_bind(integer),
            SqlValue::Boolean(boolean) => builder.push_bind(boolean),
            SqlValue::NullableBoolean(boolean) => builder.push_bind(boolean),
            SqlValue::Time(time) => builder.push_bind(time.map(format_time)),
            SqlValue::Json(json) => builder.push_bind(Json(json)),
            SqlValue::Bytes(bytes) => builder.push_bind(bytes),
        };
    }

    async fn execute(connection: &mut SqliteConnection, builder: &mut QueryBuilder<Self>) -> Result<u64, sqlx::Error> {
        Ok(connection.execute(builder.build()).await?.rows_affected())
    }

    async fn fetch_all(
        connection: &mut SqliteConnection,
        builder: &mut QueryBuilder<Self>,
    ) -> Result<Vec<SqliteRow>, sqlx::Error> {
        connection.fetch_all(builder.build()).await
    }

    async fn migrate(pool: &Pool<Self>) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(pool).await
    }

    fn utc_day(column: &str) -> String {
        // Times are stored as fixed-width UTC text: the day is its first ten characters.
        format!("substr({column}, 1, 10)")
    }

    async fn refresh_statistics(pool: &Pool<Self>) -> Result<Vec<String>, sqlx::Error> {
        // SQLite decides itself which tables need ANALYZE, bounded so that it stays cheap.
        sqlx::query("PRAGMA analysis_limit = 1000").execute(pool).await?;
        sqlx::query("PRAGMA optimize").execute(pool).await?;
        Ok(Vec::new())
    }

    async fn close(pool: &Pool<Self>) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        Ok(())
    }

    async fn describe_schema(pool: &Pool<Self>) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
             ORDER BY m.name, p.name",
        )
        .fetch_all(pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("table_name")?, row.try_get("column_name")?))).collect()
    }
}

impl ColumnReader for SqliteRow {
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
        let text: Option<String> = self.try_get(column).map_err(|error| error.to_string())?;
        text.map(|text| OffsetDateTime::parse(&text, &Rfc3339).map_err(|error| format!("{text:?}: {error}")))
            .transpose()
    }

    fn json(&self, column: &str) -> Result<Option<serde_json::Value>, sqlx::Error> {
        Ok(self.try_get::<Option<Json<serde_json::Value>>, _>(column)?.map(|json| json.0))
    }

    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        self.try_get(column)
    }
}
