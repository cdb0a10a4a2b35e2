//! Evaluates a filter against a JSON resource, typed by the schema registry.

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::filter::{CompareOperator, CompareValue, Filter};
use crate::json::get_ignore_case;
use crate::path::AttributePath;
use crate::schema::{AttributeDefinition, AttributeType, ResourceType, SchemaRegistry};

/// Whether `resource` matches `filter`.
///
/// The resource type is found from the resource's `schemas` array; attributes are typed by their schema
/// definition (or, for attributes the registry does not know, by their JSON type):
/// - strings compare case-insensitively unless the attribute is `caseExact` (binary always is);
///   `gt`/`ge`/`lt`/`le` compare them lexicographically;
/// - `dateTime` values compare as instants when both sides parse as RFC 3339, else as strings;
/// - numbers compare numerically, booleans only with `eq`/`ne` (string booleans such as `"True"` are accepted);
/// - a multi-valued attribute matches when any value matches; a filter on a complex attribute without a
///   sub-attribute (`emails co "@x"`, `manager eq "42"`) applies to its `value` sub-attribute;
/// - `pr` needs a non-empty value (not null, `""`, `[]` or `{}`);
/// - `ne` is exactly `not eq`: a missing attribute is "not equal", and `x eq null` matches a missing `x`.
pub fn matches(filter: &Filter, resource: &Value, registry: &SchemaRegistry) -> bool {
    let scope = Scope::Resource { resource, registry, resource_type: registry.resource_type_of(resource) };
    evaluate(filter, &scope)
}

/// Whether one value of a complex attribute matches a value filter (the part inside `attr[...]`).
pub(crate) fn matches_element(filter: &Filter, element: &Value, definition: Option<&AttributeDefinition>) -> bool {
    evaluate(filter, &Scope::Element { element, definition })
}

enum Scope<'a> {
    Resource {
        resource: &'a Value,
        registry: &'a SchemaRegistry,
        resource_type: Option<&'a ResourceType>,
    },
    /// One value of a complex attribute, inside `attr[...]`.
    Element {
        element: &'a Value,
        definition: Option<&'a AttributeDefinition>,
    },
}

/// Where a path landed: the top-level attribute's value and the definitions along the way.
struct Located<'a> {
    value: Option<&'a Value>,
    attribute: Option<&'a AttributeDefinition>,
    sub_attribute: Option<&'a AttributeDefinition>,
}

fn evaluate(filter: &Filter, scope: &Scope<'_>) -> bool {
    match filter {
        Filter::And(left, right) => evaluate(left, scope) && evaluate(right, scope),
        Filter::Or(left, right) => evaluate(left, scope) || evaluate(right, scope),
        Filter::Not(inner) => !evaluate(inner, scope),
        Filter::Present(path) => {
            let located = locate(scope, path);
            if path.sub_attribute.is_some() {
                leaves(&located, path).iter().any(|(value, _)| is_non_empty(value))
            } else {
                located.value.is_some_and(is_non_empty)
            }
        }
        Filter::Compare { path, operator: CompareOperator::NotEqual, value } => {
            !compare_path(scope, path, CompareOperator::Equal, value)
        }
        Filter::Compare { path, operator, value } => compare_path(scope, path, *operator, value),
        Filter::ValuePath { path, filter } => {
            let located = locate(scope, path);
            let definition = located.attribute;
            items(located.value)
                .into_iter()
                .any(|element| element.is_object() && evaluate(filter, &Scope::Element { element, definition }))
        }
    }
}

fn compare_path(scope: &Scope<'_>, path: &AttributePath, operator: CompareOperator, expected: &CompareValue) -> bool {
    let located = locate(scope, path);
    let leaves = leaves(&located, path);
    if *expected == CompareValue::Null {
        return operator == CompareOperator::Equal && leaves.iter().all(|(value, _)| value.is_null());
    }
    leaves.iter().any(|(value, definition)| compare_value(value, operator, expected, *definition))
}

fn locate<'a>(scope: &Scope<'a>, path: &AttributePath) -> Located<'a> {
    match scope {
        Scope::Element { element, definition } => Located {
            value: get_ignore_case(element, &path.name),
            attribute: definition.and_then(|definition| definition.sub_attribute(&path.name)),
            sub_attribute: None,
        },
        Scope::Resource { resource, registry, resource_type } => {
            let resolved = resource_type.and_then(|resource_type| registry.resolve(resource_type, path));
            match resolved {
                Some(resolved) => {
                    let container = if resolved.is_extension {
                        get_ignore_case(resource, &resolved.schema.id)
                    } else {
                        Some(*resource)
                    };
                    Located {
                        value: container.and_then(|container| get_ignore_case(container, &resolved.attribute.name)),
                        attribute: Some(resolved.attribute),
                        sub_attribute: resolved.sub_attribute,
                    }
                }
                None => {
                    let container = match &path.urn {
                        Some(urn) if get_ignore_case(resource, urn).is_some_and(Value::is_object) => {
                            get_ignore_case(resource, urn)
                        }
                        _ => Some(*resource),
                    };
                    Located {
                        value: container.and_then(|container| get_ignore_case(container, &path.name)),
                        attribute: None,
                        sub_attribute: None,
                    }
                }
            }
        }
    }
}

/// The scalar values a comparison looks at, each with its definition.
fn leaves<'a>(located: &Located<'a>, path: &AttributePath) -> Vec<(&'a Value, Option<&'a AttributeDefinition>)> {
    let mut leaves = Vec::new();
    if let Some(sub) = &path.sub_attribute {
        for item in items(located.value) {
            for value in items(get_ignore_case(item, sub)) {
                leaves.push((value, located.sub_attribute));
            }
        }
        return leaves;
    }
    let value_definition = located.attribute.and_then(|definition| definition.sub_attribute("value"));
    for item in items(located.value) {
        if item.is_object() {
            if let Some(value) = get_ignore_case(item, "value") {
                leaves.push((value, value_definition));
            }
        } else {
            leaves.push((item, located.attribute));
        }
    }
    leaves
}

/// The elements of an array, or the value itself.
fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(elements)) => elements.iter().collect(),
        Some(other) => vec![other],
    }
}

fn is_non_empty(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(elements) => elements.iter().any(is_non_empty),
        Value::Object(fields) => fields.values().any(is_non_empty),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_value(
    actual: &Value,
    operator: CompareOperator,
    expected: &CompareValue,
    definition: Option<&AttributeDefinition>,
) -> bool {
    let attribute_type = match (definition, actual) {
        (Some(definition), _) => definition.attribute_type,
        (None, Value::Bool(_)) => AttributeType::Boolean,
        (None, Value::Number(_)) => AttributeType::Decimal,
        (None, _) => AttributeType::String,
    };
    match attribute_type {
        AttributeType::Boolean => {
            let (Some(actual), Some(expected)) = (boolean_of(actual), expected_boolean(expected)) else {
                return false;
            };
            operator == CompareOperator::Equal && actual == expected
        }
        AttributeType::Integer | AttributeType::Decimal => {
            let (Some(actual), Some(expected)) = (number_of(actual), expected_number(expected)) else {
                return false;
            };
            compare_numbers(&actual, &expected).is_some_and(|ordering| ordering_matches(operator, ordering))
        }
        AttributeType::DateTime => {
            let (Some(actual), Some(expected)) = (actual.as_str(), expected_string(expected)) else {
                return false;
            };
            match (OffsetDateTime::parse(actual, &Rfc3339), OffsetDateTime::parse(&expected, &Rfc3339)) {
                (Ok(actual_instant), Ok(expected_instant))
                    if is_ordering(operator) || operator == CompareOperator::Equal =>
                {
                    ordering_matches(operator, actual_instant.cmp(&expected_instant))
                }
                _ => compare_strings(actual, operator, &expected, false),
            }
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary | AttributeType::Complex => {
            let (Some(actual), Some(expected)) = (actual.as_str(), expected_string(expected)) else {
                return false;
            };
            let case_exact =
                attribute_type == AttributeType::Binary || definition.is_some_and(|definition| definition.case_exact);
            compare_strings(actual, operator, &expected, case_exact)
        }
    }
}

fn compare_strings(actual: &str, operator: CompareOperator, expected: &str, case_exact: bool) -> bool {
    let (actual, expected) = if case_exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (actual.to_lowercase(), expected.to_lowercase())
    };
    match operator {
        CompareOperator::Equal => actual == expected,
        CompareOperator::NotEqual => actual != expected,
        CompareOperator::Contains => actual.contains(&expected),
        CompareOperator::StartsWith => actual.starts_with(&expected),
        CompareOperator::EndsWith => actual.ends_with(&expected),
        _ => ordering_matches(operator, actual.cmp(&expected)),
    }
}

fn is_ordering(operator: CompareOperator) -> bool {
    matches!(
        operator,
        CompareOperator::GreaterThan
            | CompareOperator::GreaterOrEqual
            | CompareOperator::LessThan
            | CompareOperator::LessOrEqual
    )
}

fn ordering_matches(operator: CompareOperator, ordering: Ordering) -> bool {
    match operator {
        CompareOperator::Equal => ordering == Ordering::Equal,
        CompareOperator::NotEqual => ordering != Ordering::Equal,
        CompareOperator::GreaterThan => ordering == Ordering::Greater,
        CompareOperator::GreaterOrEqual => ordering != Ordering::Less,
        CompareOperator::LessThan => ordering == Ordering::Less,
        CompareOperator::LessOrEqual => ordering != Ordering::Greater,
        CompareOperator::Contains | CompareOperator::StartsWith | CompareOperator::EndsWith => false,
    }
}

/// A boolean, accepting the string booleans Entra ID sends.
pub(crate) fn boolean_of(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn expected_boolean(expected: &CompareValue) -> Option<bool> {
    match expected {
        CompareValue::Boolean(flag) => Some(*flag),
        CompareValue::String(text) => boolean_of(&Value::String(text.clone())),
        _ => None,
    }
}

fn expected_string(expected: &CompareValue) -> Option<String> {
    match expected {
        CompareValue::String(text) => Some(text.clone()),
        CompareValue::Number(number) => Some(number.to_string()),
        CompareValue::Boolean(flag) => Some(flag.to_string()),
        CompareValue::Null => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Numeric {
    Integer(i128),
    Real(f64),
}

fn numeric_of_number(number: &serde_json::Number) -> Option<Numeric> {
    if let Some(integer) = number.as_i64() {
        Some(Numeric::Integer(i128::from(integer)))
    } else if let Some(integer) = number.as_u64() {
        Some(Numeric::Integer(i128::from(integer)))
    } else {
        number.as_f64().map(Numeric::Real)
    }
}

fn number_of(value: &Value) -> Option<Numeric> {
    match value {
        Value::Number(number) => numeric_of_number(number),
        Value::String(text) => {
            serde_json::from_str::<serde_json::Number>(text.trim()).ok().and_then(|n| numeric_of_number(&n))
        }
        _ => None,
    }
}

fn expected_number(expected: &CompareValue) -> Option<Numeric> {
    match expected {
        CompareValue::Number(number) => numeric_of_number(number),
        CompareValue::String(text) => number_of(&Value::String(text.clone())),
        _ => None,
    }
}

#[allow(clippy::cast_precision_loss)]
fn compare_numbers(left: &Numeric, right: &Numeric) -> Option<Ordering> {
    match (left, right) {
        (Numeric::Integer(left), Numeric::Integer(right)) => Some(left.cmp(right)),
        (Numeric::Integer(left), Numeric::Real(right)) => (*left as f64).partial_cmp(right),
        (Numeric::Real(left), Numeric::Integer(right)) => left.partial_cmp(&(*right as f64)),
        (Numeric::Real(left), Numeric::Real(right)) => left.partial_cmp(right),
    }
}
