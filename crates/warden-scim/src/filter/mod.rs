//! The filter grammar of RFC 7644 section 3.4.2.2 (and the PATCH paths built from it, [`PatchPath`]): a public AST, a bounded recursive-descent parser, a printer
//! whose output parses back to the same AST, and an evaluator over JSON resources.
//!
//! ```
//! use warden_scim::filter::{self, Filter};
//!
//! let filter = filter::parse(r#"emails[type eq "work" and value co "@example.com"] or not (active eq false)"#)?;
//! assert!(matches!(filter, Filter::Or(_, _)));
//! # Ok::<(), warden_scim::ScimError>(())
//! ```
//!
//! Besides the RFC grammar the parser accepts, from real clients: case-insensitive operators, keywords and
//! literals (`EQ`, `And`, `True`), and a sub-attribute after a value filter (`emails[type eq "work"].value eq
//! "x"`, which Entra ID sends); the latter is read as `emails[type eq "work" and value eq "x"]`.

mod ast;
mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;
mod validate;

pub use ast::{CompareOperator, CompareValue, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, PatchPath};
pub use eval::matches;
pub(crate) use eval::{boolean_of, matches_element};
pub use parser::{parse, parse_patch_path};
pub use validate::validate;
