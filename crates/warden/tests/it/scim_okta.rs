//! Okta's request sequences (reference/scim-clients.md 1.1), replayed over HTTP on both databases.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use warden::store::{ScimKind, ScimTenant, Store};
use warden_core::id::{EnvironmentName, OrgId};

use crate::scim_support::{ORG_A, TestServer, filter, spawn};
use crate::support::contract_tests;

contract_tests!(
    okta_imports_creates_updates_and_deactivates_a_user,
    okta_pages_through_an_import_in_a_stable_order,
    okta_pushes_a_group_renames_it_and_changes_its_members,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn okta_user(user_name: &str, external_id: Option<&str>) -> Value {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Isaac", "familyName": "Brock"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Isaac Brock",
        "locale": "en-US",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    if let Some(external_id) = external_id {
        body["externalId"] = json!(external_id);
    }
    body
}

async fn create_user(server: &TestServer, user_name: &str) -> String {
    let reply = server.a(Method::POST, "/Users", Some(&okta_user(user_name, None))).await.expect(201);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn okta_imports_creates_updates_and_deactivates_a_user(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let lookup = format!("/Users?{}&startIndex=1&count=100", filter(r#"userName eq "isaac.brock@example.com""#));
    let empty = server.a(Method::GET, &lookup, None).await.expect(200);
    assert_eq!(empty.body["totalResults"], json!(0));
    assert_eq!(empty.body["Resources"], json!([]));
    assert!(empty.body["startIndex"].is_u64() && empty.body["itemsPerPage"].is_u64());

    // Create with the placeholder password: accepted, never stored, never returned.
    let body = okta_user("isaac.brock@example.com", Some("00ujl29u0le5T6Aj10h7"));
    let created = server.a(Method::POST, "/Users", Some(&body)).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["active"], json!(true));
    assert_eq!(created.body["userName"], "isaac.brock@example.com");
    assert_eq!(created.body["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(created.body["name"]["familyName"], "Brock");
    assert!(created.body.get("password").is_none());
    assert!(created.body.get("groups").is_none());
    assert_eq!(created.header("location"), Some(server.url(ORG_A, &format!("/Users/{id}")).as_str()));
    assert_eq!(created.body["meta"]["location"], server.url(ORG_A, &format!("/Users/{id}")));
    assert_eq!(created.header("etag"), Some("\"v1\""));
    assert_eq!(created.body["meta"]["version"], "\"v1\"");
    assert!(created.header("content-type").unwrap().starts_with("application/scim+json"));
    let tenant =
        ScimTenant { environment: EnvironmentName::parse("prod").unwrap(), org_id: OrgId::parse(ORG_A).unwrap() };
    let stored = server.store.scim_record(ScimKind::User, &tenant, &id).await.unwrap().unwrap();
    assert!(!stored.resource.to_string().contains("1mz050nq"), "{}", stored.resource);

    // Import by filter finds it, whatever the case of the userName.
    let upper = format!("/Users?{}&startIndex=1&count=100", filter(r#"userName eq "ISAAC.BROCK@example.com""#));
    let found = server.a(Method::GET, &upper, None).await.expect(200);
    assert_eq!(found.body["totalResults"], json!(1));
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    // A second create of the same userName without the same externalId is a duplicate: 409 stops Okta's job.
    server
        .a(Method::POST, "/Users", Some(&okta_user("Isaac.Brock@example.com", None)))
        .await
        .expect_error(409, Some("uniqueness"));
    let other_owner = okta_user("isaac.brock@example.com", Some("00uSOMEONEELSE"));
    server.a(Method::POST, "/Users", Some(&other_owner)).await.expect_error(409, Some("uniqueness"));

    // OIN update: GET, then PUT of the whole object.
    let mut user = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200).body;
    user["name"]["givenName"] = json!("Isaac J.");
    user["password"] = json!("another placeholder");
    let updated = server.a(Method::PUT, &format!("/Users/{id}"), Some(&user)).await.expect(200);
    assert_eq!(updated.body["name"]["givenName"], "Isaac J.");
    assert_eq!(updated.body["id"], id.as_str());
    assert_eq!(updated.header("etag"), Some("\"v2\""));
    assert!(updated.body.get("password").is_none());

    // Deactivation by PATCH without a path; the user still comes back on GET.
    let deactivate = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let patched = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&deactivate)).await.expect(200);
    assert_eq!(patched.body["active"], json!(false));
    let fetched = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    assert_eq!(
        (fetched.body["active"].clone(), fetched.body["name"]["givenName"].clone()),
        (json!(false), json!("Isaac J."))
    );

    // AIW apps reactivate and deactivate with PUT.
    for active in [true, false] {
        let mut whole = okta_user("isaac.brock@example.com", Some("00ujl29u0le5T6Aj10h7"));
        whole["id"] = json!(id);
        whole["active"] = json!(active);
        let put = server.a(Method::PUT, &format!("/Users/{id}"), Some(&whole)).await.expect(200);
        assert_eq!(put.body["active"], json!(active));
    }
    let versions = server.a(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(versions.header("etag"), Some("\"v5\""));
}

async fn okta_pages_through_an_import_in_a_stable_order(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let mut created = BTreeSet::new();
    for index in 0..7 {
        created.insert(create_user(&server, &format!("user{index}@example.com")).await);
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = server.a(Method::GET, &format!("/Users?startIndex={start}&count=3"), None).await.expect(200);
        assert_eq!(page.body["totalResults"], json!(7));
        assert_eq!(page.body["startIndex"], json!(start));
        let resources = page.body["Resources"].as_array().unwrap();
        assert_eq!(page.body["itemsPerPage"], json!(resources.len()));
        seen.extend(resources.iter().map(|user| user["id"].as_str().unwrap().to_owned()));
        start += 3;
        if start > 7 {
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), created);
    // The same walk again gives the same order.
    let again = server.a(Method::GET, "/Users?startIndex=1&count=100", None).await.expect(200);
    let order: Vec<String> = again.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, seen);
}

async fn okta_pushes_a_group_renames_it_and_changes_its_members(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let alice = create_user(&server, "alice@example.com").await;
    let bob = create_user(&server, "bob@example.com").await;
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering", "members": []});
    let created = server.a(Method::POST, "/Groups", Some(&body)).await.expect(201);
    let group = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{group}");
    assert!(created.body.get("members").is_none());

    let import = server.a(Method::GET, "/Groups?startIndex=1&count=100", None).await.expect(200);
    assert_eq!(import.body["totalResults"], json!(1));
    assert_eq!(import.body["Resources"][0]["displayName"], "Engineering");

    // Rename, with the id inside the value (Okta re-sends it with every membership change).
    let rename = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"id": group, "displayName": "Engineering Team"}}]});
    let renamed = server.a(Method::PATCH, &path, Some(&rename)).await.expect(200);
    assert_eq!(renamed.body["displayName"], "Engineering Team");

    let add = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"id": group, "displayName": "Engineering Team"}},
        {"op": "add", "path": "members", "value": [{"value": alice, "display": "alice@example.com"}, {"value": bob}]}]});
    let added = server.a(Method::PATCH, &path, Some(&add)).await.expect(200);
    let members = added.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    for member in members {
        // The display Okta sent is kept; without one, it comes from the user (its displayName).
        let expected = if member["value"] == json!(alice) { "alice@example.com" } else { "Isaac Brock" };
        assert_eq!(member["display"], expected, "{member}");
        assert_eq!(member["type"], "User");
    }

    let remove = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]});
    let removed = server.a(Method::PATCH, &path, Some(&remove)).await.expect(200);
    assert_eq!(removed.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(removed.body["members"][0]["value"], bob.as_str());

    let push = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "members", "value": [{"value": alice}]}]});
    let pushed = server.a(Method::PATCH, &path, Some(&push)).await.expect(200);
    assert_eq!(
        pushed.body["members"],
        json!([{"value": alice, "$ref": server.url(ORG_A, &format!("/Users/{alice}")), "type": "User", "display": "Isaac Brock"}])
    );

    // AIW apps PUT the group.
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": group, "displayName": "Eng", "members": [{"value": bob}]});
    let replaced = server.a(Method::PUT, &path, Some(&put)).await.expect(200);
    assert_eq!(
        (replaced.body["displayName"].clone(), replaced.body["members"][0]["value"].clone()),
        (json!("Eng"), json!(bob))
    );

    server.a(Method::DELETE, &path, None).await.expect(204);
    server.a(Method::GET, &path, None).await.expect_error(404, None);
    // The users stay.
    server.a(Method::GET, &format!("/Users/{bob}"), None).await.expect(200);
}
