//! Schema checks on a parsed filter, for the errors RFC 7644 leaves to the server.

use crate::error::ScimError;
use crate::filter::{CompareOperator, Filter};
use crate::path::AttributePath;
use crate::schema::{AttributeDefinition, AttributeType, ResourceType, Returned, SchemaRegistry};

/// Checks a filter against a resource type before it is evaluated or translated to SQL.
///
/// Errors ([`ScimError::InvalidFilter`]): `co`/`sw`/`ew`/`gt`/`ge`/`lt`/`le` on a boolean or binary attribute
/// (RFC 7644 section 3.4.2.2), and any condition on an attribute that is never returned (`password`), which would
/// let a client probe its value. Attributes the schemas do not define are accepted; they match nothing.
pub fn validate(filter: &Filter, registry: &SchemaRegistry, resource_type: &ResourceType) -> Result<(), ScimError> {
    check(filter, &|path| {
        registry.resolve(resource_type, path).map(|resolved| (resolved.attribute, resolved.sub_attribute))
    })
}

type Resolver<'r, 'a> =
    dyn Fn(&AttributePath) -> Option<(&'a AttributeDefinition, Option<&'a AttributeDefinition>)> + 'r;

fn check<'a>(filter: &Filter, resolve: &Resolver<'_, 'a>) -> Result<(), ScimError> {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            check(left, resolve)?;
            check(right, resolve)
        }
        Filter::Not(inner) => check(inner, resolve),
        Filter::Present(path) => check_leaf(path, None, resolve(path)),
        Filter::Compare { path, operator, .. } => check_leaf(path, Some(*operator), resolve(path)),
        Filter::ValuePath { path, filter } => {
            let resolved = resolve(path);
            check_leaf(path, None, resolved)?;
            let Some((attribute, _)) = resolved else { return Ok(()) };
            check(filter, &|inner: &AttributePath| attribute.sub_attribute(&inner.name).map(|sub| (sub, None)))
        }
    }
}

fn check_leaf(
    path: &AttributePath,
    operator: Option<CompareOperator>,
    resolved: Option<(&AttributeDefinition, Option<&AttributeDefinition>)>,
) -> Result<(), ScimError> {
    let Some((attribute, sub_attribute)) = resolved else { return Ok(()) };
    if attribute.returned == Returned::Never || sub_attribute.is_some_and(|sub| sub.returned == Returned::Never) {
        return Err(ScimError::InvalidFilter(format!("{path} cannot be filtered on")));
    }
    let leaf = match sub_attribute {
        Some(sub) => sub,
        None if attribute.attribute_type == AttributeType::Complex => match attribute.sub_attribute("value") {
            Some(value) => value,
            None => return Ok(()),
        },
        None => attribute,
    };
    let ordering_or_substring =
        operator.is_some_and(|operator| !matches!(operator, CompareOperator::Equal | CompareOperator::NotEqual));
    if ordering_or_substring && matches!(leaf.attribute_type, AttributeType::Boolean | AttributeType::Binary) {
        let operator = operator.map_or("", CompareOperator::as_str);
        return Err(ScimError::InvalidFilter(format!(
            "{operator} cannot be used on {path}, a {} attribute",
            leaf.attribute_type.as_str()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;

    fn run(text: &str) -> Result<(), ScimError> {
        let registry = SchemaRegistry::standard();
        let user = registry.resource_type("User").unwrap().clone();
        validate(&parse(text).unwrap(), &registry, &user)
    }

    #[test]
    fn accepts_ordinary_filters() {
        for text in [
            r#"userName eq "a""#,
            "active eq true",
            r#"emails[type eq "work" and primary eq true]"#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"unknownThing co "x""#,
            "x509Certificates pr",
        ] {
            assert!(run(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn rejects_operators_the_type_cannot_take_and_never_returned_attributes() {
        for text in [
            "active gt false",
            r#"emails[primary co "t"]"#,
            r#"x509Certificates.value sw "MII""#,
            r#"x509Certificates co "MII""#,
            r#"password eq "hunter2""#,
            "password pr",
            r#"not (password sw "a")"#,
        ] {
            assert!(matches!(run(text), Err(ScimError::InvalidFilter(_))), "{text}");
        }
    }
}
