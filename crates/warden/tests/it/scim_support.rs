//! A real warden SCIM server on 127.0.0.1 (a free port), over a test store, with two tenants: org `100` (tenant A)
//! and org `200` (tenant B) of environment `prod`, one connection each.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use warden::app::tokens as token;
use warden::config::Config;
use warden::scim::RequestLogWriter;
use warden::store::{ScimConnection, ScimConnectionId, ScimConnectionKind, ScimRequestLogEntry, ScimTenant, Store};
use warden_core::id::{EnvironmentName, OrgId};

use crate::fixtures;

pub const ORG_A: &str = "100";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ORG_B: &str = "200";

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    pub token_a: String,
    pub token_b: String,
    pub connection_a: ScimConnectionId,
    pub connection_b: ScimConnectionId,
    request_log: Arc<RequestLogWriter>,
}

/// One response, its body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self
    }

    /// Asserts a SCIM error body with this status (and scimType, when given).
    pub fn expect_error(self, status: u16, scim_type: Option<&str>) -> Reply {
        let reply = self.expect(status);
        assert_eq!(reply.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{}", reply.body);
        assert_eq!(reply.body["status"], status.to_string(), "{}", reply.body);
        assert_eq!(reply.body["scimType"].as_str(), scim_type, "{}", reply.body);
        assert!(reply.header("content-type").is_some_and(|value| value.starts_with("application/scim+json")));
        reply
    }
}

pub async fn spawn(store: Arc<dyn Store>) -> TestServer {
    spawn_with(store, Config::default()).await
}

pub async fn spawn_with(store: Arc<dyn Store>, mut config: Config) -> TestServer {
    // Tests make many failed attempts from 127.0.0.1 on purpose; the limiter gets its own test.
    if config.scim.failed_auth_per_minute == warden::config::ScimConfig::default().failed_auth_per_minute {
        config.scim.failed_auth_per_minute = 10_000;
    }
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let (token_a, connection_a) = connect(&*store, ORG_A).await;
    let (token_b, connection_b) = connect(&*store, ORG_B).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    // The URLs the server hands out name where it listens (port 0 is only known once bound).
    config.server.listen = listener.local_addr().unwrap();
    let settings = warden::app::Settings::from_config(&config).unwrap();
    let app = warden::app::App::new(settings, store.clone(), Arc::new(warden::app::SystemClock));
    let server = warden::server::build(&app);
    let request_log = server.request_log.clone();
    tokio::spawn(warden::server::serve(listener, server, std::future::pending()));
    TestServer {
        address,
        store,
        client: reqwest::Client::new(),
        token_a,
        token_b,
        connection_a,
        connection_b,
        request_log,
    }
}

/// A new connection into `org` of `prod`; returns its token.
pub async fn connect(store: &dyn Store, org: &str) -> (String, ScimConnectionId) {
    let (token, hash) = token::issue_token();
    let id = ScimConnectionId::new(token::new_id(warden::scim::now()));
    let connection = ScimConnection {
        id: id.clone(),
        tenant: ScimTenant { environment: EnvironmentName::parse("prod").unwrap(), org_id: OrgId::parse(org).unwrap() },
        name: format!("test {org}"),
        kind: ScimConnectionKind::Generic,
        token_hash: hash,
        previous_token_hash: None,
        previous_valid_until: None,
        disabled_at: None,
        created_at: warden::scim::now(),
        settings: warden::store::ConnectionSettings::without_provisioning(),
    };
    store.create_scim_connection(&connection).await.unwrap();
    (token.expose_secret().to_owned(), id)
}

impl TestServer {
    /// A connection's request log, newest first, once the rows of every request answered so far are committed (a
    /// read's row is written after its response; a write's commits with the write).
    pub async fn request_log(&self, connection: &ScimConnectionId, limit: u32) -> Vec<ScimRequestLogEntry> {
        self.request_log.flush().await;
        self.store.list_scim_request_log(connection, limit).await.unwrap()
    }

    /// `http://127.0.0.1:PORT/scim/v2/{org}{path}`
    pub fn url(&self, org: &str, path: &str) -> String {
        format!("{}/scim/v2/{org}{path}", self.address)
    }

    pub async fn send(
        &self,
        token: Option<&str>,
        method: Method,
        url: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, url).header("User-Agent", "Okta SCIM Client 1.0.0");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Reply { status, headers, body }
    }

    /// A request of tenant A, with its token.
    pub async fn a(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.send(Some(&self.token_a), method, &self.url(ORG_A, path), body, &[]).await
    }

    pub async fn b(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.send(Some(&self.token_b), method, &self.url(ORG_B, path), body, &[]).await
    }
}

/// `?filter=...` with the filter percent-encoded.
pub fn filter(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("filter={encoded}")
}
