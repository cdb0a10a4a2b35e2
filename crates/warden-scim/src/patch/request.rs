//! A PATCH request's body: its operations, parsed and bounded.

use serde_json::Value;

use crate::error::ScimError;
use crate::json::get_ignore_case;

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
