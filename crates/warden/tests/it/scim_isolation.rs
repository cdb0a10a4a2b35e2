//! Tenant isolation: a token reaches its own tenant only, and ids of another tenant's objects are not found.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;
use warden::app::tokens as token;
use warden::store::Store;

use crate::scim_support::{GROUP_SCHEMA, ORG_A, ORG_B, TestServer, USER_SCHEMA, filter, spawn};
use crate::support::contract_tests;

contract_tests!(
    another_tenants_token_gets_401_on_every_endpoint,
    ids_of_another_tenants_objects_are_not_found,
    unknown_disabled_and_rotated_tokens,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Tenant A's user and group (with the user as member).
async fn seed_tenant_a(server: &TestServer) -> (String, String) {
    let user = json!({"schemas": [USER_SCHEMA], "userName": "alice@a.example", "externalId": "a-1", "emails": [{"value": "alice@a.example"}]});
    let user = server.a(Method::POST, "/Users", Some(&user)).await.expect(201).body["id"].as_str().unwrap().to_owned();
    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "A team", "members": [{"value": user}]});
    let group =
        server.a(Method::POST, "/Groups", Some(&group)).await.expect(201).body["id"].as_str().unwrap().to_owned();
    (user, group)
}

/// Every route, with a body where it takes one.
fn every_endpoint(user: &str, group: &str) -> Vec<(Method, String, Option<Value>)> {
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    vec![
        (Method::GET, "/Users".to_owned(), None),
        (Method::POST, "/Users".to_owned(), Some(json!({"schemas": [USER_SCHEMA], "userName": "intruder"}))),
        (Method::POST, "/Users/.search".to_owned(), Some(search.clone())),
        (Method::GET, format!("/Users/{user}"), None),
        (Method::PUT, format!("/Users/{user}"), Some(json!({"schemas": [USER_SCHEMA], "userName": "hijacked"}))),
        (Method::PATCH, format!("/Users/{user}"), Some(patch.clone())),
        (Method::DELETE, format!("/Users/{user}"), None),
        (Method::GET, "/Groups".to_owned(), None),
        (Method::POST, "/Groups".to_owned(), Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "intruders"}))),
        (Method::POST, "/Groups/.search".to_owned(), Some(search.clone())),
        (Method::GET, format!("/Groups/{group}"), None),
        (Method::PUT, format!("/Groups/{group}"), Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "hijacked"}))),
        (Method::PATCH, format!("/Groups/{group}"), Some(patch)),
        (Method::DELETE, format!("/Groups/{group}"), None),
        (Method::POST, "/.search".to_owned(), Some(search)),
        (Method::GET, "/ServiceProviderConfig".to_owned(), None),
        (Method::GET, "/ResourceTypes".to_owned(), None),
        (Method::GET, "/ResourceTypes/User".to_owned(), None),
        (Method::GET, "/Schemas".to_owned(), None),
        (Method::GET, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User".to_owned(), None),
        (Method::GET, "/Me".to_owned(), None),
        (Method::POST, "/Bulk".to_owned(), Some(json!({}))),
    ]
}

async fn assert_tenant_a_untouched(server: &TestServer, user: &str, group: &str) {
    let stored = server.a(Method::GET, &format!("/Users/{user}"), None).await.expect(200);
    assert_eq!(
        (stored.body["userName"].clone(), stored.header("etag").map(str::to_owned)),
        (json!("alice@a.example"), Some("\"v1\"".to_owned()))
    );
    let stored = server.a(Method::GET, &format!("/Groups/{group}"), None).await.expect(200);
    assert_eq!(stored.body["displayName"], "A team");
    assert_eq!(stored.body["members"][0]["value"], user);
    let users = server.a(Method::GET, "/Users", None).await.expect(200);
    assert_eq!(users.body["totalResults"], json!(1));
    // The user's groups are those of its own tenant only.
    let groups = &users.body["Resources"][0]["groups"];
    assert_eq!((groups.as_array().map(Vec::len), &groups[0]["value"]), (Some(1), &json!(group)), "{groups}");
}

async fn another_tenants_token_gets_401_on_every_endpoint(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let (user, group) = seed_tenant_a(&server).await;
    for (method, path, body) in every_endpoint(&user, &group) {
        let url = server.url(ORG_A, &path);
        let reply = server.send(Some(&server.token_b), method.clone(), &url, body.as_ref(), &[]).await;
        assert_eq!(reply.status.as_u16(), 401, "{method} {path} with tenant B's token: {}", reply.body);
        let reply = reply.expect_error(401, None);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    assert_tenant_a_untouched(&server, &user, &group).await;
}

async fn ids_of_another_tenants_objects_are_not_found(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let (user, group) = seed_tenant_a(&server).await;
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    for (method, path, body) in [
        (Method::GET, format!("/Users/{user}"), None),
        (Method::PUT, format!("/Users/{user}"), Some(json!({"schemas": [USER_SCHEMA], "userName": "hijacked"}))),
        (Method::PATCH, format!("/Users/{user}"), Some(patch.clone())),
        (Method::DELETE, format!("/Users/{user}"), None),
        (Method::GET, format!("/Groups/{group}"), None),
        (Method::PUT, format!("/Groups/{group}"), Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "hijacked"}))),
        (Method::PATCH, format!("/Groups/{group}"), Some(patch.clone())),
        (Method::DELETE, format!("/Groups/{group}"), None),
    ] {
        let reply = server.b(method.clone(), &path, body.as_ref()).await;
        assert_eq!(reply.status.as_u16(), 404, "{method} {path} in tenant B: {}", reply.body);
        reply.expect_error(404, None);
    }
    // Lists and filters of tenant B see nothing of tenant A.
    for path in [
        "/Users".to_owned(),
        "/Groups".to_owned(),
        format!("/Users?{}", filter(r#"userName eq "alice@a.example""#)),
        format!("/Users?{}", filter(&format!("id eq \"{user}\""))),
        format!("/Users?{}", filter(r#"userName sw "alice""#)),
        format!("/Groups?{}", filter(r#"displayName eq "A team""#)),
    ] {
        let reply = server.b(Method::GET, &path, None).await.expect(200);
        assert_eq!(reply.body["totalResults"], json!(0), "{path}: {}", reply.body);
    }
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    assert_eq!(server.b(Method::POST, "/.search", Some(&search)).await.expect(200).body["totalResults"], json!(0));
    // Members are kept as sent (RFC 7643 leaves references to the client), so tenant B may name tenant A's user id
    // in its group, by create, PATCH or PUT; but it resolves to nothing in tenant B (no display, type or $ref from
    // tenant A), and tenant A's user does not list tenant B's group.
    let with_stranger = json!({"schemas": [GROUP_SCHEMA], "displayName": "B team", "members": [{"value": user}]});
    let unresolved = json!([{"value": user}]);
    let created = server.b(Method::POST, "/Groups", Some(&with_stranger)).await.expect(201);
    assert_eq!(created.body["members"], unresolved);
    let b_group = server
        .b(Method::POST, "/Groups", Some(&json!({"schemas": [GROUP_SCHEMA], "displayName": "B team 2"})))
        .await
        .expect(201);
    let b_group = b_group.body["id"].as_str().unwrap().to_owned();
    let add =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}]});
    let patched = server.b(Method::PATCH, &format!("/Groups/{b_group}"), Some(&add)).await.expect(200);
    assert_eq!(patched.body["members"], unresolved);
    let replaced = server.b(Method::PUT, &format!("/Groups/{b_group}"), Some(&with_stranger)).await.expect(200);
    assert_eq!(replaced.body["members"], unresolved);
    // userName uniqueness is per tenant: tenant B may use the same name.
    let same_name = json!({"schemas": [USER_SCHEMA], "userName": "ALICE@a.example"});
    server.b(Method::POST, "/Users", Some(&same_name)).await.expect(201);
    assert_tenant_a_untouched(&server, &user, &group).await;
}

async fn unknown_disabled_and_rotated_tokens(store: Arc<dyn Store>) {
    let server = spawn(store.clone()).await;
    let users = server.url(ORG_A, "/Users");
    for token in [None, Some("not-a-token"), Some("")] {
        server.send(token, Method::GET, &users, None, &[]).await.expect_error(401, None);
    }
    let basic = server.send(None, Method::GET, &users, None, &[("Authorization", "Basic dXNlcjpwYXNz")]).await;
    basic.expect_error(401, None);
    // A token of tenant A with tenant B's org in the path: 401.
    let crossed = server.send(Some(&server.token_a), Method::GET, &server.url(ORG_B, "/Users"), None, &[]).await;
    crossed.expect_error(401, None);

    // Rotation: the previous token works during the grace period, then stops.
    let (new_token, new_hash) = token::issue_token();
    let new_token = secrecy::ExposeSecret::expose_secret(&new_token).to_owned();
    let later = warden::scim::now() + Duration::hours(1);
    store.rotate_scim_connection_token(&server.connection_a, &new_hash, later).await.unwrap();
    server.send(Some(&new_token), Method::GET, &users, None, &[]).await.expect(200);
    server.send(Some(&server.token_a), Method::GET, &users, None, &[]).await.expect(200);
    let (newest, newest_hash) = token::issue_token();
    let earlier = warden::scim::now() - Duration::seconds(1);
    store.rotate_scim_connection_token(&server.connection_a, &newest_hash, earlier).await.unwrap();
    server.send(Some(&new_token), Method::GET, &users, None, &[]).await.expect_error(401, None);
    server.send(Some(&server.token_a), Method::GET, &users, None, &[]).await.expect_error(401, None);
    let newest = secrecy::ExposeSecret::expose_secret(&newest).to_owned();
    server.send(Some(&newest), Method::GET, &users, None, &[]).await.expect(200);

    // Disabled: every token of the connection stops at once; the other tenant is unaffected.
    store.disable_scim_connection(&server.connection_a, warden::scim::now()).await.unwrap();
    server.send(Some(&newest), Method::GET, &users, None, &[]).await.expect_error(401, None);
    server.b(Method::GET, "/Users", None).await.expect(200);

    // Only authenticated requests are logged, each under its own connection.
    let log = server.request_log(&server.connection_b, 10).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].method.as_str(), log[0].path.as_str(), log[0].status), ("GET", "/scim/v2/200/Users", 200));
    assert_eq!(server.request_log(&server.connection_a, 100).await.len(), 3);
}

/// On PostgreSQL a server caches connections while it listens for connection changes. A disable by another
/// process (here a second store on the same database, as `warden scim connection disable` is) reaches it through
/// the notification: the token stops working without waiting for the cache to expire (5 s).
#[tokio::test]
async fn a_disable_by_another_process_reaches_a_caching_server() {
    let Some(admin) = crate::support::postgres_admin_url() else { return };
    let scratch = warden::store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let server = spawn(warden::store::open_and_migrate(&scratch).await.unwrap()).await;
    let users = server.url(ORG_A, "/Users");
    for _ in 0..20 {
        server.send(Some(&server.token_a), Method::GET, &users, None, &[]).await.expect(200);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let other_process = warden::store::open(&scratch).await.unwrap();
    other_process.disable_scim_connection(&server.connection_a, warden::scim::now()).await.unwrap();
    let mut status = 200;
    for _ in 0..30 {
        status = server.send(Some(&server.token_a), Method::GET, &users, None, &[]).await.status.as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 401, "the disabled token still works after 3 s");
    warden::store::drop_scratch_database(&admin, &scratch).await.unwrap();
}
