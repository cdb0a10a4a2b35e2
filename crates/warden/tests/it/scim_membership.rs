//! Memberships over HTTP on both databases: group members kept as sent (what scim2-tester and scim-sanity check),
//! a user's readOnly `groups`, `emails` filters over every address, and the request log committed with each write.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use warden::store::Store;

use crate::scim_support::{GROUP_SCHEMA, TestServer, USER_SCHEMA, filter, spawn};
use crate::support::contract_tests;

contract_tests!(
    members_are_kept_as_sent_and_users_show_their_groups,
    email_filters_match_any_address,
    writes_commit_their_log_row_and_failures_change_nothing,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn create(server: &TestServer, path: &str, body: Value) -> String {
    server.a(Method::POST, path, Some(&body)).await.expect(201).body["id"].as_str().unwrap().to_owned()
}

async fn members_are_kept_as_sent_and_users_show_their_groups(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let alice =
        create(&server, "/Users", json!({"schemas": [USER_SCHEMA], "userName": "alice", "displayName": "Alice A."}))
            .await;
    let bob = create(&server, "/Users", json!({"schemas": [USER_SCHEMA], "userName": "bob"})).await;
    let base = server.url(crate::scim_support::ORG_A, "");
    // A display the client sends is kept; without one, the member's displayName, else its userName. An id that is
    // no user of the tenant is kept as sent, with what the client said about it.
    let team = json!({"schemas": [GROUP_SCHEMA], "displayName": "Team", "members": [
        {"value": alice, "display": "Alice from Okta", "type": "User"},
        {"value": bob},
        {"value": "elsewhere-42", "display": "Someone"}]});
    let team = server.a(Method::POST, "/Groups", Some(&team)).await.expect(201);
    let team_id = team.body["id"].as_str().unwrap().to_owned();
    let mut members = team.body["members"].as_array().unwrap().clone();
    members.sort_by_key(|member| member["display"].as_str().unwrap().to_owned());
    assert_eq!(
        members,
        vec![
            json!({"value": alice, "display": "Alice from Okta", "type": "User", "$ref": format!("{base}/Users/{alice}")}),
            json!({"value": "elsewhere-42", "display": "Someone"}),
            json!({"value": bob, "display": "bob", "type": "User", "$ref": format!("{base}/Users/{bob}")}),
        ]
    );
    let admins = create(
        &server,
        "/Groups",
        json!({"schemas": [GROUP_SCHEMA], "displayName": "Admins", "members": [{"value": alice}]}),
    )
    .await;

    // The user's groups (readOnly, RFC 7643 section 4.1.2): on GET and on every user of a list.
    let expected_alice = json!([
        {"value": admins, "$ref": format!("{base}/Groups/{admins}"), "display": "Admins", "type": "direct"},
        {"value": team_id, "$ref": format!("{base}/Groups/{team_id}"), "display": "Team", "type": "direct"}]);
    let got = server.a(Method::GET, &format!("/Users/{alice}"), None).await.expect(200);
    assert_eq!(got.body["groups"], expected_alice);
    let listed = server.a(Method::GET, "/Users?sortBy=userName", None).await.expect(200);
    assert_eq!(listed.body["Resources"][0]["groups"], expected_alice);
    assert_eq!(listed.body["Resources"][1]["groups"].as_array().map(Vec::len), Some(1));
    let without = server.a(Method::GET, &format!("/Users/{alice}?excludedAttributes=groups"), None).await.expect(200);
    assert!(without.body.get("groups").is_none());
    // Sent groups are ignored: they follow the memberships, never the other way round.
    let put = json!({"schemas": [USER_SCHEMA], "userName": "alice", "groups": [{"value": "made-up"}]});
    let replaced = server.a(Method::PUT, &format!("/Users/{alice}"), Some(&put)).await.expect(200);
    assert_eq!(replaced.body["groups"], expected_alice);

    // Leaving a group shows at once; a user with no group has no `groups`.
    let leave = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]});
    server.a(Method::PATCH, &format!("/Groups/{team_id}"), Some(&leave)).await.expect(200);
    let bob_now = server.a(Method::GET, &format!("/Users/{bob}"), None).await.expect(200);
    assert!(bob_now.body.get("groups").is_none(), "{}", bob_now.body);
    // A PATCH adding an unknown id answers 200 (scim-sanity's "add member").
    let add = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "fake-member-id"}]}]});
    let added = server.a(Method::PATCH, &format!("/Groups/{team_id}"), Some(&add)).await.expect(200);
    assert!(added.body["members"].as_array().unwrap().iter().any(|member| member["value"] == "fake-member-id"));
}

async fn email_filters_match_any_address(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let user = json!({"schemas": [USER_SCHEMA], "userName": "bjensen", "emails": [
        {"value": "bj@work.example", "type": "work", "primary": true},
        {"value": "Babs@Home.example", "type": "home"}]});
    let id = create(&server, "/Users", user).await;
    for text in [
        r#"emails eq "babs@home.example""#,
        r#"emails.value eq "BABS@home.example""#,
        r#"emails[value eq "babs@home.example"]"#,
        r#"emails[type eq "home" and value eq "babs@home.example"]"#,
        r#"emails eq "bj@work.example" and userName eq "bjensen""#,
    ] {
        let reply = server.a(Method::GET, &format!("/Users?{}", filter(text)), None).await.expect(200);
        assert_eq!(
            (reply.body["totalResults"].clone(), &reply.body["Resources"][0]["id"]),
            (json!(1), &json!(id)),
            "{text}"
        );
    }
    for text in [r#"emails eq "nobody@home.example""#, r#"emails[type eq "work" and value eq "babs@home.example"]"#] {
        let reply = server.a(Method::GET, &format!("/Users?{}", filter(text)), None).await.expect(200);
        assert_eq!(reply.body["totalResults"], json!(0), "{text}");
    }
}

/// Every write commits its data change and its request-log row in one transaction: exactly one row per request,
/// with the status answered; a failed write leaves no change and still gets its row.
async fn writes_commit_their_log_row_and_failures_change_nothing(store: Arc<dyn Store>) {
    let server = spawn(store.clone()).await;
    // A write's row is committed with the write, before its response: read straight from the store, no flush.
    let committed = || async { store.list_scim_request_log(&server.connection_a, 100).await.unwrap() };
    // Failed and read requests get their rows after the response: flushed first.
    let log = || server.request_log(&server.connection_a, 100);
    let id = create(&server, "/Users", json!({"schemas": [USER_SCHEMA], "userName": "alice"})).await;
    let rows = committed().await;
    assert_eq!(rows.len(), 1, "one row per write, not two: {rows:?}");
    assert_eq!((rows[0].method.as_str(), rows[0].path.as_str(), rows[0].status), ("POST", "/scim/v2/100/Users", 201));

    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    server.a(Method::PATCH, &format!("/Users/{id}"), Some(&patch)).await.expect(200);
    let rows = committed().await;
    assert_eq!((rows.len(), rows[0].method.as_str(), rows[0].status), (2, "PATCH", 200));

    // Failures: a taken userName, a stale If-Match, an invalid PATCH. Each is logged; none changes anything.
    server
        .a(Method::POST, "/Users", Some(&json!({"schemas": [USER_SCHEMA], "userName": "ALICE"})))
        .await
        .expect_error(409, Some("uniqueness"));
    let url = server.url(crate::scim_support::ORG_A, &format!("/Users/{id}"));
    let rename = json!({"schemas": [USER_SCHEMA], "userName": "x"});
    let if_match = [("If-Match", "\"v1\"")];
    server.send(Some(&server.token_a), Method::PUT, &url, Some(&rename), &if_match).await.expect(412);
    let invalid = json!({"schemas": [PATCH_OP], "Operations": [{"op": "explode", "path": "active"}]});
    server.a(Method::PATCH, &format!("/Users/{id}"), Some(&invalid)).await.expect(400);
    let statuses: Vec<u16> = log().await.iter().map(|entry| entry.status).collect();
    assert_eq!(statuses, vec![400, 412, 409, 200, 201]);
    let users = server.a(Method::GET, "/Users", None).await.expect(200);
    assert_eq!(users.body["totalResults"], json!(1));
    assert_eq!(
        (users.body["Resources"][0]["userName"].clone(), users.body["Resources"][0]["active"].clone()),
        (json!("alice"), json!(false))
    );
    assert_eq!(users.body["Resources"][0]["meta"]["version"], "\"v2\"");

    server.a(Method::DELETE, &format!("/Users/{id}"), None).await.expect(204);
    server.a(Method::DELETE, &format!("/Users/{id}"), None).await.expect(404);
    let rows = log().await;
    let newest: Vec<(&str, u16)> = rows.iter().take(3).map(|entry| (entry.method.as_str(), entry.status)).collect();
    assert_eq!(newest, vec![("DELETE", 404), ("DELETE", 204), ("GET", 200)]);
}
