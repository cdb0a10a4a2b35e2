//! Suppressions: added and lifted by operators (each audited), never deleted.

use sqlx::Pool;
use time::OffsetDateTime;
use warden_core::governance::Suppression;

use crate::store::Error;
use crate::store::governance::audit;
use crate::store::governance::rows::{SUPPRESSION_COLUMNS, decode_suppression, text, time};
use crate::store::sql::{Dialect, On, SqlValue, begin_write, execute, fetch_all, fetch_one, fetch_optional, statement};

pub(super) async fn add<D: Dialect>(pool: &Pool<D>, suppression: &Suppression) -> Result<Suppression, Error> {
    let mut transaction = begin_write(pool).await?;
    let mut builder = statement::<D>(
        "INSERT INTO suppression (environment, rule, subject_id, reason, created_by, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        vec![
            SqlValue::NullableText(suppression.environment.as_ref().map(ToString::to_string)),
            text(suppression.rule.as_str()),
            SqlValue::NullableText(suppression.subject_id.clone()),
            text(suppression.reason.as_str()),
            text(suppression.created_by.as_str()),
            time(suppression.created_at),
            SqlValue::Time(suppression.expires_at),
        ],
    );
    let id = fetch_one(&mut *transaction, &mut builder, "suppression", |row| row.integer("id")).await.map_err(
        |error| match (&error, &suppression.environment) {
            (Error::Database(sqlx::Error::Database(database)), Some(environment))
                if database.is_foreign_key_violation() =>
            {
                Error::UnknownEnvironment(environment.clone())
            }
            _ => error,
        },
    )?;
    let details = serde_json::json!({
        "rule": suppression.rule,
        "environment": suppression.environment.as_ref().map(ToString::to_string),
        "subject_id": suppression.subject_id,
        "reason": suppression.reason,
        "expires_at": suppression.expires_at.map(|time| time.to_string()),
    });
    let target = format!("suppression/{id}");
    audit::record::<D>(
        &mut transaction,
        &suppression.created_by,
        "suppression.add",
        &target,
        details,
        suppression.created_at,
    )
    .await?;
    transaction.commit().await?;
    Ok(Suppression { id, ..suppression.clone() })
}

pub(super) async fn lift<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    operator: &str,
    now: OffsetDateTime,
) -> Result<Suppression, Error> {
    let mut transaction = begin_write(pool).await?;
    let before = fetch::<D>(&mut *transaction, id).await?;
    if before.lifted_at.is_some() {
        return Ok(before);
    }
    let mut builder = statement::<D>(
        "UPDATE suppression SET lifted_by = ?, lifted_at = ? WHERE id = ?",
        vec![text(operator), time(now), SqlValue::Integer(id)],
    );
    execute(&mut *transaction, &mut builder).await?;
    let details = serde_json::json!({ "rule": before.rule, "reason": before.reason });
    audit::record::<D>(&mut transaction, operator, "suppression.lift", &format!("suppression/{id}"), details, now)
        .await?;
    transaction.commit().await?;
    Ok(Suppression { lifted_by: Some(operator.to_owned()), lifted_at: Some(now), ..before })
}

pub(super) async fn list<D: Dialect>(pool: &Pool<D>) -> Result<Vec<Suppression>, Error> {
    let mut builder =
        statement::<D>(&format!("SELECT {SUPPRESSION_COLUMNS} FROM suppression ORDER BY id DESC"), Vec::new());
    fetch_all(pool, &mut builder, "suppression", decode_suppression).await
}

async fn fetch<D: Dialect>(on: impl Into<On<'_, D>>, id: i64) -> Result<Suppression, Error> {
    let mut builder = statement::<D>(
        &format!("SELECT {SUPPRESSION_COLUMNS} FROM suppression WHERE id = ?"),
        vec![SqlValue::Integer(id)],
    );
    fetch_optional(on, &mut builder, "suppression", decode_suppression).await?.ok_or(Error::UnknownSuppression(id))
}
