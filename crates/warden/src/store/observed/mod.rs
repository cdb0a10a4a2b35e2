//! Observed state and its history: environments, the objects a sync reads from ZITADEL, sync runs and changes.
//!
//! The shape every aggregate of the store repeats: `store` (the trait, [`Store`], and the types it takes and
//! returns), `rows` (how those types map onto tables) and `sql` (the trait implemented on `SqlStore`, its longer
//! parts in a file per sub-topic: here `objects`).

mod objects;
mod rows;
mod sql;
mod store;

pub use store::{ChangeQuery, ObjectScope, Store, SyncWrites};
