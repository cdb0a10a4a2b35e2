//! warden's pure domain.
//!
//! Everything here is a plain function of its inputs: no I/O, no clock (callers pass `now`), no database or HTTP
//! types. The binary converts wire DTOs and database rows into these types at its edges.

pub mod access_history;
pub mod fields;
pub mod governance;
pub mod health;
pub mod id;
pub mod incremental;
pub mod inventory;
pub mod model;
pub mod operator;
pub mod posture;
pub mod reconcile;
pub mod trend;
