//! Untrusted input at the SCIM edge (issue #14): NUL bytes, values longer than their advertised maximum, blank
//! userNames, values of the wrong type, bodies without their schemas, repeated bulkIds, non-JSON bodies, creates
//! that repeat a stored resource with other content, and the Host header. Each is a 4xx in SCIM form, never a 500,
//! and leaves the store as it was; on both databases.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use warden::config::Config;
use warden::store::Store;

use crate::scim_support::{ORG_A, TestServer, filter, spawn, spawn_with};
use crate::support::contract_tests;

contract_tests!(
    nul_bytes_are_invalid_values_and_unknown_ids,
    values_longer_than_their_advertised_maximum_are_refused,
    a_create_repeating_a_stored_user_with_other_content_is_a_conflict,
    a_create_repeating_a_stored_group_with_other_content_is_a_conflict,
    a_blank_user_name_is_refused_everywhere,
    values_of_the_wrong_type_are_refused_and_client_quirks_kept,
    bodies_must_name_their_schemas,
    a_patch_of_an_unknown_attribute_changes_nothing_and_succeeds,
    a_bulk_request_repeating_a_bulk_id_runs_nothing,
    only_json_bodies_are_read,
    locations_come_from_the_public_url_never_from_the_host_header,
);

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn with_schema(schema: &str, fields: Value) -> Value {
    let mut body = fields;
    body["schemas"] = json!([schema]);
    body
}

fn user(fields: Value) -> Value {
    with_schema(USER, fields)
}

fn group(fields: Value) -> Value {
    with_schema(GROUP, fields)
}

fn patch(operations: Value) -> Value {
    let mut body = json!({"schemas": [PATCH_OP]});
    body["Operations"] = operations;
    body
}

async fn create(server: &TestServer, path: &str, body: Value) -> String {
    server.a(Method::POST, path, Some(&body)).await.expect(201).body["id"].as_str().unwrap().to_owned()
}

/// Tenant A's users and groups, as a list of (id, version) pairs and resources: what a refused request must leave.
async fn snapshot(server: &TestServer) -> Vec<Value> {
    let mut all = Vec::new();
    for endpoint in ["/Users", "/Groups"] {
        let list = server.a(Method::GET, &format!("{endpoint}?count=200"), None).await.expect(200);
        all.extend(list.body["Resources"].as_array().unwrap().iter().cloned());
    }
    all
}

async fn nul_bytes_are_invalid_values_and_unknown_ids(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create(&server, "/Users", user(json!({"userName": "nul@example.com"}))).await;
    let group_id = create(&server, "/Groups", group(json!({"displayName": "Nul"}))).await;
    let before = snapshot(&server).await;
    let nul = "a\u{0}b";
    for body in [
        user(json!({"userName": nul})),
        user(json!({"userName": "x", "displayName": nul})),
        user(json!({"userName": "x", "externalId": nul})),
        user(json!({"userName": "x", "emails": [{"value": nul}]})),
        user(json!({"userName": "x", "name": {"givenName": nul}})),
        user(json!({"userName": "x", "nickName": "fine", "unknownAttribute": nul})),
    ] {
        server.a(Method::POST, "/Users", Some(&body)).await.expect_error(400, Some("invalidValue"));
    }
    server
        .a(Method::POST, "/Groups", Some(&group(json!({"displayName": nul}))))
        .await
        .expect_error(400, Some("invalidValue"));
    let members = group(json!({"displayName": "G", "members": [{"value": nul}]}));
    server.a(Method::POST, "/Groups", Some(&members)).await.expect_error(400, Some("invalidValue"));
    let user_path = format!("/Users/{id}");
    server
        .a(Method::PUT, &user_path, Some(&user(json!({"userName": nul}))))
        .await
        .expect_error(400, Some("invalidValue"));
    for operation in [
        json!({"op": "replace", "path": "displayName", "value": nul}),
        json!({"op": "add", "path": "emails", "value": [{"value": nul}]}),
        json!({"op": "replace", "value": {"userName": nul}}),
        json!({"op": "add", "path": "emails[type eq \"work\"].value", "value": nul}),
    ] {
        let reply = server.a(Method::PATCH, &user_path, Some(&patch(json!([operation])))).await;
        reply.expect_error(400, Some("invalidValue"));
    }
    let group_patch = patch(json!([{"op": "add", "path": "members", "value": [{"value": nul}]}]));
    server
        .a(Method::PATCH, &format!("/Groups/{group_id}"), Some(&group_patch))
        .await
        .expect_error(400, Some("invalidValue"));
    // A NUL in a filter, and in an id of the path: the filter is invalid, the id names nothing.
    for text in ["userName eq \"a\u{0}b\"", r#"userName eq "a\u0000b""#, r#"emails[value eq "\u0000"]"#] {
        let nul_filter = format!("/Users?{}", filter(text));
        server.a(Method::GET, &nul_filter, None).await.expect_error(400, Some("invalidFilter"));
    }
    let search =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"a\u{0}\""});
    server.a(Method::POST, "/Users/.search", Some(&search)).await.expect_error(400, Some("invalidValue"));
    let escaped = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": r#"userName eq "a\u0000""#});
    server.a(Method::POST, "/Users/.search", Some(&escaped)).await.expect_error(400, Some("invalidFilter"));
    for path in ["/Users/abc%00def", "/Groups/abc%00def", &format!("/Users/{id}%00")] {
        server.a(Method::GET, path, None).await.expect_error(404, None);
        server.a(Method::DELETE, path, None).await.expect_error(404, None);
        let replace = patch(json!([{"op": "replace", "path": "displayName", "value": "x"}]));
        server.a(Method::PATCH, path, Some(&replace)).await.expect_error(404, None);
    }
    let bulk = json!({"schemas": [BULK], "Operations": [
        {"method": "DELETE", "path": "/Users/abc\u{0}def"},
        {"method": "POST", "path": "/Users", "bulkId": "b\u{0}", "data": user(json!({"userName": "bulk"}))}
    ]});
    server.a(Method::POST, "/Bulk", Some(&bulk)).await.expect_error(400, Some("invalidValue"));
    assert_eq!(snapshot(&server).await, before);
}

/// `count` characters drawn from all of Unicode but the surrogates and NUL (a fixed xorshift sequence per seed):
/// random enough not to compress.
fn random_text(count: usize, seed: u64) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut text = String::new();
    while text.chars().count() < count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let code = u32::try_from(state % 0x10_FFFF).unwrap();
        if let Some(character) = char::from_u32(code).filter(|character| *character != '\0') {
            text.push(character);
        }
    }
    text
}

async fn values_longer_than_their_advertised_maximum_are_refused(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let long = random_text(3_000, 1);
    let before = snapshot(&server).await;
    for body in [
        user(json!({"userName": long})),
        user(json!({"userName": "x", "externalId": long})),
        user(json!({"userName": "x", "displayName": long})),
        user(json!({"userName": "x", "emails": [{"value": long}]})),
        user(json!({"userName": "a".repeat(10_000)})),
    ] {
        server.a(Method::POST, "/Users", Some(&body)).await.expect_error(400, Some("invalidValue"));
    }
    for body in [
        group(json!({"displayName": long})),
        group(json!({"displayName": "G", "externalId": long})),
        group(json!({"displayName": "G", "members": [{"value": long}]})),
    ] {
        server.a(Method::POST, "/Groups", Some(&body)).await.expect_error(400, Some("invalidValue"));
    }
    assert_eq!(snapshot(&server).await, before);

    // The maximum is advertised in /Schemas and holds exactly, in characters (here up to four bytes each).
    let schema = server.a(Method::GET, &format!("/Schemas/{USER}"), None).await.expect(200);
    let user_name = schema.body["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "userName").unwrap();
    assert!(user_name["description"].as_str().unwrap().contains("at most 256 characters"), "{user_name}");
    let longest = random_text(256, 2);
    let id = create(&server, "/Users", user(json!({"userName": longest, "externalId": random_text(256, 3)}))).await;
    let stored = server.a(Method::GET, &format!("/Users/{id}"), None).await.expect(200);
    assert_eq!(stored.body["userName"], longest);
    create(&server, "/Groups", group(json!({"displayName": random_text(256, 4), "members": [{"value": id}]}))).await;
    let one_more = user(json!({"userName": random_text(257, 5)}));
    server.a(Method::POST, "/Users", Some(&one_more)).await.expect_error(400, Some("invalidValue"));
    let rename = patch(json!([{"op": "replace", "path": "userName", "value": random_text(257, 6)}]));
    server.a(Method::PATCH, &format!("/Users/{id}"), Some(&rename)).await.expect_error(400, Some("invalidValue"));
}

async fn a_create_repeating_a_stored_user_with_other_content_is_a_conflict(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let body =
        user(json!({"userName": "retry@example.com", "externalId": "okta-1", "displayName": "Retry", "active": true,
        "emails": [{"value": "retry@example.com", "primary": true}], "password": "placeholder"}));
    let first = server.a(Method::POST, "/Users", Some(&body)).await.expect(201);
    // The same create again (a client retrying after a timeout) is answered as the first was: nothing is written.
    let retried = server.a(Method::POST, "/Users", Some(&body)).await.expect(201);
    assert_eq!((retried.body["id"].clone(), retried.header("etag")), (first.body["id"].clone(), Some("\"v1\"")));
    // The same userName and externalId with other content is not a retry: the change would be silently dropped.
    for changed in [
        json!({"active": false}),
        json!({"displayName": "Someone Else"}),
        json!({"emails": [{"value": "other@example.com"}]}),
        json!({"title": "New"}),
    ] {
        let mut body = body.clone();
        for (key, value) in changed.as_object().unwrap() {
            body[key] = value.clone();
        }
        server.a(Method::POST, "/Users", Some(&body)).await.expect_error(409, Some("uniqueness"));
    }
    let stored =
        server.a(Method::GET, &format!("/Users/{}", first.body["id"].as_str().unwrap()), None).await.expect(200);
    assert_eq!((stored.body["active"].clone(), stored.header("etag")), (json!(true), Some("\"v1\"")));
    assert_eq!(server.a(Method::GET, "/Users", None).await.expect(200).body["totalResults"], json!(1));
}

async fn a_create_repeating_a_stored_group_with_other_content_is_a_conflict(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let alice = create(&server, "/Users", user(json!({"userName": "alice"}))).await;
    let bob = create(&server, "/Users", user(json!({"userName": "bob"}))).await;
    let body = group(json!({"displayName": "Team", "externalId": "g-1", "members": [{"value": alice}]}));
    let first = server.a(Method::POST, "/Groups", Some(&body)).await.expect(201);
    let retried = server.a(Method::POST, "/Groups", Some(&body)).await.expect(201);
    assert_eq!(retried.body["id"], first.body["id"]);
    let other_members = group(json!({"displayName": "Team", "externalId": "g-1", "members": [{"value": bob}]}));
    server.a(Method::POST, "/Groups", Some(&other_members)).await.expect_error(409, Some("uniqueness"));
    let listed = server.a(Method::GET, "/Groups", None).await.expect(200);
    assert_eq!(listed.body["totalResults"], json!(1));
    assert_eq!(listed.body["Resources"][0]["members"][0]["value"], json!(alice));
}

async fn a_blank_user_name_is_refused_everywhere(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create(&server, "/Users", user(json!({"userName": "named"}))).await;
    let group_id = create(&server, "/Groups", group(json!({"displayName": "Named"}))).await;
    let before = snapshot(&server).await;
    for blank in ["", "   ", "\t\n"] {
        let body = user(json!({"userName": blank}));
        server.a(Method::POST, "/Users", Some(&body)).await.expect_error(400, Some("invalidValue"));
        server.a(Method::PUT, &format!("/Users/{id}"), Some(&body)).await.expect_error(400, Some("invalidValue"));
        for operation in [
            json!({"op": "replace", "path": "userName", "value": blank}),
            json!({"op": "Replace", "value": {"userName": blank}}),
            json!({"op": "add", "path": "userName", "value": blank}),
        ] {
            let reply = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&patch(json!([operation])))).await;
            reply.expect_error(400, Some("invalidValue"));
        }
        // A group's displayName is required the same way.
        let blank_group = group(json!({"displayName": blank}));
        server.a(Method::POST, "/Groups", Some(&blank_group)).await.expect_error(400, Some("invalidValue"));
        let rename = patch(json!([{"op": "replace", "path": "displayName", "value": blank}]));
        server
            .a(Method::PATCH, &format!("/Groups/{group_id}"), Some(&rename))
            .await
            .expect_error(400, Some("invalidValue"));
    }
    assert_eq!(snapshot(&server).await, before);
}

async fn values_of_the_wrong_type_are_refused_and_client_quirks_kept(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create(&server, "/Users", user(json!({"userName": "typed"}))).await;
    let before = snapshot(&server).await;
    let refused = [
        (user(json!({"userName": 123})), "invalidValue"),
        (user(json!({"userName": true})), "invalidValue"),
        (user(json!({"userName": "x", "externalId": 5})), "invalidValue"),
        (user(json!({"userName": "x", "displayName": ["a"]})), "invalidValue"),
        (user(json!({"userName": "x", "emails": {"value": "a@example.com"}})), "invalidValue"),
        (user(json!({"userName": "x", "emails": [1, 2]})), "invalidValue"),
        (user(json!({"userName": "x", "emails": ["a@example.com"]})), "invalidValue"),
        (user(json!({"userName": "x", "emails": [{"value": 7}]})), "invalidValue"),
        (user(json!({"userName": "x", "active": "yes"})), "invalidValue"),
        (user(json!({"userName": "x", "name": "Barbara"})), "invalidValue"),
        (json!({"schemas": USER, "userName": "x"}), "invalidSyntax"),
        (json!({"schemas": [USER, 7], "userName": "x"}), "invalidSyntax"),
    ];
    for (body, scim_type) in refused {
        server.a(Method::POST, "/Users", Some(&body)).await.expect_error(400, Some(scim_type));
    }
    let wrong_patches = [
        json!({"op": "replace", "path": "userName", "value": 42}),
        json!({"op": "add", "path": "emails", "value": {"value": "single@example.com"}}),
        json!({"op": "add", "path": "emails", "value": [3]}),
        json!({"op": "replace", "path": "externalId", "value": false}),
    ];
    for operation in wrong_patches {
        let reply = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&patch(json!([operation])))).await;
        reply.expect_error(400, Some("invalidValue"));
    }
    assert_eq!(snapshot(&server).await, before);

    // The documented client quirks stay: Entra's string booleans and capitalised ops, its manager as a plain id,
    // `"$ref": null` and stray sub-attributes; Okta's placeholder password.
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let entra = json!({"schemas": [USER, enterprise], "userName": "entra@example.com", "active": "False",
        "password": "Okta-placeholder-1",
        "emails": [{"value": "entra@example.com", "primary": "True", "type": "work", "id": "stray"}],
        enterprise: {"manager": "26118915"}});
    let created = server.a(Method::POST, "/Users", Some(&entra)).await.expect(201);
    assert_eq!(created.body["active"], json!(false));
    assert_eq!(created.body["emails"][0], json!({"value": "entra@example.com", "primary": true, "type": "work"}));
    assert_eq!(created.body[enterprise]["manager"]["value"], json!("26118915"));
    let entra_id = created.body["id"].as_str().unwrap().to_owned();
    let enable = patch(json!([{"op": "Replace", "path": "active", "value": "True"}]));
    let patched = server.a(Method::PATCH, &format!("/Users/{entra_id}"), Some(&enable)).await.expect(200);
    assert_eq!(patched.body["active"], json!(true));
    let group_id = create(&server, "/Groups", group(json!({"displayName": "Entra"}))).await;
    let add = patch(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": entra_id}]}]));
    let patched = server.a(Method::PATCH, &format!("/Groups/{group_id}"), Some(&add)).await.expect(200);
    assert_eq!(patched.body["members"][0]["value"], json!(entra_id));
}

async fn bodies_must_name_their_schemas(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create(&server, "/Users", user(json!({"userName": "schemas"}))).await;
    let before = snapshot(&server).await;
    let no_schemas = json!({"userName": "anonymous"});
    server.a(Method::POST, "/Users", Some(&no_schemas)).await.expect_error(400, Some("invalidSyntax"));
    server.a(Method::PUT, &format!("/Users/{id}"), Some(&no_schemas)).await.expect_error(400, Some("invalidSyntax"));
    server
        .a(Method::POST, "/Groups", Some(&json!({"displayName": "G"})))
        .await
        .expect_error(400, Some("invalidSyntax"));
    let wrong_type = json!({"schemas": [GROUP], "userName": "x"});
    server.a(Method::POST, "/Users", Some(&wrong_type)).await.expect_error(400, Some("invalidValue"));
    let unknown = json!({"schemas": [USER, "urn:example:unknown:2.0:User"], "userName": "x"});
    server.a(Method::POST, "/Users", Some(&unknown)).await.expect_error(400, Some("invalidValue"));
    let unknown_object = json!({"schemas": [USER], "userName": "x", "urn:example:unknown:2.0:User": {"a": "b"}});
    server.a(Method::POST, "/Users", Some(&unknown_object)).await.expect_error(400, Some("invalidValue"));
    let no_patch_schema = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
    server
        .a(Method::PATCH, &format!("/Users/{id}"), Some(&no_patch_schema))
        .await
        .expect_error(400, Some("invalidSyntax"));
    let search = json!({"filter": "userName eq \"schemas\""});
    server.a(Method::POST, "/Users/.search", Some(&search)).await.expect_error(400, Some("invalidSyntax"));
    let bulk = json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "1", "data": user(json!({"userName": "b"}))}]});
    server.a(Method::POST, "/Bulk", Some(&bulk)).await.expect_error(400, Some("invalidSyntax"));
    assert_eq!(snapshot(&server).await, before);
}

/// Kept leniency: Entra ID sends the attributes an administrator mapped, in the same PATCH as a deactivation;
/// refusing one it does not know would sink the deactivation and Entra would retry it for ever.
async fn a_patch_of_an_unknown_attribute_changes_nothing_and_succeeds(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let id = create(&server, "/Users", user(json!({"userName": "lenient", "active": true}))).await;
    let operations = patch(json!([
        {"op": "Add", "path": "favouriteColour", "value": "green"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User:costCode", "value": "7"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]));
    let patched = server.a(Method::PATCH, &format!("/Users/{id}"), Some(&operations)).await.expect(200);
    assert_eq!(patched.body["active"], json!(false));
    assert!(patched.body.get("favouriteColour").is_none(), "{}", patched.body);
}

async fn a_bulk_request_repeating_a_bulk_id_runs_nothing(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let bulk = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "same", "data": user(json!({"userName": "first"}))},
        {"method": "POST", "path": "/Users", "bulkId": "same", "data": user(json!({"userName": "second"}))},
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": group(json!({"displayName": "G", "members": [{"value": "bulkId:same"}]}))}
    ]});
    let reply = server.a(Method::POST, "/Bulk", Some(&bulk)).await.expect_error(400, Some("invalidValue"));
    assert!(reply.body["detail"].as_str().unwrap().contains("same"), "{}", reply.body);
    assert!(snapshot(&server).await.is_empty());
}

async fn only_json_bodies_are_read(store: Arc<dyn Store>) {
    let server = spawn(store).await;
    let body = user(json!({"userName": "typed-body"})).to_string();
    let url = server.url(ORG_A, "/Users");
    let send = |content_type: Option<&'static str>| {
        let mut request = server.client.post(&url).bearer_auth(&server.token_a).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request.send()
    };
    for refused in [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/xml"), None] {
        let reply = send(refused).await.unwrap();
        assert_eq!(reply.status().as_u16(), 415, "{refused:?}");
        assert!(reply.headers()["content-type"].to_str().unwrap().starts_with("application/scim+json"));
        let error: Value = reply.json().await.unwrap();
        assert_eq!(
            (error["status"].clone(), error["schemas"][0].clone()),
            (json!("415"), json!("urn:ietf:params:scim:api:messages:2.0:Error"))
        );
    }
    assert!(snapshot(&server).await.is_empty());
    // Both JSON media types are read, with parameters and in any case.
    assert_eq!(send(Some("application/json; charset=utf-8")).await.unwrap().status().as_u16(), 201);
    let other = user(json!({"userName": "scim-body"})).to_string();
    let reply = server
        .client
        .post(&url)
        .bearer_auth(&server.token_a)
        .header("Content-Type", "Application/SCIM+JSON")
        .body(other)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
}

async fn locations_come_from_the_public_url_never_from_the_host_header(store: Arc<dyn Store>) {
    let mut config = Config::default();
    config.server.public_url = Some("https://scim.example.test/idm/".to_owned());
    let server = spawn_with(store, config).await;
    let base = format!("https://scim.example.test/idm/scim/v2/{ORG_A}");
    let evil = [("Host", "evil.example"), ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "gopher")];
    let token = Some(server.token_a.as_str());
    let body = user(json!({"userName": "located"}));
    let created = server.send(token, Method::POST, &server.url(ORG_A, "/Users"), Some(&body), &evil).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = format!("{base}/Users/{id}");
    assert_eq!(
        (created.header("location"), created.body["meta"]["location"].as_str()),
        (Some(location.as_str()), Some(location.as_str()))
    );
    let group_body = group(json!({"displayName": "Located", "members": [{"value": id}]}));
    let group =
        server.send(token, Method::POST, &server.url(ORG_A, "/Groups"), Some(&group_body), &evil).await.expect(201);
    assert_eq!(group.body["members"][0]["$ref"], json!(location));
    let read =
        server.send(token, Method::GET, &server.url(ORG_A, &format!("/Users/{id}")), None, &evil).await.expect(200);
    assert_eq!(
        read.body["groups"][0]["$ref"].as_str().unwrap(),
        format!("{base}/Groups/{}", group.body["id"].as_str().unwrap())
    );
    let config =
        server.send(token, Method::GET, &server.url(ORG_A, "/ServiceProviderConfig"), None, &evil).await.expect(200);
    assert_eq!(config.body["meta"]["location"], json!(format!("{base}/ServiceProviderConfig")));
    let page = server.send(token, Method::GET, &server.url(ORG_A, "/Users"), None, &evil).await.expect(200);
    assert!(!page.body.to_string().contains("evil.example"), "{}", page.body);
    let bulk = json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "1", "data": user(json!({"userName": "bulk-located"}))}]});
    let bulk = server.send(token, Method::POST, &server.url(ORG_A, "/Bulk"), Some(&bulk), &evil).await.expect(200);
    assert!(bulk.body["Operations"][0]["location"].as_str().unwrap().starts_with(&base), "{}", bulk.body);
}
