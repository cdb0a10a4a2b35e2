//! Projects and what lives on the project aggregate: roles, applications, project grants. Only the project
//! projection's own events (`project.added|changed|deactivated|reactivated`) move a project's details; role,
//! application and grant events move the details of the role, application or grant they name.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{EstateError, EstateErrorKind};
use crate::estate::{
    AppConfig, AppState, Application, Estate, GrantState, MembershipScope, OidcAppType, Project, ProjectGrant,
    ProjectRole, ProjectState,
};

impl Estate {
    fn project_owner(&self, project_id: &str) -> Result<String, EstateError> {
        Ok(self.projects.get(project_id).ok_or_else(EstateError::project_not_found)?.org_id.clone())
    }

    /// Adds a project (`project.added`); returns its id.
    pub fn add_project(&mut self, editor_id: &str, org_id: &str, name: &str) -> Result<String, EstateError> {
        self.check_org(org_id)?;
        let id = self.new_id();
        self.begin_command();
        let stamp = self.push_event(editor_id, ("project", &id, org_id), "project.added", json!({"name": name}));
        let project = Project {
            id: id.clone(),
            org_id: org_id.to_string(),
            name: name.to_string(),
            state: ProjectState::Active,
            project_role_assertion: false,
            project_role_check: false,
            has_project_check: false,
            meta: stamp.created(),
        };
        self.projects.insert(id.clone(), project);
        Ok(id)
    }

    /// Renames a project (`project.changed` with `{name}`).
    pub fn change_project(&mut self, editor_id: &str, project_id: &str, name: &str) -> Result<(), EstateError> {
        let project = self.projects.get(project_id).ok_or_else(EstateError::project_not_found)?;
        if name.trim().is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "PROJECT-3M9sd", "Project name is empty"));
        }
        if project.name == name {
            return Err(EstateError::new(EstateErrorKind::FailedPrecondition, "COMMAND-1m9fS", "No changes"));
        }
        let org_id = project.org_id.clone();
        self.begin_command();
        let stamp =
            self.push_event(editor_id, ("project", project_id, &org_id), "project.changed", json!({"name": name}));
        if let Some(project) = self.projects.get_mut(project_id) {
            project.name = name.to_string();
            stamp.apply(&mut project.meta);
        }
        Ok(())
    }

    /// Removes a project (`project.removed`, then `user.grant.cascade.removed` per user grant on it, in one
    /// command as ZITADEL's `RemoveProject`). Roles, applications, project grants and members get no events:
    /// their projections drop them on `project.removed`.
    pub fn remove_project(&mut self, editor_id: &str, project_id: &str) -> Result<(), EstateError> {
        let project = self.projects.remove(project_id).ok_or_else(EstateError::project_not_found)?;
        self.begin_command();
        self.push_event(editor_id, ("project", project_id, &project.org_id), "project.removed", Value::Null);
        self.cascade_remove_user_grants(editor_id, |grant| grant.project_id == project_id);
        self.project_roles.retain(|_, role| role.project_id != project_id);
        self.applications.retain(|_, app| app.project_id != project_id);
        self.project_grants.retain(|_, grant| grant.project_id != project_id);
        self.memberships.retain(|_, membership| match &membership.scope {
            MembershipScope::Project { project_id: id, .. } | MembershipScope::ProjectGrant { project_id: id, .. } => {
                id != project_id
            }
            _ => true,
        });
        Ok(())
    }

    fn find_role(&self, project_id: &str, key: &str) -> Result<String, EstateError> {
        let found = self.project_roles.iter().find(|(_, role)| role.project_id == project_id && role.key == key);
        found
            .map(|(id, _)| id.clone())
            .ok_or_else(|| EstateError::new(EstateErrorKind::NotFound, "COMMAND-ks8Hc", "Role not found"))
    }

    /// Adds a project role (`project.role.added`).
    pub fn add_project_role(
        &mut self,
        editor_id: &str,
        project_id: &str,
        key: &str,
        display_name: &str,
        group: &str,
    ) -> Result<(), EstateError> {
        let org_id = self.project_owner(project_id)?;
        if self.find_role(project_id, key).is_ok() {
            return Err(EstateError::new(EstateErrorKind::AlreadyExists, "COMMAND-6Rf0s", "Role already exists"));
        }
        let internal_id = self.new_id();
        let payload = json!({"key": key, "displayName": display_name, "group": group});
        self.begin_command();
        let stamp = self.push_event(editor_id, ("project", project_id, &org_id), "project.role.added", payload);
        let role = ProjectRole {
            internal_id: internal_id.clone(),
            project_id: project_id.to_string(),
            org_id,
            key: key.to_string(),
            display_name: display_name.to_string(),
            group: group.to_string(),
            meta: stamp.created(),
        };
        self.project_roles.insert(internal_id, role);
        Ok(())
    }

    /// Changes a project role's display name and group (`project.role.changed`).
    pub fn change_project_role(
        &mut self,
        editor_id: &str,
        project_id: &str,
        key: &str,
        display_name: &str,
        group: &str,
    ) -> Result<(), EstateError> {
        let org_id = self.project_owner(project_id)?;
        let internal_id = self.find_role(project_id, key)?;
        let payload = json!({"key": key, "displayName": display_name, "group": group});
        self.begin_command();
        let stamp = self.push_event(editor_id, ("project", project_id, &org_id), "project.role.changed", payload);
        if let Some(role) = self.project_roles.get_mut(&internal_id) {
            role.display_name = display_name.to_string();
            role.group = group.to_string();
            stamp.apply(&mut role.meta);
        }
        Ok(())
    }

    /// Removes a project role and strips it from project grants and user grants (`project.role.removed`, then
    /// `project.grant.cascade.changed` and `user.grant.cascade.changed` for each grant that held it).
    pub fn remove_project_role(&mut self, editor_id: &str, project_id: &str, key: &str) -> Result<(), EstateError> {
        let internal_id = self.find_role(project_id, key)?;
        let org_id = self.project_roles[&internal_id].org_id.clone();
        self.project_roles.remove(&internal_id);
        self.begin_command();
        self.push_event(editor_id, ("project", project_id, &org_id), "project.role.removed", json!({"key": key}));
        let holds = |keys: &[String]| keys.iter().any(|role_key| role_key == key);
        let project_grants: Vec<String> = self
            .project_grants
            .values()
            .filter(|grant| grant.project_id == project_id && holds(&grant.role_keys))
            .map(|grant| grant.id.clone())
            .collect();
        for grant_id in project_grants {
            let Some(grant) = self.project_grants.get_mut(&grant_id) else { continue };
            grant.role_keys.retain(|role_key| role_key != key);
            let payload = json!({"grantId": grant_id, "roleKeys": grant.role_keys});
            let stamp =
                self.push_event(editor_id, ("project", project_id, &org_id), "project.grant.cascade.changed", payload);
            if let Some(grant) = self.project_grants.get_mut(&grant_id) {
                stamp.apply(&mut grant.meta);
            }
        }
        let user_grants: Vec<(String, String)> = self
            .user_grants
            .values()
            .filter(|grant| grant.project_id == project_id && holds(&grant.role_keys))
            .map(|grant| (grant.id.clone(), grant.org_id.clone()))
            .collect();
        for (grant_id, grant_org_id) in user_grants {
            let Some(grant) = self.user_grants.get_mut(&grant_id) else { continue };
            grant.role_keys.retain(|role_key| role_key != key);
            let payload = json!({"roleKeys": grant.role_keys});
            let stamp = self.push_event(
                editor_id,
                ("usergrant", &grant_id, &grant_org_id),
                "user.grant.cascade.changed",
                payload,
            );
            if let Some(grant) = self.user_grants.get_mut(&grant_id) {
                stamp.apply(&mut grant.meta);
            }
        }
        Ok(())
    }

    /// Adds an active application (`project.application.added`, then its
    /// `project.application.config.{oidc|api|saml}.added`, which the application projection reduces too); returns
    /// its id.
    pub fn add_application(
        &mut self,
        editor_id: &str,
        project_id: &str,
        name: &str,
        config: AppConfig,
    ) -> Result<String, EstateError> {
        let org_id = self.project_owner(project_id)?;
        if name.trim().is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "PROJECT-1n8df", "App name is empty"));
        }
        let id = self.new_id();
        let aggregate = ("project", project_id, org_id.as_str());
        let (config_type, config_payload) = match &config {
            AppConfig::Oidc { client_id, app_type, redirect_uris, auth_method_none, .. } => {
                let app_type = match app_type {
                    OidcAppType::Web => 0,
                    OidcAppType::UserAgent => 1,
                    OidcAppType::Native => 2,
                };
                let payload = json!({"appId": id, "clientId": client_id, "redirectUris": redirect_uris,
                    "appType": app_type, "authMethodType": if *auth_method_none { 2 } else { 0 }});
                ("project.application.config.oidc.added", payload)
            }
            AppConfig::Api { client_id, private_key_jwt } => {
                let payload =
                    json!({"appId": id, "clientId": client_id, "authMethodType": if *private_key_jwt { 1 } else { 0 }});
                ("project.application.config.api.added", payload)
            }
            AppConfig::Saml { metadata_xml } => {
                let payload = json!({"appId": id, "metadata": STANDARD.encode(metadata_xml)});
                ("project.application.config.saml.added", payload)
            }
        };
        self.begin_command();
        self.push_event(editor_id, aggregate, "project.application.added", json!({"appId": id, "name": name}));
        let stamp = self.push_event(editor_id, aggregate, config_type, config_payload);
        let app = Application {
            id: id.clone(),
            project_id: project_id.to_string(),
            org_id,
            name: name.to_string(),
            state: AppState::Active,
            config,
            meta: stamp.created(),
        };
        self.applications.insert(id.clone(), app);
        Ok(id)
    }

    /// Removes an application (`project.application.removed`).
    pub fn remove_application(&mut self, editor_id: &str, project_id: &str, app_id: &str) -> Result<(), EstateError> {
        match self.applications.get(app_id) {
            Some(app) if app.project_id == project_id => {}
            _ => return Err(EstateError::new(EstateErrorKind::NotFound, "COMMAND-0po9s", "App not found")),
        }
        let app = self.applications.remove(app_id).ok_or_else(EstateError::project_not_found)?;
        self.begin_command();
        let payload = json!({"appId": app_id});
        self.push_event(editor_id, ("project", project_id, &app.org_id), "project.application.removed", payload);
        Ok(())
    }

    /// Grants a project to another org (`project.grant.added`); returns the grant id.
    pub fn add_project_grant(
        &mut self,
        editor_id: &str,
        project_id: &str,
        granted_org_id: &str,
        role_keys: Vec<String>,
    ) -> Result<String, EstateError> {
        let org_id = self.project_owner(project_id)?;
        self.check_org(granted_org_id)?;
        if granted_org_id == org_id
            || self
                .project_grants
                .values()
                .any(|grant| grant.project_id == project_id && grant.granted_org_id == granted_org_id)
        {
            return Err(EstateError::new(
                EstateErrorKind::AlreadyExists,
                "PROJECT-2b8fs",
                "Project grant already exists",
            ));
        }
        let allowed = self.role_keys_of(project_id);
        if let Some(missing) = role_keys.iter().find(|key| !allowed.contains(key)) {
            return Err(EstateError::new(
                EstateErrorKind::NotFound,
                "COMMAND-ks8Hc",
                format!("Role not found: {missing}"),
            ));
        }
        let id = self.new_id();
        let payload = json!({"grantId": id, "grantedOrgId": granted_org_id, "roleKeys": role_keys});
        self.begin_command();
        let stamp = self.push_event(editor_id, ("project", project_id, &org_id), "project.grant.added", payload);
        let grant = ProjectGrant {
            id: id.clone(),
            project_id: project_id.to_string(),
            org_id,
            granted_org_id: granted_org_id.to_string(),
            role_keys,
            state: GrantState::Active,
            meta: stamp.created(),
        };
        self.project_grants.insert(id.clone(), grant);
        Ok(id)
    }

    /// Removes a project grant (`project.grant.removed`, then `user.grant.cascade.removed` per user grant based on
    /// it); its members get no events (their projection drops them).
    pub fn remove_project_grant(
        &mut self,
        editor_id: &str,
        project_id: &str,
        grant_id: &str,
    ) -> Result<(), EstateError> {
        match self.project_grants.get(grant_id) {
            Some(grant) if grant.project_id == project_id => {}
            _ => return Err(EstateError::new(EstateErrorKind::NotFound, "PROJECT-D8JxR", "Project grant not found")),
        }
        let grant = self.project_grants.remove(grant_id).ok_or_else(EstateError::project_not_found)?;
        self.begin_command();
        let payload = json!({"grantId": grant_id});
        self.push_event(editor_id, ("project", project_id, &grant.org_id), "project.grant.removed", payload);
        self.cascade_remove_user_grants(editor_id, |user_grant| {
            user_grant.project_grant_id.as_deref() == Some(grant_id)
        });
        self.memberships.retain(|_, membership| {
            !matches!(&membership.scope, MembershipScope::ProjectGrant { grant_id: id, .. } if id == grant_id)
        });
        Ok(())
    }
}
