//! Identity providers to probe: with [`ProbeProviders`] the simulated instance federates one provider of each kind
//! warden probes, whose endpoints are real local servers that behave well and badly: OIDC issuers served under
//! `/__idp/{name}` (`healthy`, `slow`, `no-keys`; each switchable at run time with
//! [`Control::set_provider_endpoint`](super::Control::set_provider_endpoint)), an unreachable issuer (a closed port),
//! a JWT provider, an Azure AD tenant under `/__idp/azure` (point the probes' Azure authority there), SAML metadata
//! whose certificates expire in 10, 25 and 400 days and one in rotation (10 and 400), an LDAP server (a TCP listener
//! that accepts and hangs up), and GitHub, GitLab and Apple (configuration only). They are added when the simulator
//! starts, like the seed (no events), so the seed's counts and anomalies are unchanged without the option.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use time::OffsetDateTime;

use super::{Shared, lock};
use crate::estate::{Estate, IdentityProvider, IdpConfig, IdpState, ObjectMeta, saml_idp_metadata_rotating};

/// Turns on the providers to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeProviders {
    /// How long the `slow` issuer takes to answer each request.
    pub slow_latency: Duration,
}

impl Default for ProbeProviders {
    /// A slow issuer at 2.5 s: over warden's default latency threshold (2 s), under its request timeout (5 s).
    fn default() -> ProbeProviders {
        ProbeProviders { slow_latency: Duration::from_millis(2_500) }
    }
}

/// How one of the simulated issuers answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderEndpoint {
    /// Discovery and a JWKS with one RS256 key.
    Healthy,
    /// Like `Healthy`, after [`ProbeProviders::slow_latency`].
    Slow,
    /// Discovery fine, the JWKS empty.
    NoKeys,
    /// Every request answers 503.
    Failing,
}

/// The Azure AD tenant of the simulated Entra ID provider.
pub const AZURE_TENANT: &str = "00000000-0000-4000-8000-00000000a2ad";

/// The issuers served under `/__idp/{name}` and how each starts.
pub(crate) const ISSUERS: [(&str, ProviderEndpoint); 4] = [
    ("healthy", ProviderEndpoint::Healthy),
    ("slow", ProviderEndpoint::Slow),
    ("no-keys", ProviderEndpoint::NoKeys),
    ("jwt", ProviderEndpoint::Healthy),
];

/// Adds the providers to probe to `estate`. `ldap` is the listening LDAP address, `unreachable` a closed port.
pub(crate) fn install(estate: &mut Estate, base_url: &str, ldap: std::net::SocketAddr, unreachable: u16) {
    let now = estate.now();
    let idp = |name: &str| format!("{base_url}/__idp/{name}");
    let oidc = |issuer: String| IdpConfig::Oidc {
        issuer,
        client_id: "zitadel".to_string(),
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
    };
    // The seed's own OIDC providers name hosts on the internet that do not exist; served locally in probe mode, they
    // probe healthy, as a real estate's mostly do.
    for provider in estate.identity_providers.values_mut() {
        if let IdpConfig::Oidc { issuer, .. } = &mut provider.config
            && issuer.contains(".example")
        {
            *issuer = idp("healthy");
        }
    }
    let mut providers = vec![
        ("OIDC healthy", oidc(idp("healthy"))),
        ("OIDC slow", oidc(idp("slow"))),
        ("OIDC without keys", oidc(idp("no-keys"))),
        ("OIDC unreachable", oidc(format!("http://127.0.0.1:{unreachable}"))),
        (
            "JWT healthy",
            IdpConfig::Jwt {
                issuer: idp("jwt"),
                jwt_endpoint: format!("{}/login", idp("jwt")),
                keys_endpoint: format!("{}/keys", idp("jwt")),
                header_name: "x-auth-token".to_string(),
            },
        ),
        (
            "Entra ID healthy",
            IdpConfig::AzureAd {
                client_id: "sim-entra-client".to_string(),
                tenant_id: AZURE_TENANT.to_string(),
                scopes: vec!["openid".into(), "email".into()],
            },
        ),
        (
            "LDAP",
            IdpConfig::Ldap {
                servers: vec![format!("ldap://{ldap}")],
                start_tls: false,
                base_dn: "dc=example,dc=com".to_string(),
            },
        ),
        (
            "GitHub",
            IdpConfig::Github { client_id: "Iv1.5im0000000000000".to_string(), scopes: vec!["user:email".into()] },
        ),
        (
            "GitLab",
            IdpConfig::Gitlab { client_id: "sim-gitlab-application-id".to_string(), scopes: vec!["openid".into()] },
        ),
        (
            "Apple",
            IdpConfig::Apple {
                client_id: "com.example.sim.web".to_string(),
                team_id: "SIMTEAM123".to_string(),
                key_id: "SIMKEY4567".to_string(),
                scopes: vec!["name".into(), "email".into()],
            },
        ),
    ];
    for (days, serial) in [(10, 10_u64), (25, 25), (400, 400)] {
        providers.push((saml_name(days), saml(base_url, &format!("saml-{days}"), now, &[(serial, days)])));
    }
    providers.push(("SAML rotating", saml(base_url, "saml-rotating", now, &[(1_010, 10), (1_400, 400)])));
    for (name, config) in providers {
        let id = estate.new_id();
        let provider = IdentityProvider {
            id: id.clone(),
            org_id: None,
            name: name.to_string(),
            state: IdpState::Active,
            is_linking_allowed: true,
            is_creation_allowed: true,
            is_auto_creation: false,
            is_auto_update: true,
            config,
            meta: ObjectMeta::new(now - time::Duration::days(30)),
        };
        estate.identity_providers.insert(id, provider);
    }
}

fn saml_name(days: i64) -> &'static str {
    match days {
        10 => "SAML 10 days",
        25 => "SAML 25 days",
        _ => "SAML 400 days",
    }
}

/// SAML metadata whose certificates `(serial, days left)` were issued 30 days before `now`.
fn saml(base_url: &str, name: &str, now: OffsetDateTime, certificates: &[(u64, i64)]) -> IdpConfig {
    let issued = now - time::Duration::days(30);
    let trim = |at: OffsetDateTime| at.replace_nanosecond(0).unwrap_or(at);
    let validities: Vec<(u64, OffsetDateTime, OffsetDateTime)> = certificates
        .iter()
        .map(|(serial, days)| (*serial, trim(issued), trim(now + time::Duration::days(*days))))
        .collect();
    let certificate_not_after = validities.iter().map(|(_, _, not_after)| *not_after).min().unwrap_or(now);
    let metadata_xml = saml_idp_metadata_rotating(
        &format!("{base_url}/__idp/{name}/metadata"),
        &format!("{base_url}/__idp/{name}/sso"),
        name,
        &validities,
    );
    IdpConfig::Saml { metadata_xml, certificate_not_after }
}

/// The routes under `/__idp`.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/azure/{tenant}/v2.0/.well-known/openid-configuration", get(azure_discovery))
        .route("/azure/{tenant}/discovery/v2.0/keys", get(azure_keys))
        .route("/{name}/.well-known/openid-configuration", get(discovery))
        .route("/{name}/keys", get(keys))
        .route("/{name}/login", get(page))
        .route("/{name}/sso", get(page))
}

/// How `name` answers now, after the `slow` wait; `None` for an unknown issuer.
async fn behaviour(shared: &Shared, name: &str) -> Option<ProviderEndpoint> {
    let (endpoint, slow) = {
        let endpoints = lock(&shared.provider_endpoints);
        (endpoints.get(name).copied(), shared.slow_provider_latency)
    };
    if endpoint == Some(ProviderEndpoint::Slow) {
        tokio::select! {
            () = tokio::time::sleep(slow) => {}
            () = shared.stopped() => {}
        }
    }
    endpoint
}

fn issuer_document(issuer: &str, jwks_uri: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": jwks_uri,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

async fn discovery(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match behaviour(&shared, &name).await {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(ProviderEndpoint::Failing) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Some(_) => {
            let issuer = format!("{}/__idp/{name}", shared.base_url);
            Json(issuer_document(&issuer, &format!("{issuer}/keys"))).into_response()
        }
    }
}

async fn keys(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match behaviour(&shared, &name).await {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(ProviderEndpoint::Failing) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Some(ProviderEndpoint::NoKeys) => Json(json!({"keys": []})).into_response(),
        Some(_) => Json(json!({"keys": [shared.signing_key(&format!("{name}-1"))]})).into_response(),
    }
}

async fn azure_discovery(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>) -> Response {
    let base = format!("{}/__idp/azure/{tenant}", shared.base_url);
    Json(issuer_document(&format!("{base}/v2.0"), &format!("{base}/discovery/v2.0/keys"))).into_response()
}

async fn azure_keys(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"keys": [shared.signing_key("azure-1")]})).into_response()
}

async fn page() -> &'static str {
    "sign in"
}

/// Accepts LDAP connections and hangs up: reachable over TCP, nothing more.
pub(crate) async fn serve_ldap(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Err(error) = accepted {
                    tracing::debug!(%error, "simulated LDAP server: accept failed");
                }
            }
            () = shared.stopped() => return,
        }
    }
}
