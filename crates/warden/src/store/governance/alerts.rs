//! Alerts: opened and resolved by an evaluation's plan, acted on by operators, each transition an event.

use sqlx::Pool;
use time::OffsetDateTime;
use warden_core::governance::{Alert, AlertAction, AlertEvent, AlertPlan, AlertStatus, dedupe_key, next_status};
use warden_core::id::EnvironmentName;

use crate::store::governance::audit;
use crate::store::governance::rows::{ALERT_COLUMNS, decode_alert, decode_alert_event, text, time};
use crate::store::sql::{Dialect, On, SqlValue, begin_write, execute, fetch_all, fetch_optional, statement};
use crate::store::{Error, WARDEN_OPERATOR};

pub(super) async fn apply_plan<D: Dialect>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    plan: &AlertPlan,
    now: OffsetDateTime,
) -> Result<(Vec<Alert>, Vec<Alert>), Error> {
    let mut transaction = begin_write(pool).await?;
    let mut opened = Vec::new();
    for finding in &plan.open {
        let mut builder = statement::<D>(
            "INSERT INTO alert (dedupe_key, environment, rule, severity, subject_kind, subject_id, subject_name, \
             org_id, message, status, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (dedupe_key) WHERE status <> 'resolved' DO NOTHING RETURNING id",
            vec![
                text(dedupe_key(finding)),
                text(environment.as_str()),
                text(finding.rule),
                text(finding.severity.as_str()),
                text(finding.subject.kind.as_str()),
                text(finding.subject.id.as_str()),
                text(finding.subject.name.as_str()),
                SqlValue::NullableText(finding.subject.org_id.as_ref().map(ToString::to_string)),
                text(finding.message.as_str()),
                text(AlertStatus::Open.as_str()),
                time(now),
                time(now),
            ],
        );
        let opened_id = fetch_optional(&mut *transaction, &mut builder, "alert", |row| row.integer("id")).await?;
        let Some(id) = opened_id else { continue };
        let event = AlertEvent {
            alert_id: id,
            at: now,
            operator: WARDEN_OPERATOR.to_owned(),
            action: "opened".to_owned(),
            from_status: None,
            to_status: AlertStatus::Open,
            note: None,
        };
        record_event::<D>(&mut transaction, &event).await?;
        opened.push(fetch::<D>(&mut *transaction, id).await?);
    }
    let mut resolved = Vec::new();
    for (id, reason) in &plan.resolve {
        let before = fetch::<D>(&mut *transaction, *id).await?;
        if before.status == AlertStatus::Resolved {
            continue;
        }
        let mut builder = statement::<D>(
            "UPDATE alert SET status = ?, updated_at = ?, resolved_at = ?, resolution = ? WHERE id = ?",
            vec![
                text(AlertStatus::Resolved.as_str()),
                time(now),
                time(now),
                text(reason.as_str()),
                SqlValue::Integer(*id),
            ],
        );
        execute(&mut *transaction, &mut builder).await?;
        let event = AlertEvent {
            alert_id: *id,
            at: now,
            operator: WARDEN_OPERATOR.to_owned(),
            action: "resolved".to_owned(),
            from_status: Some(before.status.clone()),
            to_status: AlertStatus::Resolved,
            note: Some(reason.clone()),
        };
        record_event::<D>(&mut transaction, &event).await?;
        resolved.push(fetch::<D>(&mut *transaction, *id).await?);
    }
    transaction.commit().await?;
    Ok((opened, resolved))
}

pub(super) async fn list<D: Dialect>(pool: &Pool<D>, status: Option<&AlertStatus>) -> Result<Vec<Alert>, Error> {
    let mut builder = match status {
        Some(status) => statement::<D>(
            &format!("SELECT {ALERT_COLUMNS} FROM alert WHERE status = ? ORDER BY id DESC"),
            vec![text(status.as_str())],
        ),
        None => statement::<D>(
            &format!("SELECT {ALERT_COLUMNS} FROM alert WHERE status <> 'resolved' ORDER BY id DESC"),
            Vec::new(),
        ),
    };
    fetch_all(pool, &mut builder, "alert", decode_alert).await
}

pub(super) async fn get<D: Dialect>(pool: &Pool<D>, id: i64) -> Result<Alert, Error> {
    fetch::<D>(pool, id).await
}

pub(super) async fn act<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    action: &AlertAction,
    operator: &str,
    now: OffsetDateTime,
) -> Result<Alert, Error> {
    let mut transaction = begin_write(pool).await?;
    let before = fetch::<D>(&mut *transaction, id).await?;
    let after = next_status(&before.status, action).map_err(|error| Error::Refused(error.to_string()))?;
    let (note, resolution) = match action {
        AlertAction::Acknowledge => (None, None),
        AlertAction::Resolve { reason } => (Some(reason.clone()), Some(reason.clone())),
        AlertAction::Note { text } => (Some(text.clone()), None),
    };
    if after != before.status {
        let resolved_at = (after == AlertStatus::Resolved).then_some(now);
        let mut builder = statement::<D>(
            "UPDATE alert SET status = ?, updated_at = ?, resolved_at = ?, resolution = ? WHERE id = ?",
            vec![
                text(after.as_str()),
                time(now),
                SqlValue::Time(resolved_at),
                SqlValue::NullableText(resolution),
                SqlValue::Integer(id),
            ],
        );
        execute(&mut *transaction, &mut builder).await?;
    }
    let event = AlertEvent {
        alert_id: id,
        at: now,
        operator: operator.to_owned(),
        action: action.name().to_owned(),
        from_status: Some(before.status.clone()),
        to_status: after.clone(),
        note: note.clone(),
    };
    record_event::<D>(&mut transaction, &event).await?;
    let details = serde_json::json!({ "from": before.status.as_str(), "to": after.as_str(), "note": note });
    audit::record::<D>(
        &mut transaction,
        operator,
        &format!("alert.{}", action.name()),
        &format!("alert/{id}"),
        details,
        now,
    )
    .await?;
    let alert = fetch::<D>(&mut *transaction, id).await?;
    transaction.commit().await?;
    Ok(alert)
}

pub(super) async fn events<D: Dialect>(pool: &Pool<D>, id: i64) -> Result<Vec<AlertEvent>, Error> {
    let mut builder = statement::<D>(
        "SELECT alert_id, at, operator, action, from_status, to_status, note FROM alert_event \
         WHERE alert_id = ? ORDER BY at, id",
        vec![SqlValue::Integer(id)],
    );
    fetch_all(pool, &mut builder, "alert_event", decode_alert_event).await
}

async fn fetch<D: Dialect>(on: impl Into<On<'_, D>>, id: i64) -> Result<Alert, Error> {
    let mut builder =
        statement::<D>(&format!("SELECT {ALERT_COLUMNS} FROM alert WHERE id = ?"), vec![SqlValue::Integer(id)]);
    fetch_optional(on, &mut builder, "alert", decode_alert).await?.ok_or(Error::UnknownAlert(id))
}

async fn record_event<D: Dialect>(connection: &mut D::Connection, event: &AlertEvent) -> Result<(), Error> {
    let mut builder = statement::<D>(
        "INSERT INTO alert_event (alert_id, at, operator, action, from_status, to_status, note) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            SqlValue::Integer(event.alert_id),
            time(event.at),
            text(event.operator.as_str()),
            text(event.action.as_str()),
            SqlValue::NullableText(event.from_status.as_ref().map(|status| status.as_str().to_owned())),
            text(event.to_status.as_str()),
            SqlValue::NullableText(event.note.clone()),
        ],
    );
    execute(connection, &mut builder).await?;
    Ok(())
}
