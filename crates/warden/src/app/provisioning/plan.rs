//! Which ZITADEL operations a SCIM write sets off: pure functions of the records before and after the write.
//!
//! - A user created, or changed in anything ZITADEL keeps, gets an upsert carrying the user as ZITADEL should
//!   hold it ([`DesiredUser`]); a change ZITADEL does not keep (an address's type, an extension) gets nothing.
//! - A user deleted gets a delete carrying the connection's delete policy.
//! - A group written or deleted gets a grants operation for every member whose grants may change: members who
//!   joined or left, and every member when the group's displayName or externalId (what mappings select by) changed.
//!   Grants operations read the mappings and memberships when they are applied, so they are always current.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use warden_scim::resource;

use crate::store::{DeletePolicy, NewProvisioningOperation, ProvisioningOperationKind, ScimConnectionId, ScimRecord};

/// Where a connection's writes flow on to: its outbox rows name it, and a delete follows its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningTarget {
    pub connection: ScimConnectionId,
    pub delete_policy: DeletePolicy,
}

/// A human user as ZITADEL should hold it: what an upsert carries, and what warden last wrote.
///
/// ZITADEL requires a first and a last name and an email address; SCIM requires none of them. A missing name is
/// taken from the displayName (its first word and the rest) or else the userName; a missing email from the
/// userName when that is an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DesiredUser {
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub preferred_language: String,
    pub active: bool,
    pub external_id: Option<String>,
}

impl DesiredUser {
    pub fn from_resource(user: &Value) -> DesiredUser {
        let text = |value: Option<&str>| value.map(str::trim).unwrap_or_default().to_owned();
        let user_name = text(resource::user_name(user));
        let display_name = text(resource::display_name(user));
        let (mut given_name, mut family_name) = (text(resource::given_name(user)), text(resource::family_name(user)));
        let (first_word, rest) = match display_name.split_once(' ') {
            Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
            None => (display_name.clone(), String::new()),
        };
        if given_name.is_empty() {
            given_name = if first_word.is_empty() { user_name.clone() } else { first_word };
        }
        if family_name.is_empty() {
            family_name = if rest.is_empty() { user_name.clone() } else { rest };
        }
        let mut email = text(resource::primary_email(user));
        if email.is_empty() && user_name.contains('@') {
            email.clone_from(&user_name);
        }
        DesiredUser {
            display_name: if display_name.is_empty() { format!("{given_name} {family_name}") } else { display_name },
            user_name,
            given_name,
            family_name,
            email,
            phone: text(resource::primary_phone_number(user)),
            preferred_language: text(resource::preferred_language(user)),
            active: resource::active(user).unwrap_or(true),
            external_id: resource::external_id(user).map(str::to_owned),
        }
    }

    pub fn to_payload(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_payload(payload: &Value) -> Option<DesiredUser> {
        serde_json::from_value(payload.clone()).ok()
    }
}

fn operation(
    target: &ProvisioningTarget,
    scim_user_id: &str,
    kind: ProvisioningOperationKind,
    payload: Value,
    now: OffsetDateTime,
) -> NewProvisioningOperation {
    NewProvisioningOperation {
        connection_id: target.connection.clone(),
        scim_user_id: scim_user_id.to_owned(),
        kind,
        payload,
        enqueued_at: now,
    }
}

/// A user created (`before` is `None`) or replaced.
pub fn user_written(
    target: &ProvisioningTarget,
    before: Option<&ScimRecord>,
    after: &ScimRecord,
    now: OffsetDateTime,
) -> Vec<NewProvisioningOperation> {
    let desired = DesiredUser::from_resource(&after.resource);
    if before.is_some_and(|before| DesiredUser::from_resource(&before.resource) == desired) {
        return Vec::new();
    }
    vec![operation(target, &after.id, ProvisioningOperationKind::UpsertUser, desired.to_payload(), now)]
}

pub fn user_deleted(target: &ProvisioningTarget, scim_user_id: &str, now: OffsetDateTime) -> NewProvisioningOperation {
    let payload = serde_json::json!({"delete_policy": target.delete_policy.as_str()});
    operation(target, scim_user_id, ProvisioningOperationKind::DeleteUser, payload, now)
}

/// A group created (`before` is `None`), replaced, or deleted (`after` is `None`).
pub fn group_written(
    target: &ProvisioningTarget,
    before: Option<&ScimRecord>,
    after: Option<&ScimRecord>,
    now: OffsetDateTime,
) -> Vec<NewProvisioningOperation> {
    let members = |record: Option<&ScimRecord>| -> BTreeSet<String> {
        record.map(|record| record.members.iter().map(|member| member.value.clone()).collect()).unwrap_or_default()
    };
    let selected_by = |record: Option<&ScimRecord>| {
        record.map(|record| {
            (
                resource::display_name(&record.resource).map(str::to_lowercase),
                resource::external_id(&record.resource).map(str::to_owned),
            )
        })
    };
    let (old, new) = (members(before), members(after));
    let affected: BTreeSet<&String> = if selected_by(before) == selected_by(after) || before.is_none() {
        old.symmetric_difference(&new).collect()
    } else {
        old.union(&new).collect()
    };
    affected
        .into_iter()
        .map(|member| {
            operation(target, member, ProvisioningOperationKind::SyncGrants, serde_json::json!({"group": true}), now)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use warden_core::id::{EnvironmentName, OrgId};

    use super::*;
    use crate::store::{ScimGroupMember, ScimTenant};

    fn record(id: &str, resource: Value, members: &[&str]) -> ScimRecord {
        ScimRecord {
            tenant: ScimTenant {
                environment: EnvironmentName::parse("prod").unwrap(),
                org_id: OrgId::parse("100").unwrap(),
            },
            id: id.to_owned(),
            resource,
            members: members
                .iter()
                .map(|value| ScimGroupMember { value: (*value).to_owned(), display: None, member_type: None })
                .collect(),
            groups: Vec::new(),
            version: 1,
            created: OffsetDateTime::UNIX_EPOCH,
            last_modified: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn target() -> ProvisioningTarget {
        ProvisioningTarget { connection: ScimConnectionId::new("c1"), delete_policy: DeletePolicy::Deactivate }
    }

    #[test]
    fn a_user_without_names_or_email_gets_what_zitadel_requires() {
        let desired = DesiredUser::from_resource(&json!({"userName": "ada@example.com"}));
        assert_eq!(desired.given_name, "ada@example.com");
        assert_eq!(desired.family_name, "ada@example.com");
        assert_eq!(desired.email, "ada@example.com");
        assert!(desired.active);
        let desired = DesiredUser::from_resource(&json!({
            "userName": "ada", "displayName": "Ada King Lovelace", "active": "False",
            "emails": [{"value": "home@example.com"}, {"value": "work@example.com", "primary": true}],
            "phoneNumbers": [{"value": "+41 44 000 00 00"}], "externalId": "00u1",
        }));
        assert_eq!((desired.given_name.as_str(), desired.family_name.as_str()), ("Ada", "King Lovelace"));
        assert_eq!(desired.email, "work@example.com");
        assert_eq!(desired.phone, "+41 44 000 00 00");
        assert!(!desired.active);
        assert_eq!(desired.external_id.as_deref(), Some("00u1"));
        assert_eq!(DesiredUser::from_payload(&desired.to_payload()), Some(desired));
    }

    #[test]
    fn only_changes_zitadel_keeps_are_provisioned() {
        let before = record("u1", json!({"userName": "ada", "emails": [{"value": "a@x.org", "type": "work"}]}), &[]);
        let retyped = record("u1", json!({"userName": "ada", "emails": [{"value": "a@x.org", "type": "home"}]}), &[]);
        assert!(user_written(&target(), Some(&before), &retyped, OffsetDateTime::UNIX_EPOCH).is_empty());
        let renamed =
            record("u1", json!({"userName": "ada", "displayName": "Ada L", "emails": [{"value": "a@x.org"}]}), &[]);
        let operations = user_written(&target(), Some(&before), &renamed, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(operations.len(), 1);
        assert_eq!(operations[0].kind, ProvisioningOperationKind::UpsertUser);
        assert_eq!(user_written(&target(), None, &before, OffsetDateTime::UNIX_EPOCH).len(), 1);
    }

    #[test]
    fn group_writes_touch_the_members_whose_grants_may_change() {
        let ids = |operations: Vec<NewProvisioningOperation>| -> Vec<String> {
            operations.into_iter().map(|operation| operation.scim_user_id).collect()
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let team = record("g1", json!({"displayName": "Team"}), &["a", "b"]);
        assert_eq!(ids(group_written(&target(), None, Some(&team), now)), ["a", "b"]);
        let changed = record("g1", json!({"displayName": "Team"}), &["b", "c"]);
        assert_eq!(ids(group_written(&target(), Some(&team), Some(&changed), now)), ["a", "c"]);
        let renamed = record("g1", json!({"displayName": "Admins"}), &["b", "c"]);
        assert_eq!(ids(group_written(&target(), Some(&team), Some(&renamed), now)), ["a", "b", "c"]);
        let recased = record("g1", json!({"displayName": "TEAM"}), &["a", "b"]);
        assert!(group_written(&target(), Some(&team), Some(&recased), now).is_empty());
        assert_eq!(ids(group_written(&target(), Some(&team), None, now)), ["a", "b"]);
    }
}
