//! A client for ZITADEL's REST APIs, as warden uses them: reading a whole estate and provisioning users.
//!
//! - Authentication: personal access token, JWT profile with a service-account key, or client credentials;
//!   exchanged tokens are cached, renewed before they expire, and renewed once when ZITADEL rejects one.
//! - Versions: the v1 Management and Admin APIs everywhere; v2/v2beta services where they save requests, found by
//!   trying (`api = "auto"`), or required (`"v2"`), or never used (`"v1"`).
//! - Lists page with an explicit page size and, where ZITADEL can sort, a sorting column; short pages, totals that
//!   change while paging and duplicates are errors, never a silently shorter list.
//! - Resilience: timeouts, retries with backoff and jitter honouring `Retry-After`, a request rate limit and a bound
//!   on requests in flight.
//!
//! Wire DTOs stay inside; callers get `warden_core::model` types and [`Error`].

mod auth;
mod client;
mod convert;
mod credential;
mod dto;
mod error;
mod path;
mod transport;

pub use auth::ZITADEL_API_SCOPE;
pub use client::{
    ClientOptions, EventQuery, MAX_PAGE_SIZE, NewHumanUser, ProfileUpdate, V2Service, ZitadelClient, ZitadelEvent,
};
pub use credential::{Credential, KeyFileError, ServiceAccountKey};
pub use error::Error;
pub use transport::{RetryPolicy, Stats};
