//! `machine-role-accumulation`: a service account that holds more than its peers.
//!
//! The peers of a machine user are every machine user of its own organization, whatever their state, those without
//! any grant included (they are the norm the others are measured against). Each peer has two counts, taken from its
//! *active* user grants (wherever those grants live): the distinct projects, and the distinct (project, role key)
//! pairs. The organization's p95 of each count is the nearest-rank 95th percentile: the value at rank
//! `ceil(0.95 * n)` of the ascending list. A user fires when either of its counts is strictly greater than the
//! organization's p95 of that count, and only in organizations with at least `policy.accumulation_min_population`
//! machine users.
//!
//! A consequence of nearest rank: below 20 peers the rank is `n`, the p95 is the maximum, and nobody is above it.
//! The rule speaks only in organizations with 20 or more machine users, whatever the minimum population says.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::id::{EnvironmentName, OrgId, ProjectId, RoleKey, UserId};
use crate::model::{GrantState, ResourceKind, Snapshot, User};
use crate::posture::{Finding, Policy, Rule, Severity, Subject};

pub const MACHINE_ROLE_ACCUMULATION: Rule = Rule {
    id: "machine-role-accumulation",
    severity: Severity::Medium,
    remediation: "Review what the service account still needs: remove grants of projects it no longer calls, or split \
                  it into one account per workload so that each holds only its own roles.",
};

/// What one machine user holds, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Holdings {
    projects: usize,
    roles: usize,
}

/// The nearest-rank percentile (`percent` of 100) of `values`; `None` when there are none.
pub(crate) fn nearest_rank_percentile(values: &[usize], percent: usize) -> Option<usize> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    // rank = ceil(percent / 100 * n), at least 1
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Machine users holding more projects or more roles (active user grants) than their organization's p95.
pub fn machine_role_accumulation(environment: &EnvironmentName, snapshot: &Snapshot, policy: &Policy) -> Vec<Finding> {
    // Only machine users are compared; people hold most of a large estate's grants.
    let machines: HashSet<&UserId> =
        snapshot.users.iter().filter(|user| user.is_machine()).map(|user| &user.id).collect();
    let mut projects: HashMap<&UserId, BTreeSet<&ProjectId>> = HashMap::new();
    let mut roles: HashMap<&UserId, BTreeSet<(&ProjectId, &RoleKey)>> = HashMap::new();
    let active_machine_grants = snapshot
        .user_grants
        .iter()
        .filter(|grant| grant.state == GrantState::Active && machines.contains(&grant.user_id));
    for grant in active_machine_grants {
        projects.entry(&grant.user_id).or_default().insert(&grant.project_id);
        let held = roles.entry(&grant.user_id).or_default();
        held.extend(grant.role_keys.iter().map(|key| (&grant.project_id, key)));
    }
    let mut by_org: BTreeMap<&OrgId, Vec<(&User, Holdings)>> = BTreeMap::new();
    for user in snapshot.users.iter().filter(|user| user.is_machine()) {
        let holdings = Holdings {
            projects: projects.get(&user.id).map_or(0, BTreeSet::len),
            roles: roles.get(&user.id).map_or(0, BTreeSet::len),
        };
        by_org.entry(&user.org_id).or_default().push((user, holdings));
    }

    let mut findings = Vec::new();
    for peers in by_org.values() {
        if peers.len() < policy.accumulation_min_population {
            continue;
        }
        let project_counts: Vec<usize> = peers.iter().map(|(_, holdings)| holdings.projects).collect();
        let role_counts: Vec<usize> = peers.iter().map(|(_, holdings)| holdings.roles).collect();
        let (Some(p95_projects), Some(p95_roles)) =
            (nearest_rank_percentile(&project_counts, 95), nearest_rank_percentile(&role_counts, 95))
        else {
            continue;
        };
        for (user, holdings) in peers {
            let more_projects = holdings.projects > p95_projects;
            let more_roles = holdings.roles > p95_roles;
            if !more_projects && !more_roles {
                continue;
            }
            let what = match (more_projects, more_roles) {
                (true, true) => "projects and roles",
                (true, false) => "projects",
                _ => "roles",
            };
            findings.push(Finding {
                rule: MACHINE_ROLE_ACCUMULATION.id,
                severity: MACHINE_ROLE_ACCUMULATION.severity,
                environment: environment.clone(),
                subject: Subject {
                    kind: ResourceKind::User.into(),
                    id: user.id.to_string(),
                    name: user.display_name().to_owned(),
                    org_id: Some(user.org_id.clone()),
                },
                message: format!(
                    "service account {} holds more {what} than 95 % of the {} machine users of its organization \
                     ({} projects, {} roles; p95 {p95_projects} and {p95_roles})",
                    user.username,
                    peers.len(),
                    holdings.projects,
                    holdings.roles,
                ),
                evidence: vec![
                    ("projects".to_owned(), holdings.projects.to_string()),
                    ("roles".to_owned(), holdings.roles.to_string()),
                    ("org p95 projects".to_owned(), p95_projects.to_string()),
                    ("org p95 roles".to_owned(), p95_roles.to_string()),
                    ("org machine users".to_owned(), peers.len().to_string()),
                ],
                remediation: MACHINE_ROLE_ACCUMULATION.remediation,
            });
        }
    }
    crate::posture::sort_findings(&mut findings);
    findings
}
