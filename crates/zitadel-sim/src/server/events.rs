//! `POST /admin/v1/events/_search` and the event JSON (with English localizations).

use serde_json::Value;

use super::context::{Ctx, EVENTS_READ};
use crate::error::ApiError;
use crate::estate::Event;
use crate::json::{Obj, get_bool, get_object, get_str, get_strings, get_timestamp, get_u64};

const MAX_EVENTS: u64 = 1000;

fn aggregate_message(aggregate_type: &str) -> &'static str {
    match aggregate_type {
        "user" => "User",
        "usergrant" => "User grant",
        "org" => "Organization",
        "project" => "Project",
        "instance" => "Instance",
        _ => "",
    }
}

fn event_message(event_type: &str) -> String {
    let known = match event_type {
        "user.human.added" => "Person added",
        "user.machine.added" => "Technical user added",
        "user.human.profile.changed" => "User profile changed",
        "user.human.email.changed" => "Email address changed",
        "user.human.email.verified" => "Email address verified",
        "user.deactivated" => "User deactivated",
        "user.reactivated" => "User reactivated",
        "user.locked" => "User locked",
        "user.unlocked" => "User unlocked",
        "user.removed" => "User deleted",
        "user.machine.key.added" => "Key added",
        "user.machine.key.removed" => "Key removed",
        "user.pat.added" => "Personal Access Token added",
        "user.pat.removed" => "Personal Access Token removed",
        "user.machine.secret.set" => "Client secret generated",
        "user.metadata.set" => "User metadata set",
        "user.metadata.removed" => "User metadata removed",
        "user.grant.added" => "Authorization added",
        "user.grant.changed" => "Authorization changed",
        "user.grant.removed" => "Authorization removed",
        "user.grant.cascade.removed" => "Authorization removed",
        "user.grant.cascade.changed" => "Authorization changed",
        "project.added" => "Project added",
        "project.changed" => "Project changed",
        "project.removed" => "Project removed",
        "project.role.changed" => "Role changed",
        "project.application.added" => "Application added",
        "project.application.removed" => "Application removed",
        "project.application.config.oidc.added" => "OIDC configuration added",
        "project.application.config.api.added" => "API configuration added",
        "project.application.config.saml.added" => "SAML configuration added",
        "project.grant.added" => "Project grant added",
        "project.grant.removed" => "Project grant removed",
        "org.changed" => "Organization changed",
        "org.removed" => "Organization removed",
        "project.role.added" => "Role added",
        "project.role.removed" => "Role removed",
        "project.grant.cascade.changed" => "Project grant changed",
        "org.member.added" => "Organization member added",
        "org.member.changed" => "Organization member changed",
        "org.member.removed" => "Organization member removed",
        "org.member.cascade.removed" => "Organization member removed",
        "instance.member.added" => "Instance member added",
        "instance.member.changed" => "Instance member changed",
        "instance.member.removed" => "Instance member removed",
        "instance.member.cascade.removed" => "Instance member removed",
        "project.member.added" => "Project member added",
        "project.member.changed" => "Project member changed",
        "project.member.removed" => "Project member removed",
        "project.member.cascade.removed" => "Project member removed",
        "project.grant.member.added" => "Project grant member added",
        "project.grant.member.changed" => "Project grant member changed",
        "project.grant.member.removed" => "Project grant member removed",
        "project.grant.member.cascade.removed" => "Project grant member removed",
        _ => "",
    };
    known.to_string()
}

/// One `event.v1.Event`.
pub(crate) fn event_v1(event: &Event) -> Value {
    let editor = Obj::new()
        .string("userId", &event.editor.user_id)
        .string("displayName", &event.editor.display_name)
        .string("service", "zitadel");
    let aggregate_type = Obj::new().string("type", &event.aggregate_type).object(
        "localized",
        Obj::new()
            .string("key", &format!("AggregateTypes.{}", event.aggregate_type))
            .string("localizedMessage", aggregate_message(&event.aggregate_type)),
    );
    let aggregate = Obj::new()
        .string("id", &event.aggregate_id)
        .object("type", aggregate_type)
        .string("resourceOwner", &event.resource_owner);
    let event_type = Obj::new().string("type", &event.event_type).object(
        "localized",
        Obj::new()
            .string("key", &format!("EventTypes.{}", event.event_type))
            .string("localizedMessage", &event_message(&event.event_type)),
    );
    let out = Obj::new()
        .object("editor", editor)
        .object("aggregate", aggregate)
        .int64("sequence", event.sequence)
        .time("creationDate", event.created)
        .object("type", event_type);
    // Events without a payload (`user.removed`, `org.removed`, ...) have none on the wire either.
    if event.payload.is_null() { out.build() } else { out.value("payload", event.payload.clone()).build() }
}

/// `POST /admin/v1/events/_search` as ZITADEL's `admin/event.go` and its event store build the query: newest first
/// unless `asc`; with `asc`, `from` keeps events created strictly after it, without, strictly before it; `range`
/// (`since` strictly after, `until` strictly before) replaces `from`; `sequence` (an aggregate's sequence) keeps
/// greater sequences with `asc`, smaller without; `aggregateTypes` default to those of `eventTypes`; limit 0 or
/// above 1000 = 1000. Order: the order events were written (ZITADEL's `position`).
pub(crate) fn list_events(ctx: &mut Ctx<'_>) -> Result<Value, ApiError> {
    ctx.instance(EVENTS_READ)?;
    let body = ctx.body;
    let asc = get_bool(body, "asc")?;
    let limit = match get_u64(body, "limit")? {
        0 => MAX_EVENTS,
        limit if limit > MAX_EVENTS => MAX_EVENTS,
        limit => limit,
    };
    let sequence = get_u64(body, "sequence")?;
    let editor = get_str(body, "editorUserId")?;
    let aggregate_id = get_str(body, "aggregateId")?;
    let resource_owner = get_str(body, "resourceOwner")?;
    let event_types = get_strings(body, "eventTypes")?;
    let mut aggregate_types = get_strings(body, "aggregateTypes")?;
    if aggregate_types.is_empty() {
        aggregate_types = event_types.iter().map(|event_type| aggregate_type_of(event_type)).collect();
    }
    let mut from = match get_timestamp(body, "from")? {
        Some(from) => Some(from),
        None => get_timestamp(body, "creationDate")?,
    };
    let (since, until) = match get_object(body, "range")? {
        Some(range) => {
            from = None;
            (get_timestamp(range, "since")?, get_timestamp(range, "until")?)
        }
        None => (None, None),
    };
    let matches = |event: &&Event| {
        (sequence == 0 || if asc { event.sequence > sequence } else { event.sequence < sequence })
            && (editor.is_empty() || event.editor.user_id == editor)
            && (aggregate_id.is_empty() || event.aggregate_id == aggregate_id)
            && (resource_owner.is_empty() || event.resource_owner == resource_owner)
            && (event_types.is_empty() || event_types.contains(&event.event_type))
            && (aggregate_types.is_empty() || aggregate_types.contains(&event.aggregate_type))
            && from.is_none_or(|from| if asc { event.created > from } else { event.created < from })
            && since.is_none_or(|since| event.created > since)
            && until.is_none_or(|until| event.created < until)
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let events: Vec<Value> = if asc {
        ctx.estate.events().iter().filter(matches).take(limit).map(event_v1).collect()
    } else {
        ctx.estate.events().iter().rev().filter(matches).take(limit).map(event_v1).collect()
    };
    Ok(Obj::new().list("events", events).build())
}

/// The aggregate type of an event type, as `aggregateTypesFromEventTypes` (`user.grant.*` is `usergrant`).
fn aggregate_type_of(event_type: &str) -> String {
    if event_type.starts_with("user.grant.") {
        return "usergrant".to_string();
    }
    event_type.split('.').next().unwrap_or_default().to_string()
}
