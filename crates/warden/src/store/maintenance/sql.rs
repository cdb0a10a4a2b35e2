//! The SQL of [`MaintenanceStore`]. Deletes run in batches of [`BATCH`] rows, so no statement holds locks for
//! long, oldest first.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::store::maintenance::{MaintenanceStore, RetentionCutoffs, RetentionPruned};
use crate::store::sql::{Dialect, SqlValue, execute, fetch_all, statement};
use crate::store::sql_store::SqlStore;
use crate::store::{Error, ProbeStore, ScimStore};

/// How long closing the store waits for connections still in use (a query the shutdown grace gave up on).
const CLOSE_AT_MOST: Duration = Duration::from_secs(10);

/// Rows one delete statement removes at most.
const BATCH: u32 = 5_000;

/// Runs `sql` (with `?` for the cutoff, then the batch size) until a batch deletes fewer than [`BATCH`] rows.
async fn delete_in_batches<D: Dialect>(store: &SqlStore<D>, sql: &str, cutoff: OffsetDateTime) -> Result<u64, Error> {
    let mut deleted = 0;
    loop {
        let mut builder = statement::<D>(sql, vec![SqlValue::Time(Some(cutoff)), SqlValue::Integer(i64::from(BATCH))]);
        let batch = execute(&store.pool, &mut builder).await?;
        deleted += batch;
        if batch < u64::from(BATCH) {
            return Ok(deleted);
        }
    }
}

#[async_trait]
impl<D: Dialect> MaintenanceStore for SqlStore<D> {
    async fn apply_retention(&self, cutoffs: &RetentionCutoffs) -> Result<RetentionPruned, Error> {
        let mut pruned = RetentionPruned::default();
        loop {
            let batch = self.delete_scim_request_logs_before(cutoffs.scim_request_log, BATCH).await?;
            pruned.scim_request_log += batch;
            if batch < u64::from(BATCH) {
                break;
            }
        }
        if let Some(cutoff) = cutoffs.changes {
            pruned.changes = delete_in_batches(
                self,
                "DELETE FROM change WHERE id IN (SELECT id FROM change WHERE observed_at < ? ORDER BY id LIMIT ?)",
                cutoff,
            )
            .await?;
        }
        if let Some(cutoff) = cutoffs.audit_events {
            pruned.audit_events = delete_in_batches(
                self,
                "DELETE FROM audit_event WHERE id IN (SELECT id FROM audit_event WHERE at < ? ORDER BY id LIMIT ?)",
                cutoff,
            )
            .await?;
        }
        // A run stays while it has changes (they cascade from it), when it is its environment's baseline (access
        // history starts there), and when it is the last run of its UTC day (its trend point is the day's).
        let day = D::utc_day("r.started_at");
        let later_day = D::utc_day("later.started_at");
        let sync_runs = format!(
            "DELETE FROM sync_run WHERE id IN (SELECT r.id FROM sync_run AS r WHERE r.started_at < ? \
             AND r.status <> 'running' \
             AND NOT EXISTS (SELECT 1 FROM change AS c WHERE c.run_id = r.id) \
             AND r.id <> (SELECT min(b.id) FROM sync_run AS b WHERE b.environment = r.environment \
                          AND b.status IN ('ok', 'partial')) \
             AND EXISTS (SELECT 1 FROM sync_run AS later WHERE later.environment = r.environment \
                         AND later.id > r.id AND {later_day} = {day}) \
             ORDER BY r.id LIMIT ?)"
        );
        pruned.sync_runs = delete_in_batches(self, &sync_runs, cutoffs.sync_runs).await?;
        pruned.provider_probes = self.prune_probes(cutoffs.provider_probes).await?;
        Ok(pruned)
    }

    async fn refresh_statistics(&self) -> Result<Vec<String>, Error> {
        Ok(D::refresh_statistics(&self.pool).await?)
    }

    async fn migrations_behind(&self) -> Result<bool, Error> {
        let mut builder = statement::<D>("SELECT version FROM _sqlx_migrations WHERE success", Vec::new());
        let applied = fetch_all(&self.pool, &mut builder, "_sqlx_migrations", |row| row.integer("version")).await?;
        Ok(D::MIGRATOR.iter().any(|migration| !applied.contains(&migration.version)))
    }

    async fn close(&self) -> Result<(), Error> {
        // What holds a connection for good lets it go first: the pool's close waits for every one.
        if let Some(Some(watch)) = self.scim_watch.get() {
            watch.abort();
        }
        self.kept_connections.release_all();
        D::close(&self.pool).await?;
        if tokio::time::timeout(CLOSE_AT_MOST, self.pool.close()).await.is_err() {
            tracing::warn!("database connections still in use after {CLOSE_AT_MOST:?}; closing without them");
        }
        Ok(())
    }
}
