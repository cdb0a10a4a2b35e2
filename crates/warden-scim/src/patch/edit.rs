//! The small edits the attribute level (`apply`) and the value level (`values`) both make: one sub-attribute of a
//! complex value, mutability checks, merging, and a value seeded from a filter.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{CompareOperator, CompareValue, Filter};
use crate::json::{find_key, insert_canonical, remove_ignore_case};
use crate::normalize::{is_unassigned, normalize_attribute};
use crate::patch::request::PatchOperationKind;
use crate::schema::{AttributeDefinition, Mutability};

pub(crate) fn get_ignore_case_in<'m>(object: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    find_key(object, key).and_then(|key| object.get(&key))
}

/// Sets, replaces or removes one sub-attribute of one complex value, enforcing the sub-attribute's mutability.
pub(crate) fn set_sub_attribute(
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

pub(crate) fn no_match(attribute: &AttributeDefinition, filter: &Filter) -> ScimError {
    ScimError::NoTarget(format!("no value of {} matches [{filter}]", attribute.name))
}

pub(crate) fn check_mutability(
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
    // Compared only where it matters: comparing a large readWrite value on every operation would cost as much as
    // the value.
    let unchanged = || (is_unassigned(old) && is_unassigned(new)) || old == new;
    match mutability {
        Mutability::ReadOnly if !unchanged() => Err(ScimError::Mutability(format!("{name} is readOnly"))),
        Mutability::Immutable if !is_unassigned(old) && !unchanged() => {
            Err(ScimError::Mutability(format!("{name} is immutable and already has a value")))
        }
        _ => Ok(()),
    }
}

/// The new value built from `eq` comparisons when a filtered add or replace matches nothing: `type eq "work"`
/// seeds `{"type": "work"}`. `None` when the filter is not a conjunction of `eq` on known sub-attributes.
pub(crate) fn seed_from_filter(filter: &Filter, attribute: &AttributeDefinition) -> Option<Map<String, Value>> {
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

/// Overlays the members of `new` on `target` when both are objects; otherwise replaces `target`.
pub(crate) fn merge_into(target: &mut Value, new: Value) {
    match (target.as_object_mut(), new) {
        (Some(object), Value::Object(new_members)) => {
            for (key, value) in new_members {
                insert_canonical(object, &key, value);
            }
        }
        (_, new) => *target = new,
    }
}
