//! Organisations, projects and what hangs from them: roles, project grants, applications, identity providers.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::id::{ApplicationId, IdpId, OrgId, ProjectGrantId, ProjectId, RoleKey};
use crate::model::state::{
    ApplicationKind, ApplicationState, GrantState, IdpState, OrgState, ProjectState, ProviderType,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub state: OrgState,
    pub primary_domain: String,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    /// The owning organisation (ZITADEL's resource owner).
    pub org_id: OrgId,
    pub name: String,
    pub state: ProjectState,
    /// Roles are asserted into tokens (`projectRoleAssertion`).
    pub role_assertion: bool,
    /// Authorization (a role) is required to log in (`projectRoleCheck`).
    pub role_check: bool,
    /// The user's organisation must have been granted the project (`hasProjectCheck`).
    pub has_project_check: bool,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRole {
    pub project_id: ProjectId,
    pub org_id: OrgId,
    pub key: RoleKey,
    pub display_name: String,
    pub group: String,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

/// A project shared by its owner organisation with another organisation, limited to some role keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectGrant {
    pub id: ProjectGrantId,
    pub project_id: ProjectId,
    /// The organisation that owns the project.
    pub org_id: OrgId,
    pub granted_org_id: OrgId,
    pub role_keys: Vec<RoleKey>,
    pub state: GrantState,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    pub project_id: ProjectId,
    pub org_id: OrgId,
    pub name: String,
    pub state: ApplicationState,
    pub kind: ApplicationKind,
    pub client_id: Option<String>,
    pub auth_method: Option<String>,
    /// The rest of the client configuration as flat, comparable settings (`redirect_uris`, `grant_types`,
    /// `dev_mode`, ...). Never a secret: ZITADEL does not return any.
    pub settings: BTreeMap<String, String>,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

/// Who an identity provider belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdpOwner {
    /// Configured on the instance and offered to every organisation (ZITADEL's `IDP_OWNER_TYPE_SYSTEM`).
    Instance,
    Org(OrgId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub id: IdpId,
    pub owner: IdpOwner,
    pub name: String,
    pub state: IdpState,
    pub provider_type: ProviderType,
    /// The provider's configuration as flat settings (`issuer`, `client_id`, `metadata_xml`, `binding`, ...), enough
    /// to probe it and to see it change. ZITADEL returns no secrets here.
    pub config: BTreeMap<String, String>,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}
