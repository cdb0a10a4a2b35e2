//! `warden.toml` plus `WARDEN_*` environment overrides, read into one typed [`Config`].
//!
//! Overrides use `__` between levels: `WARDEN_DATABASE__URL`, `WARDEN_SERVER__LISTEN`. Variables without `__`
//! (`WARDEN_CONFIG`, `WARDEN_LOG`, ...) are not configuration keys and are left alone. Unknown keys are errors that
//! name the key and the file.

mod credential;
mod database_url;
mod duration;
mod governance;
mod secret;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::model::{ApiVersion, Environment, MetadataScope};

pub use credential::{CredentialConfig, CredentialError, CredentialSource};
pub use database_url::DatabaseUrl;
pub use duration::{ConfigDuration, parse_duration_seconds};
pub use governance::{GovernanceConfig, PolicyConfig, SeverityName, WebhookConfig, WebhookFormat};
pub use secret::SecretReference;

/// The file read when neither `--config` nor `WARDEN_CONFIG` names one (and only if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "warden.toml";

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub environments: Vec<EnvironmentConfig>,
    #[serde(default)]
    pub governance: GovernanceConfig,
    #[serde(default)]
    pub scim: ScimConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub probes: ProbesConfig,
    #[serde(default)]
    pub provisioning: ProvisioningConfig,
}

/// How the provisioning outbox retries operations ZITADEL did not accept (`[provisioning]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningConfig {
    /// Failed attempts after which an operation is parked (an operator retries or discards it).
    #[serde(default = "ProvisioningConfig::default_max_attempts")]
    pub max_attempts: u32,
    /// The wait after the first failed attempt; each further failure doubles it, up to `max_retry_delay`.
    #[serde(default = "ProvisioningConfig::default_retry_delay")]
    pub retry_delay: ConfigDuration,
    #[serde(default = "ProvisioningConfig::default_max_retry_delay")]
    pub max_retry_delay: ConfigDuration,
    /// A connection is degraded above this share of 5xx answers in the last hour (from 20 requests on).
    #[serde(default = "ProvisioningConfig::default_degraded_error_ratio")]
    pub degraded_error_ratio: f64,
    /// A connection is degraded when its oldest waiting operation is older.
    #[serde(default = "ProvisioningConfig::default_degraded_backlog_age")]
    pub degraded_backlog_age: ConfigDuration,
    /// A connection is stalled when operations wait and none was applied for this long.
    #[serde(default = "ProvisioningConfig::default_stalled_after")]
    pub stalled_after: ConfigDuration,
}

impl ProvisioningConfig {
    fn default_degraded_error_ratio() -> f64 {
        0.05
    }
    fn default_degraded_backlog_age() -> ConfigDuration {
        ConfigDuration::from_secs(300)
    }
    fn default_stalled_after() -> ConfigDuration {
        ConfigDuration::from_secs(900)
    }
    fn default_max_attempts() -> u32 {
        10
    }
    fn default_retry_delay() -> ConfigDuration {
        ConfigDuration::from_secs(2)
    }
    fn default_max_retry_delay() -> ConfigDuration {
        ConfigDuration::from_secs(300)
    }
}

impl Default for ProvisioningConfig {
    fn default() -> ProvisioningConfig {
        ProvisioningConfig {
            max_attempts: ProvisioningConfig::default_max_attempts(),
            retry_delay: ProvisioningConfig::default_retry_delay(),
            max_retry_delay: ProvisioningConfig::default_max_retry_delay(),
            degraded_error_ratio: ProvisioningConfig::default_degraded_error_ratio(),
            degraded_backlog_age: ProvisioningConfig::default_degraded_backlog_age(),
            stalled_after: ProvisioningConfig::default_stalled_after(),
        }
    }
}

/// How identity providers and ZITADEL itself are probed (`[probes]`), and how their status is judged. The URLs
/// probed come from ZITADEL's configuration, which an organization's administrator can edit: every probe is bounded.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesConfig {
    /// Probe private, loopback and link-local addresses too (providers on an internal network, tests, the demo).
    #[serde(default)]
    pub allow_private: bool,
    /// Targets probed at once.
    #[serde(default = "ProbesConfig::default_concurrency")]
    pub concurrency: usize,
    /// The whole probe of one target.
    #[serde(default = "ProbesConfig::default_timeout")]
    pub timeout: ConfigDuration,
    /// One HTTP exchange (redirects and body included) or TLS handshake.
    #[serde(default = "ProbesConfig::default_request_timeout")]
    pub request_timeout: ConfigDuration,
    /// Redirects followed at most.
    #[serde(default = "ProbesConfig::default_max_redirects")]
    pub max_redirects: usize,
    /// A response body larger than this many bytes is abandoned.
    #[serde(default = "ProbesConfig::default_max_response_bytes")]
    pub max_response_bytes: usize,
    /// Where Azure AD (Entra ID) tenants live; sovereign clouds have their own.
    #[serde(default = "ProbesConfig::default_azure_authority")]
    pub azure_authority: String,
    /// A target's status is judged from its newest this many probes.
    #[serde(default = "ProbesConfig::default_window")]
    pub window: usize,
    /// Down when this many newest probes all failed.
    #[serde(default = "ProbesConfig::default_down_after")]
    pub down_after: usize,
    /// Degraded when the median latency of successful probes is over this.
    #[serde(default = "ProbesConfig::default_latency_threshold")]
    pub latency_threshold: ConfigDuration,
    /// Degraded when more than this percentage of the window's probes failed.
    #[serde(default = "ProbesConfig::default_failure_rate_percent")]
    pub failure_rate_percent: u32,
    /// Degraded when a certificate expires within this many days.
    #[serde(default = "ProbesConfig::default_certificate_warning_days")]
    pub certificate_warning_days: i64,
}

impl ProbesConfig {
    fn default_concurrency() -> usize {
        32
    }
    fn default_timeout() -> ConfigDuration {
        ConfigDuration::from_secs(20)
    }
    fn default_request_timeout() -> ConfigDuration {
        ConfigDuration::from_secs(5)
    }
    fn default_max_redirects() -> usize {
        3
    }
    fn default_max_response_bytes() -> usize {
        1_048_576
    }
    fn default_azure_authority() -> String {
        "https://login.microsoftonline.com".to_owned()
    }
    fn default_window() -> usize {
        10
    }
    fn default_down_after() -> usize {
        3
    }
    fn default_latency_threshold() -> ConfigDuration {
        ConfigDuration::from_secs(2)
    }
    fn default_failure_rate_percent() -> u32 {
        20
    }
    fn default_certificate_warning_days() -> i64 {
        30
    }
}

impl Default for ProbesConfig {
    fn default() -> ProbesConfig {
        ProbesConfig {
            allow_private: false,
            concurrency: ProbesConfig::default_concurrency(),
            timeout: ProbesConfig::default_timeout(),
            request_timeout: ProbesConfig::default_request_timeout(),
            max_redirects: ProbesConfig::default_max_redirects(),
            max_response_bytes: ProbesConfig::default_max_response_bytes(),
            azure_authority: ProbesConfig::default_azure_authority(),
            window: ProbesConfig::default_window(),
            down_after: ProbesConfig::default_down_after(),
            latency_threshold: ProbesConfig::default_latency_threshold(),
            failure_rate_percent: ProbesConfig::default_failure_rate_percent(),
            certificate_warning_days: ProbesConfig::default_certificate_warning_days(),
        }
    }
}

/// How long `warden serve` keeps what it records (`[retention]`). Changes and the audit log are kept for ever unless
/// a retention is set for them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// SCIM request-log rows (connection health).
    #[serde(default = "RetentionConfig::default_scim_request_log")]
    pub scim_request_log: ConfigDuration,
    /// Sync runs that recorded no change; of those older than this, the last of each day is kept (it carries the
    /// day's trend point). A run with changes stays as long as its changes.
    #[serde(default = "RetentionConfig::default_sync_runs")]
    pub sync_runs: ConfigDuration,
    /// Recorded changes (drift history); unset: kept for ever. Access at a point in time cannot reach further back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<ConfigDuration>,
    /// The audit log of operators' actions; unset: kept for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_events: Option<ConfigDuration>,
    /// Provider probes (each target's status history is kept).
    #[serde(default = "RetentionConfig::default_provider_probes")]
    pub provider_probes: ConfigDuration,
}

impl RetentionConfig {
    fn default_scim_request_log() -> ConfigDuration {
        ConfigDuration::from_secs(30 * 86_400)
    }
    fn default_sync_runs() -> ConfigDuration {
        ConfigDuration::from_secs(90 * 86_400)
    }
    fn default_provider_probes() -> ConfigDuration {
        ConfigDuration::from_secs(30 * 86_400)
    }
}

impl Default for RetentionConfig {
    fn default() -> RetentionConfig {
        RetentionConfig {
            scim_request_log: RetentionConfig::default_scim_request_log(),
            sync_runs: RetentionConfig::default_sync_runs(),
            changes: None,
            audit_events: None,
            provider_probes: RetentionConfig::default_provider_probes(),
        }
    }
}

/// The SCIM server's limits (`[scim]`). The defaults are generous: Okta and Entra ID should never meet them in
/// normal operation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScimConfig {
    /// The largest page a list returns; a larger `count` is clamped to it (advertised as `filter.maxResults`).
    #[serde(default = "ScimConfig::default_max_results")]
    pub max_results: u64,
    /// The page size when a list names no `count`.
    #[serde(default = "ScimConfig::default_page_size")]
    pub default_page_size: u64,
    /// The largest request body, in bytes (413 beyond it).
    #[serde(default = "ScimConfig::default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Operations one `/Bulk` request may carry (413 beyond; advertised as `bulk.maxOperations`).
    #[serde(default = "ScimConfig::default_bulk_max_operations")]
    pub bulk_max_operations: u64,
    /// Requests per second one connection may make (429 with Retry-After beyond it); the burst is the same.
    #[serde(default = "ScimConfig::default_requests_per_second")]
    pub requests_per_second: u32,
    /// Failed authentications per minute one source address may make before it gets 429.
    #[serde(default = "ScimConfig::default_failed_auth_per_minute")]
    pub failed_auth_per_minute: u32,
    /// How long one request may take: `30s`, `1m`.
    #[serde(default = "ScimConfig::default_request_timeout")]
    pub request_timeout: ConfigDuration,
    /// How long ZITADEL's verdict on a bearer token it vouches for is kept (connections with `zitadel_tokens`): a
    /// revoked token stops working within this time.
    #[serde(default = "ScimConfig::default_zitadel_token_cache")]
    pub zitadel_token_cache: ConfigDuration,
}

impl ScimConfig {
    fn default_zitadel_token_cache() -> ConfigDuration {
        ConfigDuration::from_secs(60)
    }
    fn default_max_results() -> u64 {
        200
    }
    fn default_page_size() -> u64 {
        100
    }
    fn default_max_body_bytes() -> usize {
        1_048_576
    }
    fn default_bulk_max_operations() -> u64 {
        1_000
    }
    fn default_requests_per_second() -> u32 {
        10_000
    }
    fn default_failed_auth_per_minute() -> u32 {
        30
    }
    fn default_request_timeout() -> ConfigDuration {
        ConfigDuration::from_secs(30)
    }
}

impl Default for ScimConfig {
    fn default() -> ScimConfig {
        ScimConfig {
            max_results: ScimConfig::default_max_results(),
            default_page_size: ScimConfig::default_page_size(),
            max_body_bytes: ScimConfig::default_max_body_bytes(),
            bulk_max_operations: ScimConfig::default_bulk_max_operations(),
            requests_per_second: ScimConfig::default_requests_per_second(),
            failed_auth_per_minute: ScimConfig::default_failed_auth_per_minute(),
            request_timeout: ScimConfig::default_request_timeout(),
            zitadel_token_cache: ScimConfig::default_zitadel_token_cache(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    #[serde(default)]
    pub url: DatabaseUrl,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "ServerConfig::default_listen")]
    pub listen: SocketAddr,
    /// After SIGTERM or Ctrl-C, how long a running sync may take to finish before it is abandoned (its run marked
    /// interrupted, its lease released).
    #[serde(default = "ServerConfig::default_shutdown_grace")]
    pub shutdown_grace: ConfigDuration,
    /// How long a job's lease lasts without its holder's heartbeat: another replica takes the job over this long
    /// after its holder died.
    #[serde(default = "ServerConfig::default_lease_ttl")]
    pub lease_ttl: ConfigDuration,
    /// The URL clients reach warden at (`https://warden.example.com`, or with a path behind a proxy): every URL the
    /// SCIM server hands out (`meta.location`, `Location`, `$ref`) starts with it. Without it, `http://{listen}`.
    /// Never taken from a request's `Host` or `X-Forwarded-*` headers, which the client controls.
    #[serde(default)]
    pub public_url: Option<String>,
}

impl ServerConfig {
    fn default_listen() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }
    fn default_shutdown_grace() -> ConfigDuration {
        ConfigDuration::from_secs(30)
    }
    fn default_lease_ttl() -> ConfigDuration {
        ConfigDuration::from_secs(30)
    }

    /// `public_url` without a trailing slash, else `http://{listen}`.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: ServerConfig::default_listen(),
            public_url: None,
            shutdown_grace: ServerConfig::default_shutdown_grace(),
            lease_ttl: ServerConfig::default_lease_ttl(),
        }
    }
}

/// An absolute http(s) URL with a host and without query or fragment, as `[server] public_url` must be.
fn check_public_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split('/').next().unwrap_or_default());
    let plain =
        |character: char| !character.is_whitespace() && !character.is_control() && !"?#\"<>\\^`{|}".contains(character);
    match host {
        Some(host) if !host.is_empty() && !host.contains('@') && url.chars().all(plain) => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) URL with a host and no query, fragment or user")),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    pub name: String,
    /// The ZITADEL instance's base URL, `https://acme.zitadel.cloud`.
    pub url: String,
    pub credential: CredentialConfig,
    /// Organisation ids in scope; empty: every organisation the credential can see.
    #[serde(default)]
    pub orgs: Vec<String>,
    /// How often `warden serve` syncs: `30s`, `15m`, `1h`, `1h30m`.
    #[serde(default = "EnvironmentConfig::default_sync_interval")]
    pub sync_interval: ConfigDuration,
    /// How often a sync reads everything even where ZITADEL's events would let it read only what changed.
    #[serde(default = "EnvironmentConfig::default_full_sync_interval")]
    pub full_sync_interval: ConfigDuration,
    /// How often `warden serve` probes ZITADEL and the identity providers it federates.
    #[serde(default = "EnvironmentConfig::default_probe_interval")]
    pub probe_interval: ConfigDuration,
    /// `auto`, `v1` or `v2`.
    #[serde(default = "EnvironmentConfig::default_api")]
    pub api: String,
    /// Whose metadata a sync reads: `all`, `machines` (machine users only) or `none`.
    #[serde(default = "EnvironmentConfig::default_metadata")]
    pub metadata: String,
    /// Parallel requests to this ZITADEL.
    #[serde(default = "EnvironmentConfig::default_concurrency")]
    pub concurrency: u16,
    /// Requests per second; 0 turns the limit off. 50 is ZITADEL Cloud's limit.
    #[serde(default = "EnvironmentConfig::default_rate_limit")]
    pub rate_limit: u32,
    /// Items per list page, 1 to 1,000 (ZITADEL's maximum; fewer pages, fewer requests).
    #[serde(default = "EnvironmentConfig::default_page_size")]
    pub page_size: u32,
    /// A sync that would remove more than this percentage of any kind of object it stores (with at least 20 stored)
    /// holds every removal and ends partial: ZITADEL answers a credential that lost permissions with shorter lists,
    /// not errors. 100 turns the guard off; `warden sync --accept-removals` overrides it for one run.
    #[serde(default = "EnvironmentConfig::default_removal_guard_percent")]
    pub removal_guard_percent: u8,
    /// Where the signing key of the ZITADEL Actions v2 target that calls `warden serve` at
    /// `/zitadel/actions/{name}` is read from (`{ env = "PROD_ACTIONS_KEY" }`). Unset: the endpoint answers 404 for
    /// this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_signing_key: Option<SecretReference>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl EnvironmentConfig {
    /// An environment with every default and no credential (set `credential` before use).
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> EnvironmentConfig {
        EnvironmentConfig {
            name: name.into(),
            url: url.into(),
            credential: CredentialConfig::default(),
            orgs: Vec::new(),
            sync_interval: EnvironmentConfig::default_sync_interval(),
            full_sync_interval: EnvironmentConfig::default_full_sync_interval(),
            probe_interval: EnvironmentConfig::default_probe_interval(),
            api: EnvironmentConfig::default_api(),
            metadata: EnvironmentConfig::default_metadata(),
            concurrency: EnvironmentConfig::default_concurrency(),
            rate_limit: EnvironmentConfig::default_rate_limit(),
            page_size: EnvironmentConfig::default_page_size(),
            removal_guard_percent: EnvironmentConfig::default_removal_guard_percent(),
            actions_signing_key: None,
            labels: BTreeMap::new(),
        }
    }

    fn default_sync_interval() -> ConfigDuration {
        ConfigDuration::from_secs(15 * 60)
    }
    fn default_full_sync_interval() -> ConfigDuration {
        ConfigDuration::from_secs(24 * 60 * 60)
    }
    fn default_probe_interval() -> ConfigDuration {
        ConfigDuration::from_secs(5 * 60)
    }
    fn default_api() -> String {
        "auto".to_owned()
    }
    fn default_metadata() -> String {
        "all".to_owned()
    }
    fn default_concurrency() -> u16 {
        16
    }
    fn default_rate_limit() -> u32 {
        50
    }
    fn default_removal_guard_percent() -> u8 {
        50
    }
    fn default_page_size() -> u32 {
        1_000
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("config file {0} does not exist")]
    MissingFile(String),
    /// Figment's message names the key and the file or variable it came from.
    #[error("{0}")]
    Invalid(String),
    #[error("{key}: {message}{origin}")]
    InvalidValue { key: String, message: String, origin: String },
}

/// Where configuration was read from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    pub file: Option<PathBuf>,
}

impl ConfigSource {
    fn origin(&self) -> String {
        match &self.file {
            Some(file) => format!(" (in {})", file.display()),
            None => String::new(),
        }
    }
}

/// Reads the configuration: defaults, then the file (if any), then `WARDEN_*` overrides; then validates it.
///
/// `explicit_file` is `--config` or `WARDEN_CONFIG`; it must exist. Without it, `warden.toml` in the working
/// directory is read if present.
pub fn load(explicit_file: Option<&Path>) -> Result<(Config, ConfigSource), Error> {
    let file = match explicit_file {
        Some(path) if !path.is_file() => return Err(Error::MissingFile(path.display().to_string())),
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|path| path.is_file()),
    };
    // Messages name the file by its absolute path, so there is no doubt which one was read.
    let file = file.map(|path| std::path::absolute(&path).unwrap_or(path));
    let mut figment = Figment::new();
    if let Some(file) = &file {
        figment = figment.merge(Toml::file_exact(file));
    }
    figment = figment.merge(Env::prefixed("WARDEN_").filter(|key| key.as_str().contains("__")).split("__"));
    let config: Config = figment.extract().map_err(|error| {
        // Figment prefixes keys with its profile name ("default."), which means nothing to a reader.
        let messages = error.into_iter().map(|error| error.to_string().replace("for key \"default.", "for key \""));
        Error::Invalid(messages.collect::<Vec<_>>().join("; "))
    })?;
    let source = ConfigSource { file };
    config.validate(&source)?;
    Ok((config, source))
}

impl Config {
    /// Checks what serde cannot: names, URLs, durations and credential shapes. Reads no secret.
    pub fn validate(&self, source: &ConfigSource) -> Result<(), Error> {
        let invalid = |key: String, message: String| Error::InvalidValue { key, message, origin: source.origin() };
        let database = self.database.url.expose();
        if !(database.starts_with("sqlite:")
            || database.starts_with("postgres://")
            || database.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url".to_owned(),
                format!("{} is not a sqlite:// or postgres:// URL", self.database.url.redacted()),
            ));
        }
        if let Some(url) = &self.server.public_url {
            check_public_url(url).map_err(|message| invalid("server.public_url".to_owned(), message))?;
        }
        for (key, value) in [
            ("scim.max_results", self.scim.max_results),
            ("scim.default_page_size", self.scim.default_page_size),
            ("scim.max_body_bytes", self.scim.max_body_bytes as u64),
            ("scim.bulk_max_operations", self.scim.bulk_max_operations),
            ("scim.requests_per_second", u64::from(self.scim.requests_per_second)),
            ("scim.failed_auth_per_minute", u64::from(self.scim.failed_auth_per_minute)),
        ] {
            if value == 0 {
                return Err(invalid(key.to_owned(), "must be at least 1".to_owned()));
            }
        }
        for (key, value) in [
            ("probes.concurrency", self.probes.concurrency),
            ("probes.window", self.probes.window),
            ("probes.down_after", self.probes.down_after),
            ("probes.max_response_bytes", self.probes.max_response_bytes),
        ] {
            if value == 0 {
                return Err(invalid(key.to_owned(), "must be at least 1".to_owned()));
            }
        }
        if self.probes.failure_rate_percent > 100 {
            return Err(invalid(
                "probes.failure_rate_percent".to_owned(),
                format!("{} is not a percentage (0 to 100)", self.probes.failure_rate_percent),
            ));
        }
        let mut names = HashSet::new();
        for (index, environment) in self.environments.iter().enumerate() {
            let key = |field: &str| format!("environments[{index}].{field}");
            environment.to_environment().map_err(|(field, message)| invalid(key(field), message))?;
            if !names.insert(environment.name.as_str()) {
                return Err(invalid(key("name"), format!("{:?} is used by two environments", environment.name)));
            }
            if environment.concurrency == 0 {
                return Err(invalid(key("concurrency"), "must be at least 1".to_owned()));
            }
            if !(1..=1_000).contains(&environment.page_size) {
                return Err(invalid(key("page_size"), format!("{} is not between 1 and 1000", environment.page_size)));
            }
            if let Some(signing_key) = &environment.actions_signing_key {
                signing_key.check().map_err(|message| invalid(key("actions_signing_key.env"), message))?;
            }
        }
        Ok(())
    }

    pub fn environment(&self, name: &str) -> Option<&EnvironmentConfig> {
        self.environments.iter().find(|environment| environment.name == name)
    }
}

impl EnvironmentConfig {
    /// The environment as the store records it. The error names the offending field.
    pub fn to_environment(&self) -> Result<Environment, (&'static str, String)> {
        let name = EnvironmentName::parse(self.name.clone()).map_err(|error| ("name", error.to_string()))?;
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) || self.url.len() <= "https://".len()
        {
            return Err(("url", format!("{:?} is not an http(s) URL", self.url)));
        }
        let source = self.credential.source().map_err(|message| ("credential", message))?;
        let orgs = self
            .orgs
            .iter()
            .map(|org| OrgId::parse(org.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| ("orgs", error.to_string()))?;
        let api = match ApiVersion::from_text(&self.api) {
            ApiVersion::Unknown(other) => {
                return Err(("api", format!("{other:?} is not one of \"auto\", \"v1\", \"v2\"")));
            }
            api => api,
        };
        if let MetadataScope::Unknown(other) = MetadataScope::from_text(&self.metadata) {
            return Err(("metadata", format!("{other:?} is not one of \"all\", \"machines\", \"none\"")));
        }
        if self.removal_guard_percent > 100 {
            return Err((
                "removal_guard_percent",
                format!("{} is not a percentage (0 to 100)", self.removal_guard_percent),
            ));
        }
        Ok(Environment {
            name,
            url: self.url.trim_end_matches('/').to_owned(),
            credential_reference: source.to_string(),
            orgs,
            sync_interval_seconds: self.sync_interval.as_secs(),
            api,
            labels: self.labels.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_the_whole_config_shows_no_database_password() {
        let config = Config {
            database: DatabaseConfig { url: DatabaseUrl::new("postgres://warden:hunter2@db/warden") },
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2") && shown.contains("warden:***@db"), "{shown}");
    }

    #[test]
    fn public_urls_are_absolute_http_urls_and_the_base_falls_back_to_the_listen_address() {
        for good in ["https://warden.example.com", "http://10.0.0.1:8080/", "https://proxy.example/idm/warden"] {
            assert_eq!(check_public_url(good), Ok(()), "{good}");
        }
        for bad in [
            "warden.example.com",
            "ftp://x",
            "https://",
            "https://x/?a=1",
            "https://x/#f",
            "https://u@x",
            "https://x y",
        ] {
            assert!(check_public_url(bad).is_err(), "{bad}");
        }
        let mut server = ServerConfig::default();
        assert_eq!(server.public_base_url(), "http://127.0.0.1:8080");
        server.public_url = Some("https://warden.example.com/".to_owned());
        assert_eq!(server.public_base_url(), "https://warden.example.com");
    }
}
