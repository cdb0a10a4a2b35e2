//! List requests and responses: v1 (`query` / `details`), v2 object lists (`query` / `details.timestamp`) and
//! v2 filter lists (`pagination`).

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::estate::Estate;
use crate::json::{Obj, get_bool, get_object, get_u64};

/// Default and maximum page size of v2 filter lists.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

/// Offset, limit (0 = everything) and direction of a list request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) offset: u64,
    pub(crate) limit: u64,
    pub(crate) asc: bool,
}

/// A sort key value (one column always yields the same variant).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SortKey {
    Text(String),
    Number(u64),
    Time(OffsetDateTime),
}

/// v1 / v2-object `query:{offset, limit, asc}`; limit 0 or absent returns everything.
pub(crate) fn v1_page(body: &Value) -> Result<Page, ApiError> {
    let empty = Value::Object(serde_json::Map::new());
    let query = get_object(body, "query")?.unwrap_or(&empty);
    Ok(Page { offset: get_u64(query, "offset")?, limit: get_u64(query, "limit")?, asc: get_bool(query, "asc")? })
}

/// v2 `pagination:{offset, limit, asc}`; default limit 100, above 1000 is rejected.
pub(crate) fn v2_page(body: &Value) -> Result<Page, ApiError> {
    let empty = Value::Object(serde_json::Map::new());
    let pagination = get_object(body, "pagination")?.unwrap_or(&empty);
    let limit = match get_u64(pagination, "limit")? {
        0 => DEFAULT_LIMIT,
        limit if limit > MAX_LIMIT => {
            return Err(ApiError::invalid_argument("QUERY-4M0fs", "Errors.Query.LimitExceeded"));
        }
        limit => limit,
    };
    Ok(Page { offset: get_u64(pagination, "offset")?, limit, asc: get_bool(pagination, "asc")? })
}

/// Sorts by `key` (stable; descending unless `asc`).
pub(crate) fn sort_items<T>(items: &mut [T], asc: bool, key: impl Fn(&T) -> SortKey) {
    items.sort_by(|left, right| {
        let order: Ordering = key(left).cmp(&key(right));
        if asc { order } else { order.reverse() }
    });
}

/// Applies offset and limit; returns the total before paging and the page.
pub(crate) fn apply<T>(items: Vec<T>, page: Page) -> (u64, Vec<T>) {
    let total = items.len() as u64;
    let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let iter = items.into_iter().skip(offset);
    let items = if page.limit == 0 {
        iter.collect()
    } else {
        iter.take(usize::try_from(page.limit).unwrap_or(usize::MAX)).collect()
    };
    (total, items)
}

/// `{details:{totalResult, processedSequence, viewTimestamp}, result:[...]}`.
pub(crate) fn v1_list(estate: &Estate, total: u64, result: Vec<Value>) -> Value {
    let details = Obj::new()
        .int64("totalResult", total)
        .int64("processedSequence", estate.processed_sequence())
        .time("viewTimestamp", estate.now());
    Obj::new().object("details", details).list("result", result).build()
}

/// `{details:{totalResult, processedSequence, timestamp}, result:[...]}` (v2 object lists).
pub(crate) fn v2_object_list(estate: &Estate, total: u64, result: Vec<Value>) -> Value {
    let details = Obj::new()
        .int64("totalResult", total)
        .int64("processedSequence", estate.processed_sequence())
        .time("timestamp", estate.now());
    Obj::new().object("details", details).list("result", result).build()
}

/// `{pagination:{totalResult, appliedLimit}, <items_key>:[...]}` (v2 filter lists).
pub(crate) fn v2_filter_list(total: u64, page: Page, items_key: &str, items: Vec<Value>) -> Value {
    let pagination = Obj::new().int64("totalResult", total).int64("appliedLimit", page.limit);
    Obj::new().object("pagination", pagination).list(items_key, items).build()
}
