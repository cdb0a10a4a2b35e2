//! The risk score of a service account: 0-100, the sum of the points of the factors that apply, capped at 100.
//! `docs/risk-score.md` explains each factor and works an example; the weights below are the formula.

use time::{Duration, OffsetDateTime};

use crate::inventory::{Credential, ServiceAccount};
use crate::model::{GrantState, MembershipScope, UserState};
use crate::posture::Policy;

/// A manager role (of the policy's list) on the whole instance.
pub const INSTANCE_MANAGER_ROLE_POINTS: u8 = 40;
/// A manager role on an organization.
pub const ORG_MANAGER_ROLE_POINTS: u8 = 25;
/// A manager role on a project or a project grant.
pub const PROJECT_MANAGER_ROLE_POINTS: u8 = 15;
/// An unexpired key or token without expiry, or living longer than `credential_max_lifetime_days`.
pub const CREDENTIAL_WITHOUT_EXPIRY_POINTS: u8 = 15;
/// An unexpired key or token created more than `credential_max_age_days` ago.
pub const CREDENTIAL_OLDER_THAN_MAX_AGE_POINTS: u8 = 10;
/// More than one unexpired key or token.
pub const MULTIPLE_ACTIVE_CREDENTIALS_POINTS: u8 = 5;
/// A client secret is set (it never expires and cannot be listed).
pub const CLIENT_SECRET_POINTS: u8 = 5;
/// Per organization other than its own that it reaches ...
pub const CROSS_ORG_REACH_POINTS_PER_ORG: u8 = 5;
/// ... at most.
pub const CROSS_ORG_REACH_MAX_POINTS: u8 = 15;
/// Per project it holds an active grant on ...
pub const PROJECT_REACH_POINTS_PER_PROJECT: u8 = 1;
/// ... at most.
pub const PROJECT_REACH_MAX_POINTS: u8 = 10;
/// Inactive or locked, yet still holding grants or memberships.
pub const INACTIVE_WITH_ACCESS_POINTS: u8 = 5;
/// No description: nobody to ask about it.
pub const NO_DESCRIPTION_POINTS: u8 = 5;

/// The highest score.
pub const MAX_RISK_SCORE: u8 = 100;

/// A service account's risk and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RiskScore {
    /// 0-100: the factors' points summed and capped at 100.
    pub score: u8,
    /// The factors that apply, in the order of the formula.
    pub factors: Vec<RiskFactor>,
}

/// One reason a service account is risky.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFactor {
    /// Stable id (`org-manager-role`).
    pub id: &'static str,
    pub points: u8,
    /// What in particular applies (`ORG_OWNER on org 123`).
    pub detail: String,
}

fn capped(count: usize, per_item: u8, max: u8) -> u8 {
    let count = u8::try_from(count).unwrap_or(u8::MAX);
    count.saturating_mul(per_item).min(max)
}

fn credential_names<'a>(credentials: impl Iterator<Item = &'a Credential>) -> String {
    credentials
        .map(|credential| format!("{} {}", credential.kind.as_str(), credential.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Scores an account from its described reach and credentials (its `risk` field is not read).
pub fn risk_score(account: &ServiceAccount, policy: &Policy, now: OffsetDateTime) -> RiskScore {
    let mut factors = Vec::new();
    let mut add = |id: &'static str, points: u8, detail: String| {
        if points > 0 {
            factors.push(RiskFactor { id, points, detail });
        }
    };

    let manager_roles_at = |at_scope: fn(&MembershipScope) -> bool| -> Vec<String> {
        account
            .memberships
            .iter()
            .filter(|membership| at_scope(&membership.scope))
            .flat_map(|membership| {
                membership.roles.iter().filter(|role| policy.manager_roles.contains(role)).map(move |role| {
                    match &membership.scope {
                        MembershipScope::Instance => role.clone(),
                        MembershipScope::Org(org_id) => format!("{role} on org {org_id}"),
                        MembershipScope::Project { project_id, .. } => format!("{role} on project {project_id}"),
                        MembershipScope::ProjectGrant { project_grant_id, .. } => {
                            format!("{role} on project grant {project_grant_id}")
                        }
                    }
                })
            })
            .collect()
    };
    let instance = manager_roles_at(|scope| matches!(scope, MembershipScope::Instance));
    if !instance.is_empty() {
        add("instance-manager-role", INSTANCE_MANAGER_ROLE_POINTS, instance.join(", "));
    }
    let org = manager_roles_at(|scope| matches!(scope, MembershipScope::Org(_)));
    if !org.is_empty() {
        add("org-manager-role", ORG_MANAGER_ROLE_POINTS, org.join(", "));
    }
    let project = manager_roles_at(|scope| {
        matches!(scope, MembershipScope::Project { .. } | MembershipScope::ProjectGrant { .. })
    });
    if !project.is_empty() {
        add("project-manager-role", PROJECT_MANAGER_ROLE_POINTS, project.join(", "));
    }

    let active: Vec<&Credential> = account.credentials.iter().filter(|credential| !credential.expired).collect();
    let max_lifetime = Duration::days(policy.credential_max_lifetime_days);
    let without_expiry: Vec<&Credential> = active
        .iter()
        .copied()
        .filter(|credential| match (credential.created_at, credential.expires_at) {
            (_, None) => true,
            (Some(created), Some(expires)) => expires - created > max_lifetime,
            (None, Some(_)) => false,
        })
        .collect();
    if !without_expiry.is_empty() {
        add(
            "credential-without-expiry",
            CREDENTIAL_WITHOUT_EXPIRY_POINTS,
            credential_names(without_expiry.into_iter()),
        );
    }
    let max_age = now - Duration::days(policy.credential_max_age_days);
    let old: Vec<&Credential> = active
        .iter()
        .copied()
        .filter(|credential| credential.created_at.is_some_and(|created| created < max_age))
        .collect();
    if !old.is_empty() {
        add("credential-older-than-max-age", CREDENTIAL_OLDER_THAN_MAX_AGE_POINTS, credential_names(old.into_iter()));
    }
    if active.len() > 1 {
        add(
            "multiple-active-credentials",
            MULTIPLE_ACTIVE_CREDENTIALS_POINTS,
            format!("{} unexpired keys and tokens", active.len()),
        );
    }
    if account.has_client_secret {
        add("client-secret", CLIENT_SECRET_POINTS, "a client secret is set".to_owned());
    }

    if !account.orgs_reached.is_empty() {
        let orgs: Vec<String> = account.orgs_reached.iter().map(ToString::to_string).collect();
        add(
            "cross-org-reach",
            capped(account.orgs_reached.len(), CROSS_ORG_REACH_POINTS_PER_ORG, CROSS_ORG_REACH_MAX_POINTS),
            format!("{} other organization(s): {}", orgs.len(), orgs.join(", ")),
        );
    }
    let mut projects: Vec<&str> = account
        .grants
        .iter()
        .filter(|grant| grant.state == GrantState::Active)
        .map(|grant| grant.project_id.as_str())
        .collect();
    projects.dedup();
    if !projects.is_empty() {
        add(
            "project-reach",
            capped(projects.len(), PROJECT_REACH_POINTS_PER_PROJECT, PROJECT_REACH_MAX_POINTS),
            format!("active grants on {} project(s)", projects.len()),
        );
    }
    if matches!(account.state, UserState::Inactive | UserState::Locked)
        && (!account.grants.is_empty() || !account.memberships.is_empty())
    {
        add(
            "inactive-with-access",
            INACTIVE_WITH_ACCESS_POINTS,
            format!(
                "{} account holds {} grant(s) and {} membership(s)",
                account.state,
                account.grants.len(),
                account.memberships.len()
            ),
        );
    }
    if account.description.trim().is_empty() {
        add("no-description", NO_DESCRIPTION_POINTS, "no description".to_owned());
    }

    let total: u32 = factors.iter().map(|factor| u32::from(factor.points)).sum();
    let score = u8::try_from(total.min(u32::from(MAX_RISK_SCORE))).unwrap_or(MAX_RISK_SCORE);
    RiskScore { score, factors }
}
