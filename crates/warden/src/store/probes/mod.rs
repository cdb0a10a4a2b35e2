//! Provider health: the probes of ZITADEL itself and of every identity provider it federates, and each target's
//! status history, in the shape of `store/observed` (`store`, `rows`, `sql`).

mod rows;
mod sql;
mod store;

pub use store::ProbeStore;
