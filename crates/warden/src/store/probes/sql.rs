//! The SQL of [`ProbeStore`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::health::{HealthStatus, ProbeResult, StatusChange, TargetId, TargetKey};
use warden_core::id::EnvironmentName;

use crate::store::Error;
use crate::store::probes::ProbeStore;
use crate::store::probes::rows::{
    PROBE_COLUMNS, PROBE_VALUES, STATUS_COLUMNS, TARGET_COLUMNS, decode_probe, decode_status_change, decode_target,
    probe_values, status, target_columns, target_values, text,
};
use crate::store::sql::{Dialect, SqlValue, begin_write, execute, fetch_all, statement};
use crate::store::sql_store::SqlStore;

/// The environment of the first row of a write, for a foreign-key violation's error.
fn unknown_environment(environment: Option<&EnvironmentName>) -> impl Fn(Error) -> Error + '_ {
    move |error| match (&error, environment) {
        (Error::Database(sqlx::Error::Database(database)), Some(environment))
            if database.is_foreign_key_violation() =>
        {
            Error::UnknownEnvironment(environment.clone())
        }
        _ => error,
    }
}

#[async_trait]
impl<D: Dialect> ProbeStore for SqlStore<D> {
    async fn record_probes(&self, probes: &[ProbeResult]) -> Result<(), Error> {
        if probes.is_empty() {
            return Ok(());
        }
        let mut transaction = begin_write(&self.pool).await?;
        // 13 values a row: a few hundred rows a statement stay below either dialect's parameter limit.
        let row = format!("({})", vec!["?"; PROBE_VALUES].join(", "));
        for chunk in probes.chunks((D::MAX_PARAMETERS / PROBE_VALUES).clamp(1, 500)) {
            let sql = format!(
                "INSERT INTO provider_probe ({PROBE_COLUMNS}) VALUES {}",
                vec![row.as_str(); chunk.len()].join(", ")
            );
            let values = chunk.iter().flat_map(probe_values).collect();
            let mut builder = statement::<D>(&sql, values);
            execute(&mut *transaction, &mut builder)
                .await
                .map_err(unknown_environment(chunk.first().map(|probe| &probe.target.environment)))?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn latest_probes(&self, environment: &EnvironmentName, per_target: u32) -> Result<Vec<ProbeResult>, Error> {
        let mut builder = statement::<D>(
            &format!(
                "SELECT {PROBE_COLUMNS} FROM (\
                   SELECT {PROBE_COLUMNS}, id, ROW_NUMBER() OVER (\
                     PARTITION BY target_kind, target_id ORDER BY probed_at DESC, id DESC) AS position \
                   FROM provider_probe WHERE environment = ?) AS ranked \
                 WHERE position <= ? \
                 ORDER BY target_kind DESC, target_id{order}, probed_at DESC, id DESC",
                order = D::BINARY_ORDER
            ),
            vec![text(environment.as_str()), SqlValue::Integer(i64::from(per_target))],
        );
        fetch_all(&self.pool, &mut builder, "provider_probe", decode_probe).await
    }

    async fn probe_history(&self, target: &TargetKey, limit: u32) -> Result<Vec<ProbeResult>, Error> {
        let (kind, id) = target_columns(&target.id);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {PROBE_COLUMNS} FROM provider_probe \
                 WHERE environment = ? AND target_kind = ? AND target_id = ? \
                 ORDER BY probed_at DESC, id DESC LIMIT ?"
            ),
            vec![text(target.environment.as_str()), text(kind), text(id), SqlValue::Integer(i64::from(limit))],
        );
        fetch_all(&self.pool, &mut builder, "provider_probe", decode_probe).await
    }

    async fn prune_probes(&self, before: OffsetDateTime) -> Result<u64, Error> {
        let mut builder =
            statement::<D>("DELETE FROM provider_probe WHERE probed_at < ?", vec![SqlValue::Time(Some(before))]);
        execute(&self.pool, &mut builder).await
    }

    async fn record_status_changes(&self, changes: &[StatusChange]) -> Result<(), Error> {
        let mut transaction = begin_write(&self.pool).await?;
        for change in changes {
            let mut values = target_values(&change.target);
            values.extend([
                SqlValue::Time(Some(change.at)),
                text(change.from.as_str()),
                text(change.to.as_str()),
                text(serde_json::to_string(&change.reasons).unwrap_or_else(|_| "[]".to_owned())),
            ]);
            let mut builder = statement::<D>(
                &format!("INSERT INTO provider_status ({STATUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                values,
            );
            execute(&mut *transaction, &mut builder)
                .await
                .map_err(unknown_environment(Some(&change.target.environment)))?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn current_statuses(
        &self,
        environment: &EnvironmentName,
    ) -> Result<BTreeMap<TargetKey, HealthStatus>, Error> {
        let mut builder = statement::<D>(
            &format!(
                "SELECT {TARGET_COLUMNS}, to_status FROM (\
                   SELECT {TARGET_COLUMNS}, to_status, ROW_NUMBER() OVER (\
                     PARTITION BY target_kind, target_id ORDER BY at DESC, id DESC) AS position \
                   FROM provider_status WHERE environment = ?) AS ranked \
                 WHERE position = 1"
            ),
            vec![text(environment.as_str())],
        );
        let rows = fetch_all(&self.pool, &mut builder, "provider_status", |view| {
            Ok((decode_target(view)?.key(), status(view, "to_status")?))
        })
        .await?;
        Ok(rows.into_iter().collect())
    }

    async fn status_history(
        &self,
        environment: &EnvironmentName,
        target: Option<&TargetId>,
        limit: u32,
    ) -> Result<Vec<StatusChange>, Error> {
        let mut sql = format!("SELECT {STATUS_COLUMNS} FROM provider_status WHERE environment = ?");
        let mut values = vec![text(environment.as_str())];
        if let Some(target) = target {
            let (kind, id) = target_columns(target);
            sql.push_str(" AND target_kind = ? AND target_id = ?");
            values.extend([text(kind), text(id)]);
        }
        sql.push_str(" ORDER BY at DESC, id DESC LIMIT ?");
        values.push(SqlValue::Integer(i64::from(limit)));
        let mut builder = statement::<D>(&sql, values);
        fetch_all(&self.pool, &mut builder, "provider_status", decode_status_change).await
    }
}
