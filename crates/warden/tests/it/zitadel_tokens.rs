//! A connection that accepts the bearer tokens its ZITADEL vouches for, as ZITADEL's own SCIM server does: the PAT
//! or client-credentials token of a service user holding a user-manager role in the org. Over real HTTP against the
//! simulator, on SQLite and PostgreSQL: a PAT and a client-credentials token are accepted; a token of a user without
//! the role is refused with 403 naming the role; a revoked token stops working within the verdict cache's time; a
//! made-up token is 401; ZITADEL failing is 503 (not a refusal); the connection's own token keeps working. And the
//! rest of a move from ZITADEL's SCIM server: users the client addresses by their ZITADEL ids are adopted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use warden::app::scim_admin::{ConnectionOptions, create_connection, issue_connection};
use warden::app::sync::{SyncRequest, sync_environment};
use warden::store::{ConnectionSettings, ScimConnectionKind, ScimTenant, Store};
use warden_core::id::OrgId;
use warden_zitadel::{ClientOptions, Credential, ZitadelClient};
use zitadel_sim::{Fault, FaultKind, MembershipScope, Simulator, UserState};

use crate::provisioning::{assert_schemas, drain, logged_simulator, prod, serve_with};
use crate::support::contract_tests;

contract_tests!(
    zitadel_vouched_tokens_are_accepted_refused_and_revoked,
    users_addressed_by_their_zitadel_id_are_adopted,
    a_flood_of_made_up_tokens_is_throttled_and_asks_zitadel_little
);

const OKTA_PAT: &str = "okta-service-user-pat";
const PLAIN_PAT: &str = "plain-service-user-pat";
const OTHER_ORG_PAT: &str = "other-org-manager-pat";
const SECRET: &str = "okta-client-secret";

async fn list_users(client: &reqwest::Client, base: &str, token: &str) -> (StatusCode, Value) {
    let response = client.get(format!("{base}/Users?count=1")).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn zitadel_vouched_tokens_are_accepted_refused_and_revoked(store: Arc<dyn Store>) {
    let (sim, _directory, exchanges) = logged_simulator().await;
    // Service users: one with ORG_USER_MANAGER in the org (with a PAT and a client secret), one with no role, one
    // managing users of another org only.
    let (org, other_org, okta_user) = sim.control().with_estate(|estate| {
        let orgs: Vec<String> = estate.orgs().map(|org| org.id.clone()).collect();
        let (org, other_org) = (orgs[0].clone(), orgs[1].clone());
        let editor = estate.warden_user_id().to_owned();
        let okta = estate.add_machine_user(&editor, &org, "okta-scim", "Okta SCIM", "").unwrap();
        estate
            .add_membership(
                &editor,
                &okta,
                MembershipScope::Org { org_id: org.clone() },
                vec!["ORG_USER_MANAGER".into()],
            )
            .unwrap();
        estate.set_machine_secret(&editor, &okta, SECRET).unwrap();
        let plain = estate.add_machine_user(&editor, &org, "plain", "No roles", "").unwrap();
        let elsewhere = estate.add_machine_user(&editor, &other_org, "elsewhere", "Other org", "").unwrap();
        estate
            .add_membership(
                &editor,
                &elsewhere,
                MembershipScope::Org { org_id: other_org.clone() },
                vec!["ORG_USER_MANAGER".into()],
            )
            .unwrap();
        (org, other_org, (okta, plain, elsewhere))
    });
    let (okta, plain, elsewhere) = okta_user;
    sim.control().register_pat(OKTA_PAT, &okta);
    sim.control().register_pat(PLAIN_PAT, &plain);
    sim.control().register_pat(OTHER_ORG_PAT, &elsewhere);

    let cache = Duration::from_secs(1);
    let (app, address) = serve_with(&sim, store.clone(), |config| {
        config.scim.zitadel_token_cache = warden::config::ConfigDuration::from_secs(1);
    })
    .await;
    store.upsert_environment(&app.environment("prod").unwrap().environment).await.unwrap();
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    let settings = ConnectionSettings { zitadel_tokens: true, ..ConnectionSettings::without_provisioning() };
    let issued = issue_connection(&app, tenant, "okta", ConnectionOptions { kind: ScimConnectionKind::Okta, settings })
        .await
        .unwrap();
    let own_token = issued.token.expose_secret().to_owned();
    let base = format!("{address}/scim/v2/{org}");
    let client = reqwest::Client::new();

    // The service user's PAT: accepted, and a write goes through under the connection.
    let (status, body) = list_users(&client, &base, OKTA_PAT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = client
        .post(format!("{base}/Users"))
        .bearer_auth(OKTA_PAT)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@customer.example"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let log = app.store().list_scim_request_log(&issued.connection.id, 10).await.unwrap();
    assert!(log.iter().any(|entry| entry.method == "POST" && entry.status == 201), "{log:?}");

    // Its client-credentials token (an access token for ZITADEL's API audience).
    let token: Value = client
        .post(format!("{}/oauth/v2/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "okta-scim"),
            ("client_secret", SECRET),
            ("scope", "openid urn:zitadel:iam:org:project:id:zitadel:aud"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(list_users(&client, &base, &access_token).await.0, StatusCode::OK);

    // No role in the org, or a role in another org only: 403, naming what is missing; never the token.
    for refused in [PLAIN_PAT, OTHER_ORG_PAT] {
        let (status, body) = list_users(&client, &base, refused).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("ORG_USER_MANAGER") && detail.contains(&org), "{detail}");
        assert!(!detail.contains(refused), "{detail}");
        assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    }
    // A manager of the other org is refused here, and the other org has no connection accepting tokens at all.
    assert_eq!(
        list_users(&client, &format!("{address}/scim/v2/{other_org}"), OTHER_ORG_PAT).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Made up: 401 like any unknown token. The connection's own token works as before.
    assert_eq!(list_users(&client, &base, "made-up-token").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(list_users(&client, &base, &own_token).await.0, StatusCode::OK);

    // Hostile tokens: huge, non-ASCII, blank, a SCIM filter; each is a refusal (or the server's header limit), never
    // a 5xx, and none reaches another org.
    for hostile in ["x".repeat(16 * 1024), "ünïcødé-tøken".to_owned(), " ".to_owned(), "userName eq \"x\"".to_owned()]
    {
        let response = client
            .get(format!("{base}/Users"))
            .header("Authorization", format!("Bearer {hostile}").into_bytes())
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_client_error() && status != StatusCode::FORBIDDEN, "{}: {status}", hostile.len());
    }
    // Verdicts are cached: a burst with a known token asks ZITADEL at most once more.
    sim.control().reset_request_counts();
    for _ in 0..20 {
        assert_eq!(list_users(&client, &base, OKTA_PAT).await.0, StatusCode::OK);
    }
    let asked = sim.control().request_counts().get("POST /auth/v1/memberships/me/_search").copied().unwrap_or(0);
    assert!(asked <= 1, "ZITADEL asked {asked} times for one token");

    // Revoked in ZITADEL: refused within the cache time.
    sim.control().revoke_pat(OKTA_PAT);
    let revoked_at = Instant::now();
    loop {
        let (status, _) = list_users(&client, &base, OKTA_PAT).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(revoked_at.elapsed() < cache + Duration::from_secs(2), "a revoked token still works");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sim.control().revoke_access_tokens();
    tokio::time::sleep(cache).await;
    assert_eq!(list_users(&client, &base, &access_token).await.0, StatusCode::UNAUTHORIZED);

    // ZITADEL failing: the token cannot be checked, which is a 503 to retry, not a refusal.
    sim.control().register_pat("fresh-pat", &okta);
    sim.control().add_fault(Fault::new("POST /auth/v1/memberships/me/_search", FaultKind::Status(503)));
    let (status, body) = list_users(&client, &base, "fresh-pat").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    sim.control().clear_faults();
    assert_eq!(list_users(&client, &base, "fresh-pat").await.0, StatusCode::OK);

    // One connection per org accepts ZITADEL's tokens: the SCIM URL names only the org.
    let second = ConnectionOptions { kind: ScimConnectionKind::Entra, settings };
    let refused = create_connection(&app, "prod", OrgId::parse(org.clone()).unwrap(), "entra", second).await;
    assert!(refused.is_err_and(|error| error.to_string().contains("already accepts ZITADEL's tokens")));

    // Disabled: ZITADEL's tokens stop at once, like the connection's own.
    warden::app::scim_admin::disable_connection(&app, &issued.connection.id).await.unwrap();
    assert_eq!(list_users(&client, &base, "fresh-pat").await.0, StatusCode::UNAUTHORIZED);

    // Creating a provisioning connection checks warden's own credential with ZITADEL: a service user without a
    // user-manager role in the org is told what it lacks; one with it passes.
    let provisioning = ConnectionOptions {
        kind: ScimConnectionKind::Okta,
        settings: ConnectionSettings { provisioning: true, ..ConnectionSettings::without_provisioning() },
    };
    app.use_zitadel_client(prod(), client_as(&sim, PLAIN_PAT));
    let error = create_connection(&app, "prod", OrgId::parse(org.clone()).unwrap(), "p1", provisioning)
        .await
        .err()
        .expect("a credential without the role is refused");
    let message = error.to_string();
    assert!(message.contains("ORG_USER_MANAGER") && message.contains(&org), "{message}");
    app.use_zitadel_client(prod(), client_as(&sim, OTHER_ORG_PAT));
    assert!(
        create_connection(&app, "prod", OrgId::parse(other_org.clone()).unwrap(), "p2", provisioning).await.is_ok()
    );
    assert_schemas(&exchanges);
}

/// A flood of made-up tokens from one address at an org that accepts ZITADEL's tokens: each costs at most one
/// question to ZITADEL until the address is throttled (429), and then none; a token ZITADEL vouched for, the
/// connection's own token, and another tenant's token keep working from that same address.
async fn a_flood_of_made_up_tokens_is_throttled_and_asks_zitadel_little(store: Arc<dyn Store>) {
    let (sim, _directory, _exchanges) = logged_simulator().await;
    let (app, address) = serve_with(&sim, store.clone(), |_| {}).await;
    store.upsert_environment(&app.environment("prod").unwrap().environment).await.unwrap();
    let (org, other_org, okta) = sim.control().with_estate(|estate| {
        let orgs: Vec<String> = estate.orgs().map(|org| org.id.clone()).collect();
        let editor = estate.warden_user_id().to_owned();
        let okta = estate.add_machine_user(&editor, &orgs[0], "okta-scim", "Okta SCIM", "").unwrap();
        let scope = MembershipScope::Org { org_id: orgs[0].clone() };
        estate.add_membership(&editor, &okta, scope, vec!["ORG_USER_MANAGER".into()]).unwrap();
        (orgs[0].clone(), orgs[1].clone(), okta)
    });
    sim.control().register_pat(OKTA_PAT, &okta);
    let issue = |org: &str, name: &'static str, settings: ConnectionSettings| {
        let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.to_owned()).unwrap() };
        issue_connection(&app, tenant, name, ConnectionOptions { kind: ScimConnectionKind::Okta, settings })
    };
    let accepting = ConnectionSettings { zitadel_tokens: true, ..ConnectionSettings::without_provisioning() };
    let own = issue(&org, "okta", accepting).await.unwrap().token.expose_secret().to_owned();
    let other = issue(&other_org, "entra", ConnectionSettings::without_provisioning())
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    let (base, other_base) = (format!("{address}/scim/v2/{org}"), format!("{address}/scim/v2/{other_org}"));
    let client = reqwest::Client::new();
    assert_eq!(list_users(&client, &base, OKTA_PAT).await.0, StatusCode::OK);

    sim.control().reset_request_counts();
    let mut flood = tokio::task::JoinSet::new();
    for index in 0..100 {
        let (client, base) = (client.clone(), base.clone());
        flood.spawn(async move { list_users(&client, &base, &format!("flood-{index}")).await.0 });
    }
    let mut throttled = 0;
    while let Some(status) = flood.join_next().await {
        let status = status.unwrap();
        assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS), "{status}");
        throttled += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(throttled > 0, "100 made-up tokens from one address were never throttled");
    let asked = sim.control().request_counts().get("POST /auth/v1/memberships/me/_search").copied().unwrap_or(0);
    assert!(asked <= 40, "ZITADEL was asked {asked} times for 100 made-up tokens");
    assert_eq!(list_users(&client, &base, OKTA_PAT).await.0, StatusCode::OK);
    assert_eq!(list_users(&client, &base, &own).await.0, StatusCode::OK);
    assert_eq!(list_users(&client, &other_base, &other).await.0, StatusCode::OK);
}

fn client_as(sim: &Simulator, pat: &str) -> ZitadelClient {
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(pat)));
    options.rate_limit = 0;
    ZitadelClient::new(options).unwrap()
}

/// Moving from ZITADEL's SCIM server changes only the host: the client keeps addressing the users that server
/// created by their ZITADEL ids, and warden adopts them (a record with that id, linked to the user) instead of
/// answering 404; their later changes reach the same ZITADEL user. Only a provisioning connection adopts, only
/// human users of its own org.
async fn users_addressed_by_their_zitadel_id_are_adopted(store: Arc<dyn Store>) {
    let (sim, _directory, exchanges) = logged_simulator().await;
    let (app, address) = serve_with(&sim, store.clone(), |_| {}).await;
    sync_environment(&app, &prod(), SyncRequest::default()).await.unwrap();
    let (org, humans, machine, stranger) = sim.control().with_estate(|estate| {
        let org = estate.orgs().next().unwrap().id.clone();
        let humans: Vec<(String, String)> = estate
            .users()
            .filter(|user| user.org_id == org && !user.is_machine() && user.state == UserState::Active)
            .take(2)
            .map(|user| (user.id.clone(), user.user_name.clone()))
            .collect();
        let machine = estate.users().find(|user| user.org_id == org && user.is_machine()).unwrap().id.clone();
        let stranger = estate.users().find(|user| user.org_id != org && !user.is_machine()).unwrap().id.clone();
        (org, humans, machine, stranger)
    });
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(org.clone()).unwrap() };
    let settings = ConnectionSettings { provisioning: true, ..ConnectionSettings::without_provisioning() };
    let issued = issue_connection(&app, tenant, "okta", ConnectionOptions { kind: ScimConnectionKind::Okta, settings })
        .await
        .unwrap();
    let token = issued.token.expose_secret().to_owned();
    let base = format!("{address}/scim/v2/{org}");
    let client = reqwest::Client::new();
    let users_before = sim.control().with_estate(|estate| estate.users().count());

    // Read by its ZITADEL id: adopted, as ZITADEL holds it.
    let (ada, ada_name) = &humans[0];
    let response = client.get(format!("{base}/Users/{ada}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["id"].as_str(), body["userName"].as_str()), (Some(ada.as_str()), Some(ada_name.as_str())));
    assert_eq!(body["active"], true);

    // Deactivated by the client: the same ZITADEL user, no second one.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let response = client
        .patch(format!("{base}/Users/{ada}"))
        .bearer_auth(&token)
        .header("Content-Type", "application/scim+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Deleted without being read first (the deactivate policy): adopted, then deactivated.
    let (bob, _) = &humans[1];
    let response = client.delete(format!("{base}/Users/{bob}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    drain(&app).await;
    sim.control().with_estate(|estate| {
        assert_eq!(estate.user(ada).unwrap().state, UserState::Inactive);
        assert_eq!(estate.user(bob).unwrap().state, UserState::Inactive);
        assert_eq!(estate.users().count(), users_before, "no user was created");
    });

    // Never a machine user, a user of another org, or a made-up id.
    for id in [machine.as_str(), stranger.as_str(), "123456789012345678"] {
        let response = client.get(format!("{base}/Users/{id}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    // Nor on a connection that keeps its writes in warden.
    let other_org = sim
        .control()
        .with_estate(|estate| estate.users().find(|user| user.id == stranger).map(|user| user.org_id.clone()).unwrap());
    let tenant = ScimTenant { environment: prod(), org_id: OrgId::parse(other_org.clone()).unwrap() };
    let plain =
        issue_connection(&app, tenant, "plain", ConnectionOptions::without_provisioning(ScimConnectionKind::Okta))
            .await
            .unwrap();
    let response = client
        .get(format!("{address}/scim/v2/{other_org}/Users/{stranger}"))
        .bearer_auth(plain.token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_schemas(&exchanges);
}
