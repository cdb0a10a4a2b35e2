//! Store benchmark: 10,000 users upserted in one call, on SQLite and PostgreSQL.
//!
//! `cargo bench --bench store_upsert`. PostgreSQL runs on a scratch database beside
//! `WARDEN_BENCH_DATABASE_URL` (else `WARDEN_TEST_DATABASE_URL`), and is skipped when neither is set.
//! Prints the median and best of several rounds for: a first insert into an empty table, a re-upsert of the same
//! 10,000 users (every row conflicts and is rewritten), and listing them back.

use std::time::{Duration, Instant};

use warden::config::DatabaseUrl;
use warden::store::{self, Store};
use warden_core::id::{EnvironmentName, OrgId, UserId};
use warden_core::model::{
    AccessTokenType, ApiVersion, Environment, HumanProfile, MachineProfile, ObjectBatch, ResourceKind, User, UserKind,
    UserState,
};

const USERS: usize = 10_000;
const ROUNDS: usize = 5;

fn users(count: usize) -> anyhow::Result<Vec<User>> {
    let org_id = OrgId::parse("300000000000000001")?;
    let created = time::macros::datetime!(2025-11-02 09:12:44.518 UTC);
    (0..count)
        .map(|index| {
            let kind = if index % 10 == 0 {
                UserKind::Machine(MachineProfile {
                    name: format!("service {index}"),
                    description: "deploys".to_owned(),
                    has_secret: index % 20 == 0,
                    access_token_type: AccessTokenType::Bearer,
                })
            } else {
                UserKind::Human(HumanProfile {
                    given_name: "Jane".to_owned(),
                    family_name: format!("Doe {index}"),
                    display_name: format!("Jane Doe {index}"),
                    preferred_language: "en".to_owned(),
                    email: format!("jane.{index}@acme.example"),
                    email_verified: true,
                    ..HumanProfile::default()
                })
            };
            Ok(User {
                id: UserId::parse(format!("{}", 310_000_000_000_000_000_u64 + index as u64))?,
                org_id: org_id.clone(),
                username: format!("user.{index}"),
                preferred_login_name: format!("user.{index}@acme.zitadel.cloud"),
                state: UserState::Active,
                kind,
                created_at: Some(created),
                changed_at: Some(created),
            })
        })
        .collect()
}

struct Timings {
    insert: Vec<Duration>,
    reupsert: Vec<Duration>,
    list: Vec<Duration>,
}

async fn measure(store: &dyn Store, round: usize, batch: &ObjectBatch, timings: &mut Timings) -> anyhow::Result<()> {
    let environment = EnvironmentName::parse(format!("bench-{round}"))?;
    store
        .upsert_environment(&Environment {
            name: environment.clone(),
            url: "https://bench.zitadel.example".to_owned(),
            credential_reference: "pat_env:BENCH".to_owned(),
            orgs: Vec::new(),
            sync_interval_seconds: 900,
            api: ApiVersion::Auto,
            labels: Default::default(),
        })
        .await?;
    let started = Instant::now();
    store.upsert_objects(&environment, batch).await?;
    timings.insert.push(started.elapsed());
    let started = Instant::now();
    store.upsert_objects(&environment, batch).await?;
    timings.reupsert.push(started.elapsed());
    let started = Instant::now();
    let listed = store.list_objects(&environment, ResourceKind::User).await?;
    timings.list.push(started.elapsed());
    anyhow::ensure!(listed.len() == USERS, "listed {} users, expected {USERS}", listed.len());
    store.delete_environment(&environment).await?;
    Ok(())
}

fn summary(label: &str, dialect: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let best = samples[0];
    println!(
        "{dialect:<9} {label:<34} median {:>8.1} ms   best {:>8.1} ms   ({:.0} rows/s at median)",
        median.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3,
        USERS as f64 / median.as_secs_f64()
    );
}

async fn run(store: &dyn Store, batch: &ObjectBatch) -> anyhow::Result<()> {
    let mut timings = Timings { insert: Vec::new(), reupsert: Vec::new(), list: Vec::new() };
    for round in 0..ROUNDS {
        measure(store, round, batch, &mut timings).await?;
    }
    let dialect = store.dialect();
    summary("upsert 10,000 users (empty table)", dialect, timings.insert);
    summary("upsert 10,000 users (all replaced)", dialect, timings.reupsert);
    summary("list 10,000 users", dialect, timings.list);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let batch = ObjectBatch::Users(users(USERS)?);
    println!("store_upsert: {USERS} users, {ROUNDS} rounds each");

    let directory = tempfile::tempdir()?;
    let sqlite = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("bench.db").display()));
    run(&*store::open_and_migrate(&sqlite).await?, &batch).await?;

    let admin = std::env::var("WARDEN_BENCH_DATABASE_URL").or_else(|_| std::env::var("WARDEN_TEST_DATABASE_URL"));
    match admin {
        Ok(admin) => {
            let admin = DatabaseUrl::new(admin);
            let scratch = store::create_scratch_database(&admin, "warden_bench").await?;
            let outcome = async { run(&*store::open_and_migrate(&scratch).await?, &batch).await }.await;
            store::drop_scratch_database(&admin, &scratch).await?;
            outcome?;
        }
        Err(_) => println!("postgres  skipped: set WARDEN_BENCH_DATABASE_URL or WARDEN_TEST_DATABASE_URL"),
    }
    Ok(())
}
