//! Reconciliation of a provisioning connection's tenant: what SCIM says (its users, whether each is active, the
//! groups they are in and what those groups map to) against what ZITADEL holds for the org (the synced snapshot).
//! Differences are findings (`provisioned-user-missing`, `provisioning-state-mismatch`, and the mapping rules of
//! `mappings`); each comes with the [`Repair`] that `warden provisioning repair` queues for it.
//!
//! A user with an operation still in the outbox is not judged (it is on its way), nor one provisioned after the
//! snapshot's sync began (the snapshot cannot know it yet).

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use crate::id::{EnvironmentName, GroupRoleMappingId, OrgId, ProjectId, RoleKey, ScimGroupId, UserId};
use crate::model::{GrantState, Snapshot, UserState};
use crate::posture::mappings::{GroupMember, GroupRoleMapping, ScimGroup};
use crate::posture::{Finding, Rule, Severity, Subject, SubjectKind, mapping_gap, ungoverned_grant, unmapped_group};

pub const PROVISIONED_USER_MISSING: Rule = Rule {
    id: "provisioned-user-missing",
    severity: Severity::High,
    remediation: "Run `warden provisioning repair --connection NAME` to create the user again (or link it by \
                  userName); find out who removed it in ZITADEL (`warden changes`).",
};
pub const PROVISIONING_STATE_MISMATCH: Rule = Rule {
    id: "provisioning-state-mismatch",
    severity: Severity::Medium,
    remediation: "Run `warden provisioning repair --connection NAME` to send the user's state and mapped grants \
                  again; a change made by hand in ZITADEL to a provisioned user is undone by the next write anyway.",
};

/// Which groups a mapping selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingGroup {
    /// By displayName, compared case-insensitively.
    DisplayName(String),
    /// By externalId, compared exactly.
    ExternalId(String),
}

/// A mapping of the tenant, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantMapping {
    pub id: GroupRoleMappingId,
    pub group: MappingGroup,
    pub project_id: ProjectId,
    pub role_keys: Vec<RoleKey>,
}

/// A SCIM group of the tenant with its members' SCIM ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantGroup {
    pub id: ScimGroupId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

/// A SCIM user of the tenant and where provisioning stands with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantUser {
    pub scim_user_id: String,
    pub user_name: String,
    pub active: bool,
    /// The ZITADEL user it was provisioned as (or linked to), if any.
    pub zitadel_user_id: Option<UserId>,
    /// When it was created in SCIM, or last provisioned: judged only when this is before the snapshot's sync began.
    pub since: OffsetDateTime,
    /// An operation of this user is in the outbox (waiting, retried or parked).
    pub in_outbox: bool,
}

/// One provisioning connection's tenant as warden knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedTenant {
    pub connection_id: String,
    pub org_id: OrgId,
    pub users: Vec<TenantUser>,
    pub groups: Vec<TenantGroup>,
    pub mappings: Vec<TenantMapping>,
}

/// What `warden provisioning repair` does for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// The ZITADEL user is gone: forget the link and provision the user again (found by userName, else created).
    Recreate { scim_user_id: String, user_name: String },
    /// The user's state or mapped grants differ: send everything again (warden's memory of what it wrote is reset).
    Resend { scim_user_id: String, user_name: String, zitadel_user_id: UserId },
}

/// The findings and the repairs for these tenants, judged against `snapshot`, synced from `synced_at` on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciliation {
    pub findings: Vec<Finding>,
    pub repairs: Vec<Repair>,
}

pub fn reconcile(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    synced_at: OffsetDateTime,
    tenants: &[ProvisionedTenant],
) -> Reconciliation {
    let mut reconciliation = Reconciliation::default();
    let (mut mappings, mut groups, mut members, mut orgs) = (Vec::new(), Vec::new(), Vec::new(), BTreeSet::new());
    for tenant in tenants {
        orgs.insert(tenant.org_id.clone());
        let selected = |mapping: &TenantMapping| -> Vec<&TenantGroup> {
            tenant.groups.iter().filter(|group| selects(&mapping.group, group)).collect()
        };
        for mapping in &tenant.mappings {
            let name = match &mapping.group {
                MappingGroup::DisplayName(name) => name.clone(),
                MappingGroup::ExternalId(id) => format!("externalId {id}"),
            };
            let matched = selected(mapping);
            // One entry per selected group (for membership), at least one per mapping (for `mapping-gap`).
            let group_ids: Vec<ScimGroupId> = if matched.is_empty() {
                ScimGroupId::parse(format!("unmatched:{}", mapping.id)).into_iter().collect()
            } else {
                matched.iter().map(|group| group.id.clone()).collect()
            };
            for group_id in group_ids {
                mappings.push(GroupRoleMapping {
                    id: mapping.id.clone(),
                    org_id: tenant.org_id.clone(),
                    group_id,
                    group_name: name.clone(),
                    project_id: mapping.project_id.clone(),
                    role_keys: mapping.role_keys.clone(),
                });
            }
        }
        let zitadel_id: BTreeMap<&str, &UserId> = tenant
            .users
            .iter()
            .filter_map(|user| user.zitadel_user_id.as_ref().map(|id| (user.scim_user_id.as_str(), id)))
            .collect();
        for group in &tenant.groups {
            groups.push(ScimGroup {
                id: group.id.clone(),
                org_id: tenant.org_id.clone(),
                display_name: group.display_name.clone(),
                member_count: group.members.len() as u64,
            });
            for member in &group.members {
                if let Some(user_id) = zitadel_id.get(member.as_str()) {
                    members.push(GroupMember { group_id: group.id.clone(), user_id: (*user_id).clone() });
                }
            }
        }
        judge_users(environment, snapshot, synced_at, tenant, &mut reconciliation);
    }
    let mut unique: Vec<GroupRoleMapping> = Vec::new();
    for mapping in &mappings {
        if !unique.iter().any(|seen| seen.id == mapping.id) {
            unique.push(mapping.clone());
        }
    }
    reconciliation.findings.extend(mapping_gap(environment, snapshot, &unique));
    reconciliation.findings.extend(unmapped_group(environment, &groups, &mappings));
    reconciliation.findings.extend(ungoverned_grant(environment, snapshot, &mappings, &members, &orgs));
    crate::posture::sort_findings(&mut reconciliation.findings);
    reconciliation
}

fn selects(selector: &MappingGroup, group: &TenantGroup) -> bool {
    match selector {
        MappingGroup::DisplayName(name) => group.display_name.to_lowercase() == name.to_lowercase(),
        MappingGroup::ExternalId(id) => group.external_id.as_deref() == Some(id.as_str()),
    }
}

fn judge_users(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    synced_at: OffsetDateTime,
    tenant: &ProvisionedTenant,
    reconciliation: &mut Reconciliation,
) {
    let mut wanted: BTreeMap<&str, BTreeMap<&ProjectId, BTreeSet<&RoleKey>>> = BTreeMap::new();
    for group in &tenant.groups {
        for mapping in tenant.mappings.iter().filter(|mapping| selects(&mapping.group, group)) {
            for member in &group.members {
                wanted
                    .entry(member.as_str())
                    .or_default()
                    .entry(&mapping.project_id)
                    .or_default()
                    .extend(&mapping.role_keys);
            }
        }
    }
    for user in tenant.users.iter().filter(|user| !user.in_outbox && user.since < synced_at) {
        let subject = Subject {
            kind: SubjectKind::ScimUser,
            id: user.scim_user_id.clone(),
            name: user.user_name.clone(),
            org_id: Some(tenant.org_id.clone()),
        };
        let zitadel_user = user.zitadel_user_id.as_ref().and_then(|id| {
            snapshot.users.iter().find(|candidate| candidate.id == *id && candidate.org_id == tenant.org_id)
        });
        let Some(zitadel_user) = zitadel_user else {
            let evidence = match &user.zitadel_user_id {
                Some(id) => vec![("ZITADEL user".to_owned(), format!("{id} no longer exists"))],
                None => vec![("ZITADEL user".to_owned(), "never provisioned".to_owned())],
            };
            reconciliation.findings.push(Finding {
                rule: PROVISIONED_USER_MISSING.id,
                severity: PROVISIONED_USER_MISSING.severity,
                environment: environment.clone(),
                subject,
                message: format!("SCIM user {} has no ZITADEL user in organization {}", user.user_name, tenant.org_id),
                evidence,
                remediation: PROVISIONED_USER_MISSING.remediation,
            });
            reconciliation
                .repairs
                .push(Repair::Recreate { scim_user_id: user.scim_user_id.clone(), user_name: user.user_name.clone() });
            continue;
        };
        let mut evidence = Vec::new();
        let zitadel_active = zitadel_user.state == UserState::Active;
        if user.active != zitadel_active {
            evidence.push((
                "state".to_owned(),
                format!(
                    "SCIM says {}, ZITADEL says {}",
                    if user.active { "active" } else { "inactive" },
                    zitadel_user.state.as_str()
                ),
            ));
        }
        if user.active {
            for (project, roles) in wanted.get(user.scim_user_id.as_str()).into_iter().flatten() {
                let held: BTreeSet<&RoleKey> = snapshot
                    .user_grants
                    .iter()
                    .filter(|grant| {
                        grant.user_id == zitadel_user.id
                            && grant.project_id == **project
                            && grant.project_grant_id.is_none()
                            && grant.state == GrantState::Active
                    })
                    .flat_map(|grant| &grant.role_keys)
                    .collect();
                let missing: Vec<String> =
                    roles.iter().filter(|role| !held.contains(*role)).map(|role| role.to_string()).collect();
                if !missing.is_empty() {
                    evidence
                        .push((format!("project {project}"), format!("mapped roles missing: {}", missing.join(", "))));
                }
            }
        }
        if evidence.is_empty() {
            continue;
        }
        reconciliation.findings.push(Finding {
            rule: PROVISIONING_STATE_MISMATCH.id,
            severity: PROVISIONING_STATE_MISMATCH.severity,
            environment: environment.clone(),
            subject,
            message: format!("ZITADEL user {} differs from what SCIM says of {}", zitadel_user.id, user.user_name),
            evidence,
            remediation: PROVISIONING_STATE_MISMATCH.remediation,
        });
        reconciliation.repairs.push(Repair::Resend {
            scim_user_id: user.scim_user_id.clone(),
            user_name: user.user_name.clone(),
            zitadel_user_id: zitadel_user.id.clone(),
        });
    }
}
