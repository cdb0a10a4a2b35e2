//! v2 (`/v2/...`) and v2beta (`/v2beta/...`) messages.

use serde::Deserialize;

use crate::dto::Details;
use crate::dto::v1::Machine;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) state: Option<String>,
    pub(crate) name: String,
    pub(crate) primary_domain: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct User {
    pub(crate) user_id: String,
    pub(crate) details: Details,
    pub(crate) state: Option<String>,
    pub(crate) username: String,
    pub(crate) preferred_login_name: String,
    pub(crate) human: Option<Human>,
    pub(crate) machine: Option<Machine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Human {
    pub(crate) profile: Profile,
    pub(crate) email: Contact,
    pub(crate) phone: Contact,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Profile {
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    pub(crate) nick_name: String,
    pub(crate) display_name: String,
    pub(crate) preferred_language: String,
}

/// `HumanEmail` and `HumanPhone`: the address and whether it is verified.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Contact {
    pub(crate) email: String,
    pub(crate) phone: String,
    pub(crate) is_verified: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) organization_id: String,
    pub(crate) creation_date: Option<String>,
    pub(crate) change_date: Option<String>,
    pub(crate) name: String,
    pub(crate) state: Option<String>,
    pub(crate) project_role_assertion: bool,
    pub(crate) authorization_required: bool,
    pub(crate) project_access_required: bool,
    /// Set when the entry is a project granted to an organization, not one it owns.
    pub(crate) granted_organization_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Authorization {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) project_grant_id: String,
    pub(crate) organization_id: String,
    pub(crate) creation_date: Option<String>,
    pub(crate) change_date: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) user: AuthorizationUser,
    pub(crate) roles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct AuthorizationUser {
    pub(crate) id: String,
    pub(crate) organization_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Administrator {
    pub(crate) creation_date: Option<String>,
    pub(crate) change_date: Option<String>,
    pub(crate) user: AuthorizationUser,
    pub(crate) instance: bool,
    pub(crate) organization: Option<AdministeredOrganization>,
    pub(crate) project: Option<AdministeredProject>,
    pub(crate) project_grant: Option<AdministeredProjectGrant>,
    pub(crate) roles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct AdministeredOrganization {
    pub(crate) id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct AdministeredProject {
    pub(crate) id: String,
    pub(crate) organization_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct AdministeredProjectGrant {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) organization_id: String,
}

/// `zitadel.user.v2.Key` and `zitadel.user.v2.PersonalAccessToken` of the instance-wide searches: the same fields,
/// and neither the key type nor the token's scopes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Credential {
    pub(crate) creation_date: Option<String>,
    pub(crate) change_date: Option<String>,
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) organization_id: String,
    pub(crate) expiration_date: Option<String>,
}
