//! Arbitrary requests against a real server on 127.0.0.1 (issue #14): JSON bodies of any shape for every write,
//! arbitrary PATCH operations, filters of any text, on SQLite and on PostgreSQL. No answer is a 5xx, every error
//! is a SCIM error body, and every answer matches what the store holds afterwards: a written or read resource is
//! what a GET of it returns, a refused write changes nothing, and a deleted resource is gone.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Map, Number, Value, json};
use warden::config::DatabaseUrl;
use warden::store::{self, Store};

use crate::scim_support::{GROUP_SCHEMA, Reply, TestServer, USER_SCHEMA, filter, spawn};
use crate::support::postgres_admin_url;

/// Cases per database: each is one request and the reads that check it, so a run stays well under a minute.
const CASES: u32 = 256;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

#[test]
fn sqlite_arbitrary_requests_get_no_5xx_and_answers_match_the_store() {
    let runtime = runtime();
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let store = runtime.block_on(store::open_and_migrate(&url)).unwrap();
    run_cases(&runtime, store);
}

#[test]
fn postgres_arbitrary_requests_get_no_5xx_and_answers_match_the_store() {
    let Some(admin) = postgres_admin_url() else { return };
    let runtime = runtime();
    let scratch = runtime.block_on(store::create_scratch_database(&admin, "warden_test")).unwrap();
    let store = runtime.block_on(store::open_and_migrate(&scratch)).unwrap();
    run_cases(&runtime, store);
    runtime.block_on(store::drop_scratch_database(&admin, &scratch)).unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn run_cases(runtime: &tokio::runtime::Runtime, store: Arc<dyn Store>) {
    let server = runtime.block_on(async {
        let server = spawn(store).await;
        // Something to change, read and delete from the first case on.
        for index in 1..=12 {
            let name = format!("seed-{index}");
            let user = json!({"schemas": [USER_SCHEMA], "userName": name, "title": "t",
                "emails": [{"value": format!("{name}@example.com"), "type": "work"}]});
            let id = server.a(Method::POST, "/Users", Some(&user)).await.expect(201).body["id"].clone();
            let group = json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": id}]});
            server.a(Method::POST, "/Groups", Some(&group)).await.expect(201);
        }
        server
    });
    let config = ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&request(), |request| runtime.block_on(check(&server, request)));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// One request a client (or an attacker) could send.
#[derive(Debug, Clone)]
enum Request {
    Create { endpoint: &'static str, body: Value },
    Replace { endpoint: &'static str, pick: usize, body: Value },
    Patch { endpoint: &'static str, pick: usize, body: Value },
    Delete { endpoint: &'static str, pick: usize },
    List { endpoint: &'static str, query: String },
    Search { endpoint: &'static str, body: Value },
    Bulk { body: Value },
}

fn request() -> impl Strategy<Value = Request> {
    let endpoint = || proptest::sample::select(vec!["/Users", "/Groups"]);
    prop_oneof![
        3 => endpoint().prop_flat_map(|endpoint| resource_body(endpoint).prop_map(move |body| Request::Create { endpoint, body })),
        2 => (endpoint(), any::<usize>())
            .prop_flat_map(|(endpoint, pick)| resource_body(endpoint).prop_map(move |body| Request::Replace { endpoint, pick, body })),
        4 => (endpoint(), any::<usize>(), patch_body())
            .prop_map(|(endpoint, pick, body)| Request::Patch { endpoint, pick, body }),
        1 => (endpoint(), any::<usize>()).prop_map(|(endpoint, pick)| Request::Delete { endpoint, pick }),
        3 => (endpoint(), list_query()).prop_map(|(endpoint, query)| Request::List { endpoint, query }),
        1 => (endpoint(), search_body()).prop_map(|(endpoint, body)| Request::Search { endpoint, body }),
        1 => bulk_body().prop_map(|body| Request::Bulk { body }),
    ]
}

/// Text that has broken servers: NUL, blanks, long values, other scripts, string booleans, escapes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 .@_-]{0,12}",
        1 => any::<String>(),
        1 => proptest::sample::select(vec![
            "", "   ", "a\u{0}b", "\u{0}", "True", "False", "null", "Ünïcødé ✓", "😀", "\\", "\"", "bulkId:x",
            "2011-05-13T04:42:34Z", "work", "User",
        ])
        .prop_map(str::to_owned),
        1 => (1..400_usize, proptest::sample::select(vec!['a', 'é', '😀', '漢'])).prop_map(|(count, c)| c.to_string().repeat(count)),
        // Long and random, so that it does not compress: beyond what a database index entry holds.
        1 => proptest::collection::vec(any::<char>(), 200..1_200).prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec![
            "userName", "displayName", "externalId", "active", "emails", "members", "name", "givenName",
            "familyName", "value", "type", "primary", "display", "$ref", "title", "nickName", "phoneNumbers",
            "addresses", "groups", "id", "meta", "password", "schemas", "manager", "department", "x509Certificates",
            "USERNAME", "Emails", ENTERPRISE,
        ])
        .prop_map(str::to_owned),
        1 => text(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(|number| json!(number)),
        1 => any::<f64>().prop_filter_map("finite", |number| Number::from_f64(number).map(Value::Number)),
        4 => text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..5).prop_map(|members| Value::Object(Map::from_iter(members))),
        ]
    })
}

/// The `schemas` of a body for `endpoint`: mostly right, sometimes another type's, anything, or none.
fn schemas(endpoint: &'static str) -> impl Strategy<Value = Option<Value>> {
    let own = if endpoint == "/Users" { USER_SCHEMA } else { GROUP_SCHEMA };
    prop_oneof![
        6 => Just(Some(json!([own]))),
        1 => Just(Some(json!([USER_SCHEMA, ENTERPRISE]))),
        1 => proptest::sample::select(vec![USER_SCHEMA, GROUP_SCHEMA, "urn:x"]).prop_map(|urn| Some(json!([urn]))),
        1 => json_value().prop_map(Some),
        1 => Just(None),
    ]
}

/// A plausible value of a known attribute, or anything.
fn attribute_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => (text(), proptest::option::of(proptest::sample::select(vec!["work", "home", "Work"])), proptest::option::of(any::<bool>()))
            .prop_map(|(value, kind, primary)| {
                let mut item = json!({"value": value});
                if let Some(kind) = kind {
                    item["type"] = json!(kind);
                }
                if let Some(primary) = primary {
                    item["primary"] = json!(primary);
                }
                json!([item])
            }),
        1 => json_value(),
    ]
}

/// A resource body for `endpoint`: mostly plausible (schemas and a name, known attributes), with members of any
/// type and shape.
fn resource_body(endpoint: &'static str) -> impl Strategy<Value = Value> {
    let plausible = (schemas(endpoint), text(), proptest::collection::vec((key(), attribute_value()), 0..4)).prop_map(
        move |(schemas, name, extra)| {
            let mut body = Map::new();
            if let Some(schemas) = schemas {
                body.insert("schemas".to_owned(), schemas);
            }
            let name_key = if endpoint == "/Users" { "userName" } else { "displayName" };
            body.insert(name_key.to_owned(), json!(name));
            for (key, value) in extra {
                body.insert(key, value);
            }
            Value::Object(body)
        },
    );
    prop_oneof![6 => plausible, 1 => json_value()]
}

fn patch_path() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(vec![
            "userName", "displayName", "active", "emails", "emails[type eq \"work\"].value", "emails[value eq \"a\"]",
            "emails.type", "members", "members[value eq \"seed\"]", "members[display co \"x\"].display",
            "name.givenName", "groups", "id", "meta.version", "externalId", "x509Certificates[value pr]",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "unknownAttribute", "emails[", "",
        ])
        .prop_map(|path| json!(path)),
        1 => text().prop_map(Value::String),
        1 => json_value(),
    ]
}

fn patch_body() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        4 => proptest::sample::select(vec!["add", "replace", "remove", "Add", "Replace", "Remove"]).prop_map(|op| json!(op)),
        1 => json_value(),
    ];
    let operation =
        (op, proptest::option::of(patch_path()), proptest::option::of(json_value())).prop_map(|(op, path, value)| {
            let mut operation = Map::new();
            operation.insert("op".to_owned(), op);
            if let Some(path) = path {
                operation.insert("path".to_owned(), path);
            }
            if let Some(value) = value {
                operation.insert("value".to_owned(), value);
            }
            Value::Object(operation)
        });
    let plausible = proptest::collection::vec(operation, 0..5)
        .prop_map(|operations| json!({"schemas": [PATCH_OP], "Operations": operations}));
    prop_oneof![5 => plausible, 1 => json_value()]
}

/// A filter by the grammar: comparisons of known and unknown paths with literals of every type, joined by
/// `and`, `or`, `not` and brackets.
fn structured_filter() -> impl Strategy<Value = String> {
    let path = proptest::sample::select(vec![
        "userName",
        "emails",
        "emails.value",
        "emails.type",
        "name.givenName",
        "meta.created",
        "meta.lastModified",
        "active",
        "members",
        "members.value",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "id",
        "externalId",
        "displayName",
        "title",
        "x509Certificates.value",
        "unknown",
        "urn:x:y",
    ]);
    let operator = proptest::sample::select(vec!["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ"]);
    let literal = prop_oneof![
        3 => text().prop_map(|text| Value::String(text).to_string()),
        1 => proptest::sample::select(vec!["true", "false", "null", "1", "-2.5e3", "\"2011-05-13T04:42:34Z\"",
            "\"seed-1\"", "\"SEED-1@EXAMPLE.COM\"", "\"a\\u0000b\""]).prop_map(str::to_owned),
    ];
    let leaf = prop_oneof![
        4 => (path.clone(), operator, literal).prop_map(|(path, operator, literal)| format!("{path} {operator} {literal}")),
        1 => path.prop_map(|path| format!("{path} pr")),
        1 => Just("emails[type eq \"work\" and value co \"@\"]".to_owned()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(left, right)| format!("{left} and {right}")),
            (inner.clone(), inner.clone()).prop_map(|(left, right)| format!("({left}) or {right}")),
            inner.prop_map(|filter| format!("not ({filter})")),
        ]
    })
}

/// Filter text: by the grammar, made of its parts in any order, or anything at all.
fn filter_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        3 => proptest::sample::select(vec![
            "userName", "emails", "emails[type eq \"work\"]", "eq", "pr", "and", "or", "not", "(", ")", "[", "]",
            "true", "null", "1", "\"x\"", "\"\\ud800\"",
        ])
        .prop_map(str::to_owned),
        1 => text().prop_map(|text| Value::String(text).to_string()),
    ];
    prop_oneof![
        5 => structured_filter(),
        2 => proptest::collection::vec(part, 1..9).prop_map(|parts| parts.join(" ")),
        1 => text(),
    ]
}

fn list_query() -> impl Strategy<Value = String> {
    (
        filter_text(),
        proptest::option::of(proptest::sample::select(vec![
            "userName",
            "name.familyName",
            "emails",
            "x[",
            "meta.created",
        ])),
        proptest::option::of(proptest::sample::select(vec!["-1", "0", "1", "1000", "x", "99999999999999999999"])),
        proptest::option::of(proptest::sample::select(vec!["userName", "emails,members", "bad path", "meta"])),
    )
        .prop_map(|(text, sort_by, count, attributes)| {
            let mut query = filter(&text);
            if let Some(sort_by) = sort_by {
                query.push_str(&format!("&sortBy={sort_by}"));
            }
            if let Some(count) = count {
                query.push_str(&format!("&count={count}&startIndex={count}"));
            }
            if let Some(attributes) = attributes {
                query.push_str(&format!("&attributes={}", attributes.replace(' ', "%20")));
            }
            query
        })
}

fn search_body() -> impl Strategy<Value = Value> {
    let plausible = (filter_text(), proptest::option::of(json_value())).prop_map(|(filter, count)| {
        let mut body = json!({"schemas": [SEARCH], "filter": filter});
        if let Some(count) = count {
            body["count"] = count;
        }
        body
    });
    prop_oneof![4 => plausible, 1 => json_value()]
}

fn bulk_body() -> impl Strategy<Value = Value> {
    let operation = (
        proptest::sample::select(vec!["POST", "PUT", "PATCH", "DELETE", "GET"]),
        proptest::sample::select(vec!["/Users", "/Groups", "/Users/bulkId:a", "/Groups/bulkId:b", "/Nope", "Users"]),
        proptest::option::of(proptest::sample::select(vec!["a", "b", "c"])),
        prop_oneof![resource_body("/Users"), resource_body("/Groups"), patch_body()],
    )
        .prop_map(|(method, path, bulk_id, data)| {
            let mut operation = json!({"method": method, "path": path, "data": data});
            if let Some(bulk_id) = bulk_id {
                operation["bulkId"] = json!(bulk_id);
            }
            operation
        });
    let plausible = proptest::collection::vec(operation, 0..4)
        .prop_map(|operations| json!({"schemas": [BULK], "Operations": operations}));
    prop_oneof![4 => plausible, 1 => json_value()]
}

/// Every user and group of tenant A: what a refused write must leave as it was.
async fn snapshot(server: &TestServer) -> Vec<Value> {
    let mut all = Vec::new();
    for endpoint in ["/Users", "/Groups"] {
        let list = server.a(Method::GET, &format!("{endpoint}?count=200"), None).await.expect(200);
        all.extend(list.body["Resources"].as_array().unwrap().iter().cloned());
    }
    all
}

/// The id of one of tenant A's resources of an endpoint (`pick` chooses), or one that does not exist.
async fn pick_id(server: &TestServer, endpoint: &str, pick: usize) -> String {
    let list = server.a(Method::GET, &format!("{endpoint}?count=200"), None).await.expect(200);
    let resources = list.body["Resources"].as_array().unwrap();
    if resources.is_empty() || pick.is_multiple_of(6) {
        let unknown = ["does-not-exist", "a%00b", "%FF%FE", "..%2F..%2Fetc", &"x".repeat(300)];
        return unknown[pick / 6 % unknown.len()].to_owned();
    }
    resources[pick % resources.len()]["id"].as_str().unwrap().to_owned()
}

/// The resource as a GET of its id returns it now.
async fn stored(server: &TestServer, endpoint: &str, id: &str) -> Reply {
    server.a(Method::GET, &format!("{endpoint}/{id}"), None).await
}

fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if condition { Ok(()) } else { Err(TestCaseError::fail(message())) }
}

/// No 5xx, and an error is a SCIM error body with the same status.
fn well_formed(request: &Request, reply: &Reply) -> Result<(), TestCaseError> {
    let status = reply.status.as_u16();
    ensure(status < 500, || format!("{status} for {request:?}: {}", reply.body))?;
    if status >= 400 {
        let is_error = reply.body["schemas"] == json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
            && reply.body["status"] == json!(status.to_string())
            && reply.header("content-type").is_some_and(|value| value.starts_with("application/scim+json"));
        ensure(is_error, || format!("{status} without a SCIM error body for {request:?}: {}", reply.body))?;
    }
    Ok(())
}

async fn check(server: &TestServer, request: Request) -> Result<(), TestCaseError> {
    match &request {
        Request::Create { endpoint, body } => {
            let before = snapshot(server).await;
            let reply = server.a(Method::POST, endpoint, Some(body)).await;
            well_formed(&request, &reply)?;
            if reply.status.as_u16() == 201 {
                let id = reply.body["id"].as_str().unwrap_or_default();
                let now = stored(server, endpoint, id).await;
                ensure(now.body == reply.body, || format!("created {} but stored {}", reply.body, now.body))?;
                ensure(reply.header("location") == reply.body["meta"]["location"].as_str(), || "Location".to_owned())?;
            } else {
                let after = snapshot(server).await;
                ensure(after == before, || format!("{} changed the store: {request:?}", reply.status))?;
            }
        }
        Request::Replace { endpoint, pick, body } | Request::Patch { endpoint, pick, body } => {
            let id = pick_id(server, endpoint, *pick).await;
            let before = snapshot(server).await;
            let method = if matches!(request, Request::Replace { .. }) { Method::PUT } else { Method::PATCH };
            let reply = server.a(method, &format!("{endpoint}/{id}"), Some(body)).await;
            well_formed(&request, &reply)?;
            if reply.status.as_u16() == 200 {
                let now = stored(server, endpoint, &id).await;
                ensure(now.body == reply.body, || format!("answered {} but stored {}", reply.body, now.body))?;
                ensure(now.header("etag") == reply.header("etag"), || "ETag".to_owned())?;
            } else {
                let after = snapshot(server).await;
                ensure(after == before, || format!("{} changed the store: {request:?}", reply.status))?;
            }
        }
        Request::Delete { endpoint, pick } => {
            let id = pick_id(server, endpoint, *pick).await;
            let before = snapshot(server).await;
            let reply = server.a(Method::DELETE, &format!("{endpoint}/{id}"), None).await;
            well_formed(&request, &reply)?;
            if reply.status.as_u16() == 204 {
                ensure(stored(server, endpoint, &id).await.status.as_u16() == 404, || "still there".to_owned())?;
            } else {
                ensure(snapshot(server).await == before, || format!("{} changed the store", reply.status))?;
            }
        }
        Request::List { endpoint, query } => {
            let reply = server.a(Method::GET, &format!("{endpoint}?{query}"), None).await;
            well_formed(&request, &reply)?;
            if reply.status.as_u16() == 200 && !query.contains("attributes=") {
                for resource in reply.body["Resources"].as_array().into_iter().flatten() {
                    let id = resource["id"].as_str().unwrap_or_default();
                    let now = stored(server, endpoint, id).await;
                    ensure(&now.body == resource, || format!("listed {resource} but stored {}", now.body))?;
                }
            }
        }
        Request::Search { endpoint, body } => {
            let reply = server.a(Method::POST, &format!("{endpoint}/.search"), Some(body)).await;
            well_formed(&request, &reply)?;
        }
        Request::Bulk { body } => {
            let before = snapshot(server).await;
            let reply = server.a(Method::POST, "/Bulk", Some(body)).await;
            well_formed(&request, &reply)?;
            if reply.status.as_u16() == 200 {
                for operation in reply.body["Operations"].as_array().into_iter().flatten() {
                    let status: u16 = operation["status"].as_str().and_then(|status| status.parse().ok()).unwrap_or(0);
                    ensure((200..500).contains(&status), || format!("bulk operation {operation} of {request:?}"))?;
                }
            } else {
                ensure(snapshot(server).await == before, || format!("{} changed the store", reply.status))?;
            }
        }
    }
    Ok(())
}
