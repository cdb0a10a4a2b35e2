//! Schema-driven normalization of incoming attribute values.
//!
//! Client values are brought to one canonical shape before they are stored or compared:
//! - keys take the schema's spelling (`username` -> `userName`);
//! - Entra ID's string booleans (`"True"`, `"false"`) become JSON booleans;
//! - numbers and booleans sent for string attributes become strings;
//! - a scalar sent for a complex attribute with a `value` sub-attribute becomes `{"value": scalar}` (Entra ID
//!   sends `manager` that way);
//! - a single value sent for a multi-valued attribute becomes a one-element array;
//! - `null` sub-attribute values (Entra ID's `"$ref": null`), unknown sub-attributes (stray `id`) and readOnly
//!   sub-attributes of writable attributes (`manager.displayName`) are dropped;
//! - an empty array, empty object or `null` means "unassigned" and normalizes to `None`.
//!
//! Anything else of the wrong type is [`ScimError::InvalidValue`].

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::ScimError;
use crate::filter::boolean_of;
use crate::schema::{AttributeDefinition, AttributeType, Mutability};

/// Normalizes a whole attribute value (an array for a multi-valued attribute). `None` means unassigned.
pub(crate) fn normalize_attribute(definition: &AttributeDefinition, value: &Value) -> Result<Option<Value>, ScimError> {
    if definition.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            other => vec![other],
        };
        let mut normalized = Vec::with_capacity(items.len());
        for item in items {
            if let Some(item) = normalize_single(definition, item)? {
                normalized.push(item);
            }
        }
        Ok(if normalized.is_empty() { None } else { Some(Value::Array(normalized)) })
    } else {
        if value.is_array() {
            return Err(ScimError::InvalidValue(format!(
                "{} is single-valued, but an array was given",
                definition.name
            )));
        }
        normalize_single(definition, value)
    }
}

/// Normalizes one value of an attribute (one element of a multi-valued one). `None` means unassigned.
pub(crate) fn normalize_single(definition: &AttributeDefinition, value: &Value) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    let name = &definition.name;
    let invalid =
        |expected: &str| ScimError::InvalidValue(format!("{name} must be {expected}, not {}", describe(value)));
    let normalized = match definition.attribute_type {
        AttributeType::Complex => {
            let object = match value {
                Value::Object(object) => object.clone(),
                scalar if definition.sub_attribute("value").is_some() && !scalar.is_array() => {
                    let mut object = Map::new();
                    object.insert("value".to_owned(), scalar.clone());
                    object
                }
                _ => return Err(invalid("an object")),
            };
            let normalized = normalize_complex(definition, &object)?;
            if normalized.is_empty() {
                return Ok(None);
            }
            Value::Object(normalized)
        }
        AttributeType::Boolean => Value::Bool(boolean_of(value).ok_or_else(|| invalid("a boolean"))?),
        AttributeType::Integer => match value {
            Value::Number(number) if number.is_i64() || number.is_u64() => value.clone(),
            _ => return Err(invalid("an integer")),
        },
        AttributeType::Decimal => match value {
            Value::Number(_) => value.clone(),
            _ => return Err(invalid("a number")),
        },
        AttributeType::DateTime => match value {
            Value::String(text) if OffsetDateTime::parse(text, &Rfc3339).is_ok() => value.clone(),
            _ => return Err(invalid("an RFC 3339 date-time")),
        },
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => match value {
            Value::String(_) => value.clone(),
            Value::Number(number) => Value::String(number.to_string()),
            Value::Bool(flag) => Value::String(flag.to_string()),
            _ => return Err(invalid("a string")),
        },
    };
    Ok(Some(normalized))
}

fn normalize_complex(
    definition: &AttributeDefinition,
    object: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let mut normalized = Map::new();
    for (key, sub_value) in object {
        let Some(sub_definition) = definition.sub_attribute(key) else { continue };
        if sub_definition.mutability == Mutability::ReadOnly && definition.mutability != Mutability::ReadOnly {
            continue;
        }
        let sub_normalized = if sub_definition.multi_valued {
            normalize_attribute(sub_definition, sub_value)?
        } else {
            normalize_single(sub_definition, sub_value)?
        };
        if let Some(sub_normalized) = sub_normalized {
            normalized.insert(sub_definition.name.clone(), sub_normalized);
        }
    }
    Ok(normalized)
}

/// Whether a stored value counts as unassigned (absent, null, empty array or empty object).
pub(crate) fn is_unassigned(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(fields)) => fields.is_empty(),
        Some(_) => false,
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::SchemaRegistry;

    fn user_attribute(name: &str) -> AttributeDefinition {
        let registry = SchemaRegistry::standard();
        registry.schemas()[0].attribute(name).unwrap().clone()
    }

    fn enterprise_attribute(name: &str) -> AttributeDefinition {
        let registry = SchemaRegistry::standard();
        registry.schemas()[1].attribute(name).unwrap().clone()
    }

    #[test]
    fn coerces_string_booleans() {
        let active = user_attribute("active");
        assert_eq!(normalize_attribute(&active, &json!("False")).unwrap(), Some(json!(false)));
        assert_eq!(normalize_attribute(&active, &json!("TRUE")).unwrap(), Some(json!(true)));
        assert!(normalize_attribute(&active, &json!("yes")).is_err());
        let emails = user_attribute("emails");
        assert_eq!(
            normalize_attribute(&emails, &json!([{"value": "a@x", "primary": "True", "id": "stray"}])).unwrap(),
            Some(json!([{"value": "a@x", "primary": true}]))
        );
    }

    #[test]
    fn wraps_scalars_and_single_values() {
        let manager = enterprise_attribute("manager");
        assert_eq!(normalize_attribute(&manager, &json!("42")).unwrap(), Some(json!({"value": "42"})));
        assert_eq!(
            normalize_attribute(&manager, &json!({"value": "42", "displayName": "Boss"})).unwrap(),
            Some(json!({"value": "42"}))
        );
        let emails = user_attribute("emails");
        assert_eq!(normalize_attribute(&emails, &json!({"value": "a@x"})).unwrap(), Some(json!([{"value": "a@x"}])));
        assert_eq!(normalize_attribute(&emails, &json!([])).unwrap(), None);
        assert!(normalize_attribute(&user_attribute("name"), &json!("Barbara")).is_err());
    }

    #[test]
    fn checks_types() {
        assert!(normalize_attribute(&user_attribute("userName"), &json!({"a": 1})).is_err());
        assert_eq!(normalize_attribute(&user_attribute("userName"), &json!(12)).unwrap(), Some(json!("12")));
        assert!(normalize_attribute(&user_attribute("userName"), &json!(["a"])).is_err());
    }
}
