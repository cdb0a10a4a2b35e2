//! Rules across environments: what should be alike in dev, staging and prod.

use std::collections::{BTreeMap, BTreeSet};

use crate::id::EnvironmentName;
use crate::model::{Project, ResourceKind, Snapshot};
use crate::posture::{Finding, Rule, Severity, Subject};

pub const ENVIRONMENT_ROLE_DRIFT: Rule = Rule {
    id: "environment-role-drift",
    severity: Severity::Medium,
    remediation: "Add the missing role keys where the project lacks them (or remove the stray ones), so that what is \
                  tested in one environment is what runs in the next.",
};

/// One project as seen in one environment: the project and its role keys.
type ProjectRoles<'a> = (&'a Project, BTreeSet<&'a str>);

/// Projects that share a name (within organizations of the same name) across environments but not their role keys:
/// one finding per project and environment that lacks keys another has.
pub fn environment_role_drift(environments: &[(EnvironmentName, &Snapshot)]) -> Vec<Finding> {
    // (org name, project name) -> environment -> the project there and its role keys
    let mut shared: BTreeMap<(String, String), BTreeMap<&EnvironmentName, ProjectRoles<'_>>> = BTreeMap::new();
    for (environment, snapshot) in environments {
        let org_names: BTreeMap<_, _> = snapshot.orgs.iter().map(|org| (&org.id, org.name.as_str())).collect();
        for project in &snapshot.projects {
            let org_name = org_names.get(&project.org_id).copied().unwrap_or_default().to_owned();
            let keys: BTreeSet<&str> = snapshot
                .project_roles
                .iter()
                .filter(|role| role.project_id == project.id)
                .map(|role| role.key.as_str())
                .collect();
            shared.entry((org_name, project.name.clone())).or_default().insert(environment, (project, keys));
        }
    }
    let mut findings = Vec::new();
    for ((org_name, project_name), by_environment) in &shared {
        if by_environment.len() < 2 {
            continue;
        }
        let all: BTreeSet<&str> = by_environment.values().flat_map(|(_, keys)| keys.iter().copied()).collect();
        for (environment, (project, keys)) in by_environment {
            let missing: Vec<&str> = all.difference(keys).copied().collect();
            if missing.is_empty() {
                continue;
            }
            let evidence = missing
                .iter()
                .map(|key| {
                    let present_in: Vec<&str> = by_environment
                        .iter()
                        .filter(|(_, (_, other))| other.contains(key))
                        .map(|(name, _)| name.as_str())
                        .collect();
                    (format!("role {key}"), format!("missing here, present in {}", present_in.join(", ")))
                })
                .collect();
            findings.push(Finding {
                rule: ENVIRONMENT_ROLE_DRIFT.id,
                severity: ENVIRONMENT_ROLE_DRIFT.severity,
                environment: (*environment).clone(),
                subject: Subject {
                    kind: ResourceKind::Project.into(),
                    id: project.id.to_string(),
                    name: format!("{org_name} / {project_name}"),
                    org_id: Some(project.org_id.clone()),
                },
                message: format!(
                    "project {project_name} in {environment} lacks role keys other environments have: {}",
                    missing.join(", ")
                ),
                evidence,
                remediation: ENVIRONMENT_ROLE_DRIFT.remediation,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{OrgId, ProjectId, RoleKey};
    use crate::model::{Org, OrgState, ProjectRole, ProjectState};

    fn estate(org_id: &str, project_id: &str, project_name: &str, keys: &[&str]) -> Snapshot {
        let org = OrgId::parse(org_id).unwrap();
        let project = ProjectId::parse(project_id).unwrap();
        Snapshot {
            orgs: vec![Org {
                id: org.clone(),
                name: "Platform".to_owned(),
                state: OrgState::Active,
                primary_domain: String::new(),
                created_at: None,
                changed_at: None,
            }],
            projects: vec![Project {
                id: project.clone(),
                org_id: org.clone(),
                name: project_name.to_owned(),
                state: ProjectState::Active,
                role_assertion: false,
                role_check: false,
                has_project_check: false,
                created_at: None,
                changed_at: None,
            }],
            project_roles: keys
                .iter()
                .map(|key| ProjectRole {
                    project_id: project.clone(),
                    org_id: org.clone(),
                    key: RoleKey::parse(*key).unwrap(),
                    display_name: String::new(),
                    group: String::new(),
                    created_at: None,
                    changed_at: None,
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    fn name(text: &str) -> EnvironmentName {
        EnvironmentName::parse(text).unwrap()
    }

    #[test]
    fn a_project_missing_role_keys_in_one_environment_is_reported_there() {
        // Ids differ between environments; names are what they share.
        let dev = estate("1", "11", "Billing", &["admin", "reader", "auditor"]);
        let prod = estate("2", "22", "Billing", &["admin", "reader"]);
        let findings = environment_role_drift(&[(name("dev"), &dev), (name("prod"), &prod)]);
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!((finding.environment.as_str(), finding.subject.id.as_str()), ("prod", "22"));
        assert_eq!(finding.evidence, [("role auditor".to_owned(), "missing here, present in dev".to_owned())]);
        assert_eq!(finding.subject.name, "Platform / Billing");
    }

    #[test]
    fn alike_projects_and_projects_in_one_environment_only_are_quiet() {
        let dev = estate("1", "11", "Billing", &["admin", "reader"]);
        let prod = estate("2", "22", "Billing", &["reader", "admin"]);
        let other = estate("3", "33", "Portal", &["viewer"]);
        assert!(environment_role_drift(&[(name("dev"), &dev), (name("prod"), &prod)]).is_empty());
        assert!(environment_role_drift(&[(name("dev"), &dev), (name("staging"), &other)]).is_empty());
        assert!(environment_role_drift(&[(name("dev"), &dev)]).is_empty());
    }

    #[test]
    fn each_environment_is_told_what_it_lacks() {
        let dev = estate("1", "11", "Billing", &["admin", "beta"]);
        let prod = estate("2", "22", "Billing", &["admin", "legacy"]);
        let findings = environment_role_drift(&[(name("dev"), &dev), (name("prod"), &prod)]);
        let lacking: Vec<(&str, &str)> =
            findings.iter().map(|finding| (finding.environment.as_str(), finding.evidence[0].0.as_str())).collect();
        assert_eq!(lacking, [("dev", "role legacy"), ("prod", "role beta")]);
    }
}
