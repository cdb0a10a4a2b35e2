//! The background work of `warden serve`: each job is one step of the application layer
//! (`app::push::sync_if_due_or_pushed`, which is `app::sync::sync_if_due` unless ZITADEL pushed an event,
//! `app::health::probe_if_due`, `app::provisioning::provision_once`, `app::sync::deliver_notifications`,
//! `app::maintenance::apply_retention`, `app::maintenance::refresh_statistics`),
//! and the loops here only wait between steps. Jobs that must run once across replicas take a lease inside their
//! step; delivery claims each notification instead.
//!
//! [`Scheduler::shutdown`] stops every loop from starting another step, gives running steps `[server]
//! shutdown_grace` to finish, and abandons the rest: a sync cut off is marked interrupted and its lease released.

use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;
use warden_core::id::EnvironmentName;

use crate::app::App;
use crate::app::health::{ScheduledProbe, needs_attention, probe_if_due};
use crate::app::push::sync_if_due_or_pushed;
use crate::app::sync::{ScheduledSync, abandon, deliver_notifications};
use crate::app::{maintenance, provisioning};

/// How often due notifications are looked for.
pub const NOTIFICATION_INTERVAL: Duration = Duration::from_secs(15);
/// How often the SCIM connections' health is judged (a transition opens or resolves its alert within this).
pub const CONNECTION_HEALTH_INTERVAL: Duration = Duration::from_secs(30);
/// How often an idle provisioning worker looks for new operations.
pub const PROVISIONING_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Provisioning workers per process. A step waits for its slowest operation before it claims more, so with one
/// worker the environment's request slots idle through every step's tail and the next step's claims; a second
/// worker's step keeps them busy meanwhile. Claims are exclusive, and a user's next operation is claimable only once
/// the one before is done, so workers (like replicas) never apply one user's operations out of order.
const PROVISIONING_WORKERS: usize = 2;
/// How often retention prunes what has aged out.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(3_600);
/// How often the tables' growth is checked for stale planner statistics.
pub const STATISTICS_INTERVAL: Duration = Duration::from_secs(10);
/// A sync step that found another process syncing looks again this soon.
const BUSY_RETRY: Duration = Duration::from_secs(2);
/// A step that failed (the database is away, say) is tried again this soon.
const FAILURE_RETRY: Duration = Duration::from_secs(10);

/// The running background jobs of one process.
pub struct Scheduler {
    app: App,
    stop: watch::Sender<bool>,
    jobs: JoinSet<()>,
}

impl Scheduler {
    /// Starts a loop per configured environment's sync, and one each for notifications, retention and planner
    /// statistics.
    pub fn start(app: &App) -> Scheduler {
        let (stop, stopping) = watch::channel(false);
        let mut jobs = JoinSet::new();
        for environment in app.settings().environment_names() {
            let span = tracing::info_span!("job", job = "sync", %environment);
            jobs.spawn(sync_loop(app.clone(), environment.clone(), stopping.clone()).instrument(span));
            let span = tracing::info_span!("job", job = "probe", %environment);
            jobs.spawn(probe_loop(app.clone(), environment, stopping.clone()).instrument(span));
        }
        for worker in 0..PROVISIONING_WORKERS {
            let span = tracing::info_span!("job", job = "provisioning", worker);
            jobs.spawn(provisioning_loop(app.clone(), stopping.clone()).instrument(span));
        }
        jobs.spawn(every(
            app.clone(),
            "connection-health",
            CONNECTION_HEALTH_INTERVAL,
            stopping.clone(),
            |app| async move {
                if let Err(error) = provisioning::health::watch_connections(&app).await {
                    tracing::error!(%error, "cannot judge the SCIM connections' health");
                }
            },
        ));
        jobs.spawn(every(app.clone(), "notifications", NOTIFICATION_INTERVAL, stopping.clone(), |app| async move {
            deliver_notifications(&app).await;
        }));
        jobs.spawn(every(app.clone(), "retention", RETENTION_INTERVAL, stopping.clone(), |app| async move {
            if let Err(error) = maintenance::apply_retention(&app).await {
                tracing::error!(%error, "retention failed");
            }
        }));
        jobs.spawn(every(app.clone(), "statistics", STATISTICS_INTERVAL, stopping, |app| async move {
            if let Err(error) = maintenance::refresh_statistics(&app).await {
                tracing::error!(%error, "cannot refresh planner statistics");
            }
        }));
        app.set_scheduler_running(true);
        Scheduler { app: app.clone(), stop, jobs }
    }

    /// Stops starting steps, waits up to `grace` for the running ones, then abandons what is left.
    pub async fn shutdown(mut self, grace: Duration) {
        self.app.set_scheduler_running(false);
        let _ = self.stop.send(true);
        let drained = tokio::time::timeout(grace, async { while self.jobs.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                grace_seconds = grace.as_secs(),
                "jobs still running after the grace period; abandoning them"
            );
            self.jobs.shutdown().await;
            for environment in self.app.settings().environment_names() {
                if let Err(error) = abandon(&self.app, &environment).await {
                    tracing::error!(%environment, %error, "cannot mark the abandoned sync interrupted");
                }
            }
        }
    }
}

/// Syncs `environment` whenever it is due, or at once when ZITADEL pushed an event, until stopped.
async fn sync_loop(app: App, environment: EnvironmentName, mut stopping: watch::Receiver<bool>) {
    let signal = app.push_signal(&environment).unwrap_or_default();
    loop {
        if *stopping.borrow() {
            return;
        }
        let wait = match sync_if_due_or_pushed(&app, &environment).await {
            Ok(ScheduledSync::Ran(synced)) => {
                tracing::info!(run = synced.outcome.run.id.0, status = %synced.outcome.run.status, "scheduled sync");
                // What governance just queued goes out now, not at the next delivery round.
                if synced.governed.as_ref().is_some_and(|governed| governed.notifications_queued > 0) {
                    deliver_notifications(&app).await;
                }
                Duration::ZERO
            }
            Ok(ScheduledSync::NotDue { next_at }) => until(&app, next_at) + jitter(&app, &environment),
            Ok(ScheduledSync::Busy { holder }) => {
                tracing::debug!(%holder, "another process is syncing");
                BUSY_RETRY
            }
            Err(error) => {
                tracing::error!(%error, "scheduled sync failed");
                FAILURE_RETRY
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::timeout(wait, stopping.wait_for(|stop| *stop)) => {}
            () = signal.pushed() => {}
        }
    }
}

/// Probes `environment`'s ZITADEL and identity providers whenever they are due, until stopped.
async fn probe_loop(app: App, environment: EnvironmentName, mut stopping: watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let wait = match probe_if_due(&app, &environment).await {
            Ok(ScheduledProbe::Ran(round)) => {
                let attention = round.providers.iter().filter(|provider| needs_attention(provider.status)).count();
                tracing::info!(targets = round.providers.len(), attention, changes = round.changes.len(), "probed");
                if round.governed.as_ref().is_some_and(|governed| governed.notifications_queued > 0) {
                    deliver_notifications(&app).await;
                }
                Duration::ZERO
            }
            Ok(ScheduledProbe::NotDue { next_at }) => until(&app, next_at),
            Ok(ScheduledProbe::Busy) => BUSY_RETRY,
            Err(error) => {
                tracing::error!(%error, "scheduled probes failed");
                FAILURE_RETRY
            }
        };
        if !wait.is_zero() && tokio::time::timeout(wait, stopping.wait_for(|stop| *stop)).await.is_ok() {
            return;
        }
    }
}

/// Applies the provisioning outbox: right away while there is work, polling every
/// [`PROVISIONING_POLL_INTERVAL`] when there is none.
async fn provisioning_loop(app: App, mut stopping: watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let wait = match provisioning::provision_once(&app).await {
            Ok(outcome) if outcome.claimed > 0 => {
                tracing::debug!(?outcome, "provisioned");
                Duration::ZERO
            }
            Ok(_) => PROVISIONING_POLL_INTERVAL,
            Err(error) => {
                tracing::error!(%error, "provisioning step failed");
                FAILURE_RETRY
            }
        };
        if !wait.is_zero() && tokio::time::timeout(wait, stopping.wait_for(|stop| *stop)).await.is_ok() {
            return;
        }
    }
}

/// Runs `step` every `interval` (the first right away), until stopped.
async fn every<F, Fut>(app: App, job: &'static str, interval: Duration, mut stopping: watch::Receiver<bool>, step: F)
where
    F: Fn(App) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        if *stopping.borrow() {
            return;
        }
        step(app.clone()).instrument(tracing::debug_span!("job", job)).await;
        if tokio::time::timeout(interval, stopping.wait_for(|stop| *stop)).await.is_ok() {
            return;
        }
    }
}

/// How long until `at`, by the application's clock.
fn until(app: &App, at: OffsetDateTime) -> Duration {
    let left = at - app.now();
    Duration::try_from(left).unwrap_or(Duration::ZERO)
}

/// Up to a tenth of the environment's interval (at most a minute), at random: replicas that start together do not
/// wake together for ever.
fn jitter(app: &App, environment: &EnvironmentName) -> Duration {
    let interval = app
        .environment(environment.as_str())
        .map(|entry| Duration::try_from(entry.sync_interval).unwrap_or(Duration::ZERO))
        .unwrap_or(Duration::ZERO);
    let most = (interval / 10).min(Duration::from_secs(60));
    if most.is_zero() { Duration::ZERO } else { rand::rng().random_range(Duration::ZERO..=most) }
}
