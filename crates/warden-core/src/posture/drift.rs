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

/// A project as one environment has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInEnvironment<'a> {
    pub environment: &'a EnvironmentName,
    pub project: &'a Project,
    /// Its role keys, sorted.
    pub role_keys: BTreeSet<&'a str>,
}

/// One project, known by its organization's name and its own, across environments (ids differ between
/// environments; names are what they share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectComparison<'a> {
    pub org_name: String,
    pub project_name: String,
    /// The environments that have the project, in the order they were given.
    pub present: Vec<ProjectInEnvironment<'a>>,
    /// The environments that do not.
    pub absent: Vec<&'a EnvironmentName>,
}

impl ProjectComparison<'_> {
    /// Every role key any environment has for the project.
    pub fn all_role_keys(&self) -> BTreeSet<&str> {
        self.present.iter().flat_map(|present| present.role_keys.iter().copied()).collect()
    }

    /// The project is missing somewhere, or its role keys are not the same everywhere.
    pub fn differs(&self) -> bool {
        !self.absent.is_empty() || self.present.windows(2).any(|pair| pair[0].role_keys != pair[1].role_keys)
    }
}

/// A project found in the environment at a position, with its role keys.
type Found<'a> = (usize, &'a Project, BTreeSet<&'a str>);

/// Projects and their role keys side by side across environments, by (organization name, project name).
pub fn compare_projects<'a>(environments: &'a [(EnvironmentName, &'a Snapshot)]) -> Vec<ProjectComparison<'a>> {
    let mut shared: BTreeMap<(String, String), Vec<Found<'a>>> = BTreeMap::new();
    for (position, (_, snapshot)) in environments.iter().enumerate() {
        let org_names: BTreeMap<_, _> = snapshot.orgs.iter().map(|org| (&org.id, org.name.as_str())).collect();
        let mut keys: BTreeMap<_, BTreeSet<&str>> = BTreeMap::new();
        for role in &snapshot.project_roles {
            keys.entry(&role.project_id).or_default().insert(role.key.as_str());
        }
        for project in &snapshot.projects {
            let org_name = org_names.get(&project.org_id).copied().unwrap_or_default().to_owned();
            let role_keys = keys.get(&project.id).cloned().unwrap_or_default();
            shared.entry((org_name, project.name.clone())).or_default().push((position, project, role_keys));
        }
    }
    shared
        .into_iter()
        .map(|((org_name, project_name), found)| {
            let absent = environments
                .iter()
                .enumerate()
                .filter(|(position, _)| !found.iter().any(|(found_at, _, _)| found_at == position))
                .map(|(_, (name, _))| name)
                .collect();
            let present = found
                .into_iter()
                .map(|(position, project, role_keys)| ProjectInEnvironment {
                    environment: &environments[position].0,
                    project,
                    role_keys,
                })
                .collect();
            ProjectComparison { org_name, project_name, present, absent }
        })
        .collect()
}

/// Projects that share a name (within organizations of the same name) across environments but not their role keys:
/// one finding per project and environment that lacks keys another has.
pub fn environment_role_drift(environments: &[(EnvironmentName, &Snapshot)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for comparison in compare_projects(environments) {
        if comparison.present.len() < 2 {
            continue;
        }
        let all = comparison.all_role_keys();
        let (org_name, project_name) = (&comparison.org_name, &comparison.project_name);
        for here in &comparison.present {
            let missing: Vec<&str> = all.difference(&here.role_keys).copied().collect();
            if missing.is_empty() {
                continue;
            }
            let evidence = missing
                .iter()
                .map(|key| {
                    let present_in: Vec<&str> = comparison
                        .present
                        .iter()
                        .filter(|other| other.role_keys.contains(key))
                        .map(|other| other.environment.as_str())
                        .collect();
                    (format!("role {key}"), format!("missing here, present in {}", present_in.join(", ")))
                })
                .collect();
            let (environment, project) = (here.environment, here.project);
            findings.push(Finding {
                rule: ENVIRONMENT_ROLE_DRIFT.id,
                severity: ENVIRONMENT_ROLE_DRIFT.severity,
                environment: environment.clone(),
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
    fn the_comparison_shows_every_project_where_it_is_and_is_not() {
        let dev = estate("1", "11", "Billing", &["admin", "beta"]);
        let staging = estate("2", "22", "Billing", &["beta", "admin"]);
        let prod = estate("3", "33", "Portal", &["viewer"]);
        let environments = [(name("dev"), &dev), (name("staging"), &staging), (name("prod"), &prod)];
        let compared = compare_projects(&environments);
        let summary: Vec<(&str, Vec<&str>, Vec<&str>, bool)> = compared
            .iter()
            .map(|comparison| {
                (
                    comparison.project_name.as_str(),
                    comparison.present.iter().map(|here| here.environment.as_str()).collect(),
                    comparison.absent.iter().map(|name| name.as_str()).collect(),
                    comparison.differs(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("Billing", vec!["dev", "staging"], vec!["prod"], true),
                ("Portal", vec!["prod"], vec!["dev", "staging"], true)
            ]
        );
        let alike = compare_projects(&environments[..2]);
        assert_eq!(alike.len(), 1);
        assert!(!alike[0].differs(), "same keys in another order");
        assert_eq!(alike[0].all_role_keys().into_iter().collect::<Vec<_>>(), ["admin", "beta"]);
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
