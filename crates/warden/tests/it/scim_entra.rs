//! Microsoft Entra ID's request sequences (reference/scim-clients.md 1.2), in its default dialect and with the
//! `aadOptscim062020` flag, over HTTP on both databases.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use warden::store::Store;

use crate::scim_support::{TestServer, filter, spawn};
use crate::support::contract_tests;

contract_tests!(
    entra_test_connection_finds_nothing_and_succeeds,
    entra_default_dialect_provisions_updates_and_disables_a_user,
    entra_retried_create_does_not_duplicate,
    entra_flagged_dialect_updates_with_one_pathless_replace,
    entra_groups_in_both_dialects,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const FLAG: &str = "?aadOptscim062020";

/// The user body Entra ID sends (MicrosoftDocs "use-scim-to-provision-users-and-groups", request 5).
fn entra_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    })
}

async fn create(server: &TestServer, path: &str, body: &Value) -> String {
    server.a(Method::POST, path, Some(body)).await.expect(201).body["id"].as_str().unwrap().to_owned()
}

async fn total(server: &TestServer, path: &str) -> Value {
    server.a(Method::GET, path, None).await.expect(200).body["totalResults"].clone()
}

async fn entra_test_connection_finds_nothing_and_succeeds(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let user = format!("/Users?{}", filter(r#"userName eq "non-existent user 8d5c7fa1""#));
    assert_eq!(total(&server, &user).await, json!(0));
    let group = format!("/Groups?excludedAttributes=members&{}", filter(r#"displayName eq "non-existent group""#));
    let reply = server.a(Method::GET, &group, None).await.expect(200);
    assert_eq!((reply.body["totalResults"].clone(), reply.body["Resources"].clone()), (json!(0), json!([])));
}

async fn entra_default_dialect_provisions_updates_and_disables_a_user(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let by_user_name = format!("/Users?{}", filter(r#"userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1""#));
    assert_eq!(total(&server, &by_user_name).await, json!(0));
    let id = create(&server, "/Users", &entra_user()).await;
    let path = format!("/Users/{id}");
    let by_external_id = format!("/Users?{}", filter(r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#));
    assert_eq!(total(&server, &by_external_id).await, json!(1));
    let by_work_email = format!(
        "/Users?{}",
        filter(r#"emails[type eq "work"].value eq "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com""#)
    );
    assert_eq!(total(&server, &by_work_email).await, json!(1));

    // Capitalised ops, a filtered path, a URN-qualified path, a single-value Add with a path.
    let update = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "42"},
        {"op": "Add", "path": "displayName", "value": "Updated Name"}]});
    let updated = server.a(Method::PATCH, &path, Some(&update)).await.expect(200);
    assert_eq!(updated.body["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(updated.body["emails"][0]["type"], "work");
    assert_eq!(updated.body["name"]["familyName"], "updatedFamilyName");
    assert_eq!(updated.body[ENTERPRISE]["employeeNumber"], "42");
    assert_eq!(updated.body["displayName"], "Updated Name");
    assert_eq!(total(&server, &by_work_email).await, json!(0), "the old address is gone from the index");
    let new_email = format!("/Users?{}", filter(r#"emails.value eq "UPDATEDEMAIL@microsoft.com""#));
    assert_eq!(total(&server, &new_email).await, json!(1));

    // Disable with a string boolean; the user is kept (soft delete) and still returned.
    let disable = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(server.a(Method::PATCH, &path, Some(&disable)).await.expect(200).body["active"], json!(false));
    assert_eq!(server.a(Method::GET, &path, None).await.expect(200).body["active"], json!(false));
    let inactive = format!("/Users?{}", filter("active eq false"));
    assert_eq!(total(&server, &inactive).await, json!(1));

    server.a(Method::DELETE, &path, None).await.expect(204);
    server.a(Method::GET, &path, None).await.expect_error(404, None);
    server.a(Method::DELETE, &path, None).await.expect_error(404, None);
}

async fn entra_retried_create_does_not_duplicate(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let first = server.a(Method::POST, "/Users", Some(&entra_user())).await.expect(201);
    // The same POST again, as after a 60 s timeout: the stored user, 201, nothing new.
    let retried = server.a(Method::POST, "/Users", Some(&entra_user())).await.expect(201);
    assert_eq!(retried.body["id"], first.body["id"]);
    assert_eq!(retried.body["meta"]["version"], "\"v1\"");
    assert_eq!(total(&server, "/Users").await, json!(1));
    // Concurrent retries too.
    let mut body = entra_user();
    body["userName"] = json!("concurrent@example.com");
    body["externalId"] = json!("concurrent-1");
    let (left, right) =
        tokio::join!(server.a(Method::POST, "/Users", Some(&body)), server.a(Method::POST, "/Users", Some(&body)));
    assert_eq!((left.status.as_u16(), right.status.as_u16()), (201, 201), "{} {}", left.body, right.body);
    assert_eq!(left.body["id"], right.body["id"]);
    assert_eq!(total(&server, "/Users").await, json!(2));
    // A group retried with the same externalId and displayName.
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "externalId": "g-1", "displayName": "Group1", "members": []});
    let first_group = create(&server, "/Groups", &group).await;
    assert_eq!(create(&server, "/Groups", &group).await, first_group);
    assert_eq!(total(&server, "/Groups").await, json!(1));
}

async fn entra_flagged_dialect_updates_with_one_pathless_replace(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create(&server, &format!("/Users{FLAG}"), &entra_user()).await;
    let path = format!("/Users/{id}{FLAG}");
    let update = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {
        "name.givenName": "Flagged",
        "name.familyName": "User",
        format!("{ENTERPRISE}:department"): "Tours",
        "emails[type eq \"work\"].value": "flagged@example.com",
        "active": false}}]});
    let updated = server.a(Method::PATCH, &path, Some(&update)).await.expect(200);
    assert_eq!(updated.body["name"]["givenName"], "Flagged");
    assert_eq!(updated.body["name"]["familyName"], "User");
    assert_eq!(updated.body[ENTERPRISE]["department"], "Tours");
    assert_eq!(updated.body["emails"][0]["value"], "flagged@example.com");
    assert_eq!(updated.body["active"], json!(false));
    let reactivate = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": true}]});
    assert_eq!(server.a(Method::PATCH, &path, Some(&reactivate)).await.expect(200).body["active"], json!(true));
}

async fn entra_groups_in_both_dialects(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let mut ids = Vec::new();
    for index in 0..3 {
        let mut body = entra_user();
        body["userName"] = json!(format!("member{index}@example.com"));
        body["externalId"] = json!(format!("member-{index}"));
        ids.push(create(&server, "/Users", &body).await);
    }
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Group1", "members": []});
    let group_id = create(&server, "/Groups", &group).await;
    let path = format!("/Groups/{group_id}");
    let matched = format!("/Groups?excludedAttributes=members&{}", filter(r#"displayName eq "Group1""#));
    let reply = server.a(Method::GET, &matched, None).await.expect(200);
    assert_eq!(reply.body["totalResults"], json!(1));
    assert_eq!(reply.body["Resources"][0]["id"], group_id.as_str());

    // Default dialect: Add with "$ref": null, then Remove with a value array removes exactly those members.
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members",
        "value": [{"$ref": null, "value": ids[0]}, {"$ref": null, "value": ids[1]}, {"$ref": null, "value": ids[2]}]}]});
    let added = server.a(Method::PATCH, &path, Some(&add)).await.expect(200);
    assert_eq!(added.body["members"].as_array().unwrap().len(), 3);
    let remove = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}]});
    let removed = server.a(Method::PATCH, &path, Some(&remove)).await.expect(200);
    let remaining: Vec<&str> =
        removed.body["members"].as_array().unwrap().iter().map(|member| member["value"].as_str().unwrap()).collect();
    assert_eq!(remaining.len(), 2);
    assert!(!remaining.contains(&ids[0].as_str()));
    // Removing again is idempotent.
    server.a(Method::PATCH, &path, Some(&remove)).await.expect(200);

    // Flagged dialect: remove through a filter, rename.
    let flagged = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])},
        {"op": "replace", "path": "displayName", "value": "Group1 renamed"}]});
    let changed = server.a(Method::PATCH, &format!("{path}{FLAG}"), Some(&flagged)).await.expect(200);
    assert_eq!(changed.body["displayName"], "Group1 renamed");
    assert_eq!(changed.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(changed.body["members"][0]["value"], ids[2].as_str());
    // excludedAttributes=members on GET.
    let without = server.a(Method::GET, &format!("{path}?excludedAttributes=members"), None).await.expect(200);
    assert!(without.body.get("members").is_none());
    assert_eq!(without.body["displayName"], "Group1 renamed");
    // A member filter is evaluated in memory.
    let by_member = format!("/Groups?{}", filter(&format!("members.value eq \"{}\"", ids[2])));
    assert_eq!(total(&server, &by_member).await, json!(1));
}
