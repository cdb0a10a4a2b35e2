//! What operators act on: findings as governance tracks them, suppressions, alerts and their histories, and the
//! audit log. Every action that changes a decision takes the [`Operator`] who made it and is audited.

use time::{Duration, OffsetDateTime};
use warden_core::governance::{
    Alert, AlertAction, AlertEvent, AlertStatus, Suppression, TrackedFinding, suppressed_by,
};
use warden_core::id::EnvironmentName;
use warden_core::operator::Operator;
use warden_core::posture;

use crate::app::{App, Error};
use crate::store::{AuditEvent, Notification};

/// A tracked finding, with the suppression that covers it now, if any.
#[derive(Debug, Clone)]
pub struct FindingStatus {
    pub tracked: TrackedFinding,
    pub suppressed_by: Option<i64>,
}

/// Findings as tracked across syncs (open ones unless `include_resolved`), highest severity first.
pub async fn tracked_findings(
    app: &App,
    environment: Option<&EnvironmentName>,
    include_resolved: bool,
) -> Result<Vec<FindingStatus>, Error> {
    let store = app.store();
    let findings = store.list_findings(environment, include_resolved).await?;
    let suppressions = store.list_suppressions().await?;
    let now = app.now();
    Ok(findings
        .into_iter()
        .map(|tracked| {
            let suppressed_by = suppressed_by(&suppressions, &tracked.finding, now).map(|suppression| suppression.id);
            FindingStatus { tracked, suppressed_by }
        })
        .collect())
}

/// A suppression to add: a rule's findings accepted, for one subject or every one, in one environment or every one.
#[derive(Debug, Clone)]
pub struct NewSuppression {
    pub rule: String,
    pub environment: Option<EnvironmentName>,
    pub subject_id: Option<String>,
    pub reason: String,
    /// Until it is lifted when `None`.
    pub days: Option<u32>,
}

/// Stores the suppression and audits it.
pub async fn add_suppression(app: &App, new: NewSuppression, by: &Operator) -> Result<Suppression, Error> {
    if posture::rule(&new.rule).is_none() {
        return Err(Error::Invalid(format!("no rule {:?} (docs/rules.md lists them)", new.rule)));
    }
    if new.reason.trim().is_empty() {
        return Err(Error::Invalid("the reason may not be empty".to_owned()));
    }
    let now = app.now();
    let suppression = Suppression {
        id: 0,
        environment: new.environment,
        rule: new.rule,
        subject_id: new.subject_id,
        reason: new.reason,
        created_by: by.recorded_name().to_owned(),
        created_at: now,
        expires_at: new.days.map(|days| now + Duration::days(i64::from(days))),
        lifted_by: None,
        lifted_at: None,
    };
    Ok(app.store().add_suppression(&suppression).await?)
}

/// Every suppression, lifted and expired ones included, newest first, with whether each is active now.
pub async fn suppressions(app: &App) -> Result<(Vec<Suppression>, OffsetDateTime), Error> {
    Ok((app.store().list_suppressions().await?, app.now()))
}

/// Ends a suppression; audited.
pub async fn lift_suppression(app: &App, id: i64, by: &Operator) -> Result<Suppression, Error> {
    Ok(app.store().lift_suppression(id, by.recorded_name(), app.now()).await?)
}

/// Alerts, newest first: those of one status, or every one that is not resolved.
pub async fn alerts(app: &App, status: Option<&AlertStatus>) -> Result<Vec<Alert>, Error> {
    if let Some(AlertStatus::Unknown(other)) = status {
        return Err(Error::Invalid(format!("alert status {other:?}: use open, acknowledged or resolved")));
    }
    Ok(app.store().list_alerts(status).await?)
}

/// One alert with its history (oldest first) and its notifications (newest first).
#[derive(Debug, Clone)]
pub struct AlertDetail {
    pub alert: Alert,
    pub events: Vec<AlertEvent>,
    pub notifications: Vec<Notification>,
}

pub async fn alert(app: &App, id: i64) -> Result<AlertDetail, Error> {
    let store = app.store();
    let alert = store.get_alert(id).await?;
    let events = store.alert_events(id).await?;
    let notifications = store.list_notifications(Some(id)).await?;
    Ok(AlertDetail { alert, events, notifications })
}

/// An operator's action on an alert (acknowledge, resolve, note), checked against its lifecycle; audited.
pub async fn act_on_alert(app: &App, id: i64, action: &AlertAction, by: &Operator) -> Result<Alert, Error> {
    Ok(app.store().act_on_alert(id, action, by.recorded_name(), app.now()).await?)
}

/// The audit log, newest first.
pub async fn audit_events(app: &App, limit: u32) -> Result<Vec<AuditEvent>, Error> {
    Ok(app.store().list_audit_events(limit).await?)
}
