//! Mutation helpers on [`Estate`]; each appends the ZITADEL events a real instance would record, and moves each
//! object's `details` (sequence, change date) as ZITADEL's projection of that object does
//! (`docs/zitadel-projections.md`).
//!
//! Events follow ZITADEL's event store (eventstore v3, `eventstore.push`): an event's `sequence` counts the events
//! of its aggregate (`user`, `usergrant`, `project`, `org`, `instance`), and all events one command pushes share
//! one creation date (`created_at = NOW()`, the transaction's time). Every pub mutation is one command.

mod grants;
mod orgs;
mod projects;
mod users;

use time::{Duration, OffsetDateTime};

use super::{Editor, Estate, Event, MembershipScope, ObjectMeta};

/// What kind of failure a mutation hit (maps to a gRPC code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstateErrorKind {
    /// gRPC NotFound (5).
    NotFound,
    /// gRPC AlreadyExists (6).
    AlreadyExists,
    /// gRPC InvalidArgument (3).
    InvalidArgument,
    /// gRPC FailedPrecondition (9).
    FailedPrecondition,
}

/// A failed mutation, with ZITADEL's error id and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({id})")]
pub struct EstateError {
    /// Kind (gRPC code).
    pub kind: EstateErrorKind,
    /// ZITADEL error id, e.g. `QUERY-Dfbg2`.
    pub id: &'static str,
    /// Message, e.g. `User could not be found`.
    pub message: String,
}

impl EstateError {
    pub(crate) fn new(kind: EstateErrorKind, id: &'static str, message: impl Into<String>) -> Self {
        Self { kind, id, message: message.into() }
    }

    pub(crate) fn user_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "QUERY-Dfbg2", "User could not be found")
    }

    pub(crate) fn project_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "PROJECT-Bm9sd", "Project not found")
    }

    pub(crate) fn grant_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "COMMAND-4M0fs", "User grant not found")
    }

    pub(crate) fn org_not_found() -> Self {
        Self::new(EstateErrorKind::NotFound, "QUERY-iTTGJ", "Organisation not found")
    }
}

pub use users::NewHumanUser;

/// Where an appended event landed: its aggregate sequence and its creation date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) sequence: u64,
    pub(crate) at: OffsetDateTime,
}

impl Stamp {
    /// The details of an object a projection creates from this event.
    pub(crate) fn created(self) -> ObjectMeta {
        ObjectMeta { sequence: self.sequence, created: self.at, changed: self.at }
    }

    /// A projection's update of an object from this event: sequence and change date move, creation stays.
    pub(crate) fn apply(self, meta: &mut ObjectMeta) {
        meta.sequence = self.sequence;
        meta.changed = self.at;
    }
}

pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    crate::json::format_timestamp(at)
}

impl Estate {
    /// Appends one event as a command of its own; returns its aggregate sequence.
    pub fn record_event(
        &mut self,
        editor_id: &str,
        aggregate: (&str, &str, &str),
        event_type: &str,
        payload: serde_json::Value,
    ) -> u64 {
        self.begin_command();
        self.push_event(editor_id, aggregate, event_type, payload).sequence
    }

    /// Starts a command: the events appended until the next one share a creation date (ZITADEL's transaction).
    pub(crate) fn begin_command(&mut self) {
        self.command += 1;
    }

    /// Appends an event of the current command. Its sequence is the aggregate's next; its creation date is the
    /// command's: the first event of a command gets `max(now, previous event + 1 µs)` (µs precision, like
    /// PostgreSQL), so dates never go backwards and distinct commands never share one, even under a frozen clock.
    pub(crate) fn push_event(
        &mut self,
        editor_id: &str,
        aggregate: (&str, &str, &str),
        event_type: &str,
        payload: serde_json::Value,
    ) -> Stamp {
        let (aggregate_type, aggregate_id, resource_owner) = aggregate;
        let display_name =
            self.users.get(editor_id).map_or_else(|| editor_id.to_string(), |user| user.display_name().to_string());
        let counter =
            self.aggregate_sequences.entry((aggregate_type.to_string(), aggregate_id.to_string())).or_insert(0);
        *counter += 1;
        let sequence = *counter;
        let now = truncate_to_micros(self.now);
        let created = match self.events.last() {
            Some(last) if self.last_event_command == self.command => last.created,
            Some(last) => now.max(last.created + Duration::microseconds(1)),
            None => now,
        };
        self.last_event_command = self.command;
        self.events.push(Event {
            sequence,
            position: self.events.len() as u64 + 1,
            created,
            editor: Editor { user_id: editor_id.to_string(), display_name },
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: aggregate_id.to_string(),
            resource_owner: resource_owner.to_string(),
            event_type: event_type.to_string(),
            payload,
        });
        Stamp { sequence, at: created }
    }

    /// Sets every aggregate's sequence to the highest an object of it carries (the seed writes objects without
    /// events), so the first event on a seeded aggregate moves its objects' sequences forward.
    pub(crate) fn seed_aggregate_sequences(&mut self) {
        let instance = self.instance_id.clone();
        let mut entries: Vec<((&str, &str), u64)> = Vec::new();
        entries.extend(self.orgs.values().map(|org| (("org", org.id.as_str()), org.meta.sequence)));
        entries.extend(self.users.values().map(|user| (("user", user.id.as_str()), user.meta.sequence)));
        entries.extend(self.machine_keys.values().map(|key| (("user", key.user_id.as_str()), key.meta.sequence)));
        entries.extend(
            self.personal_access_tokens.values().map(|pat| (("user", pat.user_id.as_str()), pat.meta.sequence)),
        );
        entries
            .extend(self.user_metadata.values().map(|entry| (("user", entry.user_id.as_str()), entry.meta.sequence)));
        entries.extend(self.user_grants.values().map(|grant| (("usergrant", grant.id.as_str()), grant.meta.sequence)));
        entries.extend(self.projects.values().map(|project| (("project", project.id.as_str()), project.meta.sequence)));
        entries.extend(
            self.project_roles.values().map(|role| (("project", role.project_id.as_str()), role.meta.sequence)),
        );
        entries.extend(self.applications.values().map(|app| (("project", app.project_id.as_str()), app.meta.sequence)));
        entries.extend(
            self.project_grants.values().map(|grant| (("project", grant.project_id.as_str()), grant.meta.sequence)),
        );
        entries.extend(self.memberships.values().map(|membership| {
            let aggregate = match &membership.scope {
                MembershipScope::Instance => ("instance", instance.as_str()),
                MembershipScope::Org { org_id } => ("org", org_id.as_str()),
                MembershipScope::Project { project_id, .. } | MembershipScope::ProjectGrant { project_id, .. } => {
                    ("project", project_id.as_str())
                }
            };
            (aggregate, membership.meta.sequence)
        }));
        entries.extend(self.identity_providers.values().map(|idp| match &idp.org_id {
            Some(org_id) => (("org", org_id.as_str()), idp.meta.sequence),
            None => (("instance", instance.as_str()), idp.meta.sequence),
        }));
        let mut sequences = std::collections::HashMap::with_capacity(entries.len());
        for ((aggregate_type, aggregate_id), sequence) in entries {
            let entry = sequences.entry((aggregate_type.to_string(), aggregate_id.to_string())).or_insert(0);
            *entry = sequence.max(*entry);
        }
        self.aggregate_sequences = sequences;
    }

    /// The aggregate `(type, id, resource owner)` a membership's events are recorded on, and the event prefix.
    pub(crate) fn membership_aggregate(&self, scope: &MembershipScope) -> (&'static str, String, String, &'static str) {
        match scope {
            MembershipScope::Instance => ("instance", self.instance_id.clone(), self.instance_id.clone(), "instance"),
            MembershipScope::Org { org_id } => ("org", org_id.clone(), org_id.clone(), "org"),
            MembershipScope::Project { project_id, org_id } => {
                ("project", project_id.clone(), org_id.clone(), "project")
            }
            MembershipScope::ProjectGrant { project_id, org_id, .. } => {
                ("project", project_id.clone(), org_id.clone(), "project.grant")
            }
        }
    }

    pub(crate) fn check_org(&self, org_id: &str) -> Result<(), EstateError> {
        if self.orgs.contains_key(org_id) { Ok(()) } else { Err(EstateError::org_not_found()) }
    }
}

fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}
