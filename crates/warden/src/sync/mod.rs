//! `sync_once`: read one environment completely, reconcile it with the store, record the changes. One testable
//! step; `warden sync` and the scheduler are loops around it.

mod attribution;
mod compare;
mod credentials;
mod events;
mod fetch;
mod incremental;

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use warden_core::id::EnvironmentName;
use warden_core::incremental::{AGGREGATE_TYPES, ModeChoice, ModeInput, advances_position, choose_mode};
use warden_core::model::{
    Change, Environment, MetadataScope, ObjectBatch, ResourceKind, SyncError, SyncMode, SyncRun, SyncStatus,
};
use warden_core::reconcile::{ObjectChange, RemovalGuard};
use warden_zitadel::ZitadelClient;

use crate::store::{self, Store, SyncWrites};

/// The order kinds are reconciled in: the largest first, so that they leave memory early.
const RECONCILE_ORDER: [ResourceKind; 12] = [
    ResourceKind::UserGrant,
    ResourceKind::User,
    ResourceKind::UserMetadata,
    ResourceKind::Membership,
    ResourceKind::MachineKey,
    ResourceKind::PersonalAccessToken,
    ResourceKind::ProjectRole,
    ResourceKind::Application,
    ResourceKind::Project,
    ResourceKind::ProjectGrant,
    ResourceKind::IdentityProvider,
    ResourceKind::Org,
];

/// What one sync of one environment did.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// The recorded run: status, mode, counts of what the store holds now, errors, requests and retries.
    pub run: SyncRun,
    pub added: usize,
    pub removed: usize,
    pub modified: usize,
    /// Machine users the store holds after the run (the rest of `run.counts[User]` are people).
    pub machine_users: u64,
    /// Lists the credential may not read at all (not errors: nothing there was ever in reach).
    pub not_permitted: Vec<String>,
    pub duration: Duration,
}

/// How a sync treats what it finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// `None`: record every removal, however many (an operator confirmed them).
    pub removal_guard: Option<RemovalGuard>,
    /// The process running the sync, holding the environment's lease ([`lease_name`]); `None` when it runs
    /// without one (a test).
    pub holder: Option<String>,
    /// Read everything even where the events since the last run would do (`warden sync --full`).
    pub full: bool,
    /// A full sync at least this often.
    pub full_sync_interval: time::Duration,
    /// Whose metadata is read; stored metadata outside it is forgotten (no change is recorded: it was not removed).
    pub metadata: MetadataScope,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            removal_guard: Some(RemovalGuard::default()),
            holder: None,
            full: false,
            full_sync_interval: time::Duration::hours(24),
            metadata: MetadataScope::All,
        }
    }
}

/// The lease a sync of `environment` runs under: one process at a time syncs an environment.
pub fn lease_name(environment: &EnvironmentName) -> String {
    format!("sync/{environment}")
}

/// Reads `environment` through `client`, reconciles it with what `store` holds, and applies the result in one
/// transaction. `now` is the run's start and the observation time of its changes.
///
/// The run is incremental where the last `ok` run left a trusted event position
/// ([`warden_core::incremental::choose_mode`]), else full; an incremental run whose events cannot be followed
/// turns full, and one whose events cannot be read ends partial, storing nothing. A failure to list the
/// organizations fails the run; any other failed list makes it `partial` and leaves its scope as stored. So does a
/// run that would remove more than `options.removal_guard` allows: it holds every removal
/// (`warden_core::reconcile::excessive_removals`). Only a run that ends `ok` advances the event position. Only
/// store errors are returned as errors; everything ZITADEL does is recorded in the run.
pub async fn sync_once(
    environment: &Environment,
    client: &ZitadelClient,
    store: &dyn Store,
    options: SyncOptions,
    now: OffsetDateTime,
) -> Result<SyncOutcome, store::Error> {
    let started = Instant::now();
    let stats = client.stats();
    let (requests_before, retries_before) = (stats.requests(), stats.retries());
    store.upsert_environment(environment).await?;
    let previous_start = store.list_sync_runs(&environment.name, 1).await?.first().map(|run| run.started_at);
    let last_ok = store.last_sync_run(&environment.name, SyncStatus::Ok, None).await?;
    let last_full_ok = store.last_sync_run(&environment.name, SyncStatus::Ok, Some(SyncMode::Full)).await?;
    let basis = incremental::basis(environment, &options.metadata);
    let mut choice = choose_mode(ModeInput {
        full_requested: options.full,
        last_ok: last_ok.as_ref(),
        last_full_ok: last_full_ok.as_ref(),
        basis: &basis,
        full_sync_interval: options.full_sync_interval,
        now,
    });
    let mut run = store.start_sync_run(&environment.name, now, options.holder.as_deref()).await?;
    tracing::info!(environment = %environment.name, run = %run.id, mode = %choice.mode, reason = %choice.reason, "sync started");
    // A run still `running` whose holder no longer holds the environment's lease was cut off (killed, crashed, the
    // machine gone): say so instead of showing it running for ever. A run another live process holds the lease
    // for is left alone.
    let interrupted = SyncError {
        scope: "run".to_owned(),
        message: format!("interrupted: its process ended before the run finished (noticed by run {})", run.id),
    };
    let lease = lease_name(&environment.name);
    let cut_off = store.interrupt_abandoned_sync_runs(&environment.name, run.id, &lease, &interrupted, now).await?;
    if cut_off > 0 {
        tracing::warn!(environment = %environment.name, runs = cut_off, "earlier runs never finished: marked interrupted");
    }
    let finish = |run: &mut SyncRun| {
        run.finished_at = Some(now + started.elapsed());
        run.requests = stats.requests() - requests_before;
        run.retries = stats.retries() - retries_before;
    };

    let planned = match last_ok.as_ref().and_then(|run| run.event_position) {
        Some(position) if choice.mode == SyncMode::Incremental => {
            match incremental::events_since(client, position).await {
                incremental::Events::Plan(plan, events) => Some((plan, events, position)),
                incremental::Events::NeedsFullSync(reason) => {
                    choice = ModeChoice::full(reason);
                    None
                }
                incremental::Events::Unreadable(error) => {
                    // Nothing is known of what changed: store nothing, keep the position for the next run.
                    run.mode = choice.mode;
                    run.mode_reason = choice.reason;
                    run.status = SyncStatus::Partial;
                    run.errors = vec![SyncError { scope: "events".to_owned(), message: error }];
                    run.counts = store.count_objects(&environment.name).await?;
                    finish(&mut run);
                    store.finish_sync_run(&run).await?;
                    tracing::warn!(environment = %environment.name, "events unreadable: nothing synced");
                    return Ok(nothing_done(run, store.count_machine_users(&environment.name).await?, started));
                }
            }
        }
        _ => None,
    };
    run.mode = choice.mode.clone();
    run.mode_reason = choice.reason.clone();

    if options.metadata != MetadataScope::All {
        let forgotten = store.forget_user_metadata(&environment.name, &options.metadata).await?;
        if forgotten > 0 {
            tracing::info!(environment = %environment.name, forgotten, scope = %options.metadata, "metadata outside the scope forgotten");
        }
    }
    // Kind by kind, largest first, each compared with the store a bounded slice at a time: the stored state is
    // never loaded whole, and each fetched kind leaves memory as it is compared.
    let stored_counts = store.count_objects(&environment.name).await?;
    let mut comparison = compare::Comparison::new(stored_counts.clone(), options.removal_guard);
    let (errors, not_permitted, events, position) = match planned {
        Some((mut plan, events, position)) => {
            let known_users =
                store.list_objects_in(&environment.name, ResourceKind::User, &incremental::users_named(&plan)).await?;
            let known_users = match known_users {
                ObjectBatch::Users(users) => users,
                _ => Vec::new(),
            };
            let read = match fetch::fetch_planned(client, &environment.orgs, &options.metadata, &mut plan, &known_users)
                .await
            {
                Ok(read) => read,
                Err(error) => return failed(store, run, &error.to_string(), finish, started).await,
            };
            comparison.machine_users_after = store.count_machine_users(&environment.name).await?;
            let (errors, not_permitted) = (read.fetched.errors.clone(), read.fetched.not_permitted.clone());
            incremental::compare_planned(store, &environment.name, read, &plan, &mut comparison).await?;
            let newest = events
                .iter()
                .filter_map(|event| event.created_at)
                .max()
                .map_or(position, |newest| newest.max(position));
            (errors, not_permitted, Some(events), Some(newest))
        }
        None => {
            let position = match events::newest(client, &AGGREGATE_TYPES).await {
                // An instance without events yet: every later event counts.
                Ok(newest) => Some(newest.unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                Err(error) => {
                    tracing::info!(environment = %environment.name, %error, "ZITADEL's events cannot be read: the next run is full as well");
                    None
                }
            };
            let known = credentials::KnownCredentials::of(
                store.list_objects(&environment.name, ResourceKind::MachineKey).await?,
                store.list_objects(&environment.name, ResourceKind::PersonalAccessToken).await?,
            );
            let fetched = match fetch::fetch_estate(client, &environment.orgs, &options.metadata, known).await {
                Ok(fetched) => fetched,
                Err(error) => return failed(store, run, &error.to_string(), finish, started).await,
            };
            // The first sync of an environment is its baseline: everything is stored, nothing is "a change" yet (a
            // large estate would otherwise write a change row, with every field, for each of its objects).
            let baseline = stored_counts.values().all(|count| *count == 0);
            let mut remaining = fetched.snapshot;
            for kind in RECONCILE_ORDER {
                let fetched_kind = remaining.take(kind);
                if baseline {
                    comparison.absorb_baseline(fetched_kind);
                } else {
                    let (name, unknown) = (&environment.name, &fetched.unknown);
                    compare::compare_kind(store, name, fetched_kind, unknown, compare::SLICE, &mut comparison).await?;
                }
            }
            (fetched.errors, fetched.not_permitted, None, position)
        }
    };
    let mut errors = errors;
    if let Some(held) = comparison.held_removals() {
        let kinds: Vec<String> = held.excessive.iter().map(ToString::to_string).collect();
        tracing::warn!(environment = %environment.name, held = held.held, kinds = %kinds.join(", "), "removals held");
        let max_percent = options.removal_guard.map_or(100, |guard| guard.max_percent);
        errors.push(SyncError {
            scope: "removals".to_owned(),
            message: format!(
                "held all {} removals: this run would remove {} (more than {max_percent} %), which looks like a \
                 credential that lost permissions; nothing was removed. If the deletions are real, run \
                 `warden sync --accept-removals`",
                held.held,
                kinds.join(", "),
            ),
        });
    }
    // Events explain changes since the previous run began (an incremental run has read them already).
    let events = match (events, previous_start) {
        (Some(events), _) => Some(events),
        (None, Some(since)) if comparison.changed() => attribution::read_events(client, since).await,
        _ => None,
    };
    let attributor = attribution::Attributor::new(events.as_deref().unwrap_or_default());
    run.counts = comparison.counts_after.clone();
    run.status = if errors.is_empty() { SyncStatus::Ok } else { SyncStatus::Partial };
    run.errors = errors;
    if advances_position(&run.status) {
        run.event_position = position;
        run.basis = Some(basis);
    }
    finish(&mut run);
    let modified = comparison.take_modified();
    let mut changes = change_rows(environment, &run, now, comparison.changes(modified), &attributor);
    let writes = SyncWrites {
        upserts: &comparison.reconciliation.upserts,
        removals: &comparison.reconciliation.removals,
        changes: &mut changes,
        run: &run,
    };
    store.apply_sync(&environment.name, writes).await?;
    drop(changes);

    let outcome = SyncOutcome {
        added: comparison.added,
        removed: comparison.removed,
        modified: comparison.modified,
        machine_users: comparison.machine_users_after,
        not_permitted,
        duration: started.elapsed(),
        run,
    };
    tracing::info!(
        environment = %environment.name,
        run = %outcome.run.id,
        status = %outcome.run.status,
        mode = %outcome.run.mode,
        added = outcome.added,
        removed = outcome.removed,
        modified = outcome.modified,
        requests = outcome.run.requests,
        "sync finished"
    );
    Ok(outcome)
}

/// Records a run that could not list the organizations as failed.
async fn failed(
    store: &dyn Store,
    mut run: SyncRun,
    error: &str,
    finish: impl Fn(&mut SyncRun),
    started: Instant,
) -> Result<SyncOutcome, store::Error> {
    run.status = SyncStatus::Failed;
    run.errors = vec![SyncError { scope: "organizations".to_owned(), message: error.to_owned() }];
    finish(&mut run);
    store.finish_sync_run(&run).await?;
    tracing::warn!(environment = %run.environment, %error, "sync failed");
    Ok(nothing_done(run, 0, started))
}

fn nothing_done(run: SyncRun, machine_users: u64, started: Instant) -> SyncOutcome {
    SyncOutcome {
        run,
        added: 0,
        removed: 0,
        modified: 0,
        machine_users,
        not_permitted: Vec::new(),
        duration: started.elapsed(),
    }
}

/// The change rows of a run, each with who made it, rendered as the store takes them.
fn change_rows<'a>(
    environment: &'a Environment,
    run: &'a SyncRun,
    observed_at: OffsetDateTime,
    changes: impl Iterator<Item = ObjectChange> + Send + 'a,
    attributor: &'a attribution::Attributor<'_>,
) -> impl Iterator<Item = Change> + Send + 'a {
    changes.map(move |change| Change {
        environment: environment.name.clone(),
        run_id: run.id,
        observed_at,
        attribution: attributor.attribute(&change),
        object_kind: change.object_kind,
        object_key: change.object_key,
        org_id: change.org_id,
        kind: change.kind,
        fields: change.fields,
    })
}
