//! Provider health probes: the I/O half of `warden_core::health`. One function per kind of target (ZITADEL itself,
//! OIDC/Azure AD/GitLab issuers, JWT and OAuth providers, SAML metadata, LDAP servers, configuration-only social
//! providers) records checks, certificates and key counts into a `warden_core::health::ProbeResult`;
//! [`probe_all`] runs many targets concurrently, at most `concurrency` at a time.
//!
//! Provider URLs come from ZITADEL configuration, which an organization's admin can edit: they are hostile. Every
//! exchange has a deadline (connect, request, and the whole probe), redirects and response sizes are capped, no
//! credential is sent to a provider (the one token exchange goes to ZITADEL itself), and special-purpose addresses
//! (private, loopback, link-local, ...) are refused before any connection unless `allow_private` is set
//! (`address`). ZITADEL's own URL is warden's configuration and may be private.
//!
//! Usage: `targets_from(environment, identity providers)` plus `zitadel_target(...)`, then
//! `probe_all(targets, &settings, now)`; the results go to `ProbeStore::record_probes` and
//! `warden_core::health::evaluate_all`.

mod address;
mod certificate;
mod http;
mod ldap;
mod oidc;
mod saml;
mod targets;
mod zitadel;

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use warden_core::health::{Certificate, CertificateUse, Check, KeySummary, ProbeResult, Target};

pub use ldap::LdapConfiguration;
pub use saml::SamlConfiguration;
pub use targets::{ProbePlan, ProbeTarget, targets_from, zitadel_target};

use crate::probe::http::{Fetched, HttpClient};
use crate::probe::oidc::ExpectedIssuer;

/// How probes run: deadlines, caps, concurrency, the address policy, and the status thresholds. Built by the caller
/// (from `[probes]`).
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// The whole probe of one target.
    pub probe_timeout: Duration,
    /// One HTTP exchange (redirects and body included), or one TLS handshake.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_redirects: usize,
    /// A response body larger than this is abandoned.
    pub max_response_bytes: usize,
    /// Targets probed at once.
    pub concurrency: usize,
    /// Probe private, loopback and link-local addresses too (tests, the demo, providers on an internal network).
    pub allow_private: bool,
    /// ZITADEL's clock may differ from warden's by this much.
    pub max_clock_skew: Duration,
    /// Where Azure AD tenants live (`https://login.microsoftonline.com`; sovereign clouds have their own).
    pub azure_authority: String,
    /// DER certificates trusted as roots besides the platform's (a private CA).
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl Default for ProbeSettings {
    fn default() -> ProbeSettings {
        ProbeSettings {
            probe_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            max_redirects: 3,
            max_response_bytes: 1024 * 1024,
            concurrency: 32,
            allow_private: false,
            max_clock_skew: Duration::from_secs(30),
            azure_authority: "https://login.microsoftonline.com".to_owned(),
            extra_root_certificates: Vec::new(),
        }
    }
}

/// What can go wrong in one exchange of a probe; its text becomes the failed check's detail.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{url} is not a valid URL: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("{url}: only http and https URLs are probed")]
    UnsupportedScheme { url: String },
    #[error(
        "{host} is {address}, a {reason} address: refused, not contacted (set [probes] allow_private = true to probe \
         private networks)"
    )]
    RefusedAddress { host: String, address: IpAddr, reason: String },
    #[error("cannot resolve {host}: {message}")]
    Resolve { host: String, message: String },
    #[error("no answer within {} ms", after.as_millis())]
    Timeout { after: Duration },
    #[error("the response is larger than {limit} bytes: abandoned")]
    TooLarge { limit: usize },
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize },
    #[error("{0}")]
    Connection(String),
    #[error("cannot set up probing: {0}")]
    Client(String),
}

/// The names of checks, as reports show them.
pub mod check_name {
    pub const HEALTHZ: &str = "healthz";
    pub const READY: &str = "ready";
    pub const CLOCK_SKEW: &str = "clock skew";
    pub const TOKEN: &str = "token";
    pub const DISCOVERY: &str = "discovery";
    pub const JWKS: &str = "jwks";
    pub const JWT_ENDPOINT: &str = "jwt endpoint";
    pub const METADATA: &str = "metadata";
    pub const FETCHED_METADATA: &str = "fetched metadata";
    pub const METADATA_IN_SYNC: &str = "metadata in sync";
    pub const ENTITY_ID: &str = "entity id";
    pub const SSO_ENDPOINT: &str = "sso endpoint";
    pub const SIGNING_CERTIFICATES: &str = "signing certificates";
    /// The whole probe ran out of time.
    pub const PROBE: &str = "probe";
}

/// Probes every target, at most `settings.concurrency` at once; one result per target, in the targets' order.
/// Probe times are `now` plus the time elapsed since the call began.
pub async fn probe_all(
    targets: Vec<ProbeTarget>,
    settings: &ProbeSettings,
    now: OffsetDateTime,
) -> Result<Vec<ProbeResult>, Error> {
    Ok(Prober::new(settings.clone())?.probe_all(targets, now).await)
}

/// Probes with one set of HTTP clients (and trusted roots, loaded once): keep one for repeated rounds. Cheap to
/// clone.
#[derive(Clone)]
pub struct Prober {
    inner: Arc<ProberInner>,
}

struct ProberInner {
    settings: ProbeSettings,
    /// For provider URLs: special-purpose addresses refused unless `allow_private`.
    providers: HttpClient,
    /// For ZITADEL's own URL (warden's configuration).
    zitadel: HttpClient,
    /// The platform verifier for LDAP's TLS, loaded on first use.
    verifier: OnceLock<Result<Arc<dyn ServerCertVerifier>, String>>,
}

impl Prober {
    pub fn new(settings: ProbeSettings) -> Result<Prober, Error> {
        let providers = HttpClient::new(&settings, settings.allow_private)?;
        let zitadel = HttpClient::new(&settings, true)?;
        Ok(Prober { inner: Arc::new(ProberInner { settings, providers, zitadel, verifier: OnceLock::new() }) })
    }

    pub fn settings(&self) -> &ProbeSettings {
        &self.inner.settings
    }

    /// [`probe_all`] with this prober's clients.
    pub async fn probe_all(&self, targets: Vec<ProbeTarget>, now: OffsetDateTime) -> Vec<ProbeResult> {
        let clock = ProbeClock { now, at: Instant::now() };
        let permits = Arc::new(Semaphore::new(self.inner.settings.concurrency.max(1)));
        let mut running = JoinSet::new();
        let names: Vec<Target> = targets.iter().map(|target| target.target.clone()).collect();
        for (position, target) in targets.into_iter().enumerate() {
            let prober = self.clone();
            let permits = Arc::clone(&permits);
            running.spawn(async move {
                // The semaphore is never closed, so acquiring only waits.
                let _permit = permits.acquire_owned().await;
                (position, prober.probe(&target, &clock).await)
            });
        }
        let mut results: Vec<Option<ProbeResult>> = vec![None; names.len()];
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok((position, result)) => results[position] = Some(result),
                Err(error) => tracing::error!(%error, "a probe task failed"),
            }
        }
        results
            .into_iter()
            .zip(names)
            .map(|(result, target)| {
                result.unwrap_or_else(|| ProbeResult {
                    target,
                    probed_at: clock.at(Instant::now()),
                    checks: vec![Check::failed(check_name::PROBE, "the probe stopped unexpectedly")],
                    certificates: Vec::new(),
                    keys: None,
                })
            })
            .collect()
    }

    /// Probes one target within `probe_timeout`; what it found before a timeout is kept.
    pub async fn probe(&self, target: &ProbeTarget, clock: &ProbeClock) -> ProbeResult {
        let started = Instant::now();
        let record = Record::default();
        let timeout = self.inner.settings.probe_timeout;
        if tokio::time::timeout(timeout, self.run(&target.plan, clock, &record)).await.is_err() {
            record.check(Check::failed(check_name::PROBE, format!("did not finish within {} ms", timeout.as_millis())));
        }
        record.into_result(target.target.clone(), clock.at(started))
    }

    async fn run(&self, plan: &ProbePlan, clock: &ProbeClock, record: &Record) {
        let settings = &self.inner.settings;
        let http = &self.inner.providers;
        match plan {
            ProbePlan::Zitadel { base_url, client } => {
                let zitadel = &self.inner.zitadel;
                zitadel::probe_zitadel(zitadel, base_url, client.as_ref(), settings.max_clock_skew, clock, record)
                    .await;
            }
            ProbePlan::Oidc { issuer } => {
                oidc::probe_issuer(http, issuer, &ExpectedIssuer::Exact(issuer.clone()), record).await;
            }
            ProbePlan::AzureAd { tenant } => {
                let authority = settings.azure_authority.trim_end_matches('/');
                let issuer = format!("{authority}/{tenant}/v2.0");
                let expected = if matches!(tenant.as_str(), "common" | "organizations" | "consumers") {
                    ExpectedIssuer::AzureTemplate { authority: authority.to_owned() }
                } else {
                    ExpectedIssuer::Exact(issuer.clone())
                };
                oidc::probe_issuer(http, &issuer, &expected, record).await;
            }
            ProbePlan::Jwt { keys_endpoint, jwt_endpoint } => {
                oidc::probe_jwks(http, keys_endpoint, record).await;
                probe_reachable(http, check_name::JWT_ENDPOINT, jwt_endpoint, record).await;
            }
            ProbePlan::OAuth { endpoints } => {
                for (name, url) in endpoints {
                    probe_reachable(http, name, url, record).await;
                }
            }
            ProbePlan::Saml(configuration) => {
                saml::probe_saml(http, configuration, record, clock.at(Instant::now())).await;
            }
            ProbePlan::Ldap(configuration) => {
                let verifier = self.inner.verifier.get_or_init(|| {
                    let extra = settings.extra_root_certificates.iter().map(|der| CertificateDer::from(der.clone()));
                    ldap::platform_verifier(extra.collect())
                });
                let verifier = match verifier {
                    Ok(verifier) => Arc::clone(verifier),
                    Err(error) => {
                        record.check(Check::failed("tls", error.clone()));
                        return;
                    }
                };
                let context = ldap::LdapContext {
                    allow_private: settings.allow_private,
                    connect_timeout: settings.connect_timeout,
                    request_timeout: settings.request_timeout,
                    verifier,
                    extra_root_certificates: &settings.extra_root_certificates,
                };
                ldap::probe_ldap(&context, configuration, record, clock.at(Instant::now())).await;
            }
            ProbePlan::Configuration { checks } => {
                for check in checks {
                    record.check(check.clone());
                }
            }
        }
    }
}

/// GETs `url` and passes when anything below 500 answers (an OAuth endpoint asked without parameters says 400).
async fn probe_reachable(http: &HttpClient, name: &str, url: &str, record: &Record) {
    match http.get(url, "*/*").await {
        Ok(fetched) => {
            record.tls_certificates(&fetched);
            let status = fetched.status.as_u16();
            let check = if fetched.status.is_server_error() {
                Check::failed(name, format!("{url}: HTTP {status}"))
            } else {
                Check::passed(name, format!("reachable (HTTP {status})"))
            };
            record.check(check.with_latency(fetched.latency));
        }
        Err(error) => record.check(Check::failed(name, format!("{url}: {error}"))),
    }
}

/// Wall-clock times for monotonic instants: the caller's `now` at the start of a round, plus what elapsed since.
#[derive(Debug, Clone, Copy)]
pub struct ProbeClock {
    now: OffsetDateTime,
    at: Instant,
}

impl ProbeClock {
    /// A clock reading `now` at this instant.
    pub fn starting(now: OffsetDateTime) -> ProbeClock {
        ProbeClock { now, at: Instant::now() }
    }

    pub fn at(&self, instant: Instant) -> OffsetDateTime {
        self.now + instant.saturating_duration_since(self.at)
    }
}

/// What a probe found so far; kept outside the probe's future so that a timeout loses nothing recorded.
#[derive(Default)]
pub(crate) struct Record {
    inner: Mutex<Recorded>,
}

#[derive(Default)]
struct Recorded {
    checks: Vec<Check>,
    certificates: Vec<Certificate>,
    keys: Option<KeySummary>,
}

impl Record {
    fn with<T>(&self, change: impl FnOnce(&mut Recorded) -> T) -> T {
        change(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn check(&self, check: Check) {
        self.with(|recorded| recorded.checks.push(check));
    }

    /// Sets the latency of the newest check named `name`, if it has none.
    pub(crate) fn amend_latency(&self, name: &str, latency: Duration) {
        self.with(|recorded| {
            if let Some(check) = recorded.checks.iter_mut().rev().find(|check| check.name == name)
                && check.latency.is_none()
            {
                check.latency = Some(latency);
            }
        });
    }

    /// Keeps a certificate (once per use, source and fingerprint).
    pub(crate) fn certificate(&self, certificate: Certificate) {
        self.with(|recorded| {
            let seen = recorded.certificates.iter().any(|kept| {
                kept.fingerprint == certificate.fingerprint
                    && kept.usage == certificate.usage
                    && kept.source == certificate.source
            });
            if !seen {
                recorded.certificates.push(certificate);
            }
        });
    }

    /// Keeps the TLS certificates of an HTTPS exchange.
    pub(crate) fn tls_certificates(&self, fetched: &Fetched) {
        for (origin, der) in &fetched.certificates {
            if let Ok(certificate) = certificate::parse_certificate(der, CertificateUse::Tls, origin) {
                self.certificate(certificate);
            }
        }
    }

    pub(crate) fn keys(&self, keys: KeySummary) {
        self.with(|recorded| recorded.keys = Some(keys));
    }

    fn into_result(self, target: Target, probed_at: OffsetDateTime) -> ProbeResult {
        let recorded = self.inner.into_inner().unwrap_or_else(PoisonError::into_inner);
        ProbeResult {
            target,
            probed_at,
            checks: recorded.checks,
            certificates: recorded.certificates,
            keys: recorded.keys,
        }
    }
}
