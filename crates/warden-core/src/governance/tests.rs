#![allow(clippy::unwrap_used)]

use time::{Duration, OffsetDateTime, macros::datetime};

use super::*;
use crate::model::ResourceKind;
use crate::posture::SubjectKind;

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

fn finding(environment: &str, rule: &'static str, subject: &str, severity: Severity) -> Finding {
    Finding {
        rule,
        severity,
        environment: EnvironmentName::parse(environment).unwrap(),
        subject: Subject {
            kind: SubjectKind::Object(ResourceKind::User),
            id: subject.to_owned(),
            name: format!("sa-{subject}"),
            org_id: None,
        },
        message: "m".to_owned(),
        evidence: Vec::new(),
        remediation: "r",
    }
}

fn suppression(environment: Option<&str>, rule: &str, subject: Option<&str>) -> Suppression {
    Suppression {
        id: 7,
        environment: environment.map(|name| EnvironmentName::parse(name).unwrap()),
        rule: rule.to_owned(),
        subject_id: subject.map(str::to_owned),
        reason: "accepted: break-glass account".to_owned(),
        created_by: "ana".to_owned(),
        created_at: NOW - Duration::days(1),
        expires_at: None,
        lifted_by: None,
        lifted_at: None,
    }
}

fn alert(id: i64, finding: &Finding, status: AlertStatus) -> Alert {
    Alert {
        id,
        dedupe_key: dedupe_key(finding),
        environment: finding.environment.clone(),
        rule: finding.rule.to_owned(),
        severity: finding.severity,
        subject: finding.subject.clone(),
        message: finding.message.clone(),
        status,
        opened_at: NOW - Duration::hours(1),
        updated_at: NOW - Duration::hours(1),
        resolved_at: None,
        resolution: None,
    }
}

#[test]
fn suppressions_cover_by_rule_environment_and_subject_while_active() {
    let high = finding("prod", "machine-user-manager-role", "1", Severity::High);
    let cases: [(&str, Suppression, OffsetDateTime, bool); 8] = [
        ("rule everywhere", suppression(None, "machine-user-manager-role", None), NOW, true),
        ("other rule", suppression(None, "key-without-expiry", None), NOW, false),
        ("this environment", suppression(Some("prod"), "machine-user-manager-role", None), NOW, true),
        ("other environment", suppression(Some("staging"), "machine-user-manager-role", None), NOW, false),
        ("this subject", suppression(None, "machine-user-manager-role", Some("1")), NOW, true),
        ("other subject", suppression(None, "machine-user-manager-role", Some("2")), NOW, false),
        (
            "expired at the instant",
            Suppression { expires_at: Some(NOW), ..suppression(None, "machine-user-manager-role", None) },
            NOW,
            false,
        ),
        (
            "lifted",
            Suppression {
                lifted_at: Some(NOW - Duration::minutes(1)),
                lifted_by: Some("bo".to_owned()),
                ..suppression(None, "machine-user-manager-role", None)
            },
            NOW,
            false,
        ),
    ];
    for (name, suppression, now, expected) in cases {
        assert_eq!(suppression.covers(&high, now), expected, "{name}");
    }
    let expiring = Suppression { expires_at: Some(NOW), ..suppression(None, "machine-user-manager-role", None) };
    assert!(expiring.covers(&high, NOW - Duration::seconds(1)), "active until it expires");
}

#[test]
fn alert_lifecycle_moves_forward_only() {
    use AlertAction::*;
    use AlertStatus::*;
    let resolve = || Resolve { reason: "rotated the key".to_owned() };
    let note = || Note { text: "owner asked".to_owned() };
    let cases = [
        (Open, Acknowledge, Ok(Acknowledged)),
        (Open, resolve(), Ok(Resolved)),
        (Acknowledged, resolve(), Ok(Resolved)),
        (Acknowledged, Acknowledge, Err(AlertTransitionError::NotAllowed(Acknowledged))),
        (Resolved, Acknowledge, Err(AlertTransitionError::NotAllowed(Resolved))),
        (Resolved, resolve(), Err(AlertTransitionError::NotAllowed(Resolved))),
        (Resolved, note(), Ok(Resolved)),
        (Open, note(), Ok(Open)),
        (Open, Note { text: "  ".to_owned() }, Err(AlertTransitionError::EmptyText("note"))),
        (Open, Resolve { reason: String::new() }, Err(AlertTransitionError::EmptyText("resolution"))),
    ];
    for (from, action, expected) in cases {
        assert_eq!(next_status(&from, &action), expected, "{from} {action:?}");
    }
}

#[test]
fn alerts_open_once_per_subject_and_resolve_with_the_reason() {
    let manager = finding("prod", "machine-user-manager-role", "1", Severity::High);
    let key = finding("prod", "key-without-expiry", "1", Severity::Medium);
    let description = finding("prod", "machine-without-description", "1", Severity::Low);
    let cleared = finding("prod", "pat-without-expiry", "2", Severity::Medium);
    let suppressed = finding("prod", "machine-user-manager-role", "3", Severity::High);

    let active = vec![
        alert(1, &manager, AlertStatus::Acknowledged),
        alert(2, &cleared, AlertStatus::Open),
        alert(3, &suppressed, AlertStatus::Open),
    ];
    let findings = vec![manager.clone(), key.clone(), key.clone(), description, suppressed.clone()];
    let suppressions = vec![suppression(None, "machine-user-manager-role", Some("3"))];
    let plan = plan_alerts(&active, &findings, &suppressions, Severity::Medium, NOW);

    assert_eq!(plan.open, vec![key], "once, though found twice; low is below the threshold; 1 already has one");
    assert_eq!(plan.resolve.len(), 2);
    assert_eq!(plan.resolve[0], (2, "condition cleared".to_owned()));
    assert_eq!(plan.resolve[1].0, 3);
    assert!(plan.resolve[1].1.starts_with("suppressed by ana (#7)"), "{}", plan.resolve[1].1);
}
