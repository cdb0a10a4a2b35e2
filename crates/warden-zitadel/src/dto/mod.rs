//! Wire DTOs: ZITADEL's JSON as its REST gateway emits it, read tolerantly. Unknown fields are ignored, every field
//! is optional (zero values are omitted on the wire), int64 values may come as strings or numbers, and enums are
//! kept as their names so that a value this version does not know becomes `Unknown(..)` later, not a failure.
//!
//! These types never leave the crate: `convert` turns them into `warden_core::model` types.

pub(crate) mod v1;
pub(crate) mod v2;

use serde::{Deserialize, Deserializer};

/// A uint64/int64 field: JSON string (what the gateway sends) or number (what it accepts).
pub(crate) fn int64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int64 {
        Text(String),
        Number(u64),
    }
    match Int64::deserialize(deserializer)? {
        Int64::Number(number) => Ok(number),
        Int64::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

/// `ObjectDetails` (v1) and `Details` (v2): dates and owner of one object.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Details {
    pub(crate) creation_date: Option<String>,
    pub(crate) change_date: Option<String>,
    pub(crate) resource_owner: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Number {
        #[serde(deserialize_with = "int64")]
        value: u64,
    }

    #[test]
    fn int64_arrives_as_text_or_number() {
        let parse = |text: &str| serde_json::from_str::<Number>(text).map(|number| number.value);
        assert_eq!(parse(r#"{"value":"12"}"#).unwrap(), 12);
        assert_eq!(parse(r#"{"value":12}"#).unwrap(), 12);
        assert!(parse(r#"{"value":"x"}"#).is_err());
        assert!(parse(r#"{"value":-1}"#).is_err());
    }
}
