//! Applying parsed operations to a resource: each operation at its path, then the checks a whole resource must
//! pass (required attributes kept, `schemas` in step with the extensions present).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::PatchPath;
use crate::json::find_key;
use crate::normalize::is_unassigned;
use crate::patch::apply::{AttributeTarget, Working, apply_to_attribute};
use crate::patch::request::{MAX_PATCH_VALUE_VISITS, PatchOperation, PatchOperationKind, parse_patch_request};
use crate::schema::{ResourceType, SchemaRegistry};

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
