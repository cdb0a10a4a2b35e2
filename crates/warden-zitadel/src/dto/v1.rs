//! Management and Admin API v1 messages (`/management/v1`, `/admin/v1`).

use serde::Deserialize;

use crate::dto::{Details, int64};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Org {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) state: Option<String>,
    pub(crate) name: String,
    pub(crate) primary_domain: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GetMyOrgResponse {
    pub(crate) org: Org,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) state: Option<String>,
    pub(crate) user_name: String,
    pub(crate) preferred_login_name: String,
    pub(crate) human: Option<Human>,
    pub(crate) machine: Option<Machine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Human {
    pub(crate) profile: Profile,
    pub(crate) email: Email,
    pub(crate) phone: Phone,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Profile {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) nick_name: String,
    pub(crate) display_name: String,
    pub(crate) preferred_language: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Email {
    pub(crate) email: String,
    pub(crate) is_email_verified: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Phone {
    pub(crate) phone: String,
    pub(crate) is_phone_verified: bool,
}

/// Also the v2 `MachineUser`: the same fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Machine {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) has_secret: bool,
    pub(crate) access_token_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct MachineKey {
    pub(crate) id: String,
    pub(crate) details: Details,
    #[serde(rename = "type")]
    pub(crate) key_type: Option<String>,
    pub(crate) expiration_date: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PersonalAccessToken {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) expiration_date: Option<String>,
    pub(crate) scopes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Metadata {
    pub(crate) details: Details,
    pub(crate) key: String,
    /// base64.
    pub(crate) value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct UserGrant {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) role_keys: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) user_id: String,
    pub(crate) project_id: String,
    pub(crate) project_grant_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) name: String,
    pub(crate) state: Option<String>,
    pub(crate) project_role_assertion: bool,
    pub(crate) project_role_check: bool,
    pub(crate) has_project_check: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Role {
    pub(crate) key: String,
    pub(crate) details: Details,
    pub(crate) display_name: String,
    pub(crate) group: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Member {
    pub(crate) user_id: String,
    pub(crate) details: Details,
    pub(crate) roles: Vec<String>,
}

/// `zitadel.user.v1.Membership`, as the auth API lists the caller's own: the scope is one of `iam`, `orgId`,
/// `projectId`, `projectGrantId`; the org owning a project (grant) is `details.resourceOwner`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct OwnMembership {
    pub(crate) user_id: String,
    pub(crate) details: Details,
    pub(crate) roles: Vec<String>,
    pub(crate) iam: Option<bool>,
    pub(crate) org_id: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) project_grant_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ListMyMembershipsResponse {
    pub(crate) result: Vec<OwnMembership>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct GrantedProject {
    pub(crate) grant_id: String,
    pub(crate) details: Details,
    pub(crate) granted_org_id: String,
    pub(crate) granted_role_keys: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) project_id: String,
    pub(crate) project_owner_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct App {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) state: Option<String>,
    pub(crate) name: String,
    pub(crate) oidc_config: Option<serde_json::Value>,
    pub(crate) api_config: Option<serde_json::Value>,
    pub(crate) saml_config: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Provider {
    pub(crate) id: String,
    pub(crate) details: Details,
    pub(crate) state: Option<String>,
    pub(crate) name: String,
    pub(crate) owner: Option<String>,
    #[serde(rename = "type")]
    pub(crate) provider_type: Option<String>,
    pub(crate) config: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ListEventsResponse {
    pub(crate) events: Vec<Event>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Event {
    pub(crate) editor: Editor,
    pub(crate) aggregate: Aggregate,
    #[serde(deserialize_with = "int64")]
    pub(crate) sequence: u64,
    pub(crate) creation_date: Option<String>,
    pub(crate) payload: Option<serde_json::Value>,
    #[serde(rename = "type")]
    pub(crate) event_type: EventType,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Editor {
    pub(crate) user_id: String,
    pub(crate) display_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Aggregate {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) aggregate_type: EventType,
    pub(crate) resource_owner: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EventType {
    #[serde(rename = "type")]
    pub(crate) name: String,
}

/// `{"userId": "..."}` and friends: the id a create call returns.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct CreatedUser {
    pub(crate) user_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct CreatedUserGrant {
    pub(crate) user_grant_id: String,
}
