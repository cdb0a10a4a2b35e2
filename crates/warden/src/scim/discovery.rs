//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7644 section 4), rendered by `warden_scim`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use warden_scim::ScimError;
use warden_scim::schema::{self as render, ServiceProviderConfig};

use crate::scim::auth::Caller;
use crate::scim::error::Error;
use crate::scim::resources::ResourceId;
use crate::scim::state::ScimState;
use crate::scim::wire::scim_response;

pub(crate) async fn service_provider_config(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let config = ServiceProviderConfig {
        documentation_uri: None,
        bulk_supported: true,
        bulk_max_operations: state.settings.bulk_max_operations,
        bulk_max_payload_size: state.settings.max_body_bytes as u64,
        filter_max_results: state.settings.list_limits.max_count,
    };
    let body = render::service_provider_config_json(&config, &caller.base_url);
    scim_response(StatusCode::OK, &body, None, None)
}

pub(crate) async fn resource_types(State(state): State<ScimState>, Extension(caller): Extension<Caller>) -> Response {
    let body = render::resource_types_list_json(&state.records.registry, &caller.base_url);
    scim_response(StatusCode::OK, &body, None, None)
}

pub(crate) async fn resource_type(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(name): ResourceId,
) -> Result<Response, Error> {
    let resource_type = state
        .records
        .registry
        .resource_types()
        .iter()
        .find(|resource_type| resource_type.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ScimError::NotFound(format!("no resource type {name}")))?;
    let body = render::resource_type_json(resource_type, &caller.base_url);
    Ok(scim_response(StatusCode::OK, &body, None, None))
}

pub(crate) async fn schemas(State(state): State<ScimState>, Extension(caller): Extension<Caller>) -> Response {
    let body = render::schemas_list_json(&state.records.registry, &caller.base_url);
    scim_response(StatusCode::OK, &body, None, None)
}

pub(crate) async fn schema(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ResourceId(id): ResourceId,
) -> Result<Response, Error> {
    let schema = state.records.registry.schema(&id).ok_or_else(|| ScimError::NotFound(format!("no schema {id}")))?;
    let body = render::schema_json(schema, &caller.base_url);
    Ok(scim_response(StatusCode::OK, &body, None, None))
}
