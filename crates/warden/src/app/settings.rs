//! [`Settings`]: the configuration parsed and validated once, in the types the operations use. Nothing after this
//! point reads configuration text.

use std::net::SocketAddr;
use std::time::Duration;
use warden_core::posture::ConnectionHealthPolicy;

use warden_core::id::EnvironmentName;
use warden_core::model::{Environment, MetadataScope};

use warden_core::health::HealthPolicy;
use warden_scim::list::ListLimits;

use crate::config::{self, Config, ConfigDuration, CredentialSource, DatabaseUrl, ProbesConfig, SecretReference};
use crate::govern::GovernanceSettings;
use crate::probe::ProbeSettings;

/// Everything the operations are configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    /// Where `warden serve` listens (`[server] listen`).
    pub listen: SocketAddr,
    /// How long a running job may finish after a shutdown signal before it is abandoned (`[server]
    /// shutdown_grace`).
    pub shutdown_grace: std::time::Duration,
    /// How long a job's lease lasts without a heartbeat (`[server] lease_ttl`): a dead holder's work is taken over
    /// after this long.
    pub lease_ttl: std::time::Duration,
    /// In configuration order.
    pub environments: Vec<EnvironmentSettings>,
    pub governance: GovernanceSettings,
    pub scim: ScimSettings,
    pub retention: RetentionSettings,
    /// How providers are probed, and their status judged.
    pub probes: ProbeSettings,
    pub provisioning: ProvisioningSettings,
}

/// How the provisioning outbox retries (`[provisioning]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvisioningSettings {
    pub max_attempts: u32,
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
}

/// How long what warden records is kept (`[retention]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSettings {
    pub scim_request_log: time::Duration,
    pub sync_runs: time::Duration,
    /// `None`: for ever.
    pub changes: Option<time::Duration>,
    /// `None`: for ever.
    pub audit_events: Option<time::Duration>,
    pub provider_probes: time::Duration,
}

/// One `[[environments]]` entry.
#[derive(Debug, Clone)]
pub struct EnvironmentSettings {
    /// As the store records it: name, URL, org scope, sync interval, API version, labels.
    pub environment: Environment,
    /// Where the credential is read from when the environment's ZITADEL client is first used.
    pub credential: CredentialSource,
    /// How often `warden serve` syncs it, start to start.
    pub sync_interval: time::Duration,
    /// How often a sync reads everything, even where the events since the last run would do.
    pub full_sync_interval: time::Duration,
    /// How often `warden serve` probes its ZITADEL and identity providers.
    pub probe_interval: time::Duration,
    /// Whose metadata a sync reads.
    pub metadata: MetadataScope,
    /// Parallel requests to this ZITADEL.
    pub concurrency: usize,
    /// Requests per second; 0: unlimited.
    pub rate_limit: u32,
    /// Items per list page.
    pub page_size: u32,
    /// A sync that would remove more than this percentage of a kind holds every removal.
    pub removal_guard_percent: u8,
    /// Where the signing key of the ZITADEL Actions target that calls warden is read from; `None`: pushes are not
    /// accepted for this environment.
    pub actions_signing_key: Option<SecretReference>,
}

impl EnvironmentSettings {
    pub fn name(&self) -> &EnvironmentName {
        &self.environment.name
    }
}

fn probe_settings(config: &ProbesConfig) -> ProbeSettings {
    ProbeSettings {
        probe_timeout: config.timeout.get(),
        request_timeout: config.request_timeout.get(),
        max_redirects: config.max_redirects,
        max_response_bytes: config.max_response_bytes,
        concurrency: config.concurrency,
        allow_private: config.allow_private,
        azure_authority: config.azure_authority.trim_end_matches('/').to_owned(),
        ..ProbeSettings::default()
    }
}

/// The status model's thresholds (`[probes]`), which governance evaluates the probe history with.
fn health_policy(config: &ProbesConfig) -> HealthPolicy {
    HealthPolicy {
        window: config.window,
        down_after: config.down_after,
        latency_threshold: config.latency_threshold.get(),
        failure_rate_percent: config.failure_rate_percent,
        certificate_warning_days: config.certificate_warning_days,
    }
}

impl Settings {
    /// From a configuration that [`config::load`] read (and so validated): the errors name the key.
    pub fn from_config(config: &Config) -> Result<Settings, config::Error> {
        let mut environments = Vec::with_capacity(config.environments.len());
        for (index, entry) in config.environments.iter().enumerate() {
            let invalid = |field: &str, message: String| config::Error::InvalidValue {
                key: format!("environments[{index}].{field}"),
                message,
                origin: String::new(),
            };
            let environment = entry.to_environment().map_err(|(field, message)| invalid(field, message))?;
            let credential = entry.credential.source().map_err(|message| invalid("credential", message))?;
            environments.push(EnvironmentSettings {
                environment,
                credential,
                sync_interval: entry.sync_interval.as_time(),
                full_sync_interval: entry.full_sync_interval.as_time(),
                probe_interval: entry.probe_interval.as_time(),
                metadata: MetadataScope::from_text(&entry.metadata),
                concurrency: usize::from(entry.concurrency),
                rate_limit: entry.rate_limit,
                page_size: entry.page_size,
                removal_guard_percent: entry.removal_guard_percent,
                actions_signing_key: entry.actions_signing_key.clone(),
            });
        }
        let probes = probe_settings(&config.probes);
        let governance = GovernanceSettings {
            health: health_policy(&config.probes),
            policy: config.governance.policy.policy(),
            alert_min_severity: config.governance.alert_min_severity.severity(),
            webhooks: config.governance.webhooks.clone(),
            environments: environments.iter().map(|entry| entry.name().clone()).collect(),
            connection_health: ConnectionHealthPolicy {
                max_error_ratio: config.provisioning.degraded_error_ratio.clamp(0.0, 1.0),
                min_requests: ConnectionHealthPolicy::default().min_requests,
                max_backlog_age: config.provisioning.degraded_backlog_age.as_time(),
                stalled_after: config.provisioning.stalled_after.as_time(),
            },
        };
        Ok(Settings {
            database_url: config.database.url.clone(),
            listen: config.server.listen,
            shutdown_grace: config.server.shutdown_grace.get(),
            lease_ttl: config.server.lease_ttl.get(),
            environments,
            governance,
            scim: ScimSettings::from_config(config),
            retention: RetentionSettings {
                scim_request_log: config.retention.scim_request_log.as_time(),
                sync_runs: config.retention.sync_runs.as_time(),
                changes: config.retention.changes.map(ConfigDuration::as_time),
                audit_events: config.retention.audit_events.map(ConfigDuration::as_time),
                provider_probes: config.retention.provider_probes.as_time(),
            },
            probes,
            provisioning: ProvisioningSettings {
                max_attempts: config.provisioning.max_attempts.max(1),
                retry_delay: config.provisioning.retry_delay.get(),
                max_retry_delay: config.provisioning.max_retry_delay.get(),
            },
        })
    }

    /// The configured environment of this name.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentSettings> {
        self.environments.iter().find(|entry| entry.environment.name.as_str() == name)
    }

    /// Every configured environment's name, in configuration order.
    pub fn environment_names(&self) -> Vec<EnvironmentName> {
        self.environments.iter().map(|entry| entry.name().clone()).collect()
    }
}

/// The limits the server enforces and advertises.
#[derive(Debug, Clone)]
pub struct ScimSettings {
    pub list_limits: ListLimits,
    pub max_body_bytes: usize,
    pub bulk_max_operations: u64,
    pub request_timeout: Duration,
    pub requests_per_second: u32,
    pub failed_auth_per_minute: u32,
    /// How long ZITADEL's verdict on a bearer token it vouches for is kept (`[scim] zitadel_token_cache`).
    pub zitadel_token_cache: Duration,
    /// Where clients reach the server, without a trailing slash: `[server] public_url`, else `http://{listen}`.
    pub public_base_url: String,
}

impl ScimSettings {
    /// From a validated configuration.
    pub fn from_config(config: &Config) -> ScimSettings {
        let scim = &config.scim;
        ScimSettings {
            list_limits: ListLimits { max_count: scim.max_results, default_count: scim.default_page_size },
            max_body_bytes: scim.max_body_bytes,
            bulk_max_operations: scim.bulk_max_operations,
            request_timeout: scim.request_timeout.get(),
            requests_per_second: scim.requests_per_second,
            failed_auth_per_minute: scim.failed_auth_per_minute,
            zitadel_token_cache: scim.zitadel_token_cache.get(),
            public_base_url: config.server.public_base_url(),
        }
    }
}
