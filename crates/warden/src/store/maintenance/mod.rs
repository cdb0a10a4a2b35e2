//! Maintenance: retention across the aggregates, planner statistics, the schema's currency and a clean close, in
//! the shape of `store/observed` (`store` and `sql`; it maps no rows of its own).

mod sql;
mod store;

pub use store::{MaintenanceStore, RetentionCutoffs, RetentionPruned};
