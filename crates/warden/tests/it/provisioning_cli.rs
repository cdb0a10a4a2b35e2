//! The provisioning commands as an operator runs them, against the simulator: a connection created with its
//! settings and checked with ZITADEL, its status and health as JSON, its settings changed, a repair's dry run; and
//! a credential without a user-manager role refused with what it lacks.

use serde_json::json;

use crate::sync_cli::{PAT, run, simulator, warden, write_config};

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

#[tokio::test]
async fn connection_settings_status_and_repair_from_the_command_line() {
    let sim = simulator().await;
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    write_config(dir, &sim);
    let org = sim.control().with_estate(|estate| estate.orgs().next().unwrap().id.clone());

    let (code, _, stderr) = run(warden(dir, &["sync"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let create = [
        "scim",
        "connection",
        "create",
        "--env",
        "prod",
        "--org",
        &org,
        "--name",
        "okta",
        "--kind",
        "okta",
        "--zitadel-tokens",
        "on",
        "--expect-activity-within",
        "24h",
        "--format",
        "json",
    ];
    let (code, stdout, stderr) = run(warden(dir, &create)).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(json(&stdout)["token"].as_str().is_some_and(|token| !token.is_empty()));

    let (code, stdout, stderr) = run(warden(dir, &["provisioning", "status", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let status = &json(&stdout)[0];
    assert_eq!(status["name"], "okta");
    assert_eq!(status["status"], "healthy");
    assert_eq!(status["provisioning"], true);
    assert_eq!(status["zitadel_tokens"], true);
    assert_eq!(status["expect_activity_within_seconds"], 86_400);
    assert_eq!(status["last_hour"]["requests"], 0);

    let (code, stdout, stderr) = run(warden(dir, &["scim", "connection", "list", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let listed = &json(&stdout)[0];
    assert_eq!((&listed["provisioning"], &listed["zitadel_tokens"]), (&json!(true), &json!(true)));
    assert_eq!(
        (&listed["delete_policy"], &listed["expect_activity_within_seconds"]),
        (&json!("deactivate"), &json!(86_400))
    );

    let configure = ["scim", "connection", "configure", "okta", "--expect-activity-within", "never", "--by", "ops"];
    let (code, stdout, stderr) = run(warden(dir, &configure)).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("activity expected never"), "{stdout}");
    let (code, _, stderr) = run(warden(dir, &["scim", "connection", "configure", "okta"])).await;
    assert_eq!(code, Some(2), "nothing to change is a usage error: {stderr}");
    assert!(stderr.contains("nothing to change"), "{stderr}");

    let repair = ["provisioning", "repair", "--connection", "okta", "--dry-run", "--format", "json"];
    let (code, stdout, stderr) = run(warden(dir, &repair)).await;
    assert_eq!(code, Some(0), "{stderr}");
    let planned = json(&stdout);
    assert_eq!(planned["dry_run"], true);
    assert_eq!(planned["repairs"], serde_json::json!([]));

    // warden's credential without a user-manager role in the org: provisioning is refused, and says why.
    let plain = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        estate.add_machine_user(&editor, &org, "plain-cli", "No roles", "").unwrap()
    });
    sim.control().register_pat("plain-cli-pat", &plain);
    let mut command = warden(dir, &["scim", "connection", "create", "--env", "prod", "--org", &org, "--name", "p"]);
    command.env("SIM_PAT", "plain-cli-pat");
    let (code, _, stderr) = run(command).await;
    assert_ne!(code, Some(0));
    assert!(stderr.contains("ORG_USER_MANAGER") && stderr.contains("--provisioning off"), "{stderr}");
    assert!(!stderr.contains("plain-cli-pat") && !stderr.contains(PAT), "no token in errors: {stderr}");
}
