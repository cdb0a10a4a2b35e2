//! The audit log: what an operator (or warden) did, appended in the transaction of the change it records.

use sqlx::Pool;
use time::OffsetDateTime;

use crate::store::governance::rows::{decode_audit_event, text, time};
use crate::store::sql::{Dialect, SqlValue, execute, fetch_all, statement};
use crate::store::{AuditEvent, Error};

/// Appends one entry, on the caller's connection (the transaction of the change it records).
pub(crate) async fn record<D: Dialect>(
    connection: &mut D::Connection,
    operator: &str,
    action: &str,
    target: &str,
    details: serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let mut builder = statement::<D>(
        "INSERT INTO audit_event (at, operator, action, target, details) VALUES (?, ?, ?, ?, ?)",
        vec![time(now), text(operator), text(action), text(target), text(details.to_string())],
    );
    execute(connection, &mut builder).await?;
    Ok(())
}

pub(super) async fn list<D: Dialect>(pool: &Pool<D>, limit: u32) -> Result<Vec<AuditEvent>, Error> {
    let mut builder = statement::<D>(
        "SELECT at, operator, action, target, details FROM audit_event ORDER BY at DESC, id DESC LIMIT ?",
        vec![SqlValue::Integer(i64::from(limit))],
    );
    fetch_all(pool, &mut builder, "audit_event", decode_audit_event).await
}
