//! What happens around findings over time: their lifecycle, the suppressions operators set, and the alerts findings
//! open. Pure: the store records, this decides.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use crate::id::EnvironmentName;
use crate::posture::{Finding, Severity, Subject};

/// A finding as the store tracks it across evaluations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFinding {
    pub finding: Finding,
    /// When the condition was first seen (in its current occurrence: a resolved finding that comes back starts
    /// again).
    pub first_seen: OffsetDateTime,
    /// The last evaluation that found it.
    pub last_seen: OffsetDateTime,
    /// When the condition cleared; `None` while it holds.
    pub resolved_at: Option<OffsetDateTime>,
}

/// What one evaluation changed in the findings of an environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingsDelta {
    /// Findings that were not open before (new, or back after being resolved).
    pub opened: Vec<TrackedFinding>,
    /// Findings that were open and are no longer found.
    pub resolved: Vec<TrackedFinding>,
}

/// An operator's decision that a rule's findings are accepted: for every subject or one, in every environment or
/// one, until it expires or is lifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub id: i64,
    pub environment: Option<EnvironmentName>,
    pub rule: String,
    /// The subject's id (a user id for credential rules); `None` covers every subject of the rule.
    pub subject_id: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<OffsetDateTime>,
}

impl Suppression {
    /// Set, not lifted and not expired at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.lifted_at.is_none() && self.expires_at.is_none_or(|expires| now < expires)
    }

    pub fn covers(&self, finding: &Finding, now: OffsetDateTime) -> bool {
        self.is_active(now)
            && self.rule == finding.rule
            && self.environment.as_ref().is_none_or(|environment| *environment == finding.environment)
            && self.subject_id.as_ref().is_none_or(|subject| *subject == finding.subject.id)
    }
}

/// The active suppression that covers a finding, if any.
pub fn suppressed_by<'a>(
    suppressions: &'a [Suppression],
    finding: &Finding,
    now: OffsetDateTime,
) -> Option<&'a Suppression> {
    suppressions.iter().find(|suppression| suppression.covers(finding, now))
}

crate::model::text_enum::text_enum!(
    /// Where an alert is in its lifecycle.
    AlertStatus { Open => "open", Acknowledged => "acknowledged", Resolved => "resolved" }
);

/// One alert: opened by a finding (or a health event), deduplicated by rule and subject while not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub dedupe_key: String,
    pub environment: EnvironmentName,
    pub rule: String,
    pub severity: Severity,
    pub subject: Subject,
    pub message: String,
    pub status: AlertStatus,
    pub opened_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
    /// Why it was resolved: an operator's reason, or what warden saw (`condition cleared`, `suppressed: ...`).
    pub resolution: Option<String>,
}

/// One entry of an alert's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub alert_id: i64,
    pub at: OffsetDateTime,
    /// Who did it: an operator, or `warden` for what the evaluation did.
    pub operator: String,
    /// `opened`, `acknowledged`, `resolved`, `noted`.
    pub action: String,
    pub from_status: Option<AlertStatus>,
    pub to_status: AlertStatus,
    pub note: Option<String>,
}

/// What an operator does to an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertAction {
    Acknowledge,
    Resolve { reason: String },
    Note { text: String },
}

impl AlertAction {
    pub fn name(&self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledged",
            AlertAction::Resolve { .. } => "resolved",
            AlertAction::Note { .. } => "noted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertTransitionError {
    #[error("alert is already {0}")]
    NotAllowed(AlertStatus),
    #[error("a {0} needs a text")]
    EmptyText(&'static str),
}

/// The status an action leads to: open -> acknowledged -> resolved (or open -> resolved); a note changes nothing
/// and may be added at any time; a resolved alert stays resolved (a condition that comes back opens a new alert).
pub fn next_status(current: &AlertStatus, action: &AlertAction) -> Result<AlertStatus, AlertTransitionError> {
    match (current, action) {
        (_, AlertAction::Note { text }) if text.trim().is_empty() => Err(AlertTransitionError::EmptyText("note")),
        (status, AlertAction::Note { .. }) => Ok(status.clone()),
        (_, AlertAction::Resolve { reason }) if reason.trim().is_empty() => {
            Err(AlertTransitionError::EmptyText("resolution"))
        }
        (AlertStatus::Open, AlertAction::Acknowledge) => Ok(AlertStatus::Acknowledged),
        (AlertStatus::Open | AlertStatus::Acknowledged, AlertAction::Resolve { .. }) => Ok(AlertStatus::Resolved),
        (status, _) => Err(AlertTransitionError::NotAllowed(status.clone())),
    }
}

/// The key that deduplicates alerts: one active alert per environment, rule and subject.
pub fn dedupe_key(finding: &Finding) -> String {
    format!("{}/{}/{}/{}", finding.environment, finding.rule, finding.subject.kind, finding.subject.id)
}

/// What an evaluation does to the alerts of one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertPlan {
    /// Findings that need an alert and have no active one.
    pub open: Vec<Finding>,
    /// Active alerts whose condition is gone, with the reason recorded.
    pub resolve: Vec<(i64, String)>,
}

/// Plans the alerts of one environment from its current findings: every finding at or above `min_severity` that no
/// suppression covers has an active alert; an active alert whose finding cleared, or is now suppressed, is
/// resolved with that reason. `active` are the environment's alerts that are not resolved.
pub fn plan_alerts(
    active: &[Alert],
    findings: &[Finding],
    suppressions: &[Suppression],
    min_severity: Severity,
    now: OffsetDateTime,
) -> AlertPlan {
    let mut plan = AlertPlan::default();
    let active_keys: BTreeSet<&str> = active.iter().map(|alert| alert.dedupe_key.as_str()).collect();
    let mut wanted = BTreeSet::new();
    let mut suppressed = std::collections::BTreeMap::new();
    for finding in findings.iter().filter(|finding| finding.severity >= min_severity) {
        let key = dedupe_key(finding);
        if let Some(suppression) = suppressed_by(suppressions, finding, now) {
            suppressed.insert(key, suppression);
            continue;
        }
        if !active_keys.contains(key.as_str()) && !wanted.contains(&key) {
            plan.open.push(finding.clone());
        }
        wanted.insert(key);
    }
    for alert in active {
        if wanted.contains(&alert.dedupe_key) {
            continue;
        }
        let reason = match suppressed.get(&alert.dedupe_key) {
            Some(suppression) => {
                format!("suppressed by {} (#{}): {}", suppression.created_by, suppression.id, suppression.reason)
            }
            None => "condition cleared".to_owned(),
        };
        plan.resolve.push((alert.id, reason));
    }
    plan
}

#[cfg(test)]
mod tests;
