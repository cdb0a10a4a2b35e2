//! Provisioning through an outage and a crash, as an operator meets them: the real `warden serve` (its outbox worker
//! on its own schedule) between a SCIM client over HTTP and the ZITADEL simulator, which warden reaches only through
//! a TCP proxy the test can take away. 500 SCIM writes (125 users, four writes each): the creates while ZITADEL is
//! up, the rest while it first answers 503 and then cannot be reached at all (connections refused, open ones cut).
//! Once it is back, `warden serve` is killed (SIGKILL) while it applies the backlog and started again on the same
//! configuration. In the end every user exists once in ZITADEL, went through its writes' states in order and holds
//! its last write's state; nothing is parked, and `warden provisioning status`, which showed the backlog during the
//! outage, counts every operation applied once. On SQLite, and on PostgreSQL when `WARDEN_TEST_DATABASE_URL` is set.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use time::macros::datetime;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use warden::config::DatabaseUrl;
use warden::store::{self, ConnectionBacklog, ProvisioningOperation, Store};
use zitadel_sim::{Estate, Fault, FaultKind, Simulator, SimulatorOptions, UserState};

use crate::provisioning::Scim;
use crate::support::postgres_admin_url;
use crate::sync_cli::{PAT, run, warden};

const USERS: usize = 125;
/// Each user's writes: create, then three changes (see [`Write::for_user`]).
const WRITES_PER_USER: usize = 4;
const OPERATIONS: u64 = (USERS * WRITES_PER_USER) as u64;
/// How long anything the test waits for may take before it fails, counted from when it can start.
const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_an_outage_and_a_killed_server_lose_and_repeat_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", directory.path().join("warden.db").display());
    outage_and_kill(directory.path(), &database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_an_outage_and_a_killed_server_lose_and_repeat_nothing() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("WARDEN_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    };
    let scratch = store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (path, database) = (directory.path().to_owned(), scratch.expose().to_owned());
    // The scratch database is dropped whether the case passes or fails.
    let outcome = tokio::spawn(async move { outage_and_kill(&path, &database).await }).await;
    store::drop_scratch_database(&admin, &scratch).await.unwrap();
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// A TCP proxy in front of the simulator: while up it forwards every connection to it; taken down, its listener is
/// closed (connections are refused) and every connection it forwarded is cut. It comes back on the same port.
struct Proxy {
    address: SocketAddr,
    target: SocketAddr,
    accepting: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut proxy = Proxy { address: listener.local_addr().unwrap(), target, accepting: None };
        proxy.forward(listener);
        proxy
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn forward(&mut self, listener: TcpListener) {
        let target = self.target;
        self.accepting = Some(tokio::spawn(async move {
            // Dropped with this task when the proxy goes down, which aborts every forwarded connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }));
    }

    async fn down(&mut self) {
        if let Some(accepting) = self.accepting.take() {
            accepting.abort();
            let _ = accepting.await;
        }
        // Nothing listens on the port any more.
        assert!(TcpStream::connect(self.address).await.is_err(), "the proxy still accepts connections");
    }

    async fn up(&mut self) {
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(started.elapsed() < DEADLINE, "cannot listen on {} again: {error}", self.address);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.forward(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(accepting) = self.accepting.take() {
            accepting.abort();
        }
    }
}

/// A running `warden serve`, its log collected as it is written.
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `warden serve` in `directory` (its `warden.toml`) and waits until `address` answers `/readyz`.
    async fn start(directory: &Path, address: &str) -> Server {
        let mut command = warden(directory, &["serve"]);
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
        let mut server = Server { child, log };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(reply) = client.get(format!("{address}/readyz")).send().await
                && reply.status().is_success()
            {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("warden serve exited ({status}): {}", server.log_tail());
            }
            assert!(started.elapsed() < DEADLINE, "warden serve is not ready: {}", server.log_tail());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no step finished, nothing released.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a user looks after a write: (displayName, active).
type Look = (String, bool);

/// One write of a user, and the state it asks for.
enum Write {
    Create,
    Rename(&'static str),
    Active(bool),
}

impl Write {
    /// Even users: created, renamed, deactivated, renamed again (they end inactive with the third name). Odd users:
    /// created, deactivated, renamed, reactivated (they end active with the second name). Whichever write of a user
    /// were applied last, or twice after a later one, ZITADEL would be left in another state.
    fn for_user(index: usize) -> [Write; WRITES_PER_USER] {
        if index.is_multiple_of(2) {
            [Write::Create, Write::Rename("v2"), Write::Active(false), Write::Rename("v3")]
        } else {
            [Write::Create, Write::Active(false), Write::Rename("v2"), Write::Active(true)]
        }
    }

    /// The states a user's writes ask for, in order.
    fn states(index: usize) -> Vec<Look> {
        let name = user_name(index);
        let mut state = (format!("{name} v1"), true);
        Write::for_user(index)
            .iter()
            .map(|write| {
                match write {
                    Write::Create => {}
                    Write::Rename(version) => state.0 = format!("{name} {version}"),
                    Write::Active(active) => state.1 = *active,
                }
                state.clone()
            })
            .collect()
    }
}

fn user_name(index: usize) -> String {
    format!("outage-{index:03}")
}

/// Sends write number `round` of every user (eight users at a time; each user's writes stay in order because a
/// round ends before the next begins). `ids` holds each user's SCIM id once created.
async fn write_round(scim: &Scim, round: usize, ids: &mut [String]) {
    let mut writers = JoinSet::new();
    for lane in 0..8 {
        let scim = scim.clone();
        let lane_ids: Vec<(usize, String)> =
            ids.iter().enumerate().skip(lane).step_by(8).map(|(index, id)| (index, id.clone())).collect();
        writers.spawn(async move {
            let mut created = Vec::new();
            for (index, id) in lane_ids {
                let name = user_name(index);
                match &Write::for_user(index)[round] {
                    Write::Create => {
                        let body = json!({
                            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": name,
                            "externalId": format!("ext-{index}"),
                            "displayName": format!("{name} v1"),
                            "name": {"givenName": "Ada", "familyName": format!("Outage {index}")},
                            "emails": [{"value": format!("{name}@customer.example"), "primary": true}],
                            "active": true,
                        });
                        let user = scim.send(Method::POST, "/Users", Some(body)).await;
                        created.push((index, user["id"].as_str().unwrap().to_owned()));
                    }
                    Write::Rename(version) => {
                        let operation =
                            json!({"op": "replace", "path": "displayName", "value": format!("{name} {version}")});
                        scim.send(Method::PATCH, &format!("/Users/{id}"), Some(patch(&operation))).await;
                    }
                    Write::Active(active) => {
                        let operation = json!({"op": "replace", "path": "active", "value": active});
                        scim.send(Method::PATCH, &format!("/Users/{id}"), Some(patch(&operation))).await;
                    }
                }
            }
            created
        });
    }
    while let Some(created) = writers.join_next().await {
        for (index, id) in created.unwrap() {
            ids[index] = id;
        }
    }
}

fn patch(operation: &Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]})
}

/// `warden provisioning status --format json`: the one connection's entry.
async fn status(directory: &Path) -> Value {
    let (code, stdout, stderr) =
        run(warden(directory, &["provisioning", "status", "--connection", "okta", "--format", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status.as_array().map(Vec::len), Some(1), "{status}");
    status[0].clone()
}

async fn backlog(store: &dyn Store) -> ConnectionBacklog {
    let backlogs = store.provisioning_backlogs().await.unwrap();
    assert_eq!(backlogs.len(), 1, "{backlogs:?}");
    backlogs[0].clone()
}

/// The outbox's operations (none of them parked: ZITADEL's trouble must reach the outbox as retries).
async fn operations(store: &dyn Store) -> Vec<ProvisioningOperation> {
    let operations = store.list_provisioning_operations(None, false, 1_000).await.unwrap();
    assert!(operations.iter().all(|operation| operation.parked_at.is_none()), "parked: {operations:#?}");
    operations
}

/// Waits until some operation failed `again` more times than `before` counted for it (none when absent), its last
/// attempt with an error that says `what`.
async fn wait_for_failures(store: &dyn Store, before: &HashMap<i64, u32>, again: u32, what: &str, server: &Server) {
    let started = Instant::now();
    loop {
        let operations = operations(store).await;
        if operations.iter().any(|operation| {
            operation.attempts >= before.get(&operation.id).copied().unwrap_or(0) + again
                && operation.last_error.as_deref().is_some_and(|error| error.contains(what))
        }) {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "no operation failed {again} more times with {what:?}: {:#?}\n{}",
            operations.iter().map(|operation| (operation.attempts, &operation.last_error)).collect::<Vec<_>>(),
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn outage_and_kill(directory: &Path, database: &str) {
    let options = SimulatorOptions::new(Estate::minimal(datetime!(2026-11-01 12:00 UTC)), PAT);
    let sim = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let sim_address: SocketAddr = sim.base_url().trim_start_matches("http://").parse().unwrap();
    let mut proxy = Proxy::start(sim_address).await;
    let org = sim.control().with_estate(|estate| estate.platform_org_id().to_owned());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "[database]\nurl = \"{database}\"\n\n\
         [server]\nlisten = \"127.0.0.1:{port}\"\nlease_ttl = \"5s\"\n\n\
         [[environments]]\nname = \"prod\"\nurl = \"{}\"\ncredential = {{ pat_env = \"SIM_PAT\" }}\nrate_limit = 0\n\n\
         [provisioning]\nretry_delay = \"1s\"\nmax_retry_delay = \"2s\"\nmax_attempts = 1000\n",
        proxy.url()
    );
    std::fs::write(directory.join("warden.toml"), config).unwrap();
    let store = store::open_and_migrate(&DatabaseUrl::new(database.to_owned())).await.unwrap();

    let (code, stdout, stderr) = run(warden(
        directory,
        &[
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
            "--provisioning",
            "on",
            "--format",
            "json",
        ],
    ))
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let created: Value = serde_json::from_str(&stdout).unwrap();
    let scim = Scim {
        client: reqwest::Client::new(),
        base: created["base_url"].as_str().unwrap().to_owned(),
        token: created["token"].as_str().unwrap().to_owned(),
    };
    let address = format!("http://127.0.0.1:{port}");
    assert_eq!(scim.base, format!("{address}/scim/v2/{org}"));
    let mut server = Server::start(directory, &address).await;

    // ZITADEL is there for the creates, answers 503 to everything during the first changes, and cannot be reached
    // (connections refused, open ones cut) during the rest.
    let mut ids = vec![String::new(); USERS];
    write_round(&scim, 0, &mut ids).await;
    sim.control().add_fault(Fault::new("*", FaultKind::Status(503)));
    write_round(&scim, 1, &mut ids).await;
    wait_for_failures(&*store, &HashMap::new(), 1, "HTTP 503", &server).await;
    let attempts: HashMap<i64, u32> =
        operations(&*store).await.iter().map(|operation| (operation.id, operation.attempts)).collect();
    proxy.down().await;
    sim.control().clear_faults();
    write_round(&scim, 2, &mut ids).await;
    write_round(&scim, 3, &mut ids).await;
    // Two more failed attempts: at least one made entirely while nothing could connect.
    wait_for_failures(&*store, &attempts, 2, "cannot reach ZITADEL", &server).await;

    // The operator sees the backlog: operations waiting since the outage, nothing parked.
    let during = status(directory).await;
    assert!(during["pending"].as_u64().is_some_and(|pending| pending > 0), "{during}");
    assert_eq!(during["parked"], 0, "{during}");
    assert!(during["oldest_enqueued_at"].is_string(), "{during}");
    let applied_before = backlog(&*store).await.applied;
    assert!(applied_before < OPERATIONS, "{during}");

    // ZITADEL comes back, slower (so that the outbox takes seconds to drain). As soon as the worker is applying the
    // backlog, with much of it still waiting, the server is killed: it holds claims on operations it was applying,
    // some perhaps already made in ZITADEL but not yet recorded as applied.
    sim.control().set_latency(Duration::from_millis(50));
    proxy.up().await;
    let started = Instant::now();
    let at_kill = loop {
        let now = backlog(&*store).await;
        if now.applied >= applied_before + 20 {
            server.kill();
            break backlog(&*store).await;
        }
        assert!(started.elapsed() < DEADLINE, "the outbox does not drain: {now:?}\n{}", server.log_tail());
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(at_kill.pending >= 50, "the outbox had all but drained before the kill: {at_kill:?}");
    assert_eq!(at_kill.applied + at_kill.pending, OPERATIONS, "{at_kill:?}");
    drop(server);

    // Started again on the same configuration, it finishes the work: the killed process's claims are taken over.
    sim.control().set_latency(Duration::ZERO);
    let server = Server::start(directory, &address).await;
    let restarted = Instant::now();
    loop {
        let now = backlog(&*store).await;
        if now.pending == 0 {
            break;
        }
        if restarted.elapsed() >= DEADLINE {
            let left = store.list_provisioning_operations(None, false, 1_000).await.unwrap();
            let unfailed = left.iter().filter(|operation| operation.attempts == 0).count();
            panic!(
                "{} operations ({unfailed} of them with no failed attempt) of {} users still wait {DEADLINE:?} after the \
                 restart with ZITADEL up (at the kill: {at_kill:?}); the first: {:#?}\n{}",
                left.len(),
                left.iter().map(|operation| &operation.scim_user_id).collect::<BTreeSet<_>>().len(),
                left.iter()
                    .take(5)
                    .map(|operation| (operation.id, operation.kind, operation.attempts, operation.next_attempt_at))
                    .collect::<Vec<_>>(),
                server.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The operator sees it recover: nothing waiting or parked, every operation applied once.
    let after = status(directory).await;
    assert_eq!((after["pending"].as_u64(), after["parked"].as_u64()), (Some(0), Some(0)), "{after}");
    assert_eq!(after["applied"].as_u64(), Some(OPERATIONS), "{after}");
    assert!(after["oldest_enqueued_at"].is_null() && after["last_applied_at"].is_string(), "{after}");
    assert_eq!(after["parked_operations"], json!([]), "{after}");

    // ZITADEL: each user once, with its externalId, its last write's state, having gone through its writes' states
    // in order and each once (replays after the crash change nothing).
    sim.control().with_estate(|estate| {
        for index in 0..USERS {
            let name = user_name(index);
            let found: Vec<&zitadel_sim::User> = estate
                .users()
                .filter(|user| user.org_id == org && user.user_name.eq_ignore_ascii_case(&name))
                .collect();
            assert_eq!(found.len(), 1, "{name}: {found:#?}");
            let user = found[0];
            let wanted = Write::states(index);
            let human = user.human().unwrap();
            let last = wanted.last().unwrap();
            assert_eq!((&human.display_name, user.state == UserState::Active), (&last.0, last.1), "{name}");
            let external_ids: Vec<&[u8]> = estate
                .user_metadata()
                .filter(|entry| {
                    entry.user_id == user.id && entry.key == warden::app::provisioning::EXTERNAL_ID_METADATA_KEY
                })
                .map(|entry| entry.value.as_slice())
                .collect();
            assert_eq!(external_ids, vec![format!("ext-{index}").as_bytes()], "{name}");

            let mut visited: Vec<Look> = Vec::new();
            let mut state: Option<Look> = None;
            for event in estate.events().iter().filter(|event| event.aggregate_id == user.id) {
                let display_name = event.payload["displayName"].as_str();
                state = match (event.event_type.as_str(), state) {
                    ("user.human.added", _) => Some((display_name.unwrap().to_owned(), true)),
                    ("user.human.profile.changed", Some((_, active))) => {
                        Some((display_name.unwrap().to_owned(), active))
                    }
                    ("user.deactivated", Some((shown, _))) => Some((shown, false)),
                    ("user.reactivated", Some((shown, _))) => Some((shown, true)),
                    (_, unchanged) => unchanged,
                };
                if let Some(state) = &state
                    && visited.last() != Some(state)
                {
                    visited.push(state.clone());
                }
            }
            assert_eq!(visited, wanted, "{name}: the states ZITADEL went through");
        }
    });
    drop(server);
    drop(store);
}
