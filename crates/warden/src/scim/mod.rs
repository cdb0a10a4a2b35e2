//! The SCIM 2.0 HTTP server: `/scim/v2/{orgId}/...`, a thin front end over `warden_scim` (the protocol) and
//! [`crate::store::ScimStore`] (the storage).
//!
//! - `router`: the routes; `state`: what every handler shares.
//! - `auth`: the middleware every tenant request passes (token, tenant, limits, timeout, request log); `limits`:
//!   the per-connection rate and the failed-authentication throttle.
//! - `resources`: the Users and Groups handlers, one generic set per resource kind, over `app::scim_records` (the
//!   writes); ETags and conditional requests.
//! - `query`: lists and searches: the filter's indexed part goes to the store, the rest is evaluated in memory.
//! - `bulk`: `/Bulk`, with `bulkId` references, `failOnErrors` and enforced limits.
//! - `discovery`: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
//! - `request_log`: the log rows of requests that wrote nothing, written in shared batches.
//! - `error`: [`Error`], rendered as the SCIM error body; 5xx bodies are opaque. `body`: request bodies; `wire`:
//!   responses.
//!
//! CPU-heavy protocol work (normalizing a body, applying a PATCH, filtering and sorting in memory) runs on the
//! `app::compute::ComputePool`, off the async runtime's threads, so that no request starves the others or the timer of its own
//! timeout. Every URL handed out starts with `[server] public_url` (else the listen address), never with a header
//! the client sends.

mod auth;
mod body;
mod bulk;
mod discovery;
mod error;
mod limits;
mod query;
mod request_log;
mod resources;
mod router;
mod state;
mod vouch;
mod wire;

pub use auth::Caller;
pub use body::ScimBody;
pub use error::Error;
pub use limits::{ConnectionLimiter, FailedAuthLimiter};
pub use request_log::RequestLogWriter;
pub use router::router;
pub use state::{ScimState, now};
pub use vouch::ZitadelClients;
pub use wire::SCIM_CONTENT_TYPE;
