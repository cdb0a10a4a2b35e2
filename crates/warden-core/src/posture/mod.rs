//! Posture: findings computed from an environment's observed state, a policy and `now`. Pure functions.
//!
//! Every rule has a stable id, a severity and a remediation (`docs/rules.md` documents each). Credential rules
//! report the machine user as the subject, one finding per user and rule, with the key and token ids as evidence.

mod drift;
mod rules;

use std::fmt;

use crate::id::{EnvironmentName, OrgId};
use crate::model::{ResourceKind, Snapshot};

pub use drift::{ENVIRONMENT_ROLE_DRIFT, environment_role_drift};
pub use rules::RULES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Thresholds: configuration, not constants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// A key or PAT may live at most this long from creation to expiry.
    pub credential_max_lifetime_days: i64,
    /// A credential older than this that has not expired is due for rotation.
    pub credential_max_age_days: i64,
    /// A credential expiring within this many days is due for rotation.
    pub expiring_soon_days: i64,
    /// Membership roles that let their holder change who may do what.
    pub manager_roles: Vec<String>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            credential_max_lifetime_days: 365,
            credential_max_age_days: 365,
            expiring_soon_days: 14,
            manager_roles: [
                "IAM_OWNER",
                "IAM_ORG_MANAGER",
                "IAM_USER_MANAGER",
                "IAM_ADMIN_IMPERSONATOR",
                "IAM_END_USER_IMPERSONATOR",
                "ORG_OWNER",
                "ORG_USER_MANAGER",
                "ORG_USER_PERMISSION_EDITOR",
                "ORG_PROJECT_PERMISSION_EDITOR",
                "ORG_ADMIN_IMPERSONATOR",
                "ORG_END_USER_IMPERSONATOR",
                "PROJECT_OWNER",
                "PROJECT_OWNER_GLOBAL",
                "PROJECT_GRANT_OWNER",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    pub kind: ResourceKind,
    pub id: String,
    pub name: String,
    pub org_id: Option<OrgId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable id (`key-without-expiry`).
    pub rule: &'static str,
    pub severity: Severity,
    pub environment: EnvironmentName,
    pub subject: Subject,
    pub message: String,
    /// The facts that triggered it, as `(name, value)` pairs.
    pub evidence: Vec<(String, String)>,
    pub remediation: &'static str,
}

/// A rule's fixed description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
}

/// Every finding of the snapshot-based rules, sorted by severity (highest first), then rule and subject.
pub fn evaluate(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    policy: &Policy,
    now: time::OffsetDateTime,
) -> Vec<Finding> {
    let mut findings = rules::evaluate(environment, snapshot, policy, now);
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(b.rule)).then_with(|| a.subject.cmp(&b.subject))
    });
    findings
}

#[cfg(test)]
mod tests;
