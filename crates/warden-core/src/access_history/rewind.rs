//! Undoing recorded changes: rebuilding objects from the field values `reconcile` recorded
//! (`crate::reconcile::Described::fields`), and the object keys of `crate::model::Observed`.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access_history::AccessHistoryError;
use crate::id::{IdError, MachineKeyId, OrgId, PatId, ProjectGrantId, ProjectId, RoleKey, UserGrantId, UserId};
use crate::model::{
    AccessTokenType, Change, ChangeKind, GrantState, HumanProfile, KeyType, MachineKey, MachineProfile, Membership,
    MembershipScope, ObjectKey, Org, OrgState, PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState,
    ResourceKind, Snapshot, User, UserGrant, UserKind, UserState,
};
use crate::reconcile::Described;

/// Field name -> recorded value.
type FieldMap = BTreeMap<String, Option<String>>;

/// The current state with every access-carrying change recorded after `at` undone, newest first.
pub(super) fn rewind(
    current: &Snapshot,
    changes: &[Change],
    at: OffsetDateTime,
) -> Result<Snapshot, AccessHistoryError> {
    let mut later: Vec<(usize, &Change)> =
        changes.iter().enumerate().filter(|(_, change)| change.observed_at > at).collect();
    // Newest first; of changes observed at the same time, the one listed last first.
    later.sort_by(|(a_index, a), (b_index, b)| {
        b.observed_at.cmp(&a.observed_at).then_with(|| b.run_id.cmp(&a.run_id)).then_with(|| b_index.cmp(a_index))
    });
    let of = |kind: ResourceKind| -> Vec<&Change> {
        later.iter().map(|(_, change)| *change).filter(|change| change.object_kind == kind).collect()
    };
    Ok(Snapshot {
        orgs: undo(&current.orgs, &of(ResourceKind::Org))?,
        projects: undo(&current.projects, &of(ResourceKind::Project))?,
        project_roles: undo(&current.project_roles, &of(ResourceKind::ProjectRole))?,
        users: undo(&current.users, &of(ResourceKind::User))?,
        machine_keys: undo(&current.machine_keys, &of(ResourceKind::MachineKey))?,
        personal_access_tokens: undo(&current.personal_access_tokens, &of(ResourceKind::PersonalAccessToken))?,
        user_grants: undo(&current.user_grants, &of(ResourceKind::UserGrant))?,
        memberships: undo(&current.memberships, &of(ResourceKind::Membership))?,
        project_grants: undo(&current.project_grants, &of(ResourceKind::ProjectGrant))?,
        ..Snapshot::default()
    })
}

/// An object that can be rebuilt from its recorded fields.
trait Rebuild: Described + Clone {
    /// The object with key `key` in organization `org_id` (the change's) and these field values; `previous` is the
    /// object as it is after the change, when there is one, for what the fields do not record.
    fn rebuild(key: &str, org_id: Option<&OrgId>, fields: &Fields<'_>, previous: Option<&Self>)
    -> Result<Self, String>;
}

/// Undoes `changes` (newest first, all of one kind) on `objects`, returning the objects in key order.
fn undo<T: Rebuild>(objects: &[T], changes: &[&Change]) -> Result<Vec<T>, AccessHistoryError> {
    let mut by_key: BTreeMap<ObjectKey, T> = objects.iter().map(|object| (object.key(), object.clone())).collect();
    for change in changes {
        let failed = |reason: String| AccessHistoryError::Unrewindable {
            object_kind: change.object_kind,
            object_key: change.object_key.clone(),
            kind: change.kind.to_string(),
            reason,
        };
        let key = &change.object_key;
        match &change.kind {
            ChangeKind::Added => {
                by_key.remove(key).ok_or_else(|| failed("the added object is not in the later state".to_owned()))?;
            }
            ChangeKind::Removed => {
                let values: FieldMap =
                    change.fields.iter().map(|field| (field.field.clone(), field.before.clone())).collect();
                let object = T::rebuild(key, change.org_id.as_ref(), &Fields(&values), None).map_err(failed)?;
                by_key.insert(key.clone(), object);
            }
            ChangeKind::Modified => {
                let later = by_key
                    .get(key)
                    .ok_or_else(|| failed("the modified object is not in the later state".to_owned()))?;
                let mut values: FieldMap =
                    later.fields().into_iter().map(|(field, value)| (field.to_owned(), value)).collect();
                for field in &change.fields {
                    values.insert(field.field.clone(), field.before.clone());
                }
                let object = T::rebuild(key, change.org_id.as_ref(), &Fields(&values), Some(later)).map_err(failed)?;
                by_key.insert(key.clone(), object);
            }
            ChangeKind::Unknown(other) => return Err(failed(format!("unknown change kind {other:?}"))),
        }
    }
    Ok(by_key.into_values().collect())
}

/// Typed reads of recorded field values.
struct Fields<'a>(&'a FieldMap);

#[allow(clippy::needless_pass_by_value, reason = "used as `map_err(invalid)`")]
fn invalid(error: IdError) -> String {
    error.to_string()
}

impl Fields<'_> {
    fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|value| value.as_deref())
    }

    fn text(&self, name: &str) -> Result<&str, String> {
        self.optional(name).ok_or_else(|| format!("field {name} was not recorded"))
    }

    /// A text field that is empty when it was not recorded (profile details).
    fn text_or_empty(&self, name: &str) -> String {
        self.optional(name).unwrap_or_default().to_owned()
    }

    fn flag(&self, name: &str) -> Result<bool, String> {
        match self.text(name)? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("field {name} is {other:?}, not a flag")),
        }
    }

    fn list(&self, name: &str) -> Result<Vec<&str>, String> {
        let text = self.text(name)?;
        Ok(if text.is_empty() { Vec::new() } else { text.split(',').collect() })
    }

    fn role_keys(&self, name: &str) -> Result<Vec<RoleKey>, String> {
        self.list(name)?.into_iter().map(|key| RoleKey::parse(key).map_err(invalid)).collect()
    }

    fn time(&self, name: &str) -> Result<Option<OffsetDateTime>, String> {
        let Some(text) = self.optional(name) else { return Ok(None) };
        if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(Some(time));
        }
        // `reconcile` falls back to the Unix timestamp for times RFC 3339 cannot express.
        text.parse::<i64>()
            .ok()
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
            .map(Some)
            .ok_or_else(|| format!("field {name} is {text:?}, not a time"))
    }
}

fn org_of(org_id: Option<&OrgId>) -> Result<OrgId, String> {
    org_id.cloned().ok_or_else(|| "the change names no organization".to_owned())
}

impl Rebuild for Org {
    fn rebuild(key: &str, _: Option<&OrgId>, fields: &Fields<'_>, previous: Option<&Self>) -> Result<Self, String> {
        Ok(Org {
            id: OrgId::parse(key).map_err(invalid)?,
            name: fields.text("name")?.to_owned(),
            state: OrgState::from_text(fields.text("state")?),
            primary_domain: fields.text_or_empty("primary_domain"),
            created_at: previous.and_then(|org| org.created_at),
            changed_at: None,
        })
    }
}

impl Rebuild for Project {
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        fields: &Fields<'_>,
        previous: Option<&Self>,
    ) -> Result<Self, String> {
        Ok(Project {
            id: ProjectId::parse(key).map_err(invalid)?,
            org_id: org_of(org_id)?,
            name: fields.text("name")?.to_owned(),
            state: ProjectState::from_text(fields.text("state")?),
            role_assertion: fields.flag("role_assertion")?,
            role_check: fields.flag("role_check")?,
            has_project_check: fields.flag("has_project_check")?,
            created_at: previous.and_then(|project| project.created_at),
            changed_at: None,
        })
    }
}

impl Rebuild for ProjectRole {
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        fields: &Fields<'_>,
        previous: Option<&Self>,
    ) -> Result<Self, String> {
        let (project_id, role_key) = key.split_once('/').ok_or_else(|| format!("key {key:?} is not project/role"))?;
        Ok(ProjectRole {
            project_id: ProjectId::parse(project_id).map_err(invalid)?,
            org_id: org_of(org_id)?,
            key: RoleKey::parse(role_key).map_err(invalid)?,
            display_name: fields.text_or_empty("display_name"),
            group: fields.text_or_empty("group"),
            created_at: previous.and_then(|role| role.created_at),
            changed_at: None,
        })
    }
}

impl Rebuild for User {
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        fields: &Fields<'_>,
        previous: Option<&Self>,
    ) -> Result<Self, String> {
        let kind = match fields.text("kind")? {
            "machine" => UserKind::Machine(MachineProfile {
                name: fields.text_or_empty("display_name"),
                description: fields.text_or_empty("description"),
                has_secret: fields.optional("has_secret") == Some("true"),
                access_token_type: fields
                    .optional("access_token_type")
                    .map_or(AccessTokenType::Bearer, AccessTokenType::from_text),
            }),
            "human" => UserKind::Human(HumanProfile {
                given_name: fields.text_or_empty("given_name"),
                family_name: fields.text_or_empty("family_name"),
                display_name: fields.text_or_empty("display_name"),
                nick_name: fields.text_or_empty("nick_name"),
                preferred_language: fields.text_or_empty("preferred_language"),
                email: fields.text_or_empty("email"),
                email_verified: fields.optional("email_verified") == Some("true"),
                phone: fields.text_or_empty("phone"),
                phone_verified: fields.optional("phone_verified") == Some("true"),
            }),
            other => return Err(format!("field kind is {other:?}, not human or machine")),
        };
        Ok(User {
            id: UserId::parse(key).map_err(invalid)?,
            org_id: org_of(org_id)?,
            username: fields.text("username")?.to_owned(),
            preferred_login_name: fields.text_or_empty("preferred_login_name"),
            state: UserState::from_text(fields.text("state")?),
            kind,
            created_at: previous.and_then(|user| user.created_at),
            changed_at: None,
        })
    }
}

impl Rebuild for MachineKey {
    fn rebuild(key: &str, org_id: Option<&OrgId>, fields: &Fields<'_>, _: Option<&Self>) -> Result<Self, String> {
        Ok(MachineKey {
            id: MachineKeyId::parse(key).map_err(invalid)?,
            user_id: UserId::parse(fields.text("user_id")?).map_err(invalid)?,
            org_id: org_of(org_id)?,
            key_type: KeyType::from_text(fields.text("key_type")?),
            created_at: fields.time("created_at")?,
            expires_at: fields.time("expires_at")?,
        })
    }
}

impl Rebuild for PersonalAccessToken {
    fn rebuild(key: &str, org_id: Option<&OrgId>, fields: &Fields<'_>, _: Option<&Self>) -> Result<Self, String> {
        Ok(PersonalAccessToken {
            id: PatId::parse(key).map_err(invalid)?,
            user_id: UserId::parse(fields.text("user_id")?).map_err(invalid)?,
            org_id: org_of(org_id)?,
            scopes: fields.list("scopes")?.into_iter().map(str::to_owned).collect(),
            created_at: fields.time("created_at")?,
            expires_at: fields.time("expires_at")?,
        })
    }
}

impl Rebuild for UserGrant {
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        fields: &Fields<'_>,
        previous: Option<&Self>,
    ) -> Result<Self, String> {
        Ok(UserGrant {
            id: UserGrantId::parse(key).map_err(invalid)?,
            user_id: UserId::parse(fields.text("user_id")?).map_err(invalid)?,
            org_id: org_of(org_id)?,
            project_id: ProjectId::parse(fields.text("project_id")?).map_err(invalid)?,
            project_grant_id: fields
                .optional("project_grant_id")
                .map(ProjectGrantId::parse)
                .transpose()
                .map_err(invalid)?,
            role_keys: fields.role_keys("role_keys")?,
            state: GrantState::from_text(fields.text("state")?),
            created_at: previous.and_then(|grant| grant.created_at),
            changed_at: None,
        })
    }
}

impl Rebuild for Membership {
    /// The key says the scope and the user (`org/{org}/{user}`, `project_grant/{grant}/{user}`, ...); the project of
    /// a project-grant membership is a recorded field.
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        fields: &Fields<'_>,
        previous: Option<&Self>,
    ) -> Result<Self, String> {
        let malformed = || format!("key {key:?} is not a membership key");
        let (scope_kind, rest) = key.split_once('/').ok_or_else(malformed)?;
        let (scope, user_id) = if scope_kind == "instance" {
            (MembershipScope::Instance, rest)
        } else {
            let (scope_id, user_id) = rest.split_once('/').ok_or_else(malformed)?;
            let scope = match scope_kind {
                "org" => MembershipScope::Org(OrgId::parse(scope_id).map_err(invalid)?),
                "project" => MembershipScope::Project {
                    org_id: org_of(org_id)?,
                    project_id: ProjectId::parse(scope_id).map_err(invalid)?,
                },
                "project_grant" => MembershipScope::ProjectGrant {
                    org_id: org_of(org_id)?,
                    project_id: ProjectId::parse(fields.text("project_id")?).map_err(invalid)?,
                    project_grant_id: ProjectGrantId::parse(scope_id).map_err(invalid)?,
                },
                _ => return Err(malformed()),
            };
            (scope, user_id)
        };
        Ok(Membership {
            user_id: UserId::parse(user_id).map_err(invalid)?,
            scope,
            roles: fields.list("roles")?.into_iter().map(str::to_owned).collect(),
            created_at: previous.and_then(|membership| membership.created_at),
            changed_at: None,
        })
    }
}

impl Rebuild for ProjectGrant {
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        fields: &Fields<'_>,
        previous: Option<&Self>,
    ) -> Result<Self, String> {
        Ok(ProjectGrant {
            id: ProjectGrantId::parse(key).map_err(invalid)?,
            project_id: ProjectId::parse(fields.text("project_id")?).map_err(invalid)?,
            org_id: org_of(org_id)?,
            granted_org_id: OrgId::parse(fields.text("granted_org_id")?).map_err(invalid)?,
            role_keys: fields.role_keys("role_keys")?,
            state: GrantState::from_text(fields.text("state")?),
            created_at: previous.and_then(|grant| grant.created_at),
            changed_at: None,
        })
    }
}
