//! Schema-driven normalization of incoming attribute values.
//!
//! Client values are brought to one canonical shape before they are stored or compared, and checked against the
//! attribute's type and limits:
//! - keys take the schema's spelling (`username` -> `userName`);
//! - Entra ID's string booleans (`"True"`, `"false"`) become JSON booleans (`reference/scim-clients.md`);
//! - a scalar sent for a single-valued complex attribute with a `value` sub-attribute becomes `{"value": scalar}`
//!   (Entra ID sends `manager` that way);
//! - `null` sub-attribute values (Entra ID's `"$ref": null`), unknown sub-attributes (Entra ID's stray `id`) and
//!   readOnly sub-attributes of writable attributes (`manager.displayName`) are dropped;
//! - an empty array, empty object or `null` means "unassigned" and normalizes to `None`.
//!
//! Everything else of the wrong type is [`ScimError::InvalidValue`], nothing is converted: a number or boolean
//! for a string, a single value or an object for a multi-valued attribute (which takes an array of values), a
//! scalar or `null` as one of its values. Strings must not contain NUL (U+0000, which no database column holds)
//! nor exceed the attribute's `max_length` in characters, and a required string must not be blank.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::ScimError;
use crate::filter::boolean_of;
use crate::schema::{AttributeDefinition, AttributeType, Mutability};

/// Normalizes a whole attribute value (an array for a multi-valued attribute). `None` means unassigned.
pub(crate) fn normalize_attribute(definition: &AttributeDefinition, value: &Value) -> Result<Option<Value>, ScimError> {
    if !definition.multi_valued {
        if value.is_array() {
            return Err(ScimError::InvalidValue(format!(
                "{} is single-valued, but an array was given",
                definition.name
            )));
        }
        return normalize_single(definition, value);
    }
    let items = match value {
        Value::Array(items) => items,
        Value::Null => return Ok(None),
        other => {
            return Err(ScimError::InvalidValue(format!(
                "{} is multi-valued: its value must be an array, not {}",
                definition.name,
                describe(other)
            )));
        }
    };
    let mut normalized = Vec::with_capacity(items.len());
    for item in items {
        let is_value = match definition.attribute_type {
            AttributeType::Complex => item.is_object(),
            _ => !item.is_null() && !item.is_array(),
        };
        if !is_value {
            let expected = if definition.attribute_type == AttributeType::Complex { "an object" } else { "a value" };
            return Err(ScimError::InvalidValue(format!(
                "each value of {} must be {expected}, not {}",
                definition.name,
                describe(item)
            )));
        }
        if let Some(item) = normalize_single(definition, item)? {
            normalized.push(item);
        }
    }
    Ok(if normalized.is_empty() { None } else { Some(Value::Array(normalized)) })
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
                // Entra ID's `manager: "id"`: only for a single value, never as one of many.
                scalar
                    if !definition.multi_valued
                        && definition.sub_attribute("value").is_some()
                        && !scalar.is_array() =>
                {
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
            Value::String(text) => {
                check_text(definition, text)?;
                value.clone()
            }
            _ => return Err(invalid("a string")),
        },
    };
    Ok(Some(normalized))
}

/// A string value's limits: no NUL, at most `max_length` characters, not blank when required.
fn check_text(definition: &AttributeDefinition, text: &str) -> Result<(), ScimError> {
    let name = &definition.name;
    if text.contains('\0') {
        return Err(ScimError::InvalidValue(format!("{name} must not contain the NUL character (U+0000)")));
    }
    // A character takes at least one byte: only a long text needs counting.
    if let Some(max) = definition.max_length
        && text.len() > max
        && text.chars().count() > max
    {
        return Err(ScimError::InvalidValue(format!("{name} is longer than {max} characters")));
    }
    if definition.required && text.trim().is_empty() {
        return Err(ScimError::InvalidValue(format!("{name} is required and must not be blank")));
    }
    Ok(())
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
    fn wraps_a_single_scalar_for_entra_manager_only() {
        let manager = enterprise_attribute("manager");
        assert_eq!(normalize_attribute(&manager, &json!("42")).unwrap(), Some(json!({"value": "42"})));
        assert_eq!(
            normalize_attribute(&manager, &json!({"value": "42", "displayName": "Boss"})).unwrap(),
            Some(json!({"value": "42"}))
        );
        let emails = user_attribute("emails");
        assert_eq!(normalize_attribute(&emails, &json!([])).unwrap(), None);
        assert!(normalize_attribute(&user_attribute("name"), &json!("Barbara")).is_err());
    }

    #[test]
    fn refuses_values_of_the_wrong_type_instead_of_converting_them() {
        let invalid = |result: Result<Option<Value>, ScimError>| matches!(result, Err(ScimError::InvalidValue(_)));
        let user_name = user_attribute("userName");
        for wrong in [json!({"a": 1}), json!(12), json!(true), json!(["a"])] {
            assert!(invalid(normalize_attribute(&user_name, &wrong)), "{wrong}");
        }
        let emails = user_attribute("emails");
        for wrong in
            [json!({"value": "a@x"}), json!("a@x"), json!([1, 2]), json!(["a@x"]), json!([null]), json!([{"value": 7}])]
        {
            assert!(invalid(normalize_attribute(&emails, &wrong)), "{wrong}");
        }
        assert!(invalid(normalize_attribute(&user_attribute("active"), &json!(1))));
    }

    #[test]
    fn strings_have_no_nul_a_maximum_length_and_required_ones_are_not_blank() {
        let invalid = |result: Result<Option<Value>, ScimError>| matches!(result, Err(ScimError::InvalidValue(_)));
        let user_name = user_attribute("userName");
        assert_eq!(user_name.max_length, Some(crate::schema::MAX_KEY_LENGTH));
        assert!(invalid(normalize_attribute(&user_name, &json!("a\u{0}b"))));
        for blank in ["", " ", "\t\n"] {
            assert!(invalid(normalize_attribute(&user_name, &json!(blank))), "{blank:?}");
        }
        // Characters, not bytes: 256 four-byte characters fit, 257 one-byte ones do not.
        assert!(normalize_attribute(&user_name, &json!("😀".repeat(256))).is_ok());
        assert!(invalid(normalize_attribute(&user_name, &json!("a".repeat(257)))));
        let title = user_attribute("title");
        assert!(normalize_attribute(&title, &json!("t".repeat(crate::schema::MAX_TEXT_LENGTH))).is_ok());
        assert!(invalid(normalize_attribute(&title, &json!("t".repeat(crate::schema::MAX_TEXT_LENGTH + 1)))));
        // An optional string may be blank.
        assert_eq!(normalize_attribute(&title, &json!("")).unwrap(), Some(json!("")));
        let emails = user_attribute("emails");
        assert!(invalid(normalize_attribute(&emails, &json!([{"value": "x".repeat(257)}]))));
    }
}
