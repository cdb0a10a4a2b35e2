//! The Prometheus metrics `/metrics` serves (text exposition format, through `prometheus-client`). Every name
//! starts with `warden_`, units follow Prometheus' conventions, and labels stay bounded: environment names come
//! from the configuration, kinds and outcomes from fixed lists; never a user, a tenant or an id.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use warden_core::model::{ResourceKind, SyncRun};
use warden_core::posture::Severity;

use crate::govern::notify::DeliveryOutcome;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SyncLabels {
    environment: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ObjectLabels {
    environment: String,
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ZitadelLabels {
    environment: String,
    outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EnvironmentLabels {
    environment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ScimLabels {
    method: String,
    status_class: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SeverityLabels {
    severity: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

/// What one environment's ZITADEL client did during a run: the difference of its statistics before and after.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZitadelRequests {
    pub requests: u64,
    pub retries: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
}

impl ZitadelRequests {
    /// A client's statistics now.
    pub fn of(stats: &warden_zitadel::Stats) -> ZitadelRequests {
        ZitadelRequests {
            requests: stats.requests(),
            retries: stats.retries(),
            client_errors: stats.client_errors(),
            server_errors: stats.server_errors(),
            transport_errors: stats.transport_errors(),
        }
    }

    /// What happened between `before` and `self`.
    pub fn since(self, before: ZitadelRequests) -> ZitadelRequests {
        ZitadelRequests {
            requests: self.requests.saturating_sub(before.requests),
            retries: self.retries.saturating_sub(before.retries),
            client_errors: self.client_errors.saturating_sub(before.client_errors),
            server_errors: self.server_errors.saturating_sub(before.server_errors),
            transport_errors: self.transport_errors.saturating_sub(before.transport_errors),
        }
    }
}

/// The registry and every family in it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    sync_duration: Family<SyncLabels, Histogram>,
    sync_runs: Family<SyncLabels, Counter>,
    stored_objects: Family<ObjectLabels, Gauge>,
    zitadel_requests: Family<ZitadelLabels, Counter>,
    zitadel_retries: Family<EnvironmentLabels, Counter>,
    scim_requests: Family<ScimLabels, Counter>,
    scim_duration: Family<MethodLabels, Histogram>,
    open_alerts: Family<SeverityLabels, Gauge>,
    notification_deliveries: Family<OutcomeLabels, Counter>,
    lease_takeovers: Family<JobLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("warden");
        let sync_duration =
            Family::<SyncLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.5, 2.0, 12)));
        registry.register_with_unit(
            "sync_duration",
            "How long a sync of an environment took, by its end status",
            Unit::Seconds,
            sync_duration.clone(),
        );
        let sync_runs = Family::<SyncLabels, Counter>::default();
        registry.register("sync_runs", "Sync runs of an environment, by end status", sync_runs.clone());
        let stored_objects = Family::<ObjectLabels, Gauge>::default();
        registry.register(
            "stored_objects",
            "Objects of each kind the store holds for an environment after its last sync",
            stored_objects.clone(),
        );
        let zitadel_requests = Family::<ZitadelLabels, Counter>::default();
        registry.register(
            "zitadel_requests",
            "Requests sent to ZITADEL, by outcome (ok, client_error, server_error, transport_error)",
            zitadel_requests.clone(),
        );
        let zitadel_retries = Family::<EnvironmentLabels, Counter>::default();
        registry.register("zitadel_retries", "Requests to ZITADEL that were retries", zitadel_retries.clone());
        let scim_requests = Family::<ScimLabels, Counter>::default();
        registry.register("scim_requests", "SCIM requests answered, by method and status class", scim_requests.clone());
        let scim_duration = Family::<MethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_5, 2.0, 14))
        });
        registry.register_with_unit(
            "scim_request_duration",
            "How long SCIM requests took to answer, by method",
            Unit::Seconds,
            scim_duration.clone(),
        );
        let open_alerts = Family::<SeverityLabels, Gauge>::default();
        registry.register("alerts_open", "Alerts not resolved, by severity", open_alerts.clone());
        let notification_deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "notification_deliveries",
            "Webhook delivery attempts, by outcome (delivered, retrying, failed)",
            notification_deliveries.clone(),
        );
        let lease_takeovers = Family::<JobLabels, Counter>::default();
        registry.register(
            "lease_takeovers",
            "Jobs taken over from a holder whose lease had expired",
            lease_takeovers.clone(),
        );
        Metrics {
            registry,
            sync_duration,
            sync_runs,
            stored_objects,
            zitadel_requests,
            zitadel_retries,
            scim_requests,
            scim_duration,
            open_alerts,
            notification_deliveries,
            lease_takeovers,
        }
    }

    /// Creates the series every configured environment will have, at zero, so that a family is exposed (and a
    /// rate can be taken) before its first event.
    pub fn register_environments(&self, environments: &[String]) {
        for environment in environments {
            for status in ["ok", "partial", "failed", "interrupted"] {
                let labels = SyncLabels { environment: environment.clone(), status: status.to_owned() };
                let _ = self.sync_runs.get_or_create(&labels);
                let _ = self.sync_duration.get_or_create(&labels);
            }
            for outcome in ["ok", "client_error", "server_error", "transport_error"] {
                let labels = ZitadelLabels { environment: environment.clone(), outcome: outcome.to_owned() };
                let _ = self.zitadel_requests.get_or_create(&labels);
            }
            let _ = self.zitadel_retries.get_or_create(&EnvironmentLabels { environment: environment.clone() });
            let _ = self.lease_takeovers.get_or_create(&JobLabels { job: "sync".to_owned() });
        }
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let _ = self.scim_duration.get_or_create(&MethodLabels { method: method.to_owned() });
            for status_class in ["2xx", "4xx", "5xx"] {
                let labels = ScimLabels { method: method.to_owned(), status_class: status_class.to_owned() };
                let _ = self.scim_requests.get_or_create(&labels);
            }
        }
        for outcome in ["delivered", "retrying", "failed"] {
            let _ = self.notification_deliveries.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() });
        }
        let _ = self.lease_takeovers.get_or_create(&JobLabels { job: "retention".to_owned() });
    }

    /// A finished sync run: its duration and status, what the store holds, and its requests to ZITADEL.
    pub fn record_sync(&self, run: &SyncRun, duration: Duration, requests: ZitadelRequests) {
        let environment = run.environment.to_string();
        let labels = SyncLabels { environment: environment.clone(), status: run.status.as_str().to_owned() };
        self.sync_duration.get_or_create(&labels).observe(duration.as_secs_f64());
        let _ = self.sync_runs.get_or_create(&labels).inc();
        for kind in ResourceKind::ALL {
            if let Some(count) = run.counts.get(&kind) {
                let labels = ObjectLabels { environment: environment.clone(), kind: kind.as_str().to_owned() };
                let _ = self.stored_objects.get_or_create(&labels).set(i64::try_from(*count).unwrap_or(i64::MAX));
            }
        }
        let failed = requests.client_errors + requests.server_errors + requests.transport_errors;
        for (outcome, count) in [
            ("ok", requests.requests.saturating_sub(failed)),
            ("client_error", requests.client_errors),
            ("server_error", requests.server_errors),
            ("transport_error", requests.transport_errors),
        ] {
            let labels = ZitadelLabels { environment: environment.clone(), outcome: outcome.to_owned() };
            let _ = self.zitadel_requests.get_or_create(&labels).inc_by(count);
        }
        let _ = self.zitadel_retries.get_or_create(&EnvironmentLabels { environment }).inc_by(requests.retries);
    }

    /// One SCIM request answered with `status` after `elapsed`.
    pub fn record_scim_request(&self, method: &str, status: u16, elapsed: Duration) {
        let method = match method {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => method,
            _ => "OTHER",
        };
        let status_class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let labels = ScimLabels { method: method.to_owned(), status_class: status_class.to_owned() };
        let _ = self.scim_requests.get_or_create(&labels).inc();
        self.scim_duration.get_or_create(&MethodLabels { method: method.to_owned() }).observe(elapsed.as_secs_f64());
    }

    /// The alerts not resolved now, by severity (every severity present, zero included).
    pub fn set_open_alerts(&self, counts: &[(Severity, u64)]) {
        for severity in [Severity::Low, Severity::Medium, Severity::High] {
            let count = counts.iter().filter(|(of, _)| *of == severity).map(|(_, count)| *count).sum::<u64>();
            let labels = SeverityLabels { severity: severity.as_str().to_owned() };
            let _ = self.open_alerts.get_or_create(&labels).set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// One round of webhook delivery.
    pub fn record_deliveries(&self, outcome: &DeliveryOutcome) {
        for (label, count) in
            [("delivered", outcome.delivered), ("retrying", outcome.retrying), ("failed", outcome.failed)]
        {
            let labels = OutcomeLabels { outcome: label.to_owned() };
            let _ = self.notification_deliveries.get_or_create(&labels).inc_by(count as u64);
        }
    }

    /// A job taken over from a holder whose lease expired.
    pub fn record_lease_takeover(&self, job: &str) {
        let _ = self.lease_takeovers.get_or_create(&JobLabels { job: job.to_owned() }).inc();
    }

    /// The exposition text.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        text
    }
}
