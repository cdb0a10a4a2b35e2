//! The protocol around the resources: ETags and conditional requests, paging and sorting, errors in SCIM form,
//! limits, discovery, search, the request log and health, over HTTP on both databases.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use warden::config::Config;
use warden::store::{ScimRequestLogEntry, Store};

use crate::fixtures;
use crate::scim_support::{GROUP_SCHEMA, ORG_A, TestServer, USER_SCHEMA, connect, filter, spawn, spawn_with};
use crate::support::contract_tests;

contract_tests!(
    etags_guard_writes_and_answer_conditional_reads,
    lists_clamp_count_page_sort_and_filter_in_memory,
    errors_are_scim_error_bodies,
    limits_answer_413_and_429_with_retry_after,
    failed_authentications_are_limited_per_source,
    discovery_search_log_and_health,
    retention_prunes_request_log_rows_past_their_retention,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn create_user(server: &TestServer, body: Value) -> String {
    server.a(Method::POST, "/Users", Some(&body)).await.expect(201).body["id"].as_str().unwrap().to_owned()
}

async fn etags_guard_writes_and_answer_conditional_reads(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create_user(&server, json!({"schemas": [USER_SCHEMA], "userName": "etag@example.com"})).await;
    let url = server.url(ORG_A, &format!("/Users/{id}"));
    let token = Some(server.token_a.as_str());
    let got = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    assert_eq!(got.header("etag"), Some("\"v1\""));
    assert_eq!(got.body["meta"]["version"], "\"v1\"");

    let not_modified = server.send(token, Method::GET, &url, None, &[("If-None-Match", "\"v1\"")]).await.expect(304);
    assert_eq!(not_modified.header("etag"), Some("\"v1\""));
    server.send(token, Method::GET, &url, None, &[("If-None-Match", "W/\"v1\"")]).await.expect(304);
    server.send(token, Method::GET, &url, None, &[("If-None-Match", "\"v0\"")]).await.expect(200);

    let put = json!({"schemas": [USER_SCHEMA], "userName": "etag@example.com", "displayName": "Two"});
    server.send(token, Method::PUT, &url, Some(&put), &[("If-Match", "\"v7\"")]).await.expect_error(412, None);
    let replaced =
        server.send(token, Method::PUT, &url, Some(&put), &[("If-Match", "\"v0\", \"v1\"")]).await.expect(200);
    assert_eq!(replaced.header("etag"), Some("\"v2\""));
    // A weak tag never matches If-Match (strong comparison).
    let patch =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Three"}]});
    server.send(token, Method::PATCH, &url, Some(&patch), &[("If-Match", "W/\"v2\"")]).await.expect_error(412, None);
    server.send(token, Method::PATCH, &url, Some(&patch), &[("If-Match", "\"v1\"")]).await.expect_error(412, None);
    let patched = server.send(token, Method::PATCH, &url, Some(&patch), &[("If-Match", "\"v2\"")]).await.expect(200);
    assert_eq!((patched.body["displayName"].clone(), patched.header("etag")), (json!("Three"), Some("\"v3\"")));
    server.send(token, Method::DELETE, &url, None, &[("If-Match", "\"v2\"")]).await.expect_error(412, None);
    server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    server.send(token, Method::DELETE, &url, None, &[("If-Match", "*")]).await.expect(204);
    server.send(token, Method::PUT, &url, Some(&put), &[("If-Match", "*")]).await.expect_error(404, None);
}

async fn lists_clamp_count_page_sort_and_filter_in_memory(store: Arc<dyn Store>) {
    let mut config = Config::default();
    config.scim.max_results = 3;
    let server = spawn_with(store, config).await;
    for (user_name, family, active) in
        [("dave", "Young", true), ("alice", "Brown", false), ("Carol", "Bishop", true), ("bob", "Adams", true)]
    {
        create_user(
            &server,
            json!({"schemas": [USER_SCHEMA], "userName": user_name, "name": {"familyName": family}, "active": active}),
        )
        .await;
    }
    let names = |reply: &Value| -> Vec<String> {
        reply["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["userName"].as_str().unwrap().to_owned())
            .collect()
    };
    // count is clamped, not rejected; count=0 gives only the total.
    let clamped = server.a(Method::GET, "/Users?count=1000", None).await.expect(200);
    assert_eq!((clamped.body["totalResults"].clone(), clamped.body["itemsPerPage"].clone()), (json!(4), json!(3)));
    let totals = server.a(Method::GET, "/Users?count=0", None).await.expect(200);
    assert_eq!(totals.body["totalResults"], json!(4));
    assert_eq!((totals.body["itemsPerPage"].clone(), totals.body["Resources"].clone()), (json!(0), json!([])));
    let beyond = server.a(Method::GET, "/Users?startIndex=10", None).await.expect(200);
    assert_eq!((beyond.body["totalResults"].clone(), beyond.body["startIndex"].clone()), (json!(4), json!(10)));

    // sortBy a column (in the store) and an attribute (in memory).
    let by_name = server.a(Method::GET, "/Users?sortBy=userName", None).await.expect(200);
    assert_eq!(names(&by_name.body), vec!["alice", "bob", "Carol"]);
    let descending =
        server.a(Method::GET, "/Users?sortBy=userName&sortOrder=descending&count=2", None).await.expect(200);
    assert_eq!(names(&descending.body), vec!["dave", "Carol"]);
    let by_family = server.a(Method::GET, "/Users?sortBy=name.familyName&startIndex=2&count=2", None).await.expect(200);
    assert_eq!(
        (by_family.body["totalResults"].clone(), names(&by_family.body)),
        (json!(4), vec!["Carol".to_owned(), "alice".to_owned()])
    );

    // Filters SQL cannot express run in memory, with the same paging.
    let or = format!("/Users?sortBy=userName&{}", filter(r#"userName eq "ALICE" or name.familyName sw "ad""#));
    assert_eq!(names(&server.a(Method::GET, &or, None).await.expect(200).body), vec!["alice", "bob"]);
    let mixed = format!("/Users?{}", filter(r#"userName eq "dave" and active eq true"#));
    assert_eq!(names(&server.a(Method::GET, &mixed, None).await.expect(200).body), vec!["dave"]);
    let inactive = format!("/Users?{}", filter("not (active eq true)"));
    assert_eq!(names(&server.a(Method::GET, &inactive, None).await.expect(200).body), vec!["alice"]);
    let attributes = server.a(Method::GET, "/Users?attributes=userName&count=1", None).await.expect(200);
    let first = &attributes.body["Resources"][0];
    assert!(first.get("name").is_none() && first.get("userName").is_some() && first.get("id").is_some(), "{first}");
}

async fn errors_are_scim_error_bodies(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let missing = server.a(Method::GET, "/Users/does-not-exist", None).await.expect_error(404, None);
    assert!(missing.body["detail"].as_str().unwrap().contains("does-not-exist"));
    server
        .a(Method::GET, &format!("/Users?{}", filter("userName eq")), None)
        .await
        .expect_error(400, Some("invalidFilter"));
    let password = format!("/Users?{}", filter(r#"password eq "secret""#));
    server.a(Method::GET, &password, None).await.expect_error(400, Some("invalidFilter"));
    server.a(Method::GET, "/Users?sortOrder=sideways", None).await.expect_error(400, Some("invalidValue"));
    server
        .a(Method::POST, "/Users", Some(&json!({"schemas": [USER_SCHEMA], "displayName": "no userName"})))
        .await
        .expect_error(400, Some("invalidValue"));
    let garbage = server
        .send(
            Some(&server.token_a),
            Method::POST,
            &server.url(ORG_A, "/Users"),
            None,
            &[("Content-Type", "application/scim+json")],
        )
        .await;
    garbage.expect_error(400, Some("invalidSyntax"));
    let id = create_user(&server, json!({"schemas": [USER_SCHEMA], "userName": "x"})).await;
    let bad_patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "jump", "path": "active"}]});
    server.a(Method::PATCH, &format!("/Users/{id}"), Some(&bad_patch)).await.expect_error(400, Some("invalidSyntax"));
    let read_only = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}]});
    let reply = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&read_only)).await;
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.body);
    server.a(Method::GET, "/Me", None).await.expect_error(501, None);
    server.a(Method::GET, "/Nothing", None).await.expect_error(404, None);
    server.a(Method::GET, "/Schemas/urn:nope", None).await.expect_error(404, None);
    // The failed writes changed nothing.
    let user = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    assert_eq!(user.header("etag"), Some("\"v1\""));
}

async fn limits_answer_413_and_429_with_retry_after(store: Arc<dyn Store>) {
    let mut config = Config::default();
    config.scim.requests_per_second = 3;
    let server = spawn_with(store, config).await;
    let huge = json!({"schemas": [USER_SCHEMA], "userName": "big", "displayName": "x".repeat(1_048_577)});
    server.a(Method::POST, "/Users", Some(&huge)).await.expect_error(413, None);
    let mut limited = None;
    for _ in 0..10 {
        let reply = server.a(Method::GET, "/Users", None).await;
        if reply.status.as_u16() == 429 {
            limited = Some(reply);
            break;
        }
        reply.expect(200);
    }
    let limited = limited.expect("a connection over its rate gets 429").expect_error(429, None);
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    // The other tenant's connection has its own budget.
    server.b(Method::GET, "/Users", None).await.expect(200);
}

async fn failed_authentications_are_limited_per_source(store: Arc<dyn Store>) {
    let mut config = Config::default();
    config.scim.failed_auth_per_minute = 3;
    let server = spawn_with(store, config).await;
    let url = server.url(ORG_A, "/Users");
    for _ in 0..3 {
        server.send(Some("guess"), Method::GET, &url, None, &[]).await.expect_error(401, None);
    }
    let blocked = server.send(Some("guess"), Method::GET, &url, None, &[]).await.expect_error(429, None);
    assert!(blocked.header("retry-after").unwrap().parse::<u64>().unwrap() <= 60);
    // Only tokens the server does not know are held back: a valid one from the same address is served (another
    // customer's client may call from the same egress address; `scim_fairness` has the whole story).
    server.send(Some(&server.token_a), Method::GET, &url, None, &[]).await.expect(200);
    server.send(Some("guess again"), Method::GET, &url, None, &[]).await.expect_error(429, None);
}

async fn discovery_search_log_and_health(store: Arc<dyn Store>) {
    let server = spawn(store.clone()).await;
    let config = server.a(Method::GET, "/ServiceProviderConfig", None).await.expect(200);
    assert_eq!(config.body["filter"]["maxResults"], json!(200));
    assert_eq!(config.body["etag"]["supported"], json!(true));
    assert_eq!(config.body["meta"]["location"], server.url(ORG_A, "/ServiceProviderConfig"));
    let types = server.a(Method::GET, "/ResourceTypes", None).await.expect(200);
    let names: Vec<&str> =
        types.body["Resources"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["User", "Group"]);
    server.a(Method::GET, "/ResourceTypes/Group", None).await.expect(200);
    let schemas = server.a(Method::GET, "/Schemas", None).await.expect(200);
    assert_eq!(schemas.body["totalResults"], json!(3));
    let user_schema =
        server.a(Method::GET, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", None).await.expect(200);
    assert_eq!(user_schema.body["name"], "User");

    let alice =
        create_user(&server, json!({"schemas": [USER_SCHEMA], "userName": "alice", "displayName": "Team"})).await;
    server
        .a(
            Method::POST,
            "/Groups",
            Some(&json!({"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [{"value": alice}]})),
        )
        .await
        .expect(201);
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "displayName eq \"team\"", "attributes": ["displayName"], "count": 10});
    let both = server.a(Method::POST, "/.search", Some(&search)).await.expect(200);
    assert_eq!(both.body["totalResults"], json!(2));
    let users = server.a(Method::POST, "/Users/.search", Some(&search)).await.expect(200);
    assert_eq!(users.body["totalResults"], json!(1));
    assert!(users.body["Resources"][0].get("userName").is_none());
    let groups = server.a(Method::POST, "/Groups/.search", Some(&search)).await.expect(200);
    assert_eq!((groups.body["totalResults"].clone(), groups.body["Resources"][0].get("members")), (json!(1), None));

    let log = server.request_log(&server.connection_a, 100).await;
    assert_eq!(log.len(), 10, "5 discovery reads, 2 creates, 3 searches");
    let newest = &log[0];
    assert_eq!(
        (newest.method.as_str(), newest.path.as_str(), newest.status),
        ("POST", "/scim/v2/100/Groups/.search", 200)
    );
    assert!(
        log.iter().any(|entry| entry.method == "POST" && entry.path == "/scim/v2/100/Users" && entry.status == 201)
    );

    for path in ["/healthz", "/readyz"] {
        let reply = server.client.get(format!("{}{path}", server.address)).send().await.unwrap();
        assert_eq!(reply.status().as_u16(), 200, "{path}");
    }
}

async fn retention_prunes_request_log_rows_past_their_retention(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let (_, connection) = connect(&*store, ORG_A).await;
    let now = warden::scim::now();
    let row = |age: time::Duration| ScimRequestLogEntry {
        connection_id: connection.clone(),
        at: now - age,
        method: "GET".into(),
        path: "/scim/v2/100/Users".into(),
        status: 200,
        latency_ms: 1,
    };
    let old: Vec<_> = (1..=3).map(|days| row(time::Duration::days(days) + time::Duration::hours(1))).collect();
    store.insert_scim_request_logs(&old).await.unwrap();
    store.insert_scim_request_logs(&[row(time::Duration::hours(1))]).await.unwrap();

    let mut config = Config::default();
    config.retention.scim_request_log = "1d".parse().unwrap();
    let settings = warden::app::Settings::from_config(&config).unwrap();
    let app = warden::app::App::new(settings, store.clone(), Arc::new(warden::app::FixedClock::new(now)));
    let outcome = warden::app::maintenance::apply_retention(&app).await.unwrap();
    assert_eq!(outcome.scim_request_log, 3);
    let kept = store.list_scim_request_log(&connection, 10).await.unwrap();
    assert_eq!(kept.iter().map(|entry| entry.at).collect::<Vec<_>>(), vec![now - time::Duration::hours(1)]);
}
