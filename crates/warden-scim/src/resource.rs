//! Typed readers for the attributes the server needs, and schema-driven normalization of POST and PUT bodies.
//!
//! Readers look keys up case-insensitively, so they work on raw client bodies as well as on normalized
//! resources.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::boolean_of;
use crate::json::{find_key, get_ignore_case, insert_canonical};
use crate::normalize::{is_unassigned, normalize_attribute};
use crate::schema::{AttributeDefinition, Mutability, ResourceType, Schema, SchemaRegistry};

/// One group member, as read from a Group resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// The member resource's id.
    pub value: &'a str,
    /// `User` or `Group`, when given.
    pub member_type: Option<&'a str>,
    /// The display name, when given.
    pub display: Option<&'a str>,
}

/// One email address of a User.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Email<'a> {
    /// The address.
    pub value: &'a str,
    /// `work`, `home`, `other`, ... when given.
    pub email_type: Option<&'a str>,
    /// Whether it is the primary address.
    pub primary: bool,
}

/// The `id`.
pub fn id(resource: &Value) -> Option<&str> {
    string_attribute(resource, "id")
}

/// The `userName`.
pub fn user_name(resource: &Value) -> Option<&str> {
    string_attribute(resource, "userName")
}

/// The `externalId`.
pub fn external_id(resource: &Value) -> Option<&str> {
    string_attribute(resource, "externalId")
}

/// The `displayName`.
pub fn display_name(resource: &Value) -> Option<&str> {
    string_attribute(resource, "displayName")
}

/// `name.givenName`.
pub fn given_name(resource: &Value) -> Option<&str> {
    get_ignore_case(resource, "name").and_then(|name| string_attribute(name, "givenName"))
}

/// `name.familyName`.
pub fn family_name(resource: &Value) -> Option<&str> {
    get_ignore_case(resource, "name").and_then(|name| string_attribute(name, "familyName"))
}

/// `active`, accepting string booleans (`"False"`). `None` when absent or not a boolean.
pub fn active(resource: &Value) -> Option<bool> {
    get_ignore_case(resource, "active").and_then(boolean_of)
}

/// Every email address, in order.
pub fn emails(resource: &Value) -> Vec<Email<'_>> {
    values_of(resource, "emails")
        .filter_map(|email| {
            Some(Email {
                value: string_attribute(email, "value")?,
                email_type: string_attribute(email, "type"),
                primary: get_ignore_case(email, "primary").and_then(boolean_of).unwrap_or(false),
            })
        })
        .collect()
}

/// Every email address value, in order.
pub fn email_values(resource: &Value) -> Vec<&str> {
    emails(resource).into_iter().map(|email| email.value).collect()
}

/// The primary email, else the `work` one, else the first.
pub fn primary_email(resource: &Value) -> Option<&str> {
    let emails = emails(resource);
    emails
        .iter()
        .find(|email| email.primary)
        .or_else(|| emails.iter().find(|email| email.email_type.is_some_and(|kind| kind.eq_ignore_ascii_case("work"))))
        .or_else(|| emails.first())
        .map(|email| email.value)
}

/// The primary phone number, else the first.
pub fn primary_phone_number(resource: &Value) -> Option<&str> {
    let numbers: Vec<(&str, bool)> = values_of(resource, "phoneNumbers")
        .filter_map(|number| {
            let primary = get_ignore_case(number, "primary").and_then(boolean_of).unwrap_or(false);
            Some((string_attribute(number, "value")?, primary))
        })
        .collect();
    numbers.iter().find(|(_, primary)| *primary).or_else(|| numbers.first()).map(|(value, _)| *value)
}

/// `preferredLanguage`.
pub fn preferred_language(resource: &Value) -> Option<&str> {
    string_attribute(resource, "preferredLanguage")
}

/// Every member of a Group, in order (entries without a string `value` are skipped).
pub fn members(resource: &Value) -> Vec<Member<'_>> {
    values_of(resource, "members")
        .filter_map(|member| {
            Some(Member {
                value: string_attribute(member, "value")?,
                member_type: string_attribute(member, "type"),
                display: string_attribute(member, "display"),
            })
        })
        .collect()
}

/// The ids of every member of a Group.
pub fn member_ids(resource: &Value) -> Vec<&str> {
    members(resource).into_iter().map(|member| member.value).collect()
}

/// An attribute of an extension schema, e.g. `extension_attribute(user, ENTERPRISE_USER_SCHEMA, "department")`.
pub fn extension_attribute<'a>(resource: &'a Value, schema_urn: &str, name: &str) -> Option<&'a Value> {
    get_ignore_case(resource, schema_urn).and_then(|extension| get_ignore_case(extension, name))
}

/// Normalizes a POST body into a resource to store (without `id` and `meta`, which the server assigns).
///
/// The body's `schemas` must list the resource type's core schema and name no schema it does not have (else
/// `invalidSyntax` / `invalidValue`). Keys take the schema's spelling, values are normalized and checked as in PATCH
/// (types, lengths, string booleans, `$ref: null`, ...), `id`, `meta`, readOnly attributes (`groups`) and unknown
/// attributes are dropped, `schemas` is rebuilt from the core schema and the extensions present, and missing or
/// blank required attributes are [`ScimError::InvalidValue`].
pub fn normalize_for_create(
    body: &Value,
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Result<Value, ScimError> {
    normalize_body(body, registry, resource_type).map(Value::Object)
}

/// Normalizes a PUT body against the stored resource: like [`normalize_for_create`], then `id`, `meta` and
/// readOnly attributes are carried over from `existing`, and changing an immutable attribute that has a value is
/// [`ScimError::Mutability`].
pub fn normalize_for_replace(
    existing: &Value,
    body: &Value,
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Result<Value, ScimError> {
    let mut replaced = normalize_body(body, registry, resource_type)?;
    let empty = Map::new();
    let existing = existing.as_object().unwrap_or(&empty);
    for (schema, is_extension) in
        registry.schemas_of(resource_type).into_iter().chain([(registry.common_attributes(), false)])
    {
        for attribute in &schema.attributes {
            let old = lookup(existing, schema, is_extension, &attribute.name);
            let new = lookup(&replaced, schema, is_extension, &attribute.name);
            match attribute.mutability {
                Mutability::Immutable if !is_unassigned(old) && old != new => {
                    return Err(ScimError::Mutability(format!(
                        "{} is immutable and already has a value",
                        attribute.name
                    )));
                }
                Mutability::ReadOnly => {
                    if let Some(old) = old.cloned() {
                        let container = if is_extension {
                            let key = find_key(&replaced, &schema.id).unwrap_or_else(|| schema.id.clone());
                            let entry = replaced.entry(key).or_insert_with(|| Value::Object(Map::new()));
                            match entry.as_object_mut() {
                                Some(object) => object,
                                None => continue,
                            }
                        } else {
                            &mut replaced
                        };
                        insert_canonical(container, &attribute.name, old);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(Value::Object(replaced))
}

fn lookup<'m>(resource: &'m Map<String, Value>, schema: &Schema, is_extension: bool, name: &str) -> Option<&'m Value> {
    let container = if is_extension {
        find_key(resource, &schema.id).and_then(|key| resource.get(&key)).and_then(Value::as_object)?
    } else {
        resource
    };
    find_key(container, name).and_then(|key| container.get(&key))
}

fn normalize_body(
    body: &Value,
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Result<Map<String, Value>, ScimError> {
    let Some(object) = body.as_object() else {
        return Err(ScimError::InvalidSyntax("a resource must be a JSON object".to_owned()));
    };
    check_schemas(object, registry, resource_type)?;
    let core = registry
        .schema(&resource_type.schema)
        .ok_or_else(|| ScimError::InvalidValue(format!("unknown schema {}", resource_type.schema)))?;
    let mut normalized = Map::new();
    let mut schemas = vec![Value::String(core.id.clone())];
    for (key, value) in object {
        if let Some(extension) = registry.extension_of(resource_type, key) {
            let Value::Object(members) = value else {
                return Err(ScimError::InvalidValue(format!("{} must be a JSON object", extension.id)));
            };
            let members = normalize_members(extension, None, members)?;
            if !members.is_empty() {
                schemas.push(Value::String(extension.id.clone()));
                normalized.insert(extension.id.clone(), Value::Object(members));
            }
            continue;
        }
        if ["id", "meta", "schemas"].iter().any(|skipped| key.eq_ignore_ascii_case(skipped)) {
            continue;
        }
        if is_urn(key) {
            return Err(unknown_schema(key, resource_type));
        }
        let single = Map::from_iter([(key.clone(), value.clone())]);
        let members = normalize_members(core, Some(registry.common_attributes()), &single)?;
        for (name, value) in members {
            insert_canonical(&mut normalized, &name, value);
        }
    }
    normalized.insert("schemas".to_owned(), Value::Array(schemas));
    for (schema, is_extension) in registry.schemas_of(resource_type) {
        let container_present = !is_extension || normalized.contains_key(&schema.id);
        for attribute in schema.attributes.iter().filter(|attribute| attribute.required) {
            if container_present && lookup(&normalized, schema, is_extension, &attribute.name).is_none() {
                return Err(ScimError::InvalidValue(format!("{} is required", attribute.name)));
            }
        }
    }
    Ok(normalized)
}

/// A resource body names its schemas (RFC 7643 section 3): `schemas` is an array listing the resource type's core
/// schema, and it and the keys of the body name no schema the resource type does not have. No client warden serves
/// omits it or sends schemas it did not discover, so both are refused rather than guessed at.
fn check_schemas(
    object: &Map<String, Value>,
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Result<(), ScimError> {
    let expected = || format!("\"schemas\": [\"{}\", ...]", resource_type.schema);
    let Some(schemas) = find_key(object, "schemas").and_then(|key| object.get(&key)) else {
        return Err(ScimError::InvalidSyntax(format!("a {} needs {}", resource_type.name, expected())));
    };
    let Some(urns) = schemas.as_array().and_then(|urns| urns.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
    else {
        return Err(ScimError::InvalidSyntax(format!("schemas must be an array of schema URNs: {}", expected())));
    };
    for urn in &urns {
        if !urn.eq_ignore_ascii_case(&resource_type.schema) && registry.extension_of(resource_type, urn).is_none() {
            return Err(unknown_schema(urn, resource_type));
        }
    }
    if !urns.iter().any(|urn| urn.eq_ignore_ascii_case(&resource_type.schema)) {
        return Err(ScimError::InvalidValue(format!("schemas must list {}", resource_type.schema)));
    }
    Ok(())
}

fn is_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("urn:"))
}

fn unknown_schema(urn: &str, resource_type: &ResourceType) -> ScimError {
    let mut known = vec![resource_type.schema.as_str()];
    known.extend(resource_type.schema_extensions.iter().map(|extension| extension.schema.as_str()));
    ScimError::InvalidValue(format!(
        "{urn} is not a schema of a {} (its schemas: {})",
        resource_type.name,
        known.join(", ")
    ))
}

/// Normalizes the writable attributes of one schema (plus the common ones, for the core schema).
fn normalize_members(
    schema: &Schema,
    common: Option<&Schema>,
    members: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let mut normalized = Map::new();
    for (key, value) in members {
        let definition: Option<&AttributeDefinition> =
            common.and_then(|common| common.attribute(key)).or_else(|| schema.attribute(key));
        let Some(definition) = definition else { continue };
        if definition.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(value) = normalize_attribute(definition, value)? {
            normalized.insert(definition.name.clone(), value);
        }
    }
    Ok(normalized)
}

fn string_attribute<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    get_ignore_case(value, name).and_then(Value::as_str)
}

fn values_of<'a>(resource: &'a Value, name: &str) -> impl Iterator<Item = &'a Value> {
    let items: &'a [Value] = match get_ignore_case(resource, name) {
        Some(Value::Array(items)) => items,
        _ => &[],
    };
    items.iter()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    fn okta_create_body() -> Value {
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "isaac.brock@example.com",
            "name": {"givenName": "Isaac", "familyName": "Brock"},
            "emails": [{"primary": true, "value": "isaac.brock@example.com", "type": "work"}],
            "displayName": "Isaac Brock",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        })
    }

    #[test]
    fn readers() {
        let body = okta_create_body();
        assert_eq!(user_name(&body), Some("isaac.brock@example.com"));
        assert_eq!(external_id(&body), Some("00ujl29u0le5T6Aj10h7"));
        assert_eq!(display_name(&body), Some("Isaac Brock"));
        assert_eq!(given_name(&body), Some("Isaac"));
        assert_eq!(family_name(&body), Some("Brock"));
        assert_eq!(active(&body), Some(true));
        assert_eq!(email_values(&body), vec!["isaac.brock@example.com"]);
        assert_eq!(primary_email(&body), Some("isaac.brock@example.com"));
        assert_eq!(id(&body), None);
        assert_eq!(active(&json!({"Active": "False"})), Some(false));
        let group = json!({"displayName": "G", "members": [{"value": "1", "type": "User"}, {"display": "no value"}]});
        assert_eq!(member_ids(&group), vec!["1"]);
        assert_eq!(members(&group)[0].member_type, Some("User"));
        let user = json!({ENTERPRISE_USER_SCHEMA: {"department": "Tours"}});
        assert_eq!(extension_attribute(&user, ENTERPRISE_USER_SCHEMA, "Department"), Some(&json!("Tours")));
        let emails = json!({"emails": [{"value": "h@x", "type": "home"}, {"value": "w@x", "type": "work"}]});
        assert_eq!(primary_email(&emails), Some("w@x"));
    }

    #[test]
    fn create_normalization() {
        let registry = SchemaRegistry::standard();
        let user_type = registry.resource_type("User").unwrap();
        let mut body = okta_create_body();
        body["id"] = json!("client-chosen");
        body["Active"] = json!("True");
        body.as_object_mut().unwrap().remove("active");
        body[ENTERPRISE_USER_SCHEMA] = json!({"manager": "42"});
        let created = normalize_for_create(&body, &registry, user_type).unwrap();
        assert!(created.get("id").is_none());
        assert!(created.get("groups").is_none());
        assert_eq!(created["active"], true);
        assert_eq!(created["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
        assert_eq!(created[ENTERPRISE_USER_SCHEMA], json!({"manager": {"value": "42"}}));
        assert_eq!(created["password"], "1mz050nq");
        let missing =
            normalize_for_create(&json!({"schemas": [USER_SCHEMA], "displayName": "x"}), &registry, user_type);
        assert!(matches!(missing, Err(ScimError::InvalidValue(_))));
        let group_type = registry.resource_type("Group").unwrap();
        let group = normalize_for_create(
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": []}),
            &registry,
            group_type,
        )
        .unwrap();
        assert_eq!(group, json!({"schemas": [GROUP_SCHEMA], "displayName": "G"}));
    }

    #[test]
    fn bodies_name_their_schemas() {
        let registry = SchemaRegistry::standard();
        let user_type = registry.resource_type("User").unwrap();
        let syntax =
            |body: Value| matches!(normalize_for_create(&body, &registry, user_type), Err(ScimError::InvalidSyntax(_)));
        let value =
            |body: Value| matches!(normalize_for_create(&body, &registry, user_type), Err(ScimError::InvalidValue(_)));
        assert!(syntax(json!({"userName": "a"})));
        assert!(syntax(json!({"schemas": USER_SCHEMA, "userName": "a"})));
        assert!(syntax(json!({"schemas": [USER_SCHEMA, 1], "userName": "a"})));
        assert!(value(json!({"schemas": [GROUP_SCHEMA], "userName": "a"})));
        assert!(value(json!({"schemas": [USER_SCHEMA, "urn:example:custom:2.0:User"], "userName": "a"})));
        assert!(value(json!({"schemas": [USER_SCHEMA], "userName": "a", "urn:example:custom:2.0:User": {"x": "y"}})));
        assert!(value(json!({"schemas": [], "userName": "a"})));
        // Case-insensitively, and an extension listed without its object (or the other way round) is fine.
        let lenient = json!({"Schemas": [USER_SCHEMA.to_uppercase(), ENTERPRISE_USER_SCHEMA], "userName": "a"});
        assert!(normalize_for_create(&lenient, &registry, user_type).is_ok());
        let object_only =
            json!({"schemas": [USER_SCHEMA], "userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "D"}});
        assert_eq!(
            normalize_for_create(&object_only, &registry, user_type).unwrap()["schemas"],
            json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
        );
    }

    #[test]
    fn replace_normalization_keeps_server_attributes() {
        let registry = SchemaRegistry::standard();
        let user_type = registry.resource_type("User").unwrap();
        let existing = json!({
            "schemas": [USER_SCHEMA], "id": "1", "userName": "a", "meta": {"version": "W/\"1\""},
            "groups": [{"value": "g"}]
        });
        let replaced = normalize_for_replace(
            &existing,
            &json!({"schemas": [USER_SCHEMA], "userName": "b", "id": "other", "groups": []}),
            &registry,
            user_type,
        )
        .unwrap();
        assert_eq!(replaced["id"], "1");
        assert_eq!(replaced["userName"], "b");
        assert_eq!(replaced["groups"], json!([{"value": "g"}]));
        assert_eq!(replaced["meta"], json!({"version": "W/\"1\""}));
    }
}
