//! The SQL of [`Store`]: environments, observed objects (through `objects`), sync runs and changes.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::QueryBuilder;
use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::model::{
    Change, Environment, MetadataScope, ObjectBatch, ObjectKey, ResourceKind, SyncError, SyncMode, SyncRun, SyncStatus,
    User,
};

use crate::store::observed::objects::{self, Page, unknown_environment_on_foreign_key};
use crate::store::observed::rows;
use crate::store::sql::{
    Dialect, On, SqlValue, begin_write, execute, fetch_all, fetch_one, fetch_optional, push_binds, statement,
};
use crate::store::sql_store::SqlStore;
use crate::store::{ChangeQuery, Error, ObjectScope, Store, SyncWrites};

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
            rows::ENVIRONMENT_COLUMNS.join(", ")
        ));
        push_binds(&mut builder, rows::environment_values(environment));
        let update = rows::ENVIRONMENT_COLUMNS[1..].iter().map(|column| format!("{column} = excluded.{column}"));
        builder.push(format!(") ON CONFLICT (name) DO UPDATE SET {}", update.collect::<Vec<_>>().join(", ")));
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn list_environments(&self) -> Result<Vec<Environment>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM environment ORDER BY name{}",
            rows::ENVIRONMENT_COLUMNS.join(", "),
            D::BINARY_ORDER
        ));
        fetch_all(&self.pool, &mut builder, "environment", rows::decode_environment).await
    }

    async fn delete_environment(&self, name: &EnvironmentName) -> Result<bool, Error> {
        let mut builder = QueryBuilder::<D>::new("DELETE FROM environment WHERE name = ");
        D::bind(&mut builder, SqlValue::text(name.as_str()));
        Ok(execute(&self.pool, &mut builder).await? > 0)
    }

    async fn upsert_objects(&self, environment: &EnvironmentName, batch: &ObjectBatch) -> Result<(), Error> {
        let mut transaction = begin_write(&self.pool).await?;
        objects::upsert_batch::<D>(&mut transaction, environment, batch).await?;
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
        let mut transaction = begin_write(&self.pool).await?;
        let deleted = objects::delete_keys::<D>(&mut transaction, environment, kind, &keys).await?;
        transaction.commit().await?;
        Ok(deleted)
    }

    async fn list_objects(&self, environment: &EnvironmentName, kind: ResourceKind) -> Result<ObjectBatch, Error> {
        objects::list_batch(&self.pool, environment, kind, None).await
    }

    async fn count_objects(&self, environment: &EnvironmentName) -> Result<BTreeMap<ResourceKind, u64>, Error> {
        let selects: Vec<String> = ResourceKind::ALL
            .iter()
            .map(|kind| {
                let table = rows::table_of(*kind);
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
        let stored = fetch_all(&self.pool, &mut builder, "count", |view| {
            let kind = view.text("kind")?;
            let kind = ResourceKind::parse(&kind).ok_or_else(|| view.corrupt("kind", &kind))?;
            Ok((kind, view.unsigned("objects")?))
        })
        .await?;
        let mut counts: BTreeMap<ResourceKind, u64> = ResourceKind::ALL.iter().map(|kind| (*kind, 0)).collect();
        counts.extend(stored);
        Ok(counts)
    }

    async fn forget_user_metadata(&self, environment: &EnvironmentName, scope: &MetadataScope) -> Result<u64, Error> {
        let mut builder = QueryBuilder::<D>::new("DELETE FROM user_metadata WHERE environment = ");
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        if scope.covers(true) {
            builder.push(" AND user_id NOT IN (SELECT id FROM zitadel_user WHERE environment = ");
            D::bind(&mut builder, SqlValue::text(environment.as_str()));
            builder.push(" AND kind = 'machine')");
        }
        if scope.covers(false) {
            return Ok(0);
        }
        let mut transaction = begin_write(&self.pool).await?;
        let forgotten = execute(&mut *transaction, &mut builder).await?;
        transaction.commit().await?;
        Ok(forgotten)
    }

    async fn count_machine_users(&self, environment: &EnvironmentName) -> Result<u64, Error> {
        let mut builder = QueryBuilder::<D>::new("SELECT COUNT(*) AS users FROM zitadel_user WHERE environment = ");
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" AND kind = 'machine'");
        fetch_one(&self.pool, &mut builder, "zitadel_user", |row| row.unsigned("users")).await
    }

    async fn observed_user(&self, environment: &EnvironmentName, id: &str) -> Result<Option<User>, Error> {
        objects::get_record(&self.pool, environment, id).await
    }

    async fn list_objects_page(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ObjectBatch, Error> {
        objects::list_batch(&self.pool, environment, kind, Some(Page { after, limit })).await
    }

    async fn start_sync_run(
        &self,
        environment: &EnvironmentName,
        started_at: OffsetDateTime,
        holder: Option<&str>,
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
            holder: holder.map(str::to_owned),
            mode: SyncMode::Full,
            mode_reason: String::new(),
            event_position: None,
            basis: None,
        };
        let mut builder = QueryBuilder::<D>::new(format!(
            "INSERT INTO sync_run ({}) VALUES (",
            rows::SYNC_RUN_COLUMNS[1..].join(", ")
        ));
        push_binds(&mut builder, rows::sync_run_values(&run));
        builder.push(") RETURNING id");
        let id = fetch_one(&self.pool, &mut builder, "sync_run", |row| row.integer("id"))
            .await
            .map_err(unknown_environment_on_foreign_key(environment))?;
        run.id = SyncRunId(id);
        Ok(run)
    }

    async fn finish_sync_run(&self, run: &SyncRun) -> Result<(), Error> {
        update_sync_run::<D>(&self.pool, run).await
    }

    async fn interrupt_abandoned_sync_runs(
        &self,
        environment: &EnvironmentName,
        before: SyncRunId,
        lease: &str,
        error: &SyncError,
        now: OffsetDateTime,
    ) -> Result<u64, Error> {
        let mut builder = statement::<D>(
            "UPDATE sync_run SET status = ?, errors = ? WHERE environment = ? AND status = ? AND id < ? \
             AND NOT EXISTS (SELECT 1 FROM lease WHERE lease.name = ? AND lease.holder = sync_run.holder \
             AND lease.expires_at > ?)",
            vec![
                SqlValue::text(SyncStatus::Interrupted.as_str()),
                rows::sync_errors_value(std::slice::from_ref(error)),
                SqlValue::text(environment.as_str()),
                SqlValue::text(SyncStatus::Running.as_str()),
                SqlValue::Integer(before.0),
                SqlValue::text(lease),
                SqlValue::Time(Some(now)),
            ],
        );
        execute(&self.pool, &mut builder).await
    }

    async fn interrupt_sync_runs(
        &self,
        environment: &EnvironmentName,
        holder: &str,
        error: &SyncError,
        now: OffsetDateTime,
    ) -> Result<u64, Error> {
        let mut builder = statement::<D>(
            "UPDATE sync_run SET status = ?, errors = ?, finished_at = ? \
             WHERE environment = ? AND status = ? AND holder = ?",
            vec![
                SqlValue::text(SyncStatus::Interrupted.as_str()),
                rows::sync_errors_value(std::slice::from_ref(error)),
                SqlValue::Time(Some(now)),
                SqlValue::text(environment.as_str()),
                SqlValue::text(SyncStatus::Running.as_str()),
                SqlValue::text(holder),
            ],
        );
        execute(&self.pool, &mut builder).await
    }

    async fn list_sync_runs(&self, environment: &EnvironmentName, limit: u32) -> Result<Vec<SyncRun>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM sync_run WHERE environment = ",
            rows::SYNC_RUN_COLUMNS.join(", ")
        ));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" ORDER BY started_at DESC, id DESC LIMIT ");
        D::bind(&mut builder, SqlValue::Integer(i64::from(limit)));
        fetch_all(&self.pool, &mut builder, "sync_run", rows::decode_sync_run).await
    }

    async fn last_sync_run(
        &self,
        environment: &EnvironmentName,
        status: SyncStatus,
        mode: Option<SyncMode>,
    ) -> Result<Option<SyncRun>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM sync_run WHERE environment = ",
            rows::SYNC_RUN_COLUMNS.join(", ")
        ));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" AND status = ");
        D::bind(&mut builder, SqlValue::text(status.as_str()));
        if let Some(mode) = mode {
            builder.push(" AND mode = ");
            D::bind(&mut builder, SqlValue::text(mode.as_str()));
        }
        builder.push(" ORDER BY started_at DESC, id DESC LIMIT 1");
        fetch_optional(&self.pool, &mut builder, "sync_run", rows::decode_sync_run).await
    }

    async fn list_objects_in(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        scope: &ObjectScope,
    ) -> Result<ObjectBatch, Error> {
        objects::list_batch_in(&self.pool, environment, kind, scope).await
    }

    async fn first_stored_sync_run(&self, environment: &EnvironmentName) -> Result<Option<SyncRun>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {} FROM sync_run WHERE environment = ",
            rows::SYNC_RUN_COLUMNS.join(", ")
        ));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" AND status IN ('ok', 'partial') ORDER BY started_at, id LIMIT 1");
        fetch_optional(&self.pool, &mut builder, "sync_run", rows::decode_sync_run).await
    }

    async fn insert_changes(&self, changes: &[Change]) -> Result<(), Error> {
        let mut transaction = begin_write(&self.pool).await?;
        insert_change_rows::<D, _>(&mut transaction, changes.iter()).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn apply_sync(&self, environment: &EnvironmentName, writes: SyncWrites<'_>) -> Result<(), Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let mut removals: BTreeMap<ResourceKind, Vec<&str>> = BTreeMap::new();
        for (kind, key) in writes.removals {
            removals.entry(*kind).or_default().push(key.as_str());
        }
        for (kind, keys) in removals {
            objects::delete_keys::<D>(&mut transaction, environment, kind, &keys).await?;
        }
        objects::upsert_snapshot::<D>(&mut transaction, environment, writes.upserts).await?;
        insert_change_rows::<D, _>(&mut transaction, writes.changes).await?;
        update_sync_run::<D>(&mut *transaction, writes.run).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn list_changes(&self, query: &ChangeQuery) -> Result<Vec<Change>, Error> {
        let mut builder =
            QueryBuilder::<D>::new(format!("SELECT {} FROM change WHERE 1 = 1", rows::CHANGE_COLUMNS.join(", ")));
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
        fetch_all(&self.pool, &mut builder, "change", rows::decode_change).await
    }
}

/// Inserts change rows in statements as large as the dialect allows, taking them from `changes` a statement's worth
/// at a time (a sync renders its rows as they are taken).
async fn insert_change_rows<D: Dialect, C: Borrow<Change>>(
    connection: &mut D::Connection,
    changes: impl Iterator<Item = C> + Send,
) -> Result<(), Error> {
    let columns = &rows::CHANGE_COLUMNS[1..];
    let rows_per_statement = D::MAX_PARAMETERS / columns.len();
    let insert = format!("INSERT INTO change ({}) VALUES ", columns.join(", "));
    let mut changes = changes.peekable();
    while changes.peek().is_some() {
        let mut builder = QueryBuilder::<D>::new(&insert);
        for (row, change) in changes.by_ref().take(rows_per_statement).enumerate() {
            builder.push(if row == 0 { "(" } else { ", (" });
            push_binds(&mut builder, rows::change_values(change.borrow()));
            builder.push(")");
        }
        execute(&mut *connection, &mut builder).await?;
    }
    Ok(())
}

async fn update_sync_run<D: Dialect>(on: impl Into<On<'_, D>>, run: &SyncRun) -> Result<(), Error> {
    let mut builder = QueryBuilder::<D>::new("UPDATE sync_run SET ");
    let columns = &rows::SYNC_RUN_COLUMNS[1..];
    for (index, (column, value)) in columns.iter().zip(rows::sync_run_values(run)).enumerate() {
        builder.push(if index == 0 { format!("{column} = ") } else { format!(", {column} = ") });
        D::bind(&mut builder, value);
    }
    builder.push(" WHERE id = ");
    D::bind(&mut builder, SqlValue::Integer(run.id.0));
    if execute(on, &mut builder).await? == 0 {
        return Err(Error::UnknownSyncRun(run.id.0));
    }
    Ok(())
}
