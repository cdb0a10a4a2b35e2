//! `POST /Bulk` (RFC 7644 section 3.7): many writes in one request, each answered on its own (not atomic).
//!
//! - At most `[scim] bulk_max_operations` operations (413 beyond); the body is bounded by `max_body_bytes`, which
//!   is advertised as `maxPayloadSize`.
//! - `bulkId:X` in an operation's path or anywhere in its data (a group member's `value`) names the resource the
//!   `POST` with `bulkId` X created. Operations run in request order; one whose references are not created yet is
//!   deferred and retried after the others, so forward references resolve; references that never resolve
//!   (unknown or circular) fail that operation with 409.
//! - `failOnErrors: N` stops after N failed operations; the operations not run are left out of the response.
//! - `version` on an operation is its `If-Match`.
//! - The request names its schema (`BulkRequest`), and each `bulkId` once: a repeated one makes its references
//!   ambiguous, so the request is refused (400 `invalidValue`) before any operation runs.
//! - No operation starts after the request's deadline: each one not run is answered 503 in the response (nothing
//!   of it was applied), which reports every operation that was.
//! - Request log: every operation that writes commits its own row (the operation's method and path, e.g. `PATCH
//!   /scim/v2/{orgId}/Users/{id}`) with its data change; the `/Bulk` request is logged after the response.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use warden_scim::ScimError;
use warden_scim::list::check_message_schemas;

use crate::app::scim_records::{Change, endpoint, etag};
use crate::scim::auth::Caller;
use crate::scim::body::ScimBody;
use crate::scim::error::Error;
use crate::scim::state::{ScimState, now};
use crate::scim::wire::scim_response;
use crate::store::ScimKind;

const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn parse(text: &str) -> Option<Method> {
        [("POST", Method::Post), ("PUT", Method::Put), ("PATCH", Method::Patch), ("DELETE", Method::Delete)]
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, method)| method)
    }

    fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    path: String,
    bulk_id: Option<String>,
    version: Option<String>,
    data: Value,
}

/// What an operation's references resolve to, or the first bulkId not created yet.
enum Resolution {
    Ready { path: String, data: Value },
    Waiting(String),
}

pub(crate) async fn bulk(
    State(state): State<ScimState>,
    Extension(caller): Extension<Caller>,
    ScimBody(body): ScimBody,
) -> Result<Response, Error> {
    let (operations, fail_on_errors) = parse(&body, state.settings.bulk_max_operations)?;
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results: Vec<Option<Value>> = vec![None; operations.len()];
    let mut errors = 0_u64;
    let mut pending: Vec<usize> = (0..operations.len()).collect();
    'rounds: while !pending.is_empty() {
        let mut deferred = Vec::new();
        for index in pending {
            if fail_on_errors.is_some_and(|limit| errors >= limit) {
                break 'rounds;
            }
            let operation = &operations[index];
            if caller.deadline_passed() {
                results[index] = Some(failure(operation, &Error::Timeout));
                continue;
            }
            let (path, data) = match resolve(operation, &created) {
                Resolution::Waiting(_) => {
                    deferred.push(index);
                    continue;
                }
                Resolution::Ready { path, data } => (path, data),
            };
            let result = execute(&state, &caller, operation, &path, &data).await;
            let entry = match result {
                Ok((status, location, version, id)) => {
                    if let (Some(bulk_id), Some(id)) = (&operation.bulk_id, id) {
                        created.insert(bulk_id.clone(), id);
                    }
                    let mut entry = entry(operation, status);
                    if let Some(object) = entry.as_object_mut() {
                        location.map(|location| object.insert("location".to_owned(), json!(location)));
                        version.map(|version| object.insert("version".to_owned(), json!(version)));
                    }
                    entry
                }
                Err(error) => {
                    errors += 1;
                    failure(operation, &error)
                }
            };
            results[index] = Some(entry);
        }
        let progressed = deferred.iter().any(|index| match resolve(&operations[*index], &created) {
            Resolution::Ready { .. } => true,
            Resolution::Waiting(_) => false,
        });
        if !progressed {
            for index in deferred {
                if fail_on_errors.is_some_and(|limit| errors >= limit) {
                    break 'rounds;
                }
                let operation = &operations[index];
                let Resolution::Waiting(bulk_id) = resolve(operation, &created) else { continue };
                let error = Error::Conflict(format!("bulkId {bulk_id} is unknown or part of a circular reference"));
                errors += 1;
                results[index] = Some(failure(operation, &error));
            }
            break;
        }
        pending = deferred;
    }
    let body =
        json!({"schemas": [BULK_RESPONSE_SCHEMA], "Operations": results.into_iter().flatten().collect::<Vec<_>>()});
    Ok(scim_response(StatusCode::OK, &body, None, None))
}

fn parse(body: &Value, max_operations: u64) -> Result<(Vec<Operation>, Option<u64>), Error> {
    let invalid = |detail: &str| Error::Protocol(ScimError::InvalidSyntax(detail.to_owned()));
    let object = body.as_object().ok_or_else(|| invalid("a bulk request must be a JSON object"))?;
    let get = |name: &str| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value);
    check_message_schemas(body, BULK_REQUEST_SCHEMA, "a bulk request")?;
    let fail_on_errors = match get("failOnErrors") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_u64().filter(|limit| *limit > 0).ok_or_else(|| {
            Error::Protocol(ScimError::InvalidValue("failOnErrors must be a positive integer".to_owned()))
        })?),
    };
    let items = get("Operations").and_then(Value::as_array).ok_or_else(|| invalid("Operations must be an array"))?;
    if items.len() as u64 > max_operations {
        return Err(Error::Protocol(ScimError::PayloadTooLarge(format!(
            "{} operations; at most {max_operations} are accepted",
            items.len()
        ))));
    }
    let mut operations = Vec::with_capacity(items.len());
    let mut bulk_ids = HashSet::new();
    for item in items {
        let field = |name: &str| {
            item.as_object()
                .and_then(|object| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)))
                .map(|(_, value)| value)
        };
        let text = |name: &str| field(name).and_then(Value::as_str).map(str::to_owned);
        let method = text("method")
            .as_deref()
            .and_then(Method::parse)
            .ok_or_else(|| invalid("each operation needs a method: POST, PUT, PATCH or DELETE"))?;
        let path = text("path").ok_or_else(|| invalid("each operation needs a path"))?;
        let bulk_id = text("bulkId");
        if method == Method::Post && bulk_id.is_none() {
            return Err(invalid("a POST operation needs a bulkId"));
        }
        if let Some(bulk_id) = &bulk_id
            && !bulk_ids.insert(bulk_id.clone())
        {
            return Err(Error::Protocol(ScimError::InvalidValue(format!(
                "bulkId {bulk_id:?} names more than one operation; each must be unique within the request"
            ))));
        }
        let data = field("data").cloned().unwrap_or(Value::Null);
        operations.push(Operation { method, path, bulk_id, version: text("version"), data });
    }
    Ok((operations, fail_on_errors))
}

fn resolve(operation: &Operation, created: &HashMap<String, String>) -> Resolution {
    let mut waiting = None;
    let mut substitute = |text: &str| -> Option<String> {
        let bulk_id = text.strip_prefix("bulkId:")?;
        match created.get(bulk_id) {
            Some(id) => Some(id.clone()),
            None => {
                waiting.get_or_insert_with(|| bulk_id.to_owned());
                None
            }
        }
    };
    let path = operation
        .path
        .split('/')
        .map(|segment| substitute(segment).unwrap_or_else(|| segment.to_owned()))
        .collect::<Vec<_>>()
        .join("/");
    let data = replace_strings(&operation.data, &mut substitute);
    match waiting {
        Some(bulk_id) => Resolution::Waiting(bulk_id),
        None => Resolution::Ready { path, data },
    }
}

fn replace_strings(value: &Value, substitute: &mut impl FnMut(&str) -> Option<String>) -> Value {
    match value {
        Value::String(text) => substitute(text).map_or_else(|| value.clone(), Value::String),
        Value::Array(items) => Value::Array(items.iter().map(|item| replace_strings(item, substitute)).collect()),
        Value::Object(object) => Value::Object(
            object.iter().map(|(key, item)| (key.clone(), replace_strings(item, substitute))).collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// Runs one operation: its status, location, version and, for a create, the new id.
async fn execute(
    state: &ScimState,
    caller: &Caller,
    operation: &Operation,
    path: &str,
    data: &Value,
) -> Result<(StatusCode, Option<String>, Option<String>, Option<String>), Error> {
    // Each operation's write commits its own log row (its method and path); the /Bulk request gets one too.
    let caller = &caller.for_bulk_operation(operation.method.as_str(), path);
    let not_found = || Error::Protocol(ScimError::NotFound(format!("no bulk endpoint {path}")));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let kind = ScimKind::ALL
        .into_iter()
        .find(|kind| segments.first().is_some_and(|first| first.eq_ignore_ascii_case(endpoint(*kind))))
        .ok_or_else(not_found)?;
    let location = |id: &str| format!("{}/{}/{id}", caller.base_url, endpoint(kind));
    let if_match = operation.version.as_deref();
    match (operation.method, segments.as_slice()) {
        (Method::Post, [_]) => {
            let record = state.records.create(kind, caller, data.clone(), now()).await?;
            Ok((StatusCode::CREATED, Some(location(&record.id)), Some(etag(record.version)), Some(record.id)))
        }
        (Method::Put | Method::Patch, [_, id]) => {
            let change = match operation.method {
                Method::Put => Change::Replace(Arc::new(data.clone())),
                _ => Change::Patch(Arc::new(data.clone())),
            };
            let record = state.records.modify(kind, caller, id, if_match, change, now()).await?;
            Ok((StatusCode::OK, Some(location(id)), Some(etag(record.version)), None))
        }
        (Method::Delete, [_, id]) => {
            state.records.delete(kind, caller, id, if_match, now()).await?;
            Ok((StatusCode::NO_CONTENT, Some(location(id)), None, None))
        }
        _ => Err(not_found()),
    }
}

fn entry(operation: &Operation, status: StatusCode) -> Value {
    let mut entry = json!({"method": operation.method.as_str(), "status": status.as_u16().to_string()});
    if let (Some(bulk_id), Some(object)) = (&operation.bulk_id, entry.as_object_mut()) {
        object.insert("bulkId".to_owned(), json!(bulk_id));
    }
    entry
}

fn failure(operation: &Operation, error: &Error) -> Value {
    let (status, body) = error.status_and_body();
    if status.is_server_error() {
        tracing::error!(error = %error, "a SCIM bulk operation failed");
    }
    let mut entry = entry(operation, status);
    if let Some(object) = entry.as_object_mut() {
        object.insert("response".to_owned(), body);
    }
    entry
}
