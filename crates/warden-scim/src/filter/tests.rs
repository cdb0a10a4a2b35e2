//! Grammar and evaluator tests. Round-trip and never-panic properties live in `tests/properties.rs`.

use serde_json::{Value, json};

use crate::error::ScimError;
use crate::filter::{
    CompareOperator, CompareValue, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, matches, parse, parse_patch_path,
};
use crate::path::AttributePath;
use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SchemaRegistry, USER_SCHEMA};

fn compare(path: &str, operator: CompareOperator, value: CompareValue) -> Filter {
    Filter::Compare { path: AttributePath::parse(path).unwrap(), operator, value }
}

fn string(text: &str) -> CompareValue {
    CompareValue::String(text.to_owned())
}

fn present(path: &str) -> Filter {
    Filter::Present(AttributePath::parse(path).unwrap())
}

fn and(left: Filter, right: Filter) -> Filter {
    Filter::And(Box::new(left), Box::new(right))
}

fn or(left: Filter, right: Filter) -> Filter {
    Filter::Or(Box::new(left), Box::new(right))
}

fn not(inner: Filter) -> Filter {
    Filter::Not(Box::new(inner))
}

fn value_path(path: &str, filter: Filter) -> Filter {
    Filter::ValuePath { path: AttributePath::parse(path).unwrap(), filter: Box::new(filter) }
}

/// Every example filter of RFC 7644 section 3.4.2.2 parses, and prints back to something that parses equal.
#[test]
fn rfc_examples_parse_and_round_trip() {
    let examples = [
        r#"userName Eq "john""#,
        r#"Username eq "john""#,
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        "title pr",
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#,
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
    ];
    for text in examples {
        let filter = parse(text).unwrap_or_else(|error| panic!("{text}: {error}"));
        let printed = filter.to_string();
        assert_eq!(parse(&printed).unwrap(), filter, "{text} printed as {printed}");
    }
}

#[test]
fn operators_and_keywords_are_case_insensitive() {
    for operator in CompareOperator::ALL {
        let upper = format!("userName {} \"x\"", operator.as_str().to_uppercase());
        assert_eq!(parse(&upper).unwrap(), compare("userName", operator, string("x")));
    }
    assert_eq!(parse("title PR AND nickName Pr").unwrap(), and(present("title"), present("nickName")));
    assert_eq!(parse("NOT (title pr)").unwrap(), not(present("title")));
    assert_eq!(
        parse("active eq TRUE").unwrap(),
        compare("active", CompareOperator::Equal, CompareValue::Boolean(true))
    );
    assert_eq!(
        parse("active eq False").unwrap(),
        compare("active", CompareOperator::Equal, CompareValue::Boolean(false))
    );
    assert_eq!(parse("nickName eq NULL").unwrap(), compare("nickName", CompareOperator::Equal, CompareValue::Null));
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let a = || present("a");
    let b = || present("b");
    let c = || present("c");
    assert_eq!(parse("a pr or b pr and c pr").unwrap(), or(a(), and(b(), c())));
    assert_eq!(parse("a pr and b pr or c pr").unwrap(), or(and(a(), b()), c()));
    assert_eq!(parse("a pr and (b pr or c pr)").unwrap(), and(a(), or(b(), c())));
    assert_eq!(parse("not (a pr) and b pr").unwrap(), and(not(a()), b()));
    assert_eq!(parse("a pr or b pr or c pr").unwrap(), or(or(a(), b()), c()));
    assert_eq!(parse("a pr and b pr and c pr").unwrap(), and(and(a(), b()), c()));
    assert_eq!(parse("((a pr))").unwrap(), a());
    assert_eq!(and(a(), and(b(), c())).to_string(), "a pr and (b pr and c pr)");
    assert_eq!(and(or(a(), b()), c()).to_string(), "(a pr or b pr) and c pr");
}

#[test]
fn values_of_every_kind() {
    assert_eq!(
        parse(r#"displayName eq "say \"hi\"\n\u00e9""#).unwrap(),
        compare("displayName", CompareOperator::Equal, string("say \"hi\"\né"))
    );
    let number = |text: &str| CompareValue::Number(serde_json::from_str(text).unwrap());
    assert_eq!(parse("age gt 42").unwrap(), compare("age", CompareOperator::GreaterThan, number("42")));
    assert_eq!(parse("score le -1.5").unwrap(), compare("score", CompareOperator::LessOrEqual, number("-1.5")));
    assert_eq!(parse("score lt 2e3").unwrap(), compare("score", CompareOperator::LessThan, number("2e3")));
    assert_eq!(
        parse(r#"displayName eq "\ud83d\ude00""#).unwrap().to_string(),
        "displayName eq \"\u{1F600}\"".to_owned()
    );
}

#[test]
fn complex_filters_and_sub_attribute_after_brackets() {
    assert_eq!(
        parse(r#"emails[type eq "work" and primary eq true]"#).unwrap(),
        value_path(
            "emails",
            and(
                compare("type", CompareOperator::Equal, string("work")),
                compare("primary", CompareOperator::Equal, CompareValue::Boolean(true))
            )
        )
    );
    // Entra ID's join on a work email.
    assert_eq!(
        parse(r#"emails[type eq "work"].value eq "a@b.c""#).unwrap(),
        value_path(
            "emails",
            and(
                compare("type", CompareOperator::Equal, string("work")),
                compare("value", CompareOperator::Equal, string("a@b.c"))
            )
        )
    );
    assert_eq!(
        parse(r#"emails[not (type eq "work")]"#).unwrap(),
        value_path("emails", not(compare("type", CompareOperator::Equal, string("work"))))
    );
}

#[test]
fn urn_qualified_paths() {
    let filter = parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "42""#).unwrap();
    let Filter::Compare { path, .. } = filter else { panic!("not a comparison") };
    assert_eq!(path.urn.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
    assert_eq!(path.name, "manager");
    assert_eq!(path.sub_attribute.as_deref(), Some("value"));
}

#[test]
fn rejects_invalid_filters_with_invalid_filter() {
    let invalid = [
        "",
        "   ",
        "userName",
        "userName eq",
        r#"userName eq "unterminated"#,
        r#"userName xx "a""#,
        r#"userName eq "a" and"#,
        r#"userName eq "a" or or"#,
        "(title pr",
        "title pr)",
        r#"emails[type eq "work""#,
        r#"emails[type eq "work"]"#.trim_end_matches(']'),
        r#"emails[emails[type eq "x"]]"#,
        r#"emails[urn:a:b:type eq "x"]"#,
        r#"name.givenName[type eq "x"]"#,
        "not title pr",
        r#"userName eq bjensen"#,
        r#"userName eq 'bjensen'"#,
        "a.b.c pr",
        "title pr pr",
        r#"emails[type eq "work"]."#,
        r#"emails[type eq "work"].value"#,
        r#"foo:bar eq "x""#,
        "title pr and 42",
        "\u{0}",
        "userName eq \"a\u{1}\"",
        r#"title eq "\x""#,
        "[title pr]",
    ];
    for text in invalid {
        match parse(text) {
            Err(ScimError::InvalidFilter(_)) => {}
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn length_and_depth_are_bounded() {
    let long = format!(r#"userName eq "{}""#, "a".repeat(MAX_FILTER_LENGTH));
    assert!(matches!(parse(&long), Err(ScimError::InvalidFilter(detail)) if detail.contains("longer")));
    let nested = |depth: usize| format!("{}title pr{}", "(".repeat(depth), ")".repeat(depth));
    assert!(parse(&nested(MAX_FILTER_DEPTH)).is_ok());
    assert!(
        matches!(parse(&nested(MAX_FILTER_DEPTH + 1)), Err(ScimError::InvalidFilter(detail)) if detail.contains("deeper"))
    );
    let nots = format!("{}title pr{}", "not (".repeat(2000), ")".repeat(2000));
    assert!(parse(&nots).is_err());
    let opens = "(".repeat(MAX_FILTER_LENGTH);
    assert!(parse(&opens).is_err());
    let chain = vec!["a pr"; 400].join(" and ");
    assert!(parse(&chain).is_ok());
}

#[test]
fn patch_paths() {
    let path = parse_patch_path(r#"members[value eq "2819c223"]"#).unwrap();
    assert_eq!(path.attribute, AttributePath::new("members"));
    assert_eq!(path.value_filter, Some(compare("value", CompareOperator::Equal, string("2819c223"))));
    let path = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
    assert_eq!(path.attribute, AttributePath::with_sub_attribute("emails", "value"));
    assert_eq!(path.to_string(), r#"emails[type eq "work"].value"#);
    let path = parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
    assert_eq!(path.attribute.urn.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
    assert_eq!(path.value_filter, None);
    for invalid in
        ["", "members[", "members[value eq \"x\"", "members]", "name.givenName[x pr]", "a b", "members[x pr].y.z"]
    {
        assert!(matches!(parse_patch_path(invalid), Err(ScimError::InvalidPath(_))), "{invalid}");
    }
}

// ---- evaluation ----

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "id": "2819c223",
        "externalId": "Okta-00u1",
        "userName": "Bjensen@Example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z", "created": "2010-01-23T04:56:22+01:00"},
        ENTERPRISE_USER_SCHEMA: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
        "x-score": 7.5
    })
}

fn check(filter: &str, expected: bool) {
    let registry = SchemaRegistry::standard();
    let parsed = parse(filter).unwrap_or_else(|error| panic!("{filter}: {error}"));
    assert_eq!(matches(&parsed, &user(), &registry), expected, "{filter}");
}

#[test]
fn evaluates_strings_by_case_exactness() {
    check(r#"userName eq "bjensen@example.com""#, true);
    check(r#"USERNAME EQ "BJENSEN@EXAMPLE.COM""#, true);
    check(r#"externalId eq "okta-00u1""#, false);
    check(r#"externalId eq "Okta-00u1""#, true);
    check(r#"id eq "2819C223""#, false);
    check(r#"name.familyName co "ENS""#, true);
    check(r#"userName sw "bjen""#, true);
    check(r#"userName ew ".COM""#, true);
    check(r#"title gt "Tour""#, true);
    check(r#"title lt "Tour""#, false);
    check(r#"title le "tour guide""#, true);
}

#[test]
fn evaluates_presence_booleans_numbers_and_null() {
    check("title pr", true);
    check("nickName pr", false);
    check("emails pr", true);
    check("emails.display pr", false);
    check("active eq true", true);
    check("active ne true", false);
    check(r#"active eq "True""#, true);
    check("active gt false", false);
    check("x-score gt 7", true);
    check("x-score le 7.5", true);
    check("x-score eq 7.50", true);
    check("nickName eq null", true);
    check("title eq null", false);
    check("nickName ne \"x\"", true);
}

#[test]
fn evaluates_date_times_as_instants() {
    check(r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, true);
    check(r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true);
    check(r#"meta.lastModified ge "2011-05-13T04:42:34.000Z""#, true);
    check(r#"meta.created lt "2010-01-23T04:00:00Z""#, true);
    check(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false);
}

#[test]
fn evaluates_multi_valued_and_complex_filters() {
    check(r#"emails co "jensen.org""#, true);
    check(r#"emails.value co "example.org""#, false);
    check(r#"emails.type eq "work""#, true);
    check(r#"emails[type eq "work" and value co "@example.com"]"#, true);
    check(r#"emails[type eq "home" and value co "@example.com"]"#, false);
    check(r#"emails[type eq "work"].value eq "BJENSEN@example.com""#, true);
    check(r#"emails[type eq "work" and primary eq true] or ims[type eq "xmpp" and value co "@foo.com"]"#, true);
    check(r#"emails[not (type eq "work")]"#, true);
    check(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, false);
    check(r#"userType eq "Employee" and (emails.type eq "work")"#, true);
}

#[test]
fn evaluates_extension_and_urn_paths() {
    check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#, true);
    check(r#"employeeNumber eq "701984""#, true);
    check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#, true);
    check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915""#, true);
    check(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "barbara""#, true);
    check(r#"urn:ietf:params:scim:schemas:core:2.0:User:externalId eq "okta-00u1""#, false);
    check(r#"urn:ietf:params:scim:schemas:core:2.0:User:externalId eq "Okta-00u1""#, true);
    check(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, true);
}

#[test]
fn evaluates_group_members() {
    let registry = SchemaRegistry::standard();
    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "Admins", "members": [{"value": "AbC"}]});
    let case_exact = parse(r#"members[value eq "abc"]"#).unwrap();
    assert!(!matches(&case_exact, &group, &registry));
    let exact = parse(r#"members[value eq "AbC"]"#).unwrap();
    assert!(matches(&exact, &group, &registry));
    let display_name = parse(r#"displayName eq "admins""#).unwrap();
    assert!(matches(&display_name, &group, &registry));
}
