//! The webhook notification outbox and its delivery log: queued with the alert that causes them, attempted when
//! due, each attempt recorded.

use sqlx::Pool;
use time::OffsetDateTime;

use crate::store::governance::rows::{NOTIFICATION_COLUMNS, decode_notification, text, time};
use crate::store::sql::{Dialect, SqlValue, execute, fetch_all, statement};
use crate::store::{DeliveryAttempt, DeliveryStatus, Error, NewNotification, Notification};

pub(super) async fn enqueue<D: Dialect>(
    pool: &Pool<D>,
    notifications: &[NewNotification],
    now: OffsetDateTime,
) -> Result<(), Error> {
    let mut transaction = pool.begin().await?;
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

pub(super) async fn due<D: Dialect>(
    pool: &Pool<D>,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Notification>, Error> {
    let mut builder = statement::<D>(
        &format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notification_delivery WHERE status = ? AND next_attempt_at <= ? \
             ORDER BY next_attempt_at, id LIMIT ?"
        ),
        vec![text(DeliveryStatus::Pending.as_str()), time(now), SqlValue::Integer(i64::from(limit))],
    );
    fetch_all(pool, &mut builder, "notification_delivery", decode_notification).await
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
         last_status = ?, last_error = ?, delivered_at = ? WHERE id = ?",
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
