//! Webhook notifications: payloads, and delivering the outbox with retries and backoff. A failing endpoint only
//! delays its own notifications; every attempt is in the delivery log.

use std::time::Duration as StdDuration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use warden_core::governance::Alert;
use warden_core::posture::Subject;

use crate::config::{WebhookConfig, WebhookFormat};
use crate::store::{self, DeliveryAttempt, DeliveryStatus, Notification, Store};

/// Waits before the 2nd, 3rd, ... attempt; after the last, the notification is given up (`failed`).
const BACKOFF: [Duration; 5] =
    [Duration::seconds(30), Duration::minutes(2), Duration::minutes(10), Duration::hours(1), Duration::hours(6)];
/// One attempt may take this long.
pub const ATTEMPT_TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// Notifications claimed and sent per call of [`deliver_due`].
const BATCH: u32 = 20;
/// How long a claim lasts: every attempt of a batch at its longest, and a minute to record them. A process that dies
/// holding a claim delays those notifications by this much, never more.
const CLAIM: Duration = Duration::seconds(BATCH as i64 * ATTEMPT_TIMEOUT.as_secs() as i64 + 60);

/// A finding's or an alert's subject as JSON: the shape every JSON interface of warden uses.
pub fn subject_json(subject: &Subject) -> Value {
    json!({
        "type": subject.kind.as_str(),
        "id": subject.id,
        "name": subject.name,
        "org_id": subject.org_id.as_ref().map(ToString::to_string),
    })
}

/// An alert as JSON (`warden alerts list --format json` and the generic webhook's `alert`).
pub fn alert_json(alert: &Alert) -> Value {
    json!({
        "id": alert.id,
        "status": alert.status.as_str(),
        "rule": alert.rule,
        "severity": alert.severity.as_str(),
        "environment": alert.environment.as_str(),
        "subject": subject_json(&alert.subject),
        "message": alert.message,
        "opened_at": alert.opened_at.to_string(),
        "resolved_at": alert.resolved_at.map(|time| time.to_string()),
        "resolution": alert.resolution,
    })
}

/// The body a webhook receives.
pub fn payload(format: WebhookFormat, event: &str, alert: &Alert) -> Value {
    match format {
        WebhookFormat::Json => json!({ "event": event, "alert": alert_json(alert) }),
        WebhookFormat::Slack => {
            let text = match event {
                "resolved" => format!(
                    "Resolved [{}] {} in {}: {} ({})",
                    alert.severity.as_str().to_uppercase(),
                    alert.rule,
                    alert.environment,
                    alert.message,
                    alert.resolution.as_deref().unwrap_or("resolved"),
                ),
                _ => format!(
                    "[{}] {} in {}: {} (alert #{})",
                    alert.severity.as_str().to_uppercase(),
                    alert.rule,
                    alert.environment,
                    alert.message,
                    alert.id
                ),
            };
            json!({ "text": text })
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Claims the notifications due at `now` for `claimant` (so no other process sends them), sends each once, and
/// records every outcome.
pub async fn deliver_due(
    store: &dyn Store,
    claimant: &str,
    webhooks: &[WebhookConfig],
    http: &reqwest::Client,
    now: OffsetDateTime,
) -> Result<DeliveryOutcome, store::Error> {
    let mut outcome = DeliveryOutcome::default();
    loop {
        let claimed = store.claim_due_notifications(claimant, now, now + CLAIM, BATCH).await?;
        let last_batch = claimed.len() < BATCH as usize;
        for notification in claimed {
            deliver_one(store, webhooks, http, &notification, now, &mut outcome).await?;
        }
        if last_batch {
            return Ok(outcome);
        }
    }
}

/// One attempt of one claimed notification, recorded.
async fn deliver_one(
    store: &dyn Store,
    webhooks: &[WebhookConfig],
    http: &reqwest::Client,
    notification: &Notification,
    now: OffsetDateTime,
    outcome: &mut DeliveryOutcome,
) -> Result<(), store::Error> {
    let result = match webhooks.iter().find(|webhook| webhook.name == notification.webhook) {
        None => Err((None, format!("webhook {} is no longer configured", notification.webhook))),
        Some(webhook) => send(http, webhook, &notification.payload).await,
    };
    let attempt = match result {
        Ok(status) => {
            outcome.delivered += 1;
            DeliveryAttempt {
                status: DeliveryStatus::Delivered,
                http_status: Some(status),
                error: None,
                next_attempt_at: now,
            }
        }
        Err((http_status, error)) => {
            let backoff = BACKOFF.get(notification.attempts as usize);
            tracing::warn!(webhook = %notification.webhook, alert = notification.alert_id, %error, "notification not delivered");
            match backoff {
                Some(wait) => {
                    outcome.retrying += 1;
                    DeliveryAttempt {
                        status: DeliveryStatus::Pending,
                        http_status,
                        error: Some(error),
                        next_attempt_at: now + *wait,
                    }
                }
                None => {
                    outcome.failed += 1;
                    DeliveryAttempt {
                        status: DeliveryStatus::Failed,
                        http_status,
                        error: Some(error),
                        next_attempt_at: now,
                    }
                }
            }
        }
    };
    store.record_delivery(notification.id, &attempt, now).await?;
    Ok(())
}

/// One POST; the error never contains the URL (it may carry a secret).
async fn send(http: &reqwest::Client, webhook: &WebhookConfig, payload: &str) -> Result<u16, (Option<u16>, String)> {
    let url = webhook.url().map_err(|error| (None, error))?;
    let response = http
        .post(url.expose_secret())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_owned())
        .timeout(ATTEMPT_TIMEOUT)
        .send()
        .await
        .map_err(|error| {
            let kind = if error.is_timeout() {
                "timed out"
            } else if error.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            (None, kind.to_owned())
        })?;
    let status = response.status().as_u16();
    if response.status().is_success() { Ok(status) } else { Err((Some(status), format!("HTTP {status}"))) }
}
