//! Attribute paths (RFC 7644 section 3.10). PATCH paths, which add a value filter, are parsed with the filter
//! grammar: [`crate::filter::PatchPath`].

use std::fmt;

use crate::error::ScimError;

/// An attribute path: an optional schema URN, an attribute name and an optional sub-attribute, as in `userName`,
/// `name.givenName` or `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// Names keep the case the client sent; every lookup compares them case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttributePath {
    /// The schema URN prefix, without the trailing colon.
    pub urn: Option<String>,
    /// The top-level attribute name.
    pub name: String,
    /// The sub-attribute name of a complex attribute.
    pub sub_attribute: Option<String>,
}

impl AttributePath {
    /// An unqualified path to a top-level attribute.
    pub fn new(name: &str) -> Self {
        AttributePath { urn: None, name: name.to_owned(), sub_attribute: None }
    }

    /// An unqualified path to a sub-attribute.
    pub fn with_sub_attribute(name: &str, sub_attribute: &str) -> Self {
        AttributePath { urn: None, name: name.to_owned(), sub_attribute: Some(sub_attribute.to_owned()) }
    }

    /// Parses `[urn:]name[.subAttribute]`. Errors are [`ScimError::InvalidPath`].
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        parse_attribute_path(text).map_err(ScimError::InvalidPath)
    }

    /// When the whole path could be a bare schema URN (for example
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, which parses as URN `...:2.0` and name
    /// `User`), that URN. Callers check it against their schemas.
    pub fn as_schema_urn(&self) -> Option<String> {
        match (&self.urn, &self.sub_attribute) {
            (Some(urn), None) => Some(format!("{urn}:{}", self.name)),
            _ => None,
        }
    }

    /// Whether two paths name the same attribute, comparing case-insensitively.
    pub fn same_as(&self, other: &AttributePath) -> bool {
        let urn_equal = match (&self.urn, &other.urn) {
            (Some(left), Some(right)) => left.eq_ignore_ascii_case(right),
            (None, None) => true,
            _ => false,
        };
        let sub_equal = match (&self.sub_attribute, &other.sub_attribute) {
            (Some(left), Some(right)) => left.eq_ignore_ascii_case(right),
            (None, None) => true,
            _ => false,
        };
        urn_equal && sub_equal && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(formatter, "{urn}:")?;
        }
        formatter.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attribute {
            write!(formatter, ".{sub}")?;
        }
        Ok(())
    }
}

/// Whether `c` may appear in a path word (names, URNs, dots).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '$')
}

/// Whether `c` may start a path word.
pub(crate) fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '_' | '$')
}

fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '$' || first == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses `[urn:]name[.sub]`, returning a plain message on error so each caller picks the error kind.
pub(crate) fn parse_attribute_path(text: &str) -> Result<AttributePath, String> {
    if text.is_empty() {
        return Err("empty attribute path".to_owned());
    }
    if let Some(bad) = text.chars().find(|c| !is_word_char(*c)) {
        return Err(format!("unexpected character {bad:?} in attribute path {text:?}"));
    }
    let (urn, rest) = match text.rfind(':') {
        Some(colon) => {
            let urn = &text[..colon];
            if !urn.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("urn:")) || urn.len() < 5 {
                return Err(format!("attribute path {text:?} has a ':' but no 'urn:' schema prefix"));
            }
            (Some(urn.to_owned()), &text[colon + 1..])
        }
        None => (None, text),
    };
    let mut parts = rest.split('.');
    let name = parts.next().unwrap_or_default();
    let sub_attribute = parts.next();
    if parts.next().is_some() {
        return Err(format!("attribute path {text:?} nests deeper than one sub-attribute"));
    }
    if !is_attribute_name(name) {
        return Err(format!("{name:?} in {text:?} is not a valid attribute name"));
    }
    if let Some(sub) = sub_attribute
        && !is_attribute_name(sub)
    {
        return Err(format!("{sub:?} in {text:?} is not a valid sub-attribute name"));
    }
    Ok(AttributePath { urn, name: name.to_owned(), sub_attribute: sub_attribute.map(str::to_owned) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simple_sub_and_urn_paths() {
        assert_eq!(AttributePath::parse("userName").unwrap(), AttributePath::new("userName"));
        assert_eq!(
            AttributePath::parse("name.givenName").unwrap(),
            AttributePath::with_sub_attribute("name", "givenName")
        );
        let path =
            AttributePath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
        assert_eq!(path.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(path.name, "manager");
        assert_eq!(path.sub_attribute.as_deref(), Some("value"));
        let core = AttributePath::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap();
        assert_eq!(core.urn.as_deref(), Some("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert_eq!(core.to_string(), "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName");
        assert_eq!(AttributePath::parse("members.$ref").unwrap().sub_attribute.as_deref(), Some("$ref"));
    }

    #[test]
    fn bare_schema_urn_is_recognisable() {
        let path = AttributePath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap();
        assert_eq!(path.as_schema_urn().as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    }

    #[test]
    fn rejects_malformed_paths() {
        for text in ["", "a.b.c", "1abc", "foo:bar", "name.", ".name", "na me", "emails[", "urn:"] {
            assert!(matches!(AttributePath::parse(text), Err(ScimError::InvalidPath(_))), "{text}");
        }
    }

    #[test]
    fn same_as_ignores_case() {
        assert!(
            AttributePath::parse("NAME.GivenName").unwrap().same_as(&AttributePath::parse("name.givenName").unwrap())
        );
        assert!(!AttributePath::new("name").same_as(&AttributePath::with_sub_attribute("name", "givenName")));
    }
}
