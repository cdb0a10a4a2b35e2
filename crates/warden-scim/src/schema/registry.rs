//! [`SchemaRegistry`]: the schemas and resource types a server offers, and attribute paths resolved against them.

use crate::path::AttributePath;
use crate::schema::definitions;
use crate::schema::model::{ResolvedAttribute, ResourceType, Schema};

/// The schemas and resource types a server offers, and attribute resolution against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRegistry {
    schemas: Vec<Schema>,
    resource_types: Vec<ResourceType>,
    common: Schema,
}

impl SchemaRegistry {
    /// A registry over these schemas and resource types. Each resource type's schema and extensions should be
    /// among `schemas`; unknown ones are skipped during resolution.
    pub fn new(schemas: Vec<Schema>, resource_types: Vec<ResourceType>) -> Self {
        SchemaRegistry { schemas, resource_types, common: definitions::common_attributes() }
    }

    /// The User (with the Enterprise User extension) and Group resource types of RFC 7643.
    pub fn standard() -> Self {
        SchemaRegistry::new(
            vec![definitions::user_schema(), definitions::enterprise_user_schema(), definitions::group_schema()],
            vec![definitions::user_resource_type(), definitions::group_resource_type()],
        )
    }

    /// All schemas.
    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    /// The schema with this URN, compared case-insensitively.
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas.iter().find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// All resource types.
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    /// The resource type with this name (e.g. `User`), compared case-insensitively.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|resource_type| resource_type.name.eq_ignore_ascii_case(name))
    }

    /// The resource type whose core schema is listed in the resource's `schemas` array.
    pub fn resource_type_of(&self, resource: &serde_json::Value) -> Option<&ResourceType> {
        let listed = crate::json::get_ignore_case(resource, "schemas")?.as_array()?;
        self.resource_types.iter().find(|resource_type| {
            listed.iter().any(|urn| urn.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(&resource_type.schema)))
        })
    }

    /// The definitions of `id`, `externalId` and `meta`, common to every resource type.
    pub fn common_attributes(&self) -> &Schema {
        &self.common
    }

    /// The core schema and then the extension schemas of a resource type.
    pub fn schemas_of<'a>(&'a self, resource_type: &ResourceType) -> Vec<(&'a Schema, bool)> {
        let mut schemas = Vec::new();
        if let Some(core) = self.schema(&resource_type.schema) {
            schemas.push((core, false));
        }
        for extension in &resource_type.schema_extensions {
            if let Some(schema) = self.schema(&extension.schema) {
                schemas.push((schema, true));
            }
        }
        schemas
    }

    /// The extension schema of this resource type whose URN is `urn`, if any.
    pub fn extension_of<'a>(&'a self, resource_type: &ResourceType, urn: &str) -> Option<&'a Schema> {
        resource_type
            .schema_extensions
            .iter()
            .find(|extension| extension.schema.eq_ignore_ascii_case(urn))
            .and_then(|extension| self.schema(&extension.schema))
    }

    /// Resolves a path against a resource type.
    ///
    /// A URN-qualified path resolves in that schema (the core schema URN also reaches `id`, `externalId` and `meta`).
    /// An unqualified name resolves
    /// in the common attributes, then the core schema, then the extensions in order (lenient: RFC 7644 reserves
    /// unqualified names for the core schema, but clients do send bare extension names).
    pub fn resolve<'a>(&'a self, resource_type: &ResourceType, path: &AttributePath) -> Option<ResolvedAttribute<'a>> {
        let candidates: Vec<(&Schema, bool)> = match &path.urn {
            Some(urn) => {
                let mut matching = Vec::new();
                if urn.eq_ignore_ascii_case(&resource_type.schema) {
                    matching.push((&self.common, false));
                }
                matching.extend(
                    self.schemas_of(resource_type)
                        .into_iter()
                        .filter(|(schema, _)| schema.id.eq_ignore_ascii_case(urn)),
                );
                matching
            }
            None => {
                let mut all = vec![(&self.common, false)];
                all.extend(self.schemas_of(resource_type));
                all
            }
        };
        candidates.into_iter().find_map(|(schema, is_extension)| {
            let attribute = schema.attribute(&path.name)?;
            let sub_attribute = match &path.sub_attribute {
                Some(sub) => Some(attribute.sub_attribute(sub)?),
                None => None,
            };
            Some(ResolvedAttribute { schema, is_extension, attribute, sub_attribute })
        })
    }
}
