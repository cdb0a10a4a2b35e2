//! ZITADEL's Actions v2 calling `warden serve` (issue #18, push as well as pull): the simulator, told to call
//! warden's target for user events, makes a changed user appear in the store within 5 s although the next
//! scheduled sync is an hour away; unsigned, wrongly signed, stale and replayed calls are refused with 401 and a
//! warn line naming the reason, and request no sync; hostile bodies get a 4xx, never a 5xx. On SQLite and
//! PostgreSQL, through the real binary.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderValue;
use time::macros::datetime;
use warden::config::DatabaseUrl;
use warden::store::{self, Store};
use warden_core::id::EnvironmentName;
use warden_core::model::{SyncMode, UserKind};
use zitadel_sim::{Estate, NewHumanUser, Simulator, SimulatorOptions, action_event_body, actions_signature};

use crate::serve::Server;
use crate::support::postgres_admin_url;
use crate::sync_cli::PAT;

/// The signing key ZITADEL would have generated for warden's target.
const KEY: &str = "Zk7pQ2vX9mLr4TtYb3Nc8HwE5sJd1FgU";

fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

fn unix_now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// `prod` takes pushes; `stage`, configured without a signing key, does not. Both sync hourly.
fn write_config(directory: &Path, database: &str, sim: &Simulator) {
    let environment = |name: &str| {
        format!(
            "[[environments]]\nname = \"{name}\"\nurl = \"{}\"\ncredential = {{ pat_env = \"SIM_PAT\" }}\n\
             rate_limit = 0\nsync_interval = \"1h\"\n",
            sim.base_url()
        )
    };
    let config = format!(
        "[database]\nurl = \"{database}\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n\n{}\
         actions_signing_key = {{ env = \"PROD_ACTIONS_KEY\" }}\n\n{}",
        environment("prod"),
        environment("stage")
    );
    std::fs::write(directory.join("warden.toml"), config).unwrap();
}

async fn email_of(store: &dyn Store, user: &str) -> Option<String> {
    let user = store.observed_user(&prod(), user).await.unwrap()?;
    match user.kind {
        UserKind::Human(human) => Some(human.email),
        UserKind::Machine(_) => None,
    }
}

/// Posts `body` to `path` with these headers; the status and the body's `error`.
async fn call(address: &str, path: &str, body: Vec<u8>, signature: Option<HeaderValue>) -> (u16, String) {
    let mut request = reqwest::Client::new().post(format!("{address}{path}")).body(body);
    if let Some(signature) = signature {
        request = request.header("ZITADEL-Signature", signature);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    let body: serde_json::Value = reply.json().await.unwrap_or_default();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

fn signed(key: &str, timestamp: i64, body: &[u8]) -> Option<HeaderValue> {
    Some(HeaderValue::from_str(&actions_signature(key, timestamp, body)).unwrap())
}

async fn pushes_sync_now_and_bad_calls_are_refused(database: &str, store: Arc<dyn Store>) {
    let mut estate = Estate::minimal(datetime!(2026-11-01 12:00 UTC));
    let editor = estate.warden_user_id().to_owned();
    let org = estate.platform_org_id().to_owned();
    let ada = NewHumanUser::new("ada", "Ada", "Lovelace", "ada@example.com");
    let user = estate.add_human_user(&editor, &org, ada).unwrap();
    let sim = Simulator::start(SimulatorOptions::new(estate, PAT), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    write_config(directory.path(), database, &sim);
    let server = Server::start_with(directory.path(), &[("PROD_ACTIONS_KEY", KEY)]);
    let address = server.address().await;
    let target = "/zitadel/actions/prod";

    // The baseline sync, finished.
    let started = Instant::now();
    loop {
        let runs = store.list_sync_runs(&prod(), 10).await.unwrap();
        if email_of(&*store, &user).await.is_some() && runs.iter().all(|run| run.finished_at.is_some()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no baseline: {:?}", server.log.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // An event body as ZITADEL sends it, for calls made by hand.
    let body = sim.control().with_estate(|estate| action_event_body(estate, estate.events().last().unwrap()));
    let now = unix_now();
    let refusals = [
        (None, "unsigned"),
        (signed("not-the-key", now, &body), "wrong signature"),
        (signed(KEY, now - 600, &body), "stale timestamp"),
        (signed(KEY, now + 600, &body), "stale timestamp"),
        (Some(HeaderValue::from_bytes(b"t=1,v1=\xff").unwrap()), "malformed signature header"),
    ];
    for (signature, reason) in refusals {
        assert_eq!(call(&address, target, body.clone(), signature).await, (401, reason.to_owned()));
    }

    // Hostile input: a 4xx, never a 5xx.
    let huge = vec![b' '; 300 * 1024];
    assert_eq!(call(&address, target, huge.clone(), signed(KEY, now, &huge)).await.0, 413);
    let not_json = b"<xml/>".to_vec();
    assert_eq!(call(&address, target, not_json.clone(), signed(KEY, now, &not_json)).await.0, 400);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    assert_eq!(call(&address, target, deep.clone(), signed(KEY, now, &deep)).await.0, 400);
    let deep_inside = format!("{{\"x\":{}{}}}", "{\"a\":".repeat(20_000), "}".repeat(20_000)).into_bytes();
    assert_eq!(call(&address, target, deep_inside.clone(), signed(KEY, now, &deep_inside)).await.0, 400);
    assert_eq!(call(&address, target, deep_inside, None).await.0, 401);
    let no_event = b"{\"fullMethod\":\"/zitadel.user.v2.UserService/AddHumanUser\"}".to_vec();
    assert_eq!(call(&address, target, no_event.clone(), signed(KEY, now, &no_event)).await.0, 400);
    for path in ["/zitadel/actions/stage", "/zitadel/actions/nowhere", "/zitadel/actions/..%2fprod"] {
        assert_eq!(call(&address, path, body.clone(), signed(KEY, now, &body)).await.0, 404, "{path}");
    }
    let get = reqwest::get(format!("{address}{target}")).await.unwrap();
    assert_eq!(get.status().as_u16(), 405);

    // The push: ZITADEL (the simulator) calls warden for each user event; a changed email is in the store in
    // under 5 s, although the next scheduled sync is an hour away.
    sim.control().add_action_target(format!("{address}{target}"), KEY, vec!["user.*".to_owned()]);
    let changed = Instant::now();
    sim.control()
        .with_estate(|estate| estate.set_user_email(&editor, &user, "ada.lovelace@example.com", false))
        .unwrap();
    while email_of(&*store, &user).await.as_deref() != Some("ada.lovelace@example.com") {
        assert!(changed.elapsed() < Duration::from_secs(5), "not pushed within 5 s: {:?}", server.log.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Without a full sync: the run that picked the change up read the events since the baseline.
    let runs = store.list_sync_runs(&prod(), 10).await.unwrap();
    let (baseline, later) = runs.split_last().unwrap();
    assert_eq!(baseline.mode, SyncMode::Full);
    let pushed: Vec<_> = later.iter().filter(|run| run.finished_at.is_some()).collect();
    assert!(!pushed.is_empty());
    for run in pushed {
        assert_eq!(run.mode, SyncMode::Incremental, "{}", run.mode_reason);
        assert!(run.requests < 20, "{} requests", run.requests);
    }

    // A call accepted once is refused when it comes again.
    let accepted = signed(KEY, unix_now(), &body);
    assert_eq!(call(&address, target, body.clone(), accepted.clone()).await, (200, String::new()));
    assert_eq!(call(&address, target, body.clone(), accepted).await, (401, "replayed".to_owned()));

    // Each refusal is a warn line naming its reason; only the two accepted calls asked for a sync, each naming
    // its event; the key is never written.
    let deadline = Instant::now() + Duration::from_secs(5);
    let log = loop {
        let log = server.log.lock().unwrap().clone();
        if log.iter().any(|line| line.contains("replayed")) || Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    for reason in ["unsigned", "wrong signature", "stale timestamp", "malformed signature header", "replayed"] {
        assert!(
            log.iter().any(|line| line.contains("WARN")
                && line.contains("refused a ZITADEL Actions call")
                && line.contains(reason)),
            "no warn line for {reason}: {log:#?}"
        );
    }
    let pushes: Vec<&String> = log.iter().filter(|line| line.contains("ZITADEL pushed an event")).collect();
    assert_eq!(pushes.len(), 2, "{log:#?}");
    assert!(pushes[0].contains("user.human.email.changed") && pushes[0].contains(&user), "{pushes:#?}");
    assert!(log.iter().all(|line| !line.contains(KEY)), "the key was logged");
}

#[tokio::test]
async fn actions_push_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let store = store::open_and_migrate(&url).await.unwrap();
    pushes_sync_now_and_bad_calls_are_refused(url.expose(), store).await;
}

#[tokio::test]
async fn actions_push_on_postgres() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("WARDEN_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    };
    let scratch = store::create_scratch_database(&admin, "warden_test").await.unwrap();
    let store = store::open_and_migrate(&scratch).await.unwrap();
    pushes_sync_now_and_bad_calls_are_refused(scratch.expose(), store.clone()).await;
    drop(store);
    store::drop_scratch_database(&admin, &scratch).await.unwrap();
}
