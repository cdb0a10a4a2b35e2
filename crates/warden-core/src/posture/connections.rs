//! SCIM connection health: from a connection's recent requests and its provisioning outbox, whether it is
//! `healthy`, `degraded` (failing requests, an old backlog, parked operations), `stalled` (no request within what
//! its operator expects, or a backlog that does not move) or `disabled`; and the findings an unhealthy connection
//! raises (`scim-connection-degraded`, `scim-connection-stalled`), whose alerts open and resolve with each transition.

use time::{Duration, OffsetDateTime};

use crate::id::{EnvironmentName, OrgId};
use crate::posture::{Finding, Rule, Severity, Subject, SubjectKind};

pub const SCIM_CONNECTION_DEGRADED: Rule = Rule {
    id: "scim-connection-degraded",
    severity: Severity::Medium,
    remediation: "Read the connection's request log (`warden scim connection log`) and its parked operations \
                  (`warden provisioning status`): a failing ZITADEL, a credential that lost its role, or a client \
                  sending bad requests. Retry or discard parked operations once the cause is fixed.",
};
pub const SCIM_CONNECTION_STALLED: Rule = Rule {
    id: "scim-connection-stalled",
    severity: Severity::High,
    remediation: "Check the identity provider's provisioning (paused, failing to authenticate, token rotated?) when \
                  no request arrives; check that `warden serve` runs and reaches ZITADEL when the backlog does not \
                  move (`warden provisioning status`).",
};

/// What a connection's health is judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionActivity {
    pub connection_id: String,
    pub name: String,
    pub org_id: OrgId,
    pub created_at: OffsetDateTime,
    pub disabled: bool,
    pub expect_activity_within: Option<Duration>,
    pub last_request_at: Option<OffsetDateTime>,
    /// Requests in the last hour, and of those the ones answered 5xx.
    pub requests_last_hour: u64,
    pub errors_last_hour: u64,
    pub requests_last_day: u64,
    pub errors_last_day: u64,
    /// Provisioning operations waiting (not parked), and the oldest waiting or parked one's enqueue time.
    pub backlog: u64,
    pub oldest_enqueued_at: Option<OffsetDateTime>,
    pub parked: u64,
    /// When ZITADEL last accepted one of its operations.
    pub last_applied_at: Option<OffsetDateTime>,
}

/// Thresholds (`[provisioning]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionHealthPolicy {
    /// Degraded above this share of 5xx answers in the last hour...
    pub max_error_ratio: f64,
    /// ...counted only from this many requests on.
    pub min_requests: u64,
    /// Degraded when the oldest waiting operation is older.
    pub max_backlog_age: Duration,
    /// Stalled when operations wait and none was applied for this long.
    pub stalled_after: Duration,
}

impl Default for ConnectionHealthPolicy {
    fn default() -> ConnectionHealthPolicy {
        ConnectionHealthPolicy {
            max_error_ratio: 0.05,
            min_requests: 20,
            max_backlog_age: Duration::minutes(5),
            stalled_after: Duration::minutes(15),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectionStatus {
    Healthy,
    Degraded,
    Stalled,
    Disabled,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Healthy => "healthy",
            ConnectionStatus::Degraded => "degraded",
            ConnectionStatus::Stalled => "stalled",
            ConnectionStatus::Disabled => "disabled",
        }
    }
}

/// A connection's status and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionHealth {
    pub status: ConnectionStatus,
    pub reasons: Vec<String>,
}

/// Judges a connection at `now`. Stalled wins over degraded: a connection that both fails and does not move needs
/// the more urgent look.
pub fn judge_connection(
    activity: &ConnectionActivity,
    policy: &ConnectionHealthPolicy,
    now: OffsetDateTime,
) -> ConnectionHealth {
    if activity.disabled {
        return ConnectionHealth { status: ConnectionStatus::Disabled, reasons: vec!["disabled".to_owned()] };
    }
    let mut stalled = Vec::new();
    if let Some(within) = activity.expect_activity_within {
        let since = activity.last_request_at.unwrap_or(activity.created_at);
        if now - since > within {
            stalled.push(match activity.last_request_at {
                Some(last) => format!("no request for {} (expected within {within})", round(now - last)),
                None => {
                    format!("no request since it was created {} ago (expected within {within})", round(now - since))
                }
            });
        }
    }
    let waiting_for = activity.oldest_enqueued_at.map(|oldest| now - oldest);
    let idle_for = activity.last_applied_at.map(|last| now - last);
    if activity.backlog > 0
        && waiting_for.is_some_and(|age| age > policy.stalled_after)
        && idle_for.is_none_or(|idle| idle > policy.stalled_after)
    {
        stalled.push(format!(
            "{} operation(s) waiting and none applied for {}",
            activity.backlog,
            idle_for.map_or_else(|| "ever".to_owned(), round)
        ));
    }
    if !stalled.is_empty() {
        return ConnectionHealth { status: ConnectionStatus::Stalled, reasons: stalled };
    }
    let mut degraded = Vec::new();
    if activity.requests_last_hour >= policy.min_requests.max(1) {
        let ratio = activity.errors_last_hour as f64 / activity.requests_last_hour as f64;
        if ratio > policy.max_error_ratio {
            degraded.push(format!(
                "{} of the last hour's {} requests failed ({:.0} %)",
                activity.errors_last_hour,
                activity.requests_last_hour,
                ratio * 100.0
            ));
        }
    }
    if activity.backlog > 0 && waiting_for.is_some_and(|age| age > policy.max_backlog_age) {
        degraded.push(format!(
            "the oldest of {} waiting operation(s) is {} old",
            activity.backlog,
            waiting_for.map_or_else(String::new, round)
        ));
    }
    if activity.parked > 0 {
        degraded.push(format!("{} operation(s) parked", activity.parked));
    }
    if degraded.is_empty() {
        ConnectionHealth { status: ConnectionStatus::Healthy, reasons: Vec::new() }
    } else {
        ConnectionHealth { status: ConnectionStatus::Degraded, reasons: degraded }
    }
}

/// A duration to the second, for people: `1h2m3s`.
fn round(duration: Duration) -> String {
    Duration::seconds(duration.whole_seconds()).to_string()
}

/// One finding per degraded or stalled connection.
pub fn connection_health_findings<'a>(
    environment: &EnvironmentName,
    connections: impl IntoIterator<Item = (&'a ConnectionActivity, &'a ConnectionHealth)>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = connections
        .into_iter()
        .filter_map(|(activity, health)| {
            let rule = match health.status {
                ConnectionStatus::Degraded => SCIM_CONNECTION_DEGRADED,
                ConnectionStatus::Stalled => SCIM_CONNECTION_STALLED,
                ConnectionStatus::Healthy | ConnectionStatus::Disabled => return None,
            };
            let mut evidence: Vec<(String, String)> =
                health.reasons.iter().map(|reason| ("reason".to_owned(), reason.clone())).collect();
            evidence.push(("waiting".to_owned(), activity.backlog.to_string()));
            evidence.push(("parked".to_owned(), activity.parked.to_string()));
            evidence.push((
                "last request".to_owned(),
                activity.last_request_at.map_or_else(|| "never".to_owned(), |at| at.to_string()),
            ));
            Some(Finding {
                rule: rule.id,
                severity: rule.severity,
                environment: environment.clone(),
                subject: Subject {
                    kind: SubjectKind::ScimConnection,
                    id: activity.connection_id.clone(),
                    name: activity.name.clone(),
                    org_id: Some(activity.org_id.clone()),
                },
                message: format!(
                    "SCIM connection {} is {}: {}",
                    activity.name,
                    health.status.as_str(),
                    health.reasons.join("; ")
                ),
                evidence,
                remediation: rule.remediation,
            })
        })
        .collect();
    crate::posture::sort_findings(&mut findings);
    findings
}
