//! How a field's value is recorded as text and read back: one encoding per form of value. Reasons are phrased to
//! follow the field's name ("field user_id was not recorded").

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fields::FieldValue;
use crate::id::{OrgId, ProjectGrantId, ProjectId, RoleKey, UserId};
use crate::model::{
    AccessTokenType, ApplicationKind, ApplicationState, GrantState, IdpState, KeyType, OrgState, ProjectState,
    ProviderType, UserState,
};

/// Renders a `V` as a recorded value and parses it back.
pub(crate) trait Encoding<V> {
    fn render(value: &V) -> FieldValue;
    /// The value recorded as `recorded` (`None`: not recorded), or why there is none.
    fn parse(recorded: Option<&str>) -> Result<V, String>;
}

/// A value that is one piece of text: a name, an id, a word of a vocabulary.
pub(crate) trait Textual: Sized {
    fn as_text(&self) -> &str;
    fn from_recorded(text: &str) -> Result<Self, String>;
}

impl Textual for String {
    fn as_text(&self) -> &str {
        self
    }
    fn from_recorded(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
}

macro_rules! textual_ids {
    ($($id:ident),+) => {
        $(impl Textual for $id {
            fn as_text(&self) -> &str {
                self.as_str()
            }
            fn from_recorded(text: &str) -> Result<Self, String> {
                $id::parse(text).map_err(|error| error.to_string())
            }
        })+
    };
}

textual_ids!(OrgId, ProjectId, RoleKey, UserId, ProjectGrantId);

/// A vocabulary keeps words it does not know (`Unknown`), so any text is one of its values.
macro_rules! textual_vocabularies {
    ($($vocabulary:ident),+) => {
        $(impl Textual for $vocabulary {
            fn as_text(&self) -> &str {
                self.as_str()
            }
            fn from_recorded(text: &str) -> Result<Self, String> {
                Ok($vocabulary::from_text(text))
            }
        })+
    };
}

textual_vocabularies!(
    OrgState,
    UserState,
    ProjectState,
    GrantState,
    ApplicationState,
    IdpState,
    AccessTokenType,
    KeyType,
    ApplicationKind,
    ProviderType
);

fn required(recorded: Option<&str>) -> Result<&str, String> {
    recorded.ok_or_else(|| "was not recorded".to_owned())
}

fn textual<V: Textual>(text: &str) -> Result<V, String> {
    V::from_recorded(text).map_err(|reason| format!("is {text:?}: {reason}"))
}

/// Text as it is; it must have been recorded.
pub(crate) struct Text;

impl<V: Textual> Encoding<V> for Text {
    fn render(value: &V) -> FieldValue {
        Some(value.as_text().to_owned())
    }
    fn parse(recorded: Option<&str>) -> Result<V, String> {
        textual(required(recorded)?)
    }
}

/// Text as it is; empty when it was not recorded (profile details).
pub(crate) struct TextOrEmpty;

impl Encoding<String> for TextOrEmpty {
    fn render(value: &String) -> FieldValue {
        Some(value.clone())
    }
    fn parse(recorded: Option<&str>) -> Result<String, String> {
        Ok(recorded.unwrap_or_default().to_owned())
    }
}

/// Text that may be absent: `None` is recorded as no value.
pub(crate) struct OptionalText;

impl<V: Textual> Encoding<Option<V>> for OptionalText {
    fn render(value: &Option<V>) -> FieldValue {
        value.as_ref().map(|value| value.as_text().to_owned())
    }
    fn parse(recorded: Option<&str>) -> Result<Option<V>, String> {
        recorded.map(textual).transpose()
    }
}

/// `true` or `false`; it must have been recorded.
pub(crate) struct Flag;

impl Encoding<bool> for Flag {
    fn render(value: &bool) -> FieldValue {
        Some(value.to_string())
    }
    fn parse(recorded: Option<&str>) -> Result<bool, String> {
        match required(recorded)? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("is {other:?}, not a flag")),
        }
    }
}

/// `true` or `false`; anything but `true`, or nothing recorded, is `false` (profile details).
pub(crate) struct FlagOrFalse;

impl Encoding<bool> for FlagOrFalse {
    fn render(value: &bool) -> FieldValue {
        Flag::render(value)
    }
    fn parse(recorded: Option<&str>) -> Result<bool, String> {
        Ok(recorded == Some("true"))
    }
}

/// Items sorted and joined by `,` (an empty list is empty text); it must have been recorded.
pub(crate) struct List;

impl<V: Textual> Encoding<Vec<V>> for List {
    fn render(values: &Vec<V>) -> FieldValue {
        let mut sorted: Vec<&str> = values.iter().map(Textual::as_text).collect();
        sorted.sort_unstable();
        Some(sorted.join(","))
    }
    fn parse(recorded: Option<&str>) -> Result<Vec<V>, String> {
        let text = required(recorded)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        text.split(',')
            .map(|item| V::from_recorded(item).map_err(|reason| format!("holds {item:?}: {reason}")))
            .collect()
    }
}

/// RFC 3339, or Unix seconds for a time RFC 3339 cannot express; no value for no time.
pub(crate) struct Time;

impl Encoding<Option<OffsetDateTime>> for Time {
    fn render(value: &Option<OffsetDateTime>) -> FieldValue {
        value.map(|time| time.format(&Rfc3339).unwrap_or_else(|_| time.unix_timestamp().to_string()))
    }
    fn parse(recorded: Option<&str>) -> Result<Option<OffsetDateTime>, String> {
        let Some(text) = recorded else { return Ok(None) };
        if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(Some(time));
        }
        text.parse::<i64>()
            .ok()
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
            .map(Some)
            .ok_or_else(|| format!("is {text:?}, not a time"))
    }
}

/// `key=value` pairs in key order, joined by `; `; it must have been recorded.
///
/// A value may itself contain `; `: a part that does not start a larger key than the previous one (or holds no `=`)
/// continues the previous value, so any recorded text whose keys hold neither `=` nor `; ` reads back to settings
/// that render it again.
pub(crate) struct Settings;

impl Encoding<BTreeMap<String, String>> for Settings {
    fn render(settings: &BTreeMap<String, String>) -> FieldValue {
        Some(settings.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("; "))
    }
    fn parse(recorded: Option<&str>) -> Result<BTreeMap<String, String>, String> {
        let text = required(recorded)?;
        let mut entries: Vec<(String, String)> = Vec::new();
        if text.is_empty() {
            return Ok(BTreeMap::new());
        }
        for part in text.split("; ") {
            let starts_entry = part
                .split_once('=')
                .filter(|(key, _)| entries.last().is_none_or(|(previous, _)| *key > previous.as_str()));
            match (starts_entry, entries.last_mut()) {
                (Some((key, value)), _) => entries.push((key.to_owned(), value.to_owned())),
                (None, Some((_, value))) => {
                    value.push_str("; ");
                    value.push_str(part);
                }
                (None, None) => return Err(format!("is {text:?}, not key=value settings")),
            }
        }
        Ok(entries.into_iter().collect())
    }
}

/// Bytes as UTF-8 text (a sequence that is not UTF-8 is replaced by U+FFFD); it must have been recorded.
pub(crate) struct Utf8;

impl Encoding<Vec<u8>> for Utf8 {
    fn render(value: &Vec<u8>) -> FieldValue {
        Some(String::from_utf8_lossy(value).into_owned())
    }
    fn parse(recorded: Option<&str>) -> Result<Vec<u8>, String> {
        Ok(required(recorded)?.as_bytes().to_vec())
    }
}
