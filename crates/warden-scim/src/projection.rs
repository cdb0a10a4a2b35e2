//! Response projection: `attributes`, `excludedAttributes` and the `returned` characteristic
//! (RFC 7644 section 3.9, RFC 7643 section 7).

use serde_json::{Map, Value};

use crate::path::AttributePath;
use crate::schema::{AttributeDefinition, ResourceType, Returned, Schema, SchemaRegistry};

/// The resource as it may be returned.
///
/// - `returned: never` attributes and sub-attributes (password) are never emitted;
/// - `returned: always` ones (`id`, and the `schemas` array) are always emitted;
/// - with `attributes`, only the named attributes (a sub-attribute path keeps only that sub-attribute; a bare
///   extension URN keeps the whole extension) plus the always-returned ones are emitted, including
///   `returned: request` ones when named;
/// - otherwise `returned: request` attributes are dropped, and `excluded_attributes` removes the named attributes
///   or sub-attributes (an always-returned one stays);
/// - `attributes` wins when both are given. Unqualified names also match extension attributes.
///
/// Attributes the schemas do not define are treated as `returned: default`. What is kept is moved out of
/// `resource`, not copied.
pub fn project(
    resource: Value,
    attributes: &[AttributePath],
    excluded_attributes: &[AttributePath],
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Value {
    let Value::Object(object) = resource else { return resource };
    let selection =
        if attributes.is_empty() { Selection::Exclude(excluded_attributes) } else { Selection::Include(attributes) };
    let core = registry.schema(&resource_type.schema);
    let mut projected = Map::new();
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") {
            projected.insert(key, value);
            continue;
        }
        let value = match (registry.extension_of(resource_type, &key), value) {
            (Some(extension), Value::Object(members)) => {
                if let Some(kept) = project_extension(extension, members, &selection) {
                    projected.insert(key, Value::Object(kept));
                }
                continue;
            }
            (_, value) => value,
        };
        let definition =
            registry.common_attributes().attribute(&key).or_else(|| core.and_then(|core| core.attribute(&key)));
        let schema_id = core.map_or(resource_type.schema.as_str(), |core| core.id.as_str());
        if let Some(kept) = project_attribute(schema_id, &key, definition, value, &selection) {
            projected.insert(key, kept);
        }
    }
    Value::Object(projected)
}

enum Selection<'a> {
    Include(&'a [AttributePath]),
    Exclude(&'a [AttributePath]),
}

fn project_extension(
    schema: &Schema,
    members: Map<String, Value>,
    selection: &Selection<'_>,
) -> Option<Map<String, Value>> {
    let names_whole_extension = |paths: &[AttributePath]| {
        paths.iter().any(|path| path.as_schema_urn().is_some_and(|urn| urn.eq_ignore_ascii_case(&schema.id)))
    };
    let whole = match selection {
        Selection::Include(paths) => names_whole_extension(paths),
        Selection::Exclude(paths) => {
            if names_whole_extension(paths) {
                return None;
            }
            false
        }
    };
    let mut kept = Map::new();
    for (key, value) in members {
        let definition = schema.attribute(&key);
        let projected = if whole {
            Some(strip_hidden(definition, value, true))
        } else {
            project_attribute(&schema.id, &key, definition, value, selection)
        };
        if let Some(projected) = projected.filter(|_| definition.is_none_or(|d| d.returned != Returned::Never)) {
            kept.insert(key, projected);
        }
    }
    if kept.is_empty() { None } else { Some(kept) }
}

/// Whether `path` names the attribute `name` of schema `schema_id` (with any sub-attribute).
fn names_attribute(path: &AttributePath, schema_id: &str, name: &str) -> bool {
    path.name.eq_ignore_ascii_case(name) && path.urn.as_deref().is_none_or(|urn| urn.eq_ignore_ascii_case(schema_id))
}

fn project_attribute(
    schema_id: &str,
    name: &str,
    definition: Option<&AttributeDefinition>,
    value: Value,
    selection: &Selection<'_>,
) -> Option<Value> {
    let returned = definition.map_or(Returned::Default, |definition| definition.returned);
    match returned {
        Returned::Never => return None,
        Returned::Always => return Some(strip_hidden(definition, value, true)),
        Returned::Default | Returned::Request => {}
    }
    match selection {
        Selection::Include(paths) => {
            let named: Vec<&AttributePath> =
                paths.iter().filter(|path| names_attribute(path, schema_id, name)).collect();
            if named.is_empty() {
                return None;
            }
            if named.iter().any(|path| path.sub_attribute.is_none()) {
                return Some(strip_hidden(definition, value, true));
            }
            let subs: Vec<&str> = named.iter().filter_map(|path| path.sub_attribute.as_deref()).collect();
            keep_sub_attributes(definition, value, |sub_name, sub_definition| {
                sub_definition.is_some_and(|sub| sub.returned == Returned::Always)
                    || subs.iter().any(|wanted| wanted.eq_ignore_ascii_case(sub_name))
            })
        }
        Selection::Exclude(paths) => {
            if returned == Returned::Request {
                return None;
            }
            let named: Vec<&AttributePath> =
                paths.iter().filter(|path| names_attribute(path, schema_id, name)).collect();
            if named.iter().any(|path| path.sub_attribute.is_none()) {
                return None;
            }
            let excluded: Vec<&str> = named.iter().filter_map(|path| path.sub_attribute.as_deref()).collect();
            let stripped = strip_hidden(definition, value, false);
            keep_sub_attributes(definition, stripped, |sub_name, sub_definition| {
                sub_definition.is_some_and(|sub| sub.returned == Returned::Always)
                    || !excluded.iter().any(|unwanted| unwanted.eq_ignore_ascii_case(sub_name))
            })
        }
    }
}

/// Drops `returned: never` sub-attributes, and `returned: request` ones unless `requested`.
fn strip_hidden(definition: Option<&AttributeDefinition>, value: Value, requested: bool) -> Value {
    if definition.is_none_or(|definition| definition.sub_attributes.is_empty()) {
        return value;
    }
    keep_sub_attributes(definition, value, |_, sub_definition| match sub_definition.map(|sub| sub.returned) {
        Some(Returned::Never) => false,
        Some(Returned::Request) => requested,
        _ => true,
    })
    .unwrap_or(Value::Null)
}

/// Keeps the sub-attributes `keep` accepts in a complex value or in each value of a multi-valued one. `None`
/// when nothing is left.
fn keep_sub_attributes(
    definition: Option<&AttributeDefinition>,
    value: Value,
    keep: impl Fn(&str, Option<&AttributeDefinition>) -> bool,
) -> Option<Value> {
    let filter_object = |object: Map<String, Value>| -> Map<String, Value> {
        object
            .into_iter()
            .filter(|(key, _)| keep(key, definition.and_then(|definition| definition.sub_attribute(key))))
            .collect()
    };
    match value {
        Value::Object(object) => {
            let kept = filter_object(object);
            if kept.is_empty() { None } else { Some(Value::Object(kept)) }
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object(object) => {
                        let kept = filter_object(object);
                        if kept.is_empty() { None } else { Some(Value::Object(kept)) }
                    }
                    other => Some(other),
                })
                .collect();
            if kept.is_empty() { None } else { Some(Value::Array(kept)) }
        }
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "1",
            "externalId": "ext",
            "userName": "bjensen",
            "password": "secret",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            "meta": {"resourceType": "User"},
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "7", "department": "Tours"}
        })
    }

    fn paths(list: &[&str]) -> Vec<AttributePath> {
        list.iter().map(|text| AttributePath::parse(text).unwrap()).collect()
    }

    fn run(resource: &Value, attributes: &[&str], excluded: &[&str], resource_type: &str) -> Value {
        let registry = SchemaRegistry::standard();
        let resource_type = registry.resource_type(resource_type).unwrap().clone();
        project(resource.clone(), &paths(attributes), &paths(excluded), &registry, &resource_type)
    }

    #[test]
    fn default_hides_password_only() {
        let mut expected = user();
        expected.as_object_mut().unwrap().remove("password");
        assert_eq!(run(&user(), &[], &[], "User"), expected);
        assert!(run(&user(), &["password"], &[], "User").get("password").is_none());
    }

    #[test]
    fn attributes_keep_named_plus_always() {
        assert_eq!(
            run(&user(), &["userName", "name.familyName", "emails.value"], &[], "User"),
            json!({
                "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                "id": "1",
                "userName": "bjensen",
                "name": {"familyName": "Jensen"},
                "emails": [{"value": "a@x"}, {"value": "b@x"}]
            })
        );
        assert_eq!(
            run(
                &user(),
                &["USERNAME", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
                &[],
                "User"
            ),
            json!({
                "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                "id": "1",
                "userName": "bjensen",
                ENTERPRISE_USER_SCHEMA: {"department": "Tours"}
            })
        );
        assert_eq!(
            run(&user(), &[ENTERPRISE_USER_SCHEMA], &[], "User")[ENTERPRISE_USER_SCHEMA],
            json!({"employeeNumber": "7", "department": "Tours"})
        );
    }

    #[test]
    fn excluded_attributes_remove_but_never_always() {
        let group = json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "Admins", "members": [{"value": "1"}]});
        assert_eq!(
            run(&group, &[], &["members", "id"], "Group"),
            json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "Admins"})
        );
        let projected = run(&user(), &[], &["emails.type", ENTERPRISE_USER_SCHEMA, "meta"], "User");
        assert_eq!(projected["emails"], json!([{"value": "a@x"}, {"value": "b@x"}]));
        assert!(projected.get(ENTERPRISE_USER_SCHEMA).is_none());
        assert!(projected.get("meta").is_none());
        assert!(projected.get("password").is_none());
    }

    #[test]
    fn request_only_attributes_need_naming() {
        let mut registry = SchemaRegistry::standard();
        let mut group_schema = registry.schema(GROUP_SCHEMA).unwrap().clone();
        group_schema.attributes[1].returned = Returned::Request;
        let resource_types = registry.resource_types().to_vec();
        let mut schemas = registry.schemas().to_vec();
        schemas[2] = group_schema;
        registry = SchemaRegistry::new(schemas, resource_types);
        let group_type = registry.resource_type("Group").unwrap().clone();
        let group = json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "A", "members": [{"value": "1"}]});
        assert!(project(group.clone(), &[], &[], &registry, &group_type).get("members").is_none());
        let named = project(group.clone(), &paths(&["members"]), &[], &registry, &group_type);
        assert_eq!(named["members"], json!([{"value": "1"}]));
    }
}
