//! The SCIM record writes: create, replace or patch, and delete a tenant's Users and Groups, and the reads they
//! need. The SCIM HTTP server and its `/Bulk` call these; provisioning into ZITADEL extends them (its operations
//! commit with the write they follow). The protocol work is `warden_scim`'s; it runs on the [`ComputePool`].
//!
//! Decisions:
//! - **Retried create.** A create whose userName is taken (case-insensitively) by a user with the same
//!   `externalId` *and the same content* is a retry of a create that already succeeded (Entra ID retries after its
//!   60 s timeout): the stored user is returned, as the first attempt was, and nothing is written. Anything else is
//!   a uniqueness conflict (RFC 7644 section 3.3): another or no `externalId`, or other content (`active: false`,
//!   another displayName), which the client would otherwise believe stored. Groups: a create with the `externalId`
//!   and displayName of a stored group is a retry when its content and members are the same (a member sent without
//!   `display` or `type` matches whatever is shown for it).
//! - **Passwords.** Okta's placeholder `password` is dropped before anything is stored; none is ever stored.
//! - **Versions.** `If-Match` (strong comparison, `*` allowed) guards replace, patch and delete. Without it, a write
//!   that loses a race to another writer is recomputed on the new version (up to three times).
//! - **Deadlines.** Every write asks its request first ([`WriteRequest::begin_write`]): past the request's deadline
//!   nothing is written; once begun, the write's outcome is the answer.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warden_scim::schema::{GROUP_SCHEMA, ResourceType, USER_SCHEMA};
use warden_scim::{SchemaRegistry, ScimError, patch, resource};

use crate::app::compute::{ComputeError, ComputePool};
use crate::app::provisioning::{ProvisioningTarget, plan};
use crate::app::tokens;
use warden_core::model::{UserKind, UserState};

use crate::store::{
    self, NewProvisioningOperation, ProvisionedUser, ScimCondition, ScimGroupMember, ScimKind, ScimQuery, ScimRecord,
    ScimRequestLogEntry, ScimTenant, Store, WriteEffects,
};

/// What a record operation can fail with; the SCIM server renders each in the protocol's error format.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A protocol error (400, 404, 409, 413 with their `scimType`).
    #[error(transparent)]
    Protocol(#[from] ScimError),
    #[error(transparent)]
    Store(#[from] store::Error),
    /// `If-Match` does not name the current version.
    #[error("the resource has changed: If-Match does not name its current version")]
    PreconditionFailed,
    /// The request's deadline passed before the write began: nothing was written.
    #[error("the request's deadline passed before its write began")]
    DeadlinePassed,
    #[error(transparent)]
    Compute(#[from] ComputeError),
}

/// What a write needs from the request it serves: the SCIM server's `Caller` (one per HTTP request, or per
/// `/Bulk` operation) implements it.
pub trait WriteRequest: Sync {
    fn tenant(&self) -> &ScimTenant;
    /// `{public_url}/scim/v2/{orgId}`, for references inside resources.
    fn base_url(&self) -> &str;
    /// Called right before a write: [`RecordError::DeadlinePassed`] once the request's deadline has passed.
    fn begin_write(&self) -> Result<(), RecordError>;
    /// The request's log row as answered with `status`, committed in the write's own transaction.
    fn log_entry(&self, status: u16) -> ScimRequestLogEntry;
    /// The write committed [`WriteRequest::log_entry`]: the request needs no other row.
    fn mark_logged(&self);
    /// Where the write flows on to when the connection provisions into ZITADEL: its operations commit with it.
    fn provisioning(&self) -> Option<&ProvisioningTarget> {
        None
    }
}

/// How a replace or patch changes the stored resource (the body, shared by the attempts of a write).
#[derive(Clone)]
pub enum Change {
    Replace(Arc<Value>),
    Patch(Arc<Value>),
}

impl Change {
    fn apply(
        &self,
        current: &Value,
        registry: &SchemaRegistry,
        resource_type: &ResourceType,
    ) -> Result<Value, ScimError> {
        match self {
            Change::Replace(body) => resource::normalize_for_replace(current, body, registry, resource_type),
            Change::Patch(body) => patch::apply_patch(current, body, registry, resource_type),
        }
    }
}

/// The resource type's name (`User`, `Group`), as `meta.resourceType` and `/ResourceTypes` name it.
pub fn resource_name(kind: ScimKind) -> &'static str {
    match kind {
        ScimKind::User => "User",
        ScimKind::Group => "Group",
    }
}

/// The endpoint below the tenant's base URL (`Users`, `Groups`).
pub fn endpoint(kind: ScimKind) -> &'static str {
    match kind {
        ScimKind::User => "Users",
        ScimKind::Group => "Groups",
    }
}

/// The resource type's core schema URN.
pub fn core_schema(kind: ScimKind) -> &'static str {
    match kind {
        ScimKind::User => USER_SCHEMA,
        ScimKind::Group => GROUP_SCHEMA,
    }
}

pub fn resource_type(kind: ScimKind, registry: &SchemaRegistry) -> Result<&ResourceType, ScimError> {
    let name = resource_name(kind);
    registry.resource_type(name).ok_or_else(|| ScimError::NotFound(format!("no resource type {name}")))
}

/// The strong entity tag of a version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The longest id looked up: ids warden makes are 36 characters; a client never chooses one.
const MAX_ID_LENGTH: usize = 256;

/// Whether an id from a path could name a stored resource at all: not longer than any id, and without NUL (which
/// PostgreSQL refuses in a query). Anything else is 404 without asking the store.
fn could_be_stored(id: &str) -> bool {
    id.len() <= MAX_ID_LENGTH && !id.contains('\0')
}

/// An id as an error message shows it: escaped, and cut short.
fn shown_id(id: &str) -> String {
    let shown: String = id.chars().take(64).flat_map(char::escape_debug).collect();
    if id.chars().count() > 64 { format!("{shown}...") } else { shown }
}

fn not_found(kind: ScimKind, id: &str) -> RecordError {
    ScimError::NotFound(format!("no {} {} in this tenant", resource_name(kind), shown_id(id))).into()
}

fn if_match_allows(if_match: Option<&str>, version: i64) -> Result<(), RecordError> {
    let Some(text) = if_match else { return Ok(()) };
    let current = etag(version);
    if text.split(',').map(str::trim).any(|tag| tag == "*" || tag == current) {
        Ok(())
    } else {
        Err(RecordError::PreconditionFailed)
    }
}

/// A stored record as served: its resource with `id`, a group's `members` or a user's `groups`, and `meta`.
pub fn render(kind: ScimKind, record: ScimRecord, base_url: &str) -> Value {
    let ScimRecord { mut resource, id, members, groups, version, created, last_modified, .. } = record;
    let Some(object) = resource.as_object_mut() else { return resource };
    let location = format!("{base_url}/{}/{id}", endpoint(kind));
    object.insert("id".to_owned(), Value::String(id));
    if kind == ScimKind::Group && !members.is_empty() {
        let members: Vec<Value> = members
            .into_iter()
            .map(|member| {
                let mut value = Map::new();
                let member_endpoint = member.member_type.as_deref().and_then(|member_type| {
                    ScimKind::ALL
                        .into_iter()
                        .find(|kind| resource_name(*kind).eq_ignore_ascii_case(member_type))
                        .map(endpoint)
                });
                if let Some(member_endpoint) = member_endpoint {
                    value.insert("$ref".to_owned(), json!(format!("{base_url}/{member_endpoint}/{}", member.value)));
                }
                value.insert("value".to_owned(), Value::String(member.value));
                for (key, text) in [("type", member.member_type), ("display", member.display)] {
                    if let Some(text) = text {
                        value.insert(key.to_owned(), Value::String(text));
                    }
                }
                Value::Object(value)
            })
            .collect();
        object.insert("members".to_owned(), Value::Array(members));
    }
    if kind == ScimKind::User && !groups.is_empty() {
        let groups: Vec<Value> = groups
            .into_iter()
            .map(|group| {
                json!({
                    "value": group.group_id,
                    "$ref": format!("{base_url}/Groups/{}", group.group_id),
                    "display": group.display,
                    "type": "direct",
                })
            })
            .collect();
        object.insert("groups".to_owned(), Value::Array(groups));
    }
    let time = |at: OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
    object.insert(
        "meta".to_owned(),
        json!({
            "resourceType": resource_name(kind),
            "created": time(created),
            "lastModified": time(last_modified),
            "location": location,
            "version": etag(version),
        }),
    );
    resource
}

/// Drops what is never stored from a resource about to be written: `password`, `meta`, a user's `groups` (read
/// from the memberships) and a group's `members` (returned separately, as rows, kept as sent).
fn prepare_for_storage(kind: ScimKind, resource: &mut Value, id: &str) -> Vec<ScimGroupMember> {
    let members = if kind == ScimKind::Group {
        resource::members(resource)
            .into_iter()
            .map(|member| ScimGroupMember {
                value: member.value.to_owned(),
                display: member.display.map(str::to_owned),
                member_type: member.member_type.map(str::to_owned),
            })
            .collect()
    } else {
        Vec::new()
    };
    if let Some(object) = resource.as_object_mut() {
        object.retain(|key, _| {
            !["password", "meta", "members", "groups"].iter().any(|dropped| key.eq_ignore_ascii_case(dropped))
        });
        object.insert("id".to_owned(), json!(id));
    }
    members
}

/// The records of every tenant: what the writes need (the store, the schemas, the pool for protocol work).
#[derive(Clone)]
pub struct ScimRecords {
    pub store: Arc<dyn Store>,
    pub registry: Arc<SchemaRegistry>,
    pub compute: Arc<ComputePool>,
}

impl ScimRecords {
    pub fn new(store: Arc<dyn Store>, registry: Arc<SchemaRegistry>, compute: Arc<ComputePool>) -> ScimRecords {
        ScimRecords { store, registry, compute }
    }

    /// The record `id` of `tenant` (404 in SCIM form when there is none).
    pub async fn get(&self, kind: ScimKind, tenant: &ScimTenant, id: &str) -> Result<ScimRecord, RecordError> {
        if !could_be_stored(id) {
            return Err(not_found(kind, id));
        }
        let found = self.store.scim_record(kind, tenant, id).await?;
        found.ok_or_else(|| not_found(kind, id))
    }

    /// The record `id` of the request's tenant; on a provisioning connection, a user id that is no record but the
    /// id of a human ZITADEL user of the tenant's org (as last synced) is adopted first ([`ScimRecords::adopt`]).
    pub async fn get_or_adopt(
        &self,
        kind: ScimKind,
        request: &impl WriteRequest,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<ScimRecord, RecordError> {
        match self.get(kind, request.tenant(), id).await {
            Err(RecordError::Protocol(ScimError::NotFound(message))) => match self.adopt(kind, request, id, now).await?
            {
                Some(record) => Ok(record),
                None => Err(ScimError::NotFound(message).into()),
            },
            other => other,
        }
    }

    /// Moving from ZITADEL's own SCIM server: a client addresses the users that server created by their ZITADEL
    /// ids. On a provisioning connection, such an id (a human user of the tenant's org, as last synced) becomes a
    /// record with that id, linked to the ZITADEL user, holding what ZITADEL holds; nothing is sent to ZITADEL. A
    /// user whose userName a record already has is not adopted (the client created it again; that record is its).
    async fn adopt(
        &self,
        kind: ScimKind,
        request: &impl WriteRequest,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ScimRecord>, RecordError> {
        let tenant = request.tenant();
        if kind != ScimKind::User || request.provisioning().is_none() || !could_be_stored(id) {
            return Ok(None);
        }
        let found = self.store.observed_user(&tenant.environment, id).await?;
        let Some(user) = found.filter(|user| user.org_id == tenant.org_id) else { return Ok(None) };
        let UserKind::Human(human) = &user.kind else { return Ok(None) };
        let mut body = json!({
            "schemas": [USER_SCHEMA],
            "userName": user.username,
            "name": {"givenName": human.given_name, "familyName": human.family_name},
            "displayName": human.display_name,
            "active": user.state == UserState::Active,
        });
        if !human.email.is_empty() {
            body["emails"] = json!([{"value": human.email, "primary": true}]);
        }
        if !human.phone.is_empty() {
            body["phoneNumbers"] = json!([{"value": human.phone}]);
        }
        if !human.preferred_language.is_empty() {
            body["preferredLanguage"] = json!(human.preferred_language);
        }
        let registry = self.registry.clone();
        let stored_id = id.to_owned();
        let resource = self
            .compute
            .run(move || -> Result<_, RecordError> {
                let resource_type = resource_type(ScimKind::User, &registry)?;
                let mut resource = resource::normalize_for_create(&body, &registry, resource_type)?;
                prepare_for_storage(ScimKind::User, &mut resource, &stored_id);
                Ok(resource)
            })
            .await??;
        let record = ScimRecord {
            tenant: tenant.clone(),
            id: id.to_owned(),
            resource,
            members: Vec::new(),
            groups: Vec::new(),
            version: 1,
            created: now,
            last_modified: now,
        };
        match self.store.insert_scim_record(kind, &record, &WriteEffects::NONE).await {
            Ok(()) => {}
            Err(store::Error::ScimUniqueness) => return Ok(None),
            // Adopted by a concurrent request: that record is the answer.
            Err(error) => {
                return match self.store.scim_record(kind, tenant, id).await? {
                    Some(adopted) => Ok(Some(adopted)),
                    None => Err(error.into()),
                };
            }
        }
        let link = ProvisionedUser {
            tenant: tenant.clone(),
            scim_user_id: id.to_owned(),
            zitadel_user_id: user.id.clone(),
            linked: true,
            applied: plan::DesiredUser::from_resource(&record.resource).to_payload(),
            provisioned_at: now,
        };
        self.store.save_provisioned_user(&link).await?;
        tracing::info!(org = %tenant.org_id, user = %user.id, "adopted a ZITADEL user addressed by its id");
        Ok(Some(record))
    }

    /// Creates a resource from a POST body (its id made here), or finds the one a retried create repeats.
    pub async fn create(
        &self,
        kind: ScimKind,
        request: &impl WriteRequest,
        body: Value,
        now: OffsetDateTime,
    ) -> Result<ScimRecord, RecordError> {
        let id = tokens::new_id(now);
        let registry = self.registry.clone();
        let stored_id = id.clone();
        let (resource, members) = self
            .compute
            .run(move || -> Result<_, RecordError> {
                let resource_type = resource_type(kind, &registry)?;
                let mut resource = resource::normalize_for_create(&body, &registry, resource_type)?;
                let members = prepare_for_storage(kind, &mut resource, &stored_id);
                Ok((resource, members))
            })
            .await??;
        let record = ScimRecord {
            tenant: request.tenant().clone(),
            id: id.clone(),
            resource,
            members,
            groups: Vec::new(),
            version: 1,
            created: now,
            last_modified: now,
        };
        // Group displayNames are not unique, so a group's retry is found by looking; a user's by its taken userName.
        if kind == ScimKind::Group
            && let Some(existing) = self.retried_create(kind, request.tenant(), &record).await?
        {
            return Ok(existing);
        }
        let provisioning = written(kind, request.provisioning(), None, &record, now);
        let log = request.log_entry(201);
        request.begin_write()?;
        let effects = WriteEffects { log: Some(&log), provisioning: &provisioning };
        match self.store.insert_scim_record(kind, &record, &effects).await {
            Ok(()) => request.mark_logged(),
            Err(store::Error::ScimUniqueness) => {
                return match self.retried_create(kind, request.tenant(), &record).await? {
                    Some(existing) => Ok(existing),
                    None => Err(store::Error::ScimUniqueness.into()),
                };
            }
            Err(error) => return Err(error.into()),
        }
        // A group is read back for its members' displays, which come from the users.
        if kind == ScimKind::Group { self.get(kind, request.tenant(), &id).await } else { Ok(record) }
    }

    /// The stored resource a create repeats: the same externalId and userName (users) or displayName (groups), and
    /// the same content. The same keys with other content are a conflict.
    async fn retried_create(
        &self,
        kind: ScimKind,
        tenant: &ScimTenant,
        record: &ScimRecord,
    ) -> Result<Option<ScimRecord>, RecordError> {
        let resource = &record.resource;
        let Some(external_id) = resource::external_id(resource) else { return Ok(None) };
        let name = match kind {
            ScimKind::User => resource::user_name(resource).map(|name| ScimCondition::UserName(name.to_owned())),
            ScimKind::Group => resource::display_name(resource).map(|name| ScimCondition::DisplayName(name.to_owned())),
        };
        let Some(name) = name else { return Ok(None) };
        let query = ScimQuery {
            conditions: vec![name, ScimCondition::ExternalId(external_id.to_owned())],
            limit: Some(1),
            ..ScimQuery::default()
        };
        let page = self.store.list_scim_records(kind, tenant, &query).await?;
        let Some(existing) = page.records.into_iter().next() else { return Ok(None) };
        if same_content(&existing, record) {
            Ok(Some(existing))
        } else {
            Err(ScimError::Uniqueness(format!(
                "a {} with this externalId and {} is stored with other content; change it with PUT or PATCH",
                resource_name(kind),
                if kind == ScimKind::User { "userName" } else { "displayName" }
            ))
            .into())
        }
    }

    /// Replace or patch: read, check `If-Match`, compute the new resource (on the compute pool), write it
    /// conditionally on the version read.
    pub async fn modify(
        &self,
        kind: ScimKind,
        request: &impl WriteRequest,
        id: &str,
        if_match: Option<&str>,
        change: Change,
        now: OffsetDateTime,
    ) -> Result<ScimRecord, RecordError> {
        let conditional = if_match.is_some();
        let mut attempts_left = 3;
        loop {
            attempts_left -= 1;
            let existing = self.get_or_adopt(kind, request, id, now).await?;
            if_match_allows(if_match, existing.version)?;
            let (registry, base_url, change, stored_id) =
                (self.registry.clone(), request.base_url().to_owned(), change.clone(), id.to_owned());
            let (existing, changed, members) = self
                .compute
                .run(move || -> Result<_, RecordError> {
                    let resource_type = resource_type(kind, &registry)?;
                    let mut current = render(kind, existing.clone(), &base_url);
                    if let Some(object) = current.as_object_mut() {
                        object.remove("meta");
                    }
                    let mut changed = change.apply(&current, &registry, resource_type)?;
                    let members = prepare_for_storage(kind, &mut changed, &stored_id);
                    Ok((existing, changed, members))
                })
                .await??;
            // Only what the change leaves as it was is copied (not the resource or the members it replaces).
            let record = ScimRecord {
                tenant: existing.tenant.clone(),
                id: existing.id.clone(),
                resource: changed,
                members,
                groups: existing.groups.clone(),
                version: existing.version + 1,
                created: existing.created,
                last_modified: now,
            };
            let provisioning = written(kind, request.provisioning(), Some(&existing), &record, now);
            let log = request.log_entry(200);
            request.begin_write()?;
            let effects = WriteEffects { log: Some(&log), provisioning: &provisioning };
            match self.store.update_scim_record(kind, &record, &existing, &effects).await {
                // A user is served as written (its groups did not change); a group is read back for its members'
                // displays, which come from the users.
                Ok(()) => {
                    request.mark_logged();
                    return if kind == ScimKind::User {
                        Ok(record)
                    } else {
                        self.get(kind, request.tenant(), id).await
                    };
                }
                Err(store::Error::ScimVersionMismatch) if !conditional && attempts_left > 0 => continue,
                Err(store::Error::ScimVersionMismatch) => return Err(RecordError::PreconditionFailed),
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Deletes `id`, only at the version `If-Match` names when it names one. When the connection provisions, a group
    /// is read first and deleted at the version read (its members are what the delete takes grants from).
    pub async fn delete(
        &self,
        kind: ScimKind,
        request: &impl WriteRequest,
        id: &str,
        if_match: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), RecordError> {
        if !could_be_stored(id) {
            return Err(not_found(kind, id));
        }
        let mut attempts_left = 3;
        loop {
            attempts_left -= 1;
            // A group's members are what its delete takes grants from: read them with the version deleted.
            let group_provisioned = kind == ScimKind::Group && request.provisioning().is_some();
            let existing = if if_match.is_some() || group_provisioned {
                let existing = self.get(kind, request.tenant(), id).await?;
                if_match_allows(if_match, existing.version)?;
                Some(existing)
            } else {
                None
            };
            let provisioning = match (request.provisioning(), kind) {
                (None, _) => Vec::new(),
                (Some(target), ScimKind::User) => vec![plan::user_deleted(target, id, now)],
                (Some(target), ScimKind::Group) => plan::group_written(target, existing.as_ref(), None, now),
            };
            request.begin_write()?;
            let log = request.log_entry(204);
            let effects = WriteEffects { log: Some(&log), provisioning: &provisioning };
            let expected_version = existing.as_ref().map(|existing| existing.version);
            match self.store.delete_scim_record(kind, request.tenant(), id, expected_version, &effects).await {
                Ok(()) => {
                    request.mark_logged();
                    return Ok(());
                }
                Err(store::Error::ScimVersionMismatch) if if_match.is_none() && attempts_left > 0 => continue,
                Err(store::Error::ScimVersionMismatch) => return Err(RecordError::PreconditionFailed),
                Err(store::Error::ScimNotFound { .. }) => {
                    if attempts_left > 0 && self.adopt(kind, request, id, now).await?.is_some() {
                        continue;
                    }
                    return Err(not_found(kind, id));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// The provisioning operations a create (`before` is `None`) or a replacement of a user or group sets off (none when
/// the connection does not provision).
fn written(
    kind: ScimKind,
    target: Option<&ProvisioningTarget>,
    before: Option<&ScimRecord>,
    after: &ScimRecord,
    now: OffsetDateTime,
) -> Vec<NewProvisioningOperation> {
    let Some(target) = target else { return Vec::new() };
    match kind {
        ScimKind::User => plan::user_written(target, before, after, now),
        ScimKind::Group => plan::group_written(target, before, Some(after), now),
    }
}

/// Whether a create's normalized record repeats a stored one: the same resource apart from its id, and the same
/// members, where a member sent without `display` or `type` matches the one shown (filled from the user).
fn same_content(stored: &ScimRecord, created: &ScimRecord) -> bool {
    let without_id = |resource: &Value| -> Option<Map<String, Value>> {
        let mut object = resource.as_object()?.clone();
        object.remove("id");
        Some(object)
    };
    if without_id(&stored.resource) != without_id(&created.resource) {
        return false;
    }
    let stored_members: HashMap<&str, &ScimGroupMember> =
        stored.members.iter().map(|member| (member.value.as_str(), member)).collect();
    let mut sent: HashMap<&str, &ScimGroupMember> = HashMap::new();
    for member in &created.members {
        sent.entry(member.value.as_str()).or_insert(member);
    }
    sent.len() == stored_members.len()
        && sent.iter().all(|(value, member)| {
            stored_members.get(value).is_some_and(|stored| {
                member.display.as_ref().is_none_or(|display| stored.display.as_ref() == Some(display))
                    && member.member_type.as_ref().is_none_or(|kind| stored.member_type.as_ref() == Some(kind))
            })
        })
}
