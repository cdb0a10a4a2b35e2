//! The caller (derived from its memberships), the role -> permission mapping, and the per-request handler context.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;
use crate::estate::{Estate, MembershipScope};

pub(crate) const ORG_READ: &str = "org.read";
pub(crate) const ORG_MEMBER_READ: &str = "org.member.read";
pub(crate) const ORG_IDP_READ: &str = "org.idp.read";
pub(crate) const USER_READ: &str = "user.read";
pub(crate) const USER_WRITE: &str = "user.write";
pub(crate) const USER_DELETE: &str = "user.delete";
pub(crate) const USER_GRANT_READ: &str = "user.grant.read";
pub(crate) const USER_GRANT_WRITE: &str = "user.grant.write";
pub(crate) const USER_GRANT_DELETE: &str = "user.grant.delete";
pub(crate) const PROJECT_READ: &str = "project.read";
pub(crate) const PROJECT_ROLE_READ: &str = "project.role.read";
pub(crate) const PROJECT_MEMBER_READ: &str = "project.member.read";
pub(crate) const PROJECT_GRANT_READ: &str = "project.grant.read";
pub(crate) const PROJECT_GRANT_MEMBER_READ: &str = "project.grant.member.read";
pub(crate) const PROJECT_APP_READ: &str = "project.app.read";
pub(crate) const IAM_READ: &str = "iam.read";
pub(crate) const IAM_MEMBER_READ: &str = "iam.member.read";
pub(crate) const IAM_IDP_READ: &str = "iam.idp.read";
pub(crate) const EVENTS_READ: &str = "events.read";

const USER_MANAGER_PERMISSIONS: &[&str] = &[
    ORG_READ,
    USER_READ,
    USER_WRITE,
    USER_DELETE,
    USER_GRANT_READ,
    USER_GRANT_WRITE,
    USER_GRANT_DELETE,
    PROJECT_READ,
    PROJECT_ROLE_READ,
];

/// Simplified ZITADEL default role -> permission mapping.
fn role_allows(role: &str, permission: &str) -> bool {
    let read = permission.ends_with(".read");
    let instance_level = permission.starts_with("iam.") || permission == EVENTS_READ;
    match role {
        "IAM_OWNER" => true,
        "IAM_OWNER_VIEWER" => read,
        "IAM_USER_MANAGER" | "ORG_USER_MANAGER" => USER_MANAGER_PERMISSIONS.contains(&permission),
        "ORG_OWNER" => !instance_level,
        "ORG_OWNER_VIEWER" => !instance_level && read,
        _ => false,
    }
}

/// The authenticated user and its manager roles.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) user_id: String,
    pub(crate) org_id: String,
    instance_roles: Vec<String>,
    org_roles: BTreeMap<String, Vec<String>>,
}

impl Caller {
    /// Loads the caller's memberships; `None` when the user does not exist.
    pub(crate) fn load(estate: &Estate, user_id: &str) -> Option<Caller> {
        let user = estate.user(user_id)?;
        let mut instance_roles = Vec::new();
        let mut org_roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for membership in estate.memberships().filter(|membership| membership.user_id == user_id) {
            match &membership.scope {
                MembershipScope::Instance => instance_roles.extend(membership.roles.iter().cloned()),
                MembershipScope::Org { org_id } => {
                    org_roles.entry(org_id.clone()).or_default().extend(membership.roles.iter().cloned());
                }
                MembershipScope::Project { .. } | MembershipScope::ProjectGrant { .. } => {}
            }
        }
        Some(Caller { user_id: user.id.clone(), org_id: user.org_id.clone(), instance_roles, org_roles })
    }

    /// Whether an instance-level role grants `permission`.
    pub(crate) fn can_instance(&self, permission: &str) -> bool {
        self.instance_roles.iter().any(|role| role_allows(role, permission))
    }

    /// Whether the caller holds `permission` in `org_id` (via instance or org roles).
    pub(crate) fn can_in_org(&self, permission: &str, org_id: &str) -> bool {
        self.can_instance(permission)
            || self.org_roles.get(org_id).is_some_and(|roles| roles.iter().any(|role| role_allows(role, permission)))
    }

    /// Whether the caller has any role reaching `org_id`.
    pub(crate) fn reaches_org(&self, org_id: &str) -> bool {
        !self.instance_roles.is_empty() || self.org_roles.contains_key(org_id)
    }
}

/// What a handler gets: the estate (locked), the caller, path parameters, the parsed body and the org header.
pub(crate) struct Ctx<'a> {
    pub(crate) estate: &'a mut Estate,
    pub(crate) caller: &'a Caller,
    pub(crate) params: &'a [String],
    pub(crate) body: &'a Value,
    pub(crate) org_header: Option<&'a str>,
}

impl Ctx<'_> {
    /// Path parameter `index` ("" if absent).
    pub(crate) fn param(&self, index: usize) -> String {
        self.params.get(index).cloned().unwrap_or_default()
    }

    /// The management context org (`x-zitadel-orgid`, else the caller's org), checked for reach and `permission`.
    pub(crate) fn context_org(&self, permission: &str) -> Result<String, ApiError> {
        let org_id = self.org_header.filter(|header| !header.is_empty()).unwrap_or(&self.caller.org_id).to_string();
        if !self.caller.reaches_org(&org_id) || !self.caller.can_in_org(permission, &org_id) {
            return Err(ApiError::permission_denied());
        }
        if self.estate.org(&org_id).is_none() {
            return Err(ApiError::not_found("QUERY-iTTGJ", "Organisation not found"));
        }
        Ok(org_id)
    }

    /// Checks an instance-level permission.
    pub(crate) fn instance(&self, permission: &str) -> Result<(), ApiError> {
        if self.caller.can_instance(permission) { Ok(()) } else { Err(ApiError::permission_denied()) }
    }

    /// Checks `permission` in `org_id` (v2 routes, which name the org in the body or via the object).
    pub(crate) fn in_org(&self, permission: &str, org_id: &str) -> Result<(), ApiError> {
        if self.caller.can_in_org(permission, org_id) { Ok(()) } else { Err(ApiError::permission_denied()) }
    }

    /// Whether the caller may see objects of `org_id` with `permission` (v2 instance-wide lists filter with this).
    pub(crate) fn visible(&self, permission: &str, org_id: &str) -> bool {
        self.caller.can_in_org(permission, org_id)
    }

    /// The editor of changes made by this request.
    pub(crate) fn editor(&self) -> String {
        self.caller.user_id.clone()
    }
}
