//! One tenant cannot hurt another (issue #14): the largest PATCH costs what it touches, a tenant sending the worst
//! requests the limits allow leaves another tenant served, a timeout answer never hides a write it made, and a
//! client failing authentication never locks out the valid tokens behind the same address. On both databases; no
//! timing is asserted (`scripts/bench-scim-fairness` measures latencies).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot::{Receiver, Sender};
use warden::config::{Config, DatabaseUrl};
use warden::store::{self, Store};

use crate::scim_support::{ORG_A, TestServer, connect, filter, spawn, spawn_with};
use crate::support::{contract_tests, postgres_admin_url};

contract_tests!(
    the_largest_patches_cost_what_they_touch,
    another_tenant_is_served_while_one_sends_the_worst_requests,
    a_bad_token_never_locks_out_valid_tokens_from_the_same_address,
);

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn emails(prefix: &str, count: usize) -> Value {
    (0..count).map(|index| json!({"value": format!("{prefix}{index:05}@example.com")})).collect()
}

/// A user with 10,000 emails and a group with 10,000 members in tenant A: large resources, as one body carries.
async fn largest_resources(server: &TestServer, name: &str) -> (String, String) {
    let user = json!({"schemas": [USER], "userName": format!("{name}@example.com"), "emails": emails("old", 10_000)});
    let user = server.a(Method::POST, "/Users", Some(&user)).await.expect(201).body["id"].as_str().unwrap().to_owned();
    let members: Vec<Value> = (0..10_000).map(|index| json!({"value": format!("member-{index:05}")})).collect();
    let group = json!({"schemas": [GROUP], "displayName": name, "members": members});
    let group =
        server.a(Method::POST, "/Groups", Some(&group)).await.expect(201).body["id"].as_str().unwrap().to_owned();
    (user, group)
}

/// 10,000 operations, each adding one email (the PATCH of the issue: 12 s, and 39 s on a user that had 10,000).
fn add_emails(prefix: &str) -> Value {
    let operations: Vec<Value> = (0..10_000)
        .map(|index| json!({"op": "add", "path": "emails", "value": [{"value": format!("{prefix}{index:05}@example.com")}]}))
        .collect();
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

async fn the_largest_patches_cost_what_they_touch(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let (user, group) = largest_resources(&server, "wide").await;
    let patched = server.a(Method::PATCH, &format!("/Users/{user}"), Some(&add_emails("new"))).await.expect(200);
    assert_eq!(patched.body["emails"].as_array().unwrap().len(), 20_000);
    let found = server.a(Method::GET, &format!("/Users?{}", filter("emails eq \"new09999@example.com\"")), None).await;
    assert_eq!(found.expect(200).body["totalResults"], json!(1));

    let removals: Vec<Value> = (0..10_000)
        .map(|index| json!({"op": "remove", "path": format!("members[value eq \"member-{index:05}\"]")}))
        .collect();
    let removals = json!({"schemas": [PATCH_OP], "Operations": removals});
    let emptied = server.a(Method::PATCH, &format!("/Groups/{group}"), Some(&removals)).await.expect(200);
    assert!(emptied.body.get("members").is_none(), "{}", emptied.body);
    let adds: Vec<Value> = (0..10_000)
        .map(|index| json!({"op": "add", "path": "members", "value": [{"value": format!("new-{index}")}]}))
        .collect();
    let refilled = json!({"schemas": [PATCH_OP], "Operations": adds});
    let refilled = server.a(Method::PATCH, &format!("/Groups/{group}"), Some(&refilled)).await.expect(200);
    assert_eq!(refilled.body["members"].as_array().unwrap().len(), 10_000);

    // What must look at every value one by one is bounded per request.
    let scans: Vec<Value> = (0..500).map(|_| json!({"op": "remove", "path": "members[display eq \"x\"]"})).collect();
    let scans = json!({"schemas": [PATCH_OP], "Operations": scans});
    server.a(Method::PATCH, &format!("/Groups/{group}"), Some(&scans)).await.expect_error(400, Some("tooMany"));
}

/// The worst requests tenant A's limits allow, sent concurrently, while tenant B and the health check are served:
/// every one of B's requests succeeds (how fast is measured by `scripts/bench-scim-fairness`).
async fn another_tenant_is_served_while_one_sends_the_worst_requests(store: Arc<dyn Store>) {
    let server = Arc::new(spawn(store).await);
    let b_user = json!({"schemas": [USER], "userName": "b@example.com"});
    let b_user =
        server.b(Method::POST, "/Users", Some(&b_user)).await.expect(201).body["id"].as_str().unwrap().to_owned();
    let scan = format!("/Users?{}", filter("emails co \"9\" or title sw \"x\""));
    let mut flood = Vec::new();
    for round in 0..2 {
        let (user, group) = largest_resources(&server, &format!("wide-{round}")).await;
        let small = json!({"schemas": [USER], "userName": format!("small-{round}")});
        let small =
            server.a(Method::POST, "/Users", Some(&small)).await.expect(201).body["id"].as_str().unwrap().to_owned();
        let bulk_operations: Vec<Value> = (0..1_000)
            .map(|index| {
                json!({"method": "PATCH", "path": format!("/Users/{small}"), "data": {"schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "displayName", "value": format!("n{index}")}]}})
            })
            .collect();
        let bulk = json!({"schemas": [BULK], "Operations": bulk_operations});
        let (server, scan) = (server.clone(), scan.clone());
        flood.push(tokio::spawn(async move {
            let patch = server.a(Method::PATCH, &format!("/Users/{user}"), Some(&add_emails("new"))).await;
            let members: Vec<Value> = (0..10_000)
                .map(|index| json!({"op": "add", "path": "members", "value": [{"value": format!("new-{index}")}]}))
                .collect();
            let members = json!({"schemas": [PATCH_OP], "Operations": members});
            let group_patch = server.a(Method::PATCH, &format!("/Groups/{group}"), Some(&members)).await;
            let bulk = server.a(Method::POST, "/Bulk", Some(&bulk)).await;
            let scan = server.a(Method::GET, &scan, None).await;
            [patch.status, group_patch.status, bulk.status, scan.status]
        }));
    }
    let mut served = 0;
    while !flood.iter().all(tokio::task::JoinHandle::is_finished) || served < 20 {
        server.b(Method::GET, &format!("/Users/{b_user}"), None).await.expect(200);
        server.b(Method::GET, &format!("/Users?{}", filter("userName eq \"b@example.com\"")), None).await.expect(200);
        let health = server.client.get(format!("{}/healthz", server.address)).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 200);
        served += 1;
    }
    for outcome in flood {
        for status in outcome.await.unwrap() {
            assert_eq!(status.as_u16(), 200, "tenant A's largest requests are served too");
        }
    }
}

async fn a_bad_token_never_locks_out_valid_tokens_from_the_same_address(store: Arc<dyn Store>) {
    let mut config = Config::default();
    config.scim.failed_auth_per_minute = 3;
    let server = spawn_with(store.clone(), config).await;
    let url_a = server.url(ORG_A, "/Users");
    // Tenant A's misconfigured connection keeps sending a wrong token from 127.0.0.1 ...
    for _ in 0..3 {
        server.send(Some("wrong"), Method::GET, &url_a, None, &[]).await.expect_error(401, None);
    }
    for _ in 0..20 {
        let throttled = server.send(Some("wrong"), Method::GET, &url_a, None, &[]).await.expect_error(429, None);
        assert!(throttled.header("retry-after").unwrap().parse::<u64>().unwrap() <= 60);
    }
    // ... while tenant B, calling from the same address with a token not used before, is served ...
    for _ in 0..5 {
        server.b(Method::GET, "/Users", None).await.expect(200);
    }
    // ... and so are A's valid token and a connection created while the address is throttled.
    server.a(Method::GET, "/Users", None).await.expect(200);
    let (token_c, _) = connect(&*store, "300").await;
    server.send(Some(&token_c), Method::GET, &server.url("300", "/Users"), None, &[]).await.expect(200);
    // Guessing stays throttled; a valid token of another tenant still reaches its own tenant only.
    server.send(Some("another guess"), Method::GET, &url_a, None, &[]).await.expect_error(429, None);
    server.send(Some(&server.token_b), Method::GET, &url_a, None, &[]).await.expect_error(401, None);
    server.b(Method::GET, "/Users", None).await.expect(200);
}

// A timeout answer must be the truth: 503 means nothing was applied; a write that began before the deadline is
// answered with its outcome. The tests hold a lock in the database itself so that the request outlives its
// one-second timeout, once while it writes (both databases) and once while it reads (PostgreSQL: SQLite readers
// never wait).

#[tokio::test]
async fn sqlite_a_write_under_way_at_the_timeout_is_answered_with_its_outcome() {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let store = store::open_and_migrate(&url).await.unwrap();
    let mut locker = sqlx::SqliteConnection::connect(url.expose()).await.unwrap();
    a_write_under_way_at_the_timeout_is_answered_with_its_outcome(store, move |locked, hold| {
        Box::pin(async move {
            sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut locker).await.unwrap();
            locked.send(()).unwrap();
            hold.await.unwrap();
            sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
        })
    })
    .await;
}

#[tokio::test]
async fn postgres_a_write_under_way_at_the_timeout_is_answered_with_its_outcome() {
    let Some(admin) = postgres_admin_url() else { return };
    let scratch = store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let store = store::open_and_migrate(&scratch).await.unwrap();
    let mut locker = sqlx::PgConnection::connect(scratch.expose()).await.unwrap();
    a_write_under_way_at_the_timeout_is_answered_with_its_outcome(store, move |locked, hold| {
        Box::pin(async move {
            sqlx::raw_sql("BEGIN; SELECT 1 FROM scim_user FOR UPDATE").execute(&mut locker).await.unwrap();
            locked.send(()).unwrap();
            hold.await.unwrap();
            sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
            locker.close().await.unwrap();
        })
    })
    .await;
    store::drop_scratch_database(&admin, &scratch).await.unwrap();
}

#[tokio::test]
async fn postgres_a_request_still_reading_at_the_timeout_is_answered_503_and_applies_nothing() {
    let Some(admin) = postgres_admin_url() else { return };
    let scratch = store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let store = store::open_and_migrate(&scratch).await.unwrap();
    let mut config = Config::default();
    config.scim.request_timeout = "1s".parse().unwrap();
    let server = spawn_with(store.clone(), config).await;
    let id = create_user(&server).await;
    let mut locker = sqlx::PgConnection::connect(scratch.expose()).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE scim_user IN ACCESS EXCLUSIVE MODE").execute(&mut locker).await.unwrap();
    let rename =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "late"}]});
    let reply = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&rename)).await;
    sqlx::raw_sql("COMMIT").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    reply.expect_error(503, None);
    // The request was cut off before its write: nothing changed, and it is logged once, as answered.
    let stored = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    assert_eq!((stored.body["displayName"].clone(), stored.header("etag")), (json!("early"), Some("\"v1\"")));
    let patches = patch_log(&server, &id).await;
    assert_eq!(patches, vec![503], "one row per request");
    drop(server);
    store::drop_scratch_database(&admin, &scratch).await.unwrap();
}

async fn create_user(server: &TestServer) -> String {
    let body = json!({"schemas": [USER], "userName": "slow@example.com", "displayName": "early"});
    server.a(Method::POST, "/Users", Some(&body)).await.expect(201).body["id"].as_str().unwrap().to_owned()
}

/// The statuses the request log holds for PATCHes of this user, newest first.
async fn patch_log(server: &TestServer, id: &str) -> Vec<u16> {
    let path = format!("/scim/v2/{ORG_A}/Users/{id}");
    let log = server.request_log(&server.connection_a, 100).await;
    log.iter().filter(|entry| entry.method == "PATCH" && entry.path == path).map(|entry| entry.status).collect()
}

/// Takes a write lock in the database, says so on the first channel, and holds it until the second one fires.
type Lock = Box<dyn FnOnce(Sender<()>, Receiver<()>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

async fn a_write_under_way_at_the_timeout_is_answered_with_its_outcome(
    store: Arc<dyn Store>,
    lock: impl FnOnce(Sender<()>, Receiver<()>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + 'static,
) {
    let mut config = Config::default();
    config.scim.request_timeout = "1s".parse().unwrap();
    let server = spawn_with(store, config).await;
    let id = create_user(&server).await;
    let (release, hold) = tokio::sync::oneshot::channel();
    let (locked, is_locked) = tokio::sync::oneshot::channel();
    let lock: Lock = Box::new(lock);
    let holder = tokio::spawn(lock(locked, hold));
    is_locked.await.unwrap();
    // Held for longer than the request may take: the write waits for the lock past the deadline.
    let unlock = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        release.send(()).unwrap();
    });
    let rename =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "late"}]});
    let reply = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&rename)).await;
    unlock.await.unwrap();
    holder.await.unwrap();
    // The write began before the deadline, so its outcome is the answer: 200 with the new version, as stored.
    let reply = reply.expect(200);
    assert_eq!((reply.body["displayName"].clone(), reply.header("etag")), (json!("late"), Some("\"v2\"")));
    let stored = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    assert_eq!((stored.body["displayName"].clone(), stored.header("etag")), (json!("late"), Some("\"v2\"")));
    assert_eq!(patch_log(&server, &id).await, vec![200], "one row per request");
    server.b(Method::GET, "/Users", None).await.expect(200);
}
