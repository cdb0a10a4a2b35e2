//! Users and Groups: create, read, replace, patch, delete, list and search.
//!
//! Decisions:
//! - **Retried create.** A `POST /Users` whose userName is taken (case-insensitively) by a user with the same
//!   `externalId` is a retry of a create that already succeeded (Entra ID retries after its 60 s timeout): it is
//!   answered `201 Created` with the stored user, as the first attempt was, and nothing is written. A taken
//!   userName with another or no `externalId` is `409 uniqueness`. Groups: a `POST /Groups` with the `externalId`
//!   and displayName of a stored group is answered the same way.
//! - **Passwords.** Okta's placeholder `password` is accepted and dropped before anything is stored; no password
//!   is ever stored or returned.
//! - **ETags.** `meta.version` and the `ETag` header are the strong tag `"v{version}"`. `If-Match` (strong
//!   comparison, `*` allowed) guards PUT, PATCH and DELETE with 412; `If-None-Match` on GET answers 304. Without
//!   `If-Match`, a write that loses a race to another writer is recomputed on the new version (up to three times).
//! - **PATCH** answers `200 OK` with the resource (RFC 7644 prefers it; Okta and Entra ID accept it).

use axum::Extension;
use axum::extract::{Path, Query, State};
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

    async fn get(self, store: &dyn Store, tenant: &ScimTenant, id: &str) -> Result<ScimRecord, Error> {
        let found = store.scim_record(self.stored(), tenant, id).await?;
        found.ok_or_else(|| Error::Protocol(ScimError::NotFound(format!("no {} {id} in this tenant", self.name()))))
    }

    /// The writes commit the request's log row (answered `status`) with the data change, and mark it logged.
    async fn insert(self, store: &dyn Store, record: &ScimRecord, caller: &Caller) -> Result<(), store::Error> {
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
    ) -> Result<(), store::Error> {
        let log = caller.log_entry(StatusCode::OK);
        store.update_scim_record(self.stored(), record, previous, Some(&log)).await?;
        caller.mark_logged();
        Ok(())
    }

    async fn delete(self, store: &dyn Store, caller: &Caller, id: &str, version: Option<i64>) -> Result<(), Error> {
        let log = caller.log_entry(StatusCode::NO_CONTENT);
        store.delete_scim_record(self.stored(), &caller.tenant, id, version, Some(&log)).await?;
        caller.mark_logged();
        Ok(())
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
    body: &Value,
) -> Result<ScimRecord, Error> {
    let resource_type = kind.resource_type(&state.registry)?;
    let mut resource = resource::normalize_for_create(body, &state.registry, resource_type)?;
    let created = now();
    let id = new_id(created);
    let members = prepare_for_storage(kind, &mut resource, &id);
    if kind == Kind::Group
        && let Some(existing) = retried_create(kind, state, caller, &resource).await?
    {
        return Ok(existing);
    }
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
    match kind.insert(&*state.store, &record, caller).await {
        Ok(()) => {}
        Err(store::Error::ScimUniqueness) => {
            return match retried_create(kind, state, caller, &record.resource).await? {
                Some(existing) => Ok(existing),
                None => Err(store::Error::ScimUniqueness.into()),
            };
        }
        Err(error) => return Err(error.into()),
    }
    if kind == Kind::Group { kind.get(&*state.store, &caller.tenant, &id).await } else { Ok(record) }
}

async fn create(kind: Kind, state: ScimState, caller: Caller, body: Value) -> Result<Response, Error> {
    let record = create_record(kind, &state, &caller, &body).await?;
    respond_with(kind, &state, &caller, record, StatusCode::CREATED, None)
}

/// The stored resource a create repeats: same externalId, and same userName (users) or displayName (groups).
async fn retried_create(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    resource: &Value,
) -> Result<Option<ScimRecord>, Error> {
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
    Ok(kind.list(&*state.store, &caller.tenant, &query).await?.records.into_iter().next())
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

/// PUT and PATCH: read, check `If-Match`, compute the new resource, write it conditionally on the version read.
pub(crate) async fn modify_record(
    kind: Kind,
    state: &ScimState,
    caller: &Caller,
    id: &str,
    if_match: Option<&str>,
    change: impl Fn(&Value, &ResourceType) -> Result<Value, ScimError>,
) -> Result<ScimRecord, Error> {
    let resource_type = kind.resource_type(&state.registry)?;
    let conditional = if_match.is_some();
    let mut attempts_left = 3;
    loop {
        attempts_left -= 1;
        let existing = kind.get(&*state.store, &caller.tenant, id).await?;
        if_match_allows(if_match, existing.version)?;
        let mut current = render(kind, existing.clone(), &caller.base_url);
        if let Some(object) = current.as_object_mut() {
            object.remove("meta");
        }
        let mut changed = change(&current, resource_type)?;
        let members = prepare_for_storage(kind, &mut changed, id);
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
            Err(store::Error::ScimVersionMismatch) if !conditional && attempts_left > 0 => continue,
            Err(store::Error::ScimVersionMismatch) => return Err(Error::PreconditionFailed),
            Err(error) => return Err(error.into()),
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
    change: impl Fn(&Value, &ResourceType) -> Result<Value, ScimError>,
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
        Err(Error::Store(store::Error::ScimNotFound { .. })) => {
            Err(Error::Protocol(ScimError::NotFound(format!("no {} {id} in this tenant", kind.name()))))
        }
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
    let mut resources: Vec<Value> = Vec::new();
    for kind in [Kind::User, Kind::Group] {
        let resource_type = kind.resource_type(&state.registry)?;
        if let Some(filter) = &parameters.filter {
            warden_scim::filter::validate(filter, &state.registry, resource_type)?;
        }
        let plan = query::plan(kind, parameters.filter.as_ref());
        for resource in query::matching(kind, &state, &caller, &parameters, plan.conditions).await? {
            resources.push(projection::project(
                resource,
                &parameters.attributes,
                &parameters.excluded_attributes,
                &state.registry,
                resource_type,
            ));
        }
    }
    let total = resources.len() as u64;
    let offset = usize::try_from(parameters.offset()).unwrap_or(usize::MAX);
    let count = usize::try_from(parameters.count).unwrap_or(usize::MAX);
    let page: Vec<Value> = resources.into_iter().skip(offset).take(count).collect();
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
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Error> {
    get(Kind::User, state, caller, &id, &headers, &uri).await
}

pub(crate) async fn get_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Error> {
    get(Kind::Group, state, caller, &id, &headers, &uri).await
}

pub(crate) fn replace_with(
    body: Value,
    registry: &SchemaRegistry,
) -> impl Fn(&Value, &ResourceType) -> Result<Value, ScimError> + '_ {
    move |current, resource_type| resource::normalize_for_replace(current, &body, registry, resource_type)
}

pub(crate) fn patch_with(
    body: Value,
    registry: &SchemaRegistry,
) -> impl Fn(&Value, &ResourceType) -> Result<Value, ScimError> + '_ {
    move |current, resource_type| patch::apply_patch(current, &body, registry, resource_type)
}

pub(crate) async fn replace_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let registry = state.registry.clone();
    modify(Kind::User, state, caller, &id, &headers, &uri, replace_with(body, &registry)).await
}

pub(crate) async fn replace_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let registry = state.registry.clone();
    modify(Kind::Group, state, caller, &id, &headers, &uri, replace_with(body, &registry)).await
}

pub(crate) async fn patch_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let registry = state.registry.clone();
    modify(Kind::User, state, caller, &id, &headers, &uri, patch_with(body, &registry)).await
}

pub(crate) async fn patch_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let registry = state.registry.clone();
    modify(Kind::Group, state, caller, &id, &headers, &uri, patch_with(body, &registry)).await
}

pub(crate) async fn delete_user(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    delete(Kind::User, state, caller, &id, &headers).await
}

pub(crate) async fn delete_group(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    Path((_org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    delete(Kind::Group, state, caller, &id, &headers).await
}
