//! Who made each change: read from ZITADEL's event store when the credential may (`events.read`), else unknown.
//!
//! Events are matched to changed objects by id: an event is indexed under its aggregate id and under the ids its
//! payload names (`userId`, `keyId`, `tokenId`, `grantId`, `appId`, `idpId`, `id`). Each kind of object names the
//! ids and event types that can explain it, most specific first; objects removed by a cascade fall back to the
//! removal of their parent (`project.removed`, `user.removed`). The latest matching event (by creation date) wins.

use std::collections::HashMap;

use time::OffsetDateTime;
use warden_core::id::UserId;
use warden_core::model::{Attribution, ChangeKind, ResourceKind};
use warden_core::reconcile::ObjectChange;
use warden_zitadel::{ZitadelClient, ZitadelEvent};

use super::events::{self, EventsRead};

/// Events read at most per run for attribution; older changes stay unattributed.
const MAX_EVENTS: usize = 50_000;
/// How far before the previous run's start events are read.
const MARGIN: time::Duration = time::Duration::seconds(1);
const PAYLOAD_IDS: [&str; 7] = ["userId", "keyId", "tokenId", "grantId", "appId", "idpId", "id"];

/// The events since `since`, oldest first; `None` when the credential may not read them (or the read fails: a
/// sync never fails for want of attribution).
pub(crate) async fn read_events(client: &ZitadelClient, since: OffsetDateTime) -> Option<Vec<ZitadelEvent>> {
    // ZITADEL's `from` is strictly after, and an event becomes visible when its transaction commits but keeps the
    // transaction's start as its date: a margin before `since` catches both.
    match events::read_after(client, since - MARGIN, &[], MAX_EVENTS).await {
        Ok(EventsRead::Complete(events)) => Some(events),
        Ok(EventsRead::Incomplete(why)) => {
            tracing::info!(%why, "not every event since the last run can be read; changes are attributed to nobody");
            None
        }
        Err(error) => {
            tracing::info!(%error, "ZITADEL's events cannot be read; changes are attributed to nobody");
            None
        }
    }
}

/// Attributes changes to the events that explain them.
pub(crate) struct Attributor<'a> {
    by_id: HashMap<&'a str, Vec<&'a ZitadelEvent>>,
}

impl<'a> Attributor<'a> {
    pub(crate) fn new(events: &'a [ZitadelEvent]) -> Attributor<'a> {
        let mut by_id: HashMap<&str, Vec<&ZitadelEvent>> = HashMap::new();
        for event in events {
            by_id.entry(event.aggregate_id.as_str()).or_default().push(event);
            for field in PAYLOAD_IDS {
                if let Some(id) = event.payload.get(field).and_then(|value| value.as_str())
                    && !id.is_empty()
                    && id != event.aggregate_id
                {
                    by_id.entry(id).or_default().push(event);
                }
            }
        }
        Attributor { by_id }
    }

    pub(crate) fn attribute(&self, change: &ObjectChange) -> Attribution {
        let event = candidates(change).into_iter().find_map(|(id, type_hint)| {
            self.by_id
                .get(id.as_str())?
                .iter()
                .filter(|event| event.event_type.contains(type_hint))
                .max_by_key(|event| (event.created_at, event.sequence))
        });
        match event.and_then(|event| Some((event, event.created_at?))) {
            Some((event, occurred_at)) => Attribution::Event {
                editor_user_id: UserId::parse(event.editor_user_id.clone()).ok(),
                editor_name: Some(event.editor_name.clone()).filter(|name| !name.is_empty()),
                occurred_at,
            },
            None => Attribution::Observed,
        }
    }
}

fn field(change: &ObjectChange, name: &str) -> Option<String> {
    let field = change.fields.iter().find(|field| field.field == name)?;
    field.after.clone().or_else(|| field.before.clone())
}

fn first_segment(key: &str) -> String {
    key.split('/').next().unwrap_or(key).to_owned()
}

fn last_segment(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_owned()
}

/// `(id, event type fragment)` pairs that can explain a change, most specific first.
fn candidates(change: &ObjectChange) -> Vec<(String, &'static str)> {
    let key = change.object_key.clone();
    let removed = change.kind == ChangeKind::Removed;
    let mut candidates = match change.object_kind {
        ResourceKind::Org => vec![(key, "org.")],
        ResourceKind::Project => vec![(key, "project.")],
        ResourceKind::ProjectRole => vec![(first_segment(&key), "project.role")],
        ResourceKind::User => vec![(key, "user.")],
        ResourceKind::MachineKey => {
            let mut list = vec![(key, "key")];
            list.extend(field(change, "user_id").map(|user| (user, "user.machine.key")));
            list
        }
        ResourceKind::PersonalAccessToken => {
            let mut list = vec![(key, "pat")];
            list.extend(field(change, "user_id").map(|user| (user, "user.pat")));
            list
        }
        ResourceKind::UserMetadata => vec![(first_segment(&key), "metadata")],
        ResourceKind::UserGrant => vec![(key, "grant")],
        ResourceKind::Membership => vec![(last_segment(&key), "member")],
        ResourceKind::ProjectGrant => vec![(key, "project.grant")],
        ResourceKind::Application => {
            let mut list = vec![(key, "application")];
            list.extend(field(change, "project_id").map(|project| (project, "application")));
            list
        }
        ResourceKind::IdentityProvider => vec![(key, "idp")],
    };
    if removed {
        // Removed with a parent that was removed: the parent's removal explains it.
        if let Some(project) = field(change, "project_id") {
            candidates.push((project, "project.removed"));
        }
        if matches!(change.object_kind, ResourceKind::ProjectRole) {
            candidates.push((first_segment(&change.object_key), "project.removed"));
        }
        for user in [field(change, "user_id"), Some(last_segment(&change.object_key))].into_iter().flatten() {
            candidates.push((user, "user.removed"));
        }
    }
    candidates
}
