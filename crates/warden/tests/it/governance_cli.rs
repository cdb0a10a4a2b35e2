//! Findings, alerts and webhooks as an operator meets them: `warden sync` against the simulator opens an alert per
//! high finding and tells the webhooks; a cleared condition resolves its alert; a failing endpoint only delays its
//! own notifications; operators' actions land in the audit log.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use time::macros::datetime;
use warden::config::DatabaseUrl;
use warden::store::{self, DeliveryStatus};
use zitadel_sim::{Estate, Simulator, SimulatorOptions};

use crate::sync_cli::{PAT, run, warden};

type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    async fn record(State(received): State<Received>, uri: axum::http::Uri, body: String) -> StatusCode {
        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
        received.lock().unwrap().push((uri.path().to_owned(), value));
        if uri.path() == "/broken" { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
    }
    let app = Router::new().route("/{*path}", post(record)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), received)
}

fn write_config(directory: &Path, sim: &Simulator) {
    let config = format!(
        "[database]\nurl = \"sqlite://{}\"\n\n[[environments]]\nname = \"prod\"\nurl = \"{}\"\n\
         credential = {{ pat_env = \"SIM_PAT\" }}\nrate_limit = 0\n\n\
         [governance]\nalert_min_severity = \"high\"\n\
         [[governance.webhooks]]\nname = \"secops\"\nurl_env = \"HOOK_URL\"\n\
         [[governance.webhooks]]\nname = \"chat\"\nurl_env = \"SLACK_URL\"\nformat = \"slack\"\n\
         [[governance.webhooks]]\nname = \"broken\"\nurl_env = \"BROKEN_URL\"\nrules = [\"machine-user-manager-role\"]\n",
        directory.join("warden.db").display(),
        sim.base_url()
    );
    std::fs::write(directory.join("warden.toml"), config).unwrap();
}

#[tokio::test]
async fn high_findings_open_alerts_that_webhooks_hear_of_and_that_resolve_when_cleared() {
    let options = SimulatorOptions::new(Estate::seed(datetime!(2026-11-01 12:00 UTC)), PAT);
    let sim = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (hooks, received) = receiver().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    let sync = || {
        let mut command = warden(directory.path(), &["sync", "--format", "json"]);
        command
            .env("HOOK_URL", format!("{hooks}/hook"))
            .env("SLACK_URL", format!("{hooks}/slack"))
            .env("BROKEN_URL", format!("{hooks}/broken"));
        command
    };

    let (code, _, stderr) = run(sync()).await;
    assert_eq!(code, Some(0), "{stderr}");
    let mut managers: Vec<String> = sim
        .control()
        .seeded_anomalies()
        .into_iter()
        .filter(|anomaly| anomaly.rule == "machine-user-manager-role")
        .map(|anomaly| anomaly.subject_id)
        .collect();
    managers.sort();
    managers.dedup();
    assert!(!managers.is_empty());

    let (code, stdout, stderr) = run(warden(directory.path(), &["alerts", "list", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let alerts: Value = serde_json::from_str(&stdout).unwrap();
    let alerts = alerts["alerts"].as_array().unwrap().clone();
    let mut alerted: Vec<String> =
        alerts.iter().map(|alert| alert["subject"]["id"].as_str().unwrap().to_owned()).collect();
    alerted.sort();
    assert_eq!(alerted, managers, "one alert per high finding, nothing below the threshold");

    let by_path = |path: &str| -> Vec<Value> {
        received.lock().unwrap().iter().filter(|(at, _)| at == path).map(|(_, body)| body.clone()).collect()
    };
    let hook = by_path("/hook");
    assert_eq!(hook.len(), managers.len());
    assert!(hook.iter().all(|body| body["event"] == "opened" && body["alert"]["rule"] == "machine-user-manager-role"));
    let slack = by_path("/slack");
    assert_eq!(slack.len(), managers.len());
    assert!(slack[0]["text"].as_str().unwrap().starts_with("[HIGH] machine-user-manager-role in prod"), "{slack:?}");
    let secret_free = received.lock().unwrap().iter().all(|(_, body)| !body.to_string().contains(PAT));
    assert!(secret_free);

    // The failing endpoint: attempted once, waiting to retry, logged; the others were delivered.
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let store = store::open_and_migrate(&url).await.unwrap();
    let log = store.list_notifications(None).await.unwrap();
    let broken: Vec<_> = log.iter().filter(|notification| notification.webhook == "broken").collect();
    assert_eq!(broken.len(), managers.len());
    assert!(broken.iter().all(|notification| notification.status == DeliveryStatus::Pending
        && notification.attempts == 1
        && notification.last_error.as_deref() == Some("HTTP 500")));
    assert!(
        log.iter()
            .filter(|notification| notification.webhook != "broken")
            .all(|n| n.status == DeliveryStatus::Delivered)
    );

    // Clear one condition in ZITADEL; acknowledge another alert as an operator.
    // Not warden's own account: without its manager role it could read nothing at all.
    let own = sim.control().with_estate(|estate| estate.warden_user_id().to_owned());
    let cleared = managers.iter().find(|id| **id != own).unwrap().clone();
    sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let scopes: Vec<_> = estate
            .memberships()
            .filter(|membership| membership.user_id == cleared)
            .map(|membership| membership.scope.clone())
            .collect();
        for scope in scopes {
            estate.remove_membership(&editor, &cleared, &scope).unwrap();
        }
    });
    let other =
        alerts.iter().find(|alert| alert["subject"]["id"] != cleared.as_str()).map(|alert| alert["id"].to_string());
    if let Some(other) = &other {
        let (code, _, stderr) = run(warden(directory.path(), &["alerts", "ack", other, "--by", "ana"])).await;
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, _, stderr) = run(sync()).await;
    assert_eq!(code, Some(0), "{stderr}");

    let resolved = store.list_alerts(Some(&warden_core::governance::AlertStatus::Resolved)).await.unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].subject.id, cleared);
    assert_eq!(resolved[0].resolution.as_deref(), Some("condition cleared"));
    assert!(
        by_path("/hook")
            .iter()
            .any(|body| body["event"] == "resolved" && body["alert"]["subject"]["id"] == cleared.as_str())
    );
    let findings = store.list_findings(None, true).await.unwrap();
    assert!(findings.iter().any(|tracked| tracked.finding.subject.id == cleared
        && tracked.finding.rule == "machine-user-manager-role"
        && tracked.resolved_at.is_some()));
    if other.is_some() {
        let audit = store.list_audit_events(10).await.unwrap();
        assert_eq!((audit[0].operator.as_str(), audit[0].action.as_str()), ("ana", "alert.acknowledged"));
    }
}
