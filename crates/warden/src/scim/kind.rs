//! Which resource type a route serves, and the `{id}` it names.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use warden_scim::schema::{GROUP_SCHEMA, ResourceType, USER_SCHEMA};
use warden_scim::{SchemaRegistry, ScimError};

use crate::app::scim_records;
use crate::scim::error::Error;
use crate::scim::state::ScimState;
use crate::store::ScimKind;

/// Which resource type a handler serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
}

impl Kind {
    pub(crate) const ALL: [Kind; 2] = [Kind::User, Kind::Group];

    /// What the store and the application layer call this resource type.
    pub(crate) fn stored(self) -> ScimKind {
        match self {
            Kind::User => ScimKind::User,
            Kind::Group => ScimKind::Group,
        }
    }

    pub(crate) fn endpoint(self) -> &'static str {
        scim_records::endpoint(self.stored())
    }

    pub(crate) fn core_schema(self) -> &'static str {
        match self {
            Kind::User => USER_SCHEMA,
            Kind::Group => GROUP_SCHEMA,
        }
    }

    pub(crate) fn resource_type(self, registry: &SchemaRegistry) -> Result<&ResourceType, Error> {
        Ok(scim_records::resource_type(self.stored(), registry)?)
    }
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
