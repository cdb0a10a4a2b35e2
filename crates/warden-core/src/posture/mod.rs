//! Posture: findings computed from an environment's observed state, a policy and `now`. Pure functions.
//!
//! Every rule has a stable id, a severity and a remediation (`docs/rules.md` documents each; [`ALL_RULES`] lists
//! them). Credential rules report the machine user as the subject, one finding per user and rule, with the key and
//! token ids as evidence.
//!
//! Entry points, by the input they need:
//! - an environment's synced state: [`evaluate`] (the snapshot rules, [`RULES`]) and [`machine_role_accumulation`];
//! - several environments: [`environment_role_drift`];
//! - trend points (history): [`service_account_growth`];
//! - provider health (`crate::health`): [`idp_unreachable`], [`idp_certificate_expiring`];
//! - SCIM groups and group-role mappings: [`mapping_gap`], [`unmapped_group`], [`ungoverned_grant`]; a provisioning
//!   connection's whole tenant against the snapshot: [`reconcile`] (those three and the provisioning rules);
//! - SCIM connections' requests and outboxes: [`judge_connection`], [`connection_health_findings`].

mod accumulation;
mod connections;
mod drift;
mod growth;
mod mappings;
mod providers;
mod provisioning;
mod rules;

use std::fmt;

use crate::id::{EnvironmentName, OrgId};
use crate::model::{ResourceKind, Snapshot};

pub use accumulation::{MACHINE_ROLE_ACCUMULATION, machine_role_accumulation};
pub use connections::{
    ConnectionActivity, ConnectionHealth, ConnectionHealthPolicy, ConnectionStatus, SCIM_CONNECTION_DEGRADED,
    SCIM_CONNECTION_STALLED, connection_health_findings, judge_connection,
};
pub use drift::{
    ENVIRONMENT_ROLE_DRIFT, ProjectComparison, ProjectInEnvironment, compare_projects, environment_role_drift,
};
pub use growth::{SERVICE_ACCOUNT_GROWTH, service_account_growth};
pub use mappings::{
    GroupMember, GroupRoleMapping, MAPPING_GAP, ScimGroup, UNGOVERNED_GRANT, UNMAPPED_GROUP, mapping_gap,
    ungoverned_grant, unmapped_group,
};
pub use providers::{IDP_CERTIFICATE_EXPIRING, IDP_UNREACHABLE, idp_certificate_expiring, idp_unreachable};
pub use provisioning::{
    MappingGroup, PROVISIONED_USER_MISSING, PROVISIONING_STATE_MISMATCH, ProvisionedTenant, Reconciliation, Repair,
    TenantGroup, TenantMapping, TenantUser, reconcile,
};
pub use rules::RULES;

/// Every rule of the design, in the order `docs/rules.md` documents them. A rule whose severity depends on the
/// finding (`idp-certificate-expiring`: high or medium) is listed with its highest.
pub const ALL_RULES: [Rule; 19] = [
    rules::MACHINE_USER_MANAGER_ROLE,
    rules::KEY_WITHOUT_EXPIRY,
    rules::PAT_WITHOUT_EXPIRY,
    rules::CREDENTIAL_OLDER_THAN_365D,
    rules::CREDENTIAL_EXPIRING_SOON,
    rules::INACTIVE_MACHINE_WITH_GRANTS,
    rules::MACHINE_WITHOUT_DESCRIPTION,
    MACHINE_ROLE_ACCUMULATION,
    SERVICE_ACCOUNT_GROWTH,
    IDP_UNREACHABLE,
    IDP_CERTIFICATE_EXPIRING,
    MAPPING_GAP,
    UNMAPPED_GROUP,
    UNGOVERNED_GRANT,
    PROVISIONED_USER_MISSING,
    PROVISIONING_STATE_MISMATCH,
    SCIM_CONNECTION_DEGRADED,
    SCIM_CONNECTION_STALLED,
    ENVIRONMENT_ROLE_DRIFT,
];

/// The kinds of object the rules over synced state and the inventory read: a snapshot holding only these evaluates
/// the same (applications, identity providers and metadata are skipped; 20,000 metadata rows on a large estate).
/// A rule that starts reading another kind adds it here.
pub const KINDS_READ: [ResourceKind; 9] = [
    ResourceKind::Org,
    ResourceKind::Project,
    ResourceKind::ProjectRole,
    ResourceKind::User,
    ResourceKind::MachineKey,
    ResourceKind::PersonalAccessToken,
    ResourceKind::UserGrant,
    ResourceKind::Membership,
    ResourceKind::ProjectGrant,
];

/// The rule with this id, if there is one.
pub fn rule(id: &str) -> Option<&'static Rule> {
    ALL_RULES.iter().find(|rule| rule.id == id)
}

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
    /// `machine-role-accumulation` is evaluated only in organizations with at least this many machine users.
    pub accumulation_min_population: usize,
    /// `service-account-growth` fires when machine users grew by more than this many percent within the window.
    pub growth_percent: u64,
    /// ... and only when the count at the window's start was at least this (so 1 -> 2 is not news).
    pub growth_min_baseline: u64,
    /// The window `service-account-growth` looks back over.
    pub growth_window_days: i64,
    /// `idp-certificate-expiring` is high when a provider's certificate expires in less than this many days ...
    pub certificate_expiring_high_days: i64,
    /// ... and medium when it expires in less than this many.
    pub certificate_expiring_medium_days: i64,
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
            accumulation_min_population: 5,
            growth_percent: 25,
            growth_min_baseline: 4,
            growth_window_days: 30,
            certificate_expiring_high_days: 14,
            certificate_expiring_medium_days: 30,
        }
    }
}

/// What kind of thing a finding is about: an observed object, or something warden knows besides ZITADEL's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKind {
    /// An object observed in ZITADEL (a user, an organization, an identity provider, ...).
    Object(ResourceKind),
    /// A whole environment (`service-account-growth` across all its organizations).
    Environment,
    /// A group a SCIM client provisioned (`unmapped-group`).
    ScimGroup,
    /// A group-role mapping (`mapping-gap`).
    GroupRoleMapping,
    /// A SCIM connection (`scim-connection-degraded`, `scim-connection-stalled`).
    ScimConnection,
    /// A user a SCIM client provisioned (`provisioned-user-missing`, `provisioning-state-mismatch`).
    ScimUser,
}

impl SubjectKind {
    /// The stable text form: the resource kind's (`user`, `org`, ...) or `environment`, `scim_group`,
    /// `group_role_mapping`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Object(kind) => kind.as_str(),
            SubjectKind::Environment => "environment",
            SubjectKind::ScimGroup => "scim_group",
            SubjectKind::GroupRoleMapping => "group_role_mapping",
            SubjectKind::ScimConnection => "scim_connection",
            SubjectKind::ScimUser => "scim_user",
        }
    }

    pub fn parse(text: &str) -> Option<SubjectKind> {
        match text {
            "environment" => Some(SubjectKind::Environment),
            "scim_group" => Some(SubjectKind::ScimGroup),
            "group_role_mapping" => Some(SubjectKind::GroupRoleMapping),
            "scim_connection" => Some(SubjectKind::ScimConnection),
            "scim_user" => Some(SubjectKind::ScimUser),
            other => ResourceKind::parse(other).map(SubjectKind::Object),
        }
    }
}

impl From<ResourceKind> for SubjectKind {
    fn from(kind: ResourceKind) -> SubjectKind {
        SubjectKind::Object(kind)
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    pub kind: SubjectKind,
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

/// Every finding of the snapshot rules ([`RULES`]), sorted by severity (highest first), then rule and subject.
///
/// `machine-role-accumulation` also reads only the snapshot but is a separate call
/// ([`machine_role_accumulation`]): it compares accounts with their peers rather than with the policy.
pub fn evaluate(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    policy: &Policy,
    now: time::OffsetDateTime,
) -> Vec<Finding> {
    let mut findings = rules::evaluate(environment, snapshot, policy, now);
    sort_findings(&mut findings);
    findings
}

/// Sorts by severity (highest first), then rule and subject: the order every entry point returns.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(b.rule)).then_with(|| a.subject.cmp(&b.subject))
    });
}

/// A date as `YYYY-MM-DD` for evidence and messages.
fn date_text(time: time::OffsetDateTime) -> String {
    time.date().to_string()
}

#[cfg(test)]
mod governance_tests;
#[cfg(test)]
mod tests;
