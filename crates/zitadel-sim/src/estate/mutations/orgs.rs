//! Orgs. Removing one is a single `org.removed` event (ZITADEL's `RemoveOrg` pushes nothing else); every
//! projection drops the rows the org owns, and user grants and memberships of its users elsewhere.

use serde_json::{Value, json};

use super::{EstateError, EstateErrorKind};
use crate::estate::{Estate, MembershipScope};

impl Estate {
    /// Renames an org (`org.changed` with `{name}`).
    pub fn change_org_name(&mut self, editor_id: &str, org_id: &str, name: &str) -> Result<(), EstateError> {
        let org = self.orgs.get(org_id).ok_or_else(EstateError::org_not_found)?;
        if name.trim().is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "ORG-mruNY", "Org name is empty"));
        }
        if org.name == name {
            return Err(EstateError::new(EstateErrorKind::FailedPrecondition, "ORG-4VSdf", "No changes"));
        }
        self.begin_command();
        let stamp = self.push_event(editor_id, ("org", org_id, org_id), "org.changed", json!({"name": name}));
        if let Some(org) = self.orgs.get_mut(org_id) {
            org.name = name.to_string();
            stamp.apply(&mut org.meta);
        }
        Ok(())
    }

    /// Removes an org (`org.removed`, no payload, no cascade events). What its projections drop goes with it: its
    /// users with their keys, PATs and metadata; its projects with their roles, applications and grants; project
    /// grants to it; user grants it owns, of its users, on its projects or through grants to it; memberships on
    /// it, its projects and grants, and of its users; its identity providers. The default (platform) org cannot
    /// be removed.
    pub fn remove_org(&mut self, editor_id: &str, org_id: &str) -> Result<(), EstateError> {
        self.check_org(org_id)?;
        if org_id == self.platform_org_id {
            return Err(EstateError::new(
                EstateErrorKind::FailedPrecondition,
                "COMMA-wG9p1",
                "Errors.Org.DefaultOrgNotDeletable",
            ));
        }
        self.begin_command();
        self.push_event(editor_id, ("org", org_id, org_id), "org.removed", Value::Null);
        let user_ids: Vec<String> =
            self.users.values().filter(|user| user.org_id == org_id).map(|user| user.id.clone()).collect();
        for user_id in &user_ids {
            self.unindex_user(user_id);
            self.users.remove(user_id);
        }
        let gone_user = |user_id: &String| user_ids.contains(user_id);
        self.machine_keys.retain(|_, key| key.org_id != org_id && !gone_user(&key.user_id));
        self.personal_access_tokens.retain(|_, pat| pat.org_id != org_id && !gone_user(&pat.user_id));
        self.user_metadata.retain(|_, entry| entry.org_id != org_id && !gone_user(&entry.user_id));
        let project_ids: Vec<String> = self
            .projects
            .values()
            .filter(|project| project.org_id == org_id)
            .map(|project| project.id.clone())
            .collect();
        self.projects.retain(|_, project| project.org_id != org_id);
        self.project_roles.retain(|_, role| role.org_id != org_id);
        self.applications.retain(|_, app| app.org_id != org_id);
        let grants_to_org: Vec<String> = self
            .project_grants
            .values()
            .filter(|grant| grant.granted_org_id == org_id)
            .map(|grant| grant.id.clone())
            .collect();
        self.project_grants.retain(|_, grant| grant.org_id != org_id && grant.granted_org_id != org_id);
        self.user_grants.retain(|_, grant| {
            grant.org_id != org_id
                && !gone_user(&grant.user_id)
                && !project_ids.contains(&grant.project_id)
                && !grant.project_grant_id.as_ref().is_some_and(|id| grants_to_org.contains(id))
        });
        self.memberships.retain(|_, membership| {
            let scope_gone = match &membership.scope {
                MembershipScope::Instance => false,
                MembershipScope::Org { org_id: id } | MembershipScope::Project { org_id: id, .. } => id == org_id,
                MembershipScope::ProjectGrant { org_id: id, granted_org_id, .. } => {
                    id == org_id || granted_org_id == org_id
                }
            };
            !scope_gone && !gone_user(&membership.user_id)
        });
        self.identity_providers.retain(|_, idp| idp.org_id.as_deref() != Some(org_id));
        self.orgs.remove(org_id);
        Ok(())
    }
}
