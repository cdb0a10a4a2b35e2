//! Case-insensitive access to JSON object keys: SCIM attribute names are case-insensitive (RFC 7643 section 2.1).

use serde_json::{Map, Value};

/// The value under `key` in a JSON object, matching the key case-insensitively (an exact match wins).
pub(crate) fn get_ignore_case<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(key).or_else(|| object.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The actual key in `object` that matches `key` case-insensitively (an exact match wins).
pub(crate) fn find_key(object: &Map<String, Value>, key: &str) -> Option<String> {
    if object.contains_key(key) {
        return Some(key.to_owned());
    }
    object.keys().find(|name| name.eq_ignore_ascii_case(key)).cloned()
}

/// Removes every key matching `key` case-insensitively and returns the last removed value.
pub(crate) fn remove_ignore_case(object: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let mut removed = None;
    while let Some(actual) = find_key(object, key) {
        removed = object.remove(&actual);
    }
    removed
}

/// Inserts `value` under `canonical_key`, replacing any key that differs from it only in case.
pub(crate) fn insert_canonical(object: &mut Map<String, Value>, canonical_key: &str, value: Value) {
    remove_ignore_case(object, canonical_key);
    object.insert(canonical_key.to_owned(), value);
}
