//! `sync_once`: read one environment completely, reconcile it with the store, record the changes. One testable
//! step; `warden sync` and the scheduler are loops around it.

mod attribution;
mod fetch;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use warden_core::model::{Change, ChangeKind, Environment, ResourceKind, Snapshot, SyncError, SyncRun, SyncStatus};
use warden_core::reconcile::{ObjectChange, Reconciliation, reconcile};
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
    /// The recorded run: status, counts of what the store holds now, errors, requests and retries.
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

/// Reads `environment` through `client`, reconciles it with what `store` holds, and applies the result in one
/// transaction. `now` is the run's start and the observation time of its changes.
///
/// A failure to list the organizations fails the run; any other failed list makes it `partial` and leaves its
/// scope as stored. Only store errors are returned as errors; everything ZITADEL does is recorded in the run.
pub async fn sync_once(
    environment: &Environment,
    client: &ZitadelClient,
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<SyncOutcome, store::Error> {
    let started = Instant::now();
    let stats = client.stats();
    let (requests_before, retries_before) = (stats.requests(), stats.retries());
    store.upsert_environment(environment).await?;
    let previous_start = store.list_sync_runs(&environment.name, 1).await?.first().map(|run| run.started_at);
    let mut run = store.start_sync_run(&environment.name, now).await?;
    tracing::info!(environment = %environment.name, run = %run.id, "sync started");

    let fetched = fetch::fetch_estate(client, &environment.orgs).await;
    let finish = |run: &mut SyncRun| {
        run.finished_at = Some(now + started.elapsed());
        run.requests = stats.requests() - requests_before;
        run.retries = stats.retries() - retries_before;
    };
    let fetched = match fetched {
        Ok(fetched) => fetched,
        Err(error) => {
            run.status = SyncStatus::Failed;
            run.errors = vec![SyncError { scope: "organizations".to_owned(), message: error.to_string() }];
            finish(&mut run);
            store.finish_sync_run(&run).await?;
            tracing::warn!(environment = %environment.name, %error, "sync failed");
            return Ok(SyncOutcome {
                run,
                added: 0,
                removed: 0,
                modified: 0,
                machine_users: 0,
                not_permitted: Vec::new(),
                duration: started.elapsed(),
            });
        }
    };

    // Kind by kind, largest first, so that a large estate is never held twice: each fetched kind is consumed as it
    // is compared with the stored one, which is loaded only for that comparison.
    let mut remaining = fetched.snapshot;
    let mut reconciliation = Reconciliation::default();
    let mut stored_counts = BTreeMap::new();
    let mut stored_machine_users = 0;
    for kind in RECONCILE_ORDER {
        let stored = store.list_objects(&environment.name, kind).await?;
        stored_counts.insert(kind, stored.len() as u64);
        let stored = Snapshot::of(stored);
        stored_machine_users += stored.users.iter().filter(|user| user.is_machine()).count() as u64;
        let part = reconcile(&stored, Snapshot::of(remaining.take(kind)), &fetched.unknown);
        reconciliation.changes.extend(part.changes);
        reconciliation.removals.extend(part.removals);
        reconciliation.upserts.append(part.upserts);
    }
    let baseline = stored_counts.values().all(|count| *count == 0);
    // Events explain changes since the previous run began.
    let events = match previous_start {
        Some(since) if !reconciliation.changes.is_empty() && !baseline => attribution::read_events(client, since).await,
        _ => None,
    };
    let attributor = attribution::Attributor::new(events.as_deref().unwrap_or_default());
    // The first sync of an environment is its baseline: everything is stored, nothing is "a change" yet (a large
    // estate would otherwise write a change row, with every field, for each of its objects).
    let changes = if baseline { Vec::new() } else { change_rows(environment, &run, now, &reconciliation, &attributor) };
    run.counts = counts_after(&stored_counts, &reconciliation);
    run.status = if fetched.errors.is_empty() { SyncStatus::Ok } else { SyncStatus::Partial };
    run.errors = fetched.errors;
    finish(&mut run);
    let writes = SyncWrites {
        upserts: &reconciliation.upserts,
        removals: &reconciliation.removals,
        changes: &changes,
        run: &run,
    };
    store.apply_sync(&environment.name, &writes).await?;

    let outcome = SyncOutcome {
        added: reconciliation.count(&ChangeKind::Added),
        removed: reconciliation.count(&ChangeKind::Removed),
        modified: reconciliation.count(&ChangeKind::Modified),
        machine_users: machine_users_after(stored_machine_users, &reconciliation),
        not_permitted: fetched.not_permitted,
        duration: started.elapsed(),
        run,
    };
    tracing::info!(
        environment = %environment.name,
        run = %outcome.run.id,
        status = %outcome.run.status,
        added = outcome.added,
        removed = outcome.removed,
        modified = outcome.modified,
        requests = outcome.run.requests,
        "sync finished"
    );
    Ok(outcome)
}

fn change_rows(
    environment: &Environment,
    run: &SyncRun,
    observed_at: OffsetDateTime,
    reconciliation: &Reconciliation,
    attributor: &attribution::Attributor<'_>,
) -> Vec<Change> {
    reconciliation
        .changes
        .iter()
        .map(|change| Change {
            environment: environment.name.clone(),
            run_id: run.id,
            observed_at,
            object_kind: change.object_kind,
            object_key: change.object_key.clone(),
            org_id: change.org_id.clone(),
            kind: change.kind.clone(),
            fields: change.fields.clone(),
            attribution: attributor.attribute(change),
        })
        .collect()
}

/// Machine users after the sync: those stored, plus machine users added, minus machine users removed (ZITADEL never
/// turns a person into a machine user or back).
fn machine_users_after(stored: u64, reconciliation: &Reconciliation) -> u64 {
    let is_machine = |change: &ObjectChange| {
        change
            .fields
            .iter()
            .any(|field| field.field == "kind" && field.before.as_deref().or(field.after.as_deref()) == Some("machine"))
    };
    let users = reconciliation.changes.iter().filter(|change| change.object_kind == ResourceKind::User);
    let (added, removed) =
        users.filter(|change| is_machine(change)).fold((0, 0), |(added, removed), change| match change.kind {
            ChangeKind::Added => (added + 1, removed),
            ChangeKind::Removed => (added, removed + 1),
            _ => (added, removed),
        });
    (stored + added).saturating_sub(removed)
}

/// What the store holds after the sync, per kind: before, plus additions, minus removals.
fn counts_after(before: &BTreeMap<ResourceKind, u64>, reconciliation: &Reconciliation) -> BTreeMap<ResourceKind, u64> {
    let mut counts = before.clone();
    for change in &reconciliation.changes {
        let count = counts.entry(change.object_kind).or_default();
        match change.kind {
            ChangeKind::Added => *count += 1,
            ChangeKind::Removed => *count = count.saturating_sub(1),
            _ => {}
        }
    }
    counts
}
