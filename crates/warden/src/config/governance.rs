//! `[governance]`: the policy's thresholds, which findings open alerts, and the webhooks that hear of them.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use warden_core::posture::{Policy, Severity};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceConfig {
    /// Findings of this severity or higher open alerts: `low`, `medium` or `high`.
    #[serde(default = "GovernanceConfig::default_alert_severity")]
    pub alert_min_severity: SeverityName,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

impl GovernanceConfig {
    fn default_alert_severity() -> SeverityName {
        SeverityName::Medium
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Low,
    #[default]
    Medium,
    High,
}

impl SeverityName {
    pub fn severity(self) -> Severity {
        match self {
            SeverityName::Low => Severity::Low,
            SeverityName::Medium => Severity::Medium,
            SeverityName::High => Severity::High,
        }
    }
}

/// Thresholds; each one left out keeps its default (`docs/rules.md`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub credential_max_lifetime_days: Option<i64>,
    pub credential_max_age_days: Option<i64>,
    pub expiring_soon_days: Option<i64>,
    pub manager_roles: Option<Vec<String>>,
    pub accumulation_min_population: Option<usize>,
    pub growth_percent: Option<u64>,
    pub growth_min_baseline: Option<u64>,
    pub growth_window_days: Option<i64>,
    pub certificate_expiring_high_days: Option<i64>,
    pub certificate_expiring_medium_days: Option<i64>,
}

impl PolicyConfig {
    pub fn policy(&self) -> Policy {
        let default = Policy::default();
        Policy {
            credential_max_lifetime_days: self
                .credential_max_lifetime_days
                .unwrap_or(default.credential_max_lifetime_days),
            credential_max_age_days: self.credential_max_age_days.unwrap_or(default.credential_max_age_days),
            expiring_soon_days: self.expiring_soon_days.unwrap_or(default.expiring_soon_days),
            manager_roles: self.manager_roles.clone().unwrap_or(default.manager_roles),
            accumulation_min_population: self
                .accumulation_min_population
                .unwrap_or(default.accumulation_min_population),
            growth_percent: self.growth_percent.unwrap_or(default.growth_percent),
            growth_min_baseline: self.growth_min_baseline.unwrap_or(default.growth_min_baseline),
            growth_window_days: self.growth_window_days.unwrap_or(default.growth_window_days),
            certificate_expiring_high_days: self
                .certificate_expiring_high_days
                .unwrap_or(default.certificate_expiring_high_days),
            certificate_expiring_medium_days: self
                .certificate_expiring_medium_days
                .unwrap_or(default.certificate_expiring_medium_days),
        }
    }
}

/// A webhook that hears of alerts opening and resolving.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the webhook in the delivery log (its URL is never stored or logged).
    pub name: String,
    /// The environment variable holding the URL (a Slack webhook URL carries its secret).
    pub url_env: String,
    /// `json` (the alert as JSON) or `slack` (a Slack-compatible `{"text": ...}`).
    #[serde(default)]
    pub format: WebhookFormat,
    /// Only alerts of this severity or higher.
    #[serde(default = "WebhookConfig::default_severity")]
    pub min_severity: SeverityName,
    /// Only alerts of these rules; empty: every rule.
    #[serde(default)]
    pub rules: Vec<String>,
}

impl WebhookConfig {
    fn default_severity() -> SeverityName {
        SeverityName::Low
    }

    /// The URL, read from its variable when used.
    pub fn url(&self) -> Result<SecretString, String> {
        match std::env::var(&self.url_env) {
            Ok(url) if !url.trim().is_empty() => Ok(SecretString::from(url)),
            _ => Err(format!("webhook {}: environment variable {} is not set", self.name, self.url_env)),
        }
    }

    pub fn accepts(&self, rule: &str, severity: Severity) -> bool {
        severity >= self.min_severity.severity() && (self.rules.is_empty() || self.rules.iter().any(|r| r == rule))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    #[default]
    Json,
    Slack,
}
