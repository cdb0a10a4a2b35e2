//! Probe benchmark: 200 OIDC providers, each answering every request after 50 ms, probed by `probe_all`.
//!
//! `cargo bench --bench probe_all`. One local HTTP server (axum) serves all 200 issuers (`/p/{n}`), each request
//! held 50 ms before its answer; a probe fetches discovery, then the JWKS, so it takes at least 100 ms. Prints the
//! wall time of a whole round at several concurrency bounds (the default is 32), median and best of some rounds,
//! and the most requests the server had in flight at once (the bound at work). Target: under 2 s at the default.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use time::macros::datetime;
use warden::probe::{ProbePlan, ProbeSettings, ProbeTarget, Prober};
use warden_core::health::{Target, TargetKind};
use warden_core::id::{EnvironmentName, IdpId};
use warden_core::model::{IdpOwner, ProviderType};

const PROVIDERS: usize = 200;
const LATENCY: Duration = Duration::from_millis(50);
const ROUNDS: usize = 5;

#[derive(Default)]
struct Load {
    in_flight: AtomicUsize,
    most: AtomicUsize,
}

impl Load {
    async fn hold(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(LATENCY).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Server {
    base: String,
    load: Arc<Load>,
}

async fn discovery(State(server): State<Arc<Server>>, Path(number): Path<usize>) -> Json<serde_json::Value> {
    server.load.hold().await;
    let issuer = format!("{}/p/{number}", server.base);
    Json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/keys"),
    }))
}

async fn keys(State(server): State<Arc<Server>>) -> Json<serde_json::Value> {
    server.load.hold().await;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(zitadel_sim::SERVICE_ACCOUNT_PRIVATE_KEY_PEM.as_bytes())
        .and_then(|key| jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::RS256));
    let mut key = key.ok().and_then(|key| serde_json::to_value(key).ok()).unwrap_or_default();
    key["kid"] = serde_json::json!("bench-1");
    Json(serde_json::json!({ "keys": [key] }))
}

fn targets(base: &str) -> anyhow::Result<Vec<ProbeTarget>> {
    let environment = EnvironmentName::parse("bench")?;
    (0..PROVIDERS)
        .map(|number| {
            Ok(ProbeTarget {
                target: Target {
                    environment: environment.clone(),
                    name: format!("provider {number}"),
                    kind: TargetKind::IdentityProvider {
                        id: IdpId::parse(format!("{}", 400_000_000_000_000_000_u64 + number as u64))?,
                        provider_type: ProviderType::Oidc,
                        owner: IdpOwner::Instance,
                    },
                },
                plan: ProbePlan::Oidc { issuer: format!("{base}/p/{number}") },
            })
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let load = Arc::new(Load::default());
    let server = Arc::new(Server { base: base.clone(), load: Arc::clone(&load) });
    let router = axum::Router::new()
        .route("/p/{number}/.well-known/openid-configuration", get(discovery))
        .route("/p/{number}/keys", get(keys))
        .with_state(server);
    tokio::spawn(async move { axum::serve(listener, router).await });

    let targets = targets(&base)?;
    let now = datetime!(2026-12-01 12:00 UTC);
    println!("probe_all: {PROVIDERS} OIDC providers, {} ms per request, 2 requests per probe", LATENCY.as_millis());
    println!("| concurrency | median | best | most requests in flight | failed probes |");
    println!("|---|---|---|---|---|");
    for concurrency in [8, 32, 64, 200] {
        let settings = ProbeSettings { allow_private: true, concurrency, ..ProbeSettings::default() };
        let prober = Prober::new(settings)?;
        // A warm-up round opens the connections a scheduled prober keeps between rounds.
        prober.probe_all(targets.clone(), now).await;
        let mut times = Vec::new();
        let mut failed = 0;
        load.most.store(0, Ordering::SeqCst);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let results = prober.probe_all(targets.clone(), now).await;
            times.push(started.elapsed());
            failed += results.iter().filter(|result| !result.succeeded()).count();
        }
        times.sort();
        println!(
            "| {concurrency} | {:.0} ms | {:.0} ms | {} | {failed} |",
            times[ROUNDS / 2].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            load.most.load(Ordering::SeqCst),
        );
    }
    let started = Instant::now();
    let settings = ProbeSettings { allow_private: true, ..ProbeSettings::default() };
    let results = warden::probe::probe_all(targets, &settings, now).await?;
    println!(
        "cold (new clients and connections, concurrency {}): {:.0} ms, {} failed",
        settings.concurrency,
        started.elapsed().as_secs_f64() * 1000.0,
        results.iter().filter(|result| !result.succeeded()).count()
    );
    Ok(())
}
