//! The control handle tests use to steer a running simulator: estate access, faults, counters, tokens, settings.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::{ApiSupport, FaultSlot, ProviderEndpoint, Shared, lock};
use crate::estate::{EstateCounts, SeededAnomaly};

/// Control handle of a running [`Simulator`](super::Simulator); cheap to clone, usable from any thread.
#[derive(Debug, Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

/// A fault to inject into matching API requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `"POST /management/v1/users/_search"` (verb + route template as in ZITADEL's route list) or `"*"`.
    pub route: String,
    /// Only requests whose `x-zitadel-orgid` header equals this org id.
    pub org_id: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// Let this many matching requests through first.
    pub skip: u32,
    /// How many matching requests fail after that; `None` = all.
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on `route` for every matching request (no org filter, no skip, unlimited).
    pub fn new(route: impl Into<String>, kind: FaultKind) -> Self {
        Self { route: route.into(), org_id: None, kind, skip: 0, times: None }
    }
}

/// The kind of an injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this HTTP status and a ZITADEL error body with the matching gRPC code.
    Status(u16),
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Never answer (until the client gives up or the simulator shuts down).
    Hang,
    /// 200 with the JSON body cut in half.
    TruncatedBody,
    /// Apply the request, then never answer: the change is made but its response is lost (the client times out).
    LostResponse,
    /// 429 (gRPC code 8) with a `Retry-After` header.
    RateLimited {
        /// Value of the `Retry-After` header.
        retry_after_seconds: u64,
    },
}

impl Control {
    /// Changes how a simulated identity provider's issuer (`healthy`, `slow`, `no-keys`, `jwt`) answers from now on.
    pub fn set_provider_endpoint(&self, name: &str, endpoint: ProviderEndpoint) {
        lock(&self.shared.provider_endpoints).insert(name.to_string(), endpoint);
    }

    /// Runs `mutate` with exclusive access to the estate (requests wait meanwhile).
    pub fn with_estate<R>(&self, mutate: impl FnOnce(&mut crate::Estate) -> R) -> R {
        let mut estate = lock(&self.shared.estate);
        mutate(&mut estate)
    }

    /// Adds a fault; faults are checked in insertion order and the first one that fires wins.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push(FaultSlot { fault, seen: 0, fired: 0 });
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Requests per `"VERB /route/template"` (API routes and `POST /oauth/v2/token`).
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).clone()
    }

    /// Sum of [`Control::request_counts`].
    pub fn total_requests(&self) -> u64 {
        lock(&self.shared.counts).values().sum()
    }

    /// Zeroes the request counters.
    pub fn reset_request_counts(&self) {
        lock(&self.shared.counts).clear();
    }

    /// Registers a PAT that authenticates as `user_id`.
    pub fn register_pat(&self, token: impl Into<String>, user_id: &str) {
        lock(&self.shared.pats).insert(token.into(), user_id.to_string());
    }

    /// Revokes a PAT registered with [`Control::register_pat`]: it no longer authenticates.
    pub fn revoke_pat(&self, token: &str) {
        lock(&self.shared.pats).remove(token);
    }

    /// Invalidates every access token issued by the token endpoint (PATs stay valid).
    pub fn revoke_access_tokens(&self) {
        lock(&self.shared.access_tokens).clear();
    }

    /// The key file JSON of the `warden` service account (`{"type":"serviceaccount","keyId","key","userId"}`).
    pub fn service_account_key_json(&self) -> String {
        let estate = lock(&self.shared.estate);
        serde_json::json!({
            "type": "serviceaccount",
            "keyId": estate.warden_key_id(),
            "key": crate::estate::SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
            "userId": estate.warden_user_id(),
        })
        .to_string()
    }

    /// `(client_id, client_secret)` of the `warden` user for the client-credentials grant.
    pub fn client_credentials(&self) -> (String, String) {
        let estate = lock(&self.shared.estate);
        match estate.user(estate.warden_user_id()) {
            Some(user) => {
                let secret = user.machine().and_then(|machine| machine.client_secret.clone()).unwrap_or_default();
                (user.user_name.clone(), secret)
            }
            None => (String::new(), String::new()),
        }
    }

    /// Switches the offered API generations.
    pub fn set_api_support(&self, api: ApiSupport) {
        lock(&self.shared.settings).api = api;
    }

    /// Sets the delay added to every API request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.settings).latency = latency;
    }

    /// Sets the estate's current time (event timestamps, key expiry checks).
    pub fn set_now(&self, now: OffsetDateTime) {
        lock(&self.shared.estate).set_now(now);
    }

    /// The anomalies the generator planted.
    pub fn seeded_anomalies(&self) -> Vec<SeededAnomaly> {
        lock(&self.shared.estate).seeded_anomalies().to_vec()
    }

    /// Object counts of the estate.
    pub fn counts(&self) -> EstateCounts {
        lock(&self.shared.estate).counts()
    }

    /// The base URL of the simulator.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }
}

impl Shared {
    /// Advances the counters of faults matching this request and returns the first one that fires.
    pub(crate) fn next_fault(&self, route_key: &str, org_id: Option<&str>) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let mut fired = None;
        for slot in faults.iter_mut() {
            let fault = &slot.fault;
            let route_matches = fault.route == "*" || fault.route == route_key;
            let org_matches = fault.org_id.as_deref().is_none_or(|wanted| Some(wanted) == org_id);
            if !route_matches || !org_matches {
                continue;
            }
            slot.seen += 1;
            let active = slot.seen > fault.skip && fault.times.is_none_or(|times| slot.fired < times);
            if active && fired.is_none() {
                slot.fired += 1;
                fired = Some(fault.kind.clone());
            }
        }
        fired
    }
}
