//! The client against the simulator over real HTTP: every auth method, every list, v1/v2 negotiation, faults,
//! rate limiting, permissions, provisioning, and that no secret ever shows.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly by design")]
#![allow(unreachable_pub, reason = "a test binary exports nothing")]

mod conformance;
mod credentials;
mod estate_walk;
mod faults;
mod secrets;
mod support;

use std::time::{Duration, Instant};

use secrecy::SecretString;
use warden_core::id::{OrgId, RoleKey};
use warden_core::model::{ApiVersion, UserKind, UserState};
use warden_zitadel::{Credential, Error, NewHumanUser, ProfileUpdate, ServiceAccountKey, ZitadelClient};
use zitadel_sim::{ApiSupport, MembershipScope};

use crate::support::{ADMIN_PAT, Sim, client_for, options_for};

#[tokio::test]
async fn a_pat_reads_the_instance_and_a_wrong_one_is_refused_without_echoing_it() {
    let sim = Sim::seed().await;
    let client = client_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    let orgs = client.list_orgs().await.unwrap();
    assert_eq!(orgs.len() as u64, sim.control().counts().orgs);

    let wrong = "pat-that-is-not-registered-0123456789";
    let client = client_for(&sim, Credential::PersonalAccessToken(SecretString::from(wrong)));
    let error = client.list_orgs().await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated { .. }), "{error}");
    assert!(!error.to_string().contains(wrong), "{error}");
}

#[tokio::test]
async fn jwt_profile_exchanges_the_key_caches_the_token_and_renews_it_once_on_rejection() {
    let sim = Sim::seed().await;
    let key = ServiceAccountKey::from_json(&sim.control().service_account_key_json()).unwrap();
    let client = client_for(&sim, Credential::ServiceAccountKey(key));
    client.list_orgs().await.unwrap();
    client.own_org().await.unwrap();
    assert_eq!(client.stats().token_exchanges(), 1, "the access token is cached");

    sim.control().revoke_access_tokens();
    client.own_org().await.unwrap();
    assert_eq!(client.stats().token_exchanges(), 2, "a 401 renews the token once and the call succeeds");
}

#[tokio::test]
async fn a_forged_key_is_refused_at_the_token_endpoint() {
    let sim = Sim::seed().await;
    let genuine = ServiceAccountKey::from_json(&sim.control().service_account_key_json()).unwrap();
    // A valid RSA key, but not the one ZITADEL holds for this user.
    let forged = ServiceAccountKey {
        key_id: genuine.key_id.clone(),
        user_id: genuine.user_id.clone(),
        private_key: SecretString::from(include_str!("forged-key.pem")),
    };
    let error = client_for(&sim, Credential::ServiceAccountKey(forged)).own_org().await.unwrap_err();
    assert!(matches!(error, Error::Token { .. }), "{error}");
}

#[tokio::test]
async fn client_credentials_authenticate_and_tokens_renew_before_they_expire() {
    let sim = Sim::start(zitadel_sim::Estate::seed(support::now()), |options| {
        options.access_token_lifetime = Duration::from_secs(2);
    })
    .await;
    let (client_id, client_secret) = sim.control().client_credentials();
    let client =
        client_for(&sim, Credential::ClientCredentials { client_id, client_secret: SecretString::from(client_secret) });
    client.own_org().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    client.own_org().await.unwrap();
    assert_eq!(client.stats().token_exchanges(), 2, "renewed before use, not after a rejection");
    assert_eq!(client.stats().retries(), 0);
}

#[tokio::test]
async fn too_few_permissions_name_the_missing_permission_and_the_org() {
    let sim = Sim::seed().await;
    let (user_id, org_id) = sim.control().with_estate(|estate| {
        let org = estate.orgs().nth(1).unwrap().id.clone();
        let editor = estate.warden_user_id().to_owned();
        let user =
            estate.add_machine_user(&editor, &org, "scim-provisioner", "SCIM provisioner", "provisions").unwrap();
        let scope = MembershipScope::Org { org_id: org.clone() };
        estate.add_membership(&editor, &user, scope, vec!["ORG_USER_MANAGER".to_owned()]).unwrap();
        (user, org)
    });
    sim.control().register_pat("restricted-pat", &user_id);
    let client = client_for(&sim, Credential::PersonalAccessToken(SecretString::from("restricted-pat")));
    let org = OrgId::parse(org_id.clone()).unwrap();

    assert!(!client.list_users(&org).await.unwrap().is_empty(), "user.read is granted");
    let error = client.list_org_members(&org).await.unwrap_err();
    assert!(error.to_string().contains(&format!("lacks org.member.read on org {org_id}")), "{error}");
    let error = client.list_identity_providers(&org).await.unwrap_err();
    assert!(error.is_permission_denied(), "{error}");

    // It may not list the instance's organizations, so it reads its own.
    let orgs = client.list_orgs().await.unwrap();
    assert_eq!(orgs.iter().map(|org| org.id.as_str()).collect::<Vec<_>>(), [org_id.as_str()]);
}

#[tokio::test]
async fn auto_falls_back_to_v1_once_and_v2_only_fails_clearly() {
    let sim = Sim::seed().await;
    sim.control().set_api_support(ApiSupport::V1Only);
    let client = client_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    assert!(client.list_users_instance_wide().await.unwrap().is_none());
    assert!(client.list_users_instance_wide().await.unwrap().is_none());
    let v2_requests: u64 =
        sim.control().request_counts().iter().filter(|(route, _)| route.contains("/v2")).map(|(_, n)| n).sum();
    assert_eq!(v2_requests, 1, "auto probes a missing v2 service once per client");
    assert!(!client.list_orgs().await.unwrap().is_empty(), "organizations come from Admin v1");

    let mut options = options_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.api = ApiVersion::V2;
    let strict = ZitadelClient::new(options).unwrap();
    let error = strict.list_users_instance_wide().await.unwrap_err();
    assert!(matches!(error, Error::V2Unavailable { .. }), "{error}");

    let mut options = options_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.api = ApiVersion::V1;
    sim.control().reset_request_counts();
    assert!(ZitadelClient::new(options).unwrap().list_users_instance_wide().await.unwrap().is_none());
    assert_eq!(sim.control().total_requests(), 0, "api = v1 never asks");
}

#[tokio::test]
async fn the_rate_limit_holds_under_concurrency() {
    let sim = Sim::seed().await;
    let mut options = options_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.rate_limit = 20;
    options.concurrency = 8;
    let client = ZitadelClient::new(options).unwrap();
    let requests = 30;
    let started = Instant::now();
    let calls = (0..requests).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.own_org().await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = f64::from(requests - 1) / elapsed;
    assert!(rate <= 20.5, "{requests} requests in {elapsed:.2} s: {rate:.1} requests/s");
    assert_eq!(sim.control().total_requests(), u64::from(requests as u32));
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let sim = Sim::seed().await;
    sim.control().set_latency(Duration::from_millis(200));
    let mut options = options_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.concurrency = 2;
    let client = ZitadelClient::new(options).unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.own_org().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "6 requests of 200 ms, 2 at a time: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn provisioning_creates_updates_grants_and_removes_a_user() {
    let sim = Sim::seed().await;
    let client = client_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    let (org, project, role) = sim.control().with_estate(|estate| {
        let project = estate.projects().next().unwrap();
        let role = estate.project_roles().find(|role| role.project_id == project.id).unwrap().key.clone();
        (project.org_id.clone(), project.id.clone(), role)
    });
    let org = OrgId::parse(org).unwrap();
    let new_user = NewHumanUser {
        username: "ada.lovelace".to_owned(),
        given_name: "Ada".to_owned(),
        family_name: "Lovelace".to_owned(),
        display_name: "Ada Lovelace".to_owned(),
        preferred_language: "en".to_owned(),
        email: "ada@customer.example".to_owned(),
        email_verified: true,
        phone: String::new(),
    };
    let user_id = client.import_human_user(&org, &new_user).await.unwrap();
    let error = client.import_human_user(&org, &new_user).await.unwrap_err();
    assert!(matches!(error, Error::Api { status: 409, .. }), "user names are unique: {error}");

    let profile = ProfileUpdate {
        given_name: "Augusta Ada".to_owned(),
        family_name: "King".to_owned(),
        nick_name: "Ada".to_owned(),
        display_name: "Ada King".to_owned(),
        preferred_language: "en".to_owned(),
    };
    client.update_human_profile(&org, &user_id, &profile).await.unwrap();
    client.update_email(&org, &user_id, "ada.king@customer.example", true).await.unwrap();
    client.deactivate_user(&org, &user_id).await.unwrap();
    let stored = client.list_users(&org).await.unwrap().into_iter().find(|user| user.id == user_id).unwrap();
    assert_eq!(stored.state, UserState::Inactive);
    let UserKind::Human(human) = &stored.kind else { panic!("imported a human") };
    assert_eq!((human.display_name.as_str(), human.email.as_str()), ("Ada King", "ada.king@customer.example"));
    client.reactivate_user(&org, &user_id).await.unwrap();

    let project = warden_core::id::ProjectId::parse(project).unwrap();
    let role = RoleKey::parse(role).unwrap();
    let grant = client.add_user_grant(&org, &user_id, &project, None, std::slice::from_ref(&role)).await.unwrap();
    client.update_user_grant(&org, &user_id, &grant, &[]).await.unwrap();
    let key = warden_core::id::MetadataKey::parse("urn:zitadel:scim:externalId").unwrap();
    client.set_user_metadata(&org, &user_id, &key, b"00u1abcd").await.unwrap();
    let user = client.list_users(&org).await.unwrap().into_iter().find(|user| user.id == user_id).unwrap();
    let metadata = client.list_user_metadata(&user.org_id, &user.id).await.unwrap();
    assert_eq!(metadata.iter().map(|entry| entry.value.as_slice()).collect::<Vec<_>>(), [b"00u1abcd".as_slice()]);
    let grants = client.list_user_grants(&org).await.unwrap();
    assert!(grants.iter().any(|candidate| candidate.id == grant && candidate.role_keys.is_empty()));

    client.remove_user_grant(&org, &user_id, &grant).await.unwrap();
    client.remove_user(&org, &user_id).await.unwrap();
    assert!(client.list_users(&org).await.unwrap().iter().all(|user| user.id != user_id));
    let error = client.remove_user(&org, &user_id).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
}

#[tokio::test]
async fn an_unreachable_zitadel_is_a_connection_error_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut options = warden_zitadel::ClientOptions::new(
        format!("http://{address}"),
        Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)),
    );
    options.retry = support::fast_retries(2);
    let client = ZitadelClient::new(options).unwrap();
    let error = client.own_org().await.unwrap_err();
    assert!(matches!(error, Error::Connection { .. }), "{error}");
    assert_eq!(client.stats().retries(), 2);
    assert!(matches!(
        ZitadelClient::new(warden_zitadel::ClientOptions::new(
            "ftp://x",
            Credential::PersonalAccessToken(SecretString::from("p"))
        )),
        Err(Error::InvalidBaseUrl(_))
    ));
}
