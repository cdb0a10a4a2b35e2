//! `service-account-growth`: machine users multiplying faster than anyone reviews them.
//!
//! Read from trend points ([`crate::trend::TrendPoint`]), one series per organization and one for the environment
//! as a whole. In each series, points after `now` are ignored; the *current* count is the latest point; the
//! *baseline* is the latest point at or before `now - policy.growth_window_days` or, when the series is younger
//! than the window, its earliest point. Growth is `(current - baseline) / baseline`; the rule fires when it is
//! strictly more than `policy.growth_percent` and the baseline is at least `policy.growth_min_baseline`.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::id::{EnvironmentName, OrgId};
use crate::model::{ResourceKind, Snapshot};
use crate::posture::{Finding, Policy, Rule, Severity, Subject, SubjectKind, date_text};
use crate::trend::TrendPoint;

pub const SERVICE_ACCOUNT_GROWTH: Rule = Rule {
    id: "service-account-growth",
    severity: Severity::Medium,
    remediation: "Find out who created the new service accounts and why (the change history names them); remove \
                  the ones nobody owns, and make creating service accounts a reviewed step.",
};

/// Organizations (and the environment as a whole) of `environment` whose machine users grew more than the policy
/// allows within its window. `snapshot` only names the organizations; points of other environments are ignored.
pub fn service_account_growth(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    points: &[TrendPoint],
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let mut series: BTreeMap<Option<&OrgId>, Vec<&TrendPoint>> = BTreeMap::new();
    for point in points.iter().filter(|point| &point.environment == environment && point.at <= now) {
        series.entry(point.org_id.as_ref()).or_default().push(point);
    }
    let window_start = now - Duration::days(policy.growth_window_days);
    let mut findings = Vec::new();
    for (org_id, mut points) in series {
        points.sort_by_key(|point| point.at);
        let (Some(first), Some(current)) = (points.first(), points.last()) else { continue };
        let baseline = points.iter().rev().find(|point| point.at <= window_start).unwrap_or(first);
        if std::ptr::eq(*baseline, *current) {
            continue;
        }
        let (before, after) = (baseline.machine_users, current.machine_users);
        if before < policy.growth_min_baseline || before == 0 || after <= before {
            continue;
        }
        // (after - before) / before > percent / 100, in integers
        if (after - before).saturating_mul(100) <= policy.growth_percent.saturating_mul(before) {
            continue;
        }
        let growth_percent = (after - before).saturating_mul(100) / before;
        let subject = match org_id {
            Some(org_id) => Subject {
                kind: ResourceKind::Org.into(),
                id: org_id.to_string(),
                name: snapshot
                    .orgs
                    .iter()
                    .find(|org| &org.id == org_id)
                    .map_or_else(|| org_id.to_string(), |org| org.name.clone()),
                org_id: Some(org_id.clone()),
            },
            None => Subject {
                kind: SubjectKind::Environment,
                id: environment.to_string(),
                name: environment.to_string(),
                org_id: None,
            },
        };
        let scope = match org_id {
            Some(_) => format!("organization {}", subject.name),
            None => format!("environment {environment}"),
        };
        findings.push(Finding {
            rule: SERVICE_ACCOUNT_GROWTH.id,
            severity: SERVICE_ACCOUNT_GROWTH.severity,
            environment: environment.clone(),
            message: format!(
                "machine users in {scope} grew by {growth_percent} % (from {before} on {} to {after} on {})",
                date_text(baseline.at),
                date_text(current.at)
            ),
            subject,
            evidence: vec![
                ("baseline".to_owned(), format!("{before} machine users on {}", date_text(baseline.at))),
                ("current".to_owned(), format!("{after} machine users on {}", date_text(current.at))),
                ("growth".to_owned(), format!("{growth_percent} %")),
                ("window".to_owned(), format!("{} days", policy.growth_window_days)),
            ],
            remediation: SERVICE_ACCOUNT_GROWTH.remediation,
        });
    }
    crate::posture::sort_findings(&mut findings);
    findings
}
