//! The recorded fields of organisations, projects and what hangs from them: roles, project grants, applications,
//! identity providers.

use std::collections::BTreeMap;

use crate::fields::encoding::{Flag, List, OptionalText, Settings, Text, TextOrEmpty};
use crate::fields::{Described, Field, RebuildError, org_of, split_key};
use crate::id::{ApplicationId, IdpId, OrgId, ProjectGrantId, ProjectId, RoleKey};
use crate::model::{
    Application, ApplicationKind, ApplicationState, GrantState, IdentityProvider, IdpOwner, IdpState, Org, OrgState,
    Project, ProjectGrant, ProjectRole, ProjectState, ProviderType,
};

impl Described for Org {
    const FIELDS: &'static [Field<Self>] = &[
        field!("name", Text, org.name),
        field!("state", Text, org.state),
        field!("primary_domain", TextOrEmpty, org.primary_domain),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        None
    }

    fn unrecorded(key: &str, _: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(Org {
            id: OrgId::parse(key)?,
            created_at: later.and_then(|org| org.created_at),
            changed_at: None,
            name: String::new(),
            state: OrgState::Unspecified,
            primary_domain: String::new(),
        })
    }
}

impl Described for Project {
    const FIELDS: &'static [Field<Self>] = &[
        field!("name", Text, project.name),
        field!("state", Text, project.state),
        field!("role_assertion", Flag, project.role_assertion),
        field!("role_check", Flag, project.role_check),
        field!("has_project_check", Flag, project.has_project_check),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(Project {
            id: ProjectId::parse(key)?,
            org_id: org_of(org_id)?,
            created_at: later.and_then(|project| project.created_at),
            changed_at: None,
            name: String::new(),
            state: ProjectState::Unspecified,
            role_assertion: false,
            role_check: false,
            has_project_check: false,
        })
    }
}

impl Described for ProjectRole {
    const FIELDS: &'static [Field<Self>] =
        &[field!("display_name", TextOrEmpty, role.display_name), field!("group", TextOrEmpty, role.group)];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    /// The key is `project_id/role_key`.
    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        let (project_id, role_key) = split_key(key, "project/role")?;
        Ok(ProjectRole {
            project_id: ProjectId::parse(project_id)?,
            org_id: org_of(org_id)?,
            key: RoleKey::parse(role_key)?,
            created_at: later.and_then(|role| role.created_at),
            changed_at: None,
            display_name: String::new(),
            group: String::new(),
        })
    }
}

impl Described for ProjectGrant {
    const FIELDS: &'static [Field<Self>] = &[
        field!("project_id", Text, grant.project_id),
        field!("granted_org_id", Text, grant.granted_org_id),
        field!("role_keys", List, grant.role_keys),
        field!("state", Text, grant.state),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(ProjectGrant {
            id: ProjectGrantId::parse(key)?,
            org_id: org_of(org_id)?,
            created_at: later.and_then(|grant| grant.created_at),
            changed_at: None,
            project_id: ProjectId::unset(),
            granted_org_id: OrgId::unset(),
            role_keys: Vec::new(),
            state: GrantState::Unspecified,
        })
    }
}

impl Described for Application {
    const FIELDS: &'static [Field<Self>] = &[
        field!("project_id", Text, application.project_id),
        field!("name", Text, application.name),
        field!("state", Text, application.state),
        field!("kind", Text, application.kind),
        field!("client_id", OptionalText, application.client_id),
        field!("auth_method", OptionalText, application.auth_method),
        field!("settings", Settings, application.settings),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(Application {
            id: ApplicationId::parse(key)?,
            org_id: org_of(org_id)?,
            created_at: later.and_then(|application| application.created_at),
            changed_at: None,
            project_id: ProjectId::unset(),
            name: String::new(),
            state: ApplicationState::Unspecified,
            kind: ApplicationKind::Unknown(String::new()),
            client_id: None,
            auth_method: None,
            settings: BTreeMap::new(),
        })
    }
}

impl Described for IdentityProvider {
    const FIELDS: &'static [Field<Self>] = &[
        field!("name", Text, provider.name),
        field!("state", Text, provider.state),
        field!("provider_type", Text, provider.provider_type),
        field!("config", Settings, provider.config),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        match &self.owner {
            IdpOwner::Instance => None,
            IdpOwner::Org(org_id) => Some(org_id),
        }
    }

    /// The owner is the organization the change names; none is the instance.
    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(IdentityProvider {
            id: IdpId::parse(key)?,
            owner: org_id.map_or(IdpOwner::Instance, |org_id| IdpOwner::Org(org_id.clone())),
            created_at: later.and_then(|provider| provider.created_at),
            changed_at: None,
            name: String::new(),
            state: IdpState::Unspecified,
            provider_type: ProviderType::Unknown(String::new()),
            config: BTreeMap::new(),
        })
    }
}
