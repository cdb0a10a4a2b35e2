//! Provisioning: the writes the SCIM server makes on behalf of a customer's IdP (Management v1).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::json;
use warden_core::id::{MetadataKey, OrgId, ProjectGrantId, ProjectId, RoleKey, UserGrantId, UserId};

use crate::client::{V2Service, ZitadelClient};
use crate::dto::v1;
use crate::error::Error;
use crate::path::segment;

/// A human user to create (or import, with a verified email and without an initialization mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHumanUser {
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub preferred_language: String,
    pub email: String,
    pub email_verified: bool,
    /// Empty for none.
    pub phone: String,
}

/// A human user's profile, replaced as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub given_name: String,
    pub family_name: String,
    pub nick_name: String,
    pub display_name: String,
    pub preferred_language: String,
}

fn non_empty(value: &str) -> Option<&str> {
    if value.is_empty() { None } else { Some(value) }
}

fn id_of<T: TryFrom<String, Error = warden_core::id::IdError>>(operation: &str, value: String) -> Result<T, Error> {
    T::try_from(value).map_err(|error| Error::InvalidResponse {
        operation: operation.to_owned(),
        message: format!("no usable id in the answer: {error}"),
    })
}

impl ZitadelClient {
    /// Imports a human user into an organization (`ImportHumanUser`): no initialization mail, email verified as
    /// given.
    pub async fn import_human_user(&self, org: &OrgId, user: &NewHumanUser) -> Result<UserId, Error> {
        let operation = format!("import user {} into org {org}", user.username);
        let mut profile = json!({"firstName": user.given_name, "lastName": user.family_name});
        if let Some(display_name) = non_empty(&user.display_name) {
            profile["displayName"] = json!(display_name);
        }
        if let Some(language) = non_empty(&user.preferred_language) {
            profile["preferredLanguage"] = json!(language);
        }
        let mut body = json!({
            "userName": user.username,
            "profile": profile,
            "email": {"email": user.email, "isEmailVerified": user.email_verified},
        });
        if let Some(phone) = non_empty(&user.phone) {
            body["phone"] = json!({"phone": phone});
        }
        let path = "/management/v1/users/human/_import".to_owned();
        let created: v1::CreatedUser =
            self.call(Method::POST, path, Some(org), Some(body), operation.clone(), "user.write").await?;
        id_of(&operation, created.user_id)
    }

    /// Creates a human user in `org`, active from the start: v2 `AddHumanUser` where this ZITADEL serves it (with
    /// `metadata` set in the same call), else v1 `ImportHumanUser` (the user starts in the initial state, and the
    /// metadata is set with a call each).
    pub async fn add_human_user(
        &self,
        org: &OrgId,
        user: &NewHumanUser,
        metadata: &[(MetadataKey, Vec<u8>)],
    ) -> Result<UserId, Error> {
        let operation = format!("add user {} to org {org}", user.username);
        let created = self
            .through_v2(V2Service::Users, &operation, async {
                let mut profile = json!({"givenName": user.given_name, "familyName": user.family_name});
                if let Some(display_name) = non_empty(&user.display_name) {
                    profile["displayName"] = json!(display_name);
                }
                if let Some(language) = non_empty(&user.preferred_language) {
                    profile["preferredLanguage"] = json!(language);
                }
                let mut body = json!({
                    "username": user.username,
                    "organization": {"orgId": org.as_str()},
                    "profile": profile,
                    "email": {"email": user.email, "isVerified": user.email_verified},
                });
                if let Some(phone) = non_empty(&user.phone) {
                    body["phone"] = json!({"phone": phone});
                }
                if !metadata.is_empty() {
                    let entries: Vec<_> = metadata
                        .iter()
                        .map(|(key, value)| json!({"key": key.as_str(), "value": STANDARD.encode(value)}))
                        .collect();
                    body["metadata"] = json!(entries);
                }
                let created: v1::CreatedUser = self
                    .call(Method::POST, "/v2/users/human".to_owned(), None, Some(body), operation.clone(), "user.write")
                    .await?;
                id_of::<UserId>(&operation, created.user_id)
            })
            .await?;
        if let Some(id) = created {
            return Ok(id);
        }
        let id = self.import_human_user(org, user).await?;
        for (key, value) in metadata {
            self.set_user_metadata(org, &id, key, value).await?;
        }
        Ok(id)
    }

    pub async fn update_human_profile(&self, org: &OrgId, user: &UserId, profile: &ProfileUpdate) -> Result<(), Error> {
        let operation = format!("update the profile of user {user}");
        let mut body = json!({"firstName": profile.given_name, "lastName": profile.family_name});
        for (field, value) in [
            ("nickName", &profile.nick_name),
            ("displayName", &profile.display_name),
            ("preferredLanguage", &profile.preferred_language),
        ] {
            if let Some(value) = non_empty(value) {
                body[field] = json!(value);
            }
        }
        let path = format!("/management/v1/users/{}/profile", segment(user.as_str()));
        self.call::<serde_json::Value>(Method::PUT, path, Some(org), Some(body), operation, "user.write").await?;
        Ok(())
    }

    pub async fn update_email(&self, org: &OrgId, user: &UserId, email: &str, verified: bool) -> Result<(), Error> {
        let operation = format!("update the email of user {user}");
        let mut body = json!({"email": email});
        if verified {
            body["isEmailVerified"] = json!(true);
        }
        let path = format!("/management/v1/users/{}/email", segment(user.as_str()));
        self.call::<serde_json::Value>(Method::PUT, path, Some(org), Some(body), operation, "user.write").await?;
        Ok(())
    }

    pub async fn deactivate_user(&self, org: &OrgId, user: &UserId) -> Result<(), Error> {
        let path = format!("/management/v1/users/{}/_deactivate", segment(user.as_str()));
        let operation = format!("deactivate user {user}");
        self.call::<serde_json::Value>(Method::POST, path, Some(org), None, operation, "user.write").await?;
        Ok(())
    }

    pub async fn reactivate_user(&self, org: &OrgId, user: &UserId) -> Result<(), Error> {
        let path = format!("/management/v1/users/{}/_reactivate", segment(user.as_str()));
        let operation = format!("reactivate user {user}");
        self.call::<serde_json::Value>(Method::POST, path, Some(org), None, operation, "user.write").await?;
        Ok(())
    }

    /// Removes a user; ZITADEL removes its grants and memberships with it.
    pub async fn remove_user(&self, org: &OrgId, user: &UserId) -> Result<(), Error> {
        let path = format!("/management/v1/users/{}", segment(user.as_str()));
        let operation = format!("remove user {user}");
        self.call::<serde_json::Value>(Method::DELETE, path, Some(org), None, operation, "user.delete").await?;
        Ok(())
    }

    pub async fn add_user_grant(
        &self,
        org: &OrgId,
        user: &UserId,
        project: &ProjectId,
        project_grant: Option<&ProjectGrantId>,
        role_keys: &[RoleKey],
    ) -> Result<UserGrantId, Error> {
        let operation = format!("grant project {project} to user {user}");
        let mut body = json!({"projectId": project.as_str(), "roleKeys": role_keys.iter().map(RoleKey::as_str).collect::<Vec<_>>()});
        if let Some(project_grant) = project_grant {
            body["projectGrantId"] = json!(project_grant.as_str());
        }
        let path = format!("/management/v1/users/{}/grants", segment(user.as_str()));
        let created: v1::CreatedUserGrant =
            self.call(Method::POST, path, Some(org), Some(body), operation.clone(), "user.grant.write").await?;
        id_of(&operation, created.user_grant_id)
    }

    /// Replaces the role keys of a user grant.
    pub async fn update_user_grant(
        &self,
        org: &OrgId,
        user: &UserId,
        grant: &UserGrantId,
        role_keys: &[RoleKey],
    ) -> Result<(), Error> {
        let operation = format!("update user grant {grant}");
        let body = json!({"roleKeys": role_keys.iter().map(RoleKey::as_str).collect::<Vec<_>>()});
        let path = format!("/management/v1/users/{}/grants/{}", segment(user.as_str()), segment(grant.as_str()));
        self.call::<serde_json::Value>(Method::PUT, path, Some(org), Some(body), operation, "user.grant.write").await?;
        Ok(())
    }

    pub async fn remove_user_grant(&self, org: &OrgId, user: &UserId, grant: &UserGrantId) -> Result<(), Error> {
        let operation = format!("remove user grant {grant}");
        let path = format!("/management/v1/users/{}/grants/{}", segment(user.as_str()), segment(grant.as_str()));
        self.call::<serde_json::Value>(Method::DELETE, path, Some(org), None, operation, "user.grant.delete").await?;
        Ok(())
    }

    pub async fn set_user_metadata(
        &self,
        org: &OrgId,
        user: &UserId,
        key: &MetadataKey,
        value: &[u8],
    ) -> Result<(), Error> {
        let operation = format!("set metadata {key} of user {user}");
        let path = format!("/management/v1/users/{}/metadata/{}", segment(user.as_str()), segment(key.as_str()));
        let body = json!({"value": STANDARD.encode(value)});
        self.call::<serde_json::Value>(Method::POST, path, Some(org), Some(body), operation, "user.write").await?;
        Ok(())
    }
}
