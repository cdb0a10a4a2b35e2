//! `warden sync` and `warden changes` as a user runs them against a (simulated) ZITADEL: the JSON summary, exit
//! codes, and a process killed mid-sync that leaves the store consistent.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use time::macros::datetime;
use zitadel_sim::{Estate, Fault, FaultKind, Simulator, SimulatorOptions};

pub(crate) const PAT: &str = "warden-cli-sync-pat";

pub(crate) async fn simulator() -> Simulator {
    let options = SimulatorOptions::new(Estate::seed(datetime!(2026-11-01 12:00 UTC)), PAT);
    Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

pub(crate) fn write_config(directory: &Path, sim: &Simulator) {
    let config = format!(
        "[database]\nurl = \"sqlite://{}\"\n\n[[environments]]\nname = \"prod\"\nurl = \"{}\"\n\
         credential = {{ pat_env = \"SIM_PAT\" }}\nrate_limit = 0\n",
        directory.join("warden.db").display(),
        sim.base_url()
    );
    std::fs::write(directory.join("warden.toml"), config).unwrap();
}

pub(crate) fn warden(directory: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command.current_dir(directory).args(args).env("SIM_PAT", PAT);
    for (key, _) in std::env::vars() {
        if key.starts_with("WARDEN_") {
            command.env_remove(key);
        }
    }
    command
}

pub(crate) async fn run(mut command: Command) -> (Option<i32>, String, String) {
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    (output.status.code(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

#[tokio::test]
async fn sync_prints_a_json_summary_and_changes_lists_what_moved() {
    let sim = simulator().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);

    let (code, stdout, stderr) = run(warden(directory.path(), &["sync", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let environment = &summary["environments"][0];
    let counts = sim.control().counts();
    assert_eq!(environment["name"], "prod");
    assert_eq!(environment["status"], "ok");
    assert_eq!(environment["counts"]["users"], counts.users);
    assert_eq!(environment["counts"]["machine_users"], counts.machine_users);
    assert_eq!(environment["counts"]["human_users"], counts.human_users);
    assert_eq!(environment["counts"]["pats"], counts.personal_access_tokens);
    assert_eq!(environment["changes"]["removed"], 0);
    assert!(environment["requests"].as_u64().unwrap() > 0);
    for field in ["run_id", "duration_ms", "retries", "errors"] {
        assert!(!environment[field].is_null(), "{field} missing");
    }
    assert_eq!((environment["mode"].as_str(), environment["mode_reason"].as_str()), (Some("full"), Some("first sync")));

    // ZITADEL dates its events by the wall clock, as `warden sync` dates its runs.
    #[allow(clippy::disallowed_methods, reason = "the simulated instance's clock follows the real one here")]
    sim.control().set_now(time::OffsetDateTime::now_utc());
    let user = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let user = estate
            .users()
            .find(|user| user.org_id != estate.platform_org_id() && user.state == zitadel_sim::UserState::Active)
            .unwrap()
            .id
            .clone();
        estate.deactivate_user(&editor, &user).unwrap();
        user
    });
    let (code, stdout, _) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.lines().next().unwrap().starts_with("environment"), "a table: {stdout}");
    assert!(stdout.contains("prod: incremental sync: events after "), "{stdout}");
    let (code, stdout, stderr) = run(warden(directory.path(), &["runs", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let runs: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(runs["runs"][0]["mode"], "incremental", "{runs}");
    assert!(runs["runs"][0]["event_position"].is_string(), "{runs}");
    assert_eq!(runs["runs"][1]["mode"], "full", "{runs}");

    let (code, stdout, stderr) =
        run(warden(directory.path(), &["changes", "--type", "user", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let latest = &listed["changes"][0];
    assert_eq!((latest["kind"].as_str(), latest["object_key"].as_str()), (Some("modified"), Some(user.as_str())));
    assert_eq!(latest["attribution"], "event");
    assert_eq!(latest["actor"]["user_id"], sim.control().with_estate(|estate| estate.warden_user_id().to_owned()));

    let (code, _, stderr) = run(warden(directory.path(), &["changes", "--type", "group"])).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--type \"group\""), "{stderr}");
}

#[tokio::test]
async fn a_partial_sync_exits_1_and_a_failed_one_exits_2() {
    let sim = simulator().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    sim.control().add_fault(Fault::new("POST /management/v1/idps/templates/_search", FaultKind::Status(500)));
    let (code, stdout, stderr) = run(warden(directory.path(), &["sync", "--format", "json"])).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["environments"][0]["status"], "partial");
    assert!(!summary["environments"][0]["errors"].as_array().unwrap().is_empty());

    sim.control().clear_faults();
    sim.control().add_fault(Fault::new("*", FaultKind::Status(403)));
    let (code, stdout, _) = run(warden(directory.path(), &["sync", "--env", "prod"])).await;
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("failed"), "{stdout}");
}

/// Killed at several points of a sync (while reading, while applying), the store holds either the previous state or
/// the new one, never a mix; the next run completes it.
#[tokio::test]
async fn a_sync_killed_at_any_point_leaves_a_consistent_store() {
    let sim = simulator().await;
    sim.control().set_latency(Duration::from_millis(2));
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    let users = sim.control().counts().users;
    let database = format!("sqlite://{}", directory.path().join("warden.db").display());

    // A killed sync's lease outlives it by its time to live: a short one lets the next start at once.
    let config = directory.path().join("warden.toml");
    let with_short_lease = std::fs::read_to_string(&config).unwrap() + "\n[server]\nlease_ttl = \"1s\"\n";
    std::fs::write(&config, with_short_lease).unwrap();
    for delay in [200, 600, 1_000, 1_400, 1_800, 2_400] {
        let mut child =
            warden(directory.path(), &["sync"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let _ = child.kill();
        let _ = child.wait();
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let store = warden::store::open_and_migrate(&warden::config::DatabaseUrl::new(database.clone())).await.unwrap();
        let name = warden_core::id::EnvironmentName::parse("prod").unwrap();
        let stored = store.load_snapshot(&name).await.unwrap();
        assert!(
            stored.users.is_empty() || stored.users.len() as u64 == users,
            "killed after {delay} ms: {} of {users} users stored",
            stored.users.len()
        );
    }
    let (code, stdout, stderr) = run(warden(directory.path(), &["sync", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["environments"][0]["counts"]["users"], users);
    // The killed runs are not shown running for ever: the completing run marked them interrupted.
    let store = warden::store::open_and_migrate(&warden::config::DatabaseUrl::new(database)).await.unwrap();
    let runs = store.list_sync_runs(&warden_core::id::EnvironmentName::parse("prod").unwrap(), 100).await.unwrap();
    assert!(runs.iter().all(|run| run.status != warden_core::model::SyncStatus::Running), "{runs:?}");
    let interrupted = runs.iter().filter(|run| {
        run.status == warden_core::model::SyncStatus::Interrupted
            && run.errors.iter().any(|error| error.message.starts_with("interrupted"))
    });
    assert!(interrupted.count() >= 1, "{runs:?}");
}

#[tokio::test]
async fn report_prints_findings_and_service_accounts_in_every_format_and_gates_ci() {
    let sim = simulator().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), &sim);
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stdout, stderr) = run(warden(directory.path(), &["report", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let summary = &report["summary"];
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(summary["findings"], findings.len());
    assert!(summary["high"].as_u64().unwrap() > 0 && summary["low"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["service_accounts"], sim.control().counts().machine_users);
    assert_eq!(report["service_accounts"].as_array().unwrap().len() as u64, sim.control().counts().machine_users);
    assert_eq!(report["environments"][0]["last_sync"]["status"], "ok");
    let first = &findings[0];
    assert_eq!(first["severity"], "high", "highest severity first");
    for field in ["rule", "environment", "message", "remediation"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }
    assert_eq!(first["subject"]["type"], "user");
    assert!(first["evidence"].as_array().is_some_and(|evidence| !evidence.is_empty()));

    let (code, stdout, _) = run(warden(directory.path(), &["report", "--format", "csv", "--fail-on", "high"])).await;
    assert_eq!(code, Some(3), "a high finding meets --fail-on high");
    assert!(stdout.starts_with("severity,rule,environment,subject_type,subject_id,subject_name,org_id,message\n"));
    assert_eq!(stdout.lines().count(), findings.len() + 1);
    // `warden report | head -1`: the reader is gone before the first write; the gate still fails, nothing panics.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = warden(directory.path(), &["report", "--fail-on", "high"]);
    command.stdout(writer);
    let (code, _, stderr) = run(command).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(stderr, "", "a closed reader is not an error");

    let (code, stdout, _) = run(warden(directory.path(), &["report", "--format", "markdown"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains("## Findings") && stdout.contains("| severity | rule |"), "{stdout}");
    let (code, stdout, _) = run(warden(directory.path(), &["report"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.lines().next().unwrap().contains("findings ("), "{stdout}");

    // The entitlement export for access-review tools: one row per user, project and role.
    let counts = sim.control().counts();
    let rows: usize =
        sim.control().with_estate(|estate| estate.user_grants().map(|grant| grant.role_keys.len().max(1)).sum());
    let (code, stdout, stderr) = run(warden(directory.path(), &["export", "access"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("environment,user_id,username,user_type,user_state,user_org_id,project_id,"));
    assert_eq!(stdout.lines().count(), rows + 1);
    let (code, stdout, _) = run(warden(directory.path(), &["export", "access", "--format", "json"])).await;
    assert_eq!(code, Some(0));
    let export: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let environment = &export["environments"][0];
    assert_eq!(environment["users"].as_array().unwrap().len() as u64, counts.users);
    assert_eq!(environment["groups"].as_array().unwrap().len() as u64, counts.projects);
    assert_eq!(environment["entitlements"].as_array().unwrap().len() as u64, counts.project_roles);
    assert_eq!(environment["grants"].as_array().unwrap().len() as u64, counts.user_grants);
}

#[tokio::test]
async fn report_compares_environments_and_names_the_role_keys_one_lacks() {
    let (staging, prod) = (simulator().await, simulator().await);
    let (project, key) = prod.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let role = estate.project_roles().next().unwrap();
        let (project, key) = (role.project_id.clone(), role.key.clone());
        estate.remove_project_role(&editor, &project, &key).unwrap();
        (project, key)
    });
    let directory = tempfile::tempdir().unwrap();
    let environment = |name: &str, sim: &Simulator| {
        format!(
            "[[environments]]\nname = \"{name}\"\nurl = \"{}\"\ncredential = {{ pat_env = \"SIM_PAT\" }}\nrate_limit = 0\n",
            sim.base_url()
        )
    };
    let config = format!(
        "[database]\nurl = \"sqlite://{}\"\n\n{}\n{}",
        directory.path().join("warden.db").display(),
        environment("staging", &staging),
        environment("prod", &prod)
    );
    std::fs::write(directory.path().join("warden.toml"), config).unwrap();
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stdout, stderr) = run(warden(directory.path(), &["report", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let drift: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "environment-role-drift")
        .collect();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (drift[0]["environment"].as_str(), drift[0]["subject"]["id"].as_str()),
        (Some("prod"), Some(project.as_str()))
    );
    assert_eq!(drift[0]["evidence"][0]["fact"], format!("role {key}"));
    assert_eq!(drift[0]["evidence"][0]["value"], "missing here, present in staging");

    // A report on one environment still compares it with the others configured.
    let (code, stdout, _) = run(warden(directory.path(), &["report", "--env", "prod", "--format", "json"])).await;
    assert_eq!(code, Some(0));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rules: Vec<&str> = report["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"environment-role-drift"), "{rules:?}");
    // Governance tracks the drift after the sync, like every other finding.
    let (code, stdout, stderr) = run(warden(directory.path(), &["findings", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let tracked: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let tracked: Vec<&serde_json::Value> = tracked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "environment-role-drift")
        .collect();
    assert_eq!(tracked.len(), 1, "{tracked:?}");
    assert_eq!(tracked[0]["subject"]["id"], project.as_str());

    // The side-by-side comparison shows the one project that differs, and what prod lacks.
    let (code, stdout, stderr) = run(warden(directory.path(), &["compare", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let compared: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(compared["environments"], serde_json::json!(["staging", "prod"]));
    let projects = compared["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1, "{compared}");
    let prod_side = &projects[0]["environments"][1];
    assert_eq!(prod_side["projects"][0]["project_id"], project.as_str());
    assert_eq!(prod_side["projects"][0]["missing"], serde_json::json!([key]));
    let (code, stdout, _) = run(warden(directory.path(), &["compare", "--all", "--format", "json"])).await;
    assert_eq!(code, Some(0));
    let all: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(all["projects"].as_array().unwrap().len() as u64, prod.control().counts().projects);
    let (code, stdout, _) = run(warden(directory.path(), &["compare"])).await;
    assert_eq!(code, Some(0));
    assert!(stdout.contains(&format!("lacks {key}")), "{stdout}");
}
