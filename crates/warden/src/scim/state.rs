//! What every SCIM handler shares, and the clock at the HTTP edge.

use std::sync::Arc;

use time::OffsetDateTime;
use warden_scim::SchemaRegistry;

use crate::app::compute::ComputePool;
use crate::app::scim_records::ScimRecords;
use crate::app::settings::ScimSettings;
use crate::scim::limits::{ConnectionLimiter, FailedAuthLimiter};
use crate::scim::request_log::RequestLogWriter;
use crate::scim::vouch::{Vouching, ZitadelClients};
use crate::store::Store;

/// What every SCIM handler shares: the records (the store, the schemas and the compute pool the writes use), the
/// limits, and the request-log writer.
#[derive(Clone)]
pub struct ScimState {
    pub records: ScimRecords,
    pub settings: Arc<ScimSettings>,
    pub connection_limiter: Arc<ConnectionLimiter>,
    pub failed_auth_limiter: Arc<FailedAuthLimiter>,
    pub request_log: Arc<RequestLogWriter>,
    pub(crate) vouching: Arc<Vouching>,
}

impl ScimState {
    /// Starts the request-log writer task: call within a Tokio runtime. `zitadel` gives the client that checks the
    /// bearer tokens an environment's ZITADEL vouches for.
    pub fn new(store: Arc<dyn Store>, settings: ScimSettings, zitadel: ZitadelClients) -> ScimState {
        let registry = Arc::new(SchemaRegistry::standard());
        let compute = Arc::new(ComputePool::for_this_machine());
        ScimState {
            request_log: Arc::new(RequestLogWriter::start(store.clone())),
            records: ScimRecords::new(store, registry, compute),
            connection_limiter: Arc::new(ConnectionLimiter::new(settings.requests_per_second)),
            failed_auth_limiter: Arc::new(FailedAuthLimiter::new(settings.failed_auth_per_minute)),
            vouching: Arc::new(Vouching::new(zitadel, settings.zitadel_token_cache)),
            settings: Arc::new(settings),
        }
    }
}

/// The clock, read at the HTTP edge: `meta.created`, `meta.lastModified`, grace periods. Microseconds, as stored.
#[allow(clippy::disallowed_methods, reason = "the SCIM server dates the writes it accepts")]
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}
