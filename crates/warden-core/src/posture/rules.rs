//! The rules that read only an environment's observed state. Rules that need history (growth), probes (identity
//! providers), SCIM mappings or several environments build on the same types.

use std::collections::{BTreeMap, HashMap};

use time::{Duration, OffsetDateTime};

use crate::id::{EnvironmentName, UserId};
use crate::model::{MembershipScope, ResourceKind, Snapshot, User, UserKind, UserState};
use crate::posture::{Finding, Policy, Rule, Severity, Subject};

pub(crate) const MACHINE_USER_MANAGER_ROLE: Rule = Rule {
    id: "machine-user-manager-role",
    severity: Severity::High,
    remediation: "Give the service account only the project roles it needs (user grants); move manager roles to \
                  people, or to a dedicated account whose credentials are short-lived and watched.",
};
pub(crate) const KEY_WITHOUT_EXPIRY: Rule = Rule {
    id: "key-without-expiry",
    severity: Severity::Medium,
    remediation: "Add a key with an expiry within the policy's lifetime, switch the workload to it, remove the old key.",
};
pub(crate) const PAT_WITHOUT_EXPIRY: Rule = Rule {
    id: "pat-without-expiry",
    severity: Severity::Medium,
    remediation: "Issue a token with an expiry within the policy's lifetime (or move to a key), then revoke this one.",
};
pub(crate) const CREDENTIAL_OLDER_THAN_365D: Rule = Rule {
    id: "credential-older-than-365d",
    severity: Severity::Medium,
    remediation: "Rotate: create a new key or token, switch the workload to it, remove the old one.",
};
pub(crate) const CREDENTIAL_EXPIRING_SOON: Rule = Rule {
    id: "credential-expiring-soon",
    severity: Severity::Low,
    remediation: "Rotate before it expires, or the workload using it stops authenticating.",
};
pub(crate) const INACTIVE_MACHINE_WITH_GRANTS: Rule = Rule {
    id: "inactive-machine-with-grants",
    severity: Severity::Low,
    remediation: "Remove the grants and memberships of the deactivated account, or remove the account.",
};
pub(crate) const MACHINE_WITHOUT_DESCRIPTION: Rule = Rule {
    id: "machine-without-description",
    severity: Severity::Low,
    remediation: "Describe the service account: owning team, purpose, and where its credentials are used.",
};

/// The rules [`crate::posture::evaluate`] implements, in the order `docs/rules.md` lists them. Every rule of the
/// design is in [`crate::posture::ALL_RULES`].
pub const RULES: [Rule; 7] = [
    MACHINE_USER_MANAGER_ROLE,
    KEY_WITHOUT_EXPIRY,
    PAT_WITHOUT_EXPIRY,
    CREDENTIAL_OLDER_THAN_365D,
    CREDENTIAL_EXPIRING_SOON,
    INACTIVE_MACHINE_WITH_GRANTS,
    MACHINE_WITHOUT_DESCRIPTION,
];

/// One credential of a machine user, whatever its type.
struct Credential<'a> {
    kind: &'static str,
    id: &'a str,
    user_id: &'a UserId,
    created_at: Option<OffsetDateTime>,
    expires_at: Option<OffsetDateTime>,
}

fn date(time: Option<OffsetDateTime>) -> String {
    time.map_or_else(|| "never".to_owned(), |time| time.date().to_string())
}

struct Findings<'a> {
    environment: &'a EnvironmentName,
    /// Evidence per (rule, user), so that each user gets one finding per rule.
    by_user: BTreeMap<(&'static str, &'a UserId), Vec<(String, String)>>,
}

impl<'a> Findings<'a> {
    fn add(&mut self, rule: &Rule, user: &'a UserId, evidence: (String, String)) {
        self.by_user.entry((rule.id, user)).or_default().push(evidence);
    }
}

pub(crate) fn evaluate(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let machines: BTreeMap<&UserId, &User> =
        snapshot.users.iter().filter(|user| user.is_machine()).map(|user| (&user.id, user)).collect();
    let mut findings = Findings { environment, by_user: BTreeMap::new() };

    for membership in snapshot.memberships.iter().filter(|membership| machines.contains_key(&membership.user_id)) {
        for role in membership.roles.iter().filter(|role| policy.manager_roles.contains(role)) {
            let scope = match &membership.scope {
                MembershipScope::Instance => "instance".to_owned(),
                MembershipScope::Org(org) => format!("org {org}"),
                MembershipScope::Project { project_id, .. } => format!("project {project_id}"),
                MembershipScope::ProjectGrant { project_grant_id, .. } => format!("project grant {project_grant_id}"),
            };
            findings.add(&MACHINE_USER_MANAGER_ROLE, &membership.user_id, (role.clone(), scope));
        }
    }

    let credentials = snapshot
        .machine_keys
        .iter()
        .map(|key| Credential {
            kind: "key",
            id: key.id.as_str(),
            user_id: &key.user_id,
            created_at: key.created_at,
            expires_at: key.expires_at,
        })
        .chain(snapshot.personal_access_tokens.iter().map(|token| Credential {
            kind: "pat",
            id: token.id.as_str(),
            user_id: &token.user_id,
            created_at: token.created_at,
            expires_at: token.expires_at,
        }));
    let max_lifetime = Duration::days(policy.credential_max_lifetime_days);
    let max_age = Duration::days(policy.credential_max_age_days);
    let soon = Duration::days(policy.expiring_soon_days);
    for credential in credentials {
        let expired = credential.expires_at.is_some_and(|expires| expires <= now);
        if expired {
            continue;
        }
        let evidence = |what: &str, when: Option<OffsetDateTime>| {
            (format!("{} {}", credential.kind, credential.id), format!("{what} {}", date(when)))
        };
        let too_long = match (credential.created_at, credential.expires_at) {
            (_, None) => true,
            (Some(created), Some(expires)) => expires - created > max_lifetime,
            (None, Some(_)) => false,
        };
        if too_long {
            let rule = if credential.kind == "key" { &KEY_WITHOUT_EXPIRY } else { &PAT_WITHOUT_EXPIRY };
            findings.add(rule, credential.user_id, evidence("expires", credential.expires_at));
        }
        if credential.created_at.is_some_and(|created| created < now - max_age) {
            findings.add(&CREDENTIAL_OLDER_THAN_365D, credential.user_id, evidence("created", credential.created_at));
        }
        if credential.expires_at.is_some_and(|expires| expires <= now + soon) {
            findings.add(&CREDENTIAL_EXPIRING_SOON, credential.user_id, evidence("expires", credential.expires_at));
        }
    }

    // Grants and memberships per machine user, counted once (not once per inactive user: a large estate has
    // 150,000 grants).
    let mut held: HashMap<&UserId, (usize, usize)> = HashMap::new();
    for grant in snapshot.user_grants.iter().filter(|grant| machines.contains_key(&grant.user_id)) {
        held.entry(&grant.user_id).or_default().0 += 1;
    }
    for membership in snapshot.memberships.iter().filter(|membership| machines.contains_key(&membership.user_id)) {
        held.entry(&membership.user_id).or_default().1 += 1;
    }
    for user in machines.values() {
        let UserKind::Machine(profile) = &user.kind else { continue };
        if profile.description.trim().is_empty() {
            findings.add(&MACHINE_WITHOUT_DESCRIPTION, &user.id, ("description".to_owned(), "(empty)".to_owned()));
        }
        if matches!(user.state, UserState::Inactive | UserState::Locked) {
            let (grants, memberships) = held.get(&user.id).copied().unwrap_or_default();
            if grants + memberships > 0 {
                let held = format!("{grants} grants, {memberships} memberships");
                findings.add(&INACTIVE_MACHINE_WITH_GRANTS, &user.id, (user.state.to_string(), held));
            }
        }
    }

    findings
        .by_user
        .into_iter()
        .filter_map(|((rule_id, user_id), evidence)| {
            let rule = RULES.iter().find(|rule| rule.id == rule_id)?;
            let user = machines.get(user_id)?;
            Some(Finding {
                rule: rule.id,
                severity: rule.severity,
                environment: findings.environment.clone(),
                subject: Subject {
                    kind: ResourceKind::User.into(),
                    id: user.id.to_string(),
                    name: user.display_name().to_owned(),
                    org_id: Some(user.org_id.clone()),
                },
                message: message(rule, user, &evidence),
                evidence,
                remediation: rule.remediation,
            })
        })
        .collect()
}

fn message(rule: &Rule, user: &User, evidence: &[(String, String)]) -> String {
    let name = &user.username;
    let count = evidence.len();
    match rule.id {
        "machine-user-manager-role" => {
            let roles: Vec<String> = evidence.iter().map(|(role, scope)| format!("{role} on {scope}")).collect();
            format!("service account {name} holds manager roles: {}", roles.join(", "))
        }
        "key-without-expiry" => format!("service account {name} has {count} key(s) that never expire or live too long"),
        "pat-without-expiry" => {
            format!("service account {name} has {count} personal access token(s) that never expire or live too long")
        }
        "credential-older-than-365d" => format!("service account {name} has {count} credential(s) due for rotation"),
        "credential-expiring-soon" => format!("service account {name} has {count} credential(s) expiring soon"),
        "inactive-machine-with-grants" => format!("{} service account {name} still holds access", user.state),
        _ => format!("service account {name} has no description"),
    }
}
