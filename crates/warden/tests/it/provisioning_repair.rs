//! Reconciliation after a sync and `warden provisioning repair`: provisioned users changed by hand in ZITADEL (one
//! removed, one deactivated, one stripped of its mapped grant) and a group mapped to nothing become findings after
//! the next sync; a dry run changes nothing; the repair queues what fixes each user, the worker applies it, and the
//! sync after that finds nothing. On SQLite and PostgreSQL, over real HTTP into the simulator.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use warden::app::provisioning::{self, MappingRequest, repair};
use warden::app::scim_admin::{ConnectionOptions, issue_connection};
use warden::app::sync::{SyncRequest, sync_environment};
use warden::store::{ConnectionSettings, GroupSelector, ScimConnectionKind, ScimTenant, Store};
use warden_core::id::OrgId;
use warden_core::operator::{Operator, OperatorName};
use warden_core::posture::Repair;
use zitadel_sim::UserState;

use crate::provisioning::{Scim, assert_schemas, drain, logged_simulator, prod, serve_with, zitadel_user};
use crate::support::contract_tests;

contract_tests!(differences_with_zitadel_are_found_after_a_sync_and_repaired);

async fn open_findings(store: &Arc<dyn Store>) -> Vec<(String, String)> {
    let mut open: Vec<(String, String)> = store
        .list_findings(Some(&prod()), false)
        .await
        .unwrap()
        .into_iter()
        .filter(|tracked| {
            ["provisioned-user-missing", "provisioning-state-mismatch", "unmapped-group", "mapping-gap"]
                .contains(&tracked.finding.rule)
        })
        .map(|tracked| (tracked.finding.rule.to_owned(), tracked.finding.subject.name))
        .collect();
    open.sort();
    open
}

async fn differences_with_zitadel_are_found_after_a_sync_and_repaired(store: Arc<dyn Store>) {
    let (sim, _directory, log) = logged_simulator().await;
    let (app, address) = serve_with(&sim, store.clone(), |_| {}).await;
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    let (org, project, role) = sim.control().with_estate(|estate| {
        let role = estate.project_roles().next().unwrap();
        let project = estate.project(&role.project_id).unwrap();
        (project.org_id.clone(), project.id.clone(), role.key.clone())
    });
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
    let operator = Operator::CommandLine(OperatorName::parse("ops").unwrap());
    let request = MappingRequest {
        connection: "okta".to_owned(),
        group: GroupSelector::DisplayName("engineers".to_owned()),
        project: project.clone(),
        roles: vec![role.clone()],
    };
    provisioning::add_mapping(&app, &operator, request).await.unwrap();
    let mut members = Vec::new();
    for name in ["ada", "bob", "cy"] {
        members.push(scim.create_user(&format!("{name}@customer.example"), name).await);
    }
    let group = |name: &str, members: &[String]| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "members": members.iter().map(|id| json!({"value": id})).collect::<Vec<_>>(),
        })
    };
    scim.send(Method::POST, "/Groups", Some(group("Engineers", &members))).await;
    scim.send(Method::POST, "/Groups", Some(group("Sales", &members[..1]))).await;
    drain(&app).await;
    let id_of = |name: &str| zitadel_user(&sim, &org, &format!("{name}@customer.example"))[0].0.clone();
    let (ada, bob, cy) = (id_of("ada"), id_of("bob"), id_of("cy"));

    // Synced as provisioned: only the group mapped to nothing is a finding.
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    assert_eq!(open_findings(&store).await, vec![("unmapped-group".to_owned(), "Sales".to_owned())]);

    // By hand in ZITADEL: Ada removed, Bob deactivated, Cy's mapped grant removed.
    sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        estate.remove_user(&editor, &ada).unwrap();
        estate.deactivate_user(&editor, &bob).unwrap();
        let grant = estate.user_grants().find(|grant| grant.user_id == cy).unwrap().id.clone();
        estate.remove_user_grant(&editor, &grant).unwrap();
    });
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    assert_eq!(
        open_findings(&store).await,
        vec![
            ("provisioned-user-missing".to_owned(), "ada@customer.example".to_owned()),
            ("provisioning-state-mismatch".to_owned(), "bob@customer.example".to_owned()),
            ("provisioning-state-mismatch".to_owned(), "cy@customer.example".to_owned()),
            ("unmapped-group".to_owned(), "Sales".to_owned()),
        ]
    );

    // A dry run lists the repairs and changes nothing.
    let planned = repair(&app, &operator, "okta", true).await.unwrap();
    assert_eq!(planned.enqueued, 0);
    let mut actions: Vec<(bool, String)> = planned
        .repairs
        .iter()
        .map(|repair| match repair {
            Repair::Recreate { user_name, .. } => (true, user_name.clone()),
            Repair::Resend { user_name, .. } => (false, user_name.clone()),
        })
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        vec![
            (false, "bob@customer.example".to_owned()),
            (false, "cy@customer.example".to_owned()),
            (true, "ada@customer.example".to_owned()),
        ]
    );
    assert!(store.list_provisioning_operations(None, false, 10).await.unwrap().is_empty());

    // The repair: queued, audited, applied by the worker.
    let repaired = repair(&app, &operator, "okta", false).await.unwrap();
    assert_eq!(repaired.enqueued, 3);
    let audit = store.list_audit_events(10).await.unwrap();
    assert!(audit.iter().any(|event| event.action == "provisioning.repair" && event.operator == "ops"));
    // A sync while the repairs wait in the outbox judges none of those users: they are on their way.
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    assert_eq!(open_findings(&store).await, vec![("unmapped-group".to_owned(), "Sales".to_owned())]);
    drain(&app).await;
    let ada_again = zitadel_user(&sim, &org, "ada@customer.example");
    assert_eq!(ada_again.len(), 1, "Ada exists once again");
    assert!(ada_again[0].1, "and is active");
    assert!(zitadel_user(&sim, &org, "bob@customer.example")[0].1, "Bob is active again");
    let grants_of = |user: &str| -> Vec<Vec<String>> {
        sim.control().with_estate(|estate| {
            estate
                .user_grants()
                .filter(|grant| grant.user_id == user && grant.project_id == project)
                .map(|grant| grant.role_keys.clone())
                .collect()
        })
    };
    assert_eq!(grants_of(&ada_again[0].0), vec![vec![role.clone()]]);
    assert_eq!(grants_of(&cy), vec![vec![role.clone()]]);
    assert!(sim.control().with_estate(|estate| estate.user(&bob).unwrap().state == UserState::Active));

    // The next sync finds only the unmapped group; a repair now has nothing to do.
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    assert_eq!(open_findings(&store).await, vec![("unmapped-group".to_owned(), "Sales".to_owned())]);
    assert!(repair(&app, &operator, "okta", false).await.unwrap().repairs.is_empty());
    assert_schemas(&log);
}
