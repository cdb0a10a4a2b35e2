//! The simulator over real HTTP: authentication, scoping, paging, v2 limits, faults, counters, API support, writes
//! and events, and the `/__sim/` control API.

mod common;

use std::time::{Duration, Instant};

use common::{ADMIN_PAT, NOW, call, client, empty, get, ids, post, start, start_seed, total};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use zitadel_sim::{ApiSupport, Estate, Fault, FaultKind, MembershipScope, NewHumanUser, SimulatorOptions};

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs()
}

fn error_id(body: &Value) -> &str {
    body["details"][0]["id"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn health_discovery_and_routing_errors() {
    let sim = start_seed().await;
    let base = sim.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let text = client().get(format!("{base}/debug/healthz")).send().await.expect("healthz").text().await.expect("text");
    assert_eq!(text, "ok");
    let text = client().get(format!("{base}/debug/ready")).send().await.expect("ready").text().await.expect("text");
    assert_eq!(text, "\"ok\"");
    let discovery: Value = client()
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("j");
    assert_eq!(discovery["issuer"], base.as_str());
    assert_eq!(discovery["token_endpoint"], format!("{base}/oauth/v2/token"));
    assert!(discovery["jwks_uri"].is_string());

    let (status, body, _) =
        call(&sim, Method::POST, "/management/v1/nothing/_search", Some(ADMIN_PAT), None, None).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(5)));
    let (status, _, _) = call(&sim, Method::GET, "/admin/v1/orgs/_search", Some(ADMIN_PAT), None, None).await;
    assert_eq!(status, 405);
    let response = client()
        .post(format!("{base}/management/v1/users/_search"))
        .bearer_auth(ADMIN_PAT)
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json error body");
    assert_eq!(body["code"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn pat_authentication() {
    let sim = start_seed().await;
    let (status, body) = get(&sim, "/management/v1/orgs/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["org"]["name"], "Platform");
    assert_eq!(body["org"]["state"], "ORG_STATE_ACTIVE");

    let (status, body, _) = call(&sim, Method::GET, "/management/v1/orgs/me", None, None, None).await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(16)));
    let (status, body, _) = call(&sim, Method::GET, "/management/v1/orgs/me", Some("wrong"), None, None).await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(16)));
    assert!(body["message"].as_str().unwrap_or_default().contains("(AUTH-"));
    sim.shutdown().await;
}

fn assertion(key_file: &Value, audience: &str, issued_at: u64) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key_file["keyId"].as_str().map(str::to_string);
    let user_id = key_file["userId"].as_str().expect("userId");
    let claims = json!({"iss": user_id, "sub": user_id, "aud": [audience], "iat": issued_at, "exp": issued_at + 3600});
    let key = EncodingKey::from_rsa_pem(key_file["key"].as_str().expect("key").as_bytes()).expect("pem");
    jsonwebtoken::encode(&header, &claims, &key).expect("signed")
}

async fn token_request(sim: &zitadel_sim::Simulator, form: &[(&str, &str)]) -> (u16, Value) {
    let response =
        client().post(format!("{}/oauth/v2/token", sim.base_url())).form(form).send().await.expect("token request");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

const SCOPE: &str = "openid urn:zitadel:iam:org:project:id:zitadel:aud";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[tokio::test]
async fn jwt_profile_token_exchange() {
    let sim = start_seed().await;
    let key_file: Value = serde_json::from_str(&sim.control().service_account_key_json()).expect("key file");
    assert_eq!(key_file["type"], "serviceaccount");
    assert!(key_file["key"].as_str().unwrap_or_default().starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let jwt = assertion(&key_file, &sim.base_url(), unix_now());

    let (status, body) =
        token_request(&sim, &[("grant_type", JWT_BEARER), ("scope", SCOPE), ("assertion", &jwt)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 43_200);
    assert!(body["id_token"].is_string());
    let token = body["access_token"].as_str().expect("access token").to_string();
    let (status, body, _) = call(&sim, Method::GET, "/management/v1/orgs/me", Some(&token), None, None).await;
    assert_eq!(status, 200, "{body}");

    // Wrongly signed: tamper with the signature.
    let mut tampered = jwt.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, body) =
        token_request(&sim, &[("grant_type", JWT_BEARER), ("scope", SCOPE), ("assertion", &tampered)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    // Wrong audience and a stale iat.
    let wrong_audience = assertion(&key_file, "https://elsewhere.example", unix_now());
    let (status, _) =
        token_request(&sim, &[("grant_type", JWT_BEARER), ("scope", SCOPE), ("assertion", &wrong_audience)]).await;
    assert_eq!(status, 400);
    let stale = assertion(&key_file, &sim.base_url(), unix_now() - 2 * 3600);
    let (status, _) = token_request(&sim, &[("grant_type", JWT_BEARER), ("scope", SCOPE), ("assertion", &stale)]).await;
    assert_eq!(status, 400);

    // Without the API audience scope the token is issued, but API calls fail with APP-Zxfako.
    let (status, body) =
        token_request(&sim, &[("grant_type", JWT_BEARER), ("scope", "openid"), ("assertion", &jwt)]).await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().expect("token");
    let (status, body, _) = call(&sim, Method::GET, "/management/v1/orgs/me", Some(token), None, None).await;
    assert_eq!((status, error_id(&body)), (401, "APP-Zxfako"));
    sim.shutdown().await;
}

#[tokio::test]
async fn client_credentials_and_token_lifetime() {
    let mut options = SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT);
    options.access_token_lifetime = Duration::from_secs(1);
    let sim = start(options).await;
    let (client_id, secret) = sim.control().client_credentials();
    assert_eq!(client_id, "warden");
    let response = client()
        .post(format!("{}/oauth/v2/token", sim.base_url()))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", SCOPE)])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    assert!(body.get("id_token").is_none());
    let token = body["access_token"].as_str().expect("token").to_string();
    let (status, _, _) = call(&sim, Method::GET, "/management/v1/orgs/me", Some(&token), None, None).await;
    assert_eq!(status, 200);

    // Form fields work too; a wrong secret is invalid_client.
    let (status, _) = token_request(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("scope", SCOPE),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = token_request(
        &sim,
        &[("grant_type", "client_credentials"), ("scope", SCOPE), ("client_id", &client_id), ("client_secret", "nope")],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));

    // Expiry after the configured lifetime; revocation; PATs survive revocation.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let (status, _, _) = call(&sim, Method::GET, "/management/v1/orgs/me", Some(&token), None, None).await;
    assert_eq!(status, 401);
    let (_, body) = token_request(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("scope", SCOPE),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    let fresh = body["access_token"].as_str().expect("token").to_string();
    sim.control().revoke_access_tokens();
    let (status, _, _) = call(&sim, Method::GET, "/management/v1/orgs/me", Some(&fresh), None, None).await;
    assert_eq!(status, 401);
    let (status, _) = get(&sim, "/management/v1/orgs/me", None).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn org_context_and_restricted_user() {
    let sim = start_seed().await;
    let (org_a, org_b, manager_id) = sim.control().with_estate(|estate| {
        let orgs: Vec<String> = estate.orgs().map(|org| org.id.clone()).collect();
        let (org_a, org_b) = (orgs[5].clone(), orgs[6].clone());
        let editor = estate.warden_user_id().to_string();
        let new = NewHumanUser::new("restricted.manager", "Rita", "Stricted", "rita@example.com");
        let manager_id = estate.add_human_user(&editor, &org_a, new).expect("user");
        let scope = MembershipScope::Org { org_id: org_a.clone() };
        estate.add_membership(&editor, &manager_id, scope, vec!["ORG_USER_MANAGER".to_string()]).expect("member");
        (org_a, org_b, manager_id)
    });
    sim.control().register_pat("restricted-pat", &manager_id);

    // The admin (IAM_OWNER) reaches any org with x-zitadel-orgid; only that org's users come back.
    let (status, body) = post(&sim, "/management/v1/users/_search", Some(&org_b), empty()).await;
    assert_eq!(status, 200);
    let owners: Vec<&str> = body["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|user| user["details"]["resourceOwner"].as_str().unwrap_or_default())
        .collect();
    assert!(!owners.is_empty() && owners.iter().all(|owner| *owner == org_b));

    let restricted = |path: &'static str, org: Option<String>| {
        let sim = &sim;
        async move { call(sim, Method::POST, path, Some("restricted-pat"), org.as_deref(), Some(json!({}))).await }
    };
    let (status, body, _) = restricted("/management/v1/users/_search", None).await;
    assert_eq!(status, 200, "own org without header");
    assert!(total(&body) > 0);
    let (status, _, _) = restricted("/management/v1/users/grants/_search", Some(org_a.clone())).await;
    assert_eq!(status, 200);
    let (status, body, _) = restricted("/management/v1/users/_search", Some(org_b.clone())).await;
    assert_eq!((status, body["code"].as_u64(), error_id(&body)), (403, Some(7), "AUTH-5mWD2"));
    assert_eq!(body["message"], "No matching permissions found (AUTH-5mWD2)");
    for path in [
        "/management/v1/orgs/me/members/_search",
        "/management/v1/idps/templates/_search",
        "/admin/v1/orgs/_search",
        "/admin/v1/events/_search",
    ] {
        let (status, _, _) = restricted(path, None).await;
        assert_eq!(status, 403, "{path}");
    }
    // v2 lists are filtered to what the caller may read.
    let (status, body, _) = restricted("/v2/users", None).await;
    assert_eq!(status, 200);
    assert!(
        body["result"].as_array().expect("users").iter().all(|user| user["details"]["resourceOwner"] == org_a.as_str())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn v1_paging_and_sorting() {
    let sim = start_seed().await;
    let (_, everything) = post(&sim, "/management/v1/users/_search", None, empty()).await;
    let all_total = total(&everything);
    assert_eq!(everything["result"].as_array().map(Vec::len), Some(all_total as usize), "limit 0 = all");
    assert!(everything["details"]["processedSequence"].is_null(), "zero values are omitted");
    assert!(everything["details"]["viewTimestamp"].as_str().is_some_and(|ts| ts.ends_with('Z')));

    let sorted_body = json!({"sortingColumn": "USER_FIELD_NAME_USER_NAME", "query": {"asc": true}});
    let (_, sorted) = post(&sim, "/management/v1/users/_search", None, sorted_body).await;
    let names = ids(&sorted, "result", "userName");
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(names, expected);

    let mut paged = Vec::new();
    for page in 0.. {
        let body = json!({"sortingColumn": 1, "query": {"offset": (page * 7).to_string(), "limit": 7, "asc": true}});
        let (status, body) = post(&sim, "/management/v1/users/_search", None, body).await;
        assert_eq!(status, 200);
        assert_eq!(total(&body), all_total);
        let chunk = ids(&body, "result", "userName");
        if chunk.is_empty() {
            break;
        }
        paged.extend(chunk);
    }
    assert_eq!(paged, names);

    let (_, descending) =
        post(&sim, "/management/v1/users/_search", None, json!({"sorting_column": "USER_FIELD_NAME_USER_NAME"})).await;
    let mut reversed = names.clone();
    reversed.reverse();
    assert_eq!(ids(&descending, "result", "userName"), reversed);

    let filter = json!({"queries": [{"typeQuery": {"type": "TYPE_MACHINE"}}]});
    let (_, machines) = post(&sim, "/management/v1/users/_search", None, filter).await;
    assert!(machines["result"].as_array().expect("result").iter().all(|user| user.get("machine").is_some()));
    let filter = json!({"queries": [{"userNameQuery": {"userName": "warden", "method": "TEXT_QUERY_METHOD_EQUALS"}}]});
    let (_, warden) = post(&sim, "/management/v1/users/_search", None, filter).await;
    assert_eq!(total(&warden), 1);
    assert_eq!(warden["result"][0]["machine"]["hasSecret"], true);

    let (_, orgs) = post(
        &sim,
        "/admin/v1/orgs/_search",
        None,
        json!({"sortingColumn": "ORG_FIELD_NAME_NAME", "query": {"asc": true, "limit": 5}}),
    )
    .await;
    assert_eq!(total(&orgs), 41);
    assert_eq!(orgs["result"].as_array().map(Vec::len), Some(5));
    sim.shutdown().await;
}

#[tokio::test]
async fn v2_limits_and_api_support() {
    let sim = start_seed().await;
    let (status, body) =
        post(&sim, "/v2beta/authorizations/search", None, json!({"pagination": {"limit": 1001}})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(3)));
    assert!(body["message"].as_str().unwrap_or_default().contains("Errors.Query.LimitExceeded"));
    let (status, body) =
        post(&sim, "/v2beta/authorizations/search", None, json!({"pagination": {"limit": 1000, "offset": "10"}})).await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["appliedLimit"], "1000");
    let total_result: u64 = body["pagination"]["totalResult"].as_str().expect("total").parse().expect("number");
    assert!(total_result > 1_800);
    assert_eq!(body["authorizations"].as_array().map(Vec::len), Some(1000));
    let (_, body) = post(&sim, "/v2beta/projects/search", None, empty()).await;
    assert_eq!(body["pagination"]["appliedLimit"], "100", "default limit");

    sim.control().set_api_support(ApiSupport::V1Only);
    let (status, _) = post(&sim, "/v2/users", None, empty()).await;
    assert_eq!(status, 404);
    let (status, _) = post(&sim, "/management/v1/users/_search", None, empty()).await;
    assert_eq!(status, 200);
    sim.control().set_api_support(ApiSupport::V1AndV2);
    let (status, _) = post(&sim, "/v2/users", None, empty()).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_of_every_kind_and_request_counts() {
    let sim = start_seed().await;
    let control = sim.control().clone();
    let route = "POST /management/v1/users/_search";

    // Status: skip 1, fail once.
    control.add_fault(Fault {
        route: route.to_string(),
        org_id: None,
        kind: FaultKind::Status(503),
        skip: 1,
        times: Some(1),
    });
    let statuses = [
        post(&sim, "/management/v1/users/_search", None, empty()).await.0,
        post(&sim, "/management/v1/users/_search", None, empty()).await.0,
        post(&sim, "/management/v1/users/_search", None, empty()).await.0,
    ];
    assert_eq!(statuses, [200, 503, 200]);
    control.clear_faults();

    // Rate limited with Retry-After.
    control.add_fault(Fault::new("*", FaultKind::RateLimited { retry_after_seconds: 2 }));
    let (status, body, headers) = call(&sim, Method::GET, "/management/v1/orgs/me", Some(ADMIN_PAT), None, None).await;
    assert_eq!((status, body["code"].as_u64()), (429, Some(8)));
    assert_eq!(headers.get("retry-after").and_then(|value| value.to_str().ok()), Some("2"));
    control.clear_faults();

    // Latency.
    control.add_fault(Fault::new(route, FaultKind::Latency(Duration::from_millis(300))));
    let started = Instant::now();
    let (status, _) = post(&sim, "/management/v1/users/_search", None, empty()).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    control.clear_faults();

    // Truncated body.
    control.add_fault(Fault::new(route, FaultKind::TruncatedBody));
    let response = client()
        .post(format!("{}/management/v1/users/_search", sim.base_url()))
        .bearer_auth(ADMIN_PAT)
        .json(&empty())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("text");
    assert!(!text.is_empty() && serde_json::from_str::<Value>(&text).is_err());
    control.clear_faults();

    // Hang until the client gives up.
    control.add_fault(Fault::new(route, FaultKind::Hang));
    let result = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .expect("client")
        .post(format!("{}/management/v1/users/_search", sim.base_url()))
        .bearer_auth(ADMIN_PAT)
        .json(&empty())
        .send()
        .await;
    assert!(result.is_err_and(|error| error.is_timeout()));
    control.clear_faults();

    // Org-specific fault.
    let other_org = control.with_estate(|estate| estate.orgs().nth(3).map(|org| org.id.clone()).expect("org"));
    control.add_fault(Fault {
        route: "*".to_string(),
        org_id: Some(other_org.clone()),
        kind: FaultKind::Status(500),
        skip: 0,
        times: None,
    });
    assert_eq!(post(&sim, "/management/v1/projects/_search", None, empty()).await.0, 200);
    let (status, body) = post(&sim, "/management/v1/projects/_search", Some(&other_org), empty()).await;
    assert_eq!((status, body["code"].as_u64()), (500, Some(13)));
    control.clear_faults();

    // Request counts by route template.
    let counts = control.request_counts();
    assert_eq!(counts.get(route), Some(&6));
    assert_eq!(counts.get("POST /management/v1/projects/_search"), Some(&2));
    assert_eq!(control.total_requests(), counts.values().sum::<u64>());
    control.reset_request_counts();
    get(&sim, "/management/v1/users/123", None).await;
    assert_eq!(control.request_counts().get("GET /management/v1/users/{id}"), Some(&1));
    assert_eq!(control.total_requests(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn writes_append_events() {
    let sim = start_seed().await;
    let body = json!({"userName": "new.person", "profile": {"firstName": "New", "lastName": "Person"}, "email": {"email": "new@example.com", "isEmailVerified": true}});
    let (status, added) = post(&sim, "/management/v1/users/human", None, body.clone()).await;
    assert_eq!(status, 200, "{added}");
    let user_id = added["userId"].as_str().expect("id").to_string();
    let (status, body) = post(&sim, "/management/v1/users/human", None, body).await;
    assert_eq!((status, body["code"].as_u64()), (409, Some(6)));

    let (status, _, _) = call(
        &sim,
        Method::PUT,
        &format!("/management/v1/users/{user_id}/email"),
        Some(ADMIN_PAT),
        None,
        Some(json!({"email": "changed@example.com"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, user) = get(&sim, &format!("/management/v1/users/{user_id}"), None).await;
    assert_eq!(user["user"]["human"]["email"]["email"], "changed@example.com");
    assert_eq!(user["user"]["state"], "USER_STATE_INITIAL");

    let (status, _) = post(&sim, &format!("/v2/users/{user_id}/deactivate"), None, empty()).await;
    assert_eq!(status, 200);
    let (status, body) = post(&sim, &format!("/v2/users/{user_id}/deactivate"), None, empty()).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(9)));

    let (status, events) = post(&sim, "/admin/v1/events/_search", None, json!({"asc": true})).await;
    assert_eq!(status, 200);
    let types = ids(&events, "events", "type");
    assert_eq!(events["events"][0]["type"]["type"], "user.human.added");
    assert_eq!(events["events"][0]["editor"]["displayName"], "Warden");
    assert_eq!(events["events"][0]["aggregate"]["type"]["type"], "user");
    assert_eq!(events["events"][0]["sequence"], "1");
    assert_eq!(types.len(), 3);
    let (_, newest) = post(&sim, "/admin/v1/events/_search", None, json!({"limit": 1})).await;
    assert_eq!(newest["events"][0]["type"]["type"], "user.deactivated");
    let (_, filtered) =
        post(&sim, "/admin/v1/events/_search", None, json!({"eventTypes": ["user.human.email.changed"]})).await;
    assert_eq!(filtered["events"].as_array().map(Vec::len), Some(1));

    let (status, _, _) =
        call(&sim, Method::DELETE, &format!("/management/v1/users/{user_id}"), Some(ADMIN_PAT), None, None).await;
    assert_eq!(status, 200);
    let (status, body) = get(&sim, &format!("/management/v1/users/{user_id}"), None).await;
    assert_eq!((status, error_id(&body)), (404, "QUERY-Dfbg2"));
    sim.shutdown().await;
}

#[tokio::test]
async fn http_control_api() {
    let sim = start_seed().await;
    let base = sim.base_url();
    let http = client();
    let response = http
        .post(format!("{base}/__sim/faults"))
        .json(&json!({"route": "GET /management/v1/orgs/me", "kind": {"status": 502}, "times": 1}))
        .send()
        .await
        .expect("fault");
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(get(&sim, "/management/v1/orgs/me", None).await.0, 502);
    assert_eq!(get(&sim, "/management/v1/orgs/me", None).await.0, 200);

    let mutations = json!([{"op": "addMachineUser", "userName": "ctl-bot", "description": "made over HTTP"}]);
    let result: Value =
        http.post(format!("{base}/__sim/mutations")).json(&mutations).send().await.expect("m").json().await.expect("j");
    assert_eq!(result["results"][0]["ok"], true, "{result}");
    let bot_id = result["results"][0]["id"].as_str().expect("id").to_string();
    let ops = json!({"ops": [{"op": "addMachineKey", "userId": bot_id}, {"op": "deactivateUser", "userId": bot_id}, {"op": "removeProject", "projectId": "nope"}]});
    let result: Value =
        http.post(format!("{base}/__sim/mutations")).json(&ops).send().await.expect("m").json().await.expect("j");
    assert_eq!(result["results"][1]["ok"], true);
    assert_eq!(result["results"][2]["ok"], false);

    let counts: Value = http.get(format!("{base}/__sim/counts")).send().await.expect("c").json().await.expect("j");
    assert_eq!(counts["machineUsers"], 211);
    let anomalies: Value =
        http.get(format!("{base}/__sim/anomalies")).send().await.expect("a").json().await.expect("j");
    assert!(anomalies["anomalies"].as_array().is_some_and(|list| !list.is_empty()));
    let requests: Value = http.get(format!("{base}/__sim/requests")).send().await.expect("r").json().await.expect("j");
    assert_eq!(requests["counts"]["GET /management/v1/orgs/me"], 2);
    let response = http
        .post(format!("{base}/__sim/pats"))
        .json(&json!({"token": "t2", "userId": bot_id}))
        .send()
        .await
        .expect("p");
    assert_eq!(response.status().as_u16(), 204);
    let response = http.post(format!("{base}/__sim/latency")).json(&json!({"millis": 0})).send().await.expect("l");
    assert_eq!(response.status().as_u16(), 204);
    let response = http.post(format!("{base}/__sim/faults")).json(&json!({"kind": 3})).send().await.expect("bad");
    assert_eq!(response.status().as_u16(), 400);
    sim.shutdown().await;
}
