//! add / replace / remove on one resolved attribute of the resource being patched.
//!
//! Single-valued attributes change in the resource directly. Multi-valued ones are taken out of it the first time
//! an operation touches them and held as [`ValueList`]s until the request's operations are done (`values`), so
//! that each operation costs what it touches; [`Working::finish`] puts them back.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::Filter;
use crate::json::{find_key, insert_canonical, remove_ignore_case};
use crate::normalize::{is_unassigned, normalize_attribute};
use crate::patch::edit::{check_mutability, get_ignore_case_in, merge_into, set_sub_attribute};
use crate::patch::request::PatchOperationKind;
use crate::patch::values::{self, Budget, ValueList};
use crate::schema::{AttributeDefinition, Mutability, Schema};

/// A PATCH target resolved against the schemas (`'a`, as long as the schemas) and its path (`'p`).
pub(crate) struct AttributeTarget<'a, 'p> {
    /// The extension schema URN whose object holds the attribute, or `None` for the resource root.
    pub(crate) extension: Option<&'a str>,
    pub(crate) attribute: &'a AttributeDefinition,
    pub(crate) sub_attribute: Option<&'a AttributeDefinition>,
    pub(crate) filter: Option<&'p Filter>,
}

/// The resource a PATCH works on: its JSON, with the multi-valued attributes the operations touched held aside.
pub(crate) struct Working<'a> {
    resource: Map<String, Value>,
    /// By extension URN (`None` for the resource root) and attribute name.
    lists: BTreeMap<(Option<String>, String), ValueList<'a>>,
    budget: Budget,
}

impl<'a> Working<'a> {
    /// `visit_limit`: how many values the operations may visit one by one (filters without `value eq`,
    /// sub-attribute paths without a filter).
    pub(crate) fn new(resource: Map<String, Value>, visit_limit: usize) -> Working<'a> {
        Working { resource, lists: BTreeMap::new(), budget: Budget::new(visit_limit) }
    }

    /// The resource with every held attribute put back.
    pub(crate) fn finish(self) -> Map<String, Value> {
        let Working { mut resource, lists, .. } = self;
        for ((extension, name), list) in lists {
            let value = list.into_value();
            if let Some(container) = container(&mut resource, extension.as_deref(), PatchOperationKind::Add) {
                put(container, &name, value);
            }
        }
        resource
    }

    /// Removes an extension's object (and what is held of it). Removing a required attribute that was present is
    /// `mutability` (RFC 7644 section 3.5.2.2).
    pub(crate) fn remove_extension(&mut self, extension: &Schema) -> Result<(), ScimError> {
        let held: Vec<(Option<String>, String)> = self
            .lists
            .keys()
            .filter(|(urn, _)| urn.as_deref().is_some_and(|urn| urn.eq_ignore_ascii_case(&extension.id)))
            .cloned()
            .collect();
        let container =
            find_key(&self.resource, &extension.id).and_then(|key| self.resource.get(&key)).and_then(Value::as_object);
        for attribute in extension.attributes.iter().filter(|attribute| attribute.required) {
            let stored =
                container.is_some_and(|container| !is_unassigned(get_ignore_case_in(container, &attribute.name)));
            let in_list = held.iter().any(|key| {
                key.1.eq_ignore_ascii_case(&attribute.name) && self.lists.get(key).is_some_and(|list| list.live() > 0)
            });
            if stored || in_list {
                return Err(ScimError::Mutability(format!("{} is required and cannot be removed", attribute.name)));
            }
        }
        for key in held {
            self.lists.remove(&key);
        }
        remove_ignore_case(&mut self.resource, &extension.id);
        Ok(())
    }
}

/// Applies one operation to one attribute.
pub(crate) fn apply_to_attribute<'a>(
    working: &mut Working<'a>,
    kind: PatchOperationKind,
    target: &AttributeTarget<'a, '_>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let value = match (kind, value) {
        (PatchOperationKind::Remove, value) => value,
        (_, Some(value)) => Some(value),
        (_, None) => return Err(ScimError::InvalidSyntax("an add or replace operation needs a value".to_owned())),
    };
    if target.attribute.multi_valued {
        return apply_to_values(working, kind, target, value);
    }
    let Some(container) = container(&mut working.resource, target.extension, kind) else { return Ok(()) };
    let name = target.attribute.name.as_str();
    let old = get_ignore_case_in(container, name).cloned();
    let new = match target.sub_attribute {
        None => single_valued(kind, target.attribute, old.as_ref(), value)?,
        Some(sub) => single_sub_attribute(kind, target.attribute, sub, old.as_ref(), value)?,
    };
    check_mutability(target.attribute, old.as_ref(), new.as_ref())?;
    put(container, name, new);
    Ok(())
}

fn apply_to_values<'a>(
    working: &mut Working<'a>,
    kind: PatchOperationKind,
    target: &AttributeTarget<'a, '_>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attribute = target.attribute;
    let Working { resource, lists, budget } = working;
    if matches!(attribute.mutability, Mutability::ReadWrite | Mutability::WriteOnly) {
        let key = (target.extension.map(str::to_owned), attribute.name.clone());
        if !lists.contains_key(&key) {
            let Some(container) = container(resource, target.extension, kind) else { return Ok(()) };
            let old = take(container, &attribute.name);
            lists.insert(key.clone(), ValueList::new(attribute, old));
        }
        let Some(list) = lists.get_mut(&key) else { return Ok(()) };
        return change_values(list, kind, target, value, budget);
    }
    // readOnly and immutable attributes: the change is checked against the value it replaces.
    let Some(container) = container(resource, target.extension, kind) else { return Ok(()) };
    let old = get_ignore_case_in(container, &attribute.name).cloned();
    let mut list = ValueList::new(attribute, old.clone());
    budget.spend(list.live())?;
    change_values(&mut list, kind, target, value, budget)?;
    let new = list.into_value();
    check_mutability(attribute, old.as_ref(), new.as_ref())?;
    put(container, &attribute.name, new);
    Ok(())
}

fn change_values(
    list: &mut ValueList<'_>,
    kind: PatchOperationKind,
    target: &AttributeTarget<'_, '_>,
    value: Option<&Value>,
    budget: &mut Budget,
) -> Result<(), ScimError> {
    match (target.filter, target.sub_attribute) {
        (None, None) => values::whole_attribute(list, kind, value),
        (None, Some(sub)) => values::every_value_sub_attribute(list, kind, sub, value, budget),
        (Some(filter), sub) => values::filtered(list, kind, filter, sub, value, budget),
    }
}

/// The object holding the attribute: the resource, or its extension's object (made when absent, unless the
/// operation is a removal: then `None`).
fn container<'m>(
    resource: &'m mut Map<String, Value>,
    extension: Option<&str>,
    kind: PatchOperationKind,
) -> Option<&'m mut Map<String, Value>> {
    let Some(urn) = extension else { return Some(resource) };
    let key = match find_key(resource, urn) {
        Some(key) => key,
        None if kind == PatchOperationKind::Remove => return None,
        None => {
            resource.insert(urn.to_owned(), Value::Object(Map::new()));
            urn.to_owned()
        }
    };
    let extension = resource.get_mut(&key)?;
    if !extension.is_object() {
        *extension = Value::Object(Map::new());
    }
    extension.as_object_mut()
}

/// Takes an attribute's value out of its container (every key spelling of it goes).
fn take(container: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let value = find_key(container, name).and_then(|key| container.remove(&key));
    remove_ignore_case(container, name);
    value
}

/// Sets an attribute under its canonical name, or unassigns it.
fn put(container: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(value) => insert_canonical(container, name, value),
        None => {
            remove_ignore_case(container, name);
        }
    }
}

/// A single-valued attribute: `add` and `replace` set it (merging sub-attributes into a complex value), `remove`
/// unassigns it.
fn single_valued(
    kind: PatchOperationKind,
    attribute: &AttributeDefinition,
    old: Option<&Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, ScimError> {
    if kind == PatchOperationKind::Remove {
        return Ok(None);
    }
    let Some(value) = value else { return Ok(old.cloned()) };
    let Some(new) = normalize_attribute(attribute, value)? else {
        return Ok(if kind == PatchOperationKind::Add { old.cloned() } else { None });
    };
    if new.is_object() {
        let mut merged = old.filter(|old| old.is_object()).cloned().unwrap_or_else(|| Value::Object(Map::new()));
        merge_into(&mut merged, new);
        Ok(Some(merged))
    } else {
        Ok(Some(new))
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
