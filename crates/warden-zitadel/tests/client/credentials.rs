//! The instance-wide credential searches (user v2 `ListKeys`, `ListPersonalAccessTokens`): exactly the simulator's
//! keys and tokens across pages, narrowed to an org, the same as the per-user lists but for key type and scopes,
//! v1/v2 negotiation, and ZITADEL's schemas on every exchange.

use std::collections::BTreeSet;

use secrecy::SecretString;
use time::OffsetDateTime;
use warden_core::id::OrgId;
use warden_core::model::{ApiVersion, KeyType, MachineKey, PersonalAccessToken};
use warden_zitadel::{Credential, Error, ZitadelClient};
use zitadel_sim::{ApiSupport, NO_EXPIRY};

use crate::support::{ADMIN_PAT, Sim, admin_client, now, options_for};

/// `(id, user, org, created, expires)`, as the client reports a credential.
type Row = (String, String, String, Option<OffsetDateTime>, Option<OffsetDateTime>);

fn micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap()
}

fn expiry(at: OffsetDateTime) -> Option<OffsetDateTime> {
    (at != NO_EXPIRY).then(|| micros(at))
}

fn simulated(sim: &Sim, keys: bool) -> BTreeSet<Row> {
    sim.control().with_estate(|estate| {
        if keys {
            estate
                .machine_keys()
                .map(|key| {
                    let (id, user, org) = (key.id.clone(), key.user_id.clone(), key.org_id.clone());
                    (id, user, org, Some(micros(key.meta.created)), expiry(key.expiration))
                })
                .collect()
        } else {
            estate
                .personal_access_tokens()
                .map(|pat| {
                    let (id, user, org) = (pat.id.clone(), pat.user_id.clone(), pat.org_id.clone());
                    (id, user, org, Some(micros(pat.meta.created)), expiry(pat.expiration))
                })
                .collect()
        }
    })
}

fn key_rows(keys: &[MachineKey]) -> BTreeSet<Row> {
    keys.iter()
        .map(|key| {
            let (id, user, org) = (key.id.to_string(), key.user_id.to_string(), key.org_id.to_string());
            (id, user, org, key.created_at, key.expires_at)
        })
        .collect()
}

fn token_rows(tokens: &[PersonalAccessToken]) -> BTreeSet<Row> {
    tokens
        .iter()
        .map(|token| {
            let (id, user, org) = (token.id.to_string(), token.user_id.to_string(), token.org_id.to_string());
            (id, user, org, token.created_at, token.expires_at)
        })
        .collect()
}

fn small_pages(sim: &Sim) -> ZitadelClient {
    let mut options = options_for(sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.page_size = 7;
    ZitadelClient::new(options).unwrap()
}

fn requests(sim: &Sim, route: &str) -> u64 {
    sim.control().request_counts().get(route).copied().unwrap_or(0)
}

#[tokio::test]
async fn both_searches_return_exactly_the_instances_credentials_across_pages_and_pass_the_schemas() {
    let checked = zitadel_sim::schemas::check_log_script().is_some();
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("exchanges.jsonl");
    let sim = Sim::start(zitadel_sim::Estate::seed(now()), |options| options.exchange_log = Some(log.clone())).await;
    let client = small_pages(&sim);

    let keys = client.list_machine_keys_instance_wide().await.unwrap().expect("the simulator serves the search");
    let expected = simulated(&sim, true);
    assert_eq!(keys.len(), expected.len(), "each key once");
    assert_eq!(key_rows(&keys), expected);
    assert!(keys.iter().all(|key| key.key_type == KeyType::Unspecified), "the search carries no key type");
    assert!(keys.iter().any(|key| key.expires_at.is_none()) && keys.iter().any(|key| key.expires_at.is_some()));
    let pages = requests(&sim, "POST /v2/users/keys/search");
    assert_eq!(pages, (expected.len() as u64).div_ceil(7), "pages of the configured size");
    assert!(pages > 2, "{pages} pages");

    let tokens = client.list_personal_access_tokens_instance_wide().await.unwrap().expect("served");
    let expected = simulated(&sim, false);
    assert_eq!(tokens.len(), expected.len(), "each token once");
    assert_eq!(token_rows(&tokens), expected);
    assert!(tokens.iter().all(|token| token.scopes.is_empty()), "the search carries no scopes");
    assert!(requests(&sim, "POST /v2/users/pats/search") > 2);

    // Narrowed to one organization: the same as filtering the instance-wide list.
    let org = keys.iter().map(|key| key.org_id.clone()).max().unwrap();
    let of_org = client.list_machine_keys_of_org(&org).await.unwrap().unwrap();
    let wanted: Vec<MachineKey> = keys.iter().filter(|key| key.org_id == org).cloned().collect();
    assert!(!of_org.is_empty() && of_org.len() < keys.len());
    assert_eq!(key_rows(&of_org), key_rows(&wanted));
    let org: OrgId = tokens.iter().map(|token| token.org_id.clone()).min().unwrap();
    let of_org = client.list_personal_access_tokens_of_org(&org).await.unwrap().unwrap();
    let wanted: Vec<PersonalAccessToken> = tokens.iter().filter(|token| token.org_id == org).cloned().collect();
    assert_eq!(token_rows(&of_org), token_rows(&wanted));

    if checked {
        let report = zitadel_sim::schemas::check_exchange_log(&log)
            .expect("the checker is installed")
            .unwrap_or_else(|report| panic!("ZITADEL's schemas reject an exchange:\n{report}"));
        assert!(report.contains("--type zitadel.user.v2.ListKeysRequest"), "{report}");
        assert!(report.contains("--type zitadel.user.v2.ListPersonalAccessTokensResponse"), "{report}");
        eprintln!("credential searches: {}", report.lines().last().unwrap_or_default());
    } else {
        eprintln!("ZITADEL schema tools not installed: skipping the schema check");
    }
}

#[tokio::test]
async fn the_searches_agree_with_the_per_user_lists_but_for_key_type_and_scopes() {
    let sim = Sim::seed().await;
    let client = admin_client(&sim);
    let keys = client.list_machine_keys_instance_wide().await.unwrap().unwrap();
    let tokens = client.list_personal_access_tokens_instance_wide().await.unwrap().unwrap();
    let owners: BTreeSet<_> = keys
        .iter()
        .map(|key| (key.org_id.clone(), key.user_id.clone()))
        .chain(tokens.iter().map(|token| (token.org_id.clone(), token.user_id.clone())))
        .collect();
    let (mut per_user_keys, mut per_user_tokens) = (Vec::new(), Vec::new());
    for (org, user) in &owners {
        per_user_keys.extend(client.list_machine_keys(org, user).await.unwrap());
        per_user_tokens.extend(client.list_personal_access_tokens(org, user).await.unwrap());
    }
    assert_eq!(key_rows(&keys), key_rows(&per_user_keys));
    assert_eq!(token_rows(&tokens), token_rows(&per_user_tokens));
    assert!(per_user_keys.iter().all(|key| key.key_type == KeyType::Json));
    assert!(per_user_tokens.iter().all(|token| !token.scopes.is_empty()));
}

#[tokio::test]
async fn a_v1_only_instance_means_none_under_auto_asked_once_and_an_error_under_v2() {
    let sim = Sim::seed().await;
    sim.control().set_api_support(ApiSupport::V1Only);
    let client = admin_client(&sim);
    for _ in 0..2 {
        assert!(client.list_machine_keys_instance_wide().await.unwrap().is_none());
        assert!(client.list_personal_access_tokens_instance_wide().await.unwrap().is_none());
        let org = OrgId::parse(sim.control().with_estate(|estate| estate.platform_org_id().to_owned())).unwrap();
        assert!(client.list_machine_keys_of_org(&org).await.unwrap().is_none());
    }
    assert_eq!(requests(&sim, "POST /v2/users/keys/search"), 1, "auto probes a missing search once per client");
    assert_eq!(requests(&sim, "POST /v2/users/pats/search"), 1);
    assert!(client.list_users_instance_wide().await.unwrap().is_none(), "the other v2 lists decide on their own");

    let mut options = options_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.api = ApiVersion::V2;
    let strict = ZitadelClient::new(options).unwrap();
    let error = strict.list_machine_keys_instance_wide().await.unwrap_err();
    assert!(matches!(error, Error::V2Unavailable { .. }), "{error}");
    let error = strict.list_personal_access_tokens_instance_wide().await.unwrap_err();
    assert!(matches!(error, Error::V2Unavailable { .. }), "{error}");

    let mut options = options_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    options.api = ApiVersion::V1;
    let v1 = ZitadelClient::new(options).unwrap();
    sim.control().set_api_support(ApiSupport::V1AndV2);
    sim.control().reset_request_counts();
    assert!(v1.list_machine_keys_instance_wide().await.unwrap().is_none());
    assert!(v1.list_personal_access_tokens_instance_wide().await.unwrap().is_none());
    assert_eq!(sim.control().total_requests(), 0, "api = v1 never asks");
}
