//! Governance writes while SCIM clients write, on one store: every transaction that reads before it writes takes
//! the write lock first on SQLite (`BEGIN IMMEDIATE`), so it waits for the other writer instead of failing with
//! `database is locked` (seen when `warden serve` governed a sync while a SCIM client pushed users).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use warden::app::scim_admin::{ConnectionOptions, issue_connection};
use warden::app::sync::{SyncRequest, sync_environment};
use warden::govern::govern_once;
use warden::store::{ScimConnectionKind, ScimTenant, Store};
use warden_core::id::OrgId;

use crate::provisioning::{Scim, logged_simulator, prod, serve_with};
use crate::support::contract_tests;

contract_tests!(governing_while_scim_clients_write_never_finds_the_database_locked);

async fn governing_while_scim_clients_write_never_finds_the_database_locked(store: Arc<dyn Store>) {
    let (sim, _directory, _log) = logged_simulator().await;
    let (app, address) = serve_with(&sim, store.clone(), |_| {}).await;
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    let org = sim.control().with_estate(|estate| estate.orgs().next().unwrap().id.clone());
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    let issued =
        issue_connection(&app, tenant, "load", ConnectionOptions::without_provisioning(ScimConnectionKind::Generic))
            .await
            .unwrap();
    let scim = Scim {
        client: reqwest::Client::new(),
        base: format!("{address}/scim/v2/{org}"),
        token: secrecy::ExposeSecret::expose_secret(&issued.token).to_owned(),
    };

    let deadline = Instant::now() + Duration::from_secs(3);
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4 {
        let scim = scim.clone();
        writers.spawn(async move {
            let mut written = 0;
            while Instant::now() < deadline {
                let user = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("load-{writer}-{written}@customer.example"),
                });
                scim.send(Method::POST, "/Users", Some(user)).await;
                written += 1;
            }
            written
        });
    }
    let mut governed = 0;
    while Instant::now() < deadline {
        let outcome = govern_once(&prod(), None, &*store, &app.settings().governance, app.now()).await;
        assert!(outcome.is_ok(), "governing failed while SCIM clients wrote: {outcome:?}");
        governed += 1;
    }
    let mut written = 0;
    while let Some(result) = writers.join_next().await {
        written += result.unwrap();
    }
    assert!(governed > 0 && written > 0, "governed {governed} times, {written} SCIM writes");
}
