//! The instance-wide credential searches `POST /v2/users/keys/search` and `POST /v2/users/pats/search`: what they
//! return for whom, their filters, paging and sorting, API support, request counts, and ZITADEL's schemas.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{ADMIN_PAT, NOW, call, empty, ids, post, start};
use reqwest::Method;
use serde_json::{Value, json};
use zitadel_sim::{ApiSupport, Estate, MembershipScope, NewHumanUser, SimulatorOptions};

const KEYS: &str = "/v2/users/keys/search";
const PATS: &str = "/v2/users/pats/search";

/// One credential as the estate holds it, in the fields the searches answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    id: String,
    user_id: String,
    org_id: String,
    created: String,
    expiration: String,
}

fn estate_rows(estate: &Estate, keys: bool) -> Vec<Row> {
    let format = |at| zitadel_sim::format_timestamp(at);
    if keys {
        estate
            .machine_keys()
            .map(|key| Row {
                id: key.id.clone(),
                user_id: key.user_id.clone(),
                org_id: key.org_id.clone(),
                created: format(key.meta.created),
                expiration: format(key.expiration),
            })
            .collect()
    } else {
        estate
            .personal_access_tokens()
            .map(|pat| Row {
                id: pat.id.clone(),
                user_id: pat.user_id.clone(),
                org_id: pat.org_id.clone(),
                created: format(pat.meta.created),
                expiration: format(pat.expiration),
            })
            .collect()
    }
}

fn response_rows(body: &Value) -> Vec<Row> {
    let text = |item: &Value, name: &str| item[name].as_str().unwrap_or_default().to_owned();
    body["result"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| Row {
                    id: text(item, "id"),
                    user_id: text(item, "userId"),
                    org_id: text(item, "organizationId"),
                    created: text(item, "creationDate"),
                    expiration: text(item, "expirationDate"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn total(body: &Value) -> u64 {
    body["pagination"]["totalResult"].as_str().map_or(0, |text| text.parse().expect("a number string"))
}

fn temp_log() -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("zitadel-sim-credentials-{}-{nanos}.jsonl", std::process::id()))
}

#[tokio::test]
async fn both_searches_return_every_credential_of_the_instance_in_pages_and_pass_the_schemas() {
    let log = temp_log();
    let mut options = SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT);
    options.exchange_log = Some(log.clone());
    let sim = start(options).await;
    for (path, keys, column) in
        [(KEYS, true, "KEY_FIELD_NAME_ID"), (PATS, false, "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ID")]
    {
        let mut expected = sim.control().with_estate(|estate| estate_rows(estate, keys));
        expected.sort();
        assert!(expected.len() > 10, "{path}: the seed holds {} credentials", expected.len());
        assert!(expected.iter().map(|row| &row.org_id).collect::<BTreeSet<_>>().len() > 1, "across orgs");

        let mut paged = Vec::new();
        for page in 0_u64.. {
            let body = json!({"pagination": {"offset": (page * 7).to_string(), "limit": 7, "asc": true}, "sortingColumn": column});
            let (status, body) = post(&sim, path, None, body).await;
            assert_eq!(status, 200, "{path}: {body}");
            assert_eq!(total(&body), expected.len() as u64);
            assert_eq!(body["pagination"]["appliedLimit"], "7");
            let rows = response_rows(&body);
            if rows.is_empty() {
                break;
            }
            paged.extend(rows);
        }
        assert_eq!(paged, expected, "{path}: sorted by id ascending, page by page");

        let (_, all) = post(&sim, path, None, empty()).await;
        assert_eq!(all["pagination"]["appliedLimit"], "100", "default limit");
        let (_, descending) = post(&sim, path, None, json!({"sortingColumn": column})).await;
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(
            response_rows(&descending),
            reversed.into_iter().take(100).collect::<Vec<_>>(),
            "asc defaults to false"
        );
        let item = &all["result"][0];
        let mut names: Vec<&str> = item.as_object().expect("an object").keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["changeDate", "creationDate", "expirationDate", "id", "organizationId", "userId"]);

        let (status, body) = post(&sim, path, None, json!({"pagination": {"limit": 1001}})).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(3)), "{body}");
        assert!(body["message"].as_str().unwrap_or_default().contains("Errors.Query.LimitExceeded"));
        let (status, _) = post(&sim, path, None, json!({"pagination": {"limit": 1000}})).await;
        assert_eq!(status, 200);
    }
    let (status, _, _) = call(&sim, Method::GET, KEYS, Some(ADMIN_PAT), None, None).await;
    assert_eq!(status, 405);
    let counts = sim.control().request_counts();
    let count = |route: &str| counts.get(route).copied().unwrap_or(0);
    assert!(count("POST /v2/users/keys/search") > 5 && count("POST /v2/users/pats/search") > 5, "{counts:?}");
    sim.shutdown().await;

    match zitadel_sim::schemas::check_exchange_log(&log) {
        None => println!("NOTE: the ZITADEL schema tools are not installed; skipping the schema check"),
        Some(Ok(report)) => {
            assert!(report.contains("check.mjs --type zitadel.user.v2.ListKeysRequest"), "{report}");
            assert!(report.contains("check.mjs --type zitadel.user.v2.ListPersonalAccessTokensResponse"), "{report}");
            println!("{report}");
        }
        Some(Err(report)) => panic!("the schema check failed:\n{report}"),
    }
    let _ = std::fs::remove_file(&log);
}

#[tokio::test]
async fn filters_narrow_by_id_user_org_and_dates() {
    let sim = start(SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT)).await;
    let keys = sim.control().with_estate(|estate| estate_rows(estate, true));
    let pats = sim.control().with_estate(|estate| estate_rows(estate, false));
    let search = |path: &'static str, filters: Value| {
        let sim = &sim;
        async move {
            let (status, body) =
                post(sim, path, None, json!({"pagination": {"limit": 1000}, "filters": filters})).await;
            assert_eq!(status, 200, "{path}: {body}");
            let mut rows = response_rows(&body);
            rows.sort();
            assert_eq!(total(&body), rows.len() as u64);
            rows
        }
    };
    let expect = |rows: &[Row], keep: &dyn Fn(&Row) -> bool| {
        let mut kept: Vec<Row> = rows.iter().filter(|row| keep(row)).cloned().collect();
        kept.sort();
        kept
    };

    let key = &keys[keys.len() / 2];
    assert_eq!(search(KEYS, json!([{"keyIdFilter": {"id": key.id}}])).await, std::slice::from_ref(key));
    let pat = &pats[pats.len() / 2];
    assert_eq!(search(PATS, json!([{"tokenIdFilter": {"id": pat.id}}])).await, std::slice::from_ref(pat));
    assert!(search(PATS, json!([{"keyIdFilter": {"id": pat.id}}])).await.len() == pats.len(), "not a PAT filter");
    assert!(search(KEYS, json!([{"keyIdFilter": {"id": ""}}])).await.is_empty());

    let rows = search(KEYS, json!([{"userIdFilter": {"id": key.user_id}}])).await;
    assert_eq!(rows, expect(&keys, &|row| row.user_id == key.user_id));
    let rows = search(PATS, json!([{"organizationIdFilter": {"id": pat.org_id}}])).await;
    assert_eq!(rows, expect(&pats, &|row| row.org_id == pat.org_id));
    assert!(!rows.is_empty() && rows.len() < pats.len());
    let both = json!([{"organizationIdFilter": {"id": key.org_id}}, {"userIdFilter": {"id": pat.user_id}}]);
    let rows = search(KEYS, both).await;
    assert_eq!(rows, expect(&keys, &|row| row.org_id == key.org_id && row.user_id == pat.user_id), "filters AND");

    let at = key.created.clone();
    for (method, keep) in [
        ("TIMESTAMP_FILTER_METHOD_EQUALS", (|a: &str, b: &str| a == b) as fn(&str, &str) -> bool),
        ("TIMESTAMP_FILTER_METHOD_AFTER", |a, b| a > b),
        ("TIMESTAMP_FILTER_METHOD_AFTER_OR_EQUALS", |a, b| a >= b),
        ("TIMESTAMP_FILTER_METHOD_BEFORE", |a, b| a < b),
        ("TIMESTAMP_FILTER_METHOD_BEFORE_OR_EQUALS", |a, b| a <= b),
    ] {
        // The seed's timestamps share one format, so they compare as text as they do as times.
        let rows = search(KEYS, json!([{"createdDateFilter": {"timestamp": at, "method": method}}])).await;
        assert_eq!(rows, expect(&keys, &|row| keep(&row.created, &at)), "{method}");
    }
    assert!(
        keys.iter().any(|row| row.created > at) && keys.iter().any(|row| row.created < at),
        "a split worth testing"
    );
    let soon = "2026-12-01T00:00:00Z";
    let rows = search(
        PATS,
        json!([{"expirationDateFilter": {"timestamp": soon, "method": "TIMESTAMP_FILTER_METHOD_BEFORE"}}]),
    )
    .await;
    assert_eq!(rows, expect(&pats, &|row| row.expiration.as_str() < soon));
    let rows = search(PATS, json!([{"expirationDateFilter": {"timestamp": soon, "method": 2}}])).await;
    assert_eq!(rows, expect(&pats, &|row| row.expiration.as_str() >= soon), "enum numbers are accepted");

    let (status, _) =
        post(&sim, KEYS, None, json!({"filters": [{"createdDateFilter": {"timestamp": "yesterday"}}]})).await;
    assert_eq!(status, 400);
    let (status, _) = post(&sim, KEYS, None, json!({"filters": {"userIdFilter": {"id": "1"}}})).await;
    assert_eq!(status, 400, "filters is a list");
    // (Requests ZITADEL's schemas reject, so not in the test that checks its exchange log.)
    for path in [KEYS, PATS] {
        let (status, _) = post(&sim, path, None, json!({"sortingColumn": "KEY_FIELD_NAME_NOPE"})).await;
        assert_eq!(status, 400, "{path}: an unknown sorting column is rejected");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn sorting_columns_order_by_their_field() {
    let sim = start(SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT)).await;
    for (path, prefix, expiration) in [
        (KEYS, "KEY_FIELD_NAME_", "KEY_EXPIRATION_DATE"),
        (PATS, "PERSONAL_ACCESS_TOKEN_FIELD_NAME_", "EXPIRATION_DATE"),
    ] {
        for (column, field) in [
            ("CREATED_DATE", "creationDate"),
            ("USER_ID", "userId"),
            ("ORGANIZATION_ID", "organizationId"),
            (expiration, "expirationDate"),
        ] {
            let body =
                json!({"pagination": {"limit": 1000, "asc": true}, "sortingColumn": format!("{prefix}{column}")});
            let (status, body) = post(&sim, path, None, body).await;
            assert_eq!(status, 200, "{path} {column}: {body}");
            let values = ids(&body, "result", field);
            let mut sorted = values.clone();
            sorted.sort();
            assert_eq!(values, sorted, "{path} by {column}");
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_caller_sees_only_the_credentials_of_orgs_it_may_read_users_in() {
    let sim = start(SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT)).await;
    let (org, manager) = sim.control().with_estate(|estate| {
        let org = estate.machine_keys().map(|key| key.org_id.clone()).find(|org| *org != estate.platform_org_id());
        let org = org.expect("an org with keys besides the platform");
        let editor = estate.warden_user_id().to_string();
        let new = NewHumanUser::new("key.auditor", "Kay", "Auditor", "kay@example.com");
        let manager = estate.add_human_user(&editor, &org, new).expect("user");
        let scope = MembershipScope::Org { org_id: org.clone() };
        estate.add_membership(&editor, &manager, scope, vec!["ORG_OWNER_VIEWER".to_string()]).expect("member");
        (org, manager)
    });
    sim.control().register_pat("auditor-pat", &manager);
    for path in [KEYS, PATS] {
        let (status, body, _) = call(&sim, Method::POST, path, Some("auditor-pat"), None, Some(empty())).await;
        assert_eq!(status, 200, "{path}: {body}");
        let rows = response_rows(&body);
        assert!(!rows.is_empty() || path == PATS, "{path}");
        assert!(rows.iter().all(|row| row.org_id == org), "{path}: only {org}");
        let expected = sim.control().with_estate(|estate| {
            estate_rows(estate, path == KEYS).into_iter().filter(|row| row.org_id == org).count() as u64
        });
        assert_eq!(total(&body), expected, "{path}");
    }
    let (status, body, _) = call(&sim, Method::POST, KEYS, None, None, Some(empty())).await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(16)));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_v1_only_instance_does_not_serve_them_and_counts_the_attempt() {
    let sim = start(SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT)).await;
    sim.control().set_api_support(ApiSupport::V1Only);
    for path in [KEYS, PATS] {
        let (status, body) = post(&sim, path, None, empty()).await;
        assert_eq!((status, body["code"].as_u64()), (404, Some(5)), "{path}");
    }
    let counts = sim.control().request_counts();
    assert_eq!(counts.get("POST /v2/users/pats/search"), Some(&1), "{counts:?}");
    sim.control().set_api_support(ApiSupport::V1AndV2);
    let (status, _) = post(&sim, KEYS, None, empty()).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}
