//! Leases: which process runs a job (a sync of one environment, retention) while several share the database, in
//! the shape of `store/observed` (`store`, `rows`, `sql`).

mod rows;
mod sql;
mod store;

pub use store::{Lease, LeaseAcquisition, LeaseStore};
