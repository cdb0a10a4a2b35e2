//! The API request pipeline: route match, counting, latency, faults, body parsing, authentication, the handler,
//! and the exchange log.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::context::{Caller, Ctx};
use super::routes::{Endpoint, RouteMatch};
use super::{ApiSupport, FaultKind, Shared, auth, events, lock, reads_v1, reads_v2, routes, writes};
use crate::error::{ApiError, grpc};

const API_PREFIXES: &[&str] = &["/management/", "/admin/", "/auth/", "/v2/", "/v2beta/"];

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

fn error_response(error: &ApiError) -> Response {
    json_response(error.http_status(), error.body())
}

/// Fallback handler: every request not served by a fixed route ends here.
pub(crate) async fn api_request(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if !API_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return error_response(&ApiError::new(grpc::NOT_FOUND, "", "Not Found"));
    }
    let route = match routes::find(method.as_str(), &path) {
        RouteMatch::Found(route, params) => (route, params),
        RouteMatch::WrongMethod => {
            return json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                ApiError::new(grpc::UNIMPLEMENTED, "", "Method Not Allowed").body(),
            );
        }
        RouteMatch::NotFound => return error_response(&ApiError::new(grpc::NOT_FOUND, "", "Not Found")),
    };
    let (route, params) = route;
    let route_key = route.key();
    shared.count(&route_key);
    let settings = *lock(&shared.settings);
    if route.is_v2() && settings.api == ApiSupport::V1Only {
        return error_response(&ApiError::new(grpc::NOT_FOUND, "", "Not Found"));
    }
    if settings.latency > Duration::ZERO {
        tokio::time::sleep(settings.latency).await;
    }
    let org_header = headers.get("x-zitadel-orgid").and_then(|value| value.to_str().ok()).map(str::to_string);
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let mut truncate = false;
    let mut lose_response = false;
    match shared.next_fault(&route_key, org_header.as_deref()) {
        None => {}
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::TruncatedBody) => truncate = true,
        Some(FaultKind::LostResponse) => lose_response = true,
        Some(FaultKind::Status(status)) => {
            shared.log_exchange(route.verb, &path, &body_text, "");
            let error = ApiError::for_http_status(status);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return json_response(status, error.body());
        }
        Some(FaultKind::RateLimited { retry_after_seconds }) => {
            shared.log_exchange(route.verb, &path, &body_text, "");
            let error = ApiError::new(grpc::RESOURCE_EXHAUSTED, "QUOTA-vjAy8", "Quota.Access.Exhausted");
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, error.body());
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Some(FaultKind::Hang) => {
            shared.stopped().await;
            return error_response(&ApiError::new(grpc::UNAVAILABLE, "", "simulator shutting down"));
        }
    }
    let outcome = handle(&shared, route.endpoint, &params, &headers, org_header.as_deref(), &body_text);
    if lose_response {
        shared.log_exchange(route.verb, &path, &body_text, "");
        shared.stopped().await;
        return error_response(&ApiError::new(grpc::UNAVAILABLE, "", "simulator shutting down"));
    }
    match outcome {
        Ok(value) => {
            let text = value.to_string();
            if truncate {
                shared.log_exchange(route.verb, &path, &body_text, "");
                let cut = text.len() / 2;
                let cut = (0..=cut).rev().find(|index| text.is_char_boundary(*index)).unwrap_or(0);
                return json_response(StatusCode::OK, text[..cut].to_string());
            }
            shared.log_exchange(route.verb, &path, &body_text, &text);
            json_response(StatusCode::OK, text)
        }
        Err(error) => {
            shared.log_exchange(route.verb, &path, &body_text, "");
            error_response(&error)
        }
    }
}

fn parse_body(text: &str) -> Result<Value, ApiError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => {
            Err(ApiError::new(grpc::INVALID_ARGUMENT, "", "proto: syntax error: request body must be a JSON object"))
        }
        Err(error) => Err(ApiError::new(grpc::INVALID_ARGUMENT, "", format!("proto: syntax error: {error}"))),
    }
}

fn handle(
    shared: &Shared,
    endpoint: Endpoint,
    params: &[String],
    headers: &HeaderMap,
    org_header: Option<&str>,
    body_text: &str,
) -> Result<Value, ApiError> {
    let body = parse_body(body_text)?;
    let user_id = auth::authenticate(shared, headers)?;
    let mut estate = lock(&shared.estate);
    let caller = match Caller::load(&estate, &user_id) {
        Some(caller) if estate.user(&user_id).is_some_and(|user| user.state == crate::UserState::Active) => caller,
        _ => return Err(ApiError::unauthenticated("AUTH-7fs1e", "Errors.Token.Invalid: user not active")),
    };
    let mut ctx = Ctx { estate: &mut estate, caller: &caller, params, body: &body, org_header };
    call(endpoint, &mut ctx)
}

fn call(endpoint: Endpoint, ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    match endpoint {
        Endpoint::GetMyOrg => reads_v1::get_my_org(ctx),
        Endpoint::AdminListOrgs => reads_v1::admin_list_orgs(ctx),
        Endpoint::ListUsers => reads_v1::list_users(ctx),
        Endpoint::GetUserById => reads_v1::get_user(ctx),
        Endpoint::ListMachineKeys => reads_v1::list_machine_keys(ctx),
        Endpoint::ListPersonalAccessTokens => reads_v1::list_personal_access_tokens(ctx),
        Endpoint::ListUserMetadata => reads_v1::list_user_metadata(ctx),
        Endpoint::ListUserGrants => reads_v1::list_user_grants(ctx),
        Endpoint::ListProjects => reads_v1::list_projects(ctx),
        Endpoint::ListProjectRoles => reads_v1::list_project_roles(ctx),
        Endpoint::ListProjectMembers => reads_v1::list_project_members(ctx),
        Endpoint::ListAllProjectGrants => reads_v1::list_all_project_grants(ctx),
        Endpoint::ListProjectGrantMembers => reads_v1::list_project_grant_members(ctx),
        Endpoint::ListApps => reads_v1::list_apps(ctx),
        Endpoint::ListOrgMembers => reads_v1::list_org_members(ctx),
        Endpoint::ListMyMemberships => reads_v1::list_my_memberships(ctx),
        Endpoint::AdminListMembers => reads_v1::admin_list_members(ctx),
        Endpoint::ListOrgProviders => reads_v1::list_providers(ctx, false),
        Endpoint::AdminListProviders => reads_v1::list_providers(ctx, true),
        Endpoint::AdminListEvents => events::list_events(ctx),
        Endpoint::V2ListOrganizations => reads_v2::list_organizations(ctx),
        Endpoint::V2ListUsers => reads_v2::list_users(ctx),
        Endpoint::V2GetUser => reads_v2::get_user(ctx),
        Endpoint::V2ListUserMetadata => reads_v2::list_user_metadata(ctx),
        Endpoint::V2ListKeys => reads_v2::list_keys(ctx),
        Endpoint::V2ListPersonalAccessTokens => reads_v2::list_personal_access_tokens(ctx),
        Endpoint::V2ListProjects => reads_v2::list_projects(ctx),
        Endpoint::V2ListProjectRoles => reads_v2::list_project_roles(ctx),
        Endpoint::V2ListProjectGrants => reads_v2::list_project_grants(ctx),
        Endpoint::V2ListAuthorizations => reads_v2::list_authorizations(ctx),
        Endpoint::V2ListAdministrators => reads_v2::list_administrators(ctx),
        Endpoint::V2ListApplications => reads_v2::list_applications(ctx),
        Endpoint::ImportHumanUser => writes::import_human_user(ctx),
        Endpoint::AddHumanUser => writes::add_human_user(ctx),
        Endpoint::UpdateHumanProfile => writes::update_profile(ctx),
        Endpoint::UpdateHumanEmail => writes::update_email(ctx),
        Endpoint::DeactivateUser => writes::deactivate_user(ctx),
        Endpoint::ReactivateUser => writes::reactivate_user(ctx),
        Endpoint::RemoveUser => writes::remove_user(ctx),
        Endpoint::AddUserGrant => writes::add_user_grant(ctx),
        Endpoint::UpdateUserGrant => writes::update_user_grant(ctx),
        Endpoint::RemoveUserGrant => writes::remove_user_grant(ctx),
        Endpoint::SetUserMetadata => writes::set_user_metadata(ctx),
        Endpoint::V2AddHumanUser => writes::v2_add_human_user(ctx),
        Endpoint::V2DeactivateUser => writes::v2_deactivate_user(ctx),
        Endpoint::V2ReactivateUser => writes::v2_reactivate_user(ctx),
        Endpoint::V2DeleteUser => writes::v2_delete_user(ctx),
        Endpoint::V2SetUserMetadata => writes::v2_set_user_metadata(ctx),
    }
}
