//! [`SqlValue`]: a value bound into a statement, in the shape both dialects understand.

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// A value bound into a statement, in the shape both dialects understand.
#[derive(Debug, Clone)]
pub(crate) enum SqlValue {
    Text(String),
    NullableText(Option<String>),
    Integer(i64),
    NullableInteger(Option<i64>),
    Boolean(bool),
    NullableBoolean(Option<bool>),
    Time(Option<OffsetDateTime>),
    Json(serde_json::Value),
    Bytes(Vec<u8>),
}

impl SqlValue {
    pub(crate) fn text(value: impl Into<String>) -> SqlValue {
        SqlValue::Text(value.into())
    }

    pub(crate) fn json_strings<I, S>(values: I) -> SqlValue
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        SqlValue::Json(values.into_iter().map(|value| serde_json::Value::from(value.as_ref())).collect())
    }

    pub(crate) fn json_map(map: &BTreeMap<String, String>) -> SqlValue {
        SqlValue::Json(map.iter().map(|(key, value)| (key.clone(), serde_json::Value::from(value.as_str()))).collect())
    }
}
