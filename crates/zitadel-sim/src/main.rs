//! `zitadel-sim`: runs a simulated ZITADEL instance until Ctrl-C.
//!
//! ```text
//! zitadel-sim --port 8080 --estate seed --pat TOKEN [--exchange-log FILE] [--latency-ms N] [--v1-only]
//!     [--probe-providers] [--jwt-access-tokens] [--action-target URL --action-signing-key KEY [--action-events LIST]]
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use time::OffsetDateTime;
use zitadel_sim::{ApiSupport, Estate, ProbeProviders, Simulator, SimulatorOptions};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EstateKind {
    /// 41 orgs, 1,210 users, planted anomalies.
    Seed,
    /// 200 orgs, 100,000 users.
    Large,
    /// Only the platform org and the `warden` service account.
    Minimal,
}

/// A simulated ZITADEL instance over HTTP (Management v1, Admin v1, v2, v2beta; OAuth token endpoint).
#[derive(Debug, Parser)]
#[command(name = "zitadel-sim", version)]
struct Args {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Which estate to generate.
    #[arg(long, value_enum, default_value = "seed")]
    estate: EstateKind,
    /// PAT of the `warden` service account (IAM_OWNER).
    #[arg(long, env = "ZITADEL_SIM_PAT", default_value = "zitadel-sim-admin-pat")]
    pat: String,
    /// Append every ZITADEL API exchange to this JSON-lines file.
    #[arg(long)]
    exchange_log: Option<PathBuf>,
    /// Delay added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Serve only the v1 APIs (v2/v2beta routes answer 404).
    #[arg(long)]
    v1_only: bool,
    /// Where to write the service-account key file (default: the temp directory).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Federate one identity provider of each kind with local endpoints that behave well and badly (health probes).
    #[arg(long)]
    probe_providers: bool,
    /// Issue access tokens as JWTs signed with the instance key.
    #[arg(long)]
    jwt_access_tokens: bool,
    /// Call this URL for each new event, as a ZITADEL Actions v2 target of an event execution (e.g. warden's
    /// `http://127.0.0.1:8080/zitadel/actions/prod`).
    #[arg(long, requires = "action_signing_key")]
    action_target: Option<String>,
    /// The target's signing key (ZITADEL generates it when the target is created).
    #[arg(long, env = "ZITADEL_SIM_ACTION_SIGNING_KEY", requires = "action_target")]
    action_signing_key: Option<String>,
    /// The events the target is called for, comma-separated: `user.human.email.changed`, a group `user.*`, `*`.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    action_events: Vec<String>,
}

#[allow(clippy::disallowed_methods, reason = "the binary's entry point reads the clock once to anchor the estate")]
fn now_utc() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let now = now_utc();
    let estate = match args.estate {
        EstateKind::Seed => Estate::seed(now),
        EstateKind::Large => Estate::large(now),
        EstateKind::Minimal => Estate::minimal(now),
    };
    let counts = estate.counts();
    let mut options = SimulatorOptions::new(estate, args.pat.clone());
    options.exchange_log = args.exchange_log.clone();
    options.latency = Duration::from_millis(args.latency_ms);
    options.api = if args.v1_only { ApiSupport::V1Only } else { ApiSupport::V1AndV2 };
    options.probe_providers = args.probe_providers.then(ProbeProviders::default);
    options.jwt_access_tokens = args.jwt_access_tokens;
    let simulator =
        Simulator::start(options, SocketAddr::new(args.bind, args.port)).await.context("starting the simulator")?;
    let control = simulator.control().clone();
    if let (Some(url), Some(key)) = (&args.action_target, &args.action_signing_key) {
        control.add_action_target(url.clone(), key.clone(), args.action_events.clone());
        println!("calling the action target {url} for events {}", args.action_events.join(","));
    }
    let key_json = control.service_account_key_json();
    let key_path = args.key_file.unwrap_or_else(|| std::env::temp_dir().join("zitadel-sim-service-account.json"));
    std::fs::write(&key_path, &key_json).with_context(|| format!("writing {}", key_path.display()))?;
    let (client_id, client_secret) = control.client_credentials();

    println!("zitadel-sim listening on {}", simulator.base_url());
    println!(
        "estate: {} orgs, {} users ({} machine), {} user grants",
        counts.orgs, counts.users, counts.machine_users, counts.user_grants
    );
    println!("admin PAT: {}", args.pat);
    println!("service-account key file: {}", key_path.display());
    println!("service-account key JSON: {key_json}");
    println!("client credentials: {client_id}:{client_secret}");
    println!(
        "control API: {}/__sim/ (faults, requests, anomalies, counts, latency, pats, mutations)",
        simulator.base_url()
    );

    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    simulator.shutdown().await;
    Ok(())
}
