//! How a [`Lease`] maps onto the `lease` table.

use crate::store::Error;
use crate::store::leases::Lease;
use crate::store::sql::RowView;

pub(super) const LEASE_COLUMNS: &str = "name, holder, acquired_at, renewed_at, expires_at";

pub(super) fn decode_lease(row: &RowView<'_>) -> Result<Lease, Error> {
    Ok(Lease {
        name: row.text("name")?,
        holder: row.text("holder")?,
        acquired_at: row.required_time("acquired_at")?,
        renewed_at: row.required_time("renewed_at")?,
        expires_at: row.required_time("expires_at")?,
    })
}
