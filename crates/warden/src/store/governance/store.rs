//! The governance aggregate's trait, [`GovernanceStore`], and the types it takes and returns besides
//! `warden_core::governance`'s.

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::governance::{
    Alert, AlertAction, AlertEvent, AlertPlan, AlertStatus, FindingsDelta, Suppression, TrackedFinding,
};
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::posture::Finding;
use warden_core::trend::TrendPoint;

use crate::store::Error;

/// Who warden's own actions are attributed to in alert histories.
pub const WARDEN_OPERATOR: &str = "warden";

/// A webhook notification waiting in the outbox, or delivered, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub alert_id: i64,
    /// The configured webhook's name (its URL is configuration, never stored).
    pub webhook: String,
    /// `opened` or `resolved`.
    pub event: String,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
}

/// A notification to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub alert_id: i64,
    pub webhook: String,
    pub event: String,
    pub payload: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Given up after the last retry.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub(super) fn parse(text: &str) -> Option<DeliveryStatus> {
        [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub status: DeliveryStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// When to try again (pending only).
    pub next_attempt_at: OffsetDateTime,
}

/// One thing an operator (or warden) did, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: OffsetDateTime,
    pub operator: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
}

#[async_trait]
pub trait GovernanceStore: Send + Sync {
    /// Records one evaluation of an environment's findings in one transaction: findings already open keep their
    /// first sighting and move their last one to `now`; new ones (or ones back after being resolved) open; open ones
    /// no longer found are resolved at `now`.
    async fn record_findings(
        &self,
        environment: &EnvironmentName,
        findings: &[Finding],
        now: OffsetDateTime,
    ) -> Result<FindingsDelta, Error>;
    /// Findings, open ones only unless `include_resolved`, highest severity first.
    async fn list_findings(
        &self,
        environment: Option<&EnvironmentName>,
        include_resolved: bool,
    ) -> Result<Vec<TrackedFinding>, Error>;

    /// Stores a suppression (its `id` is assigned) and audits it.
    async fn add_suppression(&self, suppression: &Suppression) -> Result<Suppression, Error>;
    /// Lifts a suppression and audits it.
    async fn lift_suppression(&self, id: i64, operator: &str, now: OffsetDateTime) -> Result<Suppression, Error>;
    /// Every suppression, lifted and expired ones included, newest first.
    async fn list_suppressions(&self) -> Result<Vec<Suppression>, Error>;

    async fn insert_trend_points(&self, run: SyncRunId, points: &[TrendPoint]) -> Result<(), Error>;
    /// Trend points of an environment (every organization and the environment's own), oldest first.
    async fn list_trend_points(
        &self,
        environment: &EnvironmentName,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<TrendPoint>, Error>;

    /// Applies an evaluation's alert plan in one transaction (each transition an event by [`WARDEN_OPERATOR`]) and
    /// returns the alerts it opened and resolved. An alert another replica opened meanwhile is not opened twice.
    async fn apply_alert_plan(
        &self,
        environment: &EnvironmentName,
        plan: &AlertPlan,
        now: OffsetDateTime,
    ) -> Result<(Vec<Alert>, Vec<Alert>), Error>;
    /// Alerts, newest first: those of one status, or every one that is not resolved.
    async fn list_alerts(&self, status: Option<&AlertStatus>) -> Result<Vec<Alert>, Error>;
    async fn get_alert(&self, id: i64) -> Result<Alert, Error>;
    /// An operator's action on an alert, checked against the lifecycle, recorded as an event and audited.
    async fn act_on_alert(
        &self,
        id: i64,
        action: &AlertAction,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Alert, Error>;
    /// The alert's history, oldest first.
    async fn alert_events(&self, id: i64) -> Result<Vec<AlertEvent>, Error>;

    async fn enqueue_notifications(&self, notifications: &[NewNotification], now: OffsetDateTime) -> Result<(), Error>;
    /// Claims for `claimant` until `claimed_until` at most `limit` pending notifications whose next attempt is due
    /// and that nobody else has claimed (or whose claim ran out), oldest first: each is attempted by one process.
    async fn claim_due_notifications(
        &self,
        claimant: &str,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Notification>, Error>;
    /// Records an attempt's outcome and ends the claim on the notification.
    async fn record_delivery(&self, id: i64, attempt: &DeliveryAttempt, now: OffsetDateTime) -> Result<(), Error>;
    /// The delivery log: every notification (of one alert, if given), newest first.
    async fn list_notifications(&self, alert: Option<i64>) -> Result<Vec<Notification>, Error>;

    /// The audit log, newest first.
    async fn list_audit_events(&self, limit: u32) -> Result<Vec<AuditEvent>, Error>;
}
