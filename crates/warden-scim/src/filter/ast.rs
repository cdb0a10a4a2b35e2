//! The filter AST: what a parsed filter is, its limits, and its printing (which parses back to the same AST).

use std::fmt;

use crate::path::AttributePath;

/// The longest filter text accepted, in bytes.
pub const MAX_FILTER_LENGTH: usize = 4096;
/// The deepest nesting of parentheses, `not` and value filters accepted.
pub const MAX_FILTER_DEPTH: usize = 32;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "bjensen"`.
    Compare {
        /// The attribute compared.
        path: AttributePath,
        /// The comparison operator.
        operator: CompareOperator,
        /// The literal compared against.
        value: CompareValue,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttributePath),
    /// Both sides match.
    And(Box<Filter>, Box<Filter>),
    /// Either side matches.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not match.
    Not(Box<Filter>),
    /// `path[filter]`: some value of a (usually multi-valued complex) attribute matches the inner filter, whose
    /// paths are sub-attribute names of `path`.
    ValuePath {
        /// The attribute whose values are filtered; it has no sub-attribute.
        path: AttributePath,
        /// The filter over each value's sub-attributes.
        filter: Box<Filter>,
    },
}

/// A PATCH operation's `path` (RFC 7644 section 3.5.2, the `PATH` rule of its figure 1): an attribute path plus an
/// optional value filter, as in `members[value eq "2819"]` or `emails[type eq "work"].value` (the sub-attribute
/// after the filter is `attribute.sub_attribute`). It lives with the filter grammar that parses it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute and, when given, the sub-attribute to operate on.
    pub attribute: AttributePath,
    /// The filter selecting values of a multi-valued attribute.
    pub value_filter: Option<Filter>,
}

impl fmt::Display for PatchPath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value_filter {
            None => write!(formatter, "{}", self.attribute),
            Some(filter) => {
                if let Some(urn) = &self.attribute.urn {
                    write!(formatter, "{urn}:")?;
                }
                write!(formatter, "{}[{filter}]", self.attribute.name)?;
                if let Some(sub) = &self.attribute.sub_attribute {
                    write!(formatter, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

/// A comparison operator (RFC 7644 table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOperator {
    /// `eq`
    Equal,
    /// `ne`
    NotEqual,
    /// `co`
    Contains,
    /// `sw`
    StartsWith,
    /// `ew`
    EndsWith,
    /// `gt`
    GreaterThan,
    /// `ge`
    GreaterOrEqual,
    /// `lt`
    LessThan,
    /// `le`
    LessOrEqual,
}

impl CompareOperator {
    /// All operators, in RFC order.
    pub const ALL: [CompareOperator; 9] = [
        CompareOperator::Equal,
        CompareOperator::NotEqual,
        CompareOperator::Contains,
        CompareOperator::StartsWith,
        CompareOperator::EndsWith,
        CompareOperator::GreaterThan,
        CompareOperator::GreaterOrEqual,
        CompareOperator::LessThan,
        CompareOperator::LessOrEqual,
    ];

    /// The lowercase keyword, e.g. `eq`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOperator::Equal => "eq",
            CompareOperator::NotEqual => "ne",
            CompareOperator::Contains => "co",
            CompareOperator::StartsWith => "sw",
            CompareOperator::EndsWith => "ew",
            CompareOperator::GreaterThan => "gt",
            CompareOperator::GreaterOrEqual => "ge",
            CompareOperator::LessThan => "lt",
            CompareOperator::LessOrEqual => "le",
        }
    }

    /// The operator for a keyword, compared case-insensitively.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        CompareOperator::ALL.into_iter().find(|operator| operator.as_str().eq_ignore_ascii_case(keyword))
    }
}

/// A comparison literal.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareValue {
    /// A JSON string, escapes decoded.
    String(String),
    /// A JSON number (integer or decimal).
    Number(serde_json::Number),
    /// `true` or `false`.
    Boolean(bool),
    /// `null`.
    Null,
}

impl CompareValue {
    /// The literal as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CompareValue::String(text) => serde_json::Value::String(text.clone()),
            CompareValue::Number(number) => serde_json::Value::Number(number.clone()),
            CompareValue::Boolean(flag) => serde_json::Value::Bool(*flag),
            CompareValue::Null => serde_json::Value::Null,
        }
    }
}

impl fmt::Display for CompareValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareValue::String(text) => {
                write!(formatter, "{}", serde_json::Value::String(text.clone()))
            }
            CompareValue::Number(number) => write!(formatter, "{number}"),
            CompareValue::Boolean(flag) => write!(formatter, "{flag}"),
            CompareValue::Null => formatter.write_str("null"),
        }
    }
}

impl fmt::Display for CompareOperator {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Prints the filter in canonical form: lowercase keywords, JSON-escaped strings, and parentheses only where
/// precedence (`not` > `and` > `or`, both left-associative) needs them, so that `parse(&f.to_string()) == f`.
impl fmt::Display for Filter {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, operator, value } => write!(formatter, "{path} {operator} {value}"),
            Filter::Present(path) => write!(formatter, "{path} pr"),
            Filter::And(left, right) => {
                write_operand(formatter, left, matches!(**left, Filter::Or(..)))?;
                formatter.write_str(" and ")?;
                write_operand(formatter, right, matches!(**right, Filter::Or(..) | Filter::And(..)))
            }
            Filter::Or(left, right) => {
                write_operand(formatter, left, false)?;
                formatter.write_str(" or ")?;
                write_operand(formatter, right, matches!(**right, Filter::Or(..)))
            }
            Filter::Not(inner) => write!(formatter, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(formatter, "{path}[{filter}]"),
        }
    }
}

fn write_operand(formatter: &mut fmt::Formatter<'_>, filter: &Filter, parenthesize: bool) -> fmt::Result {
    if parenthesize { write!(formatter, "({filter})") } else { write!(formatter, "{filter}") }
}
