//! SCIM governance rules: group-role mappings against the synced state (`mapping-gap`), SCIM groups without a
//! mapping (`unmapped-group`), and grants in SCIM-provisioned organizations that no mapping explains
//! (`ungoverned-grant`). The inputs are what the store keeps for SCIM connections; these are only the judgements.

use std::collections::{BTreeMap, BTreeSet};

use crate::id::{EnvironmentName, GroupRoleMappingId, OrgId, ProjectId, RoleKey, ScimGroupId, UserId};
use crate::model::{GrantState, ResourceKind, Snapshot};
use crate::posture::{Finding, Rule, Severity, Subject, SubjectKind};

pub const MAPPING_GAP: Rule = Rule {
    id: "mapping-gap",
    severity: Severity::High,
    remediation: "Point the mapping at the project and role keys as they exist now (or recreate the missing role); \
                  until then, members of the group are not granted what the mapping promises.",
};
pub const UNMAPPED_GROUP: Rule = Rule {
    id: "unmapped-group",
    severity: Severity::Low,
    remediation: "Map the group to the project roles its members need (`warden mapping add`), or stop pushing it \
                  from the identity provider if it grants nothing here.",
};
pub const UNGOVERNED_GRANT: Rule = Rule {
    id: "ungoverned-grant",
    severity: Severity::Low,
    remediation: "Either add the user to a group whose mapping grants these roles, or remove the grant: in a \
                  SCIM-provisioned organization, access should follow group membership in the identity provider.",
};

/// A group-role mapping: members of the group get these role keys on the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRoleMapping {
    pub id: GroupRoleMappingId,
    /// The SCIM tenant: the organization the group belongs to and where its members' grants are made.
    pub org_id: OrgId,
    pub group_id: ScimGroupId,
    pub group_name: String,
    pub project_id: ProjectId,
    pub role_keys: Vec<RoleKey>,
}

/// A group a SCIM client provisioned into an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroup {
    pub id: ScimGroupId,
    pub org_id: OrgId,
    pub display_name: String,
    pub member_count: u64,
}

/// A member of a SCIM group, by the ZITADEL user it was provisioned as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupMember {
    pub group_id: ScimGroupId,
    pub user_id: UserId,
}

/// Mappings that name a project that does not exist in the snapshot, or role keys the project does not have. One
/// finding per mapping, each missing piece as evidence.
pub fn mapping_gap(environment: &EnvironmentName, snapshot: &Snapshot, mappings: &[GroupRoleMapping]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for mapping in mappings {
        let project = snapshot.projects.iter().find(|project| project.id == mapping.project_id);
        let (project_name, evidence) = match project {
            None => (
                mapping.project_id.to_string(),
                vec![("project".to_owned(), format!("{} does not exist", mapping.project_id))],
            ),
            Some(project) => {
                let keys: BTreeSet<&RoleKey> = snapshot
                    .project_roles
                    .iter()
                    .filter(|role| role.project_id == project.id)
                    .map(|role| &role.key)
                    .collect();
                let missing: BTreeSet<&RoleKey> = mapping.role_keys.iter().filter(|key| !keys.contains(key)).collect();
                let evidence = missing
                    .into_iter()
                    .map(|key| (format!("role {key}"), format!("does not exist in project {}", project.name)))
                    .collect();
                (project.name.clone(), evidence)
            }
        };
        if evidence.is_empty() {
            continue;
        }
        findings.push(Finding {
            rule: MAPPING_GAP.id,
            severity: MAPPING_GAP.severity,
            environment: environment.clone(),
            subject: Subject {
                kind: SubjectKind::GroupRoleMapping,
                id: mapping.id.to_string(),
                name: format!("{} -> {project_name}", mapping.group_name),
                org_id: Some(mapping.org_id.clone()),
            },
            message: match project {
                None => format!("mapping of group {} points at a project that no longer exists", mapping.group_name),
                Some(_) => format!(
                    "mapping of group {} names {} role(s) project {project_name} does not have",
                    mapping.group_name,
                    evidence.len()
                ),
            },
            evidence,
            remediation: MAPPING_GAP.remediation,
        });
    }
    crate::posture::sort_findings(&mut findings);
    findings
}

/// SCIM groups with at least one member and no mapping in their organization.
pub fn unmapped_group(
    environment: &EnvironmentName,
    groups: &[ScimGroup],
    mappings: &[GroupRoleMapping],
) -> Vec<Finding> {
    let mapped: BTreeSet<(&OrgId, &ScimGroupId)> =
        mappings.iter().map(|mapping| (&mapping.org_id, &mapping.group_id)).collect();
    let mut findings: Vec<Finding> = groups
        .iter()
        .filter(|group| group.member_count > 0 && !mapped.contains(&(&group.org_id, &group.id)))
        .map(|group| Finding {
            rule: UNMAPPED_GROUP.id,
            severity: UNMAPPED_GROUP.severity,
            environment: environment.clone(),
            subject: Subject {
                kind: SubjectKind::ScimGroup,
                id: group.id.to_string(),
                name: group.display_name.clone(),
                org_id: Some(group.org_id.clone()),
            },
            message: format!("SCIM group {} has {} member(s) and no mapping", group.display_name, group.member_count),
            evidence: vec![("members".to_owned(), group.member_count.to_string())],
            remediation: UNMAPPED_GROUP.remediation,
        })
        .collect();
    crate::posture::sort_findings(&mut findings);
    findings
}

/// Active user grants owned by a SCIM-provisioned organization that the user's groups do not explain: a role key is
/// explained when a mapping of that organization, for a group the user is a member of, names the grant's project
/// and that key. A grant without role keys is explained by any such mapping of its project. One finding per grant,
/// with the unexplained role keys as evidence.
pub fn ungoverned_grant(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    mappings: &[GroupRoleMapping],
    members: &[GroupMember],
    provisioned_orgs: &BTreeSet<OrgId>,
) -> Vec<Finding> {
    let mut groups_of: BTreeMap<&UserId, BTreeSet<&ScimGroupId>> = BTreeMap::new();
    for member in members {
        groups_of.entry(&member.user_id).or_default().insert(&member.group_id);
    }
    let no_groups = BTreeSet::new();
    let mut findings = Vec::new();
    for grant in snapshot
        .user_grants
        .iter()
        .filter(|grant| grant.state == GrantState::Active && provisioned_orgs.contains(&grant.org_id))
    {
        let groups = groups_of.get(&grant.user_id).unwrap_or(&no_groups);
        let explaining: Vec<&GroupRoleMapping> = mappings
            .iter()
            .filter(|mapping| {
                mapping.org_id == grant.org_id
                    && mapping.project_id == grant.project_id
                    && groups.contains(&mapping.group_id)
            })
            .collect();
        let explained: BTreeSet<&RoleKey> = explaining.iter().flat_map(|mapping| &mapping.role_keys).collect();
        let unexplained: BTreeSet<&RoleKey> = grant.role_keys.iter().filter(|key| !explained.contains(key)).collect();
        let governed = if grant.role_keys.is_empty() { !explaining.is_empty() } else { unexplained.is_empty() };
        if governed {
            continue;
        }
        let user = snapshot.users.iter().find(|user| user.id == grant.user_id);
        let user_name = user.map_or_else(|| grant.user_id.to_string(), |user| user.username.clone());
        let project_name = snapshot
            .projects
            .iter()
            .find(|project| project.id == grant.project_id)
            .map_or_else(|| grant.project_id.to_string(), |project| project.name.clone());
        let mut evidence = vec![
            ("user".to_owned(), user_name.clone()),
            ("project".to_owned(), project_name.clone()),
            (
                "groups".to_owned(),
                if groups.is_empty() {
                    "none".to_owned()
                } else {
                    groups.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                },
            ),
        ];
        if grant.role_keys.is_empty() {
            evidence
                .push(("roles".to_owned(), "none, and no mapping of the user's groups names the project".to_owned()));
        }
        evidence.extend(
            unexplained
                .iter()
                .map(|key| (format!("role {key}"), "no mapping of the user's groups grants it".to_owned())),
        );
        findings.push(Finding {
            rule: UNGOVERNED_GRANT.id,
            severity: UNGOVERNED_GRANT.severity,
            environment: environment.clone(),
            subject: Subject {
                kind: ResourceKind::UserGrant.into(),
                id: grant.id.to_string(),
                name: format!("{user_name} -> {project_name}"),
                org_id: Some(grant.org_id.clone()),
            },
            message: format!("grant of {project_name} to {user_name} is explained by no group-role mapping"),
            evidence,
            remediation: UNGOVERNED_GRANT.remediation,
        });
    }
    crate::posture::sort_findings(&mut findings);
    findings
}
