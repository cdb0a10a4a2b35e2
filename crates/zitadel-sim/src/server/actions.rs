//! Actions v2 event executions: the simulator calls HTTP targets for the new events of its estate, as ZITADEL's
//! execution worker does (`internal/execution/`): one `POST` per event, `Content-Type: application/json`, the body
//! ZITADEL's `ContextInfoEvent` (`internal/repository/execution/queue.go`) and the `ZITADEL-Signature` header
//! (`pkg/actions/signing.go`). A failed call is not retried, as ZITADEL retries none.

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::control::Control;
use super::{Shared, lock};
use crate::estate::{Estate, Event};

/// How often a target's task looks for new events.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// ZITADEL's target `timeout` the simulator applies to every call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The `ZITADEL-Signature` header's value for `body` sent at `timestamp` (Unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the signing key>`.
pub fn actions_signature(signing_key: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(signing_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The body ZITADEL posts to an event execution's target for `event`: `{"aggregateID", "aggregateType",
/// "resourceOwner", "instanceID", "version", "sequence", "event_type", "created_at", "userID", "event_payload"}`, each
/// left out when empty. `sequence` is the simulator's one sequence (ZITADEL's is the aggregate's).
pub fn action_event_body(estate: &Estate, event: &Event) -> Vec<u8> {
    let body = ContextInfoEvent {
        aggregate_id: &event.aggregate_id,
        aggregate_type: &event.aggregate_type,
        resource_owner: &event.resource_owner,
        instance_id: estate.instance_id(),
        // The aggregates' versions in ZITADEL's repositories: the user aggregate is at v2, the others at v1.
        version: if event.aggregate_type == "user" { "v2" } else { "v1" },
        sequence: event.sequence,
        event_type: &event.event_type,
        created_at: rfc3339_nano(event.created),
        user_id: &event.editor.user_id,
        event_payload: (!event.payload.is_null()).then_some(&event.payload),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Go's `encoding/json` rendering of `ContextInfoEvent`, field for field.
#[derive(Serialize)]
struct ContextInfoEvent<'a> {
    #[serde(rename = "aggregateID", skip_serializing_if = "str::is_empty")]
    aggregate_id: &'a str,
    #[serde(rename = "aggregateType", skip_serializing_if = "str::is_empty")]
    aggregate_type: &'a str,
    #[serde(rename = "resourceOwner", skip_serializing_if = "str::is_empty")]
    resource_owner: &'a str,
    #[serde(rename = "instanceID", skip_serializing_if = "str::is_empty")]
    instance_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    sequence: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    event_type: &'a str,
    #[serde(skip_serializing_if = "String::is_empty")]
    created_at: String,
    #[serde(rename = "userID", skip_serializing_if = "str::is_empty")]
    user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_payload: Option<&'a serde_json::Value>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Go's `time.RFC3339Nano` in UTC: `Z`, the fraction's trailing zeros dropped (as `time`'s RFC 3339 writes it).
fn rfc3339_nano(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

impl Control {
    /// Calls `url`, as an Actions v2 target of an event execution signed with `signing_key`, for every event the
    /// estate gains from now on whose type matches `event_types`: `user.human.email.changed` (one event), a group
    /// `user.human.*`, or `*` (every event); empty means every event. Calls are made in the estate's order from a
    /// background task (so this needs a Tokio runtime) until the simulator stops; each is made once.
    pub fn add_action_target(&self, url: impl Into<String>, signing_key: impl Into<String>, event_types: Vec<String>) {
        let target = Target { url: url.into(), signing_key: signing_key.into(), event_types };
        let next = lock(&self.shared.estate).events().len();
        tokio::spawn(deliver(Arc::clone(&self.shared), target, next));
    }
}

struct Target {
    url: String,
    signing_key: String,
    event_types: Vec<String>,
}

impl Target {
    /// ZITADEL's event conditions: an event type, a group (`user.human.*` matches `user.human.added` and
    /// `user.human.email.changed`), or all.
    fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty()
            || self.event_types.iter().any(|condition| {
                condition == "*"
                    || condition == event_type
                    || condition.strip_suffix('*').is_some_and(|group| event_type.starts_with(group))
            })
    }
}

async fn deliver(shared: Arc<Shared>, target: Target, mut next: usize) {
    let client = match reqwest::Client::builder().timeout(CALL_TIMEOUT).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot build the HTTP client for action targets");
            return;
        }
    };
    loop {
        let bodies: Vec<(String, Vec<u8>)> = {
            let estate = lock(&shared.estate);
            let events = estate.events();
            let new = events.get(next..).unwrap_or_default();
            next = events.len();
            new.iter()
                .filter(|event| target.wants(&event.event_type))
                .map(|event| (event.event_type.clone(), action_event_body(&estate, event)))
                .collect()
        };
        for (event_type, body) in bodies {
            let signature = actions_signature(&target.signing_key, unix_now(), &body);
            let sent = client
                .post(&target.url)
                .header("Content-Type", "application/json")
                .header("ZITADEL-Signature", signature)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => tracing::info!(%event_type, status = %response.status(), "action target refused"),
                Err(error) => tracing::info!(%event_type, %error, "action target unreachable"),
            }
        }
        tokio::select! {
            () = shared.stopped() => return,
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

#[allow(clippy::disallowed_methods, reason = "ZITADEL signs a call with the time it sends it, not the estate's")]
fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
