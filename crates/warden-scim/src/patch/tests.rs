//! PATCH behaviour: RFC 7644 section 3.5.2 examples, then every Okta and Entra ID payload from
//! `shared/reference/scim-clients.md` replayed as data, then errors.

use serde_json::{Value, json};

use crate::error::ScimError;
use crate::patch::{PATCH_OP_SCHEMA, PatchOperationKind, apply_patch, parse_patch_request};
use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SchemaRegistry, USER_SCHEMA};

const ENTERPRISE: &str = ENTERPRISE_USER_SCHEMA;

fn body(operations: Value) -> Value {
    let mut body = json!({"schemas": [PATCH_OP_SCHEMA]});
    body["Operations"] = operations;
    body
}

fn patch(resource: &Value, resource_type: &str, operations: Value) -> Result<Value, ScimError> {
    let registry = SchemaRegistry::standard();
    let resource_type = registry.resource_type(resource_type).unwrap().clone();
    apply_patch(resource, &body(operations), &registry, &resource_type)
}

fn patch_user(resource: &Value, operations: Value) -> Result<Value, ScimError> {
    patch(resource, "User", operations)
}

fn patch_group(resource: &Value, operations: Value) -> Result<Value, ScimError> {
    patch(resource, "Group", operations)
}

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "00u1",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"resourceType": "User", "version": "W/\"1\""}
    })
}

fn group() -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User"}
        ]
    })
}

fn member_values(group: &Value) -> Vec<&str> {
    group["members"]
        .as_array()
        .map(|members| members.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

// ---- RFC 7644 section 3.5.2 ----

#[test]
fn rfc_add_member() {
    let patched = patch_group(
        &group(),
        json!([{"op": "add", "path": "members", "value": [{
            "display": "Babs Jensen",
            "$ref": "https://example.com/v2/Users/11111111",
            "value": "11111111"
        }]}]),
    )
    .unwrap();
    assert_eq!(member_values(&patched).len(), 3);
    assert_eq!(patched["members"][2]["$ref"], "https://example.com/v2/Users/11111111");
}

#[test]
fn rfc_pathless_add_appends_and_sets() {
    let patched = patch_user(
        &user(),
        json!([{"op": "add", "value": {"emails": [{"value": "babs@example.net", "type": "other"}], "nickname": "Babs"}}]),
    )
    .unwrap();
    assert_eq!(patched["emails"].as_array().unwrap().len(), 3);
    assert_eq!(patched["nickName"], "Babs");
    assert!(patched.get("nickname").is_none());
}

#[test]
fn rfc_remove_single_member_and_all_members() {
    let one = patch_group(
        &group(),
        json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]),
    )
    .unwrap();
    assert_eq!(member_values(&one), vec!["902c246b-6245-4190-8e05-00816be7344a"]);
    let all = patch_group(&group(), json!([{"op": "remove", "path": "members"}])).unwrap();
    assert!(all.get("members").is_none());
}

#[test]
fn rfc_remove_then_add_replaces_membership() {
    let patched = patch_group(
        &group(),
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "aaaa"}, {"value": "bbbb"}]}
        ]),
    )
    .unwrap();
    assert_eq!(member_values(&patched), vec!["aaaa", "bbbb"]);
}

#[test]
fn rfc_remove_with_complex_filter() {
    let patched =
        patch_user(&user(), json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]))
            .unwrap();
    assert_eq!(patched["emails"], json!([{"value": "babs@jensen.org", "type": "home"}]));
}

#[test]
fn rfc_replace_members_wholesale() {
    let patched =
        patch_group(&group(), json!([{"op": "replace", "path": "members", "value": [{"value": "cccc"}]}])).unwrap();
    assert_eq!(member_values(&patched), vec!["cccc"]);
}

#[test]
fn rfc_replace_work_address_and_street() {
    let mut resource = user();
    resource["addresses"] = json!([
        {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"},
        {"type": "home", "streetAddress": "456 Hollywood Blvd"}
    ]);
    let patched = patch_user(
        &resource,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": {
            "type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
            "region": "CA", "postalCode": "91608", "country": "US", "primary": true
        }}]),
    )
    .unwrap();
    assert_eq!(patched["addresses"][0]["streetAddress"], "911 Universal City Plaza");
    assert_eq!(patched["addresses"][0]["primary"], true);
    assert_eq!(patched["addresses"][1]["streetAddress"], "456 Hollywood Blvd");
    let street = patch_user(
        &resource,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    )
    .unwrap();
    assert_eq!(street["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(street["addresses"][0]["locality"], "Hollywood");
}

#[test]
fn rfc_pathless_replace() {
    let patched = patch_user(
        &user(),
        json!([{"op": "replace", "value": {
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "nickName": "Babs"
        }}]),
    )
    .unwrap();
    assert_eq!(patched["emails"], json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]));
    assert_eq!(patched["nickName"], "Babs");
}

#[test]
fn replace_on_complex_merges_sub_attributes() {
    let patched =
        patch_user(&user(), json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}])).unwrap();
    assert_eq!(patched["name"], json!({"givenName": "Babs", "familyName": "Jensen"}));
}

#[test]
fn sub_attribute_paths_create_and_remove() {
    let patched = patch_user(
        &json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "u"}),
        json!([{"op": "add", "path": "name.familyName", "value": "Jensen"}]),
    )
    .unwrap();
    assert_eq!(patched["name"], json!({"familyName": "Jensen"}));
    let removed = patch_user(&patched, json!([{"op": "remove", "path": "name.familyName"}])).unwrap();
    assert!(removed.get("name").is_none());
}

#[test]
fn add_deduplicates_and_primary_is_unique() {
    let patched = patch_user(
        &user(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "BJENSEN@example.com", "type": "work"},
            {"value": "new@example.com", "type": "other", "primary": true}
        ]}]),
    )
    .unwrap();
    let emails = patched["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3);
    assert_eq!(emails[0]["primary"], false);
    assert_eq!(emails[2]["primary"], true);
    let members = patch_group(
        &group(),
        json!([{"op": "add", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}]}]),
    )
    .unwrap();
    assert_eq!(member_values(&members).len(), 2);
}

#[test]
fn primary_through_filtered_path_clears_others() {
    let patched =
        patch_user(&user(), json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]))
            .unwrap();
    assert_eq!(patched["emails"][0]["primary"], false);
    assert_eq!(patched["emails"][1]["primary"], true);
}

#[test]
fn extension_attributes_maintain_schemas() {
    let patched = patch_user(
        &user(),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager.value"), "value": "26118915-6090-4610-87e4-49d8ca9f808d"}]),
    )
    .unwrap();
    assert_eq!(patched[ENTERPRISE]["manager"], json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"}));
    assert_eq!(patched["schemas"], json!([USER_SCHEMA, ENTERPRISE]));
    let removed = patch_user(&patched, json!([{"op": "remove", "path": format!("{ENTERPRISE}:manager")}])).unwrap();
    assert!(removed.get(ENTERPRISE).is_none());
    assert_eq!(removed["schemas"], json!([USER_SCHEMA]));
}

#[test]
fn extension_object_as_path_or_key() {
    let by_path = patch_user(
        &user(),
        json!([{"op": "add", "path": ENTERPRISE, "value": {"department": "Tour Operations", "employeeNumber": "701984"}}]),
    )
    .unwrap();
    assert_eq!(by_path[ENTERPRISE], json!({"department": "Tour Operations", "employeeNumber": "701984"}));
    let by_key = patch_user(&user(), json!([{"op": "add", "value": {ENTERPRISE: {"costCenter": "4130"}}}])).unwrap();
    assert_eq!(by_key[ENTERPRISE], json!({"costCenter": "4130"}));
    let removed = patch_user(&by_path, json!([{"op": "remove", "path": ENTERPRISE}])).unwrap();
    assert!(removed.get(ENTERPRISE).is_none());
}

#[test]
fn core_urn_qualified_path() {
    let patched = patch_user(
        &user(),
        json!([{"op": "replace", "path": format!("{USER_SCHEMA}:name.givenName"), "value": "Babs"}]),
    )
    .unwrap();
    assert_eq!(patched["name"]["givenName"], "Babs");
}

#[test]
fn paths_are_case_insensitive() {
    let patched = patch_user(
        &user(),
        json!([
            {"op": "replace", "path": "EMAILS[TYPE EQ \"WORK\"].VALUE", "value": "b@example.com"},
            {"op": "replace", "path": "Name.GivenName", "value": "Babs"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Department", "value": "X"}
        ]),
    )
    .unwrap();
    assert_eq!(patched["emails"][0]["value"], "b@example.com");
    assert_eq!(patched["name"]["givenName"], "Babs");
    assert_eq!(patched[ENTERPRISE]["department"], "X");
}

// ---- Okta ----

#[test]
fn okta_deactivate_pathless() {
    let patched = patch_user(&user(), json!([{"op": "replace", "value": {"active": false}}])).unwrap();
    assert_eq!(patched["active"], false);
}

#[test]
fn okta_password_sync() {
    let patched = patch_user(&user(), json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}])).unwrap();
    assert_eq!(patched["password"], "t1meMa$heen");
}

#[test]
fn okta_group_rename_with_id_in_value() {
    let patched = patch_group(
        &group(),
        json!([{"op": "replace", "value": {"id": "e9e30dba-f08f-4109-8486-d5c6a331660a", "displayName": "Another Name"}}]),
    )
    .unwrap();
    assert_eq!(patched["displayName"], "Another Name");
    assert_eq!(patched["id"], "e9e30dba-f08f-4109-8486-d5c6a331660a");
    let other_id =
        patch_group(&group(), json!([{"op": "replace", "value": {"id": "other", "displayName": "N"}}])).unwrap();
    assert_eq!(other_id["id"], "e9e30dba-f08f-4109-8486-d5c6a331660a");
}

#[test]
fn okta_membership_change() {
    let patched = patch_group(
        &group(),
        json!([
            {"op": "replace", "value": {"id": "e9e30dba-f08f-4109-8486-d5c6a331660a", "displayName": "Tour Guides"}},
            {"op": "remove", "path": "members[value eq \"902c246b-6245-4190-8e05-00816be7344a\"]"},
            {"op": "add", "path": "members", "value": [{"value": "33333333", "display": "Dave"}]}
        ]),
    )
    .unwrap();
    assert_eq!(member_values(&patched), vec!["2819c223-7f76-453a-919d-413861904646", "33333333"]);
}

#[test]
fn okta_full_push_replace_members() {
    let patched = patch_group(
        &group(),
        json!([{"op": "replace", "path": "members", "value": [{"value": "a", "display": "A"}, {"value": "b", "display": "B"}]}]),
    )
    .unwrap();
    assert_eq!(member_values(&patched), vec!["a", "b"]);
    let emptied = patch_group(&group(), json!([{"op": "replace", "path": "members", "value": []}])).unwrap();
    assert!(emptied.get("members").is_none());
}

// ---- Entra ID, default dialect ----

#[test]
fn entra_disable_with_string_boolean() {
    let patched = patch_user(&user(), json!([{"op": "Replace", "path": "active", "value": "False"}])).unwrap();
    assert_eq!(patched["active"], false);
    let enabled = patch_user(&patched, json!([{"op": "Replace", "path": "active", "value": "True"}])).unwrap();
    assert_eq!(enabled["active"], true);
}

#[test]
fn entra_single_value_add_with_path() {
    let patched = patch_user(&user(), json!([{"op": "Add", "path": "nickName", "value": "Babs"}])).unwrap();
    assert_eq!(patched["nickName"], "Babs");
}

#[test]
fn entra_multi_attribute_update() {
    let resource = json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "Test_User_1", "active": true});
    let patched = patch_user(
        &resource,
        json!([
            {"op": "Replace", "path": "displayName", "value": "Ryan Leenay"},
            {"op": "Replace", "path": "name.givenName", "value": "Ryan"},
            {"op": "Replace", "path": "name.familyName", "value": "Leenay"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "Test_User_1@contoso.com"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Microsoft Way"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "701984"},
            {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        ]),
    )
    .unwrap();
    assert_eq!(patched["displayName"], "Ryan Leenay");
    assert_eq!(patched["name"], json!({"givenName": "Ryan", "familyName": "Leenay"}));
    assert_eq!(patched["emails"], json!([{"type": "work", "value": "Test_User_1@contoso.com"}]));
    assert_eq!(patched["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    assert_eq!(patched["addresses"], json!([{"type": "work", "streetAddress": "1 Microsoft Way"}]));
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], "701984");
    assert_eq!(patched[ENTERPRISE]["manager"], json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"}));
    assert_eq!(patched["schemas"], json!([USER_SCHEMA, ENTERPRISE]));
}

#[test]
fn entra_upsert_then_update_same_work_email() {
    let first = patch_user(
        &user(),
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
    )
    .unwrap();
    assert_eq!(first["emails"][0], json!({"value": "new@example.com", "type": "work", "primary": true}));
    assert_eq!(first["emails"].as_array().unwrap().len(), 2);
}

#[test]
fn entra_remove_members_with_value_array() {
    let patched = patch_group(
        &group(),
        json!([{"op": "Remove", "path": "members", "value": [{"value": "902c246b-6245-4190-8e05-00816be7344a"}]}]),
    )
    .unwrap();
    assert_eq!(member_values(&patched), vec!["2819c223-7f76-453a-919d-413861904646"]);
    let absent =
        patch_group(&group(), json!([{"op": "Remove", "path": "members", "value": [{"value": "nobody"}]}])).unwrap();
    assert_eq!(member_values(&absent).len(), 2);
}

#[test]
fn entra_add_members_with_null_ref() {
    let patched = patch_group(
        &group(),
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5-ea3e-4f1d-a76c-4de4a1b6f1fc"}]}]),
    )
    .unwrap();
    assert_eq!(patched["members"][2], json!({"value": "f648f8d5-ea3e-4f1d-a76c-4de4a1b6f1fc"}));
}

#[test]
fn entra_stray_operation_name_and_value_id() {
    let patched = patch_user(
        &user(),
        json!([
            {"op": "Replace", "name": "displayName", "path": "displayName", "value": "Babs"},
            {"op": "Add", "path": "roles", "value": [{"primary": "False", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin", "id": "x"}]}
        ]),
    )
    .unwrap();
    assert_eq!(patched["displayName"], "Babs");
    assert_eq!(
        patched["roles"],
        json!([{"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
    );
}

#[test]
fn entra_remove_manager() {
    let mut resource = user();
    resource[ENTERPRISE] = json!({"manager": {"value": "42"}, "department": "X"});
    let patched = patch_user(&resource, json!([{"op": "Remove", "path": format!("{ENTERPRISE}:manager")}])).unwrap();
    assert_eq!(patched[ENTERPRISE], json!({"department": "X"}));
}

// ---- Entra ID with ?aadOptscim062020 ----

#[test]
fn entra_flag_pathless_dotted_and_urn_keys() {
    let patched = patch_user(
        &user(),
        json!([{"op": "replace", "value": {
            "displayName": "Babs J",
            "name.givenName": "Babs",
            "name.familyName": "Jensen-Smith",
            "emails[type eq \"work\"].value": "babs@example.com",
            format!("{ENTERPRISE}:department"): "Tour Operations",
            "active": false
        }}]),
    )
    .unwrap();
    assert_eq!(patched["displayName"], "Babs J");
    assert_eq!(patched["name"], json!({"givenName": "Babs", "familyName": "Jensen-Smith"}));
    assert_eq!(patched["emails"][0]["value"], "babs@example.com");
    assert_eq!(patched[ENTERPRISE]["department"], "Tour Operations");
    assert_eq!(patched["active"], false);
}

#[test]
fn entra_flag_remove_member_by_filter() {
    let patched = patch_group(
        &group(),
        json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]),
    )
    .unwrap();
    assert_eq!(member_values(&patched), vec!["902c246b-6245-4190-8e05-00816be7344a"]);
}

// ---- decisions and errors ----

#[test]
fn remove_with_filter_matching_nothing_is_a_no_op() {
    let patched = patch_group(&group(), json!([{"op": "remove", "path": "members[value eq \"nobody\"]"}])).unwrap();
    assert_eq!(patched, group());
}

#[test]
fn replace_with_unseedable_filter_matching_nothing_is_no_target() {
    let error =
        patch_user(&user(), json!([{"op": "replace", "path": "emails[value co \"nomatch\"].type", "value": "x"}]))
            .unwrap_err();
    assert!(matches!(error, ScimError::NoTarget(_)), "{error:?}");
    let whole = patch_user(
        &user(),
        json!([{"op": "replace", "path": "emails[value co \"nomatch\"]", "value": {"value": "v"}}]),
    );
    assert!(matches!(whole, Err(ScimError::NoTarget(_))));
}

#[test]
fn remove_without_path_is_no_target() {
    assert!(matches!(patch_user(&user(), json!([{"op": "remove"}])), Err(ScimError::NoTarget(_))));
}

#[test]
fn read_only_attributes_are_mutability_errors() {
    for operation in [
        json!({"op": "add", "path": "groups", "value": [{"value": "g1"}]}),
        json!({"op": "replace", "path": "id", "value": "another"}),
        json!({"op": "replace", "path": "meta.version", "value": "W/\"2\""}),
        json!({"op": "replace", "value": {"groups": [{"value": "g1"}]}}),
    ] {
        let error = patch_user(&user(), json!([operation])).unwrap_err();
        assert!(matches!(error, ScimError::Mutability(_)), "{operation}: {error:?}");
    }
    // Writing the value it already has is fine.
    let same =
        patch_user(&user(), json!([{"op": "replace", "path": "id", "value": "2819c223-7f76-453a-919d-413861904646"}]));
    assert!(same.is_ok());
}

#[test]
fn immutable_sub_attribute_cannot_change() {
    let error = patch_group(
        &group(),
        json!([{"op": "replace", "path": "members[value eq \"902c246b-6245-4190-8e05-00816be7344a\"].value", "value": "x"}]),
    )
    .unwrap_err();
    assert!(matches!(error, ScimError::Mutability(_)));
}

#[test]
fn removing_required_attribute_is_mutability() {
    for operation in [
        json!({"op": "remove", "path": "userName"}),
        json!({"op": "replace", "path": "userName", "value": null}),
        json!({"op": "replace", "value": {"userName": null}}),
    ] {
        let error = patch_user(&user(), json!([operation])).unwrap_err();
        assert!(matches!(error, ScimError::Mutability(_)), "{operation}: {error:?}");
    }
    assert!(matches!(
        patch_group(&group(), json!([{"op": "remove", "path": "displayName"}])),
        Err(ScimError::Mutability(_))
    ));
}

#[test]
fn unknown_attributes_are_ignored() {
    let patched = patch_user(
        &user(),
        json!([
            {"op": "add", "path": "favouriteColour", "value": "green"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User:tag", "value": "t"},
            {"op": "replace", "value": {"shoeSize": 44, "nickName": "Babs"}}
        ]),
    )
    .unwrap();
    let mut expected = user();
    expected["nickName"] = json!("Babs");
    assert_eq!(patched, expected);
}

#[test]
fn errors_are_atomic_and_name_the_operation() {
    let resource = user();
    let error = patch_user(
        &resource,
        json!([{"op": "replace", "path": "displayName", "value": "ok"}, {"op": "replace", "path": "active", "value": "maybe"}]),
    )
    .unwrap_err();
    assert!(matches!(error, ScimError::InvalidValue(_)));
    assert!(error.detail().starts_with("operation 1:"), "{}", error.detail());
    assert_eq!(resource, user());
}

#[test]
fn malformed_requests() {
    let registry = SchemaRegistry::standard();
    let user_type = registry.resource_type("User").unwrap().clone();
    let cases = [
        (json!([]), "not an object"),
        (json!({"schemas": [PATCH_OP_SCHEMA]}), "no Operations"),
        (json!({"schemas": ["urn:wrong"], "Operations": []}), "wrong schema"),
        (json!({"Operations": []}), "no schemas"),
        (json!({"schemas": [PATCH_OP_SCHEMA, "urn:wrong"], "Operations": []}), "another schema too"),
        (json!({"schemas": PATCH_OP_SCHEMA, "Operations": []}), "schemas not an array"),
        (body(json!([{"op": "move", "path": "a"}])), "unknown op"),
        (body(json!([{"path": "a"}])), "no op"),
        (body(json!([{"op": "add", "path": 7, "value": 1}])), "numeric path"),
        (body(json!(["add"])), "operation not an object"),
    ];
    for (request, why) in cases {
        let error = apply_patch(&user(), &request, &registry, &user_type).unwrap_err();
        assert!(matches!(error, ScimError::InvalidSyntax(_)), "{why}: {error:?}");
    }
    assert!(matches!(
        patch_user(&user(), json!([{"op": "add", "path": "name.givenName"}])),
        Err(ScimError::InvalidSyntax(_))
    ));
    assert!(matches!(patch_user(&user(), json!([{"op": "add", "value": "x"}])), Err(ScimError::InvalidValue(_))));
    assert!(matches!(
        patch_user(&user(), json!([{"op": "add", "path": "emails[type eq]", "value": "x"}])),
        Err(ScimError::InvalidPath(_))
    ));
    assert!(matches!(
        patch_user(&user(), json!([{"op": "add", "path": "name[givenName eq \"x\"]", "value": {}}])),
        Err(ScimError::InvalidPath(_))
    ));
    assert!(matches!(
        apply_patch(&json!("not an object"), &body(json!([])), &registry, &user_type),
        Err(ScimError::InvalidValue(_))
    ));
}

#[test]
fn parses_operations_with_any_op_case_and_member_case() {
    let operations = parse_patch_request(&json!({"Schemas": [PATCH_OP_SCHEMA.to_uppercase()], "Operations": [
        {"op": "ADD", "path": "", "value": {"a": 1}},
        {"OP": "Remove", "Path": "members"}
    ]}))
    .unwrap();
    assert_eq!(operations[0].kind, PatchOperationKind::Add);
    assert_eq!(operations[0].path, None);
    assert_eq!(operations[1].kind, PatchOperationKind::Remove);
    assert_eq!(operations[1].path.as_deref(), Some("members"));
}

#[test]
fn sub_attribute_of_every_value_without_filter() {
    let patched = patch_user(&user(), json!([{"op": "replace", "path": "emails.type", "value": "other"}])).unwrap();
    assert!(patched["emails"].as_array().unwrap().iter().all(|email| email["type"] == "other"));
    let none = patch_user(
        &json!({"schemas": [USER_SCHEMA], "userName": "u"}),
        json!([{"op": "replace", "path": "emails.type", "value": "other"}]),
    );
    assert!(matches!(none, Err(ScimError::NoTarget(_))));
}

// ---- cost ----

/// 10,000 operations onto 10,000 values: each operation costs what it touches (the engine held the values in a
/// list indexed by `value`), so this runs in a fraction of a second where a scan per operation took minutes.
#[test]
fn large_patches_cost_what_they_touch() {
    let stored: Vec<Value> = (0..10_000).map(|index| json!({"value": format!("old{index}@example.com")})).collect();
    let resource = json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "u", "emails": stored});
    let adds: Vec<Value> = (0..10_000)
        .map(|index| json!({"op": "add", "path": "emails", "value": [{"value": format!("new{index}@example.com")}]}))
        .collect();
    let patched = patch_user(&resource, Value::Array(adds)).unwrap();
    assert_eq!(patched["emails"].as_array().unwrap().len(), 20_000);
    // Adding what is there merges instead of duplicating, however many times.
    let again: Vec<Value> = (0..10_000)
        .map(|index| json!({"op": "add", "path": "emails", "value": [{"value": format!("NEW{index}@example.com"), "type": "work"}]}))
        .collect();
    let merged = patch_user(&patched, Value::Array(again)).unwrap();
    assert_eq!(merged["emails"].as_array().unwrap().len(), 20_000);
    assert_eq!(merged["emails"][10_000], json!({"value": "NEW0@example.com", "type": "work"}));

    let members: Vec<Value> = (0..10_000).map(|index| json!({"value": format!("m{index}")})).collect();
    let group = json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "G", "members": members});
    let removals: Vec<Value> =
        (0..10_000).map(|index| json!({"op": "remove", "path": format!("members[value eq \"m{index}\"]")})).collect();
    assert!(patch_group(&group, Value::Array(removals)).unwrap().get("members").is_none());
    let entra_removals: Vec<Value> = (0..9_999)
        .map(|index| json!({"op": "Remove", "path": "members", "value": [{"value": format!("m{index}")}]}))
        .collect();
    assert_eq!(member_values(&patch_group(&group, Value::Array(entra_removals)).unwrap()), vec!["m9999"]);
}

#[test]
fn value_by_value_scans_are_bounded() {
    let members: Vec<Value> = (0..10_000).map(|index| json!({"value": format!("m{index}"), "display": "D"})).collect();
    let group = json!({"schemas": [GROUP_SCHEMA], "id": "g", "displayName": "G", "members": members});
    // Each of these looks at every member: 200 x 10,000 visits is more than a request may make.
    let scans: Vec<Value> = (0..200).map(|_| json!({"op": "remove", "path": "members[display eq \"x\"]"})).collect();
    let error = patch_group(&group, Value::Array(scans)).unwrap_err();
    assert!(matches!(error, ScimError::TooMany(_)), "{error:?}");
    assert_eq!(error.status(), 400);
    // Fewer of them are fine.
    let few: Vec<Value> = (0..50).map(|_| json!({"op": "remove", "path": "members[display eq \"x\"]"})).collect();
    assert_eq!(member_values(&patch_group(&group, Value::Array(few)).unwrap()).len(), 10_000);
}
