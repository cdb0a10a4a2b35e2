//! warden's SCIM 2.0 protocol library (RFC 7643 / RFC 7644).
//!
//! Pure functions over `serde_json::Value` resources, driven by schemas held as data: no I/O, no clock, no HTTP,
//! no SQL, no async. The SCIM HTTP endpoints and storage live in the `warden` binary and call into this crate:
//!
//! - [`schema`]: attribute definitions, the User / Enterprise User / Group schemas, the [`SchemaRegistry`] and
//!   the `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` documents.
//! - [`filter`]: the filter grammar (a public AST the server can translate to SQL), its printer and evaluator.
//! - [`path`]: attribute paths (PATCH paths, which add a value filter, are [`filter::PatchPath`]).
//! - [`patch`]: the PATCH engine, accepting the Okta and Entra ID dialects.
//! - [`projection`]: `attributes` / `excludedAttributes` and the `returned` characteristic.
//! - [`list`]: list and search parameters and the ListResponse body.
//! - [`resource`]: typed readers for the attributes the server needs (userName, members, ...) and write
//!   normalization for POST / PUT bodies.
//! - [`error`]: [`ScimError`], rendered as the SCIM error body with its HTTP status.
//!
//! A server's request flow, end to end:
//! ```
//! use serde_json::json;
//! use warden_scim::list::{ListLimits, ListParameters, ListResponse};
//! use warden_scim::{ScimError, SchemaRegistry, filter, patch, projection, resource};
//!
//! let registry = SchemaRegistry::standard();
//! let users = registry.resource_type("User").ok_or_else(|| ScimError::NotFound("User".into()))?;
//!
//! // POST /Users (Okta): normalize the body, then store it with an id and meta.
//! let body = json!({"schemas": [warden_scim::schema::USER_SCHEMA], "userName": "bjensen", "active": "True",
//!     "password": "placeholder", "groups": []});
//! let mut stored = resource::normalize_for_create(&body, &registry, users)?;
//! stored["id"] = json!("2819c223");
//!
//! // GET /Users?filter=...&count=500: count is clamped, the filter is checked and evaluated (or translated to SQL).
//! let limits = ListLimits { max_count: 200, default_count: 100 };
//! let query = [("filter", r#"userName eq "BJENSEN""#), ("count", "500"), ("excludedAttributes", "emails")];
//! let parameters = ListParameters::from_query(query, &limits)?;
//! assert_eq!(parameters.count, 200);
//! let filter = parameters.filter.as_ref().ok_or_else(|| ScimError::InvalidFilter("none".into()))?;
//! filter::validate(filter, &registry, users)?;
//! assert!(filter::matches(filter, &stored, &registry));
//! let shown =
//!     projection::project(stored.clone(), &parameters.attributes, &parameters.excluded_attributes, &registry, users);
//! assert!(shown.get("password").is_none());
//! let page = ListResponse::new(1, parameters.start_index, vec![shown]).into_json();
//! assert_eq!(page["totalResults"], 1);
//!
//! // PATCH /Users/{id} (Entra ID): a new resource, or an error that renders as the SCIM error body.
//! let request = json!({"schemas": [patch::PATCH_OP_SCHEMA],
//!     "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
//! let patched = patch::apply_patch(&stored, &request, &registry, users)?;
//! assert_eq!(resource::active(&patched), Some(false));
//! let error = patch::apply_patch(&stored, &json!({}), &registry, users).unwrap_err();
//! assert_eq!((error.status(), error.to_json()["scimType"].as_str()), (400, Some("invalidSyntax")));
//! # Ok::<(), ScimError>(())
//! ```

pub mod error;
pub mod filter;
mod json;
pub mod list;
mod normalize;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;

pub use error::ScimError;
pub use filter::{Filter, PatchPath};
pub use path::AttributePath;
pub use schema::SchemaRegistry;
