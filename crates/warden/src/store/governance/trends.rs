//! Trend points: per sync run, counts of one environment and each of its organizations.

use sqlx::Pool;
use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::trend::TrendPoint;

use crate::store::Error;
use crate::store::governance::rows::{decode_trend_point, text, time};
use crate::store::sql::{Dialect, SqlValue, begin_write, execute, fetch_all, statement};

pub(super) async fn insert<D: Dialect>(pool: &Pool<D>, run: SyncRunId, points: &[TrendPoint]) -> Result<(), Error> {
    let mut transaction = begin_write(pool).await?;
    for point in points {
        let mut builder = statement::<D>(
            "INSERT INTO trend_point (environment, run_id, at, org_id, machine_users, human_users, user_grants, \
             findings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                text(point.environment.as_str()),
                SqlValue::Integer(run.0),
                time(point.at),
                text(point.org_id.as_ref().map(ToString::to_string).unwrap_or_default()),
                SqlValue::Integer(i64::try_from(point.machine_users).unwrap_or(i64::MAX)),
                SqlValue::Integer(i64::try_from(point.human_users).unwrap_or(i64::MAX)),
                SqlValue::Integer(i64::try_from(point.user_grants).unwrap_or(i64::MAX)),
                SqlValue::Integer(i64::try_from(point.findings).unwrap_or(i64::MAX)),
            ],
        );
        execute(&mut *transaction, &mut builder).await?;
    }
    transaction.commit().await?;
    Ok(())
}

pub(super) async fn list<D: Dialect>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    since: Option<OffsetDateTime>,
) -> Result<Vec<TrendPoint>, Error> {
    let mut sql = "SELECT environment, at, org_id, machine_users, human_users, user_grants, findings \
                   FROM trend_point WHERE environment = ?"
        .to_owned();
    let mut values = vec![text(environment.as_str())];
    if let Some(since) = since {
        sql.push_str(" AND at >= ?");
        values.push(time(since));
    }
    sql.push_str(" ORDER BY at, org_id");
    let mut builder = statement::<D>(&sql, values);
    fetch_all(pool, &mut builder, "trend_point", decode_trend_point).await
}
