//! The PATCH engine on arbitrary JSON: never panics, and a successful PATCH yields an object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use warden_scim::SchemaRegistry;
use warden_scim::patch::apply_patch;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<Value>(data) else { return };
    let registry = SchemaRegistry::standard();
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "a@example.com", "type": "work", "primary": true}],
        "groups": [{"value": "g"}],
        "active": true
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g",
        "displayName": "G",
        "members": [{"value": "1", "type": "User"}]
    });
    for (resource, resource_type) in [(&user, "User"), (&group, "Group")] {
        let Some(resource_type) = registry.resource_type(resource_type) else { return };
        if let Ok(patched) = apply_patch(resource, &request, &registry, resource_type) {
            assert!(patched.is_object());
            // Applying the same PATCH again must not panic either.
            let _ = apply_patch(&patched, &request, &registry, resource_type);
        }
    }
});
