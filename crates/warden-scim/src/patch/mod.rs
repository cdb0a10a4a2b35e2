//! The PATCH engine (RFC 7644 section 3.5.2), accepting the Okta and Microsoft Entra ID dialects.
//!
//! [`apply_patch`] takes the stored resource and the PatchOp body and returns the new resource; it never mutates
//! its input, so an error in any operation leaves nothing applied (the request is atomic).
//!
//! # Semantics
//! - `add` on a multi-valued attribute appends; a value equal to an existing one (same `value` and compatible
//!   `type`, or equal JSON when there is no `value`) is merged into it instead of duplicated. `add` on a complex
//!   attribute merges sub-attributes; on a simple attribute it sets the value.
//! - `replace` on a multi-valued attribute replaces all values; on a single complex attribute it merges the given
//!   sub-attributes (RFC 7644: sub-attributes not given are left unchanged); `replace` with `null` unassigns.
//! - `remove` unassigns the target; with a value filter it removes the matching values (or the sub-attribute of
//!   them); with a `value` array on a multi-valued attribute (Entra ID's member removal) it removes exactly the
//!   values equal to those given.
//! - Setting `primary: true` on a value clears `primary` on the attribute's other values.
//! - Afterwards, the extension schemas present are listed in `schemas`, and empty extension objects are removed.
//!
//! # Cost
//! Each operation costs what it touches, not the size of the resource: a multi-valued attribute is held, while the
//! request's operations run, as a list indexed by each value's `value` and `type` (module `values`), so 10,000
//! `add` operations onto 10,000 emails, or 10,000 removals by `members[value eq "..."]`, take milliseconds. What
//! still visits every value of an attribute (a value filter without `value eq`, a sub-attribute path without a
//! filter) counts against [`MAX_PATCH_VALUE_VISITS`] per request; [`MAX_PATCH_OPERATIONS`] bounds the operations.
//!
//! # Decisions where clients and the RFC disagree
//! - **Filter matches nothing.** `add`/`replace` through a filtered path creates the value when the filter is a
//!   conjunction of `eq` comparisons (`emails[type eq "work"].value` creates `{"type": "work", "value": ...}`,
//!   as Entra ID expects); otherwise `replace` fails with `noTarget` as RFC 7644 requires, and `add` appends
//!   the given value. `remove` through a filter that matches nothing is a no-op (idempotent, as Okta and Entra
//!   ID retry removals), not `noTarget`.
//! - **Remove without a path** is `noTarget` (RFC 7644).
//! - **Unknown attributes** (not in the resource type's schemas, or under a schema URN the resource type does not
//!   have) are ignored, not stored: one unmapped attribute must not sink a deactivation in the same request.
//!   Unknown sub-attributes inside values (Entra's stray `id`) are dropped too.
//! - **Mutability.** Changing a readOnly attribute, or an immutable one that already has a value, is `mutability`;
//!   writing the value it already has is accepted. `id`, `meta` and `schemas` keys inside a path-less value are
//!   ignored (Okta renames groups with `{"id": ..., "displayName": ...}`). Removing a required attribute that
//!   was present is `mutability` (RFC 7644 section 3.5.2.2).
//! - **Dialects.** `op` is case-insensitive; string booleans are accepted for boolean attributes; path-less
//!   values may use dotted keys (`name.givenName`), URN-qualified keys, filtered keys and extension objects;
//!   unknown members of an operation (Entra's `name`) are ignored. The body's `schemas` must be
//!   `[`[`PATCH_OP_SCHEMA`]`]` (RFC 7644 section 3.5.2; Okta and Entra ID send it).

mod apply;
mod edit;
mod operations;
mod request;
#[cfg(test)]
mod tests;
mod values;

pub use operations::{apply_operations, apply_patch};
pub use request::{
    MAX_PATCH_OPERATIONS, MAX_PATCH_VALUE_VISITS, PATCH_OP_SCHEMA, PatchOperation, PatchOperationKind,
    parse_patch_request,
};
