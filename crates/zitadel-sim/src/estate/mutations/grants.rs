//! User grants (the `usergrant` aggregate) and manager memberships (events of the instance, org or project
//! aggregate they apply to; only the member projections reduce them, so the scope object's details stay).

use serde_json::{Value, json};

use super::{EstateError, EstateErrorKind, Stamp};
use crate::estate::{Estate, GrantState, Membership, MembershipScope, UserGrant};

impl Estate {
    /// Adds a user grant owned by `org_id` (`user.grant.added`); returns its id.
    pub fn add_user_grant(
        &mut self,
        editor_id: &str,
        org_id: &str,
        user_id: &str,
        project_id: &str,
        project_grant_id: Option<&str>,
        role_keys: Vec<String>,
    ) -> Result<String, EstateError> {
        if !self.users.contains_key(user_id) {
            return Err(EstateError::user_not_found());
        }
        if !self.projects.contains_key(project_id) {
            return Err(EstateError::project_not_found());
        }
        let allowed: Vec<String> = match project_grant_id {
            Some(grant_id) => match self.project_grants.get(grant_id) {
                Some(grant) if grant.project_id == project_id && grant.granted_org_id == org_id => {
                    grant.role_keys.clone()
                }
                _ => {
                    return Err(EstateError::new(
                        EstateErrorKind::NotFound,
                        "PROJECT-D8JxR",
                        "Project grant not found",
                    ));
                }
            },
            None => self.role_keys_of(project_id),
        };
        check_roles(&role_keys, &allowed)?;
        if self
            .user_grants
            .values()
            .any(|grant| grant.user_id == user_id && grant.project_id == project_id && grant.org_id == org_id)
        {
            return Err(EstateError::new(
                EstateErrorKind::AlreadyExists,
                "USERGRANT-2N9fs",
                "User grant already exists",
            ));
        }
        let id = self.new_id();
        let payload = json!({"userId": user_id, "projectId": project_id, "grantId": project_grant_id.unwrap_or_default(), "roleKeys": role_keys});
        self.begin_command();
        let stamp = self.push_event(editor_id, ("usergrant", &id, org_id), "user.grant.added", payload);
        let grant = UserGrant {
            id: id.clone(),
            user_id: user_id.to_string(),
            org_id: org_id.to_string(),
            project_id: project_id.to_string(),
            project_grant_id: project_grant_id.map(str::to_string),
            role_keys,
            state: GrantState::Active,
            meta: stamp.created(),
        };
        self.user_grants.insert(id.clone(), grant);
        Ok(id)
    }

    pub(crate) fn role_keys_of(&self, project_id: &str) -> Vec<String> {
        self.project_roles.values().filter(|role| role.project_id == project_id).map(|role| role.key.clone()).collect()
    }

    /// Replaces the role keys of a user grant (`user.grant.changed`).
    pub fn update_user_grant(
        &mut self,
        editor_id: &str,
        grant_id: &str,
        role_keys: Vec<String>,
    ) -> Result<(), EstateError> {
        let grant = self.user_grants.get(grant_id).ok_or_else(EstateError::grant_not_found)?;
        let allowed: Vec<String> = match &grant.project_grant_id {
            Some(project_grant_id) => {
                self.project_grants.get(project_grant_id).map(|pg| pg.role_keys.clone()).unwrap_or_default()
            }
            None => self.role_keys_of(&grant.project_id),
        };
        check_roles(&role_keys, &allowed)?;
        let (user_id, org_id) = (grant.user_id.clone(), grant.org_id.clone());
        let payload = json!({"userId": user_id, "roleKeys": role_keys});
        self.begin_command();
        let stamp = self.push_event(editor_id, ("usergrant", grant_id, &org_id), "user.grant.changed", payload);
        if let Some(grant) = self.user_grants.get_mut(grant_id) {
            grant.role_keys = role_keys;
            stamp.apply(&mut grant.meta);
        }
        Ok(())
    }

    /// Removes a user grant (`user.grant.removed`, no payload).
    pub fn remove_user_grant(&mut self, editor_id: &str, grant_id: &str) -> Result<(), EstateError> {
        let grant = self.user_grants.remove(grant_id).ok_or_else(EstateError::grant_not_found)?;
        self.begin_command();
        self.push_event(editor_id, ("usergrant", grant_id, &grant.org_id), "user.grant.removed", Value::Null);
        Ok(())
    }

    /// Removes, within the current command, the user grants `matches` selects (`user.grant.cascade.removed` each).
    pub(crate) fn cascade_remove_user_grants(&mut self, editor_id: &str, matches: impl Fn(&UserGrant) -> bool) {
        let grants: Vec<UserGrant> = self.user_grants.values().filter(|grant| matches(grant)).cloned().collect();
        for grant in grants {
            self.user_grants.remove(&grant.id);
            self.push_event(
                editor_id,
                ("usergrant", &grant.id, &grant.org_id),
                "user.grant.cascade.removed",
                Value::Null,
            );
        }
    }

    /// Appends a member event (`{instance|org|project|project.grant}.member.{suffix}`) of the current command.
    pub(crate) fn push_membership_event(
        &mut self,
        editor_id: &str,
        user_id: &str,
        scope: &MembershipScope,
        suffix: &str,
        roles: Option<&[String]>,
    ) -> Stamp {
        let (aggregate_type, aggregate_id, owner, prefix) = self.membership_aggregate(scope);
        let mut payload = json!({"userId": user_id});
        if let MembershipScope::ProjectGrant { grant_id, .. } = scope {
            payload["grantId"] = json!(grant_id);
        }
        if let Some(roles) = roles {
            payload["roles"] = json!(roles);
        }
        self.push_event(
            editor_id,
            (aggregate_type, &aggregate_id, &owner),
            &format!("{prefix}.member.{suffix}"),
            payload,
        )
    }

    fn find_membership(&self, user_id: &str, scope: &MembershipScope) -> Result<String, EstateError> {
        let found =
            self.memberships.iter().find(|(_, membership)| membership.user_id == user_id && &membership.scope == scope);
        found
            .map(|(id, _)| id.clone())
            .ok_or_else(|| EstateError::new(EstateErrorKind::NotFound, "COMMAND-D8JxR", "Member not found"))
    }

    /// Adds manager roles for a user on a scope (`instance|org|project|project.grant.member.added`).
    pub fn add_membership(
        &mut self,
        editor_id: &str,
        user_id: &str,
        scope: MembershipScope,
        roles: Vec<String>,
    ) -> Result<(), EstateError> {
        if !self.users.contains_key(user_id) {
            return Err(EstateError::user_not_found());
        }
        if self.memberships.values().any(|membership| membership.user_id == user_id && membership.scope == scope) {
            return Err(EstateError::new(EstateErrorKind::AlreadyExists, "COMMAND-PtXi1", "Member already exists"));
        }
        let id = self.new_id();
        self.begin_command();
        let stamp = self.push_membership_event(editor_id, user_id, &scope, "added", Some(&roles));
        let membership =
            Membership { internal_id: id.clone(), user_id: user_id.to_string(), scope, roles, meta: stamp.created() };
        self.memberships.insert(id, membership);
        Ok(())
    }

    /// Replaces a user's manager roles on a scope (`instance|org|project|project.grant.member.changed`).
    pub fn change_membership(
        &mut self,
        editor_id: &str,
        user_id: &str,
        scope: &MembershipScope,
        roles: Vec<String>,
    ) -> Result<(), EstateError> {
        let internal_id = self.find_membership(user_id, scope)?;
        if roles.is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "IAM-LiaZi", "Roles are required"));
        }
        self.begin_command();
        let stamp = self.push_membership_event(editor_id, user_id, scope, "changed", Some(&roles));
        if let Some(membership) = self.memberships.get_mut(&internal_id) {
            membership.roles = roles;
            stamp.apply(&mut membership.meta);
        }
        Ok(())
    }

    /// Removes a user's membership on a scope (`*.member.removed`).
    pub fn remove_membership(
        &mut self,
        editor_id: &str,
        user_id: &str,
        scope: &MembershipScope,
    ) -> Result<(), EstateError> {
        let internal_id = self.find_membership(user_id, scope)?;
        self.memberships.remove(&internal_id);
        self.begin_command();
        self.push_membership_event(editor_id, user_id, scope, "removed", None);
        Ok(())
    }
}

fn check_roles(role_keys: &[String], allowed: &[String]) -> Result<(), EstateError> {
    match role_keys.iter().find(|key| !allowed.contains(key)) {
        Some(missing) => {
            Err(EstateError::new(EstateErrorKind::NotFound, "COMMAND-ks8Hc", format!("Role not found: {missing}")))
        }
        None => Ok(()),
    }
}
