//! Users: humans, machines, their state, and the credentials and metadata recorded on the user aggregate.
//!
//! Only the events ZITADEL's user projection reduces move a user's details (`user.human.added`,
//! `user.machine.added`, profile, email, phone, state, `user.machine.changed`, `user.machine.secret.set|removed`);
//! keys, PATs and metadata are events of the user aggregate too, but other projections reduce them, so they
//! advance the aggregate's sequence without touching the user's `details`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{EstateError, EstateErrorKind, Stamp, timestamp};
use crate::estate::{
    AccessTokenType, Estate, Gender, HumanProfile, MachineKey, MachineProfile, Membership, PersonalAccessToken, User,
    UserGrant, UserKind, UserMetadata, UserState,
};

/// Fields of a new human user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHumanUser {
    /// Explicit id (v2 allows it); generated when `None`.
    pub user_id: Option<String>,
    /// Login name within the org.
    pub user_name: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Nick name.
    pub nick_name: String,
    /// Display name (defaults to "first last").
    pub display_name: String,
    /// Preferred language.
    pub preferred_language: String,
    /// Gender.
    pub gender: Gender,
    /// Email.
    pub email: String,
    /// Email verified.
    pub email_verified: bool,
    /// Phone.
    pub phone: String,
    /// Phone verified.
    pub phone_verified: bool,
    /// Initial state (`Active` or `Initial`).
    pub state: UserState,
}

impl NewHumanUser {
    /// An active user with verified email and the given names.
    pub fn new(user_name: &str, first_name: &str, last_name: &str, email: &str) -> Self {
        Self {
            user_id: None,
            user_name: user_name.to_string(),
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            nick_name: String::new(),
            display_name: format!("{first_name} {last_name}"),
            preferred_language: "en".to_string(),
            gender: Gender::Unspecified,
            email: email.to_string(),
            email_verified: true,
            phone: String::new(),
            phone_verified: false,
            state: UserState::Active,
        }
    }
}

impl Estate {
    /// An event on the user aggregate that the user projection reduces: the user's details move.
    fn user_event(&mut self, editor_id: &str, user_id: &str, event_type: &str, payload: Value) -> Stamp {
        let stamp = self.user_aggregate_event(editor_id, user_id, event_type, payload);
        if let Some(user) = self.users.get_mut(user_id) {
            stamp.apply(&mut user.meta);
        }
        stamp
    }

    /// An event on the user aggregate that the user projection ignores (keys, PATs, metadata).
    fn user_aggregate_event(&mut self, editor_id: &str, user_id: &str, event_type: &str, payload: Value) -> Stamp {
        let org_id = self.users.get(user_id).map(|user| user.org_id.clone()).unwrap_or_default();
        self.push_event(editor_id, ("user", user_id, &org_id), event_type, payload)
    }

    fn check_user_name_free(&self, org_id: &str, user_name: &str) -> Result<(), EstateError> {
        if user_name.trim().is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "USER-2n8vs", "Username is empty"));
        }
        if self.users_named(org_id, user_name).any(|user| user.user_name == user_name) {
            return Err(EstateError::new(EstateErrorKind::AlreadyExists, "COMMAND-k2unb", "User already exists"));
        }
        Ok(())
    }

    /// Adds a human user (`user.human.added`).
    pub fn add_human_user(&mut self, editor_id: &str, org_id: &str, new: NewHumanUser) -> Result<String, EstateError> {
        self.check_org(org_id)?;
        self.check_user_name_free(org_id, &new.user_name)?;
        if new.first_name.is_empty() || new.last_name.is_empty() || new.email.is_empty() {
            return Err(EstateError::new(
                EstateErrorKind::InvalidArgument,
                "USER-4hP8s",
                "Profile and email are required",
            ));
        }
        let id = match new.user_id {
            Some(id) if !id.is_empty() => {
                if self.users.contains_key(&id) {
                    return Err(EstateError::new(
                        EstateErrorKind::AlreadyExists,
                        "COMMAND-k2unb",
                        "User already exists",
                    ));
                }
                id
            }
            _ => self.new_id(),
        };
        let display_name = if new.display_name.is_empty() {
            format!("{} {}", new.first_name, new.last_name)
        } else {
            new.display_name
        };
        let payload = json!({
            "userName": new.user_name, "firstName": new.first_name, "lastName": new.last_name,
            "displayName": display_name, "email": new.email, "preferredLanguage": new.preferred_language,
        });
        self.begin_command();
        let stamp = self.push_event(editor_id, ("user", &id, org_id), "user.human.added", payload);
        self.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                org_id: org_id.to_string(),
                user_name: new.user_name,
                state: new.state,
                kind: UserKind::Human(HumanProfile {
                    first_name: new.first_name,
                    last_name: new.last_name,
                    nick_name: new.nick_name,
                    display_name,
                    preferred_language: new.preferred_language,
                    gender: new.gender,
                    email: new.email,
                    email_verified: new.email_verified,
                    phone: new.phone,
                    phone_verified: new.phone_verified,
                    password_changed: None,
                }),
                meta: stamp.created(),
            },
        );
        self.index_user(&id);
        Ok(id)
    }

    /// Adds an active machine user (`user.machine.added`).
    pub fn add_machine_user(
        &mut self,
        editor_id: &str,
        org_id: &str,
        user_name: &str,
        name: &str,
        description: &str,
    ) -> Result<String, EstateError> {
        self.check_org(org_id)?;
        self.check_user_name_free(org_id, user_name)?;
        let id = self.new_id();
        let payload = json!({"userName": user_name, "name": name, "description": description, "accessTokenType": 0});
        self.begin_command();
        let stamp = self.push_event(editor_id, ("user", &id, org_id), "user.machine.added", payload);
        self.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                org_id: org_id.to_string(),
                user_name: user_name.to_string(),
                state: UserState::Active,
                kind: UserKind::Machine(MachineProfile {
                    name: name.to_string(),
                    description: description.to_string(),
                    client_secret: None,
                    access_token_type: AccessTokenType::Bearer,
                }),
                meta: stamp.created(),
            },
        );
        self.index_user(&id);
        Ok(id)
    }

    fn human_mut(&mut self, user_id: &str) -> Result<&mut HumanProfile, EstateError> {
        match self.users.get_mut(user_id).map(|user| &mut user.kind) {
            Some(UserKind::Human(human)) => Ok(human),
            Some(UserKind::Machine(_)) => {
                Err(EstateError::new(EstateErrorKind::FailedPrecondition, "COMMAND-M0dsf", "User is not a human"))
            }
            None => Err(EstateError::user_not_found()),
        }
    }

    /// Changes a human's email (`user.human.email.changed`, plus `user.human.email.verified` when verified).
    pub fn set_user_email(
        &mut self,
        editor_id: &str,
        user_id: &str,
        email: &str,
        verified: bool,
    ) -> Result<(), EstateError> {
        if email.trim().is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "EMAIL-spblu", "Email is empty"));
        }
        let human = self.human_mut(user_id)?;
        human.email = email.to_string();
        human.email_verified = verified;
        self.begin_command();
        self.user_event(editor_id, user_id, "user.human.email.changed", json!({"email": email}));
        if verified {
            self.user_event(editor_id, user_id, "user.human.email.verified", Value::Null);
        }
        Ok(())
    }

    /// Changes a human's profile (`user.human.profile.changed`); empty display name = "first last".
    pub fn set_user_profile(
        &mut self,
        editor_id: &str,
        user_id: &str,
        first_name: &str,
        last_name: &str,
        display_name: &str,
    ) -> Result<(), EstateError> {
        if first_name.is_empty() || last_name.is_empty() {
            return Err(EstateError::new(
                EstateErrorKind::InvalidArgument,
                "USER-4hP8s",
                "First and last name are required",
            ));
        }
        let display_name =
            if display_name.is_empty() { format!("{first_name} {last_name}") } else { display_name.to_string() };
        let human = self.human_mut(user_id)?;
        human.first_name = first_name.to_string();
        human.last_name = last_name.to_string();
        human.display_name.clone_from(&display_name);
        let payload = json!({"firstName": first_name, "lastName": last_name, "displayName": display_name});
        self.begin_command();
        self.user_event(editor_id, user_id, "user.human.profile.changed", payload);
        Ok(())
    }

    fn set_user_state(
        &mut self,
        editor_id: &str,
        user_id: &str,
        state: UserState,
        event_type: &str,
    ) -> Result<(), EstateError> {
        let user = self.users.get_mut(user_id).ok_or_else(EstateError::user_not_found)?;
        user.state = state;
        self.begin_command();
        self.user_event(editor_id, user_id, event_type, Value::Null);
        Ok(())
    }

    /// Deactivates a user (`user.deactivated`).
    pub fn deactivate_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?;
        if user.state == UserState::Inactive {
            return Err(EstateError::new(
                EstateErrorKind::FailedPrecondition,
                "COMMAND-5M0sf",
                "User is already inactive",
            ));
        }
        self.set_user_state(editor_id, user_id, UserState::Inactive, "user.deactivated")
    }

    /// Reactivates an inactive user (`user.reactivated`).
    pub fn reactivate_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?;
        if user.state != UserState::Inactive {
            return Err(EstateError::new(EstateErrorKind::FailedPrecondition, "COMMAND-6M0sf", "User is not inactive"));
        }
        self.set_user_state(editor_id, user_id, UserState::Active, "user.reactivated")
    }

    /// Locks a user (`user.locked`).
    pub fn lock_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        self.set_user_state(editor_id, user_id, UserState::Locked, "user.locked")
    }

    /// Unlocks a locked user (`user.unlocked`).
    pub fn unlock_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?;
        if user.state != UserState::Locked {
            return Err(EstateError::new(EstateErrorKind::FailedPrecondition, "COMMAND-4M0ds", "User is not locked"));
        }
        self.set_user_state(editor_id, user_id, UserState::Active, "user.unlocked")
    }

    /// Removes a user (`user.removed`, then `user.grant.cascade.removed` per grant and `*.member.cascade.removed`
    /// per membership, in one command as ZITADEL's `RemoveUser`). Keys, PATs and metadata get no events: their
    /// projections drop them on `user.removed`.
    pub fn remove_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?.clone();
        self.begin_command();
        self.push_event(editor_id, ("user", user_id, &user.org_id), "user.removed", Value::Null);
        let grants: Vec<UserGrant> =
            self.user_grants.values().filter(|grant| grant.user_id == user_id).cloned().collect();
        for grant in grants {
            self.user_grants.remove(&grant.id);
            self.push_event(
                editor_id,
                ("usergrant", &grant.id, &grant.org_id),
                "user.grant.cascade.removed",
                Value::Null,
            );
        }
        let memberships: Vec<Membership> =
            self.memberships.values().filter(|membership| membership.user_id == user_id).cloned().collect();
        for membership in memberships {
            self.memberships.remove(&membership.internal_id);
            self.push_membership_event(editor_id, user_id, &membership.scope, "cascade.removed", None);
        }
        self.machine_keys.retain(|_, key| key.user_id != user_id);
        self.personal_access_tokens.retain(|_, pat| pat.user_id != user_id);
        self.user_metadata.retain(|_, entry| entry.user_id != user_id);
        self.unindex_user(user_id);
        self.users.remove(user_id);
        Ok(())
    }

    fn machine_user(&self, user_id: &str) -> Result<&User, EstateError> {
        let user = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?;
        if !user.is_machine() {
            return Err(EstateError::new(
                EstateErrorKind::FailedPrecondition,
                "COMMAND-bm9Ds",
                "User is not a machine user",
            ));
        }
        Ok(user)
    }

    /// Gives a machine user a client secret for the client-credentials grant (`user.machine.secret.set`; the user
    /// projection reduces it, so the user's details move).
    pub fn set_machine_secret(&mut self, editor_id: &str, user_id: &str, secret: &str) -> Result<(), EstateError> {
        let user = self.users.get_mut(user_id).ok_or_else(EstateError::user_not_found)?;
        let UserKind::Machine(machine) = &mut user.kind else {
            return Err(EstateError::new(
                EstateErrorKind::FailedPrecondition,
                "COMMAND-5xk2O",
                "User is not a machine",
            ));
        };
        machine.client_secret = Some(secret.to_string());
        self.begin_command();
        self.user_event(editor_id, user_id, "user.machine.secret.set", json!({}));
        Ok(())
    }

    /// Adds a JSON machine key created now (`user.machine.key.added`); returns the key id.
    pub fn add_machine_key(
        &mut self,
        editor_id: &str,
        user_id: &str,
        expiration: OffsetDateTime,
    ) -> Result<String, EstateError> {
        let org_id = self.machine_user(user_id)?.org_id.clone();
        let id = self.new_id();
        let payload = json!({"keyId": id, "type": 1, "expirationDate": timestamp(expiration)});
        self.begin_command();
        let meta = self.user_aggregate_event(editor_id, user_id, "user.machine.key.added", payload).created();
        let key =
            MachineKey { id: id.clone(), user_id: user_id.to_string(), org_id, expiration, public_key_pem: None, meta };
        self.machine_keys.insert(id.clone(), key);
        Ok(id)
    }

    /// Removes a machine key (`user.machine.key.removed`).
    pub fn remove_machine_key(&mut self, editor_id: &str, user_id: &str, key_id: &str) -> Result<(), EstateError> {
        match self.machine_keys.get(key_id) {
            Some(key) if key.user_id == user_id => {}
            _ => return Err(EstateError::new(EstateErrorKind::NotFound, "COMMAND-4m77G", "Machine key not found")),
        }
        self.machine_keys.remove(key_id);
        self.begin_command();
        self.user_aggregate_event(editor_id, user_id, "user.machine.key.removed", json!({"keyId": key_id}));
        Ok(())
    }

    /// Adds a personal access token created now (`user.pat.added`); returns the token id.
    pub fn add_personal_access_token(
        &mut self,
        editor_id: &str,
        user_id: &str,
        expiration: OffsetDateTime,
        scopes: Vec<String>,
    ) -> Result<String, EstateError> {
        let org_id = self.machine_user(user_id)?.org_id.clone();
        let id = self.new_id();
        let payload = json!({"tokenId": id, "expiration": timestamp(expiration), "scopes": scopes});
        self.begin_command();
        let meta = self.user_aggregate_event(editor_id, user_id, "user.pat.added", payload).created();
        let pat =
            PersonalAccessToken { id: id.clone(), user_id: user_id.to_string(), org_id, expiration, scopes, meta };
        self.personal_access_tokens.insert(id.clone(), pat);
        Ok(id)
    }

    /// Removes a personal access token (`user.pat.removed`).
    pub fn remove_personal_access_token(
        &mut self,
        editor_id: &str,
        user_id: &str,
        token_id: &str,
    ) -> Result<(), EstateError> {
        match self.personal_access_tokens.get(token_id) {
            Some(pat) if pat.user_id == user_id => {}
            _ => {
                return Err(EstateError::new(
                    EstateErrorKind::NotFound,
                    "COMMAND-4m77G",
                    "Personal Access Token not found",
                ));
            }
        }
        self.personal_access_tokens.remove(token_id);
        self.begin_command();
        self.user_aggregate_event(editor_id, user_id, "user.pat.removed", json!({"tokenId": token_id}));
        Ok(())
    }

    /// Sets (adds or replaces) a metadata entry of a user (`user.metadata.set`; the entry's projection upserts:
    /// its creation date stays, its sequence and change date move).
    pub fn set_user_metadata(
        &mut self,
        editor_id: &str,
        user_id: &str,
        key: &str,
        value: &[u8],
    ) -> Result<(), EstateError> {
        let org_id = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?.org_id.clone();
        if key.is_empty() {
            return Err(EstateError::new(EstateErrorKind::InvalidArgument, "META-2m00f", "Metadata key is empty"));
        }
        self.begin_command();
        let payload = json!({"key": key, "value": STANDARD.encode(value)});
        let stamp = self.user_aggregate_event(editor_id, user_id, "user.metadata.set", payload);
        match self.user_metadata.values_mut().find(|entry| entry.user_id == user_id && entry.key == key) {
            Some(entry) => {
                entry.value = value.to_vec();
                stamp.apply(&mut entry.meta);
            }
            None => {
                let internal_id = self.new_id();
                let entry = UserMetadata {
                    internal_id: internal_id.clone(),
                    user_id: user_id.to_string(),
                    org_id,
                    key: key.to_string(),
                    value: value.to_vec(),
                    meta: stamp.created(),
                };
                self.user_metadata.insert(internal_id, entry);
            }
        }
        Ok(())
    }

    /// Removes a metadata entry of a user (`user.metadata.removed`).
    pub fn remove_user_metadata(&mut self, editor_id: &str, user_id: &str, key: &str) -> Result<(), EstateError> {
        let before = self.user_metadata.len();
        self.user_metadata.retain(|_, entry| !(entry.user_id == user_id && entry.key == key));
        if before == self.user_metadata.len() {
            return Err(EstateError::new(EstateErrorKind::NotFound, "META-ixoi3", "Metadata not found"));
        }
        self.begin_command();
        self.user_aggregate_event(editor_id, user_id, "user.metadata.removed", json!({"key": key}));
        Ok(())
    }
}
