//! Connection health end to end: a provisioning connection that ZITADEL stops accepting goes `degraded` (its
//! backlog ages), one that receives nothing within its expectation goes `stalled`, and each transition opens or
//! resolves an alert with a webhook notification, through the scheduler's step `watch_connections`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;

use serde_json::json;
use warden::app::provisioning::health::watch_connections;
use warden::app::provisioning::{provision_once, status};
use warden::app::scim_admin::{self, ConnectionOptions, SettingsChange, issue_connection};
use warden::config::{ConfigDuration, WebhookConfig};
use warden::store::{ConnectionSettings, ScimConnectionKind, ScimTenant, Store};
use warden_core::id::OrgId;
use warden_core::operator::{Operator, OperatorName};
use warden_core::posture::ConnectionStatus;
use zitadel_sim::{Estate, Fault, FaultKind, Simulator, SimulatorOptions};

use crate::provisioning::{NOW, PAT, Scim, prod, serve_with};
use crate::support::contract_tests;

contract_tests!(each_health_transition_opens_or_resolves_an_alert);

async fn alert_events(store: &Arc<dyn Store>, rule: &str) -> Vec<(String, Option<String>)> {
    let mut events = Vec::new();
    for alert in store
        .list_alerts(None)
        .await
        .unwrap()
        .into_iter()
        .chain(store.list_alerts(Some(&warden_core::governance::AlertStatus::Resolved)).await.unwrap())
    {
        if alert.rule == rule {
            for notification in store.list_notifications(Some(alert.id)).await.unwrap() {
                events.push((notification.event, alert.resolution.clone()));
            }
        }
    }
    events.sort();
    events
}

async fn status_of(app: &warden::app::App) -> ConnectionStatus {
    status(app, Some("okta")).await.unwrap()[0].health.status
}

async fn each_health_transition_opens_or_resolves_an_alert(store: Arc<dyn Store>) {
    let sim =
        Simulator::start(SimulatorOptions::new(Estate::seed(NOW), PAT), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    // Notifications are queued for a webhook whatever its URL (read only when one is delivered).
    let (app, address) = serve_with(&sim, store.clone(), |config| {
        config.provisioning.degraded_backlog_age = ConfigDuration::from_secs(1);
        config.provisioning.stalled_after = ConfigDuration::from_secs(3600);
        config.governance.webhooks.push(WebhookConfig {
            name: "ops".to_owned(),
            url_env: "WARDEN_TEST_HEALTH_WEBHOOK".to_owned(),
            format: Default::default(),
            min_severity: Default::default(),
            rules: Vec::new(),
        });
    })
    .await;
    let org = sim.control().with_estate(|estate| estate.orgs().next().unwrap().id.clone());
    store.upsert_environment(&app.environment("prod").unwrap().environment).await.unwrap();
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    let settings = ConnectionSettings { provisioning: true, ..ConnectionSettings::without_provisioning() };
    let issued = issue_connection(&app, tenant, "okta", ConnectionOptions { kind: ScimConnectionKind::Okta, settings })
        .await
        .unwrap();
    let scim = Scim {
        client: reqwest::Client::new(),
        base: format!("{address}/scim/v2/{org}"),
        token: secrecy::ExposeSecret::expose_secret(&issued.token).to_owned(),
    };
    assert_eq!(status_of(&app).await, ConnectionStatus::Healthy);

    // ZITADEL refuses every write: the create waits, and once it is older than the threshold the connection is
    // degraded and its alert opens with a notification.
    sim.control().add_fault(Fault::new("POST /v2/users/human", FaultKind::Status(503)));
    sim.control().add_fault(Fault::new("POST /management/v1/users/human/_import", FaultKind::Status(503)));
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@customer.example"});
    scim.send(Method::POST, "/Users", Some(user)).await;
    let outcome = provision_once(&app).await.unwrap();
    assert_eq!(outcome.retried, 1, "{outcome:?}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let entry = &status(&app, Some("okta")).await.unwrap()[0];
    assert_eq!(entry.health.status, ConnectionStatus::Degraded, "{:?}", entry.health);
    assert!(entry.health.reasons[0].contains("waiting operation"), "{:?}", entry.health.reasons);
    assert_eq!(watch_connections(&app).await.unwrap().governed, vec![prod()]);
    assert_eq!(alert_events(&store, "scim-connection-degraded").await, vec![("opened".to_owned(), None)]);
    // Nothing changed: nothing is governed again.
    assert!(watch_connections(&app).await.unwrap().governed.is_empty());

    // ZITADEL is back; the backlog drains; healthy again: the alert resolves, with a notification.
    sim.control().clear_faults();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    while provision_once(&app).await.unwrap().claimed > 0 {}
    assert_eq!(status_of(&app).await, ConnectionStatus::Healthy);
    assert_eq!(watch_connections(&app).await.unwrap().governed, vec![prod()]);
    let events = alert_events(&store, "scim-connection-degraded").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().any(|(event, _)| event == "resolved"), "{events:?}");

    // Expected to hear from its client every second: silence makes it stalled (a high alert), a request heals it.
    let operator = Operator::CommandLine(OperatorName::parse("ops").unwrap());
    let change =
        SettingsChange { expect_activity_within: Some(Some(time::Duration::seconds(1))), ..Default::default() };
    scim_admin::configure_connection(&app, &operator, "okta", change).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(status_of(&app).await, ConnectionStatus::Stalled);
    assert_eq!(watch_connections(&app).await.unwrap().governed, vec![prod()]);
    assert_eq!(alert_events(&store, "scim-connection-stalled").await, vec![("opened".to_owned(), None)]);
    scim.send(Method::GET, "/Users", None).await;
    // The request log is written behind the response: wait until the request counts.
    for _ in 0..50 {
        if status_of(&app).await == ConnectionStatus::Healthy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&app).await, ConnectionStatus::Healthy);
    assert_eq!(watch_connections(&app).await.unwrap().governed, vec![prod()]);
    assert_eq!(alert_events(&store, "scim-connection-stalled").await.len(), 2);

    // Disabled is a decision, not a failure: no alert.
    scim_admin::disable_connection(&app, &issued.connection.id).await.unwrap();
    assert_eq!(status_of(&app).await, ConnectionStatus::Disabled);
    assert!(watch_connections(&app).await.unwrap().governed.is_empty());
}
