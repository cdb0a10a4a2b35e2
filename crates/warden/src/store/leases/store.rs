//! The leases aggregate's trait, [`LeaseStore`], and its types.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::store::Error;

/// A job's lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job: `sync/prod`, `retention`.
    pub name: String,
    /// The process holding it.
    pub holder: String,
    pub acquired_at: OffsetDateTime,
    pub renewed_at: OffsetDateTime,
    /// Without a renewal, the lease is free from then on.
    pub expires_at: OffsetDateTime,
}

/// What an attempt to take a lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAcquisition {
    /// The caller holds the lease now; `taken_over_from` names the holder whose lease had expired, if any.
    Acquired { taken_over_from: Option<String> },
    /// Another holder's lease is live.
    Busy(Lease),
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease `name` for `holder` until `now + ttl` when it is free, expired, or already `holder`'s.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<LeaseAcquisition, Error>;
    /// Extends `holder`'s lease to `now + ttl`; `false` when `holder` no longer holds it.
    async fn renew_lease(&self, name: &str, holder: &str, now: OffsetDateTime, ttl: Duration) -> Result<bool, Error>;
    /// Gives the lease up, if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), Error>;
    /// The lease as stored, live or expired.
    async fn lease(&self, name: &str) -> Result<Option<Lease>, Error>;
}
