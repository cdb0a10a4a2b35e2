//! `/Bulk`: bulkId references (also forward), failOnErrors, and the advertised limits enforced, on both databases.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use warden::config::Config;
use warden::store::Store;

use crate::scim_support::{GROUP_SCHEMA, USER_SCHEMA, spawn, spawn_with};
use crate::support::contract_tests;

contract_tests!(
    bulk_resolves_bulk_ids_in_paths_and_data_even_forward,
    bulk_reports_each_failure_and_stops_after_fail_on_errors,
    bulk_limits_are_advertised_and_enforced,
);

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn statuses(reply: &Value) -> Vec<String> {
    reply["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|operation| operation["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn bulk_resolves_bulk_ids_in_paths_and_data_even_forward(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let request = json!({"schemas": [BULK], "Operations": [
        // A forward reference: the user is created by the third operation.
        {"method": "PATCH", "path": "/Users/bulkId:bob", "data": {"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Bob B."}]}},
        {"method": "POST", "path": "/Users", "bulkId": "alice", "data": {"schemas": [USER_SCHEMA], "userName": "alice", "password": "p"}},
        {"method": "POST", "path": "/Users", "bulkId": "bob", "data": {"schemas": [USER_SCHEMA], "userName": "bob"}},
        {"method": "POST", "path": "/Groups", "bulkId": "team", "data": {"schemas": [GROUP_SCHEMA], "displayName": "Team",
            "members": [{"value": "bulkId:alice"}, {"value": "bulkId:bob"}]}},
        {"method": "PUT", "path": "/Groups/bulkId:team", "version": "\"v1\"", "data": {"schemas": [GROUP_SCHEMA], "displayName": "Team 2",
            "members": [{"value": "bulkId:bob"}]}}]});
    let reply = server.a(Method::POST, "/Bulk", Some(&request)).await.expect(200);
    assert_eq!(reply.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    // Each write committed its own log row (the operation's method and path); the /Bulk request has one too.
    let log = server.request_log(&server.connection_a, 100).await;
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(log.iter().any(|entry| entry.method == "POST" && entry.path == "/scim/v2/100/Bulk" && entry.status == 200));
    assert!(
        log.iter().any(|entry| entry.method == "PATCH"
            && entry.path.starts_with("/scim/v2/100/Users/")
            && entry.status == 200)
    );
    assert_eq!(log.iter().filter(|entry| entry.method == "POST" && entry.status == 201).count(), 3);
    assert_eq!(statuses(&reply.body), vec!["200", "201", "201", "201", "200"]);
    let operations = reply.body["Operations"].as_array().unwrap();
    assert_eq!((operations[1]["bulkId"].as_str(), operations[1]["version"].as_str()), (Some("alice"), Some("\"v1\"")));
    let team = operations[3]["location"].as_str().unwrap();
    let group = server.send(Some(&server.token_a), Method::GET, team, None, &[]).await.expect(200);
    assert_eq!(group.body["displayName"], "Team 2");
    assert_eq!(group.body["members"].as_array().unwrap().len(), 1);
    // No display was sent: the member user's displayName stands in.
    assert_eq!(group.body["members"][0]["display"], "Bob B.");
    let bob = operations[0]["location"].as_str().unwrap();
    assert_eq!(operations[2]["location"].as_str(), Some(bob));
    let alice =
        server.send(Some(&server.token_a), Method::GET, operations[1]["location"].as_str().unwrap(), None, &[]).await;
    assert!(alice.expect(200).body.get("password").is_none());
}

async fn bulk_reports_each_failure_and_stops_after_fail_on_errors(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let alice = server
        .a(Method::POST, "/Users", Some(&json!({"schemas": [USER_SCHEMA], "userName": "alice"})))
        .await
        .expect(201);
    let alice_id = alice.body["id"].as_str().unwrap().to_owned();
    let request = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"schemas": [USER_SCHEMA], "userName": "ALICE"}},
        {"method": "PUT", "path": format!("/Users/{alice_id}"), "version": "\"v9\"", "data": {"schemas": [USER_SCHEMA], "userName": "alice"}},
        {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"schemas": [GROUP_SCHEMA], "displayName": "A", "members": [{"value": "bulkId:b"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"schemas": [GROUP_SCHEMA], "displayName": "B", "members": [{"value": "bulkId:a"}]}},
        {"method": "DELETE", "path": "/Users/nobody"}]});
    let reply = server.a(Method::POST, "/Bulk", Some(&request)).await.expect(200);
    assert_eq!(statuses(&reply.body), vec!["409", "412", "409", "409", "404"], "{}", reply.body);
    let operations = reply.body["Operations"].as_array().unwrap();
    assert_eq!(operations[0]["response"]["scimType"], "uniqueness");
    assert!(operations[2]["response"]["detail"].as_str().unwrap().contains("circular"));
    // GET is no bulk operation (RFC 7644 section 3.7): the request is refused as a whole.
    let get = json!({"schemas": [BULK], "Operations": [{"method": "GET", "path": "/Users"}]});
    server.a(Method::POST, "/Bulk", Some(&get)).await.expect_error(400, Some("invalidSyntax"));

    // Tenant B's bulk cannot touch tenant A's user; failOnErrors stops at the first failure.
    let request = json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
        {"method": "PATCH", "path": format!("/Users/{alice_id}"), "data": {"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": false}]}},
        {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"schemas": [USER_SCHEMA], "userName": "never created"}}]});
    let reply = server.b(Method::POST, "/Bulk", Some(&request)).await.expect(200);
    assert_eq!(statuses(&reply.body), vec!["404"]);
    assert_eq!(server.b(Method::GET, "/Users", None).await.expect(200).body["totalResults"], json!(0));
    let alice = server.a(Method::GET, &format!("/Users/{alice_id}"), None).await.expect(200);
    assert_eq!(alice.header("etag"), Some("\"v1\""));
}

async fn bulk_limits_are_advertised_and_enforced(store: Arc<dyn Store>) {
    let mut config = Config::default();
    config.scim.bulk_max_operations = 2;
    let server = spawn_with(store, config).await;
    let advertised = server.a(Method::GET, "/ServiceProviderConfig", None).await.expect(200);
    assert_eq!(advertised.body["bulk"], json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 1_048_576}));
    let operation = json!({"method": "DELETE", "path": "/Users/x"});
    let too_many = json!({"schemas": [BULK], "Operations": [operation, operation, operation]});
    server.a(Method::POST, "/Bulk", Some(&too_many)).await.expect_error(413, None);
    let too_large = json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a",
        "data": {"schemas": [USER_SCHEMA], "userName": "x".repeat(1_048_577)}}]});
    server.a(Method::POST, "/Bulk", Some(&too_large)).await.expect_error(413, None);
    let no_bulk_id = json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "data": {"schemas": [USER_SCHEMA], "userName": "y"}}]});
    server.a(Method::POST, "/Bulk", Some(&no_bulk_id)).await.expect_error(400, Some("invalidSyntax"));
    assert_eq!(server.a(Method::GET, "/Users", None).await.expect(200).body["totalResults"], json!(0));
}
