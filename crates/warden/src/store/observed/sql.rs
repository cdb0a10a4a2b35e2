//! The SQL both dialects share, written once over [`Dialect`].
//!
//! The statements are plain SQL that PostgreSQL and SQLite both accept (`INSERT .. ON CONFLICT .. DO UPDATE`,
//! `RETURNING`); what differs between them (parameter limits, how a timestamp is bound and read, collation,
//! migrations, schema introspection) is a [`Dialect`] method implemented in `postgres.rs` and `sqlite.rs`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database, Pool, QueryBuilder};
use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, IdError, SyncRunId};
use warden_core::model::{
    Change, Environment, ObjectBatch, ObjectKey, ResourceKind, Snapshot, SyncError, SyncRun, SyncStatus,
};

use crate::store::kept_connections::KeptConnections;
use crate::store::records::{self, Record};
use crate::store::scim::ConnectionCache;
use crate::store::{ChangeQuery, Error, Store, SyncWrites};

/// A value bound into a statement, in the shape both dialects understand.
#[derive(Debug, Clone)]
pub(crate) enum SqlValue {
    Text(String),
    NullableText(Option<String>),
    Integer(i64),
    NullableInteger(Option<i64>),
    Boolean(bool),
    NullableBoolean(Option<bool>),
    Time(Option<OffsetDateTime>),
    Json(serde_json::Value),
    Bytes(Vec<u8>),
}

impl SqlValue {
    pub(crate) fn text(value: impl Into<String>) -> SqlValue {
        SqlValue::Text(value.into())
    }

    pub(crate) fn json_strings<I, S>(values: I) -> SqlValue
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        SqlValue::Json(values.into_iter().map(|value| serde_json::Value::from(value.as_ref())).collect())
    }

    pub(crate) fn json_map(map: &BTreeMap<String, String>) -> SqlValue {
        SqlValue::Json(map.iter().map(|(key, value)| (key.clone(), serde_json::Value::from(value.as_str()))).collect())
    }
}

/// Reads one column of a result row by name; `None` is SQL NULL.
pub(crate) trait ColumnReader {
    fn text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn integer(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn boolean(&self, column: &str) -> Result<Option<bool>, sqlx::Error>;
    /// Timestamps are stored natively by PostgreSQL and as text by SQLite; the error is a description.
    fn time(&self, column: &str) -> Result<Option<OffsetDateTime>, String>;
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>, sqlx::Error>;
    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error>;
}

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
    /// Run after every SCIM connection write so that every process's connection cache drops what it holds
    /// (PostgreSQL `NOTIFY`); `None` where there are no notifications.
    const NOTIFY_SCIM_CONNECTIONS: Option<&'static str>;

    /// Starts a task that listens for [`Dialect::NOTIFY_SCIM_CONNECTIONS`], keeps `cache` active while it listens
    /// and empties it on every notification. Where there are no notifications, the cache stays inactive.
    fn watch_scim_connections(pool: &Pool<Self>, cache: Arc<ConnectionCache>);

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

    /// `(table, column)` pairs of warden's tables, sorted.
    fn describe_schema(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Vec<(String, String)>, sqlx::Error>> + Send + '_;
}

/// A row of one table, with typed accessors that turn bad stored values into [`Error::Corrupt`].
pub(crate) struct RowView<'r> {
    pub(crate) table: &'static str,
    pub(crate) row: &'r dyn ColumnReader,
}

impl RowView<'_> {
    pub(crate) fn corrupt(&self, column: &str, message: &dyn std::fmt::Display) -> Error {
        Error::Corrupt { table: self.table, column: column.to_owned(), message: message.to_string() }
    }

    fn required<T>(&self, column: &str, value: Option<T>) -> Result<T, Error> {
        value.ok_or_else(|| self.corrupt(column, &"unexpected NULL"))
    }

    pub(crate) fn text(&self, column: &str) -> Result<String, Error> {
        let value = self.row.text(column)?;
        self.required(column, value)
    }

    pub(crate) fn optional_text(&self, column: &str) -> Result<Option<String>, Error> {
        Ok(self.row.text(column)?)
    }

    pub(crate) fn integer(&self, column: &str) -> Result<i64, Error> {
        let value = self.row.integer(column)?;
        self.required(column, value)
    }

    pub(crate) fn optional_integer(&self, column: &str) -> Result<Option<i64>, Error> {
        Ok(self.row.integer(column)?)
    }

    pub(crate) fn unsigned(&self, column: &str) -> Result<u64, Error> {
        let value = self.integer(column)?;
        u64::try_from(value).map_err(|_| self.corrupt(column, &format!("negative count {value}")))
    }

    pub(crate) fn boolean(&self, column: &str) -> Result<bool, Error> {
        let value = self.row.boolean(column)?;
        self.required(column, value)
    }

    pub(crate) fn optional_boolean(&self, column: &str) -> Result<Option<bool>, Error> {
        Ok(self.row.boolean(column)?)
    }

    pub(crate) fn time(&self, column: &str) -> Result<Option<OffsetDateTime>, Error> {
        self.row.time(column).map_err(|message| self.corrupt(column, &message))
    }

    pub(crate) fn required_time(&self, column: &str) -> Result<OffsetDateTime, Error> {
        let value = self.time(column)?;
        self.required(column, value)
    }

    pub(crate) fn bytes(&self, column: &str) -> Result<Vec<u8>, Error> {
        let value = self.row.bytes(column)?;
        self.required(column, value)
    }

    pub(crate) fn json(&self, column: &str) -> Result<serde_json::Value, Error> {
        let value = self.row.json(column)?;
        self.required(column, value)
    }

    pub(crate) fn id<T: TryFrom<String, Error = IdError>>(&self, column: &str) -> Result<T, Error> {
        T::try_from(self.text(column)?).map_err(|error| self.corrupt(column, &error))
    }

    pub(crate) fn optional_id<T: TryFrom<String, Error = IdError>>(&self, column: &str) -> Result<Option<T>, Error> {
        self.optional_text(column)?
            .map(|text| T::try_from(text).map_err(|error| self.corrupt(column, &error)))
            .transpose()
    }

    pub(crate) fn strings(&self, column: &str) -> Result<Vec<String>, Error> {
        serde_json::from_value(self.json(column)?).map_err(|error| self.corrupt(column, &error))
    }

    pub(crate) fn ids<T: TryFrom<String, Error = IdError>>(&self, column: &str) -> Result<Vec<T>, Error> {
        self.strings(column)?
            .into_iter()
            .map(|text| T::try_from(text).map_err(|error| self.corrupt(column, &error)))
            .collect()
    }

    pub(crate) fn string_map(&self, column: &str) -> Result<BTreeMap<String, String>, Error> {
        serde_json::from_value(self.json(column)?).map_err(|error| self.corrupt(column, &error))
    }

    pub(crate) fn json_as<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, Error> {
        serde_json::from_value(self.json(column)?).map_err(|error| self.corrupt(column, &error))
    }
}

/// The [`Store`] over one SQL dialect.
/// A keyset page: the objects after a key, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
struct Page<'a> {
    after: Option<&'a str>,
    limit: u32,
}

pub(crate) struct SqlStore<D: Dialect> {
    pub(crate) pool: Pool<D>,
    /// SCIM connections by token hash (`store::scim::cache`), filled only while changes are listened for.
    pub(crate) scim_connections: Arc<ConnectionCache>,
    /// Whether `Dialect::watch_scim_connections` was started (on the first token lookup: only a server needs it).
    pub(crate) scim_watch_started: AtomicBool,
    /// Connections kept checked out for the SCIM requests, outside the pool's release ping.
    pub(crate) kept_connections: KeptConnections<D>,
}

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

impl<D: Dialect> SqlStore<D> {
    /// `kept_for_scim`: pool connections [`KeptConnections`] keeps checked out at most (0 where the pool's one
    /// connection is the database, as for SQLite in memory).
    pub(crate) fn new(pool: Pool<D>, kept_for_scim: usize) -> SqlStore<D> {
        SqlStore {
            kept_connections: KeptConnections::new(pool.clone(), kept_for_scim),
            pool,
            scim_connections: Arc::default(),
            scim_watch_started: AtomicBool::new(false),
        }
    }
}

fn unknown_environment_on_foreign_key(environment: &EnvironmentName) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |error| match &error {
        sqlx::Error::Database(database) if database.is_foreign_key_violation() => {
            Error::UnknownEnvironment(environment.clone())
        }
        _ => Error::Database(error),
    }
}

fn push_binds<D: Dialect>(builder: &mut QueryBuilder<D>, values: impl IntoIterator<Item = SqlValue>) {
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            builder.push(", ");
        }
        D::bind(builder, value);
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Upserts in statements as large as the dialect's parameter limit allows, on the caller's connection (usually
    /// a transaction).
    async fn upsert_records<R: Record>(
        connection: &mut D::Connection,
        environment: &EnvironmentName,
        records: &[R],
    ) -> Result<(), Error> {
        // One statement may not touch the same row twice (PostgreSQL refuses), so the last occurrence of a key wins.
        let mut last_index_by_key: HashMap<ObjectKey, usize> = HashMap::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            last_index_by_key.insert(record.key(), index);
        }
        let mut unique: Vec<(usize, ObjectKey)> =
            last_index_by_key.into_iter().map(|(key, index)| (index, key)).collect();
        unique.sort_unstable_by_key(|(index, _)| *index);

        let columns_per_row = 2 + R::COLUMNS.len();
        let rows_per_statement = (D::MAX_PARAMETERS / columns_per_row).max(1);
        let insert = format!("INSERT INTO {} (environment, id, {}) VALUES ", R::TABLE, R::COLUMNS.join(", "));
        let update = R::COLUMNS.iter().map(|column| format!("{column} = excluded.{column}")).collect::<Vec<_>>();
        let on_conflict = format!(" ON CONFLICT (environment, id) DO UPDATE SET {}", update.join(", "));
        for chunk in unique.chunks(rows_per_statement) {
            let mut builder = QueryBuilder::<D>::new(&insert);
            for (row, (index, key)) in chunk.iter().enumerate() {
                builder.push(if row == 0 { "(" } else { ", (" });
                let identity = [SqlValue::text(environment.as_str()), SqlValue::text(key.as_str())];
                push_binds(&mut builder, identity.into_iter().chain(records[*index].values()));
                builder.push(")");
            }
            builder.push(&on_conflict);
            D::execute(connection, &mut builder).await.map_err(unknown_environment_on_foreign_key(environment))?;
        }
        Ok(())
    }

    async fn upsert_batch(
        connection: &mut D::Connection,
        environment: &EnvironmentName,
        batch: &ObjectBatch,
    ) -> Result<(), Error> {
        match batch {
            ObjectBatch::Orgs(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::Projects(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::ProjectRoles(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::Users(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::MachineKeys(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::PersonalAccessTokens(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::UserGrants(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::Memberships(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::ProjectGrants(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::Applications(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::IdentityProviders(objects) => Self::upsert_records(connection, environment, objects).await,
            ObjectBatch::UserMetadata(objects) => Self::upsert_records(connection, environment, objects).await,
        }
    }

    async fn upsert_snapshot(
        connection: &mut D::Connection,
        environment: &EnvironmentName,
        snapshot: &Snapshot,
    ) -> Result<(), Error> {
        let Snapshot {
            orgs,
            projects,
            project_roles,
            users,
            machine_keys,
            personal_access_tokens,
            user_grants,
            memberships,
            project_grants,
            applications,
            identity_providers,
            user_metadata,
        } = snapshot;
        Self::upsert_records(connection, environment, orgs).await?;
        Self::upsert_records(connection, environment, projects).await?;
        Self::upsert_records(connection, environment, project_roles).await?;
        Self::upsert_records(connection, environment, users).await?;
        Self::upsert_records(connection, environment, machine_keys).await?;
        Self::upsert_records(connection, environment, personal_access_tokens).await?;
        Self::upsert_records(connection, environment, user_grants).await?;
        Self::upsert_records(connection, environment, memberships).await?;
        Self::upsert_records(connection, environment, project_grants).await?;
        Self::upsert_records(connection, environment, applications).await?;
        Self::upsert_records(connection, environment, identity_providers).await?;
        Self::upsert_records(connection, environment, user_metadata).await
    }

    async fn delete_keys(
        connection: &mut D::Connection,
        environment: &EnvironmentName,
        kind: ResourceKind,
        keys: &[&str],
    ) -> Result<u64, Error> {
        let table = records::table_of(kind);
        let mut deleted = 0;
        for chunk in keys.chunks(D::MAX_PARAMETERS - 1) {
            let mut builder = QueryBuilder::<D>::new(format!("DELETE FROM {table} WHERE environment = "));
            D::bind(&mut builder, SqlValue::text(environment.as_str()));
            builder.push(" AND id IN (");
            push_binds(&mut builder, chunk.iter().map(|key| SqlValue::text(*key)));
            builder.push(")");
            deleted += D::execute(connection, &mut builder).await?;
        }
        Ok(deleted)
    }

    async fn insert_change_rows(connection: &mut D::Connection, changes: &[Change]) -> Result<(), Error> {
        let columns = &records::CHANGE_COLUMNS[1..];
        let rows_per_statement = D::MAX_PARAMETERS / columns.len();
        let insert = format!("INSERT INTO change ({}) VALUES ", columns.join(", "));
        for chunk in changes.chunks(rows_per_statement) {
            let mut builder = QueryBuilder::<D>::new(&insert);
            for (row, change) in chunk.iter().enumerate() {
                builder.push(if row == 0 { "(" } else { ", (" });
                push_binds(&mut builder, records::change_values(change));
                builder.push(")");
            }
            D::execute(connection, &mut builder).await?;
        }
        Ok(())
    }

    async fn update_sync_run(connection: &mut D::Connection, run: &SyncRun) -> Result<(), Error> {
        let mut builder = QueryBuilder::<D>::new("UPDATE sync_run SET ");
        let columns = &records::SYNC_RUN_COLUMNS[1..];
        for (index, (column, value)) in columns.iter().zip(records::sync_run_values(run)).enumerate() {
            builder.push(if index == 0 { format!("{column} = ") } else { format!(", {column} = ") });
            D::bind(&mut builder, value);
        }
        builder.push(" WHERE id = ");
        D::bind(&mut builder, SqlValue::Integer(run.id.0));
        if D::execute(connection, &mut builder).await? == 0 {
            return Err(Error::UnknownSyncRun(run.id.0));
        }
        Ok(())
    }

    async fn list_records<R: Record>(
        &self,
        environment: &EnvironmentName,
        page: Option<Page<'_>>,
    ) -> Result<Vec<R>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT id, {} FROM {} WHERE environment = ",
            R::COLUMNS.join(", "),
            R::TABLE
        ));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        if let Some(after) = page.and_then(|page| page.after) {
            builder.push(format!(" AND id{} > ", D::BINARY_ORDER));
            D::bind(&mut builder, SqlValue::text(after));
        }
        builder.push(format!(" ORDER BY id{}", D::BINARY_ORDER));
        if let Some(page) = page {
            builder.push(" LIMIT ");
            D::bind(&mut builder, SqlValue::Integer(i64::from(page.limit)));
        }
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| R::decode(&RowView { table: R::TABLE, row })).collect()
    }

    async fn list_batch(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        page: Option<Page<'_>>,
    ) -> Result<ObjectBatch, Error> {
        Ok(match kind {
            ResourceKind::Org => ObjectBatch::Orgs(self.list_records(environment, page).await?),
            ResourceKind::Project => ObjectBatch::Projects(self.list_records(environment, page).await?),
            ResourceKind::ProjectRole => ObjectBatch::ProjectRoles(self.list_records(environment, page).await?),
            ResourceKind::User => ObjectBatch::Users(self.list_records(environment, page).await?),
            ResourceKind::MachineKey => ObjectBatch::MachineKeys(self.list_records(environment, page).await?),
            ResourceKind::PersonalAccessToken => {
                ObjectBatch::PersonalAccessTokens(self.list_records(environment, page).await?)
            }
            ResourceKind::UserGrant => ObjectBatch::UserGrants(self.list_records(environment, page).await?),
            ResourceKind::Membership => ObjectBatch::Memberships(self.list_records(environment, page).await?),
            ResourceKind::ProjectGrant => ObjectBatch::ProjectGrants(self.list_records(environment, page).await?),
            ResourceKind::Application => ObjectBatch::Applications(self.list_records(environment, page).await?),
            ResourceKind::IdentityProvider => {
                ObjectBatch::IdentityProviders(self.list_records(environment, page).await?)
            }
            ResourceKind::UserMetadata => ObjectBatch::UserMetadata(self.list_records(environment, page).await?),
        })
    }
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    fn dialect(&self) -> &'static str {
        D::SHORT_NAME
    }

    async fn migrate(&self) -> Result<(), Error> {
        Ok(D::migrate(&self.pool).await?)
    }

    async fn describe_schema(&self) -> Result<Vec<(String, Vec<String>)>, Error> {
        let mut tables: Vec<(String, Vec<String>)> = Vec::new();
        for (table, column) in D::describe_schema(&self.pool).await? {
            match tables.last_mut() {
                Some((last, columns)) if *last == table => columns.push(column),
                _ => tables.push((table, vec![column])),
            }
        }
        Ok(tables)
    }

    async fn upsert_environment(&self, environment: &Environment) -> Result<(), Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "INSERT INTO environment ({}) VALUES (",
            records::ENVIRONMENT_COLUMNS.join(", ")
        ));
        push_binds(&mut builder, records::environment_values(environment));
        let update = records::ENVIRONMENT_COLUMNS[1..].iter().map(|column| format!("{column} = excluded.{column}"));
        builder.push(format!(") ON CONFLICT (name) DO UPDATE SET {}", update.collect::<Vec<_>>().join(", ")));
        let mut connection = self.pool.acquire().await?;
        D::execute(&mut connection, &mut builder).await?;
        Ok(())
    }

    async fn list_environments(&self) -> Result<Vec<Environment>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM environment ORDER BY name{}",
            records::ENVIRONMENT_COLUMNS.join(", "),
            D::BINARY_ORDER
        ));
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| records::decode_environment(&RowView { table: "environment", row })).collect()
    }

    async fn delete_environment(&self, name: &EnvironmentName) -> Result<bool, Error> {
        let mut builder = QueryBuilder::<D>::new("DELETE FROM environment WHERE name = ");
        D::bind(&mut builder, SqlValue::text(name.as_str()));
        let mut connection = self.pool.acquire().await?;
        Ok(D::execute(&mut connection, &mut builder).await? > 0)
    }

    async fn upsert_objects(&self, environment: &EnvironmentName, batch: &ObjectBatch) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        Self::upsert_batch(&mut transaction, environment, batch).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn delete_objects(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        keys: &[ObjectKey],
    ) -> Result<u64, Error> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut transaction = self.pool.begin().await?;
        let deleted = Self::delete_keys(&mut transaction, environment, kind, &keys).await?;
        transaction.commit().await?;
        Ok(deleted)
    }

    async fn list_objects(&self, environment: &EnvironmentName, kind: ResourceKind) -> Result<ObjectBatch, Error> {
        self.list_batch(environment, kind, None).await
    }

    async fn count_objects(&self, environment: &EnvironmentName) -> Result<BTreeMap<ResourceKind, u64>, Error> {
        let selects: Vec<String> = ResourceKind::ALL
            .iter()
            .map(|kind| {
                let table = records::table_of(*kind);
                format!("SELECT CAST('{kind}' AS TEXT) AS kind, COUNT(*) AS objects FROM {table} WHERE environment = ")
            })
            .collect();
        let mut builder = QueryBuilder::<D>::new("");
        for (index, select) in selects.iter().enumerate() {
            if index > 0 {
                builder.push(" UNION ALL ");
            }
            builder.push(select);
            D::bind(&mut builder, SqlValue::text(environment.as_str()));
        }
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        let mut counts: BTreeMap<ResourceKind, u64> = ResourceKind::ALL.iter().map(|kind| (*kind, 0)).collect();
        for row in &rows {
            let view = RowView { table: "count", row };
            let kind = view.text("kind")?;
            let kind = ResourceKind::parse(&kind).ok_or_else(|| view.corrupt("kind", &kind))?;
            counts.insert(kind, view.unsigned("objects")?);
        }
        Ok(counts)
    }

    async fn list_objects_page(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ObjectBatch, Error> {
        self.list_batch(environment, kind, Some(Page { after, limit })).await
    }

    async fn start_sync_run(
        &self,
        environment: &EnvironmentName,
        started_at: OffsetDateTime,
    ) -> Result<SyncRun, Error> {
        let mut run = SyncRun {
            id: SyncRunId(0),
            environment: environment.clone(),
            started_at,
            finished_at: None,
            status: SyncStatus::Running,
            counts: BTreeMap::new(),
            errors: Vec::new(),
            requests: 0,
            retries: 0,
        };
        let mut builder = QueryBuilder::<D>::new(format!(
            "INSERT INTO sync_run ({}) VALUES (",
            records::SYNC_RUN_COLUMNS[1..].join(", ")
        ));
        push_binds(&mut builder, records::sync_run_values(&run));
        builder.push(") RETURNING id");
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder)
            .await
            .map_err(unknown_environment_on_foreign_key(environment))?;
        let row = rows.first().ok_or(Error::Database(sqlx::Error::RowNotFound))?;
        run.id = SyncRunId(RowView { table: "sync_run", row }.integer("id")?);
        Ok(run)
    }

    async fn finish_sync_run(&self, run: &SyncRun) -> Result<(), Error> {
        let mut connection = self.pool.acquire().await?;
        Self::update_sync_run(&mut connection, run).await
    }

    async fn fail_unfinished_sync_runs(
        &self,
        environment: &EnvironmentName,
        before: SyncRunId,
        error: &SyncError,
    ) -> Result<u64, Error> {
        let mut builder = QueryBuilder::<D>::new("UPDATE sync_run SET status = ");
        D::bind(&mut builder, SqlValue::text(SyncStatus::Failed.as_str()));
        builder.push(", errors = ");
        D::bind(&mut builder, records::sync_errors_value(std::slice::from_ref(error)));
        builder.push(" WHERE environment = ");
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" AND status = ");
        D::bind(&mut builder, SqlValue::text(SyncStatus::Running.as_str()));
        builder.push(" AND id < ");
        D::bind(&mut builder, SqlValue::Integer(before.0));
        let mut connection = self.pool.acquire().await?;
        Ok(D::execute(&mut connection, &mut builder).await?)
    }

    async fn list_sync_runs(&self, environment: &EnvironmentName, limit: u32) -> Result<Vec<SyncRun>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM sync_run WHERE environment = ",
            records::SYNC_RUN_COLUMNS.join(", ")
        ));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" ORDER BY started_at DESC, id DESC LIMIT ");
        D::bind(&mut builder, SqlValue::Integer(i64::from(limit)));
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| records::decode_sync_run(&RowView { table: "sync_run", row })).collect()
    }

    async fn first_stored_sync_run(&self, environment: &EnvironmentName) -> Result<Option<SyncRun>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM sync_run WHERE environment = ",
            records::SYNC_RUN_COLUMNS.join(", ")
        ));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" AND status IN ('ok', 'partial') ORDER BY started_at, id LIMIT 1");
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.first().map(|row| records::decode_sync_run(&RowView { table: "sync_run", row })).transpose()
    }

    async fn insert_changes(&self, changes: &[Change]) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        Self::insert_change_rows(&mut transaction, changes).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn apply_sync(&self, environment: &EnvironmentName, writes: &SyncWrites<'_>) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        let mut removals: BTreeMap<ResourceKind, Vec<&str>> = BTreeMap::new();
        for (kind, key) in writes.removals {
            removals.entry(*kind).or_default().push(key.as_str());
        }
        for (kind, keys) in removals {
            Self::delete_keys(&mut transaction, environment, kind, &keys).await?;
        }
        Self::upsert_snapshot(&mut transaction, environment, writes.upserts).await?;
        Self::insert_change_rows(&mut transaction, writes.changes).await?;
        Self::update_sync_run(&mut transaction, writes.run).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn list_changes(&self, query: &ChangeQuery) -> Result<Vec<Change>, Error> {
        let mut builder =
            QueryBuilder::<D>::new(format!("SELECT {} FROM change WHERE 1 = 1", records::CHANGE_COLUMNS.join(", ")));
        if let Some(environment) = &query.environment {
            builder.push(" AND environment = ");
            D::bind(&mut builder, SqlValue::text(environment.as_str()));
        }
        if let Some(since) = query.since {
            builder.push(" AND observed_at >= ");
            D::bind(&mut builder, SqlValue::Time(Some(since)));
        }
        if let Some(kind) = query.object_kind {
            builder.push(" AND object_kind = ");
            D::bind(&mut builder, SqlValue::text(kind.as_str()));
        }
        builder.push(" ORDER BY observed_at DESC, id DESC");
        if let Some(limit) = query.limit {
            builder.push(" LIMIT ");
            D::bind(&mut builder, SqlValue::Integer(i64::from(limit)));
        }
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        rows.iter().map(|row| records::decode_change(&RowView { table: "change", row })).collect()
    }
}
