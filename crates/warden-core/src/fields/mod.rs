//! What each observed object records about itself: one description per kind, which `reconcile` reads (the fields it
//! compares and records in a change's before and after) and `access_history` writes back (the object rebuilt from a
//! change's recorded values).
//!
//! A kind's description is its [`Described::FIELDS`] table: each line names a field, its encoding (how the value is
//! rendered as text and parsed back, `encoding`) and where the value lives in the object, and both directions come
//! from that one line. What a kind does not record comes from [`Described::unrecorded`]: its identity from the
//! object key and the change's organization, `created_at` (where it is not a field) from the object as it was after
//! the change, and never `changed_at`.
//!
//! Stored change history holds these names and encodings, so they never change (`tests` pins them): text as it is,
//! flags `true`/`false`, lists sorted and joined by `,`, times in RFC 3339 (Unix seconds where RFC 3339 cannot express
//! them), settings as `key=value` joined by `; ` in key order, bytes as UTF-8.
//!
//! Everything else round-trips (`properties` checks it for every kind), except what the text cannot hold: a list's
//! order, a list item containing `,` (or a list of one empty item); a setting key containing `=` or `; `, a setting
//! value containing `; ` (it may be read back split differently, as settings that render the same text); bytes that
//! are not UTF-8 (replaced); the fraction of a second of a time RFC 3339 cannot express (a year outside 0 to 9999, an
//! offset beyond 23 hours or with seconds).

/// One field of an object: `field!("name", Encoding, object.place)` records `object.place` through `Encoding`;
/// `field!("name", Encoding, Variant(profile) in object.enum_field => profile.place)` records a field only objects of
/// that variant have.
macro_rules! field {
    ($name:literal, $encoding:ident, $object:ident $(. $place:ident)+) => {
        $crate::fields::Field {
            name: $name,
            read: |$object| Some(<$encoding as $crate::fields::encoding::Encoding<_>>::render(&$object $(. $place)+)),
            write: |$object, recorded| {
                $object $(. $place)+ = <$encoding as $crate::fields::encoding::Encoding<_>>::parse(recorded)?;
                Ok(())
            },
        }
    };
    (
        $name:literal,
        $encoding:ident,
        $variant:pat in $object:ident . $enum_field:ident => $inner:ident $(. $place:ident)+
    ) => {
        $crate::fields::Field {
            name: $name,
            read: |$object| match &$object.$enum_field {
                $variant => Some(<$encoding as $crate::fields::encoding::Encoding<_>>::render(&$inner $(. $place)+)),
                _ => None,
            },
            write: |$object, recorded| {
                if let $variant = &mut $object.$enum_field {
                    $inner $(. $place)+ = <$encoding as $crate::fields::encoding::Encoding<_>>::parse(recorded)?;
                }
                Ok(())
            },
        }
    };
}

mod encoding;
mod estate;
mod principal;

use std::collections::BTreeMap;

use crate::id::{IdError, OrgId};
use crate::model::Observed;

/// One field's value as text; `None` where the object has no such value.
pub type FieldValue = Option<String>;

/// Recorded values by field name, as a change holds them; a name that is missing was not recorded.
pub type RecordedFields = BTreeMap<String, FieldValue>;

/// Why recorded values do not make an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RebuildError(String);

/// One recorded field of a `T`: its name, and how its value is read from and written into a `T`.
pub struct Field<T> {
    name: &'static str,
    /// The recorded value; `None` when this `T` has no such field (a human user has no `description`).
    read: fn(&T) -> Option<FieldValue>,
    /// Sets the field from its recorded value (`None`: not recorded), or says why the value does not fit.
    write: fn(&mut T, Option<&str>) -> Result<(), String>,
}

impl<T> Field<T> {
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// An observed object's comparable content, described once per kind. Bookkeeping timestamps (`changed_at`) are
/// left out: they move with every write and say nothing of their own; `created_at` is kept where the kind has no
/// other record of it (credentials) and expiries always are.
pub trait Described: Observed + Sized + 'static {
    /// Every field the kind records, in the order it records them.
    const FIELDS: &'static [Field<Self>];

    /// The organization whose fetch this object comes from; `None` for instance-level objects. A change records it.
    fn scope_org(&self) -> Option<&OrgId>;

    /// What the fields do not record, from elsewhere: the identity from `key` and `org_id` (the change's
    /// organization), `created_at` (unless it is a field) from `later` (the object after the change) when there is
    /// one, no `changed_at`. Every recorded part is a placeholder (an unset id, an empty name), which
    /// [`Described::rebuild`] overwrites or fails.
    fn unrecorded(key: &str, org_id: Option<&OrgId>, later: Option<&Self>) -> Result<Self, RebuildError>;

    /// `(field, value)` pairs in [`Described::FIELDS`] order; a field this object does not have is left out.
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        Self::FIELDS.iter().filter_map(|field| (field.read)(self).map(|value| (field.name, value))).collect()
    }

    /// The object with key `key`, in organization `org_id` (a change's), whose fields were recorded as `recorded`;
    /// `later` is the object as it was after the change, when there is one (see [`Described::unrecorded`]).
    fn rebuild(
        key: &str,
        org_id: Option<&OrgId>,
        recorded: &RecordedFields,
        later: Option<&Self>,
    ) -> Result<Self, RebuildError> {
        let mut object = Self::unrecorded(key, org_id, later)?;
        for field in Self::FIELDS {
            let value = recorded.get(field.name).and_then(Option::as_deref);
            (field.write)(&mut object, value)
                .map_err(|reason| RebuildError(format!("field {} {reason}", field.name)))?;
        }
        Ok(object)
    }
}

impl From<IdError> for RebuildError {
    fn from(error: IdError) -> Self {
        RebuildError(error.to_string())
    }
}

/// The organization a change names, for a kind that always has one.
fn org_of(org_id: Option<&OrgId>) -> Result<OrgId, RebuildError> {
    org_id.cloned().ok_or_else(|| RebuildError("the change names no organization".to_owned()))
}

/// The two parts of a composite key `first/rest` (only the last part may contain `/`).
fn split_key<'a>(key: &'a str, shape: &str) -> Result<(&'a str, &'a str), RebuildError> {
    key.split_once('/').ok_or_else(|| RebuildError(format!("key {key:?} is not {shape}")))
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
