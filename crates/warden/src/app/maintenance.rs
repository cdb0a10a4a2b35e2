//! Keeping the store lean and fast: retention (what has aged out of `[retention]` is deleted) and planner
//! statistics (tables that grew a lot are analyzed at once, not whenever autovacuum gets to them: a new SCIM
//! tenant's first import is exactly when Okta and Entra send the most lookups).

use crate::app::lease::{self, Acquired};
use crate::app::{App, Error};
use crate::store::RetentionCutoffs;

/// What one retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub scim_request_log: u64,
    pub sync_runs: u64,
    pub changes: u64,
    pub audit_events: u64,
    pub provider_probes: u64,
    /// `true` when another process was applying retention, so this one did nothing.
    pub skipped: bool,
}

/// Deletes what is older than `[retention]` allows, under the `retention` lease (one process at a time).
pub async fn apply_retention(app: &App) -> Result<RetentionOutcome, Error> {
    let lease = match lease::acquire(app, "retention").await? {
        Acquired::Held(lease) => lease,
        Acquired::Busy(_) => return Ok(RetentionOutcome { skipped: true, ..RetentionOutcome::default() }),
    };
    let now = app.now();
    let retention = &app.settings().retention;
    let cutoffs = RetentionCutoffs {
        scim_request_log: now - retention.scim_request_log,
        sync_runs: now - retention.sync_runs,
        changes: retention.changes.map(|keep| now - keep),
        audit_events: retention.audit_events.map(|keep| now - keep),
        provider_probes: now - retention.provider_probes,
    };
    let pruned = app.store().apply_retention(&cutoffs).await;
    lease.release().await;
    let pruned = pruned?;
    let outcome = RetentionOutcome {
        scim_request_log: pruned.scim_request_log,
        sync_runs: pruned.sync_runs,
        changes: pruned.changes,
        audit_events: pruned.audit_events,
        provider_probes: pruned.provider_probes,
        skipped: false,
    };
    if outcome != RetentionOutcome::default() {
        tracing::info!(?outcome, "retention");
    }
    Ok(outcome)
}

/// Refreshes the planner statistics of every table that changed a lot since they were last gathered; returns the
/// tables it analyzed.
pub async fn refresh_statistics(app: &App) -> Result<Vec<String>, Error> {
    let analyzed = app.store().refresh_statistics().await?;
    if !analyzed.is_empty() {
        tracing::info!(tables = ?analyzed, "refreshed planner statistics");
    }
    Ok(analyzed)
}
