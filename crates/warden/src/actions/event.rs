//! The body of an Actions v2 *event* execution's call, as ZITADEL writes it (`ContextInfoEvent` in
//! `internal/repository/execution/queue.go`): `aggregateID`, `aggregateType`, `resourceOwner`, `instanceID`,
//! `version`, `sequence`, `event_type`, `created_at`, `userID`, `event_payload`, each left out when empty. Only what
//! names the change is read; `event_payload` (raw JSON in ZITADEL v3 and later, base64 before) is never needed.

use serde::Deserialize;

use crate::app::PushedEvent;

/// Aggregates whose events change what a sync reads: users (with their keys, PATs and metadata), user grants,
/// organizations (members, identity providers), projects (roles, applications, members, grants) and the instance
/// (members, identity providers). `iam` is the instance's aggregate in old event types.
const SYNCED_AGGREGATES: &[&str] = &["user", "usergrant", "org", "project", "instance", "iam"];
/// Parts of event types on those aggregates that change nothing a sync reads: sign-ins, token grants, checks and
/// codes. A call for one is answered, and syncs nothing.
const UNSYNCED_EVENT_PARTS: &[&str] = &[".token.", ".check.", ".signed.out", ".code.added", ".code.sent"];

#[derive(Debug, Deserialize)]
struct Body {
    #[serde(rename = "aggregateID", default)]
    aggregate_id: String,
    #[serde(rename = "aggregateType", default)]
    aggregate_type: String,
    #[serde(rename = "resourceOwner", default)]
    resource_owner: String,
    #[serde(default)]
    sequence: Option<u64>,
    #[serde(default)]
    event_type: String,
}

/// The event a body announces; `None` when it is not an event execution's body (not a JSON object, or without an
/// `event_type`). A missing `aggregateType` is taken from the event type's first part.
pub fn parse(body: &[u8]) -> Option<PushedEvent> {
    let body: Body = serde_json::from_slice(body).ok()?;
    let event_type = body.event_type.trim();
    if event_type.is_empty() || event_type.len() > 200 {
        return None;
    }
    let aggregate_type = match body.aggregate_type.trim() {
        "" => event_type.split('.').next().unwrap_or_default(),
        given => given,
    };
    Some(PushedEvent {
        event_type: event_type.to_owned(),
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: body.aggregate_id,
        resource_owner: body.resource_owner,
        sequence: body.sequence,
    })
}

/// Whether the event can change what a sync reads.
pub fn changes_synced_state(event: &PushedEvent) -> bool {
    SYNCED_AGGREGATES.contains(&event.aggregate_type.as_str())
        && !UNSYNCED_EVENT_PARTS.iter().any(|part| event.event_type.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zitadels_event_body_is_read_and_hostile_ones_are_not() {
        let body = br#"{"aggregateID":"312","aggregateType":"user","resourceOwner":"100","instanceID":"1",
            "version":"v2","sequence":4,"event_type":"user.human.email.changed",
            "created_at":"2026-11-01T12:00:00.123456Z","userID":"9","event_payload":{"email":"a@b.c"}}"#;
        let event = parse(body).unwrap();
        assert_eq!(
            (event.aggregate_id.as_str(), event.aggregate_type.as_str(), event.sequence),
            ("312", "user", Some(4))
        );
        assert!(changes_synced_state(&event));
        // Fields left out, and the payload base64 as ZITADEL before v3 sent it.
        let sparse = parse(br#"{"event_type":"user.grant.added","event_payload":"eyJ9"}"#).unwrap();
        assert_eq!(sparse.aggregate_type, "user");
        let login = parse(br#"{"aggregateType":"user","event_type":"user.token.added"}"#).unwrap();
        assert!(!changes_synced_state(&login));
        let session = parse(br#"{"aggregateType":"session","event_type":"session.added"}"#).unwrap();
        assert!(!changes_synced_state(&session));

        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let deep_object = format!("{{\"x\":{}{}}}", "{\"a\":".repeat(20_000), "}".repeat(20_000));
        for hostile in [&b"[]"[..], b"null", b"{}", b"not json", b"{\"event_type\":5}", deep.as_bytes()] {
            assert!(parse(hostile).is_none(), "{}", String::from_utf8_lossy(hostile));
        }
        assert!(parse(deep_object.as_bytes()).is_none());
        // Deep nesting where nothing is read is skipped without recursion: a harmless event.
        let deep_payload = format!(
            "{{\"event_type\":\"user.added\",\"event_payload\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse(deep_payload.as_bytes()).is_some());
    }
}
