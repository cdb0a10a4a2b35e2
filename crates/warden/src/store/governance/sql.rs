//! The SQL of [`GovernanceStore`], a file per sub-topic: `findings`, `suppressions`, `trends`, `alerts`,
//! `notifications`, `audit`. The decisions are `warden_core::governance`'s; these modules only store them.

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::governance::{
    Alert, AlertAction, AlertEvent, AlertPlan, AlertStatus, FindingsDelta, Suppression, TrackedFinding,
};
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::posture::Finding;
use warden_core::trend::TrendPoint;

use crate::store::governance::{alerts, audit, findings, notifications, suppressions, trends};
use crate::store::sql::Dialect;
use crate::store::sql_store::SqlStore;
use crate::store::{AuditEvent, DeliveryAttempt, Error, GovernanceStore, NewNotification, Notification};

#[async_trait]
impl<D: Dialect> GovernanceStore for SqlStore<D> {
    async fn record_findings(
        &self,
        environment: &EnvironmentName,
        findings: &[Finding],
        now: OffsetDateTime,
    ) -> Result<FindingsDelta, Error> {
        findings::record(&self.pool, environment, findings, now).await
    }

    async fn list_findings(
        &self,
        environment: Option<&EnvironmentName>,
        include_resolved: bool,
    ) -> Result<Vec<TrackedFinding>, Error> {
        findings::list(&self.pool, environment, include_resolved).await
    }

    async fn add_suppression(&self, suppression: &Suppression) -> Result<Suppression, Error> {
        suppressions::add(&self.pool, suppression).await
    }

    async fn lift_suppression(&self, id: i64, operator: &str, now: OffsetDateTime) -> Result<Suppression, Error> {
        suppressions::lift(&self.pool, id, operator, now).await
    }

    async fn list_suppressions(&self) -> Result<Vec<Suppression>, Error> {
        suppressions::list(&self.pool).await
    }

    async fn insert_trend_points(&self, run: SyncRunId, points: &[TrendPoint]) -> Result<(), Error> {
        trends::insert(&self.pool, run, points).await
    }

    async fn list_trend_points(
        &self,
        environment: &EnvironmentName,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<TrendPoint>, Error> {
        trends::list(&self.pool, environment, since).await
    }

    async fn apply_alert_plan(
        &self,
        environment: &EnvironmentName,
        plan: &AlertPlan,
        now: OffsetDateTime,
    ) -> Result<(Vec<Alert>, Vec<Alert>), Error> {
        alerts::apply_plan(&self.pool, environment, plan, now).await
    }

    async fn list_alerts(&self, status: Option<&AlertStatus>) -> Result<Vec<Alert>, Error> {
        alerts::list(&self.pool, status).await
    }

    async fn get_alert(&self, id: i64) -> Result<Alert, Error> {
        alerts::get(&self.pool, id).await
    }

    async fn act_on_alert(
        &self,
        id: i64,
        action: &AlertAction,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Alert, Error> {
        alerts::act(&self.pool, id, action, operator, now).await
    }

    async fn alert_events(&self, id: i64) -> Result<Vec<AlertEvent>, Error> {
        alerts::events(&self.pool, id).await
    }

    async fn enqueue_notifications(&self, notifications: &[NewNotification], now: OffsetDateTime) -> Result<(), Error> {
        notifications::enqueue(&self.pool, notifications, now).await
    }

    async fn claim_due_notifications(
        &self,
        claimant: &str,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Notification>, Error> {
        notifications::claim_due(&self.pool, claimant, now, claimed_until, limit).await
    }

    async fn record_delivery(&self, id: i64, attempt: &DeliveryAttempt, now: OffsetDateTime) -> Result<(), Error> {
        notifications::record_delivery(&self.pool, id, attempt, now).await
    }

    async fn list_notifications(&self, alert: Option<i64>) -> Result<Vec<Notification>, Error> {
        notifications::list(&self.pool, alert).await
    }

    async fn list_audit_events(&self, limit: u32) -> Result<Vec<AuditEvent>, Error> {
        audit::list(&self.pool, limit).await
    }
}
