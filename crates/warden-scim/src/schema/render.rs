//! The discovery documents: `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig` (RFC 7644 section 4).

use serde_json::{Map, Value, json};

use crate::list::ListResponse;
use crate::schema::{AttributeDefinition, AttributeType, ResourceType, Schema, SchemaRegistry};

const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SERVICE_PROVIDER_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The server limits advertised in `/ServiceProviderConfig`. PATCH, sort and ETags are always advertised as
/// supported, password change as unsupported, and the only authentication scheme is an OAuth bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    /// A link to human-readable documentation, if any.
    pub documentation_uri: Option<String>,
    /// Whether `/Bulk` is served.
    pub bulk_supported: bool,
    /// The most operations one bulk request may carry.
    pub bulk_max_operations: u64,
    /// The largest bulk request body, in bytes.
    pub bulk_max_payload_size: u64,
    /// The most resources one list or search response returns (`count` is clamped to it).
    pub filter_max_results: u64,
}

/// One schema as served at `/Schemas/{id}`. `base_url` is the tenant's SCIM base without a trailing slash, e.g.
/// `https://warden.example/scim/v2/123`.
pub fn schema_json(schema: &Schema, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base_url}/Schemas/{}", schema.id)},
    })
}

/// The `/Schemas` list response: every schema of the registry.
pub fn schemas_list_json(registry: &SchemaRegistry, base_url: &str) -> Value {
    let resources: Vec<Value> = registry.schemas().iter().map(|schema| schema_json(schema, base_url)).collect();
    ListResponse::complete(resources).to_json()
}

/// One resource type as served at `/ResourceTypes/{name}`.
pub fn resource_type_json(resource_type: &ResourceType, base_url: &str) -> Value {
    let extensions: Vec<Value> = resource_type
        .schema_extensions
        .iter()
        .map(|extension| json!({"schema": extension.schema, "required": extension.required}))
        .collect();
    let mut body = json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": resource_type.name,
        "name": resource_type.name,
        "endpoint": resource_type.endpoint,
        "description": resource_type.description,
        "schema": resource_type.schema,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{}", resource_type.name),
        },
    });
    if !extensions.is_empty()
        && let Some(object) = body.as_object_mut()
    {
        object.insert("schemaExtensions".to_owned(), Value::Array(extensions));
    }
    body
}

/// The `/ResourceTypes` list response.
pub fn resource_types_list_json(registry: &SchemaRegistry, base_url: &str) -> Value {
    let resources: Vec<Value> =
        registry.resource_types().iter().map(|resource_type| resource_type_json(resource_type, base_url)).collect();
    ListResponse::complete(resources).to_json()
}

/// The `/ServiceProviderConfig` document.
pub fn service_provider_config_json(config: &ServiceProviderConfig, base_url: &str) -> Value {
    let mut body = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {
            "supported": config.bulk_supported,
            "maxOperations": config.bulk_max_operations,
            "maxPayloadSize": config.bulk_max_payload_size,
        },
        "filter": {"supported": true, "maxResults": config.filter_max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    });
    if let (Some(uri), Some(object)) = (&config.documentation_uri, body.as_object_mut()) {
        object.insert("documentationUri".to_owned(), Value::String(uri.clone()));
    }
    body
}

fn attribute_json(attribute: &AttributeDefinition) -> Value {
    let mut object = Map::new();
    object.insert("name".to_owned(), json!(attribute.name));
    object.insert("type".to_owned(), json!(attribute.attribute_type.as_str()));
    object.insert("multiValued".to_owned(), json!(attribute.multi_valued));
    let description = match attribute.max_length {
        Some(max) => format!("{} Values have at most {max} characters.", attribute.description).trim_start().to_owned(),
        None => attribute.description.clone(),
    };
    object.insert("description".to_owned(), json!(description));
    object.insert("required".to_owned(), json!(attribute.required));
    if attribute.attribute_type != AttributeType::Complex {
        object.insert("caseExact".to_owned(), json!(attribute.case_exact));
    }
    object.insert("mutability".to_owned(), json!(attribute.mutability.as_str()));
    object.insert("returned".to_owned(), json!(attribute.returned.as_str()));
    if attribute.attribute_type != AttributeType::Complex {
        object.insert("uniqueness".to_owned(), json!(attribute.uniqueness.as_str()));
    }
    if !attribute.canonical_values.is_empty() {
        object.insert("canonicalValues".to_owned(), json!(attribute.canonical_values));
    }
    if attribute.attribute_type == AttributeType::Reference {
        object.insert("referenceTypes".to_owned(), json!(attribute.reference_types));
    }
    if attribute.attribute_type == AttributeType::Complex {
        let subs: Vec<Value> = attribute.sub_attributes.iter().map(attribute_json).collect();
        object.insert("subAttributes".to_owned(), Value::Array(subs));
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

    const BASE: &str = "https://warden.test/scim/v2/org1";

    fn find_attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
        schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()
    }

    #[test]
    fn schemas_list_has_user_enterprise_and_group() {
        let list = schemas_list_json(&SchemaRegistry::standard(), BASE);
        assert_eq!(list["totalResults"], json!(3));
        assert_eq!(list["itemsPerPage"], json!(3));
        assert_eq!(list["startIndex"], json!(1));
        let user = &list["Resources"][0];
        assert_eq!(user["id"], USER_SCHEMA);
        assert_eq!(user["meta"]["location"], format!("{BASE}/Schemas/{USER_SCHEMA}"));
        let password = find_attribute(user, "password");
        assert_eq!(password["mutability"], "writeOnly");
        assert_eq!(password["returned"], "never");
        let groups = find_attribute(user, "groups");
        assert_eq!(groups["mutability"], "readOnly");
        assert_eq!(groups["multiValued"], true);
        let emails = find_attribute(user, "emails");
        assert_eq!(emails["subAttributes"][2]["canonicalValues"], json!(["work", "home", "other"]));
        let user_name = find_attribute(user, "userName");
        assert_eq!(user_name["uniqueness"], "server");
        assert_eq!(user_name["required"], true);
        let enterprise = &list["Resources"][1];
        assert_eq!(enterprise["id"], ENTERPRISE_USER_SCHEMA);
        let manager = find_attribute(enterprise, "manager");
        assert_eq!(manager["subAttributes"][1]["referenceTypes"], json!(["User"]));
    }

    #[test]
    fn resource_types_name_their_extensions() {
        let list = resource_types_list_json(&SchemaRegistry::standard(), BASE);
        assert_eq!(list["totalResults"], json!(2));
        let user = &list["Resources"][0];
        assert_eq!(user["endpoint"], "/Users");
        assert_eq!(user["schemaExtensions"], json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}]));
        assert!(list["Resources"][1].get("schemaExtensions").is_none());
    }

    #[test]
    fn service_provider_config_advertises_parameters() {
        let config = ServiceProviderConfig {
            documentation_uri: None,
            bulk_supported: true,
            bulk_max_operations: 100,
            bulk_max_payload_size: 1_048_576,
            filter_max_results: 200,
        };
        let body = service_provider_config_json(&config, BASE);
        assert_eq!(body["bulk"], json!({"supported": true, "maxOperations": 100, "maxPayloadSize": 1_048_576}));
        assert_eq!(body["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(body["etag"]["supported"], true);
        assert_eq!(body["patch"]["supported"], true);
        assert_eq!(body["sort"]["supported"], true);
        assert_eq!(body["changePassword"]["supported"], false);
        assert_eq!(body["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert!(body.get("documentationUri").is_none());
    }
}
