//! The incremental half of a sync: the events since the last position, and the comparison of what their plan
//! re-read with what the store holds in the same scopes.
//!
//! Each kind is compared within the scopes the plan read completely (an organization's users, a user's keys, ...):
//! a stored object there that the lists no longer show was removed; objects elsewhere are not looked at. Scopes
//! whose lists failed are unknown, and keep what is stored, as in a full sync.

use std::collections::BTreeSet;

use time::OffsetDateTime;
use warden_core::id::EnvironmentName;
use warden_core::incremental::{AGGREGATE_TYPES, EventRef, NeedsFullSync, Plan, plan};
use warden_core::model::{Environment, MetadataScope, ResourceKind, Snapshot};
use warden_core::reconcile::reconcile;
use warden_zitadel::{ZitadelClient, ZitadelEvent};

use super::RECONCILE_ORDER;
use super::compare::{self, Comparison};
use super::events::{self, EventsRead};
use super::fetch::PlannedRead;
use crate::store::{self, ObjectScope, Store};

/// How far before the stored position events are read again: an event committed late may carry an earlier
/// creation date than one read before it (re-reading an aggregate changes nothing).
const OVERLAP: time::Duration = time::Duration::seconds(1);
/// Beyond this many events since the last position, a full sync is cheaper than following them.
const MAX_EVENTS: usize = 100_000;
/// The version of warden's reading of ZITADEL: a position recorded by a warden that read differently is not
/// trusted (bumped when what a sync stores from the same estate changes).
const READING: u32 = 1;

/// What a position is valid for: a position recorded for another instance (URL), scope (organizations, API,
/// metadata) or reading is not trusted.
pub(crate) fn basis(environment: &Environment, metadata: &MetadataScope) -> String {
    let orgs: Vec<&str> = environment.orgs.iter().map(|org| org.as_str()).collect();
    format!(
        "reading={READING};url={};api={};orgs={};metadata={metadata}",
        environment.url,
        environment.api,
        orgs.join(",")
    )
}

/// What the events since the position say.
pub(crate) enum Events {
    /// The lists to read again, and the events (for attribution).
    Plan(Plan, Vec<ZitadelEvent>),
    /// They cannot be followed: read everything.
    NeedsFullSync(String),
    /// They could not be read.
    Unreadable(String),
}

/// Reads and plans the events after `position`. A credential that may not read events gets a full sync (which
/// needs none); any other failure leaves nothing known.
pub(crate) async fn events_since(client: &ZitadelClient, position: OffsetDateTime) -> Events {
    match events::read_after(client, position - OVERLAP, &AGGREGATE_TYPES, MAX_EVENTS).await {
        Ok(EventsRead::Complete(events)) => {
            let refs = events.iter().map(|event| EventRef {
                aggregate_type: &event.aggregate_type,
                aggregate_id: &event.aggregate_id,
                resource_owner: &event.resource_owner,
                event_type: &event.event_type,
            });
            match plan(refs) {
                Ok(plan) => Events::Plan(plan, events),
                Err(NeedsFullSync(reason)) => Events::NeedsFullSync(reason),
            }
        }
        Ok(EventsRead::Incomplete(reason)) => Events::NeedsFullSync(reason),
        Err(error) if error.is_permission_denied() => {
            Events::NeedsFullSync(format!("ZITADEL's events are not readable with this credential: {error}"))
        }
        Err(error) => Events::Unreadable(format!("cannot read ZITADEL's events: {error}")),
    }
}

/// The users whose keys, tokens or metadata the plan lists.
pub(crate) fn users_named(plan: &Plan) -> ObjectScope {
    ObjectScope { users: plan.user_parts.keys().cloned().collect(), ..ObjectScope::default() }
}

/// Where a kind is compared.
enum KindScope {
    /// Everywhere: the read listed all of the kind.
    Whole,
    Part(ObjectScope),
}

fn scope_of(kind: ResourceKind, plan: &Plan, all_members: bool) -> Option<KindScope> {
    let orgs = |orgs: &BTreeSet<_>, instance: bool| {
        (!orgs.is_empty() || instance)
            .then(|| KindScope::Part(ObjectScope { orgs: orgs.iter().cloned().collect(), users: Vec::new(), instance }))
    };
    let users = |wanted: fn(&warden_core::incremental::UserParts) -> bool| {
        let users: Vec<_> =
            plan.user_parts.iter().filter(|(_, (_, parts))| wanted(parts)).map(|(user, _)| user.clone()).collect();
        (!users.is_empty()).then(|| KindScope::Part(ObjectScope { users, ..ObjectScope::default() }))
    };
    match kind {
        ResourceKind::Org => Some(KindScope::Whole),
        ResourceKind::User => orgs(&plan.users_of, false),
        ResourceKind::UserMetadata => users(|parts| parts.metadata),
        ResourceKind::MachineKey => users(|parts| parts.machine_keys),
        ResourceKind::PersonalAccessToken => users(|parts| parts.personal_access_tokens),
        ResourceKind::UserGrant => orgs(&plan.user_grants_of, false),
        ResourceKind::Project | ResourceKind::ProjectRole | ResourceKind::Application => orgs(&plan.projects_of, false),
        ResourceKind::ProjectGrant => orgs(&plan.project_grants_of, false),
        ResourceKind::Membership if all_members => Some(KindScope::Whole),
        ResourceKind::Membership => orgs(&plan.members_of, plan.instance_members),
        ResourceKind::IdentityProvider => orgs(&plan.providers_of, plan.instance_providers),
    }
}

/// Compares what the plan re-read with the store, kind by kind, into `comparison`.
pub(crate) async fn compare_planned(
    store: &dyn Store,
    environment: &EnvironmentName,
    read: PlannedRead,
    plan: &Plan,
    comparison: &mut Comparison,
) -> Result<(), store::Error> {
    let PlannedRead { fetched, all_members } = read;
    let mut remaining = fetched.snapshot;
    for kind in RECONCILE_ORDER {
        let mut fetched_kind = remaining.take(kind);
        match scope_of(kind, plan, all_members) {
            None => {}
            Some(KindScope::Whole) => {
                compare::compare_kind(store, environment, fetched_kind, &fetched.unknown, compare::SLICE, comparison)
                    .await?;
            }
            Some(KindScope::Part(scope)) => {
                if scope.users.is_empty() {
                    // An organization's providers list shows the instance's as well, for instance.
                    fetched_kind.retain_in_orgs(&scope.orgs.iter().cloned().collect(), scope.instance);
                }
                let stored = Snapshot::of(store.list_objects_in(environment, kind, &scope).await?);
                let part = reconcile(&stored, Snapshot::of(fetched_kind), &fetched.unknown);
                comparison.absorb(part, stored);
            }
        }
    }
    Ok(())
}
