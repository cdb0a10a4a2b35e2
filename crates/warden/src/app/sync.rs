//! Syncing: one environment's run through the whole pipeline (fetch and reconcile with [`sync_once`], then govern
//! what was stored with [`govern_once`]), and the delivery of the notifications governance queued.

use warden_core::id::EnvironmentName;
use warden_core::model::{ResourceKind, SyncStatus};
use warden_core::reconcile::RemovalGuard;

use crate::app::{App, Error};
use crate::govern::notify::{self, DeliveryOutcome};
use crate::govern::{GovernOutcome, govern_once};
use crate::metrics::ZitadelRequests;
use crate::sync::{SyncOptions, SyncOutcome, sync_once};

/// How a run treats what it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncRequest {
    /// Record every removal the run finds, even more than the environment's `removal_guard_percent` allows (an
    /// operator checked that the deletions in ZITADEL are real).
    pub accept_removals: bool,
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

/// Syncs `environment` now: reads it from ZITADEL, records what changed, then evaluates its findings, trend and
/// alerts on what the store holds and queues their notifications. Only store failures (and an environment that
/// cannot be reached for lack of configuration or credential) are errors; everything ZITADEL does is recorded in
/// the run.
pub async fn sync_environment(
    app: &App,
    environment: &EnvironmentName,
    request: SyncRequest,
) -> Result<EnvironmentSync, Error> {
    let settings = app.environment(environment.as_str())?;
    let client = app.zitadel(environment)?;
    let options = SyncOptions {
        removal_guard: (!request.accept_removals)
            .then_some(RemovalGuard { max_percent: settings.removal_guard_percent, ..RemovalGuard::default() }),
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
        match govern_once(environment, outcome.run.id, &**store, &app.settings().governance, now).await {
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
    match notify::deliver_due(&**app.store(), webhooks, &http, app.now()).await {
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
