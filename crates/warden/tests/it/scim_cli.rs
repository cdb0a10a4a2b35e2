//! `warden scim connection ...` and `warden serve` as a user meets them: the token is printed once and works
//! against the served endpoint; lists never show it; nothing logs it.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

fn warden(directory: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command.current_dir(directory).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("WARDEN_") {
            command.env_remove(key);
        }
    }
    let Output { status, stdout, stderr } = command.output().unwrap();
    (status.code(), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

fn json_output(directory: &Path, args: &[&str]) -> Value {
    let (code, stdout, stderr) = warden(directory, args);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_created_token_is_shown_once_and_reaches_its_tenant_through_warden_serve() {
    let directory = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = format!(
        "[database]\nurl = \"sqlite://warden.db\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n\
         [[environments]]\nname = \"prod\"\nurl = \"https://acme.zitadel.cloud\"\ncredential = {{ pat_env = \"ZITADEL_PROD_PAT\" }}\n"
    );
    std::fs::write(directory.path().join("warden.toml"), config).unwrap();
    let dir = directory.path();

    let created = json_output(
        dir,
        &[
            "scim",
            "connection",
            "create",
            "--env",
            "prod",
            "--org",
            "100",
            "--name",
            "okta",
            "--kind",
            "okta",
            "--provisioning",
            "off",
            "--format",
            "json",
        ],
    );
    let base_url = created["base_url"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(base_url, format!("http://127.0.0.1:{port}/scim/v2/100"));
    assert_eq!(token.len(), 43, "256 bits, base64url");

    let (code, table, _) = warden(
        dir,
        &["scim", "connection", "create", "--env", "prod", "--org", "200", "--name", "entra", "--provisioning", "off"],
    );
    assert_eq!(code, Some(0));
    assert!(table.contains("base URL: ") && table.contains("token:") && table.contains("not shown again"), "{table}");
    let (code, _, stderr) =
        warden(dir, &["scim", "connection", "create", "--env", "staging", "--org", "1", "--name", "x"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("staging"), "{stderr}");

    let listed = json_output(dir, &["scim", "connection", "list", "--format", "json"]);
    let connections = listed.as_array().unwrap();
    assert_eq!(connections.len(), 2);
    assert_eq!((connections[0]["org_id"].as_str(), connections[0]["kind"].as_str()), (Some("100"), Some("okta")));
    assert!(!listed.to_string().contains(&token));
    let id = connections[0]["id"].as_str().unwrap().to_owned();
    let (_, table, _) = warden(dir, &["scim", "connection", "list"]);
    assert!(table.contains(&id) && !table.contains(&token), "{table}");

    // warden serve: the token reaches its tenant; the logs never show it.
    let mut server = Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(dir)
        .arg("serve")
        .env("WARDEN_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let address = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(reply) = client.get(format!("{address}/readyz")).send().await {
            ready = reply.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "warden serve did not become ready");
    let users = client.get(format!("{base_url}/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(users.status().as_u16(), 200);
    let other = client.get(format!("{address}/scim/v2/200/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(other.status().as_u16(), 401);

    // Rotation prints a new token; the old one still works during the grace period. Disabling stops both.
    let rotated = json_output(dir, &["scim", "connection", "rotate", &id, "--grace", "1h", "--format", "json"]);
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    for current in [&token, &new_token] {
        let reply = client.get(format!("{base_url}/Users")).bearer_auth(current).send().await.unwrap();
        assert_eq!(reply.status().as_u16(), 200);
    }
    let missing = client.get(format!("{base_url}/Users/missing")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    // The list tells each connection's recent activity from the request log (written within moments).
    let mut activity = Value::Null;
    for _ in 0..50 {
        activity = json_output(dir, &["scim", "connection", "list", "--format", "json"])[0].clone();
        if activity["last_24h"]["client_errors"].as_u64() >= Some(1)
            && activity["last_24h"]["requests"].as_u64() >= Some(4)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(activity["last_24h"]["requests"].as_u64() >= Some(4), "{activity}");
    assert!(activity["last_24h"]["client_errors"].as_u64() >= Some(1), "{activity}");
    assert_eq!(activity["last_24h"]["server_errors"], 0, "{activity}");
    assert!(activity["last_request_at"].is_string(), "{activity}");
    let log = json_output(dir, &["scim", "connection", "log", &id, "--limit", "1", "--format", "json"]);
    let newest = &log["requests"][0];
    assert_eq!((newest["method"].as_str(), newest["status"].as_u64()), (Some("GET"), Some(404)), "{log}");
    assert_eq!(newest["path"], "/scim/v2/100/Users/missing");
    assert_eq!(log["requests"].as_array().unwrap().len(), 1);
    let (code, table, _) = warden(dir, &["scim", "connection", "log", &id]);
    assert_eq!(code, Some(0));
    assert!(
        table.lines().nth(1).is_some_and(|line| line.contains("/Users/missing") && line.contains("404")),
        "{table}"
    );
    let (code, _, stderr) = warden(dir, &["scim", "connection", "log", "no-such-connection"]);
    assert!(code == Some(2) && stderr.contains("no SCIM connection no-such-connection"), "{stderr}");
    let (_, table, _) = warden(dir, &["scim", "connection", "list"]);
    let header = table.lines().next().unwrap();
    assert!(header.contains("LAST REQUEST") && header.contains("24H 5XX"), "{table}");
    assert!(table.lines().last().unwrap().contains("never"), "the other connection made no request: {table}");

    let (code, stdout, _) = warden(dir, &["scim", "connection", "disable", &id]);
    assert_eq!(code, Some(0), "{stdout}");
    let reply = client.get(format!("{base_url}/Users")).bearer_auth(&new_token).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 401);
    let listed = json_output(dir, &["scim", "connection", "list", "--format", "json"]);
    assert_eq!(listed[0]["status"], "disabled");

    server.kill().unwrap();
    let output = server.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("serving SCIM"), "{logs}");
    assert!(!logs.contains(&token) && !logs.contains(&new_token), "a token reached the logs");
}
