//! add / replace / remove on one resolved attribute.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{CompareOperator, CompareValue, Filter, matches_element};
use crate::json::{find_key, get_ignore_case, insert_canonical, remove_ignore_case};
use crate::normalize::{is_unassigned, normalize_attribute, normalize_single};
use crate::patch::PatchOperationKind;
use crate::schema::{AttributeDefinition, Mutability};

/// A PATCH target resolved against the schemas.
pub(crate) struct AttributeTarget<'a> {
    /// The extension schema URN whose object holds the attribute, or `None` for the resource root.
    pub(crate) extension: Option<&'a str>,
    pub(crate) attribute: &'a AttributeDefinition,
    pub(crate) sub_attribute: Option<&'a AttributeDefinition>,
    pub(crate) filter: Option<&'a Filter>,
}

/// Applies one operation to one attribute of `resource`.
pub(crate) fn apply_to_attribute(
    resource: &mut Map<String, Value>,
    kind: PatchOperationKind,
    target: &AttributeTarget<'_>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let value = match (kind, value) {
        (PatchOperationKind::Remove, value) => value,
        (_, Some(value)) => Some(value),
        (_, None) => return Err(ScimError::InvalidSyntax("an add or replace operation needs a value".to_owned())),
    };
    let name = target.attribute.name.as_str();
    let container = match target.extension {
        None => resource,
        Some(urn) => {
            let key = match find_key(resource, urn) {
                Some(key) => key,
                None if kind == PatchOperationKind::Remove => return Ok(()),
                None => {
                    resource.insert(urn.to_owned(), Value::Object(Map::new()));
                    urn.to_owned()
                }
            };
            let Some(extension) = resource.get_mut(&key) else { return Ok(()) };
            if !extension.is_object() {
                *extension = Value::Object(Map::new());
            }
            match extension.as_object_mut() {
                Some(object) => object,
                None => return Ok(()),
            }
        }
    };
    let old = get_ignore_case_in(container, name).cloned();
    let new = compute(kind, target, old.as_ref(), value)?;
    check_mutability(target.attribute, old.as_ref(), new.as_ref())?;
    match new {
        Some(new) => insert_canonical(container, name, new),
        None => {
            remove_ignore_case(container, name);
        }
    }
    Ok(())
}

fn get_ignore_case_in<'m>(object: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    find_key(object, key).and_then(|key| object.get(&key))
}

fn compute(
    kind: PatchOperationKind,
    target: &AttributeTarget<'_>,
    old: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let attribute = target.attribute;
    match (target.filter, target.sub_attribute) {
        (None, None) => whole_attribute(kind, attribute, old, value),
        (None, Some(sub)) if attribute.multi_valued => every_value_sub_attribute(kind, attribute, sub, old, value),
        (None, Some(sub)) => single_sub_attribute(kind, attribute, sub, old, value),
        (Some(filter), sub) => filtered(kind, attribute, filter, sub, old, value),
    }
}

fn whole_attribute(
    kind: PatchOperationKind,
    attribute: &AttributeDefinition,
    old: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    match kind {
        PatchOperationKind::Remove => {
            let to_remove = match value {
                Some(value) if attribute.multi_valued && !value.is_null() => normalize_attribute(attribute, value)?,
                _ => return Ok(None),
            };
            let Some(Value::Array(to_remove)) = to_remove else { return Ok(old.cloned()) };
            let mut items = items_of(old);
            items.retain(|item| !to_remove.iter().any(|removed| same_value(attribute, item, removed)));
            Ok(array_or_unassigned(items))
        }
        PatchOperationKind::Add | PatchOperationKind::Replace => {
            let Some(value) = value else { return Ok(old.cloned()) };
            let new = normalize_attribute(attribute, value)?;
            let Some(new) = new else {
                return Ok(if kind == PatchOperationKind::Add { old.cloned() } else { None });
            };
            if attribute.multi_valued {
                let new_items = match new {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                if kind == PatchOperationKind::Replace {
                    let mut items = new_items;
                    let touched: Vec<usize> = (0..items.len()).collect();
                    enforce_single_primary(&mut items, &touched);
                    return Ok(array_or_unassigned(items));
                }
                let mut items = items_of(old);
                let mut touched = Vec::new();
                for new_item in new_items {
                    match items.iter().position(|item| same_value(attribute, item, &new_item)) {
                        Some(position) => {
                            merge_into(&mut items[position], new_item);
                            touched.push(position);
                        }
                        None => {
                            items.push(new_item);
                            touched.push(items.len() - 1);
                        }
                    }
                }
                enforce_single_primary(&mut items, &touched);
                Ok(array_or_unassigned(items))
            } else if new.is_object() {
                let mut merged =
                    old.filter(|old| old.is_object()).cloned().unwrap_or_else(|| Value::Object(Map::new()));
                merge_into(&mut merged, new);
                Ok(Some(merged))
            } else {
                Ok(Some(new))
            }
        }
    }
}

/// `name.givenName`, `manager.value`: a sub-attribute of a single-valued complex attribute.
fn single_sub_attribute(
    kind: PatchOperationKind,
    attribute: &AttributeDefinition,
    sub: &AttributeDefinition,
    old: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let mut object = match old {
        Some(Value::Object(object)) => object.clone(),
        _ => Map::new(),
    };
    set_sub_attribute(kind, attribute, sub, &mut object, value)?;
    Ok(if object.is_empty() { None } else { Some(Value::Object(object)) })
}

/// `emails.type` without a filter: the sub-attribute of every value.
fn every_value_sub_attribute(
    kind: PatchOperationKind,
    attribute: &AttributeDefinition,
    sub: &AttributeDefinition,
    old: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let mut items = items_of(old);
    if items.is_empty() {
        return match kind {
            PatchOperationKind::Remove => Ok(None),
            _ => Err(ScimError::NoTarget(format!("{} has no values to set {} on", attribute.name, sub.name))),
        };
    }
    for item in &mut items {
        if let Value::Object(object) = item {
            set_sub_attribute(kind, attribute, sub, object, value)?;
        }
    }
    items.retain(|item| !is_unassigned(Some(item)));
    let touched: Vec<usize> = (0..items.len()).collect();
    enforce_single_primary(&mut items, &touched);
    Ok(array_or_unassigned(items))
}

/// `members[value eq "x"]`, `emails[type eq "work"].value`.
fn filtered(
    kind: PatchOperationKind,
    attribute: &AttributeDefinition,
    filter: &Filter,
    sub: Option<&AttributeDefinition>,
    old: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    let mut items = items_of(old);
    let matched: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.is_object() && matches_element(filter, item, Some(attribute)))
        .map(|(index, _)| index)
        .collect();
    if kind == PatchOperationKind::Remove {
        match sub {
            Some(sub) => {
                for &index in &matched {
                    if let Value::Object(object) = &mut items[index] {
                        set_sub_attribute(kind, attribute, sub, object, value)?;
                    }
                }
                items.retain(|item| !is_unassigned(Some(item)));
            }
            None => {
                let mut index = 0;
                items.retain(|_| {
                    let keep = !matched.contains(&index);
                    index += 1;
                    keep
                });
            }
        }
        return Ok(array_or_unassigned(items));
    }
    let mut touched = Vec::new();
    match sub {
        Some(sub) => {
            if matched.is_empty() {
                let Some(seed) = seed_from_filter(filter, attribute) else {
                    return Err(no_match(attribute, filter));
                };
                let mut object = seed;
                set_sub_attribute(kind, attribute, sub, &mut object, value)?;
                if let Some(element) = normalize_single(attribute, &Value::Object(object))? {
                    items.push(element);
                    touched.push(items.len() - 1);
                }
            } else {
                for &index in &matched {
                    if let Value::Object(object) = &mut items[index] {
                        set_sub_attribute(kind, attribute, sub, object, value)?;
                    }
                    touched.push(index);
                }
                items.retain(|item| !is_unassigned(Some(item)));
            }
        }
        None => {
            let value = value.unwrap_or(&Value::Null);
            let Some(new_element) = normalize_single(attribute, value)? else {
                return Err(ScimError::InvalidValue(format!(
                    "the value for a filtered {} path must be a non-empty object",
                    attribute.name
                )));
            };
            let seed = seed_from_filter(filter, attribute);
            let with_seed = |element: Value| -> Result<Value, ScimError> {
                let Some(seed) = &seed else { return Ok(element) };
                let mut seeded = Value::Object(seed.clone());
                merge_into(&mut seeded, element);
                Ok(normalize_single(attribute, &seeded)?.unwrap_or(Value::Null))
            };
            if matched.is_empty() {
                if seed.is_none() && kind == PatchOperationKind::Replace {
                    return Err(no_match(attribute, filter));
                }
                items.push(with_seed(new_element)?);
                touched.push(items.len() - 1);
            } else {
                for &index in &matched {
                    if kind == PatchOperationKind::Replace {
                        items[index] = with_seed(new_element.clone())?;
                    } else {
                        merge_into(&mut items[index], new_element.clone());
                    }
                    touched.push(index);
                }
            }
        }
    }
    enforce_single_primary(&mut items, &touched);
    Ok(array_or_unassigned(items))
}

/// Sets, replaces or removes one sub-attribute of one complex value, enforcing the sub-attribute's mutability.
fn set_sub_attribute(
    kind: PatchOperationKind,
    attribute: &AttributeDefinition,
    sub: &AttributeDefinition,
    object: &mut Map<String, Value>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let old = get_ignore_case_in(object, &sub.name).cloned();
    let new = match (kind, value) {
        (PatchOperationKind::Remove, _) | (_, None) => None,
        (_, Some(value)) => normalize_attribute(sub, value)?,
    };
    let new = match (kind, new, &old) {
        (PatchOperationKind::Add, None, _) => old.clone(),
        (PatchOperationKind::Add, Some(Value::Array(new_items)), Some(Value::Array(old_items))) if sub.multi_valued => {
            let mut items = old_items.clone();
            items.extend(new_items);
            Some(Value::Array(items))
        }
        (_, new, _) => new,
    };
    let qualified = format!("{}.{}", attribute.name, sub.name);
    check_mutability_named(&qualified, sub.mutability, old.as_ref(), new.as_ref())?;
    match new {
        Some(new) => insert_canonical(object, &sub.name, new),
        None => {
            remove_ignore_case(object, &sub.name);
        }
    }
    Ok(())
}

fn no_match(attribute: &AttributeDefinition, filter: &Filter) -> ScimError {
    ScimError::NoTarget(format!("no value of {} matches [{filter}]", attribute.name))
}

fn check_mutability(
    attribute: &AttributeDefinition,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), ScimError> {
    check_mutability_named(&attribute.name, attribute.mutability, old, new)
}

fn check_mutability_named(
    name: &str,
    mutability: Mutability,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), ScimError> {
    let unchanged = (is_unassigned(old) && is_unassigned(new)) || old == new;
    match mutability {
        Mutability::ReadOnly if !unchanged => Err(ScimError::Mutability(format!("{name} is readOnly"))),
        Mutability::Immutable if !unchanged && !is_unassigned(old) => {
            Err(ScimError::Mutability(format!("{name} is immutable and already has a value")))
        }
        _ => Ok(()),
    }
}

/// The new value built from `eq` comparisons when a filtered add or replace matches nothing: `type eq "work"`
/// seeds `{"type": "work"}`. `None` when the filter is not a conjunction of `eq` on known sub-attributes.
fn seed_from_filter(filter: &Filter, attribute: &AttributeDefinition) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare { path, operator: CompareOperator::Equal, value } if *value != CompareValue::Null => {
            if path.urn.is_some() || path.sub_attribute.is_some() {
                return None;
            }
            let sub = attribute.sub_attribute(&path.name)?;
            let mut seed = Map::new();
            seed.insert(sub.name.clone(), value.to_json());
            Some(seed)
        }
        Filter::And(left, right) => {
            let mut seed = seed_from_filter(left, attribute)?;
            for (key, value) in seed_from_filter(right, attribute)? {
                if seed.get(&key).is_some_and(|existing| *existing != value) {
                    return None;
                }
                seed.insert(key, value);
            }
            Some(seed)
        }
        _ => None,
    }
}

fn items_of(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

fn array_or_unassigned(items: Vec<Value>) -> Option<Value> {
    if items.is_empty() { None } else { Some(Value::Array(items)) }
}

/// Overlays the members of `new` on `target` when both are objects; otherwise replaces `target`.
fn merge_into(target: &mut Value, new: Value) {
    match (target.as_object_mut(), new) {
        (Some(object), Value::Object(new_members)) => {
            for (key, value) in new_members {
                insert_canonical(object, &key, value);
            }
        }
        (_, new) => *target = new,
    }
}

/// Whether two values of a multi-valued attribute are the same value: equal `value` (case-insensitively unless
/// caseExact) with compatible `type`, or equal JSON for values without a `value` sub-attribute.
fn same_value(attribute: &AttributeDefinition, left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Object(_), Value::Object(_)) => {
            match (get_ignore_case(left, "value"), get_ignore_case(right, "value")) {
                (Some(left_value), Some(right_value)) => {
                    let value_definition = attribute.sub_attribute("value");
                    let case_exact = value_definition.is_some_and(|definition| definition.case_exact);
                    let types_compatible = match (get_ignore_case(left, "type"), get_ignore_case(right, "type")) {
                        (Some(left_type), Some(right_type)) => scalars_equal(left_type, right_type, false),
                        _ => true,
                    };
                    scalars_equal(left_value, right_value, case_exact) && types_compatible
                }
                _ => left == right,
            }
        }
        _ => scalars_equal(left, right, attribute.case_exact),
    }
}

fn scalars_equal(left: &Value, right: &Value, case_exact: bool) -> bool {
    match (left, right) {
        (Value::String(left), Value::String(right)) if !case_exact => left.to_lowercase() == right.to_lowercase(),
        _ => left == right,
    }
}

/// Keeps `primary: true` on at most one value: the last touched value that has it wins.
fn enforce_single_primary(items: &mut [Value], touched: &[usize]) {
    let is_primary = |item: &Value| get_ignore_case(item, "primary") == Some(&Value::Bool(true));
    let winner = touched
        .iter()
        .rev()
        .copied()
        .find(|&index| items.get(index).is_some_and(is_primary))
        .or_else(|| (0..items.len()).rev().find(|&index| is_primary(&items[index])));
    let Some(winner) = winner else { return };
    for (index, item) in items.iter_mut().enumerate() {
        if index != winner
            && is_primary(item)
            && let Some(object) = item.as_object_mut()
        {
            insert_canonical(object, "primary", Value::Bool(false));
        }
    }
}
