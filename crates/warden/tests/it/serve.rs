//! `warden serve` as a service: scheduled syncs shared by two replicas on one PostgreSQL (each environment synced
//! once per interval, never twice at once, a killed replica's work taken over, each notification delivered once),
//! a clean shutdown in the middle of a sync, `warden sync` refused while a server syncs, one server per SQLite
//! file, and `/metrics` in the exposition format.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use time::macros::datetime;
use warden::config::DatabaseUrl;
use warden::store::{self, Store};
use warden_core::id::EnvironmentName;
use warden_core::model::{SyncRun, SyncStatus};
use zitadel_sim::{Estate, Simulator, SimulatorOptions};

use crate::support::postgres_admin_url;
use crate::sync_cli::{PAT, run, warden};

/// A running `warden serve`, its log collected as it is written.
pub(crate) struct Server {
    child: Child,
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(directory: &Path, hooks: &str) -> Server {
        Server::start_with(directory, &[("HOOK_URL", hooks)])
    }

    /// `warden serve` in `directory` with these environment variables set.
    pub(crate) fn start_with(directory: &Path, variables: &[(&str, &str)]) -> Server {
        let mut command = warden(directory, &["serve"]);
        command.envs(variables.iter().copied());
        command.env("WARDEN_LOG", "info").stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Server { child, log }
    }

    /// `http://127.0.0.1:PORT`, once the server says where it listens.
    pub(crate) async fn address(&self) -> String {
        for _ in 0..600 {
            let found = self.log.lock().unwrap().iter().find_map(|line| {
                let start = line.find("serving SCIM at http://")? + "serving SCIM at ".len();
                let rest = &line[start..];
                Some(rest[..rest.find("/scim").unwrap_or(rest.len())].to_owned())
            });
            if let Some(address) = found {
                return address;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server never said where it listens: {:?}", self.log.lock().unwrap());
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end, at most `limit`; its exit code.
    async fn exit_within(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(started.elapsed() < limit, "still running after {limit:?}: {:?}", self.log.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Received = Arc<Mutex<Vec<Value>>>;

/// A webhook endpoint that keeps every body it receives.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    async fn record(State(received): State<Received>, body: String) -> StatusCode {
        received.lock().unwrap().push(serde_json::from_str(&body).unwrap_or(Value::Null));
        StatusCode::NO_CONTENT
    }
    let app = Router::new().route("/hook", post(record)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/hook"), received)
}

/// An estate with the platform org and warden's own service account, which holds IAM_OWNER: one high finding, so
/// one alert and one notification.
async fn simulator(latency: Duration) -> Simulator {
    let mut options = SimulatorOptions::new(Estate::minimal(datetime!(2026-11-01 12:00 UTC)), PAT);
    options.latency = latency;
    Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn write_config(directory: &Path, database: &str, sim: &Simulator, interval: &str, lease_ttl: &str, grace: &str) {
    let config = format!(
        "[database]\nurl = \"{database}\"\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\nlease_ttl = \"{lease_ttl}\"\nshutdown_grace = \"{grace}\"\n\n\
         [[environments]]\nname = \"prod\"\nurl = \"{}\"\ncredential = {{ pat_env = \"SIM_PAT\" }}\n\
         rate_limit = 0\nsync_interval = \"{interval}\"\n\n\
         [governance]\nalert_min_severity = \"high\"\n\
         [[governance.webhooks]]\nname = \"secops\"\nurl_env = \"HOOK_URL\"\n",
        sim.base_url()
    );
    std::fs::write(directory.join("warden.toml"), config).unwrap();
}

fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

/// Every run of `prod`, oldest first.
async fn runs(store: &dyn Store) -> Vec<SyncRun> {
    let mut runs = store.list_sync_runs(&prod(), 1_000).await.unwrap();
    runs.reverse();
    runs
}

/// Waits until `condition` holds for the runs, at most `limit`.
async fn wait_for_runs(store: &dyn Store, limit: Duration, condition: impl Fn(&[SyncRun]) -> bool) -> Vec<SyncRun> {
    let started = Instant::now();
    loop {
        let runs = runs(store).await;
        if condition(&runs) {
            return runs;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {runs:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_replicas_sync_once_per_interval_take_over_a_killed_one_and_notify_once() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("WARDEN_TEST_DATABASE_URL is not set: skipping the replica test");
        return;
    };
    let scratch = store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let store = store::open_and_migrate(&scratch).await.unwrap();
    let sim = simulator(Duration::from_millis(40)).await;
    let (hooks, received) = receiver().await;
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), scratch.expose(), &sim, "2s", "3s", "10s");

    let started = Instant::now();
    let mut first = Server::start(directory.path(), &hooks);
    let mut second = Server::start(directory.path(), &hooks);
    first.address().await;
    second.address().await;
    tokio::time::sleep(Duration::from_secs(11)).await;

    // About one run per interval in total, never two at once, all complete, shared by whoever was free.
    let finished: Vec<SyncRun> =
        runs(&*store).await.into_iter().filter(|run| run.status != SyncStatus::Running).collect();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(finished.len() >= 3 && finished.len() as f64 <= elapsed / 2.0 + 1.0, "{elapsed} s: {finished:#?}");
    assert!(finished.iter().all(|run| run.status == SyncStatus::Ok), "{finished:#?}");
    for pair in finished.windows(2) {
        assert!(pair[0].finished_at.unwrap() <= pair[1].started_at, "two syncs at once: {pair:#?}");
        let gap = pair[1].started_at - pair[0].started_at;
        assert!(gap >= time::Duration::seconds(2), "synced again before the interval: {pair:#?}");
    }
    let holders: std::collections::BTreeSet<_> = finished.iter().filter_map(|run| run.holder.clone()).collect();
    assert!(!holders.is_empty() && holders.len() <= 2, "{holders:?}");
    // The simulator answered every run the same number of requests (and nothing else was sent to it).
    let requests: u64 = finished.iter().map(|run| run.requests).sum();
    let running_requests = sim.control().total_requests() - requests;
    assert!(running_requests < finished[0].requests * 2, "requests outside the recorded runs: {running_requests}");

    // One alert, one notification, delivered once between the two replicas.
    let deliveries = received.lock().unwrap().clone();
    let mut per_alert: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for body in &deliveries {
        let key = (body["alert"]["id"].as_i64().unwrap(), body["event"].as_str().unwrap().to_owned());
        *per_alert.entry(key).or_default() += 1;
    }
    assert!(!per_alert.is_empty(), "no notification arrived");
    assert!(per_alert.values().all(|count| *count == 1), "delivered more than once: {per_alert:?}");

    // /metrics answers in the exposition format, with the families warden promises.
    let metrics = reqwest::get(format!("{}/metrics", first.address().await)).await.unwrap().text().await.unwrap();
    let families = parse_exposition(&metrics);
    for family in [
        "warden_sync_duration_seconds",
        "warden_sync_runs",
        "warden_stored_objects",
        "warden_zitadel_requests",
        "warden_zitadel_retries",
        "warden_scim_requests",
        "warden_scim_request_duration_seconds",
        "warden_alerts_open",
        "warden_notification_deliveries",
        "warden_lease_takeovers",
    ] {
        assert!(families.contains_key(family), "{family} missing from:\n{metrics}");
    }
    // Slow the simulator so that a sync takes seconds, and kill the replica that holds it.
    sim.control().set_latency(Duration::from_millis(400));
    let known = runs(&*store).await.len();
    let holding = wait_for_runs(&*store, Duration::from_secs(30), |runs| {
        runs.len() > known && runs.last().is_some_and(|run| run.status == SyncStatus::Running)
    })
    .await;
    let victim_run = holding.last().unwrap().clone();
    let victim_pid = victim_run.holder.as_deref().unwrap().split(':').nth(1).unwrap().parse::<u32>().unwrap();
    let (victim, survivor) =
        if victim_pid == first.pid() { (&mut first, &mut second) } else { (&mut second, &mut first) };
    victim.signal("-KILL");
    victim.exit_within(Duration::from_secs(10)).await;
    let killed_at = Instant::now();
    sim.control().set_latency(Duration::from_millis(40));

    // The survivor completes the work once the lease expires (3 s) and the interval (2 s) passes, and the killed
    // run ends interrupted.
    let after = wait_for_runs(&*store, Duration::from_secs(30), |runs| {
        runs.iter().any(|run| run.id.0 > victim_run.id.0 && run.status == SyncStatus::Ok)
    })
    .await;
    let taken_over = killed_at.elapsed();
    assert!(taken_over < Duration::from_secs(12), "taken over after {taken_over:?}");
    let killed = after.iter().find(|run| run.id == victim_run.id).unwrap();
    assert_eq!(killed.status, SyncStatus::Interrupted, "{killed:#?}");

    // SCIM traffic keeps database connections (and, on PostgreSQL, a listener) checked out: the shutdown still
    // closes the store and exits.
    let (code, stdout, stderr) = run(warden(
        directory.path(),
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
            "--provisioning",
            "off",
            "--format",
            "json",
        ],
    ))
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let connection: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let users = format!("{}/scim/v2/100/Users", survivor.address().await);
    let response =
        reqwest::Client::new().get(&users).bearer_auth(connection["token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(response.status(), 200);

    // SIGTERM: the survivor exits 0 and leaves no run running.
    survivor.signal("-TERM");
    assert_eq!(survivor.exit_within(Duration::from_secs(20)).await, Some(0), "{:?}", survivor.log.lock().unwrap());
    assert!(runs(&*store).await.iter().all(|run| run.status != SyncStatus::Running));
    drop(store);
    store::drop_scratch_database(&admin, &scratch).await.unwrap();
}

#[tokio::test]
async fn a_server_shuts_down_cleanly_mid_sync_refuses_a_second_server_and_a_concurrent_sync() {
    // Every request takes 3 s: a sync takes longer than the test needs it running.
    let sim = simulator(Duration::from_secs(3)).await;
    let (hooks, _) = receiver().await;
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("warden.db").display());
    write_config(directory.path(), &database, &sim, "1h", "30s", "1s");
    let mut server = Server::start(directory.path(), &hooks);
    let address = server.address().await;
    let store = store::open_and_migrate(&DatabaseUrl::new(database.clone())).await.unwrap();
    wait_for_runs(&*store, Duration::from_secs(30), |runs| {
        runs.last().is_some_and(|run| run.status == SyncStatus::Running)
    })
    .await;

    // While the server syncs, `warden sync` is refused with exit 4, naming the holder.
    let (code, _, stderr) = run(warden(directory.path(), &["sync"])).await;
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("a sync of prod is already running") && stderr.contains(':'), "{stderr}");

    // A second server on the same SQLite file is refused.
    let (code, _, stderr) = run(warden(directory.path(), &["serve"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already uses the SQLite database"), "{stderr}");

    let response = reqwest::get(format!("{address}/healthz")).await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));

    // SIGTERM during the sync: exit 0 after the grace period, the run marked interrupted, not left running.
    server.signal("-TERM");
    assert_eq!(server.exit_within(Duration::from_secs(20)).await, Some(0), "{:?}", server.log.lock().unwrap());
    let runs = runs(&*store).await;
    assert!(runs.iter().all(|run| run.status != SyncStatus::Running), "{runs:#?}");
    assert_eq!(runs.last().unwrap().status, SyncStatus::Interrupted, "{runs:#?}");
    // The lock is released with the process: a new server starts.
    let mut again = Server::start(directory.path(), &hooks);
    again.address().await;
    again.signal("-TERM");
    assert_eq!(again.exit_within(Duration::from_secs(20)).await, Some(0));
}

/// Checks `text` against the text exposition format (Prometheus 0.0.4 and OpenMetrics): every line a `# HELP`,
/// `# TYPE`, `# UNIT` or `# EOF` comment or a sample `name{label="value",...} number`, every sample's family
/// announced by a `# TYPE` first. Returns the families with their type.
fn parse_exposition(text: &str) -> BTreeMap<String, String> {
    let is_name = |name: &str| {
        !name.is_empty()
            && name.chars().enumerate().all(|(index, character)| {
                character.is_ascii_alphabetic()
                    || character == '_'
                    || character == ':'
                    || (index > 0 && character.is_ascii_digit())
            })
    };
    let mut families: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("EOF"), None, None) => {}
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(is_name(name), "{line}");
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "summary",
                            "untyped",
                            "unknown",
                            "info",
                            "stateset",
                            "gaugehistogram"
                        ]
                        .contains(&kind),
                        "{line}"
                    );
                    families.insert(name.to_owned(), kind.to_owned());
                }
                (Some("HELP" | "UNIT"), Some(name), _) => assert!(is_name(name), "{line}"),
                _ => panic!("not an exposition comment: {line}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value), "{line}");
        let name = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                for label in labels.split("\",").filter(|label| !label.is_empty()) {
                    let (key, quoted) = label.split_once('=').unwrap_or_else(|| panic!("{line}"));
                    assert!(is_name(key) && quoted.starts_with('"'), "{line}");
                }
                name
            }
            None => series,
        };
        assert!(is_name(name), "{line}");
        let family =
            families.keys().filter(|family| name.starts_with(family.as_str())).max_by_key(|family| family.len());
        assert!(family.is_some(), "a sample before its # TYPE: {line}");
    }
    families
}
