//! Helpers shared by the HTTP tests.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use zitadel_sim::{Estate, Simulator, SimulatorOptions};

/// Fixed "now" of the test estates.
pub const NOW: OffsetDateTime = datetime!(2026-03-30 12:00 UTC);
/// PAT of the `warden` user in every test simulator.
pub const ADMIN_PAT: &str = "test-admin-pat";

pub fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub async fn start_seed() -> Simulator {
    start(SimulatorOptions::new(Estate::seed(NOW), ADMIN_PAT)).await
}

pub async fn start(options: SimulatorOptions) -> Simulator {
    Simulator::start(options, local()).await.expect("simulator starts")
}

thread_local! {
    /// One client per test thread (each `#[tokio::test]` runs on its own thread and runtime); building a client is
    /// expensive, and sharing one across runtimes is not safe.
    static CLIENT: reqwest::Client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("client");
}

pub fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

/// One API call; returns status, parsed JSON body (Null if not JSON) and headers.
pub async fn call(
    sim: &Simulator,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    org: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = client().request(method, format!("{}{path}", sim.base_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(org) = org {
        request = request.header("x-zitadel-orgid", org);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), headers)
}

pub async fn post(sim: &Simulator, path: &str, org: Option<&str>, body: Value) -> (u16, Value) {
    let (status, body, _) = call(sim, reqwest::Method::POST, path, Some(ADMIN_PAT), org, Some(body)).await;
    (status, body)
}

pub async fn get(sim: &Simulator, path: &str, org: Option<&str>) -> (u16, Value) {
    let (status, body, _) = call(sim, reqwest::Method::GET, path, Some(ADMIN_PAT), org, None).await;
    (status, body)
}

pub fn empty() -> Value {
    json!({})
}

/// `details.totalResult` of a v1 list as a number.
pub fn total(body: &Value) -> u64 {
    body["details"]["totalResult"].as_str().map_or(0, |text| text.parse().expect("totalResult is a number string"))
}

pub fn ids(body: &Value, list: &str, field: &str) -> Vec<String> {
    body[list].as_array().map_or_else(Vec::new, |items| {
        items.iter().map(|item| item[field].as_str().unwrap_or_default().to_string()).collect()
    })
}
