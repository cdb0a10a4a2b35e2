//! Users and everything that gives them access: credentials, grants, manager memberships, metadata.

use time::OffsetDateTime;

use crate::id::{MachineKeyId, MetadataKey, OrgId, PatId, ProjectGrantId, ProjectId, RoleKey, UserGrantId, UserId};
use crate::model::state::{AccessTokenType, GrantState, KeyType, UserState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// The organisation the user belongs to.
    pub org_id: OrgId,
    pub username: String,
    pub preferred_login_name: String,
    pub state: UserState,
    pub kind: UserKind,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

impl User {
    pub fn is_machine(&self) -> bool {
        matches!(self.kind, UserKind::Machine(_))
    }

    /// The name a person would recognise: a human's display name or a machine user's name, else the username.
    pub fn display_name(&self) -> &str {
        let name = match &self.kind {
            UserKind::Human(human) => &human.display_name,
            UserKind::Machine(machine) => &machine.name,
        };
        if name.is_empty() { &self.username } else { name }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKind {
    Human(HumanProfile),
    Machine(MachineProfile),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HumanProfile {
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub nick_name: String,
    pub preferred_language: String,
    pub email: String,
    pub email_verified: bool,
    pub phone: String,
    pub phone_verified: bool,
}

/// A service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineProfile {
    pub name: String,
    pub description: String,
    /// A client secret is set (client-credentials login possible).
    pub has_secret: bool,
    pub access_token_type: AccessTokenType,
}

/// A machine user's key pair (JWT-profile login). warden never sees key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineKey {
    pub id: MachineKeyId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub key_type: KeyType,
    pub created_at: Option<OffsetDateTime>,
    /// `None`: never expires (ZITADEL reports 9999-12-31).
    pub expires_at: Option<OffsetDateTime>,
}

/// A personal access token's metadata. warden never sees the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalAccessToken {
    pub id: PatId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub scopes: Vec<String>,
    pub created_at: Option<OffsetDateTime>,
    /// `None`: never expires (ZITADEL reports 9999-12-31).
    pub expires_at: Option<OffsetDateTime>,
}

/// Project roles granted to a user (ZITADEL's user grant, v2's authorization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    pub id: UserGrantId,
    pub user_id: UserId,
    /// The organisation that owns the grant.
    pub org_id: OrgId,
    pub project_id: ProjectId,
    /// Set when the grant is made through a project grant (the project belongs to another organisation).
    pub project_grant_id: Option<ProjectGrantId>,
    pub role_keys: Vec<RoleKey>,
    pub state: GrantState,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

/// Where a manager membership applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MembershipScope {
    /// The whole instance (`IAM_*` roles).
    Instance,
    Org(OrgId),
    Project {
        org_id: OrgId,
        project_id: ProjectId,
    },
    ProjectGrant {
        org_id: OrgId,
        project_id: ProjectId,
        project_grant_id: ProjectGrantId,
    },
}

impl MembershipScope {
    pub fn kind(&self) -> &'static str {
        match self {
            MembershipScope::Instance => "instance",
            MembershipScope::Org(_) => "org",
            MembershipScope::Project { .. } => "project",
            MembershipScope::ProjectGrant { .. } => "project_grant",
        }
    }

    pub fn org_id(&self) -> Option<&OrgId> {
        match self {
            MembershipScope::Instance => None,
            MembershipScope::Org(org_id)
            | MembershipScope::Project { org_id, .. }
            | MembershipScope::ProjectGrant { org_id, .. } => Some(org_id),
        }
    }
}

/// A manager role held by a user (ZITADEL's member / administrator: `ORG_OWNER`, `PROJECT_OWNER`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user_id: UserId,
    pub scope: MembershipScope,
    pub roles: Vec<String>,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}

/// The organization-level manager roles that may create, change and remove an organization's users and their
/// grants: ZITADEL's Okta guide gives the SCIM service user `ORG_USER_MANAGER`; an owner may too.
pub const ORG_USER_MANAGER_ROLES: [&str; 2] = ["ORG_OWNER", "ORG_USER_MANAGER"];
/// The instance-level manager roles that may do the same in every organization.
pub const INSTANCE_USER_MANAGER_ROLES: [&str; 3] = ["IAM_OWNER", "IAM_ORG_MANAGER", "IAM_USER_MANAGER"];

/// The role by which these memberships let their user manage the users of `org` (create, change, deactivate,
/// remove, grant), if any: an organization role in `org`, else an instance role.
pub fn user_manager_role<'a>(memberships: &'a [Membership], org: &OrgId) -> Option<&'a str> {
    let held = |scope: &dyn Fn(&MembershipScope) -> bool, wanted: &[&str]| {
        memberships
            .iter()
            .filter(|membership| scope(&membership.scope))
            .flat_map(|membership| &membership.roles)
            .find(|role| wanted.contains(&role.as_str()))
            .map(String::as_str)
    };
    held(&|scope| matches!(scope, MembershipScope::Org(id) if id == org), &ORG_USER_MANAGER_ROLES)
        .or_else(|| held(&|scope| matches!(scope, MembershipScope::Instance), &INSTANCE_USER_MANAGER_ROLES))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMetadata {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub key: MetadataKey,
    /// Raw bytes as ZITADEL stores them (base64 on the wire).
    pub value: Vec<u8>,
    pub created_at: Option<OffsetDateTime>,
    pub changed_at: Option<OffsetDateTime>,
}
