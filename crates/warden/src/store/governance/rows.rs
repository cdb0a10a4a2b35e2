//! How governance records map onto their tables: column lists, bound values and decoding through `RowView`.

use time::OffsetDateTime;
use warden_core::governance::{Alert, AlertEvent, AlertStatus, Suppression, TrackedFinding};
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::posture::{self, Finding, Severity, Subject, SubjectKind};
use warden_core::trend::TrendPoint;

use crate::store::Error;
use crate::store::governance::store::{AuditEvent, DeliveryStatus, Notification};
use crate::store::sql::{RowView, SqlValue};

pub(super) fn text(value: impl Into<String>) -> SqlValue {
    SqlValue::text(value)
}

pub(super) fn time(value: OffsetDateTime) -> SqlValue {
    SqlValue::Time(Some(value))
}

fn parse_environment(view: &RowView<'_>, name: &str) -> Result<EnvironmentName, Error> {
    EnvironmentName::parse(name).map_err(|error| view.corrupt("environment", &error))
}

fn stored_environment(view: &RowView<'_>) -> Result<EnvironmentName, Error> {
    parse_environment(view, &view.text("environment")?)
}

fn severity(view: &RowView<'_>) -> Result<Severity, Error> {
    let text = view.text("severity")?;
    [Severity::Low, Severity::Medium, Severity::High]
        .into_iter()
        .find(|severity| severity.as_str() == text)
        .ok_or_else(|| view.corrupt("severity", &text))
}

fn subject(view: &RowView<'_>) -> Result<Subject, Error> {
    let kind = view.text("subject_kind")?;
    Ok(Subject {
        kind: SubjectKind::parse(&kind).ok_or_else(|| view.corrupt("subject_kind", &kind))?,
        id: view.text("subject_id")?,
        name: view.text("subject_name")?,
        org_id: view.optional_id::<OrgId>("org_id")?,
    })
}

pub(super) const FINDING_COLUMNS: &str = "environment, rule, subject_kind, subject_id, subject_name, org_id, \
                                          severity, message, evidence, remediation, first_seen, last_seen, resolved_at";

pub(super) fn decode_finding(view: &RowView<'_>) -> Result<TrackedFinding, Error> {
    let rule_id = view.text("rule")?;
    let rule = posture::rule(&rule_id).ok_or_else(|| view.corrupt("rule", &format!("unknown rule {rule_id}")))?;
    let evidence: Vec<(String, String)> =
        serde_json::from_str(&view.text("evidence")?).map_err(|error| view.corrupt("evidence", &error))?;
    Ok(TrackedFinding {
        finding: Finding {
            rule: rule.id,
            severity: severity(view)?,
            environment: stored_environment(view)?,
            subject: subject(view)?,
            message: view.text("message")?,
            evidence,
            remediation: rule.remediation,
        },
        first_seen: view.required_time("first_seen")?,
        last_seen: view.required_time("last_seen")?,
        resolved_at: view.time("resolved_at")?,
    })
}

pub(super) fn finding_key(finding: &Finding) -> (String, String, String) {
    (finding.rule.to_owned(), finding.subject.kind.as_str().to_owned(), finding.subject.id.clone())
}

pub(super) const SUPPRESSION_COLUMNS: &str =
    "id, environment, rule, subject_id, reason, created_by, created_at, expires_at, lifted_by, lifted_at";

pub(super) fn decode_suppression(view: &RowView<'_>) -> Result<Suppression, Error> {
    Ok(Suppression {
        id: view.integer("id")?,
        environment: view.optional_text("environment")?.map(|name| parse_environment(view, &name)).transpose()?,
        rule: view.text("rule")?,
        subject_id: view.optional_text("subject_id")?,
        reason: view.text("reason")?,
        created_by: view.text("created_by")?,
        created_at: view.required_time("created_at")?,
        expires_at: view.time("expires_at")?,
        lifted_by: view.optional_text("lifted_by")?,
        lifted_at: view.time("lifted_at")?,
    })
}

pub(super) const ALERT_COLUMNS: &str = "id, dedupe_key, environment, rule, severity, subject_kind, subject_id, \
                                        subject_name, org_id, message, status, opened_at, updated_at, resolved_at, \
                                        resolution";

pub(super) fn decode_alert(view: &RowView<'_>) -> Result<Alert, Error> {
    Ok(Alert {
        id: view.integer("id")?,
        dedupe_key: view.text("dedupe_key")?,
        environment: stored_environment(view)?,
        rule: view.text("rule")?,
        severity: severity(view)?,
        subject: subject(view)?,
        message: view.text("message")?,
        status: AlertStatus::from_text(&view.text("status")?),
        opened_at: view.required_time("opened_at")?,
        updated_at: view.required_time("updated_at")?,
        resolved_at: view.time("resolved_at")?,
        resolution: view.optional_text("resolution")?,
    })
}

pub(super) const NOTIFICATION_COLUMNS: &str = "id, alert_id, webhook, event, payload, status, attempts, \
                                               next_attempt_at, last_status, last_error, created_at, delivered_at";

pub(super) fn decode_notification(view: &RowView<'_>) -> Result<Notification, Error> {
    let status = view.text("status")?;
    Ok(Notification {
        id: view.integer("id")?,
        alert_id: view.integer("alert_id")?,
        webhook: view.text("webhook")?,
        event: view.text("event")?,
        payload: view.text("payload")?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| view.corrupt("status", &status))?,
        attempts: u32::try_from(view.unsigned("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: view.required_time("next_attempt_at")?,
        last_status: view.optional_integer("last_status")?.and_then(|status| u16::try_from(status).ok()),
        last_error: view.optional_text("last_error")?,
        created_at: view.required_time("created_at")?,
        delivered_at: view.time("delivered_at")?,
    })
}

pub(super) fn decode_trend_point(view: &RowView<'_>) -> Result<TrendPoint, Error> {
    let org = view.text("org_id")?;
    Ok(TrendPoint {
        at: view.required_time("at")?,
        environment: stored_environment(view)?,
        org_id: if org.is_empty() {
            None
        } else {
            Some(OrgId::parse(&org).map_err(|error| view.corrupt("org_id", &error))?)
        },
        machine_users: view.unsigned("machine_users")?,
        human_users: view.unsigned("human_users")?,
        user_grants: view.unsigned("user_grants")?,
        findings: view.unsigned("findings")?,
    })
}

pub(super) fn decode_alert_event(view: &RowView<'_>) -> Result<AlertEvent, Error> {
    Ok(AlertEvent {
        alert_id: view.integer("alert_id")?,
        at: view.required_time("at")?,
        operator: view.text("operator")?,
        action: view.text("action")?,
        from_status: view.optional_text("from_status")?.map(|status| AlertStatus::from_text(&status)),
        to_status: AlertStatus::from_text(&view.text("to_status")?),
        note: view.optional_text("note")?,
    })
}

pub(super) fn decode_audit_event(view: &RowView<'_>) -> Result<AuditEvent, Error> {
    Ok(AuditEvent {
        at: view.required_time("at")?,
        operator: view.text("operator")?,
        action: view.text("action")?,
        target: view.text("target")?,
        details: serde_json::from_str(&view.text("details")?).map_err(|error| view.corrupt("details", &error))?,
    })
}
