//! Filter and PATCH path parsing: never panics, and every parsed filter prints to text that parses back to it and
//! evaluates without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use warden_scim::SchemaRegistry;
use warden_scim::filter::{self, MAX_FILTER_LENGTH};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = filter::parse_patch_path(text);
    let Ok(parsed) = filter::parse(text) else { return };
    let printed = parsed.to_string();
    if printed.len() <= MAX_FILTER_LENGTH {
        let reparsed = filter::parse(&printed);
        assert_eq!(reparsed.as_ref().ok(), Some(&parsed), "printed as {printed}");
    }
    let registry = SchemaRegistry::standard();
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [{"value": "a@example.com", "type": "work", "primary": true}, {"value": "b@example.org"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7", "manager": {"value": "2"}},
        "score": 7.5
    });
    let _ = filter::matches(&parsed, &user, &registry);
});
