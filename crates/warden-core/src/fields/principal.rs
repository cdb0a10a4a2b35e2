//! The recorded fields of users and everything that gives them access: credentials, grants, manager memberships,
//! metadata.

use crate::fields::encoding::{Encoding, FlagOrFalse, List, OptionalText, Text, TextOrEmpty, Time, Utf8};
use crate::fields::{Described, Field, FieldValue, RebuildError, org_of, split_key};
use crate::id::{MachineKeyId, MetadataKey, OrgId, PatId, ProjectGrantId, ProjectId, UserGrantId, UserId};
use crate::model::{
    AccessTokenType, GrantState, HumanProfile, KeyType, MachineKey, MachineProfile, Membership, MembershipScope,
    PersonalAccessToken, User, UserGrant, UserKind, UserMetadata, UserState,
};

impl Described for User {
    const FIELDS: &'static [Field<Self>] = &[
        field!("username", Text, user.username),
        field!("preferred_login_name", TextOrEmpty, user.preferred_login_name),
        field!("state", Text, user.state),
        // Before the profile's fields: it chooses the profile they fill in.
        Field { name: "kind", read: user_kind, write: set_user_kind },
        Field { name: "display_name", read: display_name, write: set_display_name },
        field!("given_name", TextOrEmpty, UserKind::Human(profile) in user.kind => profile.given_name),
        field!("family_name", TextOrEmpty, UserKind::Human(profile) in user.kind => profile.family_name),
        field!("nick_name", TextOrEmpty, UserKind::Human(profile) in user.kind => profile.nick_name),
        field!("preferred_language", TextOrEmpty, UserKind::Human(profile) in user.kind => profile.preferred_language),
        field!("email", TextOrEmpty, UserKind::Human(profile) in user.kind => profile.email),
        field!("email_verified", FlagOrFalse, UserKind::Human(profile) in user.kind => profile.email_verified),
        field!("phone", TextOrEmpty, UserKind::Human(profile) in user.kind => profile.phone),
        field!("phone_verified", FlagOrFalse, UserKind::Human(profile) in user.kind => profile.phone_verified),
        field!("description", TextOrEmpty, UserKind::Machine(profile) in user.kind => profile.description),
        field!("has_secret", FlagOrFalse, UserKind::Machine(profile) in user.kind => profile.has_secret),
        Field { name: "access_token_type", read: access_token_type, write: set_access_token_type },
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(User {
            id: UserId::parse(key)?,
            org_id: org_of(org_id)?,
            created_at: later.and_then(|user| user.created_at),
            changed_at: None,
            username: String::new(),
            preferred_login_name: String::new(),
            state: UserState::Unspecified,
            kind: UserKind::Human(HumanProfile::default()),
        })
    }
}

fn user_kind(user: &User) -> Option<FieldValue> {
    let kind = match user.kind {
        UserKind::Human(_) => "human",
        UserKind::Machine(_) => "machine",
    };
    Some(Some(kind.to_owned()))
}

/// Starts an empty profile of the recorded kind.
fn set_user_kind(user: &mut User, recorded: Option<&str>) -> Result<(), String> {
    user.kind = match recorded {
        Some("human") => UserKind::Human(HumanProfile::default()),
        Some("machine") => UserKind::Machine(MachineProfile {
            name: String::new(),
            description: String::new(),
            has_secret: false,
            access_token_type: AccessTokenType::Bearer,
        }),
        Some(other) => return Err(format!("is {other:?}, not human or machine")),
        None => return Err("was not recorded".to_owned()),
    };
    Ok(())
}

/// A human's display name or a machine user's name.
fn display_name(user: &User) -> Option<FieldValue> {
    let name = match &user.kind {
        UserKind::Human(profile) => &profile.display_name,
        UserKind::Machine(profile) => &profile.name,
    };
    Some(TextOrEmpty::render(name))
}

fn set_display_name(user: &mut User, recorded: Option<&str>) -> Result<(), String> {
    let name = TextOrEmpty::parse(recorded)?;
    match &mut user.kind {
        UserKind::Human(profile) => profile.display_name = name,
        UserKind::Machine(profile) => profile.name = name,
    }
    Ok(())
}

fn access_token_type(user: &User) -> Option<FieldValue> {
    match &user.kind {
        UserKind::Machine(profile) => Some(Text::render(&profile.access_token_type)),
        UserKind::Human(_) => None,
    }
}

/// A bearer token when it was not recorded.
fn set_access_token_type(user: &mut User, recorded: Option<&str>) -> Result<(), String> {
    if let UserKind::Machine(profile) = &mut user.kind {
        profile.access_token_type = recorded.map_or(AccessTokenType::Bearer, AccessTokenType::from_text);
    }
    Ok(())
}

impl Described for MachineKey {
    const FIELDS: &'static [Field<Self>] = &[
        field!("user_id", Text, key.user_id),
        field!("key_type", Text, key.key_type),
        field!("created_at", Time, key.created_at),
        field!("expires_at", Time, key.expires_at),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, _: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(MachineKey {
            id: MachineKeyId::parse(key)?,
            org_id: org_of(org_id)?,
            user_id: UserId::unset(),
            key_type: KeyType::Unspecified,
            created_at: None,
            expires_at: None,
        })
    }
}

impl Described for PersonalAccessToken {
    const FIELDS: &'static [Field<Self>] = &[
        field!("user_id", Text, token.user_id),
        field!("scopes", List, token.scopes),
        field!("created_at", Time, token.created_at),
        field!("expires_at", Time, token.expires_at),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, _: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(PersonalAccessToken {
            id: PatId::parse(key)?,
            org_id: org_of(org_id)?,
            user_id: UserId::unset(),
            scopes: Vec::new(),
            created_at: None,
            expires_at: None,
        })
    }
}

impl Described for UserGrant {
    const FIELDS: &'static [Field<Self>] = &[
        field!("user_id", Text, grant.user_id),
        field!("project_id", Text, grant.project_id),
        field!("project_grant_id", OptionalText, grant.project_grant_id),
        field!("role_keys", List, grant.role_keys),
        field!("state", Text, grant.state),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        Ok(UserGrant {
            id: UserGrantId::parse(key)?,
            org_id: org_of(org_id)?,
            created_at: later.and_then(|grant| grant.created_at),
            changed_at: None,
            user_id: UserId::unset(),
            project_id: ProjectId::unset(),
            project_grant_id: None,
            role_keys: Vec::new(),
            state: GrantState::Unspecified,
        })
    }
}

impl Described for Membership {
    const FIELDS: &'static [Field<Self>] = &[
        Field { name: "scope", read: scope_kind, write: check_scope_kind },
        Field { name: "project_id", read: project_id, write: set_project_id },
        field!("roles", List, membership.roles),
    ];

    fn scope_org(&self) -> Option<&OrgId> {
        self.scope.org_id()
    }

    /// The key says the scope and the user (`org/{org}/{user}`, `project_grant/{grant}/{user}`, ...); the project of
    /// a project-grant membership is a recorded field.
    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        let shape = "a membership key";
        let (scope_kind, rest) = split_key(key, shape)?;
        let (scope, user_id) = if scope_kind == "instance" {
            (MembershipScope::Instance, rest)
        } else {
            let (scope_id, user_id) = split_key(rest, shape)?;
            let scope = match scope_kind {
                "org" => MembershipScope::Org(OrgId::parse(scope_id)?),
                "project" => {
                    MembershipScope::Project { org_id: org_of(org_id)?, project_id: ProjectId::parse(scope_id)? }
                }
                "project_grant" => MembershipScope::ProjectGrant {
                    org_id: org_of(org_id)?,
                    project_id: ProjectId::unset(),
                    project_grant_id: ProjectGrantId::parse(scope_id)?,
                },
                _ => return Err(RebuildError(format!("key {key:?} is not {shape}"))),
            };
            (scope, user_id)
        };
        Ok(Membership {
            user_id: UserId::parse(user_id)?,
            scope,
            created_at: later.and_then(|membership| membership.created_at),
            changed_at: None,
            roles: Vec::new(),
        })
    }
}

fn scope_kind(membership: &Membership) -> Option<FieldValue> {
    Some(Some(membership.scope.kind().to_owned()))
}

/// The key says the scope; a recorded scope must agree with it.
fn check_scope_kind(membership: &mut Membership, recorded: Option<&str>) -> Result<(), String> {
    match recorded {
        Some(kind) if kind != membership.scope.kind() => {
            Err(format!("is {kind:?}, but the key says {}", membership.scope.kind()))
        }
        _ => Ok(()),
    }
}

fn project_id(membership: &Membership) -> Option<FieldValue> {
    let project_id = match &membership.scope {
        MembershipScope::Project { project_id, .. } | MembershipScope::ProjectGrant { project_id, .. } => {
            Some(project_id)
        }
        MembershipScope::Instance | MembershipScope::Org(_) => None,
    };
    Some(OptionalText::render(&project_id.cloned()))
}

/// The project of a project-grant membership; the key holds a project membership's, and the others have none.
fn set_project_id(membership: &mut Membership, recorded: Option<&str>) -> Result<(), String> {
    match &mut membership.scope {
        MembershipScope::ProjectGrant { project_id, .. } => *project_id = Text::parse(recorded)?,
        MembershipScope::Instance | MembershipScope::Org(_) | MembershipScope::Project { .. } => {}
    }
    Ok(())
}

impl Described for UserMetadata {
    const FIELDS: &'static [Field<Self>] = &[field!("value", Utf8, metadata.value)];

    fn scope_org(&self) -> Option<&OrgId> {
        Some(&self.org_id)
    }

    /// The key is `user_id/metadata_key`.
    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError> {
        let (user_id, metadata_key) = split_key(key, "user/key")?;
        Ok(UserMetadata {
            user_id: UserId::parse(user_id)?,
            org_id: org_of(org_id)?,
            key: MetadataKey::parse(metadata_key)?,
            created_at: later.and_then(|metadata| metadata.created_at),
            changed_at: None,
            value: Vec::new(),
        })
    }
}
