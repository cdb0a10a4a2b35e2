//! `warden health` as an operator runs it against a (simulated) ZITADEL federating providers of every kind: the JSON
//! contract, ZITADEL itself as a target, `--fail-on`, alerts opened through governance for a provider that is down,
//! and resolved when it recovers; `warden report` shows the providers.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use zitadel_sim::{Estate, ProbeProviders, ProviderEndpoint, Simulator, SimulatorOptions};

use crate::sync_cli::{PAT, run, warden};

fn write_config(directory: &Path, sim: &Simulator) {
    let config = format!(
        "[database]\nurl = \"sqlite://{}\"\n\n\
         [probes]\nallow_private = true\nazure_authority = \"{base}/__idp/azure\"\nrequest_timeout = \"3s\"\n\n\
         [[environments]]\nname = \"prod\"\nurl = \"{base}\"\ncredential = {{ pat_env = \"SIM_PAT\" }}\n\
         rate_limit = 0\n\n[governance]\nalert_min_severity = \"high\"\n",
        directory.join("warden.db").display(),
        base = sim.base_url()
    );
    std::fs::write(directory.join("warden.toml"), config).unwrap();
}

async fn json(directory: &Path, args: &[&str], expected_code: i32) -> Value {
    let (code, stdout, stderr) = run(warden(directory, args)).await;
    assert_eq!(code, Some(expected_code), "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{args:?}: {error}: {stdout}"))
}

fn status_of<'a>(health: &'a Value, name: &str) -> &'a str {
    health["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|provider| provider["name"] == name)
        .unwrap_or_else(|| panic!("no provider {name}: {health:#}"))["status"]
        .as_str()
        .unwrap()
}

fn open_alerts_on(alerts: &Value, rule: &str) -> Vec<String> {
    alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|alert| alert["rule"] == rule && alert["status"] != "resolved")
        .map(|alert| alert["subject"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn health_probes_every_provider_alerts_on_the_down_ones_and_resolves_when_they_recover() {
    // Certificates are judged by the real clock (TLS and the probe's own `now`): the estate is dated by it too.
    #[allow(clippy::disallowed_methods, reason = "the certificates' validity is relative to the real clock")]
    let now = time::OffsetDateTime::now_utc();
    let mut options = SimulatorOptions::new(Estate::seed(now), PAT);
    options.probe_providers = Some(ProbeProviders { slow_latency: Duration::from_millis(50) });
    let sim = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");

    // A provider that is down fails a high gate, exit 3, after printing the contract.
    let health = json(directory.path(), &["health", "--format", "json", "--fail-on", "high"], 3).await;
    let providers = health["providers"].as_array().unwrap();
    for provider in providers {
        for field in ["environment", "id", "name", "type", "status", "checks", "certificate_expires_at"] {
            assert!(provider.get(field).is_some(), "{field} missing: {provider:#}");
        }
        for check in provider["checks"].as_array().unwrap() {
            for field in ["name", "ok", "detail", "latency_ms"] {
                assert!(check.get(field).is_some(), "{field} missing: {check:#}");
            }
        }
    }
    let zitadel = &providers[0];
    assert_eq!((zitadel["type"].as_str(), zitadel["id"].as_str()), (Some("zitadel"), Some("zitadel")));
    assert_eq!(zitadel["status"], "healthy", "{zitadel:#}");
    assert_eq!(status_of(&health, "OIDC healthy"), "healthy");
    assert_eq!(status_of(&health, "OIDC without keys"), "down");
    assert_eq!(status_of(&health, "OIDC unreachable"), "down");
    assert_eq!(status_of(&health, "SAML 25 days"), "degraded", "{health:#}");
    let expiring = providers.iter().find(|provider| provider["name"] == "SAML 10 days").unwrap();
    assert!(expiring["certificate_expires_at"].is_string(), "{expiring:#}");

    // Governance tracked it: an alert per provider that is down, and one per certificate expiring within 14 days.
    let alerts = json(directory.path(), &["alerts", "list", "--format", "json"], 0).await;
    let mut down = open_alerts_on(&alerts, "idp-unreachable");
    down.sort();
    assert_eq!(down, ["OIDC unreachable", "OIDC without keys"]);
    assert!(open_alerts_on(&alerts, "idp-certificate-expiring").contains(&"SAML 10 days".to_owned()));

    // The keys come back: the provider is no longer down, and its alert resolves.
    sim.control().set_provider_endpoint("no-keys", ProviderEndpoint::Healthy);
    let health = json(directory.path(), &["health", "--format", "json"], 0).await;
    assert_ne!(status_of(&health, "OIDC without keys"), "down");
    let alerts = json(directory.path(), &["alerts", "list", "--status", "resolved", "--format", "json"], 0).await;
    let resolved: Vec<&Value> =
        alerts["alerts"].as_array().unwrap().iter().filter(|alert| alert["rule"] == "idp-unreachable").collect();
    assert_eq!(resolved.len(), 1, "{alerts:#}");
    assert_eq!(resolved[0]["subject"]["name"], "OIDC without keys");

    // The report shows every provider with its status.
    let report = json(directory.path(), &["report", "--format", "json"], 0).await;
    let reported = report["providers"].as_array().unwrap();
    assert_eq!(reported.len(), providers.len());
    assert!(reported.iter().any(|provider| provider["name"] == "OIDC unreachable" && provider["status"] == "down"));
}
