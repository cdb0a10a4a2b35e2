//! The webhook notification outbox and its delivery log: queued with the alert that causes them, attempted when
//! due, each attempt recorded.

use sqlx::Pool;
use time::OffsetDateTime;

use crate::store::governance::rows::{NOTIFICATION_COLUMNS, decode_notification, text, time};
use crate::store::sql::{Dialect, SqlValue, begin_write, execute, fetch_all, statement};
use crate::store::{DeliveryAttempt, DeliveryStatus, Error, NewNotification, Notification};

pub(super) async fn enqueue<D: Dialect>(
    pool: &Pool<D>,
    notifications: &[NewNotification],
    now: OffsetDateTime,
) -> Result<(), Error> {
    let mut transaction = begin_write(pool).await?;
    for notification in notifications {
        let mut builder = statement::<D>(
            "INSERT INTO notification_delivery (alert_id, webhook, event, payload, status, attempts, \
             next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            vec![
                SqlValue::Integer(notification.alert_id),
                text(notification.webhook.as_str()),
                text(notification.event.as_str()),
                text(notification.payload.as_str()),
                text(DeliveryStatus::Pending.as_str()),
                time(now),
                time(now),
            ],
        );
        execute(&mut *transaction, &mut builder).await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// Claims up to `limit` pending notifications that are due and not claimed by anyone else (or whose claim ran
/// out) for `claimant` until `claimed_until`, in one statement; on PostgreSQL rows another replica is claiming at
/// the same moment are skipped, not waited for (`FOR UPDATE SKIP LOCKED`).
pub(super) async fn claim_due<D: Dialect>(
    pool: &Pool<D>,
    claimant: &str,
    now: OffsetDateTime,
    claimed_until: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Notification>, Error> {
    let mut builder = statement::<D>(
        &format!(
            "UPDATE notification_delivery SET claimed_by = ?, claimed_until = ? WHERE id IN (\
             SELECT id FROM notification_delivery WHERE status = ? AND next_attempt_at <= ? \
             AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY next_attempt_at, id LIMIT ?{}) \
             RETURNING {NOTIFICATION_COLUMNS}",
            D::SKIP_LOCKED
        ),
        vec![
            text(claimant),
            time(claimed_until),
            text(DeliveryStatus::Pending.as_str()),
            time(now),
            time(now),
            SqlValue::Integer(i64::from(limit)),
        ],
    );
    let mut claimed = fetch_all(pool, &mut builder, "notification_delivery", decode_notification).await?;
    claimed.sort_by(|a, b| a.next_attempt_at.cmp(&b.next_attempt_at).then(a.id.cmp(&b.id)));
    Ok(claimed)
}

pub(super) async fn record_delivery<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    attempt: &DeliveryAttempt,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let delivered_at = (attempt.status == DeliveryStatus::Delivered).then_some(now);
    let mut builder = statement::<D>(
        "UPDATE notification_delivery SET status = ?, attempts = attempts + 1, next_attempt_at = ?, \
         last_status = ?, last_error = ?, delivered_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
        vec![
            text(attempt.status.as_str()),
            time(attempt.next_attempt_at),
            match attempt.http_status {
                Some(status) => SqlValue::Integer(i64::from(status)),
                None => SqlValue::NullableInteger(None),
            },
            SqlValue::NullableText(attempt.error.clone()),
            SqlValue::Time(delivered_at),
            SqlValue::Integer(id),
        ],
    );
    execute(pool, &mut builder).await?;
    Ok(())
}

pub(super) async fn list<D: Dialect>(pool: &Pool<D>, alert: Option<i64>) -> Result<Vec<Notification>, Error> {
    let mut builder = match alert {
        Some(alert) => statement::<D>(
            &format!("SELECT {NOTIFICATION_COLUMNS} FROM notification_delivery WHERE alert_id = ? ORDER BY id DESC"),
            vec![SqlValue::Integer(alert)],
        ),
        None => statement::<D>(
            &format!("SELECT {NOTIFICATION_COLUMNS} FROM notification_delivery ORDER BY id DESC"),
            Vec::new(),
        ),
    };
    fetch_all(pool, &mut builder, "notification_delivery", decode_notification).await
}
