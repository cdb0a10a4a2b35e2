//! The status model: a target's status from its last probes, and the transitions between statuses.
//!
//! From the newest `window` probes of a target (newest first):
//! - `unknown`: there are none;
//! - `down`: the newest `down_after` all failed (with fewer probes than that: every one failed, the target has
//!   never answered);
//! - `degraded`: any of: the median latency of the successful probes is over `latency_threshold`; more than
//!   `failure_rate_percent` of the probes failed; a certificate seen by the newest probe that saw any expires within
//!   `certificate_warning_days` (or has expired); the newest JWKS read had unusable signing keys besides usable ones;
//! - `healthy` otherwise.
//!
//! A threshold met exactly is not exceeded: a 20 % failure rate with a 20 % threshold is healthy.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::health::{Certificate, HealthStatus, ProbeResult, Target, TargetKey};

/// Thresholds of the status model: configuration, not constants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthPolicy {
    /// How many of a target's newest probes its status is derived from (N).
    pub window: usize,
    /// Down when this many newest probes all failed (M).
    pub down_after: usize,
    /// Degraded when the median latency of the window's successful probes is over this.
    pub latency_threshold: Duration,
    /// Degraded when more than this many percent of the window's probes failed.
    pub failure_rate_percent: u32,
    /// Degraded when a certificate expires within this many days.
    pub certificate_warning_days: i64,
}

impl Default for HealthPolicy {
    fn default() -> HealthPolicy {
        HealthPolicy {
            window: 10,
            down_after: 3,
            latency_threshold: Duration::from_secs(2),
            failure_rate_percent: 20,
            certificate_warning_days: 30,
        }
    }
}

/// A target's evaluated health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderHealth {
    pub target: Target,
    pub status: HealthStatus,
    /// Why the status is `down` or `degraded`, one line each; empty otherwise.
    pub reasons: Vec<String>,
    /// The newest probe, if any.
    pub latest: Option<ProbeResult>,
    /// The certificates of the newest probe in the window that saw any, soonest expiry first.
    pub certificates: Vec<Certificate>,
    /// How many probes the status was derived from, and how many of them failed.
    pub probes: usize,
    pub failures: usize,
}

impl ProviderHealth {
    /// The soonest expiry among [`ProviderHealth::certificates`].
    pub fn certificate_expires_at(&self) -> Option<OffsetDateTime> {
        self.certificates.iter().map(|certificate| certificate.not_after).min()
    }
}

/// A target's status changed (the first evaluation of a target changes it from `unknown`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub target: Target,
    pub from: HealthStatus,
    pub to: HealthStatus,
    pub at: OffsetDateTime,
    /// The new status's reasons.
    pub reasons: Vec<String>,
}

/// The health of `target` from `history` (probes of other targets are ignored; order does not matter).
pub fn evaluate(
    target: &Target,
    history: &[ProbeResult],
    policy: &HealthPolicy,
    now: OffsetDateTime,
) -> ProviderHealth {
    let key = target.key();
    let probes: Vec<&ProbeResult> = history.iter().filter(|probe| probe.target.key() == key).collect();
    evaluate_probes(target, probes, policy, now)
}

/// The health of every target in `targets`, in their order, from one history of many targets.
pub fn evaluate_all(
    targets: &[Target],
    history: &[ProbeResult],
    policy: &HealthPolicy,
    now: OffsetDateTime,
) -> Vec<ProviderHealth> {
    let mut by_target: BTreeMap<TargetKey, Vec<&ProbeResult>> = BTreeMap::new();
    for probe in history {
        by_target.entry(probe.target.key()).or_default().push(probe);
    }
    targets
        .iter()
        .map(|target| {
            let probes = by_target.remove(&target.key()).unwrap_or_default();
            evaluate_probes(target, probes, policy, now)
        })
        .collect()
}

/// The change from `previous` (`None`: never evaluated, as `unknown`) to `current`'s status, if it is one.
pub fn status_change(
    previous: Option<HealthStatus>,
    current: &ProviderHealth,
    now: OffsetDateTime,
) -> Option<StatusChange> {
    let from = previous.unwrap_or(HealthStatus::Unknown);
    (from != current.status).then(|| StatusChange {
        target: current.target.clone(),
        from,
        to: current.status,
        at: now,
        reasons: current.reasons.clone(),
    })
}

fn evaluate_probes(
    target: &Target,
    mut probes: Vec<&ProbeResult>,
    policy: &HealthPolicy,
    now: OffsetDateTime,
) -> ProviderHealth {
    probes.sort_by_key(|probe| Reverse(probe.probed_at));
    probes.truncate(policy.window.max(1));
    let failures = probes.iter().filter(|probe| !probe.succeeded()).count();
    let mut certificates: Vec<Certificate> = probes
        .iter()
        .find(|probe| !probe.certificates.is_empty())
        .map(|probe| probe.certificates.clone())
        .unwrap_or_default();
    certificates.sort_by_key(|certificate| certificate.not_after);
    let mut health = ProviderHealth {
        target: target.clone(),
        status: HealthStatus::Unknown,
        reasons: Vec::new(),
        latest: probes.first().map(|probe| (*probe).clone()),
        certificates,
        probes: probes.len(),
        failures,
    };
    let Some(latest) = probes.first() else { return health };

    let down_after = policy.down_after.max(1);
    let newest = probes.len().min(down_after);
    if probes.iter().take(newest).all(|probe| !probe.succeeded()) {
        health.status = HealthStatus::Down;
        health.reasons.push(if newest == 1 {
            "the only probe failed".to_owned()
        } else {
            format!("the last {newest} probes failed")
        });
        health.reasons.extend(latest.failed_checks().map(|check| format!("{}: {}", check.name, check.detail)));
        return health;
    }

    let mut latencies: Vec<Duration> =
        probes.iter().filter(|probe| probe.succeeded()).filter_map(|probe| probe.latency()).collect();
    latencies.sort();
    if let Some(median) = latencies.get(latencies.len() / 2)
        && *median > policy.latency_threshold
    {
        health.reasons.push(format!(
            "median latency {} ms is over {} ms",
            median.as_millis(),
            policy.latency_threshold.as_millis()
        ));
    }
    if failures as u64 * 100 > u64::from(policy.failure_rate_percent) * probes.len() as u64 {
        health.reasons.push(format!(
            "{failures} of the last {} probes failed (more than {} %)",
            probes.len(),
            policy.failure_rate_percent
        ));
    }
    let warning = now + time::Duration::days(policy.certificate_warning_days);
    for certificate in health.certificates.iter().filter(|certificate| certificate.not_after < warning) {
        health.reasons.push(certificate_reason(certificate, now));
    }
    if let Some(keys) = probes.iter().find_map(|probe| probe.keys)
        && keys.usable > 0
        && keys.unusable > 0
    {
        health.reasons.push(format!(
            "{} of {} signing keys are unusable",
            keys.unusable,
            u64::from(keys.usable) + u64::from(keys.unusable)
        ));
    }
    health.status = if health.reasons.is_empty() { HealthStatus::Healthy } else { HealthStatus::Degraded };
    health
}

fn certificate_reason(certificate: &Certificate, now: OffsetDateTime) -> String {
    let what = format!("{} certificate {} ({})", certificate.usage.as_str(), certificate.subject, certificate.source);
    if certificate.not_after <= now {
        format!("{what} expired on {}", certificate.not_after.date())
    } else {
        format!("{what} expires on {} (in {} days)", certificate.not_after.date(), certificate.days_left(now))
    }
}
