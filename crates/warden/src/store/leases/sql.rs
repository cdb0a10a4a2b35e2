//! The SQL of [`LeaseStore`]: a lease is taken with one conditional upsert, so that of two processes trying at
//! once exactly one gets it.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::store::Error;
use crate::store::leases::rows::{LEASE_COLUMNS, decode_lease};
use crate::store::leases::{Lease, LeaseAcquisition, LeaseStore};
use crate::store::sql::{Dialect, SqlValue, execute, fetch_optional, statement};
use crate::store::sql_store::SqlStore;

fn expiry(now: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
    now + time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX)
}

#[async_trait]
impl<D: Dialect> LeaseStore for SqlStore<D> {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<LeaseAcquisition, Error> {
        let previous = self.lease(name).await?;
        if let Some(previous) = previous.as_ref().filter(|lease| lease.holder != holder && lease.expires_at > now) {
            return Ok(LeaseAcquisition::Busy(previous.clone()));
        }
        // Taken only if, when the statement runs, the lease is still free, expired or the caller's own: a racing
        // process that got there first leaves this statement updating nothing.
        let mut builder = statement::<D>(
            "INSERT INTO lease (name, holder, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, \
             renewed_at = excluded.renewed_at, expires_at = excluded.expires_at \
             WHERE lease.expires_at <= ? OR lease.holder = excluded.holder",
            vec![
                SqlValue::text(name),
                SqlValue::text(holder),
                SqlValue::Time(Some(now)),
                SqlValue::Time(Some(now)),
                SqlValue::Time(Some(expiry(now, ttl))),
                SqlValue::Time(Some(now)),
            ],
        );
        if execute(&self.pool, &mut builder).await? == 0 {
            return match self.lease(name).await? {
                Some(lease) => Ok(LeaseAcquisition::Busy(lease)),
                // Released between the two statements: the caller tries again later.
                None => Ok(LeaseAcquisition::Busy(Lease {
                    name: name.to_owned(),
                    holder: "(released)".to_owned(),
                    acquired_at: now,
                    renewed_at: now,
                    expires_at: now,
                })),
            };
        }
        let taken_over_from = previous.map(|lease| lease.holder).filter(|previous| previous != holder);
        Ok(LeaseAcquisition::Acquired { taken_over_from })
    }

    async fn renew_lease(&self, name: &str, holder: &str, now: OffsetDateTime, ttl: Duration) -> Result<bool, Error> {
        let mut builder = statement::<D>(
            "UPDATE lease SET renewed_at = ?, expires_at = ? WHERE name = ? AND holder = ?",
            vec![
                SqlValue::Time(Some(now)),
                SqlValue::Time(Some(expiry(now, ttl))),
                SqlValue::text(name),
                SqlValue::text(holder),
            ],
        );
        Ok(execute(&self.pool, &mut builder).await? == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), Error> {
        let mut builder = statement::<D>(
            "DELETE FROM lease WHERE name = ? AND holder = ?",
            vec![SqlValue::text(name), SqlValue::text(holder)],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>, Error> {
        let mut builder =
            statement::<D>(&format!("SELECT {LEASE_COLUMNS} FROM lease WHERE name = ?"), vec![SqlValue::text(name)]);
        fetch_optional(&self.pool, &mut builder, "lease", decode_lease).await
    }
}
