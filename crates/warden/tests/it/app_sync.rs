//! The sync pipeline through the application layer, with no CLI involved: `app::sync::sync_environment` syncs,
//! governs and queues notifications, on SQLite and PostgreSQL; and it reports the same outcome `warden sync` does
//! for the same estate.

use std::sync::Arc;

use secrecy::SecretString;
use time::OffsetDateTime;
use time::macros::datetime;
use warden::app::sync::{SyncRequest, sync_environment};
use warden::app::{App, FixedClock, Settings};
use warden::config::{Config, CredentialConfig, DatabaseUrl, EnvironmentConfig};
use warden::store::{ChangeQuery, Store};
use warden_core::id::EnvironmentName;
use warden_core::model::{ChangeKind, ResourceKind, SyncStatus};
use warden_zitadel::{ClientOptions, Credential, ZitadelClient};
use zitadel_sim::{Estate, Simulator, SimulatorOptions};

use crate::support::contract_tests;
use crate::sync_cli;

contract_tests!(the_pipeline_syncs_governs_and_records_a_later_change);

const PAT: &str = "warden-app-sync-pat";
const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

async fn simulator() -> Simulator {
    let options = SimulatorOptions::new(Estate::seed(NOW), PAT);
    Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// An application over `store` with one environment, `prod`, on the simulator, at a clock the test moves.
fn app(sim: &Simulator, store: Arc<dyn Store>, clock: Arc<FixedClock>) -> App {
    let mut config = Config::default();
    config.database.url = DatabaseUrl::new("sqlite://unused.db");
    let mut environment = EnvironmentConfig::new("prod", sim.base_url());
    environment.credential = CredentialConfig { pat_env: Some("UNUSED_PAT".to_owned()), ..Default::default() };
    environment.rate_limit = 0;
    config.environments.push(environment);
    let app = App::new(Settings::from_config(&config).unwrap(), store, clock);
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(PAT)));
    options.rate_limit = 0;
    app.use_zitadel_client(prod(), ZitadelClient::new(options).unwrap());
    app
}

fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

async fn the_pipeline_syncs_governs_and_records_a_later_change(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let clock = Arc::new(FixedClock::new(NOW));
    let app = app(&sim, store.clone(), clock.clone());

    let first = sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    let counts = sim.control().counts();
    assert_eq!(first.outcome.run.status, SyncStatus::Ok, "{:?}", first.outcome.run.errors);
    assert_eq!(first.count(ResourceKind::User), counts.users);
    assert_eq!(first.machine_users(), counts.machine_users);
    assert_eq!(first.human_users(), counts.human_users);
    assert_eq!(first.count(ResourceKind::UserGrant), counts.user_grants);
    assert_eq!(first.outcome.run.started_at, NOW, "the run is dated by the application's clock");

    // Governed: the findings it counts are the ones tracked, a trend point was recorded, alerts were opened.
    let governed = first.governed.clone().expect("a stored run is governed");
    let tracked = store.list_findings(Some(&prod()), false).await.unwrap();
    assert!(governed.findings > 0);
    assert_eq!(tracked.len(), governed.findings);
    assert_eq!(governed.findings_opened, governed.findings, "every finding is new after the first sync");
    assert!(tracked.iter().all(|finding| finding.first_seen == NOW));
    let trend = store.list_trend_points(&prod(), None).await.unwrap();
    assert!(trend.iter().any(|point| point.org_id.is_none() && point.machine_users == counts.machine_users));
    assert_eq!(store.list_alerts(None).await.unwrap().len(), governed.alerts_opened);

    // A change in ZITADEL, a quarter of an hour later, is recorded by the next run of the pipeline.
    let later = NOW + time::Duration::minutes(15);
    clock.set(later);
    sim.control().set_now(later);
    let deactivated = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let user = estate
            .users()
            .find(|user| user.org_id != estate.platform_org_id() && user.state == zitadel_sim::UserState::Active)
            .unwrap()
            .id
            .clone();
        estate.deactivate_user(&editor, &user).unwrap();
        user
    });
    let second = sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    assert_eq!(second.outcome.run.status, SyncStatus::Ok);
    assert_eq!((second.outcome.added, second.outcome.removed), (0, 0));
    assert!(second.outcome.modified >= 1);
    let query = ChangeQuery { environment: Some(prod()), ..ChangeQuery::default() };
    let changes = store.list_changes(&query).await.unwrap();
    assert!(
        changes.iter().any(|change| change.object_key == deactivated
            && change.kind == ChangeKind::Modified
            && change.observed_at == later),
        "the deactivation is recorded at the second run's time"
    );
    assert!(second.governed.is_some());
}

/// `warden sync --format json` and `sync_environment` report the same outcome for the same estate.
#[tokio::test]
async fn the_application_layer_reports_what_warden_sync_reports() {
    let cli_sim = sync_cli::simulator().await;
    let directory = tempfile::tempdir().unwrap();
    sync_cli::write_config(directory.path(), &cli_sim);
    let (code, stdout, stderr) = sync_cli::run(sync_cli::warden(directory.path(), &["sync", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let printed = &printed["environments"][0];

    let sim = simulator().await;
    let synced = crate::support::on_sqlite(|store| async move {
        let app = app(&sim, store, Arc::new(FixedClock::new(NOW)));
        sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap()
    })
    .await;
    let outcome = &synced.outcome;
    assert_eq!(printed["status"], outcome.run.status.as_str());
    assert_eq!(printed["counts"]["users"], synced.count(ResourceKind::User));
    assert_eq!(printed["counts"]["human_users"], synced.human_users());
    assert_eq!(printed["counts"]["machine_users"], synced.machine_users());
    for (field, kind) in [
        ("orgs", ResourceKind::Org),
        ("projects", ResourceKind::Project),
        ("roles", ResourceKind::ProjectRole),
        ("user_grants", ResourceKind::UserGrant),
        ("machine_keys", ResourceKind::MachineKey),
        ("pats", ResourceKind::PersonalAccessToken),
        ("memberships", ResourceKind::Membership),
        ("project_grants", ResourceKind::ProjectGrant),
        ("applications", ResourceKind::Application),
        ("identity_providers", ResourceKind::IdentityProvider),
        ("user_metadata", ResourceKind::UserMetadata),
    ] {
        assert_eq!(printed["counts"][field], synced.count(kind), "{field}");
    }
    assert_eq!(printed["changes"]["added"], outcome.added);
    assert_eq!(printed["changes"]["removed"], outcome.removed);
    assert_eq!(printed["changes"]["modified"], outcome.modified);
    assert_eq!(printed["requests"], outcome.run.requests);
    assert_eq!(printed["errors"].as_array().map(Vec::len), Some(outcome.run.errors.len()));
}
