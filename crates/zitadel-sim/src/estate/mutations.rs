//! Mutation helpers on [`Estate`]; each appends the ZITADEL events a real instance would record.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{
    AccessTokenType, Editor, Estate, Event, Gender, GrantState, HumanProfile, MachineKey, MachineProfile, Membership,
    MembershipScope, ObjectMeta, PersonalAccessToken, Project, ProjectRole, ProjectState, User, UserGrant, UserKind,
    UserMetadata, UserState,
};

/// What kind of failure a mutation hit (maps to a gRPC code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstateErrorKind {
    /// gRPC NotFound (5).
    NotFound,
    /// gRPC AlreadyExists (6).
    AlreadyExists,
    /// gRPC InvalidArgument (3).
    InvalidArgument,
    /// gRPC FailedPrecondition (9).
    FailedPrecondition,
}

/// A failed mutation, with ZITADEL's error id and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({id})")]
pub struct EstateError {
    /// Kind (gRPC code).
    pub kind: EstateErrorKind,
    /// ZITADEL error id, e.g. `QUERY-Dfbg2`.
    pub id: &'static str,
    /// Message, e.g. `User could not be found`.
    pub message: String,
}

impl EstateError {
    pub(crate) fn new(kind: EstateErrorKind, id: &'static str, message: impl Into<String>) -> Self {
        Self { kind, id, message: message.into() }
    }

    pub(crate) fn user_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "QUERY-Dfbg2", "User could not be found")
    }

    pub(crate) fn project_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "PROJECT-Bm9sd", "Project not found")
    }

    pub(crate) fn grant_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "COMMAND-4M0fs", "User grant not found")
    }
}

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

fn timestamp(at: OffsetDateTime) -> String {
    crate::json::format_timestamp(at)
}

impl Estate {
    /// Appends an event at the estate's `now`; returns its sequence.
    pub fn record_event(
        &mut self,
        editor_id: &str,
        aggregate: (&str, &str, &str),
        event_type: &str,
        payload: Value,
    ) -> u64 {
        let (aggregate_type, aggregate_id, resource_owner) = aggregate;
        let display_name =
            self.users.get(editor_id).map_or_else(|| editor_id.to_string(), |user| user.display_name().to_string());
        let sequence = self.processed_sequence() + 1;
        self.events.push(Event {
            sequence,
            created: self.now,
            editor: Editor { user_id: editor_id.to_string(), display_name },
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: aggregate_id.to_string(),
            resource_owner: resource_owner.to_string(),
            event_type: event_type.to_string(),
            payload,
        });
        sequence
    }

    fn user_event(&mut self, editor_id: &str, user_id: &str, event_type: &str, payload: Value) {
        let org_id = self.users.get(user_id).map(|user| user.org_id.clone()).unwrap_or_default();
        let now = self.now;
        let reduced = !["user.machine.key.", "user.pat.", "user.metadata."].iter().any(|p| event_type.starts_with(p));
        if let Some(user) = self.users.get_mut(user_id).filter(|_| reduced) {
            user.meta.touch(now);
        }
        self.record_event(editor_id, ("user", user_id, &org_id), event_type, payload);
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

    fn check_org(&self, org_id: &str) -> Result<(), EstateError> {
        if self.orgs.contains_key(org_id) {
            Ok(())
        } else {
            Err(EstateError::new(EstateErrorKind::NotFound, "QUERY-iTTGJ", "Organisation not found"))
        }
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
                meta: ObjectMeta::new(self.now),
            },
        );
        self.index_user(&id);
        self.record_event(editor_id, ("user", &id, org_id), "user.human.added", payload);
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
                meta: ObjectMeta::new(self.now),
            },
        );
        self.index_user(&id);
        let payload = json!({"userName": user_name, "name": name, "description": description, "accessTokenType": 0});
        self.record_event(editor_id, ("user", &id, org_id), "user.machine.added", payload);
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
        self.user_event(editor_id, user_id, "user.human.email.changed", json!({"email": email}));
        if verified {
            self.user_event(editor_id, user_id, "user.human.email.verified", json!({}));
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
        self.user_event(editor_id, user_id, "user.human.profile.changed", payload);
        Ok(())
    }

    /// Deactivates a user (`user.deactivated`).
    pub fn deactivate_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get_mut(user_id).ok_or_else(EstateError::user_not_found)?;
        if user.state == UserState::Inactive {
            return Err(EstateError::new(
                EstateErrorKind::FailedPrecondition,
                "COMMAND-5M0sf",
                "User is already inactive",
            ));
        }
        user.state = UserState::Inactive;
        self.user_event(editor_id, user_id, "user.deactivated", json!({}));
        Ok(())
    }

    /// Reactivates an inactive user (`user.reactivated`).
    pub fn reactivate_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get_mut(user_id).ok_or_else(EstateError::user_not_found)?;
        if user.state != UserState::Inactive {
            return Err(EstateError::new(EstateErrorKind::FailedPrecondition, "COMMAND-6M0sf", "User is not inactive"));
        }
        user.state = UserState::Active;
        self.user_event(editor_id, user_id, "user.reactivated", json!({}));
        Ok(())
    }

    /// Locks a user (`user.locked`).
    pub fn lock_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get_mut(user_id).ok_or_else(EstateError::user_not_found)?;
        user.state = UserState::Locked;
        self.user_event(editor_id, user_id, "user.locked", json!({}));
        Ok(())
    }

    /// Removes a user and cascades grants, memberships, keys, PATs and metadata (`user.removed` and cascade events).
    pub fn remove_user(&mut self, editor_id: &str, user_id: &str) -> Result<(), EstateError> {
        let user = self.users.get(user_id).ok_or_else(EstateError::user_not_found)?.clone();
        let grants: Vec<UserGrant> =
            self.user_grants.values().filter(|grant| grant.user_id == user_id).cloned().collect();
        for grant in grants {
            self.user_grants.remove(&grant.id);
            let payload = json!({"userId": user_id, "projectId": grant.project_id});
            self.record_event(
                editor_id,
                ("usergrant", &grant.id, &grant.org_id),
                "user.grant.cascade.removed",
                payload,
            );
        }
        let memberships: Vec<Membership> =
            self.memberships.values().filter(|membership| membership.user_id == user_id).cloned().collect();
        for membership in memberships {
            self.memberships.remove(&membership.internal_id);
            self.membership_event(editor_id, &membership.scope, "member.cascade.removed", json!({"userId": user_id}));
        }
        self.machine_keys.retain(|_, key| key.user_id != user_id);
        self.personal_access_tokens.retain(|_, pat| pat.user_id != user_id);
        self.user_metadata.retain(|_, entry| entry.user_id != user_id);
        self.unindex_user(user_id);
        self.users.remove(user_id);
        self.record_event(
            editor_id,
            ("user", user_id, &user.org_id),
            "user.removed",
            json!({"userName": user.user_name}),
        );
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

    /// Adds a JSON machine key created now (`user.machine.key.added`); returns the key id.
    pub fn add_machine_key(
        &mut self,
        editor_id: &str,
        user_id: &str,
        expiration: OffsetDateTime,
    ) -> Result<String, EstateError> {
        let org_id = self.machine_user(user_id)?.org_id.clone();
        let id = self.new_id();
        let meta = ObjectMeta::new(self.now);
        let key =
            MachineKey { id: id.clone(), user_id: user_id.to_string(), org_id, expiration, public_key_pem: None, meta };
        self.machine_keys.insert(id.clone(), key);
        let payload = json!({"keyId": id, "type": 1, "expirationDate": timestamp(expiration)});
        self.user_event(editor_id, user_id, "user.machine.key.added", payload);
        Ok(id)
    }

    /// Removes a machine key (`user.machine.key.removed`).
    pub fn remove_machine_key(&mut self, editor_id: &str, user_id: &str, key_id: &str) -> Result<(), EstateError> {
        match self.machine_keys.get(key_id) {
            Some(key) if key.user_id == user_id => {}
            _ => return Err(EstateError::new(EstateErrorKind::NotFound, "COMMAND-4m77G", "Machine key not found")),
        }
        self.machine_keys.remove(key_id);
        self.user_event(editor_id, user_id, "user.machine.key.removed", json!({"keyId": key_id}));
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
        let meta = ObjectMeta::new(self.now);
        let pat =
            PersonalAccessToken { id: id.clone(), user_id: user_id.to_string(), org_id, expiration, scopes, meta };
        self.personal_access_tokens.insert(id.clone(), pat);
        self.user_event(editor_id, user_id, "user.pat.added", payload);
        Ok(id)
    }

    /// Adds a project (`project.added`); returns its id.
    pub fn add_project(&mut self, editor_id: &str, org_id: &str, name: &str) -> Result<String, EstateError> {
        self.check_org(org_id)?;
        let id = self.new_id();
        let project = Project {
            id: id.clone(),
            org_id: org_id.to_string(),
            name: name.to_string(),
            state: ProjectState::Active,
            project_role_assertion: false,
            project_role_check: false,
            has_project_check: false,
            meta: ObjectMeta::new(self.now),
        };
        self.projects.insert(id.clone(), project);
        self.record_event(editor_id, ("project", &id, org_id), "project.added", json!({"name": name}));
        Ok(id)
    }

    /// Removes a project with its roles, apps, project grants, memberships and user grants
    /// (`project.removed`, `user.grant.cascade.removed`).
    pub fn remove_project(&mut self, editor_id: &str, project_id: &str) -> Result<(), EstateError> {
        let project = self.projects.remove(project_id).ok_or_else(EstateError::project_not_found)?;
        let grants: Vec<UserGrant> =
            self.user_grants.values().filter(|grant| grant.project_id == project_id).cloned().collect();
        for grant in grants {
            self.user_grants.remove(&grant.id);
            let payload = json!({"userId": grant.user_id, "projectId": project_id});
            self.record_event(
                editor_id,
                ("usergrant", &grant.id, &grant.org_id),
                "user.grant.cascade.removed",
                payload,
            );
        }
        self.project_roles.retain(|_, role| role.project_id != project_id);
        self.applications.retain(|_, app| app.project_id != project_id);
        self.project_grants.retain(|_, grant| grant.project_id != project_id);
        self.memberships.retain(|_, membership| match &membership.scope {
            MembershipScope::Project { project_id: id, .. } | MembershipScope::ProjectGrant { project_id: id, .. } => {
                id != project_id
            }
            _ => true,
        });
        self.record_event(
            editor_id,
            ("project", project_id, &project.org_id),
            "project.removed",
            json!({"name": project.name}),
        );
        Ok(())
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
        let org_id = self.projects.get(project_id).ok_or_else(EstateError::project_not_found)?.org_id.clone();
        if self.project_roles.values().any(|role| role.project_id == project_id && role.key == key) {
            return Err(EstateError::new(EstateErrorKind::AlreadyExists, "COMMAND-6Rf0s", "Role already exists"));
        }
        let internal_id = self.new_id();
        let role = ProjectRole {
            internal_id: internal_id.clone(),
            project_id: project_id.to_string(),
            org_id: org_id.clone(),
            key: key.to_string(),
            display_name: display_name.to_string(),
            group: group.to_string(),
            meta: ObjectMeta::new(self.now),
        };
        self.project_roles.insert(internal_id, role);
        let payload = json!({"key": key, "displayName": display_name, "group": group});
        self.record_event(editor_id, ("project", project_id, &org_id), "project.role.added", payload);
        Ok(())
    }

    /// Removes a project role and strips it from user grants and project grants
    /// (`project.role.removed`, `user.grant.cascade.changed`, `project.grant.cascade.changed`).
    pub fn remove_project_role(&mut self, editor_id: &str, project_id: &str, key: &str) -> Result<(), EstateError> {
        let found = self.project_roles.iter().find(|(_, role)| role.project_id == project_id && role.key == key);
        let Some((internal_id, role)) = found.map(|(id, role)| (id.clone(), role.clone())) else {
            return Err(EstateError::new(EstateErrorKind::NotFound, "COMMAND-ks8Hc", "Role not found"));
        };
        self.project_roles.remove(&internal_id);
        self.record_event(
            editor_id,
            ("project", project_id, &role.org_id),
            "project.role.removed",
            json!({"key": key}),
        );
        let now = self.now;
        let mut changed = Vec::new();
        for grant in self.user_grants.values_mut() {
            if grant.project_id == project_id && grant.role_keys.iter().any(|role_key| role_key == key) {
                grant.role_keys.retain(|role_key| role_key != key);
                grant.meta.touch(now);
                changed.push((grant.id.clone(), grant.org_id.clone(), grant.user_id.clone(), grant.role_keys.clone()));
            }
        }
        for (grant_id, org_id, user_id, role_keys) in changed {
            let payload = json!({"userId": user_id, "roleKeys": role_keys});
            self.record_event(editor_id, ("usergrant", &grant_id, &org_id), "user.grant.cascade.changed", payload);
        }
        let mut changed_project_grants = Vec::new();
        for grant in self.project_grants.values_mut() {
            if grant.project_id == project_id && grant.role_keys.iter().any(|role_key| role_key == key) {
                grant.role_keys.retain(|role_key| role_key != key);
                grant.meta.touch(now);
                changed_project_grants.push((grant.id.clone(), grant.role_keys.clone()));
            }
        }
        for (grant_id, role_keys) in changed_project_grants {
            let payload = json!({"grantId": grant_id, "roleKeys": role_keys});
            self.record_event(
                editor_id,
                ("project", project_id, &role.org_id),
                "project.grant.cascade.changed",
                payload,
            );
        }
        Ok(())
    }

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
            None => self
                .project_roles
                .values()
                .filter(|role| role.project_id == project_id)
                .map(|role| role.key.clone())
                .collect(),
        };
        if let Some(missing) = role_keys.iter().find(|key| !allowed.contains(key)) {
            return Err(EstateError::new(
                EstateErrorKind::NotFound,
                "COMMAND-ks8Hc",
                format!("Role not found: {missing}"),
            ));
        }
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
        let grant = UserGrant {
            id: id.clone(),
            user_id: user_id.to_string(),
            org_id: org_id.to_string(),
            project_id: project_id.to_string(),
            project_grant_id: project_grant_id.map(str::to_string),
            role_keys,
            state: GrantState::Active,
            meta: ObjectMeta::new(self.now),
        };
        self.user_grants.insert(id.clone(), grant);
        self.record_event(editor_id, ("usergrant", &id, org_id), "user.grant.added", payload);
        Ok(id)
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
            None => self
                .project_roles
                .values()
                .filter(|role| role.project_id == grant.project_id)
                .map(|role| role.key.clone())
                .collect(),
        };
        if let Some(missing) = role_keys.iter().find(|key| !allowed.contains(key)) {
            return Err(EstateError::new(
                EstateErrorKind::NotFound,
                "COMMAND-ks8Hc",
                format!("Role not found: {missing}"),
            ));
        }
        let now = self.now;
        let Some(grant) = self.user_grants.get_mut(grant_id) else { return Err(EstateError::grant_not_found()) };
        let payload = json!({"userId": grant.user_id, "roleKeys": role_keys});
        grant.role_keys = role_keys;
        grant.meta.touch(now);
        let org_id = grant.org_id.clone();
        self.record_event(editor_id, ("usergrant", grant_id, &org_id), "user.grant.changed", payload);
        Ok(())
    }

    /// Removes a user grant (`user.grant.removed`).
    pub fn remove_user_grant(&mut self, editor_id: &str, grant_id: &str) -> Result<(), EstateError> {
        let grant = self.user_grants.remove(grant_id).ok_or_else(EstateError::grant_not_found)?;
        let payload = json!({"userId": grant.user_id, "projectId": grant.project_id});
        self.record_event(editor_id, ("usergrant", grant_id, &grant.org_id), "user.grant.removed", payload);
        Ok(())
    }

    fn membership_event(&mut self, editor_id: &str, scope: &MembershipScope, suffix: &str, payload: Value) {
        let instance_id = self.instance_id.clone();
        let (aggregate_type, aggregate_id, owner, prefix) = match scope {
            MembershipScope::Instance => ("instance", instance_id.clone(), instance_id, "instance"),
            MembershipScope::Org { org_id } => ("org", org_id.clone(), org_id.clone(), "org"),
            MembershipScope::Project { project_id, org_id } => {
                ("project", project_id.clone(), org_id.clone(), "project")
            }
            MembershipScope::ProjectGrant { project_id, org_id, .. } => {
                ("project", project_id.clone(), org_id.clone(), "project.grant")
            }
        };
        self.record_event(editor_id, (aggregate_type, &aggregate_id, &owner), &format!("{prefix}.{suffix}"), payload);
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
        let payload = json!({"userId": user_id, "roles": roles});
        self.membership_event(editor_id, &scope, "member.added", payload);
        let membership = Membership {
            internal_id: id.clone(),
            user_id: user_id.to_string(),
            scope,
            roles,
            meta: ObjectMeta::new(self.now),
        };
        self.memberships.insert(id, membership);
        Ok(())
    }

    /// Removes a user's membership on a scope (`*.member.removed`).
    pub fn remove_membership(
        &mut self,
        editor_id: &str,
        user_id: &str,
        scope: &MembershipScope,
    ) -> Result<(), EstateError> {
        let found =
            self.memberships.iter().find(|(_, membership)| membership.user_id == user_id && &membership.scope == scope);
        let Some(internal_id) = found.map(|(id, _)| id.clone()) else {
            return Err(EstateError::new(EstateErrorKind::NotFound, "COMMAND-D8JxR", "Member not found"));
        };
        self.memberships.remove(&internal_id);
        self.membership_event(editor_id, scope, "member.removed", json!({"userId": user_id}));
        Ok(())
    }

    /// Sets (adds or replaces) a metadata entry of a user (`user.metadata.set`).
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
        let now = self.now;
        match self.user_metadata.values_mut().find(|entry| entry.user_id == user_id && entry.key == key) {
            Some(entry) => {
                entry.value = value.to_vec();
                entry.meta.touch(now);
            }
            None => {
                let internal_id = self.new_id();
                let entry = UserMetadata {
                    internal_id: internal_id.clone(),
                    user_id: user_id.to_string(),
                    org_id,
                    key: key.to_string(),
                    value: value.to_vec(),
                    meta: ObjectMeta::new(now),
                };
                self.user_metadata.insert(internal_id, entry);
            }
        }
        self.user_event(editor_id, user_id, "user.metadata.set", json!({"key": key, "value": STANDARD.encode(value)}));
        Ok(())
    }

    /// Removes a metadata entry of a user (`user.metadata.removed`).
    pub fn remove_user_metadata(&mut self, editor_id: &str, user_id: &str, key: &str) -> Result<(), EstateError> {
        let before = self.user_metadata.len();
        self.user_metadata.retain(|_, entry| !(entry.user_id == user_id && entry.key == key));
        if before == self.user_metadata.len() {
            return Err(EstateError::new(EstateErrorKind::NotFound, "META-ixoi3", "Metadata not found"));
        }
        self.user_event(editor_id, user_id, "user.metadata.removed", json!({"key": key}));
        Ok(())
    }
}
