//! Schemas as data (RFC 7643 sections 2, 7 and 8.7): attribute definitions, schemas, resource types and the
//! registry that resolves attribute paths against them.
//!
//! Resources are `serde_json::Value`s; these definitions are what gives their attributes a type, a mutability and a
//! `returned` characteristic. [`SchemaRegistry::standard`] holds the User, Enterprise User and Group schemas.

mod definitions;
mod model;
mod registry;
mod render;

pub use definitions::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
pub use model::{
    AttributeDefinition, AttributeType, MAX_BINARY_LENGTH, MAX_KEY_LENGTH, MAX_TEXT_LENGTH, Mutability,
    ResolvedAttribute, ResourceType, Returned, Schema, SchemaExtension, Uniqueness,
};
pub use registry::SchemaRegistry;
pub use render::{
    ServiceProviderConfig, resource_type_json, resource_types_list_json, schema_json, schemas_list_json,
    service_provider_config_json,
};
