//! warden: identity governance for ZITADEL. The library behind the `warden` binary; `ARCHITECTURE.md` has the map.

pub mod actions;
pub mod app;
pub mod cli;
pub mod config;
pub mod govern;
pub mod metrics;
pub mod probe;
pub mod scheduler;
pub mod scim;
pub mod server;
pub mod store;
pub mod sync;
pub mod telemetry;
