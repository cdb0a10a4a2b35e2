//! The PATCH engine (RFC 7644 section 3.5.2), accepting the Okta and Microsoft Entra ID dialects.
//!
//! [`apply_patch`] takes the stored resource and the PatchOp body and returns the new resource; it never mutates
//! its input, so an error in any operation leaves nothing applied (the request is atomic).
//!
//! # Semantics
//! - `add` on a multi-valued attribute appends; a value equal to an existing one (same `value` and compatible
//!   `type`, or equal JSON when there is no `value`) is merged into it instead of duplicated. `add` on a complex
//!   attribute merges sub-attributes; on a simple attribute it sets the value.
//! - `replace` on a multi-valued attribute replaces all values; on a single complex attribute it merges the given
//!   sub-attributes (RFC 7644: sub-attributes not given are left unchanged); `replace` with `null` unassigns.
//! - `remove` unassigns the target; with a value filter it removes the matching values (or the sub-attribute of
//!   them); with a `value` array on a multi-valued attribute (Entra ID's member removal) it removes exactly the
//!   values equal to those given.
//! - Setting `primary: true` on a value clears `primary` on the attribute's other values.
//! - Afterwards, the extension schemas present are listed in `schemas`, and empty extension objects are removed.
//!
//! # Cost
//! Each operation costs what it touches, not the size of the resource: a multi-valued attribute is held, while the
//! request's operations run, as a list indexed by each value's `value` and `type` (module `values`), so 10,000
//! `add` operations onto 10,000 emails, or 10,000 removals by `members[value eq "..."]`, take milliseconds. What
//! still visits every value of an attribute (a value filter without `value eq`, a sub-attribute path without a
//! filter) counts against [`MAX_PATCH_VALUE_VISITS`] per request; [`MAX_PATCH_OPERATIONS`] bounds the operations.
//!
//! # Decisions where clients and the RFC disagree
//! - **Filter matches nothing.** `add`/`replace` through a filtered path creates the value when the filter is a
//!   conjunction of `eq` comparisons (`emails[type eq "work"].value` creates `{"type": "work", "value": ...}`,
//!   as Entra ID expects); otherwise `replace` fails with `noTarget` as RFC 7644 requires, and `add` appends
//!   the given value. `remove` through a filter that matches nothing is a no-op (idempotent, as Okta and Entra
//!   ID retry removals), not `noTarget`.
//! - **Remove without a path** is `noTarget` (RFC 7644).
//! - **Unknown attributes** (not in the resource type's schemas, or under a schema URN the resource type does not
//!   have) are ignored, not stored: one unmapped attribute must not sink a deactivation in the same request.
//!   Unknown sub-attributes inside values (Entra's stray `id`) are dropped too.
//! - **Mutability.** Changing a readOnly attribute, or an immutable one that already has a value, is `mutability`;
//!   writing the value it already has is accepted. `id`, `meta` and `schemas` keys inside a path-less value are
//!   ignored (Okta renames groups with `{"id": ..., "displayName": ...}`). Removing a required attribute that
//!   was present is `mutability` (RFC 7644 section 3.5.2.2).
//! - **Dialects.** `op` is case-insensitive; string booleans are accepted for boolean attributes; path-less
//!   values may use dotted keys (`name.givenName`), URN-qualified keys, filtered keys and extension objects;
//!   unknown members of an operation (Entra's `name`) are ignored. The body's `schemas` must be
//!   `[`[`PATCH_OP_SCHEMA`]`]` (RFC 7644 section 3.5.2; Okta and Entra ID send it).

mod apply;
mod values;

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::PatchPath;
use crate::json::{find_key, get_ignore_case};
use crate::normalize::is_unassigned;
use crate::schema::{ResourceType, SchemaRegistry};

use apply::{AttributeTarget, Working, apply_to_attribute};

/// The schema URN of a PATCH request body.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The most operations one PATCH request may carry.
pub const MAX_PATCH_OPERATIONS: usize = 10_000;

/// The most values the operations of one PATCH request may visit one by one: a value filter without `value eq`
/// (`emails[type eq "work"]`) visits every value of its attribute, and so does a sub-attribute path without a
/// filter (`emails.type`); a removal or filter by `value`, an `add` or a `replace` does not. Beyond it the request
/// is `tooMany`, and nothing is applied.
pub const MAX_PATCH_VALUE_VISITS: usize = 1_000_000;

/// The kind of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOperationKind {
    /// `add`
    Add,
    /// `replace`
    Replace,
    /// `remove`
    Remove,
}

/// One operation of a PatchOp body.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// What to do.
    pub kind: PatchOperationKind,
    /// The target path; `None` when absent, null or empty.
    pub path: Option<String>,
    /// The value; `None` when absent (a JSON `null` is `Some(Value::Null)`).
    pub value: Option<Value>,
}

/// Reads a PatchOp body into its operations. Errors are [`ScimError::InvalidSyntax`] (not an object, no
/// `Operations` array, an unknown `op`, a non-string `path`, a missing or wrong `schemas`) or
/// [`ScimError::TooMany`].
pub fn parse_patch_request(request: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    if !request.is_object() {
        return Err(ScimError::InvalidSyntax("a PATCH body must be a JSON object".to_owned()));
    }
    crate::list::check_message_schemas(request, PATCH_OP_SCHEMA, "a PATCH body")?;
    let Some(Value::Array(operations)) = get_ignore_case(request, "Operations") else {
        return Err(ScimError::InvalidSyntax("a PATCH body needs an \"Operations\" array".to_owned()));
    };
    if operations.len() > MAX_PATCH_OPERATIONS {
        return Err(ScimError::TooMany(format!("more than {MAX_PATCH_OPERATIONS} operations")));
    }
    operations.iter().enumerate().map(|(index, operation)| parse_operation(index, operation)).collect()
}

/// Applies a PatchOp body to a resource of `resource_type` and returns the new resource.
///
/// See the module documentation for the semantics. Errors: those of [`parse_patch_request`], and per operation
/// `invalidPath`, `invalidValue`, `mutability` or `noTarget`.
pub fn apply_patch(
    resource: &Value,
    request: &Value,
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Result<Value, ScimError> {
    let operations = parse_patch_request(request)?;
    apply_operations(resource, &operations, registry, resource_type)
}

/// Applies already-parsed operations; see [`apply_patch`].
pub fn apply_operations(
    resource: &Value,
    operations: &[PatchOperation],
    registry: &SchemaRegistry,
    resource_type: &ResourceType,
) -> Result<Value, ScimError> {
    let Some(original) = resource.as_object() else {
        return Err(ScimError::InvalidValue("the resource to patch must be a JSON object".to_owned()));
    };
    let context = Context { registry, resource_type };
    let mut working = Working::new(original.clone(), MAX_PATCH_VALUE_VISITS);
    for (index, operation) in operations.iter().enumerate() {
        apply_operation(&mut working, operation, &context)
            .map_err(|error| error.map_detail(|detail| format!("operation {index}: {detail}")))?;
    }
    let mut patched = working.finish();
    check_required_kept(original, &patched, &context)?;
    sync_schemas(&mut patched, &context);
    Ok(Value::Object(patched))
}

pub(crate) struct Context<'a> {
    pub(crate) registry: &'a SchemaRegistry,
    pub(crate) resource_type: &'a ResourceType,
}

fn parse_operation(index: usize, operation: &Value) -> Result<PatchOperation, ScimError> {
    let syntax = |detail: String| ScimError::InvalidSyntax(format!("operation {index}: {detail}"));
    if !operation.is_object() {
        return Err(syntax("must be a JSON object".to_owned()));
    }
    let kind = match get_ignore_case(operation, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => PatchOperationKind::Add,
        Some(op) if op.eq_ignore_ascii_case("replace") => PatchOperationKind::Replace,
        Some(op) if op.eq_ignore_ascii_case("remove") => PatchOperationKind::Remove,
        Some(op) => return Err(syntax(format!("unknown op {op:?} (expected add, replace or remove)"))),
        None => return Err(syntax("needs an \"op\" string".to_owned())),
    };
    let path = match get_ignore_case(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => Some(path.trim().to_owned()),
        Some(_) => return Err(syntax("\"path\" must be a string".to_owned())),
    };
    let value = get_ignore_case(operation, "value").cloned();
    Ok(PatchOperation { kind, path, value })
}

fn apply_operation<'a>(
    working: &mut Working<'a>,
    operation: &PatchOperation,
    context: &Context<'a>,
) -> Result<(), ScimError> {
    match &operation.path {
        Some(path) => apply_at_path(working, operation.kind, path, operation.value.as_ref(), context),
        None if operation.kind == PatchOperationKind::Remove => {
            Err(ScimError::NoTarget("a remove operation needs a path".to_owned()))
        }
        None => {
            let Some(value) = &operation.value else {
                return Err(ScimError::InvalidSyntax("an add or replace operation needs a value".to_owned()));
            };
            let Value::Object(members) = value else {
                return Err(ScimError::InvalidValue("without a path, the value must be a JSON object".to_owned()));
            };
            apply_members(working, operation.kind, None, members, context)
        }
    }
}

/// Applies each member of a path-less value (or of an extension object, when `urn` is given) as its own path.
fn apply_members<'a>(
    working: &mut Working<'a>,
    kind: PatchOperationKind,
    urn: Option<&str>,
    members: &Map<String, Value>,
    context: &Context<'a>,
) -> Result<(), ScimError> {
    for (key, value) in members {
        let is_stray = ["id", "meta", "schemas"].iter().any(|stray| key.eq_ignore_ascii_case(stray));
        if is_stray && urn.is_none() {
            continue;
        }
        if urn.is_none() && key.eq_ignore_ascii_case(&context.resource_type.schema) {
            if let Value::Object(core_members) = value {
                apply_members(working, kind, None, core_members, context)?;
            }
            continue;
        }
        let path = match urn {
            Some(urn) => format!("{urn}:{key}"),
            None => key.clone(),
        };
        apply_at_path(working, kind, &path, Some(value), context)?;
    }
    Ok(())
}

fn apply_at_path<'a>(
    working: &mut Working<'a>,
    kind: PatchOperationKind,
    path: &str,
    value: Option<&Value>,
    context: &Context<'a>,
) -> Result<(), ScimError> {
    if let Some(extension) = context.registry.extension_of(context.resource_type, path) {
        let urn = extension.id.clone();
        return match (kind, value) {
            (PatchOperationKind::Remove, _) | (PatchOperationKind::Replace, Some(Value::Null)) => {
                working.remove_extension(extension)
            }
            (_, Some(Value::Object(members))) => apply_members(working, kind, Some(&urn), members, context),
            (_, Some(Value::Null)) => Ok(()),
            (_, Some(_)) => Err(ScimError::InvalidValue(format!("the value for {urn} must be a JSON object"))),
            (_, None) => Err(ScimError::InvalidSyntax("an add or replace operation needs a value".to_owned())),
        };
    }
    let patch_path = PatchPath::parse(path)?;
    let Some(resolved) = context.registry.resolve(context.resource_type, &patch_path.attribute) else {
        // Not an attribute of this resource type: ignored (see the module documentation).
        return Ok(());
    };
    if patch_path.value_filter.is_some() && !resolved.attribute.multi_valued {
        return Err(ScimError::InvalidPath(format!(
            "{path}: a value filter needs a multi-valued attribute, and {} is single-valued",
            resolved.attribute.name
        )));
    }
    let target = AttributeTarget {
        extension: if resolved.is_extension { Some(resolved.schema.id.as_str()) } else { None },
        attribute: resolved.attribute,
        sub_attribute: resolved.sub_attribute,
        filter: patch_path.value_filter.as_ref(),
    };
    apply_to_attribute(working, kind, &target, value)
}

/// A required attribute present before the PATCH must still be present after it.
fn check_required_kept(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    context: &Context<'_>,
) -> Result<(), ScimError> {
    for (schema, is_extension) in context.registry.schemas_of(context.resource_type) {
        let Some(before) = schema_container(before, &schema.id, is_extension) else { continue };
        let after = schema_container(after, &schema.id, is_extension);
        for attribute in schema.attributes.iter().filter(|attribute| attribute.required) {
            let had = !is_unassigned(find_key(before, &attribute.name).and_then(|key| before.get(&key)));
            let has = after
                .is_some_and(|after| !is_unassigned(find_key(after, &attribute.name).and_then(|key| after.get(&key))));
            if had && !has {
                return Err(ScimError::Mutability(format!("{} is required and cannot be removed", attribute.name)));
            }
        }
    }
    Ok(())
}

fn schema_container<'m>(
    resource: &'m Map<String, Value>,
    schema_id: &str,
    is_extension: bool,
) -> Option<&'m Map<String, Value>> {
    if is_extension {
        find_key(resource, schema_id).and_then(|key| resource.get(&key)).and_then(Value::as_object)
    } else {
        Some(resource)
    }
}

/// Lists the extensions present in `schemas` and drops empty extension objects and unlisted extension URNs.
fn sync_schemas(resource: &mut Map<String, Value>, context: &Context<'_>) {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for extension in &context.resource_type.schema_extensions {
        match find_key(resource, &extension.schema) {
            Some(key) if !is_unassigned(resource.get(&key)) => present.push(extension.schema.clone()),
            Some(key) => {
                resource.remove(&key);
                absent.push(extension.schema.clone());
            }
            None => absent.push(extension.schema.clone()),
        }
    }
    let schemas_key = find_key(resource, "schemas").unwrap_or_else(|| "schemas".to_owned());
    let mut schemas: Vec<Value> = match resource.get(&schemas_key) {
        Some(Value::Array(schemas)) => schemas.clone(),
        _ => vec![Value::String(context.resource_type.schema.clone())],
    };
    schemas.retain(|urn| !urn.as_str().is_some_and(|urn| absent.iter().any(|gone| gone.eq_ignore_ascii_case(urn))));
    for urn in present {
        if !schemas.iter().any(|listed| listed.as_str().is_some_and(|listed| listed.eq_ignore_ascii_case(&urn))) {
            schemas.push(Value::String(urn));
        }
    }
    resource.insert(schemas_key, Value::Array(schemas));
}

#[cfg(test)]
mod tests;
