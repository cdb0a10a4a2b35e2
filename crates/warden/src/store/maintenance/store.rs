//! The maintenance aggregate's trait, [`MaintenanceStore`], and its types.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::store::Error;

/// What retention deletes: everything recorded before each cutoff; `None` keeps that kind for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionCutoffs {
    pub scim_request_log: OffsetDateTime,
    /// Sync runs that recorded no change, except each environment's baseline and the last run of each UTC day.
    pub sync_runs: OffsetDateTime,
    pub changes: Option<OffsetDateTime>,
    pub audit_events: Option<OffsetDateTime>,
    /// Provider probes (their status history stays).
    pub provider_probes: OffsetDateTime,
}

/// How many rows one retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPruned {
    pub scim_request_log: u64,
    pub sync_runs: u64,
    pub changes: u64,
    pub audit_events: u64,
    pub provider_probes: u64,
}

#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Deletes what is older than the cutoffs, a bounded batch per statement.
    async fn apply_retention(&self, cutoffs: &RetentionCutoffs) -> Result<RetentionPruned, Error>;
    /// Gathers planner statistics for every table of warden's that changed by more than a tenth of its rows (and
    /// 50) since they were last gathered, as autovacuum would, but now; returns the tables analyzed. SQLite runs
    /// `PRAGMA optimize`, which decides for itself.
    async fn refresh_statistics(&self) -> Result<Vec<String>, Error>;
    /// Whether the database lacks a migration this build knows (another process restored or rolled it back).
    async fn migrations_behind(&self) -> Result<bool, Error>;
    /// Leaves the database tidy for the next process: SQLite folds its write-ahead log into the database file
    /// (which a large sync leaves at a hundred megabytes otherwise); PostgreSQL needs nothing.
    async fn close(&self) -> Result<(), Error>;
}
