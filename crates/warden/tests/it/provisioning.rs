//! Provisioning end to end, over real HTTP: a SCIM client -> warden's SCIM server -> the outbox (on SQLite and
//! PostgreSQL) -> the worker's step -> the ZITADEL simulator. Every request warden sends is checked against
//! ZITADEL's published schemas with `check-log.mjs`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use warden::app::provisioning::{self, EXTERNAL_ID_METADATA_KEY, MappingRequest, provision_once};
use warden::app::scim_admin::{self, ConnectionOptions, SettingsChange, issue_connection};
use warden::app::sync::{SyncRequest, sync_environment};
use warden::app::{App, Settings, SystemClock};
use warden::config::{Config, CredentialConfig, DatabaseUrl, EnvironmentConfig};
use warden::store::{ConnectionSettings, DeletePolicy, GroupSelector, ScimConnectionKind, ScimTenant, Store};
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::operator::{Operator, OperatorName};
use warden_zitadel::{ClientOptions, Credential, RetryPolicy, ZitadelClient};
use zitadel_sim::{Estate, Fault, FaultKind, Simulator, SimulatorOptions};

use crate::support::contract_tests;

contract_tests!(
    scim_writes_flow_into_zitadel,
    an_outage_and_a_crash_lose_and_repeat_nothing,
    one_tenants_backlog_does_not_hold_back_another,
    hostile_input_on_a_provisioning_connection_is_refused_or_provisioned_never_a_500
);

pub(crate) const PAT: &str = "warden-provisioning-pat";
pub(crate) const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn provisioned(kind: ScimConnectionKind, delete_policy: DeletePolicy) -> ConnectionOptions {
    ConnectionOptions {
        kind,
        settings: ConnectionSettings { provisioning: true, delete_policy, ..ConnectionSettings::default() },
    }
}

pub(crate) fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

/// The application (its ZITADEL client answers within two seconds or gives up) and its SCIM server's address.
async fn serve(sim: &Simulator, store: Arc<dyn Store>) -> (App, String) {
    serve_with(sim, store, |_| {}).await
}

/// [`serve`] with the configuration changed by `configure` first.
pub(crate) async fn serve_with(
    sim: &Simulator,
    store: Arc<dyn Store>,
    configure: impl FnOnce(&mut Config),
) -> (App, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = Config::default();
    config.database.url = DatabaseUrl::new("sqlite://unused.db");
    config.server.listen = listener.local_addr().unwrap();
    let mut environment = EnvironmentConfig::new("prod", sim.base_url());
    environment.credential = CredentialConfig { pat_env: Some("UNUSED_PAT".to_owned()), ..Default::default() };
    environment.rate_limit = 0;
    config.environments.push(environment);
    config.provisioning.retry_delay = warden::config::ConfigDuration::from_secs(1);
    config.provisioning.max_retry_delay = warden::config::ConfigDuration::from_secs(1);
    config.provisioning.max_attempts = 1_000;
    configure(&mut config);
    let app = App::new(Settings::from_config(&config).unwrap(), store, Arc::new(SystemClock));
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(PAT)));
    options.rate_limit = 0;
    options.timeout = Duration::from_secs(2);
    options.retry =
        RetryPolicy { max_retries: 1, initial_backoff: Duration::from_millis(10), ..RetryPolicy::default() };
    app.use_zitadel_client(prod(), ZitadelClient::new(options).unwrap());
    let server = warden::server::build(&app);
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(warden::server::serve(listener, server, std::future::pending()));
    (app, address)
}

/// Runs the worker until the outbox is empty; nothing may fail on the way.
pub(crate) async fn drain(app: &App) {
    for _ in 0..100 {
        let outcome = provision_once(app).await.unwrap();
        assert_eq!((outcome.retried, outcome.parked), (0, 0), "{outcome:?}: {:?}", parked(app).await);
        if outcome.claimed == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

async fn parked(app: &App) -> Vec<Option<String>> {
    let operations = app.store().list_provisioning_operations(None, false, 100).await.unwrap();
    operations.into_iter().map(|operation| operation.last_error).collect()
}

#[derive(Clone)]
pub(crate) struct Scim {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Scim {
    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status}: {text}");
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() }
    }

    pub(crate) async fn create_user(&self, user_name: &str, external_id: &str) -> String {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "externalId": external_id,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": format!("{user_name}@customer.example"), "primary": true}],
            "phoneNumbers": [{"value": "+41445550000"}],
            "preferredLanguage": "en",
            "active": true,
        });
        self.send(Method::POST, "/Users", Some(body)).await["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn patch(&self, path: &str, operations: Value) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
        self.send(Method::PATCH, path, Some(body)).await;
    }
}

/// What the simulator holds of the org's user with this userName: (id, active, first name, display name, email).
pub(crate) fn zitadel_user(sim: &Simulator, org: &str, user_name: &str) -> Vec<(String, bool, String, String, String)> {
    sim.control().with_estate(|estate| {
        estate
            .users()
            .filter(|user| user.org_id == org && user.user_name.eq_ignore_ascii_case(user_name))
            .map(|user| {
                let human = user.human().unwrap();
                (
                    user.id.clone(),
                    user.state == zitadel_sim::UserState::Active,
                    human.first_name.clone(),
                    human.display_name.clone(),
                    human.email.clone(),
                )
            })
            .collect()
    })
}

/// The user's grants in the simulator: (project, role keys sorted).
fn grants_of(sim: &Simulator, user_id: &str) -> Vec<(String, Vec<String>)> {
    sim.control().with_estate(|estate| {
        let mut grants: Vec<(String, Vec<String>)> = estate
            .user_grants()
            .filter(|grant| grant.user_id == user_id)
            .map(|grant| {
                let mut roles = grant.role_keys.clone();
                roles.sort();
                (grant.project_id.clone(), roles)
            })
            .collect();
        grants.sort();
        grants
    })
}

async fn scim_writes_flow_into_zitadel(store: Arc<dyn Store>) {
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("exchanges.jsonl");
    let mut options = SimulatorOptions::new(Estate::seed(NOW), PAT);
    options.exchange_log = Some(log.clone());
    let sim = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (app, address) = serve(&sim, store.clone()).await;
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();

    // An org with a project of at least three roles, and a human who is already there.
    let (org, project, roles, existing) = sim.control().with_estate(|estate| {
        for project in estate.projects() {
            let roles: Vec<String> = estate
                .project_roles()
                .filter(|role| role.project_id == project.id)
                .map(|role| role.key.clone())
                .collect();
            let existing = estate
                .users()
                .find(|user| user.org_id == project.org_id && !user.is_machine())
                .map(|user| (user.id.clone(), user.user_name.clone()));
            if roles.len() >= 3
                && let Some(existing) = existing
            {
                return (project.org_id.clone(), project.id.clone(), roles, existing);
            }
        }
        panic!("the seed estate has no project with three roles in an org with a human");
    });
    let other_project = sim.control().with_estate(|estate| {
        estate.projects().find(|candidate| candidate.org_id == org && candidate.id != project).map(|p| p.id.clone())
    });
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    let operator = Operator::CommandLine(OperatorName::parse("ops").unwrap());

    let okta =
        issue_connection(&app, tenant.clone(), "okta", provisioned(ScimConnectionKind::Okta, DeletePolicy::Deactivate))
            .await
            .unwrap();
    // Turned on after creation, as `warden provisioning configure` does.
    let entra = issue_connection(
        &app,
        tenant.clone(),
        "entra",
        ConnectionOptions::without_provisioning(ScimConnectionKind::Entra),
    )
    .await
    .unwrap();
    let change = SettingsChange {
        provisioning: Some(true),
        delete_policy: Some(DeletePolicy::Remove),
        ..SettingsChange::default()
    };
    scim_admin::configure_connection(&app, &operator, "entra", change).await.unwrap();
    let audited = store.list_audit_events(10).await.unwrap();
    assert!(audited.iter().any(|event| event.action == "scim_connection.configure" && event.operator == "ops"));
    let client = reqwest::Client::new();
    let base = format!("{address}/scim/v2/{org}");
    let scim = Scim { client: client.clone(), base: base.clone(), token: okta.token.expose_secret().to_owned() };
    let entra = Scim { client, base, token: entra.token.expose_secret().to_owned() };

    // Create: a ZITADEL human with the SCIM user's names, email, and externalId as metadata.
    let ada = scim.create_user("ada", "00u-ada").await;
    drain(&app).await;
    let found = zitadel_user(&sim, &org, "ada");
    assert_eq!(found.len(), 1, "{found:?}");
    let (ada_zitadel, active, first_name, display_name, email) = found[0].clone();
    assert!(active);
    assert_eq!((first_name.as_str(), display_name.as_str()), ("Ada", "Ada Lovelace"));
    assert_eq!(email, "ada@customer.example");
    let metadata = sim.control().with_estate(|estate| {
        estate
            .user_metadata()
            .filter(|entry| entry.user_id == ada_zitadel && entry.key == EXTERNAL_ID_METADATA_KEY)
            .map(|entry| entry.value.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(metadata, vec![b"00u-ada".to_vec()]);

    // Update, deactivate, reactivate.
    scim.patch(&format!("/Users/{ada}"), json!([{"op": "replace", "path": "displayName", "value": "Countess Ada"}]))
        .await;
    drain(&app).await;
    assert_eq!(zitadel_user(&sim, &org, "ada")[0].3, "Countess Ada");
    scim.patch(&format!("/Users/{ada}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    drain(&app).await;
    assert!(!zitadel_user(&sim, &org, "ada")[0].1);
    scim.patch(&format!("/Users/{ada}"), json!([{"op": "replace", "path": "active", "value": true}])).await;
    drain(&app).await;
    assert!(zitadel_user(&sim, &org, "ada")[0].1);

    // A user who already exists in the org with this userName is linked, not duplicated.
    let (existing_id, existing_name) = existing;
    let bob = scim.create_user(&existing_name.to_uppercase(), "00u-bob").await;
    drain(&app).await;
    let found = zitadel_user(&sim, &org, &existing_name);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, existing_id);
    let link = store.provisioned_user(&tenant, &bob).await.unwrap().unwrap();
    assert!(link.linked);

    // A manual grant on another project, and bob's own grant on the mapped project: warden never touches them.
    let manual = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        other_project.as_ref().map(|other| {
            estate.add_user_grant(&editor, &org, &ada_zitadel, other, None, Vec::new()).unwrap();
            (other.clone(), Vec::<String>::new())
        })
    });
    let bob_before = grants_of(&sim, &existing_id);

    // Group membership through a mapping gives exactly the mapped roles.
    let group = scim
        .send(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Engineers",
                "members": [{"value": ada}, {"value": "no-such-user"}],
            })),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A member that is no user of the tenant (kept as sent) sets off nothing.
    let queued = store.list_provisioning_operations(None, false, 100).await.unwrap();
    assert_eq!(queued.iter().map(|operation| operation.scim_user_id.as_str()).collect::<Vec<_>>(), [ada.as_str()]);
    drain(&app).await;
    let request = |roles: &[String]| MappingRequest {
        connection: "okta".to_owned(),
        group: GroupSelector::DisplayName("engineers".to_owned()),
        project: project.clone(),
        roles: roles.to_vec(),
    };
    let (mapping, enqueued) = provisioning::add_mapping(&app, &operator, request(&roles[..1])).await.unwrap();
    assert_eq!(enqueued, 1);
    drain(&app).await;
    let expected = |roles: &[String]| -> Vec<(String, Vec<String>)> {
        let mut mapped = roles.to_vec();
        mapped.sort();
        let mut grants = vec![(project.clone(), mapped)];
        grants.extend(manual.clone());
        grants.sort();
        grants
    };
    assert_eq!(grants_of(&sim, &ada_zitadel), expected(&roles[..1]));

    // A mapping changed while its group has members re-derives their grants.
    provisioning::remove_mapping(&app, &operator, &mapping.id).await.unwrap();
    provisioning::add_mapping(&app, &operator, request(&roles[..2])).await.unwrap();
    drain(&app).await;
    assert_eq!(grants_of(&sim, &ada_zitadel), expected(&roles[..2]));

    // Bob joins and leaves: whatever grant he held before on the project stays as it was.
    scim.patch(&format!("/Groups/{group}"), json!([{"op": "add", "path": "members", "value": [{"value": bob}]}])).await;
    drain(&app).await;
    let bob_now = grants_of(&sim, &existing_id);
    if bob_before.iter().any(|(granted, _)| *granted == project) {
        assert_eq!(bob_now, bob_before, "a grant warden did not create is left alone");
    } else {
        let mut wanted = bob_before.clone();
        let mut mapped = roles[..2].to_vec();
        mapped.sort();
        wanted.push((project.clone(), mapped));
        wanted.sort();
        assert_eq!(bob_now, wanted);
    }
    scim.patch(&format!("/Groups/{group}"), json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]))
        .await;
    drain(&app).await;
    assert_eq!(grants_of(&sim, &existing_id), bob_before);

    // Leaving the group takes the mapped grant away; the manual one stays.
    scim.patch(&format!("/Groups/{group}"), json!([{"op": "remove", "path": "members"}])).await;
    drain(&app).await;
    let mut manual_only = manual.clone().into_iter().collect::<Vec<_>>();
    manual_only.sort();
    assert_eq!(grants_of(&sim, &ada_zitadel), manual_only);

    // Warden's grant is removed outside warden and someone grants the project by hand: the re-add meets that grant,
    // leaves it alone, and no later operation adopts it.
    scim.patch(&format!("/Groups/{group}"), json!([{"op": "add", "path": "members", "value": [{"value": ada}]}])).await;
    drain(&app).await;
    assert_eq!(grants_of(&sim, &ada_zitadel), expected(&roles[..2]));
    let by_hand = vec![roles[2].clone()];
    sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let ours: Vec<String> = estate
            .user_grants()
            .filter(|grant| grant.user_id == ada_zitadel && grant.project_id == project)
            .map(|grant| grant.id.clone())
            .collect();
        for grant in ours {
            estate.remove_user_grant(&editor, &grant).unwrap();
        }
        estate.add_user_grant(&editor, &org, &ada_zitadel, &project, None, by_hand.clone()).unwrap();
    });
    let mappings = provisioning::mappings(&app, Some("okta")).await.unwrap();
    provisioning::remove_mapping(&app, &operator, &mappings[0].id).await.unwrap();
    provisioning::add_mapping(&app, &operator, request(&roles[..1])).await.unwrap();
    drain(&app).await;
    assert_eq!(grants_of(&sim, &ada_zitadel), expected(&by_hand), "the grant made by hand is left as it was");
    scim.patch(&format!("/Groups/{group}"), json!([{"op": "remove", "path": "members"}])).await;
    drain(&app).await;
    assert_eq!(grants_of(&sim, &ada_zitadel), expected(&by_hand), "and is not taken for warden's later");

    // Delete under the default policy: deactivated, nothing lost.
    scim.send(Method::DELETE, &format!("/Users/{ada}"), None).await;
    drain(&app).await;
    let found = zitadel_user(&sim, &org, "ada");
    assert_eq!((found.len(), found[0].1), (1, false));

    // Delete under the remove policy (the Entra connection's).
    let grace = entra.create_user("grace", "entra-grace").await;
    drain(&app).await;
    assert_eq!(zitadel_user(&sim, &org, "grace").len(), 1);
    entra.send(Method::DELETE, &format!("/Users/{grace}"), None).await;
    drain(&app).await;
    assert!(zitadel_user(&sim, &org, "grace").is_empty());

    // A create whose answer is lost: the retry finds the user instead of creating a second one.
    sim.control().add_fault(Fault {
        times: Some(1),
        ..Fault::new("POST /management/v1/users/human/_import", FaultKind::LostResponse)
    });
    scim.create_user("lin", "00u-lin").await;
    for _ in 0..20 {
        let outcome = provision_once(&app).await.unwrap();
        assert_eq!(outcome.parked, 0, "{:?}", parked(&app).await);
        if outcome.claimed == 0 {
            break;
        }
    }
    assert_eq!(zitadel_user(&sim, &org, "lin").len(), 1);
    assert!(app.store().list_provisioning_operations(None, false, 10).await.unwrap().is_empty());

    if let Some(Err(report)) = zitadel_sim::schemas::check_exchange_log(&log) {
        panic!("check-log.mjs found violations:\n{report}");
    }
}

/// A simulator of the seed estate that logs every exchange, for [`assert_schemas`] (the directory holds the log).
pub(crate) async fn logged_simulator() -> (Simulator, tempfile::TempDir, std::path::PathBuf) {
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("exchanges.jsonl");
    let mut options = SimulatorOptions::new(Estate::seed(NOW), PAT);
    options.exchange_log = Some(log.clone());
    let sim = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sim, directory, log)
}

/// Every request warden sent, and every answer the simulator gave, passes ZITADEL's published schemas.
pub(crate) fn assert_schemas(log: &std::path::Path) {
    if let Some(Err(report)) = zitadel_sim::schemas::check_exchange_log(log) {
        panic!("check-log.mjs found violations:\n{report}");
    }
}

/// Runs `app`'s worker until the outbox is empty, waiting for retries to fall due.
async fn drain_with_retries(app: &App) -> (usize, usize) {
    let (mut applied, mut retried) = (0, 0);
    for _ in 0..2_000 {
        let outcome = provision_once(app).await.unwrap();
        assert_eq!(outcome.parked, 0, "{:?}", parked(app).await);
        applied += outcome.applied;
        retried += outcome.retried;
        if outcome.claimed == 0 {
            if app.store().list_provisioning_operations(None, false, 1).await.unwrap().is_empty() {
                return (applied, retried);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("the outbox did not drain: {:?}", parked(app).await);
}

/// 500 SCIM writes (250 users, each created then renamed) while ZITADEL answers 503 for a while, and a worker that
/// dies holding claims: every user exists once, with its last name, and the outbox ends empty.
async fn an_outage_and_a_crash_lose_and_repeat_nothing(store: Arc<dyn Store>) {
    let sim =
        Simulator::start(SimulatorOptions::new(Estate::seed(NOW), PAT), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (app, address) = serve(&sim, store.clone()).await;
    let org = sim.control().with_estate(|estate| estate.orgs().nth(1).unwrap().id.clone());
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    store.upsert_environment(&app.environment("prod").unwrap().environment).await.unwrap();
    let okta = issue_connection(&app, tenant, "okta", provisioned(ScimConnectionKind::Okta, DeletePolicy::Deactivate))
        .await
        .unwrap();
    let scim = Scim {
        client: reqwest::Client::new(),
        base: format!("{address}/scim/v2/{org}"),
        token: okta.token.expose_secret().to_owned(),
    };

    sim.control().add_fault(Fault { skip: 40, times: Some(300), ..Fault::new("*", FaultKind::Status(503)) });
    let mut users = Vec::new();
    for index in 0..250 {
        let name = format!("outage-{index:03}");
        let id = scim.create_user(&name, &format!("ext-{index}")).await;
        users.push((id, name));
    }
    for (id, name) in &users {
        let rename = json!([{"op": "replace", "path": "displayName", "value": format!("{name} v2")}]);
        scim.patch(&format!("/Users/{id}"), rename).await;
    }
    let backlog = app.store().provisioning_backlogs().await.unwrap();
    assert_eq!(backlog.iter().map(|entry| entry.pending).sum::<u64>(), 500);

    // A worker takes a batch and dies before applying it; a restarted process (later, its claims run out) goes on.
    let now = warden::scim::now();
    let held = store
        .claim_provisioning_operations(&okta.connection.id, "crashed", now, now + time::Duration::seconds(2), 32)
        .await
        .unwrap();
    assert_eq!(held.len(), 32);
    let (applied, retried) = drain_with_retries(&app).await;
    assert_eq!(applied, 500, "every operation applied once ({retried} attempts retried)");
    assert!(retried > 0, "the outage made attempts fail");

    for (_, name) in &users {
        let found = zitadel_user(&sim, &org, name);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].3, format!("{name} v2"), "the rename applied after the create");
    }
    let backlog = app.store().provisioning_backlogs().await.unwrap();
    assert_eq!((backlog[0].pending, backlog[0].parked, backlog[0].applied), (0, 0, 500));
    assert!(backlog[0].last_applied_at.is_some());
}

/// Tenant A's 300 waiting users do not stand in front of tenant B's one: the first step of the worker applies it.
async fn one_tenants_backlog_does_not_hold_back_another(store: Arc<dyn Store>) {
    let sim =
        Simulator::start(SimulatorOptions::new(Estate::seed(NOW), PAT), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (app, address) = serve(&sim, store.clone()).await;
    store.upsert_environment(&app.environment("prod").unwrap().environment).await.unwrap();
    let orgs: Vec<String> =
        sim.control().with_estate(|estate| estate.orgs().skip(1).take(2).map(|org| org.id.clone()).collect());
    let mut clients = Vec::new();
    for (name, org) in ["a", "b"].into_iter().zip(&orgs) {
        let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
        let options = provisioned(ScimConnectionKind::Generic, DeletePolicy::Deactivate);
        let issued = issue_connection(&app, tenant, name, options).await.unwrap();
        clients.push(Scim {
            client: reqwest::Client::new(),
            base: format!("{address}/scim/v2/{org}"),
            token: issued.token.expose_secret().to_owned(),
        });
    }
    for index in 0..300 {
        clients[0].create_user(&format!("busy-{index:03}"), &format!("a-{index}")).await;
    }
    clients[1].create_user("quiet", "b-1").await;

    let first = provision_once(&app).await.unwrap();
    assert_eq!(first.applied, first.claimed);
    assert_eq!(zitadel_user(&sim, &orgs[1], "quiet").len(), 1, "tenant B waited behind tenant A: {first:?}");
    drain(&app).await;
    assert_eq!(zitadel_user(&sim, &orgs[0], "busy-299").len(), 1);
}

/// What a buggy or hostile client sends to a provisioning connection: each request is answered in SCIM's error
/// format or accepted, never a 5xx; what is accepted reaches ZITADEL or is parked with ZITADEL's reason.
async fn hostile_input_on_a_provisioning_connection_is_refused_or_provisioned_never_a_500(store: Arc<dyn Store>) {
    let sim =
        Simulator::start(SimulatorOptions::new(Estate::seed(NOW), PAT), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (app, address) = serve(&sim, store.clone()).await;
    store.upsert_environment(&app.environment("prod").unwrap().environment).await.unwrap();
    let org = sim.control().with_estate(|estate| estate.orgs().nth(1).unwrap().id.clone());
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    let issued = issue_connection(&app, tenant, "okta", provisioned(ScimConnectionKind::Okta, DeletePolicy::Remove))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let token = issued.token.expose_secret().to_owned();
    let users = format!("{address}/scim/v2/{org}/Users");
    let schema = "urn:ietf:params:scim:schemas:core:2.0:User";
    let long = "x".repeat(20_000);
    let bodies = [
        json!({"schemas": [schema], "userName": "nul\u{0}byte"}),
        json!({"schemas": [schema], "userName": long}),
        json!({"schemas": [schema], "userName": "  "}),
        json!({"schemas": [schema], "userName": 42}),
        json!({"schemas": [schema], "userName": "wrong-types", "active": "maybe"}),
        json!({"schemas": [schema], "userName": "wrong-emails", "emails": "a@b.c"}),
        json!({"schemas": [schema], "userName": "no-email-no-names"}),
        json!({"schemas": [schema], "userName": "long-names", "displayName": "d".repeat(5_000),
               "emails": [{"value": "long@customer.example"}], "name": {"givenName": "g".repeat(5_000)}}),
        json!({"schemas": [schema], "userName": "odd-phone", "emails": [{"value": "odd@customer.example"}],
               "phoneNumbers": [{"value": {"nested": true}}]}),
        // Accepted by SCIM, at or near its limits: ZITADEL gets them (and may refuse them).
        json!({"schemas": [schema], "userName": "longest-names", "displayName": "d".repeat(2_048),
               "emails": [{"value": "longest@customer.example"}], "name": {"givenName": "g".repeat(2_048)}}),
        json!({"schemas": [schema], "userName": "ünïcødé-👩‍💻", "emails": [{"value": "u@customer.example"}]}),
        json!({"schemas": [schema], "userName": "bad-email", "emails": [{"value": "not an email"}]}),
        json!({"schemas": [schema], "userName": "quotes\"and\\slashes/../%00", "emails": [{"value": "q@customer.example"}],
               "externalId": "e".repeat(2_048), "preferredLanguage": "xx-not-a-tag"}),
    ];
    let mut accepted = Vec::new();
    for body in bodies {
        let response = client
            .post(&users)
            .bearer_auth(&token)
            .header("Content-Type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.as_u16() < 500, "{body}: {status} {text}");
        if status.is_success() {
            let user: Value = serde_json::from_str(&text).unwrap();
            accepted.push((user["id"].as_str().unwrap().to_owned(), user["userName"].as_str().unwrap().to_owned()));
        } else {
            assert!(text.contains("urn:ietf:params:scim:api:messages:2.0:Error"), "{status}: {text}");
        }
    }
    let names: Vec<&str> = accepted.iter().map(|(_, name)| name.as_str()).collect();
    assert!(names.contains(&"no-email-no-names") && names.contains(&"bad-email"), "{names:?}");
    // Whatever was accepted is applied or parked with a reason; none is dropped, none panics.
    for _ in 0..50 {
        let outcome = provision_once(&app).await.unwrap();
        if outcome.claimed == 0 {
            break;
        }
    }
    let left = store.list_provisioning_operations(None, false, 100).await.unwrap();
    for operation in &left {
        assert!(operation.parked_at.is_some(), "{operation:?}");
        assert!(operation.last_error.as_deref().is_some_and(|error| !error.is_empty()), "{operation:?}");
    }
    for (id, name) in &accepted {
        let provisioned = zitadel_user(&sim, &org, name).len() == 1;
        let parked = left.iter().any(|operation| operation.scim_user_id == *id);
        assert!(provisioned != parked, "{name}: provisioned {provisioned}, parked {parked}");
    }
}
