//! Users and Groups: create, read, replace, patch, delete, list and search.
//!
//! Decisions:
//! - **Retried create.** A `POST /Users` whose userName is taken (case-insensitively) by a user with the same
//!   `externalId` *and the same content* is a retry of a create that already succeeded (Entra ID retries after its
//!   60 s timeout): it is answered `201 Created` with the stored user, as the first attempt was, and nothing is
//!   written. Anything else is `409 uniqueness` (RFC 7644 section 3.3): another or no `externalId`, or other content
//!   (`active: false`, another displayName), which the client would otherwise believe stored. Groups: a
//!   `POST /Groups` with the `externalId` and displayName of a stored group is a retry when its content and
//!   members are the same (a member sent without `display` or `type` matches whatever is shown for it), else 409.
//! - **Passwords.** Okta's placeholder `password` is accepted and dropped before anything is stored; no password
//!   is ever stored or returned.
//! - **ETags.** `meta.version` and the `ETag` header are the strong tag `"v{version}"`. `If-Match` (strong
//!   comparison, `*` allowed) guards PUT, PATCH and DELETE with 412; `If-None-Match` on GET answers 304. Without
//!   `If-Match`, a write that loses a race to another writer is recomputed on the new version (up to three times).
//! - **PATCH** answers `200 OK` with the resource (RFC 7644 prefers it; Okta and Entra ID accept it).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use warden_scim::list::{ListParameters, ListResponse};
use warden_scim::schema::{GROUP_SCHEMA, ResourceType, USER_SCHEMA};
use warden_scim::{SchemaRegistry, ScimError, patch, projection, resource};

use crate::scim::query;
use crate::scim::token::new_id;
use crate::scim::{Caller, Error, ScimBody, ScimState, not_modified, now, scim_response};
use crate::store::{
    self, ScimCondition, ScimGroupMember, ScimKind, ScimPage, ScimQuery, ScimRecord, ScimTenant, Store,
};

/// Which resource type a handler serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    pub(crate) fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub(crate) fn core_schema(self) -> &'static str {
        match self {
            Kind::User => USER_SCHEMA,
            Kind::Group => GROUP_SCHEMA,
        }
    }

    pub(crate) fn resource_type(self, registry: &SchemaRegistry) -> Result<&ResourceType, Error> {
        registry
            .resource_type(self.name())
            .ok_or_else(|| Error::Protocol(ScimError::NotFound(format!("no resource type {}", self.name()))))
    }

    /// What the store calls this resource type.
    fn stored(self) -> ScimKind {
        match self {
            Kind::User => ScimKind::User,
            Kind::Group => ScimKind::Group,
        }
    }

    pub(crate) async fn list(
        self,
        store: &dyn Store,
        tenant: &ScimTenant,
        query: &ScimQuery,
    ) -> Result<ScimPage, Error> {
        Ok(store.list_scim_records(self.stored(), tenant, query).await?)
    }

    fn not_found(self, id: &str) -> Error {
        Error::Protocol(ScimError::NotFound(format!("no {} {} in this tenant", self.name(), shown_id(id))))
    }

    async fn get(self, store: &dyn Store, tenant: &ScimTenant, id: &str) -> Result<ScimRecord, Error> {
        if !could_be_stored(id) {
            return Err(self.not_found(id));
        }
        let found = store.scim_record(self.stored(), tenant, id).await?;
        found.ok_or_else(|| self.not_found(id))
    }

    /// The writes begin only before the request's deadline ([`Caller::begin_write`]), and commit the request's log
    /// row (answered `status`) with the data change, and mark it logged.
    async fn insert(self, store: &dyn Store, record: &ScimRecord, caller: &Caller) -> Result<(), Error> {
        caller.begin_write()?;
        let log = caller.log_entry(StatusCode::CREATED);
        store.insert_scim_record(self.stored(), record, Some(&log)).await?;
        caller.mark_logged();
        Ok(())
    }

    /// Replaces `previous` (as read) with `record`.
    async fn update(
        self,
        store: &dyn Store,
        record: &ScimRecord,
        previous: &ScimRecord,
        caller: &Caller,
    ) -> Result<(), Error> {
        caller.begin_write()?;
        let log = caller.log_entry(StatusCode::OK);
        store.update_scim_record(self.stored(), record, previous, Some(&log)).await?;
        caller.mark_logged();
        Ok(())
    }

    async fn delete(self, store: &dyn Store, caller: &Caller, id: &str, version: Option<i64>) -> Result<(), Error> {
        if !could_be_stored(id) {
            return Err(self.not_found(id));
        }
        caller.begin_write()?;
        let log = caller.log_entry(StatusCode::NO_CONTENT);
        store.delete_scim_record(self.stored(), &caller.tenant, id, version, Some(&log)).await?;
        caller.mark_logged();
        Ok(())
    }
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

/// The `{id}` of `/scim/v2/{orgId}/Users/{id}` and the like. A path that does not decode (invalid percent-encoding
/// or UTF-8) names no resource: 404 in SCIM form, like an id that is not stored.
pub(crate) struct ResourceId(pub(crate) String);

impl FromRequestParts<ScimState> for ResourceId {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &ScimState) -> Result<ResourceId, Error> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((_org, id))) => Ok(ResourceId(id)),
            Err(_) => Err(Error::Protocol(ScimError::NotFound("the path names no resource".to_owned()))),
        }
    }
}

/// The strong entity tag of a version.
pub(crate) fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// A stored record as served: its resource with `id`, a group's `members` or a user's `groups`, and `meta`.
pub(crate) fn render(kind: Kind, record: ScimRecord, base_url: &str) -> Value {
    let ScimRecord { mut resource, id, members, groups, version, created, last_modified, .. } = record;
    let Some(object) = resource.as_object_mut() else { return resource };
    let location = format!("{base_url}/{}/{id}", kind.endpoint());
    object.insert("id".to_owned(), Value::String(id));
    if kind == Kind::Group && !members.is_empty() {
        let members: Vec<Value> = members
            .into_iter()
            .map(|member| {
                let mut value = Map::new();
                let endpoint = member.member_type.as_deref().and_then(|member_type| {
                    [Kind::User, Kind::Group]
                        .into_iter()
                        .find(|kind| kind.name().eq_ignore_ascii_case(member_type))
                        .map(Kind::endpoint)
                });
                if let Some(endpoint) = endpoint {
                    value.insert("$ref".to_owned(), json!(format!("{base_url}/{endpoint}/{}", member.value)));
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
    if kind == Kind::User && !groups.is_empty() {
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
    let time = |at: time::OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
    object.insert(
        "meta".to_owned(),
        json!({
            "resourceType": kind.name(),
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
fn prepare_for_storage(kind: Kind, resource: &mut Value, id: &str) -> Vec<ScimGroupMember> {
    let members = if kind == Kind::Group {
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

fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, Error> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(pairs)| pairs)
        .map_err(|error| Error::Protocol(ScimError::InvalidSyntax(format!("invalid query string: {error}"))))
}

fn list_parameters(state: &ScimState, uri: &Uri) -> Result<ListParameters, Error> {
    Ok(ListParameters::from_query(query_pairs(uri)?, &state.settings.list_limits)?)
}

fn respond_with(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    record: ScimRecord,
    status: StatusCode,
    parameters: Option<&ListParameters>,
) -> Result<Response, Error> {
    let location = format!("{}/{}/{}", caller.base_url, kind.endpoint(), record.id);
    let location = (status == StatusCode::CREATED).then_some(location.as_str());
    let etag = etag(record.version);
    let rendered = render(kind, record, &caller.base_url);
    let (attributes, excluded): (&[_], &[_]) =
        parameters.map_or((&[], &[]), |parameters| (&parameters.attributes, &parameters.excluded_attributes));
    let body =
        projection::project(rendered, attributes, excluded, &state.registry, kind.resource_type(&state.registry)?);
    Ok(scim_response(status, &body, Some(&etag), location))
}

fn if_match_of(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    headers.get(header::IF_MATCH).map(|value| value.to_str().map_err(|_| Error::PreconditionFailed)).transpose()
}

fn if_match_allows(if_match: Option<&str>, version: i64) -> Result<(), Error> {
    let Some(text) = if_match else { return Ok(()) };
    let current = etag(version);
    if text.split(',').map(str::trim).any(|tag| tag == "*" || tag == current) {
        Ok(())
    } else {
        Err(Error::PreconditionFailed)
    }
}

fn if_none_match_hits(headers: &HeaderMap, version: i64) -> bool {
    let current = etag(version);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|text| text.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == current))
}

/// Creates a resource, or finds the one a retried create repeats; either way answered 201.
pub(crate) async fn create_record(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    body: Value,
) -> Result<ScimRecord, Error> {
    let created = now();
    let id = new_id(created);
    let registry = state.registry.clone();
    let stored_id = id.clone();
    let (resource, members) = state
        .compute
        .run(move || -> Result<_, Error> {
            let resource_type = kind.resource_type(&registry)?;
            let mut resource = resource::normalize_for_create(&body, &registry, resource_type)?;
            let members = prepare_for_storage(kind, &mut resource, &stored_id);
            Ok((resource, members))
        })
        .await??;
    let record = ScimRecord {
        tenant: caller.tenant.clone(),
        id: id.clone(),
        resource,
        members,
        groups: Vec::new(),
        version: 1,
        created,
        last_modified: created,
    };
    // Group displayNames are not unique, so a group's retry is found by looking; a user's by its taken userName.
    if kind == Kind::Group
        && let Some(existing) = retried_create(kind, state, caller, &record).await?
    {
        return Ok(existing);
    }
    match kind.insert(&*state.store, &record, caller).await {
        Ok(()) => {}
        Err(Error::Store(store::Error::ScimUniqueness)) => {
            return match retried_create(kind, state, caller, &record).await? {
                Some(existing) => Ok(existing),
                None => Err(store::Error::ScimUniqueness.into()),
            };
        }
        Err(error) => return Err(error),
    }
    if kind == Kind::Group { kind.get(&*state.store, &caller.tenant, &id).await } else { Ok(record) }
}

async fn create(kind: Kind, state: ScimState, caller: Caller, body: Value) -> Result<Response, Error> {
    let record = create_record(kind, &state, &caller, body).await?;
    respond_with(kind, &state, &caller, record, StatusCode::CREATED, None)
}

/// The stored resource a create repeats: the same externalId and userName (users) or displayName (groups), and the
/// same content. The same keys with other content are a conflict.
async fn retried_create(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    record: &ScimRecord,
) -> Result<Option<ScimRecord>, Error> {
    let resource = &record.resource;
    let Some(external_id) = resource::external_id(resource) else { return Ok(None) };
    let name = match kind {
        Kind::User => resource::user_name(resource).map(|name| ScimCondition::UserName(name.to_owned())),
        Kind::Group => resource::display_name(resource).map(|name| ScimCondition::DisplayName(name.to_owned())),
    };
    let Some(name) = name else { return Ok(None) };
    let query = ScimQuery {
        conditions: vec![name, ScimCondition::ExternalId(external_id.to_owned())],
        limit: Some(1),
        ..ScimQuery::default()
    };
    let Some(existing) = kind.list(&*state.store, &caller.tenant, &query).await?.records.into_iter().next() else {
        return Ok(None);
    };
    if same_content(&existing, record) {
        Ok(Some(existing))
    } else {
        Err(Error::Protocol(ScimError::Uniqueness(format!(
            "a {} with this externalId and {} is stored with other content; change it with PUT or PATCH",
            kind.name(),
            if kind == Kind::User { "userName" } else { "displayName" }
        ))))
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

async fn get(
    kind: Kind,
    state: ScimState,
    caller: Caller,
    id: &str,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Response, Error> {
    let parameters = list_parameters(&state, uri)?;
    let record = kind.get(&*state.store, &caller.tenant, id).await?;
    if if_none_match_hits(headers, record.version) {
        return Ok(not_modified(&etag(record.version)));
    }
    respond_with(kind, &state, &caller, record, StatusCode::OK, Some(&parameters))
}

/// How a PUT or PATCH changes the stored resource (the body, shared by the attempts of a write).
#[derive(Clone)]
pub(crate) enum Change {
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

/// PUT and PATCH: read, check `If-Match`, compute the new resource (on the compute pool), write it conditionally
/// on the version read.
pub(crate) async fn modify_record(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    id: &str,
    if_match: Option<&str>,
    change: Change,
) -> Result<ScimRecord, Error> {
    let conditional = if_match.is_some();
    let mut attempts_left = 3;
    loop {
        attempts_left -= 1;
        let existing = kind.get(&*state.store, &caller.tenant, id).await?;
        if_match_allows(if_match, existing.version)?;
        let (registry, base_url, change, stored_id) =
            (state.registry.clone(), caller.base_url.clone(), change.clone(), id.to_owned());
        let (existing, changed, members) = state
            .compute
            .run(move || -> Result<_, Error> {
                let resource_type = kind.resource_type(&registry)?;
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
            last_modified: now(),
        };
        match kind.update(&*state.store, &record, &existing, caller).await {
            // A user is served as written (its groups did not change); a group is read back for its members'
            // displays, which come from the users.
            Ok(()) if kind == Kind::User => return Ok(record),
            Ok(()) => return kind.get(&*state.store, &caller.tenant, id).await,
            Err(Error::Store(store::Error::ScimVersionMismatch)) if !conditional && attempts_left > 0 => continue,
            Err(Error::Store(store::Error::ScimVersionMismatch)) => return Err(Error::PreconditionFailed),
            Err(error) => return Err(error),
        }
    }
}

async fn modify(
    kind: Kind,
    state: ScimState,
    caller: Caller,
    id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    change: Change,
) -> Result<Response, Error> {
    let parameters = list_parameters(&state, uri)?;
    let record = modify_record(kind, &state, &caller, id, if_match_of(headers)?, change).await?;
    respond_with(kind, &state, &caller, record, StatusCode::OK, Some(&parameters))
}

pub(crate) async fn delete_record(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), Error> {
    let expected_version = if if_match.is_some() {
        let existing = kind.get(&*state.store, &caller.tenant, id).await?;
        if_match_allows(if_match, existing.version)?;
        Some(existing.version)
    } else {
        None
    };
    match kind.delete(&*state.store, caller, id, expected_version).await {
        Err(Error::Store(store::Error::ScimVersionMismatch)) => Err(Error::PreconditionFailed),
        Err(Error::Store(store::Error::ScimNotFound { .. })) => Err(kind.not_found(id)),
        other => other,
    }
}

async fn delete(
    kind: Kind,
    state: ScimState,
    caller: Caller,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    delete_record(kind, &state, &caller, id, if_match_of(headers)?).await?;
    let mut response = Response::default();
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

async fn list(kind: Kind, state: &ScimState, caller: &Caller, parameters: &ListParameters) -> Result<Response, Error> {
    let body = query::list(kind, state, caller, parameters).await?;
    Ok(scim_response(StatusCode::OK, &body, None, None))
}

// The handlers, one per route and resource type.

pub(crate) async fn list_users(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, Error> {
    list(Kind::User, &state, &caller, &list_parameters(&state, &uri)?).await
}

pub(crate) async fn list_groups(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, Error> {
    list(Kind::Group, &state, &caller, &list_parameters(&state, &uri)?).await
}

pub(crate) async fn search_users(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let parameters = ListParameters::from_search_request(&body, &state.settings.list_limits)?;
    list(Kind::User, &state, &caller, &parameters).await
}

pub(crate) async fn search_groups(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let parameters = ListParameters::from_search_request(&body, &state.settings.list_limits)?;
    list(Kind::Group, &state, &caller, &parameters).await
}

/// `POST /.search`: users, then groups, that match; each projected by its own schema.
pub(crate) async fn search_all(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let parameters = ListParameters::from_search_request(&body, &state.settings.list_limits)?;
    let mut resources: Vec<(Kind, Value)> = Vec::new();
    for kind in [Kind::User, Kind::Group] {
        let resource_type = kind.resource_type(&state.registry)?;
        if let Some(filter) = &parameters.filter {
            warden_scim::filter::validate(filter, &state.registry, resource_type)?;
        }
        let plan = query::plan(kind, parameters.filter.as_ref());
        let matched = query::matching(kind, &state, &caller, &parameters, plan.conditions).await?;
        resources.extend(matched.into_iter().map(|resource| (kind, resource)));
    }
    let total = resources.len() as u64;
    let offset = usize::try_from(parameters.offset()).unwrap_or(usize::MAX);
    let count = usize::try_from(parameters.count).unwrap_or(usize::MAX);
    // Only the page is projected.
    let mut page: Vec<Value> = Vec::new();
    for (kind, resource) in resources.into_iter().skip(offset).take(count) {
        let resource_type = kind.resource_type(&state.registry)?;
        page.push(projection::project(
            resource,
            &parameters.attributes,
            &parameters.excluded_attributes,
            &state.registry,
            resource_type,
        ));
    }
    let body = ListResponse::new(total, parameters.start_index, page).into_json();
    Ok(scim_response(StatusCode::OK, &body, None, None))
}

pub(crate) async fn create_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    create(Kind::User, state, caller, body).await
}

pub(crate) async fn create_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    create(Kind::Group, state, caller, body).await
}

pub(crate) async fn get_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Error> {
    get(Kind::User, state, caller, &id, &headers, &uri).await
}

pub(crate) async fn get_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Error> {
    get(Kind::Group, state, caller, &id, &headers, &uri).await
}

pub(crate) async fn replace_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    modify(Kind::User, state, caller, &id, &headers, &uri, Change::Replace(Arc::new(body))).await
}

pub(crate) async fn replace_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    modify(Kind::Group, state, caller, &id, &headers, &uri, Change::Replace(Arc::new(body))).await
}

pub(crate) async fn patch_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    modify(Kind::User, state, caller, &id, &headers, &uri, Change::Patch(Arc::new(body))).await
}

pub(crate) async fn patch_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    modify(Kind::Group, state, caller, &id, &headers, &uri, Change::Patch(Arc::new(body))).await
}

pub(crate) async fn delete_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, Error> {
    delete(Kind::User, state, caller, &id, &headers).await
}

pub(crate) async fn delete_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, Error> {
    delete(Kind::Group, state, caller, &id, &headers).await
}
