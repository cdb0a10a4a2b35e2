//! Governance over time as a user asks for it: `warden access` (who held a role, what an account could do, at a
//! time), `warden trends`, suppressions in `warden report`, and `warden demo --listen`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zitadel_sim::{GrantState, Simulator, UserKind};

use crate::sync_cli::{run, simulator, warden, write_config};

async fn json(directory: &Path, args: &[&str]) -> serde_json::Value {
    let (code, stdout, stderr) = run(warden(directory, args)).await;
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{args:?}: {error}: {stdout}"))
}

#[allow(clippy::disallowed_methods, reason = "the test places a time between two real syncs")]
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A role held through active grants by at least one machine user: (project, role key, holders, a machine holder).
fn a_role_a_service_account_holds(sim: &Simulator) -> (String, String, BTreeSet<String>, String) {
    sim.control().with_estate(|estate| {
        let machines: BTreeSet<&str> = estate
            .users()
            .filter(|user| matches!(user.kind, UserKind::Machine(_)))
            .map(|user| user.id.as_str())
            .collect();
        let grant = estate
            .user_grants()
            .find(|grant| grant.state == GrantState::Active && machines.contains(grant.user_id.as_str()))
            .expect("the seed has service accounts with grants");
        let key = grant.role_keys[0].clone();
        let holders = estate
            .user_grants()
            .filter(|other| {
                other.state == GrantState::Active
                    && other.project_id == grant.project_id
                    && other.role_keys.contains(&key)
            })
            .map(|other| other.user_id.clone())
            .collect();
        (grant.project_id.clone(), key, holders, grant.user_id.clone())
    })
}

#[tokio::test]
async fn access_at_a_time_answers_from_the_recorded_changes_and_trends_count_every_sync() {
    let sim = simulator().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    let before_any_sync = now();
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");

    let (project, key, holders, account) = a_role_a_service_account_holds(&sim);
    let between = now().format(&Rfc3339).unwrap();
    sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        estate.remove_project_role(&editor, &project, &key).unwrap();
    });
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");

    // Between the syncs, every holder had the role; now nobody has it (the role is gone).
    let who = ["access", "who", "--project", project.as_str(), "--role", key.as_str(), "--format", "json"];
    let then = json(directory.path(), &[&who[..], &["--at", between.as_str()]].concat()).await;
    let held: BTreeSet<String> = then["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|holder| holder["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(held, holders);
    assert_eq!(then["role_key"], key.as_str());
    let current = json(directory.path(), &who).await;
    assert_eq!(current["holders"].as_array().unwrap().len(), 0, "{current}");

    // The service account's grant held the role then, and does not now.
    let account_args = ["access", "account", "--user", account.as_str(), "--format", "json"];
    let holds_key = |access: &serde_json::Value| {
        access["grants"].as_array().unwrap().iter().any(|grant| {
            grant["project_id"] == project.as_str()
                && grant["role_keys"].as_array().unwrap().iter().any(|role| role == key.as_str())
        })
    };
    let then = json(directory.path(), &[&account_args[..], &["--at", between.as_str()]].concat()).await;
    assert_eq!(then["user"]["id"], account.as_str());
    assert_eq!(then["user"]["kind"], "machine");
    assert!(holds_key(&then), "{then}");
    assert!(!holds_key(&json(directory.path(), &account_args).await));
    let (code, stdout, _) = run(warden(directory.path(), &["access", "account", "--user", account.as_str()])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains("service account") && stdout.contains("active user grant"), "{stdout}");

    // Before the first sync nothing is known, and the error says so.
    let early = before_any_sync.format(&Rfc3339).unwrap();
    let (code, _, stderr) = run(warden(directory.path(), &[&who[..], &["--at", early.as_str()]].concat())).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("baseline"), "{stderr}");
    let (code, _, stderr) =
        run(warden(directory.path(), &["access", "who", "--project", &project, "--role", &key, "--at", "soon"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--at \"soon\""), "{stderr}");

    // One trend point per sync for the environment; a day thins them to the last one; organizations on request.
    let counts = sim.control().counts();
    let by_sync = json(directory.path(), &["trends", "--by", "sync", "--format", "json"]).await;
    let points = by_sync["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{by_sync}");
    assert!(points.iter().all(|point| point["org_id"].is_null() && point["environment"] == "prod"));
    assert_eq!(points[1]["machine_users"], counts.machine_users);
    assert_eq!(points[1]["human_users"], counts.human_users);
    assert_eq!(points[1]["user_grants"], counts.user_grants);
    let by_week = json(directory.path(), &["trends", "--by", "week", "--format", "json"]).await;
    assert_eq!(by_week["points"].as_array().unwrap().len(), 1, "{by_week}");
    assert_eq!(by_week["points"][0]["at"], points[1]["at"], "the week keeps its last point");
    let per_org = json(directory.path(), &["trends", "--by", "sync", "--per-org", "--format", "json"]).await;
    let orgs: BTreeSet<&str> =
        per_org["points"].as_array().unwrap().iter().filter_map(|point| point["org_id"].as_str()).collect();
    assert_eq!(orgs.len() as u64, counts.orgs);
    let (code, stdout, _) = run(warden(directory.path(), &["trends"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains("service accounts") && stdout.contains("(all)"), "{stdout}");
}

#[tokio::test]
async fn a_suppressed_rule_leaves_the_gate_and_the_report_says_who_accepted_it() {
    let sim = simulator().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let report = json(directory.path(), &["report", "--format", "json"]).await;
    let high: Vec<&serde_json::Value> =
        report["findings"].as_array().unwrap().iter().filter(|finding| finding["severity"] == "high").collect();
    let rules: BTreeSet<&str> = high.iter().map(|finding| finding["rule"].as_str().unwrap()).collect();
    assert!(!rules.is_empty());
    assert!(high.iter().all(|finding| finding["first_seen"].is_string()), "tracked since the sync");
    let (code, _, _) = run(warden(directory.path(), &["report", "--fail-on", "high"])).await;
    assert_eq!(code, Some(3));

    for rule in &rules {
        let add = ["suppress", "add", "--rule", rule, "--reason", "accepted for the audit", "--by", "alice"];
        let (code, _, stderr) = run(warden(directory.path(), &add)).await;
        assert_eq!(code, Some(0), "{stderr}");
    }
    let after = json(directory.path(), &["report", "--format", "json"]).await;
    assert_eq!(after["summary"]["high"], 0, "{}", after["summary"]);
    assert_eq!(after["summary"]["suppressed"], high.len());
    let suppressed = after["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), high.len());
    assert!(suppressed.iter().all(|finding| finding["suppression"]["by"] == "alice"));
    assert_eq!(
        after["summary"]["findings"].as_u64().unwrap() + high.len() as u64,
        report["summary"]["findings"].as_u64().unwrap()
    );
    let (code, _, _) = run(warden(directory.path(), &["report", "--fail-on", "high"])).await;
    assert_eq!(code, Some(0), "suppressed findings never fail the gate");

    // Service accounts carry their risk score and why, riskiest first.
    let accounts = after["service_accounts"].as_array().unwrap();
    let scores: Vec<u64> = accounts.iter().map(|account| account["risk"]["score"].as_u64().unwrap()).collect();
    assert!(scores.windows(2).all(|pair| pair[0] >= pair[1]), "{scores:?}");
    let top = &accounts[0];
    let points: u64 = top["risk"]["factors"].as_array().unwrap().iter().map(|f| f["points"].as_u64().unwrap()).sum();
    assert_eq!(points.min(100), scores[0], "{top}");
    assert!(top["credentials"].is_array() && top["memberships"].is_array() && top["orgs_reached"].is_array());
}

#[tokio::test]
async fn demo_listen_serves_the_demo_store_with_a_working_scim_connection() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = warden(directory.path(), &["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read the demo's output to its end on a thread of its own: closing the pipe early would make its next line
    // fail to print.
    let (found, announced) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut base_url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["SCIM", "2.0:", url, ..] => base_url = Some((*url).to_owned()),
                ["token:", token] => found.send((base_url.clone().unwrap(), (*token).to_owned())).unwrap(),
                _ => {}
            }
        }
    });
    let (base_url, token) = tokio::task::spawn_blocking(move || {
        announced.recv_timeout(std::time::Duration::from_secs(120)).expect("the demo serves and says where")
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let users = http.get(format!("{base_url}/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(users.status(), 200);
    let denied = http.get(format!("{base_url}/Users")).bearer_auth("not-the-token").send().await.unwrap();
    assert_eq!(denied.status(), 401);
    child.kill().unwrap();
    child.wait().unwrap();
}
