//! The application layer: every operation warden offers, built once around the store, the typed [`Settings`], a
//! ZITADEL client per environment and a [`Clock`]. The front ends (CLI, SCIM HTTP, and the scheduler, GraphQL API
//! and web workspace to come) are thin callers of [`App`]; none of them calls the store's writes, ZITADEL or the
//! clock on its own, and none calls another front end.
//!
//! The operations, by capability (a new operation goes where its capability is):
//! - `sync`: sync an environment (fetch, reconcile, store, govern) and deliver notifications.
//! - `report`: findings and the service-account inventory, as `warden report` shows them.
//! - `history`: the change log, access at a point in time, trends, cross-environment comparison, exports.
//! - `alerts`: tracked findings, suppressions, alerts and the audit log: what operators act on.
//! - `scim_admin`: SCIM connections: create, rotate, disable, their activity and request log.
//! - `scim_records`: the SCIM record writes (create, replace, patch, delete a User or Group), which the SCIM
//!   server and its `/Bulk` call and provisioning extends. `tokens`: SCIM tokens and ids. `compute`: the bounded
//!   pool CPU-heavy protocol work runs on, off the async runtime.
//! - `health`: provider health: probing ZITADEL and its identity providers, their status and its changes.
//! - `maintenance`: retention and planner statistics. `lease`: how one process at a time runs a job.
//! - `push`: syncs ZITADEL's Actions v2 asks for (a verified event: sync now), through each environment's
//!   `signal`.
//!
//! `settings` parses the configuration once; `clock` is the one place the time is read.

pub mod alerts;
pub mod clock;
pub mod compute;
pub mod health;
pub mod history;
pub mod lease;
pub mod maintenance;
pub mod provisioning;
pub mod push;
pub mod report;
pub mod scim_admin;
pub mod scim_records;
pub mod settings;
pub mod signal;
pub mod sync;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use warden_core::access_history::AccessHistoryError;
use warden_core::id::EnvironmentName;
use warden_zitadel::{ClientOptions, ZitadelClient};

use crate::config::CredentialError;
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::store::{self, Store};

pub use clock::{Clock, FixedClock, SystemClock};
pub use settings::{EnvironmentSettings, ScimSettings, Settings};
pub use signal::{PendingPushes, PushSignal, PushedEvent};

/// How long one request to ZITADEL may take, connection to last byte.
const ZITADEL_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What an operation can fail with. Store failures keep their cause; everything else is a sentence for the
/// operator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("no environment named {name:?} is configured (configured: {configured})")]
    UnknownEnvironment { name: String, configured: String },
    #[error("no environments are configured: add [[environments]] to the configuration")]
    NoEnvironments,
    #[error("environments[{environment}] credential: {source}")]
    Credential { environment: EnvironmentName, source: CredentialError },
    #[error("environments[{environment}]: {source}")]
    ZitadelClient { environment: EnvironmentName, source: warden_zitadel::Error },
    /// Another process holds the environment's sync lease.
    #[error("a sync of {environment} is already running ({holder}, since {since})")]
    SyncRunning { environment: EnvironmentName, holder: String, since: OffsetDateTime },
    /// A renewal found the job's lease taken by another holder; the job stopped.
    #[error("lost the lease {lease} to another holder; the job stopped")]
    LeaseLost { lease: String },
    /// Probing cannot be set up (its HTTP clients or trusted roots).
    #[error("cannot probe: {0}")]
    Probe(String),
    /// An argument the operation refuses (an empty reason, a reserved operator name, ...).
    #[error("{0}")]
    Invalid(String),
    /// What the operation was asked about does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    AccessHistory(#[from] AccessHistoryError),
}

/// The application: cheap to clone, shared by every front end and background job of a process.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    settings: Settings,
    clock: Arc<dyn Clock>,
    /// Built on first use (reading the credential then), kept for the process's life.
    zitadel_clients: Mutex<HashMap<EnvironmentName, Arc<ZitadelClient>>>,
    /// The HTTP client webhooks are delivered with, built on first use.
    webhook_client: OnceLock<reqwest::Client>,
    /// Probes providers with one set of clients (and roots), built on first use.
    prober: OnceLock<Prober>,
    metrics: Metrics,
    /// Names this process in leases and in the runs it starts: host, process id and a random suffix.
    holder: String,
    /// Whether this process's scheduler runs: `None` where there is none (a command, the demo).
    scheduler_running: Mutex<Option<bool>>,
    /// Per configured environment: the pushes (ZITADEL Actions calls) waiting for its sync loop.
    push_signals: HashMap<EnvironmentName, Arc<PushSignal>>,
}

impl App {
    pub fn new(settings: Settings, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> App {
        let metrics = Metrics::new();
        let environments: Vec<String> = settings.environment_names().iter().map(ToString::to_string).collect();
        metrics.register_environments(&environments);
        let push_signals = settings.environment_names().into_iter().map(|name| (name, Arc::default())).collect();
        App {
            inner: Arc::new(Inner {
                store,
                settings,
                clock,
                zitadel_clients: Mutex::default(),
                webhook_client: OnceLock::new(),
                prober: OnceLock::new(),
                metrics,
                holder: holder_id(),
                scheduler_running: Mutex::new(None),
                push_signals,
            }),
        }
    }

    /// Opens the configured database, brings its schema up to date, and reads the system clock.
    pub async fn open(settings: Settings) -> Result<App, Error> {
        let store = store::open_and_migrate(&settings.database_url).await?;
        Ok(App::new(settings, store, Arc::new(SystemClock)))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// How this process is named in leases and in the runs it starts.
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    /// Records that this process's scheduler started (`true`) or stopped (`false`).
    pub fn set_scheduler_running(&self, running: bool) {
        *self.inner.scheduler_running.lock().unwrap_or_else(PoisonError::into_inner) = Some(running);
    }

    /// Whether this process's scheduler stopped (a process without one never reports stopped).
    pub fn scheduler_stopped(&self) -> bool {
        *self.inner.scheduler_running.lock().unwrap_or_else(PoisonError::into_inner) == Some(false)
    }

    /// The environment's push signal (`None` for an environment not configured).
    pub fn push_signal(&self, environment: &EnvironmentName) -> Option<Arc<PushSignal>> {
        self.inner.push_signals.get(environment).cloned()
    }

    /// What `/metrics` exposes; operations record into it.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The configured environment of this name.
    pub fn environment(&self, name: &str) -> Result<&EnvironmentSettings, Error> {
        self.inner.settings.environment(name).ok_or_else(|| Error::UnknownEnvironment {
            name: name.to_owned(),
            configured: self
                .inner
                .settings
                .environments
                .iter()
                .map(|entry| entry.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Every configured environment, or the one `only` names; never none.
    pub fn environments(&self, only: Option<&str>) -> Result<Vec<&EnvironmentSettings>, Error> {
        let selected = match only {
            Some(name) => vec![self.environment(name)?],
            None => self.inner.settings.environments.iter().collect(),
        };
        if selected.is_empty() {
            return Err(Error::NoEnvironments);
        }
        Ok(selected)
    }

    /// The environment's ZITADEL client, built (and its credential read) on first use.
    pub fn zitadel(&self, environment: &EnvironmentName) -> Result<Arc<ZitadelClient>, Error> {
        let mut clients = self.inner.zitadel_clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(environment) {
            return Ok(client.clone());
        }
        let entry = self.environment(environment.as_str())?;
        let credential = entry
            .credential
            .resolve()
            .map_err(|source| Error::Credential { environment: environment.clone(), source })?;
        let mut options = ClientOptions::new(entry.environment.url.clone(), credential);
        options.api = entry.environment.api.clone();
        options.rate_limit = entry.rate_limit;
        options.concurrency = entry.concurrency;
        options.page_size = entry.page_size;
        options.timeout = ZITADEL_REQUEST_TIMEOUT;
        let client = Arc::new(
            ZitadelClient::new(options)
                .map_err(|source| Error::ZitadelClient { environment: environment.clone(), source })?,
        );
        clients.insert(environment.clone(), client.clone());
        Ok(client)
    }

    /// Uses `client` for `environment` from now on: for a credential that is not configured but handed over (the
    /// demo's simulator, tests).
    pub fn use_zitadel_client(&self, environment: EnvironmentName, client: ZitadelClient) {
        let mut clients = self.inner.zitadel_clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.insert(environment, Arc::new(client));
    }

    /// The prober of provider health, built on first use from `[probes]`.
    pub fn prober(&self) -> Result<Prober, Error> {
        if let Some(prober) = self.inner.prober.get() {
            return Ok(prober.clone());
        }
        let prober =
            Prober::new(self.inner.settings.probes.clone()).map_err(|error| Error::Probe(error.to_string()))?;
        Ok(self.inner.prober.get_or_init(|| prober).clone())
    }

    /// The client webhooks are delivered with; `None` (logged) when no HTTP client can be built here.
    pub(crate) fn webhook_client(&self) -> Option<reqwest::Client> {
        if let Some(client) = self.inner.webhook_client.get() {
            return Some(client.clone());
        }
        match reqwest::Client::builder().build() {
            Ok(client) => Some(self.inner.webhook_client.get_or_init(|| client).clone()),
            Err(error) => {
                tracing::error!(%error, "cannot build the webhook client");
                None
            }
        }
    }
}

/// `host:pid:random`: unique per process, readable in `warden runs` and in a refused `warden sync`.
fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let suffix: u16 = rand::random();
    format!("{host}:{}:{suffix:04x}", std::process::id())
}
