//! Property tests: the filter printer round-trips, no input makes the parser, evaluator, PATCH engine or
//! projection panic, and a PATCH request does what its operations do one request at a time.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};
use warden_scim::ScimError;
use warden_scim::filter::{self, CompareOperator, CompareValue, Filter};
use warden_scim::patch::{PATCH_OP_SCHEMA, apply_patch};
use warden_scim::projection::project;
use warden_scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use warden_scim::{AttributePath, PatchPath, SchemaRegistry};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_$][A-Za-z0-9_-]{0,8}",
        Just("userName".to_owned()),
        Just("emails".to_owned()),
        Just("not".to_owned()),
        Just("and".to_owned()),
        Just("pr".to_owned()),
        Just("true".to_owned()),
    ]
}

fn urn() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(USER_SCHEMA.to_owned()),
        Just(ENTERPRISE_USER_SCHEMA.to_owned()),
        "urn:[a-z]{1,4}(:[A-Za-z0-9.-]{1,6}){0,3}",
    ]
}

fn attribute_path() -> impl Strategy<Value = AttributePath> {
    (proptest::option::of(urn()), name(), proptest::option::of(name()))
        .prop_map(|(urn, name, sub_attribute)| AttributePath { urn, name, sub_attribute })
}

fn plain_path() -> impl Strategy<Value = AttributePath> {
    name().prop_map(|name| AttributePath::new(&name))
}

fn compare_value() -> impl Strategy<Value = CompareValue> {
    prop_oneof![
        any::<String>().prop_map(CompareValue::String),
        "[ -~]{0,12}".prop_map(CompareValue::String),
        any::<i64>().prop_map(|number| CompareValue::Number(number.into())),
        any::<u64>().prop_map(|number| CompareValue::Number(number.into())),
        any::<f64>().prop_filter_map("finite", |number| Number::from_f64(number).map(CompareValue::Number)),
        any::<bool>().prop_map(CompareValue::Boolean),
        Just(CompareValue::Null),
    ]
}

fn operator() -> impl Strategy<Value = CompareOperator> {
    proptest::sample::select(CompareOperator::ALL.to_vec())
}

fn leaf(path: BoxedStrategy<AttributePath>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (path.clone(), operator(), compare_value()).prop_map(|(path, operator, value)| Filter::Compare {
            path,
            operator,
            value
        }),
        path.prop_map(Filter::Present),
    ]
}

fn combine(inner: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (inner.clone(), inner.clone()).prop_map(|(left, right)| Filter::And(Box::new(left), Box::new(right))),
        (inner.clone(), inner.clone()).prop_map(|(left, right)| Filter::Or(Box::new(left), Box::new(right))),
        inner.prop_map(|filter| Filter::Not(Box::new(filter))),
    ]
}

fn value_filter() -> BoxedStrategy<Filter> {
    leaf(plain_path().boxed()).prop_recursive(3, 12, 2, |inner| combine(inner.boxed())).boxed()
}

fn any_filter() -> BoxedStrategy<Filter> {
    let value_path = ((proptest::option::of(urn()), name()), value_filter()).prop_map(|((urn, name), filter)| {
        Filter::ValuePath { path: AttributePath { urn, name, sub_attribute: None }, filter: Box::new(filter) }
    });
    prop_oneof![3 => leaf(attribute_path().boxed()), 1 => value_path]
        .prop_recursive(4, 24, 2, |inner| combine(inner.boxed()))
        .boxed()
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        any::<f64>().prop_filter_map("finite", |number| Number::from_f64(number).map(Value::Number)),
        "[a-zA-Z0-9 @.]{0,8}".prop_map(Value::String),
        proptest::sample::select(vec!["True", "false", "work", "value", "2011-05-13T04:42:34Z"])
            .prop_map(|text| Value::String(text.to_owned())),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        let key = proptest::sample::select(vec![
            "value",
            "type",
            "primary",
            "display",
            "$ref",
            "givenName",
            "userName",
            "emails",
            "members",
            "name",
            "active",
            "id",
            "meta",
            "schemas",
            "op",
            "path",
            "Operations",
            ENTERPRISE_USER_SCHEMA,
            "manager",
            "password",
            "groups",
            "x",
        ])
        .prop_map(str::to_owned);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..5).prop_map(|members| Value::Object(Map::from_iter(members))),
        ]
    })
}

fn patch_path_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "members",
            "members[value eq \"1\"]",
            "members[value eq \"1\"].display",
            "emails[type eq \"work\"].value",
            "emails[type eq \"work\" and primary eq true]",
            "emails[value co \"x\"].type",
            "emails.value",
            "name.givenName",
            "name",
            "active",
            "userName",
            "displayName",
            "groups",
            "id",
            "meta.version",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
            "x509Certificates[value pr]",
            "",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z.\\[\\]\" =:]{0,24}",
    ]
}

fn operation() -> impl Strategy<Value = Value> {
    let op = proptest::sample::select(vec!["add", "Add", "replace", "Replace", "remove", "REMOVE"]);
    (op, proptest::option::of(patch_path_text()), proptest::option::of(any_json())).prop_map(|(op, path, value)| {
        let mut operation = Map::new();
        operation.insert("op".to_owned(), json!(op));
        if let Some(path) = path {
            operation.insert("path".to_owned(), json!(path));
        }
        if let Some(value) = value {
            operation.insert("value".to_owned(), value);
        }
        Value::Object(operation)
    })
}

fn sample_resource() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "1",
            "userName": "bjensen",
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "a@x", "type": "work", "primary": true}, {"value": "b@x"}],
            "groups": [{"value": "g"}],
            ENTERPRISE_USER_SCHEMA: {"manager": {"value": "2"}}
        })),
        Just(json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "G", "members": [{"value": "1"}]})),
        any_json(),
    ]
}

/// One value of a multi-valued attribute, from a small domain so that values often collide (same `value` in
/// another case, another or no `type`, `primary` on several).
fn colliding_value(case_exact: bool) -> impl Strategy<Value = Value> {
    let value = if case_exact {
        proptest::sample::select(vec!["a", "b", "c"]).boxed()
    } else {
        proptest::sample::select(vec!["a@x", "A@X", "b@x", "c@x"]).boxed()
    };
    (
        proptest::option::of(value),
        proptest::option::of(proptest::sample::select(vec!["work", "Work", "home", "other"])),
        proptest::option::of(any::<bool>()),
        proptest::option::of(proptest::sample::select(vec!["d1", "d2"])),
    )
        .prop_map(|(value, kind, primary, display)| {
            let mut object = Map::new();
            if let Some(value) = value {
                object.insert("value".to_owned(), json!(value));
            }
            if let Some(kind) = kind {
                object.insert("type".to_owned(), json!(kind));
            }
            if let Some(primary) = primary {
                object.insert("primary".to_owned(), json!(primary));
            }
            if let Some(display) = display {
                object.insert("display".to_owned(), json!(display));
            }
            if object.is_empty() {
                object.insert("display".to_owned(), json!("d0"));
            }
            Value::Object(object)
        })
}

/// Operations on one multi-valued attribute (`emails` of a user, `members` of a group), in every form the engine
/// indexes (whole attribute, removal by value, `value eq` filters) and some it scans.
fn multi_valued_operation(attribute: &'static str, case_exact: bool) -> impl Strategy<Value = Value> {
    let filters = if case_exact {
        vec![
            "value eq \"a\"",
            "value eq \"b\" and type eq \"work\"",
            "type eq \"home\"",
            "display eq \"d1\"",
            "value eq \"A\"",
            "not (value eq \"c\")",
            "primary eq true",
        ]
    } else {
        vec![
            "value eq \"a@x\"",
            "value eq \"B@X\" and type eq \"work\"",
            "type eq \"home\"",
            "display eq \"d1\"",
            "value co \"x\"",
            "not (value eq \"c@x\")",
            "primary eq true",
        ]
    };
    let sub_attributes = if case_exact { vec!["display", "type"] } else { vec!["display", "type", "primary", "value"] };
    let op = proptest::sample::select(vec!["add", "replace", "remove"]);
    let values = proptest::collection::vec(colliding_value(case_exact), 0..4).prop_map(Value::Array);
    let path = prop_oneof![
        Just(attribute.to_owned()),
        proptest::sample::select(filters.clone()).prop_map(move |filter| format!("{attribute}[{filter}]")),
        (proptest::sample::select(filters), proptest::sample::select(sub_attributes.clone()))
            .prop_map(move |(filter, sub)| format!("{attribute}[{filter}].{sub}")),
        proptest::sample::select(sub_attributes).prop_map(move |sub| format!("{attribute}.{sub}")),
    ];
    let scalar = prop_oneof![
        proptest::sample::select(vec!["d3", "work", "home", "a@x"]).prop_map(|text| json!(text)),
        any::<bool>().prop_map(|flag| json!(flag)),
    ];
    (op, path, prop_oneof![values, colliding_value(case_exact), scalar, Just(Value::Null)]).prop_map(
        |(op, path, value)| {
            let mut operation = json!({"op": op, "path": path});
            if !(op == "remove" && value.is_null()) {
                operation["value"] = value;
            }
            operation
        },
    )
}

fn one_at_a_time(
    resource: &Value,
    operations: &[Value],
    registry: &SchemaRegistry,
    resource_type: &warden_scim::schema::ResourceType,
) -> Result<Value, ScimError> {
    let mut current = resource.clone();
    for operation in operations {
        let request = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [operation]});
        current = apply_patch(&current, &request, registry, resource_type)?;
    }
    Ok(current)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_filters_parse_back_to_the_same_ast(filter in any_filter()) {
        let printed = filter.to_string();
        let parsed = filter::parse(&printed);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&filter), "printed: {}, parsed: {:?}", printed, parsed);
    }

    #[test]
    fn printed_patch_paths_parse_back(path in (attribute_path(), proptest::option::of(value_filter()))) {
        let (attribute, value_filter) = path;
        let patch_path = PatchPath { attribute, value_filter };
        let printed = patch_path.to_string();
        prop_assert_eq!(PatchPath::parse(&printed).ok(), Some(patch_path), "printed: {}", printed);
    }

    #[test]
    fn parser_never_panics_on_any_string(text in any::<String>()) {
        let _ = filter::parse(&text);
        let _ = filter::parse_patch_path(&text);
        let _ = AttributePath::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_filter_like_text(text in "[a-zA-Z0-9 ()\\[\\]\".:\\\\$_-]{0,300}") {
        let _ = filter::parse(&text);
        let _ = filter::parse_patch_path(&text);
    }

    #[test]
    fn evaluation_never_panics(filter in any_filter(), resource in sample_resource()) {
        let registry = SchemaRegistry::standard();
        let _ = filter::matches(&filter, &resource, &registry);
    }

    #[test]
    fn patch_never_panics_on_arbitrary_json(resource in sample_resource(), request in any_json()) {
        let registry = SchemaRegistry::standard();
        for resource_type in registry.resource_types() {
            let _ = apply_patch(&resource, &request, &registry, resource_type);
        }
    }

    #[test]
    fn patch_never_panics_on_plausible_operations(
        resource in sample_resource(),
        operations in proptest::collection::vec(operation(), 0..6),
    ) {
        let registry = SchemaRegistry::standard();
        let request = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
        for resource_type in registry.resource_types() {
            if let Ok(patched) = apply_patch(&resource, &request, &registry, resource_type) {
                // A successful PATCH yields an object whose schemas list is an array.
                prop_assert!(patched.is_object());
                prop_assert!(patched["schemas"].is_array());
            }
        }
    }

    #[test]
    fn projection_never_panics(
        resource in sample_resource(),
        attributes in proptest::collection::vec(attribute_path(), 0..3),
        excluded in proptest::collection::vec(attribute_path(), 0..3),
    ) {
        let registry = SchemaRegistry::standard();
        for resource_type in registry.resource_types() {
            let projected = project(resource.clone(), &attributes, &excluded, &registry, resource_type);
            if resource_type.name == "User" {
                prop_assert!(projected.get("password").is_none());
            }
        }
    }

    #[test]
    fn one_request_does_what_its_operations_do_one_at_a_time(
        emails in proptest::collection::vec(colliding_value(false), 0..6),
        members in proptest::collection::vec(colliding_value(true), 0..6),
        email_operations in proptest::collection::vec(multi_valued_operation("emails", false), 1..8),
        member_operations in proptest::collection::vec(multi_valued_operation("members", true), 1..8),
    ) {
        let registry = SchemaRegistry::standard();
        let cases = [
            (json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "u", "emails": emails}), "User", email_operations),
            (json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "G", "members": members}), "Group", member_operations),
        ];
        for (resource, type_name, operations) in cases {
            let resource_type = registry.resource_type(type_name).unwrap();
            let together = apply_patch(
                &resource,
                &json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations}),
                &registry,
                resource_type,
            );
            // One at a time, each request must also keep required attributes; one request only at its end.
            if let Ok(separately) = one_at_a_time(&resource, &operations, &registry, resource_type) {
                prop_assert_eq!(together.as_ref().ok(), Some(&separately), "{}", json!(operations));
            }
        }
    }
}
