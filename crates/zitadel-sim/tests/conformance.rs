//! Conformance: every served route is exercised with valid requests while the exchange log is on; the log is then
//! checked strictly against ZITADEL's protobuf schemas with `check-log.mjs` (skipped when node or the tools are
//! missing). Also checks the SAML IdP certificates with openssl when available.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{ADMIN_PAT, NOW, call, get, post, start};
use reqwest::Method;
use serde_json::{Value, json};
use zitadel_sim::{Estate, MembershipScope, ProbeProviders, SimulatorOptions};

fn temp_path(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("zitadel-sim-{name}-{}-{nanos}", std::process::id()))
}

fn tool_available(program: &str, version_flag: &str) -> bool {
    Command::new(program).arg(version_flag).output().is_ok_and(|output| output.status.success())
}

struct Ids {
    platform: String,
    orgs: Vec<String>,
    projects: Vec<(String, String)>,
    machines: Vec<String>,
    human: String,
    project_member: (String, String),
    project_grant_member: (String, String, String),
    own_project: String,
}

fn pick_ids(estate: &Estate) -> Ids {
    let platform = estate.platform_org_id().to_string();
    let orgs = estate.orgs().map(|org| org.id.clone()).collect();
    let projects = estate.projects().map(|project| (project.org_id.clone(), project.id.clone())).collect();
    let machines = estate
        .users()
        .filter(|user| user.is_machine() && user.org_id == platform)
        .map(|user| user.id.clone())
        .collect();
    let human = estate
        .users()
        .find(|user| !user.is_machine() && user.org_id == platform)
        .map(|user| user.id.clone())
        .unwrap_or_default();
    let project_member = estate
        .memberships()
        .find_map(|membership| match &membership.scope {
            MembershipScope::Project { project_id, org_id } => Some((org_id.clone(), project_id.clone())),
            _ => None,
        })
        .unwrap_or_default();
    let project_grant_member = estate
        .memberships()
        .find_map(|membership| match &membership.scope {
            MembershipScope::ProjectGrant { project_id, grant_id, org_id, .. } => {
                Some((org_id.clone(), project_id.clone(), grant_id.clone()))
            }
            _ => None,
        })
        .unwrap_or_default();
    let own_project = estate
        .projects()
        .find(|project| project.org_id == platform)
        .map(|project| project.id.clone())
        .unwrap_or_default();
    Ids { platform, orgs, projects, machines, human, project_member, project_grant_member, own_project }
}

async fn expect_ok(
    sim: &zitadel_sim::Simulator,
    method: Method,
    path: &str,
    org: Option<&str>,
    body: Option<Value>,
) -> Value {
    let (status, response, _) = call(sim, method.clone(), path, Some(ADMIN_PAT), org, body).await;
    assert_eq!(status, 200, "{method} {path}: {response}");
    response
}

#[tokio::test]
async fn every_route_conforms_to_zitadel_schemas() {
    let log = temp_path("exchange.jsonl");
    let mut options = SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT);
    options.exchange_log = Some(log.clone());
    // The providers to probe render every other kind of identity provider.
    options.probe_providers = Some(ProbeProviders::default());
    let sim = start(options).await;
    let ids = sim.control().with_estate(|estate| pick_ids(estate));
    let p = Some(ids.platform.as_str());

    // v1 reads, per org and per project.
    expect_ok(&sim, Method::GET, "/management/v1/orgs/me", None, None).await;
    let org_query = json!({"query": {"limit": 50, "asc": true}, "sortingColumn": "ORG_FIELD_NAME_NAME", "queries": [{"nameQuery": {"name": "a", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]});
    expect_ok(&sim, Method::POST, "/admin/v1/orgs/_search", None, Some(org_query)).await;
    expect_ok(&sim, Method::POST, "/admin/v1/orgs/_search", None, Some(json!({}))).await;
    for org in &ids.orgs {
        let org = Some(org.as_str());
        expect_ok(
            &sim,
            Method::POST,
            "/management/v1/users/_search",
            org,
            Some(json!({"sortingColumn": "USER_FIELD_NAME_CREATION_DATE", "query": {"asc": true}})),
        )
        .await;
        expect_ok(
            &sim,
            Method::POST,
            "/management/v1/users/grants/_search",
            org,
            Some(json!({"queries": [{"withGrantedQuery": {"withGranted": true}}]})),
        )
        .await;
        expect_ok(&sim, Method::POST, "/management/v1/projects/_search", org, Some(json!({}))).await;
        expect_ok(&sim, Method::POST, "/management/v1/projectgrants/_search", org, Some(json!({}))).await;
        expect_ok(&sim, Method::POST, "/management/v1/orgs/me/members/_search", org, Some(json!({}))).await;
        expect_ok(&sim, Method::POST, "/management/v1/idps/templates/_search", org, Some(json!({}))).await;
    }
    for (org, project) in &ids.projects {
        let org = Some(org.as_str());
        expect_ok(
            &sim,
            Method::POST,
            &format!("/management/v1/projects/{project}/roles/_search"),
            org,
            Some(json!({})),
        )
        .await;
        expect_ok(&sim, Method::POST, &format!("/management/v1/projects/{project}/apps/_search"), org, Some(json!({})))
            .await;
    }
    let (org, project) = &ids.project_member;
    expect_ok(
        &sim,
        Method::POST,
        &format!("/management/v1/projects/{project}/members/_search"),
        Some(org),
        Some(json!({})),
    )
    .await;
    let (org, project, grant) = &ids.project_grant_member;
    expect_ok(
        &sim,
        Method::POST,
        &format!("/management/v1/projects/{project}/grants/{grant}/members/_search"),
        Some(org),
        Some(json!({})),
    )
    .await;
    for machine in &ids.machines {
        expect_ok(&sim, Method::GET, &format!("/management/v1/users/{machine}"), p, None).await;
        expect_ok(
            &sim,
            Method::POST,
            &format!("/management/v1/users/{machine}/keys/_search"),
            p,
            Some(json!({"query": {"limit": 10}})),
        )
        .await;
        expect_ok(&sim, Method::POST, &format!("/management/v1/users/{machine}/pats/_search"), p, Some(json!({})))
            .await;
        expect_ok(&sim, Method::POST, &format!("/management/v1/users/{machine}/metadata/_search"), p, Some(json!({})))
            .await;
    }
    expect_ok(&sim, Method::GET, &format!("/management/v1/users/{}", ids.human), p, None).await;
    expect_ok(
        &sim,
        Method::POST,
        "/admin/v1/members/_search",
        None,
        Some(json!({"sortingColumn": "MEMBER_FIELD_NAME_USER_ID"})),
    )
    .await;
    let idps = expect_ok(&sim, Method::POST, "/admin/v1/idps/templates/_search", None, Some(json!({}))).await;

    // v2 / v2beta reads.
    expect_ok(
        &sim,
        Method::POST,
        "/v2/organizations/_search",
        None,
        Some(json!({"sortingColumn": "ORGANIZATION_FIELD_NAME_NAME"})),
    )
    .await;
    expect_ok(&sim, Method::POST, "/v2/users", None, Some(json!({}))).await;
    expect_ok(
        &sim,
        Method::POST,
        "/v2/users",
        None,
        Some(json!({"query": {"limit": 20}, "queries": [{"organizationIdQuery": {"organizationId": ids.platform}}]})),
    )
    .await;
    for machine in ids.machines.iter().take(5).chain(std::iter::once(&ids.human)) {
        expect_ok(&sim, Method::GET, &format!("/v2/users/{machine}"), None, None).await;
        expect_ok(&sim, Method::POST, &format!("/v2/users/{machine}/metadata/search"), None, Some(json!({}))).await;
    }
    for (path, id_filter, column) in [
        ("/v2/users/keys/search", "keyIdFilter", "KEY_FIELD_NAME_KEY_EXPIRATION_DATE"),
        ("/v2/users/pats/search", "tokenIdFilter", "PERSONAL_ACCESS_TOKEN_FIELD_NAME_CREATED_DATE"),
    ] {
        expect_ok(&sim, Method::POST, path, None, Some(json!({}))).await;
        let filters = json!([
            {"organizationIdFilter": {"id": ids.platform}},
            {"userIdFilter": {"id": ids.machines[0]}},
            {id_filter: {"id": "1"}},
            {"createdDateFilter": {"timestamp": "2020-01-01T00:00:00Z", "method": "TIMESTAMP_FILTER_METHOD_AFTER"}},
            {"expirationDateFilter": {"timestamp": "2030-01-01T00:00:00.5Z", "method": 4}},
        ]);
        let body = json!({"pagination": {"offset": "1", "limit": 1000, "asc": true}, "sortingColumn": column, "filters": filters});
        expect_ok(&sim, Method::POST, path, None, Some(body)).await;
    }
    expect_ok(&sim, Method::POST, "/v2beta/projects/search", None, Some(json!({"pagination": {"limit": 1000}}))).await;
    for (_, project) in ids.projects.iter().take(10) {
        expect_ok(&sim, Method::POST, &format!("/v2beta/projects/{project}/roles/search"), None, None).await;
    }
    expect_ok(&sim, Method::POST, "/v2beta/projects/grants/search", None, Some(json!({}))).await;
    for offset in [0, 1000] {
        let body = json!({"pagination": {"offset": offset.to_string(), "limit": 1000, "asc": true}, "sortingColumn": "AUTHORIZATION_FIELD_NAME_CREATED_DATE"});
        expect_ok(&sim, Method::POST, "/v2beta/authorizations/search", None, Some(body)).await;
    }
    expect_ok(&sim, Method::POST, "/v2beta/administrators/search", None, Some(json!({"pagination": {"limit": 1000}})))
        .await;
    expect_ok(&sim, Method::POST, "/v2beta/applications/search", None, Some(json!({"pagination": {"limit": 1000}})))
        .await;

    // Writes, v1.
    let human = json!({"userName": "conformance.one", "profile": {"firstName": "Con", "lastName": "Formance", "preferredLanguage": "en", "gender": "GENDER_FEMALE"}, "email": {"email": "con@example.com", "isEmailVerified": true}, "initialPassword": "Password1!"});
    let added = expect_ok(&sim, Method::POST, "/management/v1/users/human", p, Some(human)).await;
    let user_id = added["userId"].as_str().expect("userId").to_string();
    let import = json!({"userName": "conformance.two", "profile": {"firstName": "Im", "lastName": "Port"}, "email": {"email": "import@example.com", "isEmailVerified": true}, "hashedPassword": {"value": "$2a$10$abcdefghijklmnopqrstuv"}, "passwordChangeRequired": false});
    let imported = expect_ok(&sim, Method::POST, "/management/v1/users/human/_import", p, Some(import)).await;
    let imported_id = imported["userId"].as_str().expect("userId").to_string();
    expect_ok(
        &sim,
        Method::PUT,
        &format!("/management/v1/users/{user_id}/profile"),
        p,
        Some(json!({"firstName": "Conny", "lastName": "Formance", "displayName": "Conny F."})),
    )
    .await;
    expect_ok(
        &sim,
        Method::PUT,
        &format!("/management/v1/users/{user_id}/email"),
        p,
        Some(json!({"email": "conny@example.com", "isEmailVerified": true})),
    )
    .await;
    expect_ok(&sim, Method::POST, &format!("/management/v1/users/{user_id}/_deactivate"), p, Some(json!({}))).await;
    expect_ok(&sim, Method::POST, &format!("/management/v1/users/{user_id}/_reactivate"), p, Some(json!({}))).await;
    let role = sim.control().with_estate(|estate| {
        estate
            .project_roles()
            .find(|role| role.project_id == ids.own_project)
            .map(|role| role.key.clone())
            .expect("role")
    });
    let grant = expect_ok(
        &sim,
        Method::POST,
        &format!("/management/v1/users/{user_id}/grants"),
        p,
        Some(json!({"projectId": ids.own_project, "roleKeys": [role]})),
    )
    .await;
    let grant_id = grant["userGrantId"].as_str().expect("grant id").to_string();
    expect_ok(
        &sim,
        Method::PUT,
        &format!("/management/v1/users/{user_id}/grants/{grant_id}"),
        p,
        Some(json!({"roleKeys": []})),
    )
    .await;
    expect_ok(
        &sim,
        Method::POST,
        &format!("/management/v1/users/{user_id}/metadata/team"),
        p,
        Some(json!({"value": STANDARD.encode("blue")})),
    )
    .await;
    expect_ok(
        &sim,
        Method::POST,
        &format!("/management/v1/users/{user_id}/metadata/_search"),
        p,
        Some(json!({"queries": [{"keyQuery": {"key": "team"}}]})),
    )
    .await;
    expect_ok(&sim, Method::DELETE, &format!("/management/v1/users/{user_id}/grants/{grant_id}"), p, None).await;
    expect_ok(&sim, Method::DELETE, &format!("/management/v1/users/{imported_id}"), p, None).await;

    // Writes, v2.
    let v2_human = json!({"username": "conformance.three", "organization": {"orgId": ids.platform}, "profile": {"givenName": "Vee", "familyName": "Two"}, "email": {"email": "v2@example.com", "returnCode": {}}, "metadata": [{"key": "source", "value": STANDARD.encode("v2")}]});
    let added = expect_ok(&sim, Method::POST, "/v2/users/human", None, Some(v2_human)).await;
    let v2_id = added["userId"].as_str().expect("userId").to_string();
    expect_ok(&sim, Method::POST, &format!("/v2/users/{v2_id}/deactivate"), None, Some(json!({}))).await;
    expect_ok(&sim, Method::POST, &format!("/v2/users/{v2_id}/reactivate"), None, Some(json!({}))).await;
    expect_ok(
        &sim,
        Method::POST,
        &format!("/v2/users/{v2_id}/metadata"),
        None,
        Some(json!({"metadata": [{"key": "k", "value": STANDARD.encode("v")}]})),
    )
    .await;
    expect_ok(&sim, Method::GET, &format!("/v2/users/{v2_id}"), None, None).await;
    expect_ok(&sim, Method::DELETE, &format!("/v2/users/{v2_id}"), None, None).await;
    expect_ok(&sim, Method::DELETE, &format!("/management/v1/users/{user_id}"), p, None).await;

    // Events.
    let events =
        expect_ok(&sim, Method::POST, "/admin/v1/events/_search", None, Some(json!({"asc": true, "limit": 100}))).await;
    assert!(events["events"].as_array().is_some_and(|list| list.len() > 15));
    let filtered = json!({"asc": true, "aggregateTypes": ["usergrant"], "eventTypes": ["user.grant.added"], "from": "2026-01-01T00:00:00Z", "editorUserId": sim.control().with_estate(|estate| estate.warden_user_id().to_string())});
    let grants = expect_ok(&sim, Method::POST, "/admin/v1/events/_search", None, Some(filtered)).await;
    assert_eq!(grants["events"].as_array().map(Vec::len), Some(1));
    expect_ok(
        &sim,
        Method::POST,
        "/admin/v1/events/_search",
        None,
        Some(json!({"range": {"since": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}, "sequence": "3"})),
    )
    .await;

    // Errors are not logged as responses.
    let (status, _) = get(&sim, "/management/v1/users/1", p).await;
    assert_eq!(status, 404);
    let (status, _) = post(&sim, "/v2beta/projects/search", None, json!({"pagination": {"limit": 5000}})).await;
    assert_eq!(status, 400);
    sim.shutdown().await;

    let text = std::fs::read_to_string(&log).expect("exchange log written");
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("JSON line")).collect();
    assert!(lines.len() > 300, "{} lines", lines.len());
    assert!(lines.iter().all(|line| line["verb"].is_string() && line["path"].is_string()));
    assert!(lines.iter().any(|line| line["response"] == ""), "error responses are logged with an empty response");
    check_log(&log);
    check_certificates(&idps);
    let _ = std::fs::remove_file(&log);
}

fn check_log(log: &Path) {
    match zitadel_sim::schemas::check_exchange_log(log) {
        None => println!("NOTE: the ZITADEL schema tools are not installed; skipping the schema check"),
        Some(Ok(report)) => {
            let tail: Vec<&str> = report.lines().rev().take(30).collect();
            println!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        Some(Err(report)) => panic!("check-log failed:\n{report}"),
    }
}

/// Every SAML provider's metadata holds a parseable X.509 certificate (checked with openssl when present).
fn check_certificates(idps: &Value) {
    let providers = idps["result"].as_array().expect("providers");
    let mut found = 0;
    for provider in providers {
        let Some(metadata) = provider["config"]["saml"]["metadataXml"].as_str() else { continue };
        let xml = String::from_utf8(STANDARD.decode(metadata).expect("base64 metadata")).expect("utf-8 metadata");
        let certificate = xml
            .split("<ds:X509Certificate>")
            .nth(1)
            .and_then(|rest| rest.split("</ds:X509Certificate>").next())
            .expect("certificate element");
        let der = STANDARD.decode(certificate).expect("base64 certificate");
        found += 1;
        if !tool_available("openssl", "version") {
            continue;
        }
        let path = temp_path("certificate.der");
        std::fs::write(&path, &der).expect("write certificate");
        let output = Command::new("openssl")
            .args(["x509", "-inform", "der", "-noout", "-enddate", "-subject", "-in"])
            .arg(&path)
            .output()
            .expect("openssl runs");
        let _ = std::fs::remove_file(&path);
        assert!(
            output.status.success(),
            "openssl rejects the certificate: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        println!("{}: {}", provider["name"], String::from_utf8_lossy(&output.stdout).trim().replace('\n', "; "));
    }
    assert!(found >= 2, "SAML providers with certificates: {found}");
}
