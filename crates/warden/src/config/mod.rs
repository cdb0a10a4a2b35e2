//! `warden.toml` plus `WARDEN_*` environment overrides, read into one typed [`Config`].
//!
//! Overrides use `__` between levels: `WARDEN_DATABASE__URL`, `WARDEN_SERVER__LISTEN`. Variables without `__`
//! (`WARDEN_CONFIG`, `WARDEN_LOG`, ...) are not configuration keys and are left alone. Unknown keys are errors that
//! name the key and the file.

mod credential;
mod database_url;
mod governance;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::model::{ApiVersion, Environment};

pub use credential::{CredentialConfig, CredentialError, CredentialSource};
pub use database_url::DatabaseUrl;
pub use governance::{GovernanceConfig, PolicyConfig, SeverityName, WebhookConfig, WebhookFormat};

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
    pub request_timeout: String,
    /// How long the request log (connection health) keeps a row: `30d`. `warden serve` deletes older rows hourly.
    #[serde(default = "ScimConfig::default_request_log_retention")]
    pub request_log_retention: String,
}

impl ScimConfig {
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
    fn default_request_timeout() -> String {
        "30s".to_owned()
    }
    fn default_request_log_retention() -> String {
        "30d".to_owned()
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
            request_log_retention: ScimConfig::default_request_log_retention(),
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
        ServerConfig { listen: ServerConfig::default_listen(), public_url: None }
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
    pub sync_interval: String,
    /// `auto`, `v1` or `v2`.
    #[serde(default = "EnvironmentConfig::default_api")]
    pub api: String,
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
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl EnvironmentConfig {
    fn default_sync_interval() -> String {
        "15m".to_owned()
    }
    fn default_api() -> String {
        "auto".to_owned()
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
        parse_duration_seconds(&self.scim.request_timeout)
            .map_err(|message| invalid("scim.request_timeout".to_owned(), message))?;
        parse_duration_seconds(&self.scim.request_log_retention)
            .map_err(|message| invalid("scim.request_log_retention".to_owned(), message))?;
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
        let sync_interval_seconds =
            parse_duration_seconds(&self.sync_interval).map_err(|message| ("sync_interval", message))?;
        let api = match ApiVersion::from_text(&self.api) {
            ApiVersion::Unknown(other) => {
                return Err(("api", format!("{other:?} is not one of \"auto\", \"v1\", \"v2\"")));
            }
            api => api,
        };
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
            sync_interval_seconds,
            api,
            labels: self.labels.clone(),
        })
    }
}

/// Parses `90s`, `15m`, `1h30m`, `1d` into seconds.
pub fn parse_duration_seconds(text: &str) -> Result<u64, String> {
    let invalid = || format!("{text:?} is not a duration like \"30s\", \"15m\", \"1h30m\" or \"1d\"");
    let mut total: u64 = 0;
    let mut digits = String::new();
    for character in text.trim().chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        let amount: u64 = digits.parse().map_err(|_| invalid())?;
        total = amount.checked_mul(unit).and_then(|seconds| total.checked_add(seconds)).ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(invalid());
    }
    Ok(total)
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

    #[test]
    fn durations_parse_with_units_and_reject_the_rest() {
        assert_eq!(parse_duration_seconds("30s"), Ok(30));
        assert_eq!(parse_duration_seconds("15m"), Ok(900));
        assert_eq!(parse_duration_seconds("1h30m"), Ok(5_400));
        assert_eq!(parse_duration_seconds("1d"), Ok(86_400));
        for bad in ["", "15", "m", "0s", "15 minutes", "-1m", "99999999999999999999d"] {
            assert!(parse_duration_seconds(bad).is_err(), "{bad:?}");
        }
    }
}
