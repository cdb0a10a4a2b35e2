//! grpc-gateway JSON conventions: an output builder that omits zero values, and lenient input accessors
//! (camelCase or snake_case names, int64 as string or number, enums as name or number).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::ApiError;

/// RFC 3339 in UTC with `Z` and 0, 3, 6 or 9 fraction digits.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let nanos = at.nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Builds a JSON object the way grpc-gateway marshals a message: zero values are left out.
#[derive(Debug, Default)]
pub(crate) struct Obj(Map<String, Value>);

impl Obj {
    pub(crate) fn new() -> Self {
        Self(Map::new())
    }

    /// A string field (omitted when empty).
    pub(crate) fn string(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.0.insert(key.to_string(), Value::String(value.to_string()));
        }
        self
    }

    /// A bool field (omitted when false).
    pub(crate) fn flag(mut self, key: &str, value: bool) -> Self {
        if value {
            self.0.insert(key.to_string(), Value::Bool(true));
        }
        self
    }

    /// An int64/uint64 field, emitted as a string (omitted when 0).
    pub(crate) fn int64(mut self, key: &str, value: u64) -> Self {
        if value != 0 {
            self.0.insert(key.to_string(), Value::String(value.to_string()));
        }
        self
    }

    /// A timestamp field.
    pub(crate) fn time(mut self, key: &str, at: OffsetDateTime) -> Self {
        self.0.insert(key.to_string(), Value::String(format_timestamp(at)));
        self
    }

    /// An optional timestamp field.
    pub(crate) fn time_opt(self, key: &str, at: Option<OffsetDateTime>) -> Self {
        match at {
            Some(at) => self.time(key, at),
            None => self,
        }
    }

    /// An enum field; `None` = the zero value (omitted).
    pub(crate) fn enumeration(mut self, key: &str, name: Option<&str>) -> Self {
        if let Some(name) = name {
            self.0.insert(key.to_string(), Value::String(name.to_string()));
        }
        self
    }

    /// A repeated string field (omitted when empty).
    pub(crate) fn strings(mut self, key: &str, values: &[String]) -> Self {
        if !values.is_empty() {
            self.0.insert(key.to_string(), Value::Array(values.iter().cloned().map(Value::String).collect()));
        }
        self
    }

    /// A bytes field, standard base64 (omitted when empty).
    pub(crate) fn bytes(self, key: &str, value: &[u8]) -> Self {
        let encoded = STANDARD.encode(value);
        self.string(key, &encoded)
    }

    /// A nested message (always emitted, even when empty).
    pub(crate) fn object(mut self, key: &str, value: Obj) -> Self {
        self.0.insert(key.to_string(), Value::Object(value.0));
        self
    }

    /// A raw JSON value.
    pub(crate) fn value(mut self, key: &str, value: Value) -> Self {
        self.0.insert(key.to_string(), value);
        self
    }

    /// A repeated message field (omitted when empty).
    pub(crate) fn list(mut self, key: &str, values: Vec<Value>) -> Self {
        if !values.is_empty() {
            self.0.insert(key.to_string(), Value::Array(values));
        }
        self
    }

    pub(crate) fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// `sortingColumn` -> `sorting_column`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for character in name.chars() {
        if character.is_ascii_uppercase() {
            out.push('_');
            out.push(character.to_ascii_lowercase());
        } else {
            out.push(character);
        }
    }
    out
}

/// The field `name` (camelCase) of an object, also accepting its snake_case spelling; JSON null counts as absent.
pub(crate) fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| object.get(&snake_case(name))).filter(|found| !found.is_null())
}

fn wrong_type(name: &str, expected: &str) -> ApiError {
    ApiError::new(crate::error::grpc::INVALID_ARGUMENT, "", format!("proto: invalid value for {expected} field {name}"))
}

/// A string field ("" when absent).
pub(crate) fn get_str(value: &Value, name: &str) -> Result<String, ApiError> {
    match field(value, name) {
        None => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(wrong_type(name, "string")),
    }
}

/// A bool field (false when absent).
pub(crate) fn get_bool(value: &Value, name: &str) -> Result<bool, ApiError> {
    match field(value, name) {
        None => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(Value::String(text)) if text == "true" || text == "false" => Ok(text == "true"),
        Some(_) => Err(wrong_type(name, "bool")),
    }
}

/// An integer field given as number or string (0 when absent).
pub(crate) fn get_u64(value: &Value, name: &str) -> Result<u64, ApiError> {
    match field(value, name) {
        None => Ok(0),
        Some(Value::Number(number)) => number.as_u64().ok_or_else(|| wrong_type(name, "uint64")),
        Some(Value::String(text)) => text.trim().parse().map_err(|_| wrong_type(name, "uint64")),
        Some(_) => Err(wrong_type(name, "uint64")),
    }
}

/// An enum field given by name or number; returns the enum number (0 when absent).
pub(crate) fn get_enum(value: &Value, name: &str, names: &[&str]) -> Result<usize, ApiError> {
    match field(value, name) {
        None => Ok(0),
        Some(Value::Number(number)) => {
            number.as_u64().map(|n| n as usize).filter(|n| *n < names.len()).ok_or_else(|| wrong_type(name, "enum"))
        }
        Some(Value::String(text)) => {
            names.iter().position(|candidate| candidate == text).ok_or_else(|| wrong_type(name, "enum"))
        }
        Some(_) => Err(wrong_type(name, "enum")),
    }
}

/// A repeated field (empty when absent).
pub(crate) fn get_list<'a>(value: &'a Value, name: &str) -> Result<Vec<&'a Value>, ApiError> {
    match field(value, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(_) => Err(wrong_type(name, "list")),
    }
}

/// A repeated string field.
pub(crate) fn get_strings(value: &Value, name: &str) -> Result<Vec<String>, ApiError> {
    get_list(value, name)?
        .into_iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(|| wrong_type(name, "string list")))
        .collect()
}

/// A message field, if present (must be an object).
pub(crate) fn get_object<'a>(value: &'a Value, name: &str) -> Result<Option<&'a Value>, ApiError> {
    match field(value, name) {
        None => Ok(None),
        Some(found @ Value::Object(_)) => Ok(Some(found)),
        Some(_) => Err(wrong_type(name, "message")),
    }
}

/// A timestamp field (RFC 3339), if present.
pub(crate) fn get_timestamp(value: &Value, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    match field(value, name) {
        None => Ok(None),
        Some(Value::String(text)) => OffsetDateTime::parse(text, &Rfc3339)
            .map(|at| Some(at.to_offset(UtcOffset::UTC)))
            .map_err(|_| wrong_type(name, "timestamp")),
        Some(_) => Err(wrong_type(name, "timestamp")),
    }
}

/// A bytes field (base64, standard or URL-safe, padding optional).
pub(crate) fn get_bytes(value: &Value, name: &str) -> Result<Vec<u8>, ApiError> {
    let text = get_str(value, name)?;
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text.trim()).ok())
        .ok_or_else(|| wrong_type(name, "bytes"))
}

/// Text comparison per ZITADEL's `TextQueryMethod` / `TextFilterMethod` (same numbering).
pub(crate) fn text_matches(actual: &str, wanted: &str, method: usize) -> bool {
    let (actual_lower, wanted_lower) = (actual.to_lowercase(), wanted.to_lowercase());
    match method {
        1 => actual_lower == wanted_lower,
        2 => actual.starts_with(wanted),
        3 => actual_lower.starts_with(&wanted_lower),
        4 => actual.contains(wanted),
        5 => actual_lower.contains(&wanted_lower),
        6 => actual.ends_with(wanted),
        7 => actual_lower.ends_with(&wanted_lower),
        _ => actual == wanted,
    }
}

/// Names of `TextQueryMethod` (v1) in enum order.
pub(crate) const TEXT_QUERY_METHODS: &[&str] = &[
    "TEXT_QUERY_METHOD_EQUALS",
    "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE",
    "TEXT_QUERY_METHOD_STARTS_WITH",
    "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE",
    "TEXT_QUERY_METHOD_CONTAINS",
    "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE",
    "TEXT_QUERY_METHOD_ENDS_WITH",
    "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE",
];

/// Names of `TextFilterMethod` (v2) in enum order.
pub(crate) const TEXT_FILTER_METHODS: &[&str] = &[
    "TEXT_FILTER_METHOD_EQUALS",
    "TEXT_FILTER_METHOD_EQUALS_IGNORE_CASE",
    "TEXT_FILTER_METHOD_STARTS_WITH",
    "TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE",
    "TEXT_FILTER_METHOD_CONTAINS",
    "TEXT_FILTER_METHOD_CONTAINS_IGNORE_CASE",
    "TEXT_FILTER_METHOD_ENDS_WITH",
    "TEXT_FILTER_METHOD_ENDS_WITH_IGNORE_CASE",
];

/// Reads a `{<text field>, method}` query object and tests `actual` against it.
pub(crate) fn text_query(query: &Value, text_field: &str, actual: &str, methods: &[&str]) -> Result<bool, ApiError> {
    let wanted = get_str(query, text_field)?;
    let method = get_enum(query, "method", methods)?;
    Ok(text_matches(actual, &wanted, method))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_use_z_and_trimmed_fractions() {
        assert_eq!(format_timestamp(datetime!(2026-03-30 08:15:02 UTC)), "2026-03-30T08:15:02Z");
        assert_eq!(format_timestamp(datetime!(2026-03-30 08:15:02.5 UTC)), "2026-03-30T08:15:02.500Z");
        assert_eq!(format_timestamp(datetime!(9999-12-31 23:59:59 UTC)), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn input_is_lenient() {
        let body = json!({"sorting_column": 1, "query": {"offset": "5", "limit": 10}, "x": null});
        assert_eq!(get_enum(&body, "sortingColumn", &["A", "B"]).ok(), Some(1));
        let query = field(&body, "query").cloned().unwrap_or_default();
        assert_eq!(get_u64(&query, "offset").ok(), Some(5));
        assert_eq!(get_u64(&query, "limit").ok(), Some(10));
        assert_eq!(get_str(&body, "x").ok(), Some(String::new()));
        assert!(get_u64(&json!({"limit": "ten"}), "limit").is_err());
    }
}
