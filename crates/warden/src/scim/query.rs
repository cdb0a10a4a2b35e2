//! Lists and searches.
//!
//! A filter's indexed part becomes [`ScimCondition`]s the store evaluates: `eq` on `id`, `externalId`,
//! `displayName`, `userName` and `emails` / `emails.value`, and `and` of those. When that is the whole filter and
//! the sort key is a column, the store pages (`LIMIT`/`OFFSET`). Otherwise the store narrows by the indexed part (or
//! returns the tenant's resources of that type), and `warden_scim::filter::matches` and an in-memory sort decide;
//! a filter with no indexed part is therefore a scan of the tenant.

use std::cmp::Ordering;

use serde_json::Value;
use warden_scim::filter::{self, CompareOperator, CompareValue, Filter};
use warden_scim::list::{ListParameters, ListResponse, SortOrder};
use warden_scim::path::AttributePath;
use warden_scim::projection;

use crate::app::scim_records::{core_schema, render, resource_type};
use crate::scim::auth::Caller;
use crate::scim::error::Error;
use crate::scim::state::ScimState;
use crate::store::{ScimCondition, ScimKind, ScimQuery, ScimSortKey};

/// The store's part of a filter, and whether it is the whole filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) conditions: Vec<ScimCondition>,
    pub(crate) exact: bool,
}

pub(crate) fn plan(kind: ScimKind, filter: Option<&Filter>) -> Plan {
    match filter {
        None => Plan { conditions: Vec::new(), exact: true },
        Some(filter) => translate(kind, filter),
    }
}

fn translate(kind: ScimKind, filter: &Filter) -> Plan {
    match filter {
        Filter::Compare { path, operator: CompareOperator::Equal, value: CompareValue::String(value) } => {
            match condition(kind, path, value) {
                Some(condition) => Plan { conditions: vec![condition], exact: true },
                None => Plan { conditions: Vec::new(), exact: false },
            }
        }
        Filter::And(left, right) => {
            let (left, right) = (translate(kind, left), translate(kind, right));
            Plan { conditions: [left.conditions, right.conditions].concat(), exact: left.exact && right.exact }
        }
        // Entra's `emails[type eq "work"].value eq "x"` arrives as `emails[type eq "work" and value eq "x"]`: the
        // address narrows, the type is checked in memory.
        Filter::ValuePath { path, filter }
            if kind == ScimKind::User && is_core(kind, path) && is(path, "emails", None) =>
        {
            Plan {
                conditions: email_values(filter).into_iter().map(ScimCondition::Email).take(1).collect(),
                exact: false,
            }
        }
        _ => Plan { conditions: Vec::new(), exact: false },
    }
}

fn email_values(filter: &Filter) -> Vec<String> {
    match filter {
        Filter::Compare { path, operator: CompareOperator::Equal, value: CompareValue::String(value) }
            if path.urn.is_none() && path.sub_attribute.is_none() && path.name.eq_ignore_ascii_case("value") =>
        {
            vec![value.clone()]
        }
        Filter::And(left, right) => [email_values(left), email_values(right)].concat(),
        _ => Vec::new(),
    }
}

fn is_core(kind: ScimKind, path: &AttributePath) -> bool {
    path.urn.as_deref().is_none_or(|urn| urn.eq_ignore_ascii_case(core_schema(kind)))
}

fn is(path: &AttributePath, name: &str, sub_attribute: Option<&str>) -> bool {
    path.name.eq_ignore_ascii_case(name)
        && match (&path.sub_attribute, sub_attribute) {
            (None, None) => true,
            (Some(actual), Some(expected)) => actual.eq_ignore_ascii_case(expected),
            _ => false,
        }
}

fn condition(kind: ScimKind, path: &AttributePath, value: &str) -> Option<ScimCondition> {
    if !is_core(kind, path) {
        return None;
    }
    let value = value.to_owned();
    if is(path, "id", None) {
        Some(ScimCondition::Id(value))
    } else if is(path, "externalId", None) {
        Some(ScimCondition::ExternalId(value))
    } else if is(path, "displayName", None) {
        Some(ScimCondition::DisplayName(value))
    } else if kind == ScimKind::User && is(path, "userName", None) {
        Some(ScimCondition::UserName(value))
    } else if kind == ScimKind::User && (is(path, "emails", None) || is(path, "emails", Some("value"))) {
        Some(ScimCondition::Email(value))
    } else {
        None
    }
}

/// The store column a `sortBy` names, if it is one.
fn sort_key(kind: ScimKind, path: &AttributePath) -> Option<ScimSortKey> {
    if !is_core(kind, path) {
        return None;
    }
    [
        ("meta", Some("created"), ScimSortKey::Created),
        ("meta", Some("lastModified"), ScimSortKey::LastModified),
        ("id", None, ScimSortKey::Id),
        ("externalId", None, ScimSortKey::ExternalId),
        ("displayName", None, ScimSortKey::DisplayName),
    ]
    .into_iter()
    .chain((kind == ScimKind::User).then_some(("userName", None, ScimSortKey::UserName)))
    .find(|(name, sub_attribute, _)| is(path, name, *sub_attribute))
    .map(|(_, _, key)| key)
}

/// One page of a list or a per-type search.
pub(crate) async fn list(
    kind: ScimKind,
    state: &ScimState,
    caller: &Caller,
    parameters: &ListParameters,
) -> Result<Value, Error> {
    let resource_type = resource_type(kind, &state.records.registry)?;
    if let Some(filter) = &parameters.filter {
        filter::validate(filter, &state.records.registry, resource_type)?;
    }
    let plan = plan(kind, parameters.filter.as_ref());
    let descending = parameters.sort_order == SortOrder::Descending;
    let store_sort = match &parameters.sort_by {
        None => Some(ScimSortKey::Created),
        Some(path) => sort_key(kind, path),
    };
    let project = |resource: Value| {
        projection::project(
            resource,
            &parameters.attributes,
            &parameters.excluded_attributes,
            &state.records.registry,
            resource_type,
        )
    };
    if let (true, Some(sort)) = (plan.exact, store_sort) {
        let query = ScimQuery {
            conditions: plan.conditions,
            sort,
            descending,
            offset: parameters.offset(),
            limit: Some(parameters.count),
        };
        let page = state.records.store.list_scim_records(kind, &caller.tenant, &query).await?;
        let resources =
            page.records.into_iter().map(|record| project(render(kind, record, &caller.base_url))).collect();
        return Ok(ListResponse::new(page.total, parameters.start_index, resources).into_json());
    }
    let matched = matching(kind, state, caller, parameters, plan.conditions).await?;
    let total = matched.len() as u64;
    let offset = usize::try_from(parameters.offset()).unwrap_or(usize::MAX);
    let count = usize::try_from(parameters.count).unwrap_or(usize::MAX);
    let resources = matched.into_iter().skip(offset).take(count).map(project).collect();
    Ok(ListResponse::new(total, parameters.start_index, resources).into_json())
}

/// Every resource of a kind that matches the filter, rendered and sorted: the in-memory path. Rendering, matching
/// and sorting a tenant's resources is CPU work: it runs on the compute pool.
pub(crate) async fn matching(
    kind: ScimKind,
    state: &ScimState,
    caller: &Caller,
    parameters: &ListParameters,
    conditions: Vec<ScimCondition>,
) -> Result<Vec<Value>, Error> {
    let query = ScimQuery { conditions, ..ScimQuery::default() };
    let page = state.records.store.list_scim_records(kind, &caller.tenant, &query).await?;
    let (registry, base_url) = (state.records.registry.clone(), caller.base_url.clone());
    let (filter, sort_by, sort_order) = (parameters.filter.clone(), parameters.sort_by.clone(), parameters.sort_order);
    let resources = state
        .records
        .compute
        .run(move || {
            let mut resources: Vec<Value> = page
                .records
                .into_iter()
                .map(|record| render(kind, record, &base_url))
                .filter(|resource| filter.as_ref().is_none_or(|filter| filter::matches(filter, resource, &registry)))
                .collect();
            if let Some(path) = &sort_by {
                resources.sort_by(|left, right| {
                    let ordering = compare_sort_values(sort_value(left, path), sort_value(right, path));
                    match (sort_order, sort_value(left, path).is_some() && sort_value(right, path).is_some()) {
                        (SortOrder::Descending, true) => ordering.reverse(),
                        _ => ordering,
                    }
                });
            }
            resources
        })
        .await?;
    Ok(resources)
}

/// The value a resource is sorted by: the attribute (or sub-attribute); of a multi-valued one, the primary value or
/// else the first.
fn sort_value<'r>(resource: &'r Value, path: &AttributePath) -> Option<&'r Value> {
    let container = match &path.urn {
        Some(urn) => lookup(resource, urn).or_else(|| lookup(resource, &format!("{urn}:{}", path.name)))?,
        None => resource,
    };
    let mut value = lookup(container, &path.name)?;
    if let Value::Array(items) = value {
        value = items
            .iter()
            .find(|item| lookup(item, "primary").and_then(Value::as_bool).unwrap_or(false))
            .or_else(|| items.first())?;
    }
    match &path.sub_attribute {
        Some(sub) => lookup(value, sub),
        None if value.is_object() => lookup(value, "value"),
        None => Some(value),
    }
}

fn lookup<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    value.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// Missing values last; strings case-insensitively; numbers numerically; otherwise by kind.
fn compare_sort_values(left: Option<&Value>, right: Option<&Value>) -> Ordering {
    match (left, right) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(Value::String(left)), Some(Value::String(right))) => left.to_lowercase().cmp(&right.to_lowercase()),
        (Some(Value::Number(left)), Some(Value::Number(right))) => {
            left.as_f64().unwrap_or(0.0).total_cmp(&right.as_f64().unwrap_or(0.0))
        }
        (Some(Value::Bool(left)), Some(Value::Bool(right))) => left.cmp(right),
        (Some(left), Some(right)) => left.to_string().cmp(&right.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(kind: ScimKind, text: &str) -> Plan {
        plan(kind, Some(&filter::parse(text).unwrap()))
    }

    #[test]
    fn indexed_equalities_and_their_conjunctions_go_to_the_store() {
        let plan = plan_of(ScimKind::User, r#"userName eq "A" and externalId eq "x" and emails.value eq "a@x""#);
        assert!(plan.exact);
        assert_eq!(
            plan.conditions,
            vec![
                ScimCondition::UserName("A".into()),
                ScimCondition::ExternalId("x".into()),
                ScimCondition::Email("a@x".into())
            ]
        );
        let urn = plan_of(ScimKind::User, r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#);
        assert_eq!(urn, Plan { conditions: vec![ScimCondition::UserName("a".into())], exact: true });
        assert_eq!(
            plan_of(ScimKind::Group, r#"displayName eq "Team""#).conditions,
            vec![ScimCondition::DisplayName("Team".into())]
        );
        assert!(!plan_of(ScimKind::Group, r#"userName eq "a""#).exact);
    }

    #[test]
    fn the_rest_is_evaluated_in_memory_narrowed_where_possible() {
        let entra = plan_of(ScimKind::User, r#"emails[type eq "work"].value eq "a@x""#);
        assert_eq!(entra, Plan { conditions: vec![ScimCondition::Email("a@x".into())], exact: false });
        let mixed = plan_of(ScimKind::User, r#"userName eq "a" and active eq true"#);
        assert_eq!(mixed, Plan { conditions: vec![ScimCondition::UserName("a".into())], exact: false });
        for text in [r#"userName sw "a""#, r#"userName eq "a" or userName eq "b""#, r#"not (userName eq "a")"#] {
            assert_eq!(plan_of(ScimKind::User, text), Plan { conditions: Vec::new(), exact: false }, "{text}");
        }
    }

    #[test]
    fn sorting_puts_missing_values_last_and_ignores_case() {
        let path = AttributePath::parse("name.familyName").unwrap();
        let (a, b) =
            (serde_json::json!({"name": {"familyName": "b"}}), serde_json::json!({"name": {"familyName": "A"}}));
        assert_eq!(compare_sort_values(sort_value(&a, &path), sort_value(&b, &path)), Ordering::Greater);
        assert_eq!(compare_sort_values(None, sort_value(&b, &path)), Ordering::Greater);
        let emails = serde_json::json!({"emails": [{"value": "z"}, {"value": "a", "primary": true}]});
        assert_eq!(sort_value(&emails, &AttributePath::parse("emails").unwrap()), Some(&serde_json::json!("a")));
    }
}
