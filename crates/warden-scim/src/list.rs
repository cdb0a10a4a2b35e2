//! List and search parameters (RFC 7644 sections 3.4.2 and 3.4.3) and the ListResponse body.

use serde_json::{Value, json};

use crate::error::ScimError;
use crate::filter::{self, Filter};
use crate::json::get_ignore_case;
use crate::path::AttributePath;

/// The schema URN of a list response.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema URN of a `POST /.search` body.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The caller's paging limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// The largest page; a larger `count` is clamped to it (advertise it as `filter.maxResults`).
    pub max_count: u64,
    /// The page size when the request has no `count`; clamped to `max_count`.
    pub default_count: u64,
}

/// The direction of `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Smallest first (the RFC default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// Validated list parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParameters {
    /// The parsed `filter`, if any (an empty filter counts as none).
    pub filter: Option<Filter>,
    /// The attribute to sort by, if any.
    pub sort_by: Option<AttributePath>,
    /// The sort direction (ascending when not given).
    pub sort_order: SortOrder,
    /// The 1-based index of the first result; values below 1 become 1.
    pub start_index: u64,
    /// How many results to return: clamped to [`ListLimits::max_count`], negative becomes 0, and 0 asks only
    /// for `totalResults`.
    pub count: u64,
    /// `attributes`: return only these (plus those returned always).
    pub attributes: Vec<AttributePath>,
    /// `excludedAttributes`: return all defaults except these.
    pub excluded_attributes: Vec<AttributePath>,
}

impl ListParameters {
    /// Defaults: no filter, no sort, start at 1, `limits.default_count` results.
    pub fn new(limits: &ListLimits) -> Self {
        ListParameters {
            filter: None,
            sort_by: None,
            sort_order: SortOrder::Ascending,
            start_index: 1,
            count: limits.default_count.min(limits.max_count),
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
        }
    }

    /// Reads query parameters, already percent-decoded. Names are case-insensitive, unknown names are ignored,
    /// and a repeated name keeps its last value.
    ///
    /// Errors: [`ScimError::InvalidFilter`] for a bad filter, [`ScimError::InvalidPath`] for a bad attribute path
    /// in `sortBy` / `attributes` / `excludedAttributes`, [`ScimError::InvalidValue`] for a non-integer
    /// `startIndex` / `count` or an unknown `sortOrder`.
    pub fn from_query<I, K, V>(pairs: I, limits: &ListLimits) -> Result<Self, ScimError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut parameters = ListParameters::new(limits);
        for (name, value) in pairs {
            let value = value.as_ref();
            let Some(parameter) = Parameter::from_name(name.as_ref()) else { continue };
            match parameter {
                Parameter::Filter => parameters.filter = parse_filter(value)?,
                Parameter::SortBy => parameters.sort_by = parse_sort_by(value)?,
                Parameter::SortOrder => parameters.sort_order = parse_sort_order(value)?,
                Parameter::StartIndex => parameters.start_index = start_index_from(parse_integer("startIndex", value)?),
                Parameter::Count => parameters.count = count_from(parse_integer("count", value)?, limits),
                Parameter::Attributes => parameters.attributes = parse_attribute_list(value)?,
                Parameter::ExcludedAttributes => parameters.excluded_attributes = parse_attribute_list(value)?,
            }
        }
        Ok(parameters)
    }

    /// Reads a `POST /.search` body (RFC 7644 section 3.4.3). Member names are case-insensitive; `attributes`
    /// may be an array of strings or one comma-separated string; `startIndex` and `count` may be numbers or
    /// numeric strings. Its `schemas` must be `[`[`SEARCH_REQUEST_SCHEMA`]`]`.
    pub fn from_search_request(body: &Value, limits: &ListLimits) -> Result<Self, ScimError> {
        let Some(object) = body.as_object() else {
            return Err(ScimError::InvalidSyntax("a search request must be a JSON object".to_owned()));
        };
        check_message_schemas(body, SEARCH_REQUEST_SCHEMA, "a search request")?;
        let mut parameters = ListParameters::new(limits);
        for (name, value) in object {
            let Some(parameter) = Parameter::from_name(name) else { continue };
            if value.is_null() {
                continue;
            }
            match parameter {
                Parameter::Filter => parameters.filter = parse_filter(expect_string(name, value)?)?,
                Parameter::SortBy => parameters.sort_by = parse_sort_by(expect_string(name, value)?)?,
                Parameter::SortOrder => parameters.sort_order = parse_sort_order(expect_string(name, value)?)?,
                Parameter::StartIndex => parameters.start_index = start_index_from(json_integer(name, value)?),
                Parameter::Count => parameters.count = count_from(json_integer(name, value)?, limits),
                Parameter::Attributes => parameters.attributes = json_attribute_list(name, value)?,
                Parameter::ExcludedAttributes => parameters.excluded_attributes = json_attribute_list(name, value)?,
            }
        }
        Ok(parameters)
    }

    /// The 0-based offset of the first result (`startIndex - 1`), for a database query.
    pub fn offset(&self) -> u64 {
        self.start_index.saturating_sub(1)
    }
}

/// The `schemas` of a protocol message (PatchOp, SearchRequest, BulkRequest): required, an array naming `urn` and
/// nothing else (compared case-insensitively). Otherwise [`ScimError::InvalidSyntax`]; `what` names the message.
pub fn check_message_schemas(message: &Value, urn: &str, what: &str) -> Result<(), ScimError> {
    let listed = get_ignore_case(message, "schemas").and_then(Value::as_array).is_some_and(|schemas| {
        !schemas.is_empty()
            && schemas.iter().all(|listed| listed.as_str().is_some_and(|listed| listed.eq_ignore_ascii_case(urn)))
    });
    if listed { Ok(()) } else { Err(ScimError::InvalidSyntax(format!("{what} needs \"schemas\": [\"{urn}\"]"))) }
}

/// A list response: one page of resources plus the paging numbers, rendered as JSON integers.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResponse {
    /// How many resources match in total, across all pages.
    pub total_results: u64,
    /// The 1-based index of the first resource of this page.
    pub start_index: u64,
    /// This page's resources (already projected).
    pub resources: Vec<Value>,
}

impl ListResponse {
    /// A page of a larger result.
    pub fn new(total_results: u64, start_index: u64, resources: Vec<Value>) -> Self {
        ListResponse { total_results, start_index, resources }
    }

    /// A single page holding every result.
    pub fn complete(resources: Vec<Value>) -> Self {
        ListResponse { total_results: resources.len() as u64, start_index: 1, resources }
    }

    /// The body: `schemas`, `totalResults`, `itemsPerPage` (the page length), `startIndex` and `Resources`
    /// (always present, possibly empty).
    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// Like [`ListResponse::to_json`], without copying the resources.
    pub fn into_json(self) -> Value {
        json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": self.total_results,
            "itemsPerPage": self.resources.len(),
            "startIndex": self.start_index,
            "Resources": self.resources,
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Parameter {
    Filter,
    SortBy,
    SortOrder,
    StartIndex,
    Count,
    Attributes,
    ExcludedAttributes,
}

impl Parameter {
    fn from_name(name: &str) -> Option<Self> {
        const NAMES: [(&str, Parameter); 7] = [
            ("filter", Parameter::Filter),
            ("sortBy", Parameter::SortBy),
            ("sortOrder", Parameter::SortOrder),
            ("startIndex", Parameter::StartIndex),
            ("count", Parameter::Count),
            ("attributes", Parameter::Attributes),
            ("excludedAttributes", Parameter::ExcludedAttributes),
        ];
        NAMES.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, parameter)| *parameter)
    }
}

fn parse_filter(text: &str) -> Result<Option<Filter>, ScimError> {
    if text.trim().is_empty() { Ok(None) } else { filter::parse(text).map(Some) }
}

fn parse_sort_by(text: &str) -> Result<Option<AttributePath>, ScimError> {
    let text = text.trim();
    if text.is_empty() { Ok(None) } else { AttributePath::parse(text).map(Some) }
}

fn parse_sort_order(text: &str) -> Result<SortOrder, ScimError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("ascending") {
        Ok(SortOrder::Ascending)
    } else if text.eq_ignore_ascii_case("descending") {
        Ok(SortOrder::Descending)
    } else {
        Err(ScimError::InvalidValue(format!("sortOrder must be \"ascending\" or \"descending\", not {text:?}")))
    }
}

fn parse_attribute_list(text: &str) -> Result<Vec<AttributePath>, ScimError> {
    text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(AttributePath::parse).collect()
}

/// Parses an integer, saturating at the `i64` range instead of failing on very long digit strings.
fn parse_integer(name: &str, text: &str) -> Result<i64, ScimError> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i64>() {
        return Ok(number);
    }
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Ok(if text.starts_with('-') { i64::MIN } else { i64::MAX });
    }
    Err(ScimError::InvalidValue(format!("{name} must be an integer, not {text:?}")))
}

fn json_integer(name: &str, value: &Value) -> Result<i64, ScimError> {
    match value {
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                Ok(integer)
            } else if number.as_u64().is_some() {
                Ok(i64::MAX)
            } else {
                Err(ScimError::InvalidValue(format!("{name} must be an integer, not {number}")))
            }
        }
        Value::String(text) => parse_integer(name, text),
        other => Err(ScimError::InvalidValue(format!("{name} must be an integer, not {other}"))),
    }
}

fn expect_string<'a>(name: &str, value: &'a Value) -> Result<&'a str, ScimError> {
    value.as_str().ok_or_else(|| ScimError::InvalidValue(format!("{name} must be a string")))
}

fn json_attribute_list(name: &str, value: &Value) -> Result<Vec<AttributePath>, ScimError> {
    match value {
        Value::String(text) => parse_attribute_list(text),
        Value::Array(items) => {
            let mut paths = Vec::new();
            for item in items {
                paths.extend(parse_attribute_list(expect_string(name, item)?)?);
            }
            Ok(paths)
        }
        _ => Err(ScimError::InvalidValue(format!("{name} must be an array of strings"))),
    }
}

fn start_index_from(requested: i64) -> u64 {
    u64::try_from(requested).unwrap_or(0).max(1)
}

fn count_from(requested: i64, limits: &ListLimits) -> u64 {
    u64::try_from(requested).unwrap_or(0).min(limits.max_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ListLimits = ListLimits { max_count: 200, default_count: 100 };

    fn query(pairs: &[(&str, &str)]) -> Result<ListParameters, ScimError> {
        ListParameters::from_query(pairs.iter().copied(), &LIMITS)
    }

    #[test]
    fn defaults_when_empty() {
        let parameters = query(&[]).unwrap();
        assert_eq!(parameters, ListParameters::new(&LIMITS));
        assert_eq!(parameters.start_index, 1);
        assert_eq!(parameters.count, 100);
        assert_eq!(parameters.offset(), 0);
    }

    #[test]
    fn okta_lookup_query() {
        let parameters =
            query(&[("filter", r#"userName eq "bjensen@example.com""#), ("startIndex", "1"), ("count", "100")])
                .unwrap();
        assert!(parameters.filter.is_some());
        assert_eq!((parameters.start_index, parameters.count), (1, 100));
    }

    #[test]
    fn clamps_instead_of_rejecting() {
        assert_eq!(query(&[("count", "100000")]).unwrap().count, 200);
        assert_eq!(query(&[("count", "99999999999999999999999")]).unwrap().count, 200);
        assert_eq!(query(&[("count", "-5")]).unwrap().count, 0);
        assert_eq!(query(&[("count", "0")]).unwrap().count, 0);
        assert_eq!(query(&[("startIndex", "0")]).unwrap().start_index, 1);
        assert_eq!(query(&[("startIndex", "-7")]).unwrap().start_index, 1);
        assert_eq!(query(&[("startIndex", "51")]).unwrap().offset(), 50);
    }

    #[test]
    fn names_are_case_insensitive_and_unknown_ignored() {
        let parameters = query(&[
            ("STARTINDEX", "3"),
            ("Count", "7"),
            ("sortby", "name.familyName"),
            ("SortOrder", "Descending"),
            ("excludedattributes", "members, meta"),
            ("aadOptscim062020", ""),
        ])
        .unwrap();
        assert_eq!((parameters.start_index, parameters.count), (3, 7));
        assert_eq!(parameters.sort_by, Some(AttributePath::with_sub_attribute("name", "familyName")));
        assert_eq!(parameters.sort_order, SortOrder::Descending);
        assert_eq!(parameters.excluded_attributes, vec![AttributePath::new("members"), AttributePath::new("meta")]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(query(&[("count", "ten")]), Err(ScimError::InvalidValue(_))));
        assert!(matches!(query(&[("sortOrder", "up")]), Err(ScimError::InvalidValue(_))));
        assert!(matches!(query(&[("filter", "userName eq")]), Err(ScimError::InvalidFilter(_))));
        assert!(matches!(query(&[("attributes", "a.b.c")]), Err(ScimError::InvalidPath(_))));
        assert_eq!(query(&[("filter", "  ")]).unwrap().filter, None);
    }

    #[test]
    fn search_request_body() {
        let body = json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "attributes": ["displayName", "userName"],
            "excludedAttributes": "members",
            "filter": "displayName sw \"smith\"",
            "startIndex": 1,
            "count": "10",
            "sortOrder": "ascending",
        });
        let parameters = ListParameters::from_search_request(&body, &LIMITS).unwrap();
        assert_eq!(parameters.attributes, vec![AttributePath::new("displayName"), AttributePath::new("userName")]);
        assert_eq!(parameters.excluded_attributes, vec![AttributePath::new("members")]);
        assert_eq!(parameters.count, 10);
        assert!(parameters.filter.is_some());
        let wrong_schema = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]});
        assert!(matches!(
            ListParameters::from_search_request(&wrong_schema, &LIMITS),
            Err(ScimError::InvalidSyntax(_))
        ));
        assert!(ListParameters::from_search_request(&json!([]), &LIMITS).is_err());
        let search = |extra: Value| {
            let mut body = json!({"schemas": [SEARCH_REQUEST_SCHEMA]});
            for (key, value) in extra.as_object().unwrap() {
                body[key] = value.clone();
            }
            ListParameters::from_search_request(&body, &LIMITS)
        };
        assert_eq!(search(json!({"count": 1e9})).unwrap_err().status(), 400);
        assert_eq!(search(json!({"count": 5000})).unwrap().count, 200);
        for unnamed in [json!({"count": 1}), json!({"schemas": SEARCH_REQUEST_SCHEMA}), json!({"schemas": []})] {
            assert!(matches!(ListParameters::from_search_request(&unnamed, &LIMITS), Err(ScimError::InvalidSyntax(_))));
        }
    }

    #[test]
    fn list_response_uses_integers() {
        let body = ListResponse::new(42, 11, vec![json!({"id": "1"})]).into_json();
        assert_eq!(
            body,
            json!({
                "schemas": [LIST_RESPONSE_SCHEMA],
                "totalResults": 42,
                "itemsPerPage": 1,
                "startIndex": 11,
                "Resources": [{"id": "1"}],
            })
        );
        assert_eq!(ListResponse::new(0, 1, Vec::new()).to_json()["Resources"], json!([]));
    }
}
