//! The HTTP server: options, start/shutdown, shared state and the axum router.

mod actions;
mod auth;
mod context;
mod control;
mod dispatch;
mod events;
mod paging;
mod providers;
mod reads_v1;
mod reads_v2;
mod render;
mod routes;
mod sim_api;
mod writes;

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher as _, RandomState};
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use actions::{action_event_body, actions_signature};
pub use control::{Control, Fault, FaultKind};
pub use providers::{AZURE_TENANT, ProbeProviders, ProviderEndpoint};

use crate::estate::Estate;

/// Which API generations the simulated instance offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiSupport {
    /// Only `/management/v1` and `/admin/v1` (an old ZITADEL): `/v2` and `/v2beta` routes answer 404.
    V1Only,
    /// v1 plus the `/v2` and `/v2beta` REST routes.
    #[default]
    V1AndV2,
}

/// How to run a [`Simulator`].
#[derive(Debug)]
pub struct SimulatorOptions {
    /// The instance's data.
    pub estate: Estate,
    /// PAT of the `warden` machine user.
    pub admin_pat: String,
    /// Append one JSON line per ZITADEL API exchange to this file.
    pub exchange_log: Option<PathBuf>,
    /// API generations offered.
    pub api: ApiSupport,
    /// Delay added to every API request.
    pub latency: Duration,
    /// Lifetime of access tokens issued by `/oauth/v2/token`.
    pub access_token_lifetime: Duration,
    /// Federate one identity provider of each kind with real local endpoints, for health probes.
    pub probe_providers: Option<ProbeProviders>,
    /// Issue access tokens as JWTs signed with the instance key (in `/oauth/v2/keys`), as ZITADEL does for
    /// applications set to JWT tokens; otherwise they are opaque.
    pub jwt_access_tokens: bool,
}

impl SimulatorOptions {
    /// Options with defaults: no exchange log, v1 and v2, no latency, 12 h opaque tokens, no providers to probe.
    pub fn new(estate: Estate, admin_pat: impl Into<String>) -> Self {
        Self {
            estate,
            admin_pat: admin_pat.into(),
            exchange_log: None,
            api: ApiSupport::V1AndV2,
            latency: Duration::ZERO,
            access_token_lifetime: Duration::from_secs(12 * 3600),
            probe_providers: None,
            jwt_access_tokens: false,
        }
    }
}

/// A running simulated ZITADEL instance.
#[derive(Debug)]
pub struct Simulator {
    control: Control,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl Simulator {
    /// Binds `address` (port 0 picks a free port) and serves until [`Simulator::shutdown`].
    pub async fn start(options: SimulatorOptions, address: SocketAddr) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let local = listener.local_addr()?;
        let host = if local.ip().is_unspecified() { "127.0.0.1".to_string() } else { local.ip().to_string() };
        let base_url = format!("http://{host}:{}", local.port());
        let mut options = options;
        let mut ldap_listener = None;
        if options.probe_providers.is_some() {
            let ldap = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            // A port that was free a moment ago and has no listener: connections to it are refused.
            let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
            providers::install(&mut options.estate, &base_url, ldap.local_addr()?, closed);
            ldap_listener = Some(ldap);
        }
        let exchange_log = match &options.exchange_log {
            Some(path) => Some(Mutex::new(BufWriter::new(OpenOptions::new().create(true).append(true).open(path)?))),
            None => None,
        };
        let (shutdown, shutdown_signal) = watch::channel(false);
        let token_seed = RandomState::new().hash_one(local.port());
        let mut pats = HashMap::new();
        pats.insert(options.admin_pat.clone(), options.estate.warden_user_id().to_string());
        let shared = Arc::new(Shared {
            estate: Mutex::new(options.estate),
            settings: Mutex::new(Settings { api: options.api, latency: options.latency }),
            faults: Mutex::new(Vec::new()),
            counts: Mutex::new(BTreeMap::new()),
            pats: Mutex::new(pats),
            access_tokens: Mutex::new(HashMap::new()),
            token_rng: Mutex::new(ChaCha8Rng::seed_from_u64(token_seed)),
            exchange_log,
            base_url,
            access_token_lifetime: options.access_token_lifetime,
            shutdown_signal: shutdown_signal.clone(),
            provider_endpoints: Mutex::new(
                providers::ISSUERS.iter().map(|(name, endpoint)| ((*name).to_string(), *endpoint)).collect(),
            ),
            slow_provider_latency: options.probe_providers.as_ref().map_or(Duration::ZERO, |probe| probe.slow_latency),
            signing_jwk: auth::instance_jwk(),
            jwt_access_tokens: options.jwt_access_tokens,
        });
        if let Some(ldap) = ldap_listener {
            tokio::spawn(providers::serve_ldap(ldap, Arc::clone(&shared)));
        }
        let router = router(Arc::clone(&shared));
        let mut signal = shutdown_signal;
        let server = tokio::spawn(async move {
            let stop = async move {
                let _ = signal.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(stop).await {
                tracing::error!(%error, "zitadel-sim server failed");
            }
        });
        Ok(Simulator { control: Control { shared }, shutdown, server })
    }

    /// `http://127.0.0.1:PORT`; also the JWT issuer and the audience assertions must name.
    pub fn base_url(&self) -> String {
        self.control.shared.base_url.clone()
    }

    /// The control handle (cheap to clone).
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops serving; hung requests are released, open connections get 5 s to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut server).await.is_err() {
            server.abort();
        }
    }
}

/// Settings the control API can change at run time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) api: ApiSupport,
    pub(crate) latency: Duration,
}

/// An access token issued by the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub(crate) user_id: String,
    pub(crate) expires_at: tokio::time::Instant,
    /// Whether the token was requested with the ZITADEL API audience scope.
    pub(crate) api_audience: bool,
}

/// A fault with its counters.
#[derive(Debug, Clone)]
pub(crate) struct FaultSlot {
    pub(crate) fault: Fault,
    pub(crate) seen: u32,
    pub(crate) fired: u32,
}

/// State shared by the handlers and the [`Control`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) estate: Mutex<Estate>,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) faults: Mutex<Vec<FaultSlot>>,
    pub(crate) counts: Mutex<BTreeMap<String, u64>>,
    pub(crate) pats: Mutex<HashMap<String, String>>,
    pub(crate) access_tokens: Mutex<HashMap<String, IssuedToken>>,
    pub(crate) token_rng: Mutex<ChaCha8Rng>,
    pub(crate) exchange_log: Option<Mutex<BufWriter<File>>>,
    pub(crate) base_url: String,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) shutdown_signal: watch::Receiver<bool>,
    /// How each simulated identity provider's issuer answers (`providers`).
    pub(crate) provider_endpoints: Mutex<BTreeMap<String, ProviderEndpoint>>,
    pub(crate) slow_provider_latency: Duration,
    /// The public half of the instance's signing key as a JWK, without `kid`.
    pub(crate) signing_jwk: serde_json::Value,
    pub(crate) jwt_access_tokens: bool,
}

impl Shared {
    pub(crate) fn count(&self, key: &str) {
        *lock(&self.counts).entry(key.to_string()).or_default() += 1;
    }

    /// Appends one exchange to the log (if enabled) and flushes it.
    pub(crate) fn log_exchange(&self, verb: &str, path: &str, body: &str, response: &str) {
        let Some(log) = &self.exchange_log else { return };
        let line = serde_json::json!({"verb": verb, "path": path, "body": body, "response": response}).to_string();
        let mut writer = lock(log);
        let written = writeln!(writer, "{line}").and_then(|()| writer.flush());
        if let Err(error) = written {
            tracing::warn!(%error, "could not write the exchange log");
        }
    }

    /// The instance's public signing key as a JWK with this `kid`.
    pub(crate) fn signing_key(&self, key_id: &str) -> serde_json::Value {
        let mut key = self.signing_jwk.clone();
        key["kid"] = serde_json::Value::from(key_id);
        key["use"] = serde_json::Value::from("sig");
        key
    }

    /// Resolves when the simulator shuts down.
    pub(crate) async fn stopped(&self) {
        let mut signal = self.shutdown_signal.clone();
        let _ = signal.wait_for(|stop| *stop).await;
    }
}

/// Locks a mutex, ignoring poisoning (state stays usable after a panicking test thread).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/debug/healthz", get(|| async { "ok" }))
        .route("/debug/ready", get(|| async { "\"ok\"" }))
        .route("/.well-known/openid-configuration", get(auth::discovery))
        .route("/oauth/v2/keys", get(auth::keys))
        .route("/oauth/v2/token", post(auth::token_endpoint))
        .nest("/__sim", sim_api::router())
        .nest("/__idp", providers::router())
        .fallback(dispatch::api_request)
        .with_state(shared)
}
