//! Syncing: one environment's run through the whole pipeline (fetch and reconcile with [`sync_once`], then govern
//! what was stored with [`govern_once`]), and the delivery of the notifications governance queued.

use time::OffsetDateTime;
use warden_core::id::EnvironmentName;
use warden_core::model::{ResourceKind, SyncError, SyncStatus};
use warden_core::reconcile::RemovalGuard;

use crate::app::lease::{self, Acquired, HeldLease};
use crate::app::{App, Error};
use crate::govern::notify::{self, DeliveryOutcome};
use crate::govern::{GovernOutcome, govern_once};
use crate::metrics::ZitadelRequests;
use crate::sync::{SyncOptions, SyncOutcome, lease_name, sync_once};

/// How a run treats what it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncRequest {
    /// Record every removal the run finds, even more than the environment's `removal_guard_percent` allows (an
    /// operator checked that the deletions in ZITADEL are real).
    pub accept_removals: bool,
    /// Read everything, even where the events since the last run would do (`warden sync --full`).
    pub full: bool,
}

/// What one environment's run did.
#[derive(Debug, Clone)]
pub struct EnvironmentSync {
    pub environment: EnvironmentName,
    pub outcome: SyncOutcome,
    /// What governance did after the run; `None` when the run stored nothing (failed) or governing failed (logged;
    /// the next run evaluates again).
    pub governed: Option<GovernOutcome>,
}

impl EnvironmentSync {
    /// Objects of `kind` the store holds after the run.
    pub fn count(&self, kind: ResourceKind) -> u64 {
        self.outcome.run.counts.get(&kind).copied().unwrap_or_default()
    }

    pub fn machine_users(&self) -> u64 {
        self.outcome.machine_users
    }

    pub fn human_users(&self) -> u64 {
        self.count(ResourceKind::User).saturating_sub(self.outcome.machine_users)
    }
}

/// Syncs `environment` now, under its lease: reads it from ZITADEL, records what changed, then evaluates its
/// findings, trend and alerts on what the store now holds and queues their notifications. Only store failures, an
/// environment that cannot be reached for lack of configuration or credential, and a sync already running elsewhere
/// ([`Error::SyncRunning`]) are errors; everything ZITADEL does is recorded in the run.
pub async fn sync_environment(
    app: &App,
    environment: &EnvironmentName,
    request: SyncRequest,
) -> Result<EnvironmentSync, Error> {
    let lease = match lease::acquire(app, &lease_name(environment)).await? {
        Acquired::Held(lease) => lease,
        Acquired::Busy(lease) => {
            return Err(Error::SyncRunning {
                environment: environment.clone(),
                holder: lease.holder,
                since: lease.acquired_at,
            });
        }
    };
    let synced = under_lease(app, environment, request, &lease).await;
    lease.release().await;
    synced
}

/// What the scheduler's sync step did.
#[derive(Debug)]
pub enum ScheduledSync {
    /// The environment's last run started less than its interval ago (here or in another process).
    NotDue {
        next_at: OffsetDateTime,
    },
    /// Another process is syncing it.
    Busy {
        holder: String,
    },
    Ran(Box<EnvironmentSync>),
}

/// The scheduler's step for one environment: syncs it if its last run (by any process) started at least its
/// `sync_interval` ago, or never ran. Checked again once the lease is held, so that of several replicas waking at
/// once, one syncs and the others find it done.
pub async fn sync_if_due(app: &App, environment: &EnvironmentName) -> Result<ScheduledSync, Error> {
    if let Some(next_at) = next_due(app, environment).await? {
        return Ok(ScheduledSync::NotDue { next_at });
    }
    let lease = match lease::acquire(app, &lease_name(environment)).await? {
        Acquired::Held(lease) => lease,
        Acquired::Busy(lease) => return Ok(ScheduledSync::Busy { holder: lease.holder }),
    };
    if let Some(next_at) = next_due(app, environment).await? {
        lease.release().await;
        return Ok(ScheduledSync::NotDue { next_at });
    }
    let synced = under_lease(app, environment, SyncRequest::default(), &lease).await;
    lease.release().await;
    Ok(ScheduledSync::Ran(Box::new(synced?)))
}

/// When the environment is next due, or `None` when it is due now: its last run started `sync_interval` before,
/// or it never ran, or its last run is still marked running (then the lease tells whether it really is).
pub async fn next_due(app: &App, environment: &EnvironmentName) -> Result<Option<OffsetDateTime>, Error> {
    let interval = app.environment(environment.as_str())?.sync_interval;
    let last = app.store().list_sync_runs(environment, 1).await?.into_iter().next();
    Ok(match last {
        Some(run) if run.status != SyncStatus::Running => {
            let next_at = run.started_at + interval;
            (next_at > app.now()).then_some(next_at)
        }
        _ => None,
    })
}

/// After a shutdown abandoned this process's sync of `environment`: its run is marked interrupted and its lease
/// given up, so that another replica takes over at once.
pub async fn abandon(app: &App, environment: &EnvironmentName) -> Result<(), Error> {
    let interrupted = SyncError {
        scope: "run".to_owned(),
        message: "interrupted: the process was shut down before the run finished".to_owned(),
    };
    let marked = app.store().interrupt_sync_runs(environment, app.holder(), &interrupted, app.now()).await?;
    if marked > 0 {
        tracing::warn!(%environment, marked, "abandoned the running sync at shutdown");
    }
    app.store().release_lease(&lease_name(environment), app.holder()).await?;
    Ok(())
}

/// The pipeline, stopped if the lease is lost to another holder (its run is then left for the new holder to mark
/// interrupted).
async fn under_lease(
    app: &App,
    environment: &EnvironmentName,
    request: SyncRequest,
    lease: &HeldLease,
) -> Result<EnvironmentSync, Error> {
    tokio::select! {
        synced = pipeline(app, environment, request) => synced,
        () = lease.lost() => Err(Error::LeaseLost { lease: lease_name(environment) }),
    }
}

async fn pipeline(app: &App, environment: &EnvironmentName, request: SyncRequest) -> Result<EnvironmentSync, Error> {
    let settings = app.environment(environment.as_str())?;
    let client = app.zitadel(environment)?;
    let options = SyncOptions {
        removal_guard: (!request.accept_removals)
            .then_some(RemovalGuard { max_percent: settings.removal_guard_percent, ..RemovalGuard::default() }),
        holder: Some(app.holder().to_owned()),
        full: request.full,
        full_sync_interval: settings.full_sync_interval,
        metadata: settings.metadata.clone(),
    };
    let now = app.now();
    let store = app.store();
    let before = ZitadelRequests::of(&client.stats());
    let outcome = sync_once(&settings.environment, &client, &**store, options, now).await?;
    let requests = ZitadelRequests::of(&client.stats()).since(before);
    app.metrics().record_sync(&outcome.run, outcome.duration, requests);
    let governed = if outcome.run.status == SyncStatus::Failed {
        None
    } else {
        match govern_once(environment, Some(outcome.run.id), &**store, &app.settings().governance, now).await {
            Ok(governed) => Some(governed),
            Err(error) => {
                tracing::error!(%environment, %error, "cannot evaluate findings");
                None
            }
        }
    };
    Ok(EnvironmentSync { environment: environment.clone(), outcome, governed })
}

/// One round of webhook delivery: every notification due now, one attempt each. Runs after the syncs' results are
/// stored, so a slow or failing endpoint delays nothing but its own notifications (retried with backoff by the
/// next round). `None` when no webhook is configured or the round could not run (logged).
pub async fn deliver_notifications(app: &App) -> Option<DeliveryOutcome> {
    let webhooks = &app.settings().governance.webhooks;
    if webhooks.is_empty() {
        return None;
    }
    let http = app.webhook_client()?;
    match notify::deliver_due(&**app.store(), app.holder(), webhooks, &http, app.now()).await {
        Ok(outcome) => {
            tracing::info!(?outcome, "notifications");
            app.metrics().record_deliveries(&outcome);
            Some(outcome)
        }
        Err(error) => {
            tracing::error!(%error, "cannot deliver notifications");
            None
        }
    }
}
