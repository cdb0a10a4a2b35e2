//! Users and Groups over HTTP: one generic set of handlers per resource kind ([`Endpoint`]), over the writes in
//! `app::scim_records` (where the retried-create, password and version decisions are documented) and the lists
//! in `query`.
//!
//! - **ETags.** `meta.version` and the `ETag` header are the strong tag `"v{version}"`. `If-Match` guards PUT,
//!   PATCH and DELETE with 412; `If-None-Match` on GET answers 304.
//! - **PATCH** answers `200 OK` with the resource (RFC 7644 prefers it; Okta and Entra ID accept it).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;
use warden_scim::list::{ListParameters, ListResponse};
use warden_scim::{ScimError, projection};

use crate::app::scim_records::{Change, endpoint, etag, render, resource_type};
use crate::scim::auth::Caller;
use crate::scim::body::ScimBody;
use crate::scim::error::Error;
use crate::scim::query;
use crate::scim::state::{ScimState, now};
use crate::scim::wire::{not_modified, scim_response};
use crate::store::{ScimKind, ScimRecord};

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

/// A resource type's routes: `Users` or `Groups`.
pub(crate) trait Endpoint: Send + Sync + 'static {
    const KIND: ScimKind;
}

pub(crate) struct Users;
pub(crate) struct Groups;

impl Endpoint for Users {
    const KIND: ScimKind = ScimKind::User;
}

impl Endpoint for Groups {
    const KIND: ScimKind = ScimKind::Group;
}

/// `GET /Users`, `GET /Groups`.
pub(crate) async fn list<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, Error> {
    let parameters = list_parameters(&state, &uri)?;
    let body = query::list(E::KIND, &state, &caller, &parameters).await?;
    Ok(scim_response(StatusCode::OK, &body, None, None))
}

/// `POST /Users/.search`, `POST /Groups/.search`.
pub(crate) async fn search<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let parameters = ListParameters::from_search_request(&body, &state.settings.list_limits)?;
    let body = query::list(E::KIND, &state, &caller, &parameters).await?;
    Ok(scim_response(StatusCode::OK, &body, None, None))
}

/// `POST /Users`, `POST /Groups`: 201 with the resource (also for a retried create).
pub(crate) async fn create<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let record = state.records.create(E::KIND, &caller, body, now()).await?;
    respond_with(E::KIND, &state, &caller, record, StatusCode::CREATED, None)
}

/// `GET /Users/{id}`, `GET /Groups/{id}`.
pub(crate) async fn get<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Error> {
    let parameters = list_parameters(&state, &uri)?;
    let record = state.records.get_or_adopt(E::KIND, &caller, &id, now()).await?;
    if if_none_match_hits(&headers, record.version) {
        return Ok(not_modified(&etag(record.version)));
    }
    respond_with(E::KIND, &state, &caller, record, StatusCode::OK, Some(&parameters))
}

/// `PUT /Users/{id}`, `PUT /Groups/{id}`.
pub(crate) async fn replace<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    modify(E::KIND, &state, &caller, &id, &headers, &uri, Change::Replace(Arc::new(body))).await
}

/// `PATCH /Users/{id}`, `PATCH /Groups/{id}`.
pub(crate) async fn patch<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    modify(E::KIND, &state, &caller, &id, &headers, &uri, Change::Patch(Arc::new(body))).await
}

/// `DELETE /Users/{id}`, `DELETE /Groups/{id}`: 204.
pub(crate) async fn delete<E: Endpoint>(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, Error> {
    state.records.delete(E::KIND, &caller, &id, if_match_of(&headers)?, now()).await?;
    let mut response = Response::default();
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

async fn modify(
    kind: ScimKind,
    state: &ScimState,
    caller: &Caller,
    id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    change: Change,
) -> Result<Response, Error> {
    let parameters = list_parameters(state, uri)?;
    let record = state.records.modify(kind, caller, id, if_match_of(headers)?, change, now()).await?;
    respond_with(kind, state, caller, record, StatusCode::OK, Some(&parameters))
}

/// `POST /.search`: users, then groups, that match; each projected by its own schema.
pub(crate) async fn search_all(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let parameters = ListParameters::from_search_request(&body, &state.settings.list_limits)?;
    let mut resources: Vec<(ScimKind, Value)> = Vec::new();
    for kind in ScimKind::ALL {
        let resource_type = resource_type(kind, &state.records.registry)?;
        if let Some(filter) = &parameters.filter {
            warden_scim::filter::validate(filter, &state.records.registry, resource_type)?;
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
        let resource_type = resource_type(kind, &state.records.registry)?;
        page.push(projection::project(
            resource,
            &parameters.attributes,
            &parameters.excluded_attributes,
            &state.records.registry,
            resource_type,
        ));
    }
    let body = ListResponse::new(total, parameters.start_index, page).into_json();
    Ok(scim_response(StatusCode::OK, &body, None, None))
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
    kind: ScimKind,
    state: &ScimState,
    caller: &Caller,
    record: ScimRecord,
    status: StatusCode,
    parameters: Option<&ListParameters>,
) -> Result<Response, Error> {
    let location = format!("{}/{}/{}", caller.base_url, endpoint(kind), record.id);
    let location = (status == StatusCode::CREATED).then_some(location.as_str());
    let etag = etag(record.version);
    let rendered = render(kind, record, &caller.base_url);
    let (attributes, excluded): (&[_], &[_]) =
        parameters.map_or((&[], &[]), |parameters| (&parameters.attributes, &parameters.excluded_attributes));
    let body = projection::project(
        rendered,
        attributes,
        excluded,
        &state.records.registry,
        resource_type(kind, &state.records.registry)?,
    );
    Ok(scim_response(status, &body, Some(&etag), location))
}

fn if_match_of(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    headers.get(header::IF_MATCH).map(|value| value.to_str().map_err(|_| Error::PreconditionFailed)).transpose()
}

fn if_none_match_hits(headers: &HeaderMap, version: i64) -> bool {
    let current = etag(version);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|text| text.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == current))
}
