//! The provider-health aggregate's trait, [`ProbeStore`]: every probe of a target (ZITADEL itself or an identity
//! provider) and each target's status history. The judging is `warden_core::health`'s; this aggregate only stores
//! what it is given.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::health::{HealthStatus, ProbeResult, StatusChange, TargetId, TargetKey};
use warden_core::id::EnvironmentName;

use crate::store::Error;

/// Probe results and status changes of provider health.
#[async_trait]
pub trait ProbeStore: Send + Sync {
    /// Appends probe results in one transaction.
    async fn record_probes(&self, probes: &[ProbeResult]) -> Result<(), Error>;
    /// The newest `per_target` probes of every target of an environment: per target (in target order) newest
    /// first. What `warden_core::health::evaluate_all` reads, with `per_target` its window.
    async fn latest_probes(&self, environment: &EnvironmentName, per_target: u32) -> Result<Vec<ProbeResult>, Error>;
    /// One target's probes, newest first, at most `limit`.
    async fn probe_history(&self, target: &TargetKey, limit: u32) -> Result<Vec<ProbeResult>, Error>;
    /// Deletes the probes made before `before` (the status history stays); returns how many.
    async fn prune_probes(&self, before: OffsetDateTime) -> Result<u64, Error>;

    /// Appends status changes in one transaction.
    async fn record_status_changes(&self, changes: &[StatusChange]) -> Result<(), Error>;
    /// Every target's current status (the last change recorded for it), for `warden_core::health::status_change`.
    async fn current_statuses(&self, environment: &EnvironmentName)
    -> Result<BTreeMap<TargetKey, HealthStatus>, Error>;
    /// Status changes of an environment (of one target, if given), newest first, at most `limit`.
    async fn status_history(
        &self,
        environment: &EnvironmentName,
        target: Option<&TargetId>,
        limit: u32,
    ) -> Result<Vec<StatusChange>, Error>;
}
