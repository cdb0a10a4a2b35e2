//! The routes: Users and Groups built per resource kind, discovery, `/Bulk`, each behind [`auth::guard`]; unknown
//! paths under `/scim/` answer 404 with a SCIM body.

use axum::Router;
use axum::middleware;
use axum::routing::{any, get, post};
use warden_scim::ScimError;

use crate::app::scim_records::endpoint;
use crate::scim::auth;
use crate::scim::bulk;
use crate::scim::discovery;
use crate::scim::error::Error;
use crate::scim::resources::{self, Endpoint, Groups, Users};
use crate::scim::state::ScimState;

/// The SCIM routes, each behind [`auth::guard`]. Unknown paths under `/scim/` answer 404 with a SCIM body.
pub fn router(state: ScimState) -> Router {
    let tenant = resource_routes::<Users>(Router::new());
    let tenant = resource_routes::<Groups>(tenant)
        .route("/scim/v2/{org}/.search", post(resources::search_all))
        .route("/scim/v2/{org}/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/scim/v2/{org}/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/{org}/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/scim/v2/{org}/Schemas", get(discovery::schemas))
        .route("/scim/v2/{org}/Schemas/{id}", get(discovery::schema))
        .route("/scim/v2/{org}/Me", any(not_implemented_me))
        .route("/scim/v2/{org}/Bulk", post(bulk::bulk))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state);
    tenant.route("/scim/{*rest}", any(unknown_endpoint))
}

/// A resource type's routes: list and create, search, and read, replace, patch and delete one.
fn resource_routes<E: Endpoint>(router: Router<ScimState>) -> Router<ScimState> {
    let base = format!("/scim/v2/{{org}}/{}", endpoint(E::KIND));
    router
        .route(&base, get(resources::list::<E>).post(resources::create::<E>))
        .route(&format!("{base}/.search"), post(resources::search::<E>))
        .route(
            &format!("{base}/{{id}}"),
            get(resources::get::<E>)
                .put(resources::replace::<E>)
                .patch(resources::patch::<E>)
                .delete(resources::delete::<E>),
        )
}

async fn not_implemented_me() -> Error {
    Error::NotImplemented("/Me")
}

async fn unknown_endpoint() -> Error {
    Error::Protocol(ScimError::NotFound("no such SCIM endpoint".to_owned()))
}
