//! The posture rules against the simulator's seed estate: exactly the anomalies it planted, nothing spurious.

use std::collections::BTreeSet;

use secrecy::SecretString;
use time::macros::datetime;
use warden_core::id::EnvironmentName;
use warden_core::model::{ApiVersion, Environment};
use warden_core::posture::{Policy, RULES, evaluate};
use warden_zitadel::{ClientOptions, Credential, ZitadelClient};
use zitadel_sim::{Estate, Simulator, SimulatorOptions};

#[tokio::test]
async fn the_rules_find_exactly_the_anomalies_the_seed_planted() {
    let now = datetime!(2026-11-01 12:00 UTC);
    let sim = Simulator::start(SimulatorOptions::new(Estate::seed(now), "pat"), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from("pat")));
    options.rate_limit = 0;
    let client = ZitadelClient::new(options).unwrap();
    let environment = Environment {
        name: EnvironmentName::parse("prod").unwrap(),
        url: sim.base_url(),
        credential_reference: "pat_env:TEST".to_owned(),
        orgs: Vec::new(),
        sync_interval_seconds: 900,
        api: ApiVersion::Auto,
        labels: Default::default(),
    };
    crate::support::on_sqlite(|store| async move {
        warden::sync::sync_once(&environment, &client, &*store, Default::default(), now).await.unwrap();
        let snapshot = store.load_snapshot(&environment.name).await.unwrap();
        let findings = evaluate(&environment.name, &snapshot, &Policy::default(), now);

        let implemented: BTreeSet<&str> = RULES.iter().map(|rule| rule.id).collect();
        let planted: BTreeSet<(String, String)> = sim
            .control()
            .seeded_anomalies()
            .into_iter()
            .filter(|anomaly| implemented.contains(anomaly.rule))
            .map(|anomaly| (anomaly.rule.to_owned(), anomaly.subject_id))
            .collect();
        let found: BTreeSet<(String, String)> =
            findings.iter().map(|finding| (finding.rule.to_owned(), finding.subject.id.clone())).collect();
        assert_eq!(found.len(), findings.len(), "one finding per subject and rule");
        let missed: Vec<_> = planted.difference(&found).collect();
        let spurious: Vec<_> = found.difference(&planted).collect();
        assert!(missed.is_empty() && spurious.is_empty(), "missed: {missed:?}\nspurious: {spurious:?}");
        assert!(planted.len() > 50, "the seed plants {} anomalies of these rules", planted.len());

        // What the report and governance evaluate (every rule that reads stored state: accumulation, growth and
        // drift too) finds the same, and nothing else. Provider rules wait for probes, which are not stored yet.
        // They read only the kinds the rules need.
        let snapshot = store.load_kinds(&environment.name, &warden_core::posture::KINDS_READ).await.unwrap();
        let policy = Policy::default();
        let settings = warden::govern::GovernanceSettings {
            policy: policy.clone(),
            health: Default::default(),
            alert_min_severity: warden_core::posture::Severity::High,
            webhooks: Vec::new(),
            environments: vec![environment.name.clone()],
            connection_health: Default::default(),
        };
        let mut tracked = warden::govern::snapshot_findings(&environment.name, &snapshot, &policy, now);
        tracked.extend(
            warden::govern::history_findings(&environment.name, &snapshot, &*store, &settings, now).await.unwrap(),
        );
        let every_planted: BTreeSet<(String, String)> = sim
            .control()
            .seeded_anomalies()
            .into_iter()
            .filter(|anomaly| !anomaly.rule.starts_with("idp-"))
            .map(|anomaly| (anomaly.rule.to_owned(), anomaly.subject_id))
            .collect();
        let reported: BTreeSet<(String, String)> =
            tracked.iter().map(|finding| (finding.rule.to_owned(), finding.subject.id.clone())).collect();
        assert_eq!(reported.len(), tracked.len(), "one finding per subject and rule");
        assert_eq!(reported, every_planted);
    })
    .await;
}
