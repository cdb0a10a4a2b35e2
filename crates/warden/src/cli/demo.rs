//! `warden demo`: a simulated ZITADEL estate synced into an embedded store and reported on, with nothing to set up.

use std::process::ExitCode;

use clap::Args;
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};
use warden_core::id::EnvironmentName;
use warden_core::model::{ApiVersion, ChangeKind, Environment, ResourceKind};
use warden_zitadel::{ClientOptions, Credential, ZitadelClient};
use zitadel_sim::{Estate, NO_EXPIRY, Simulator, SimulatorOptions};

use crate::cli::{changes, table};
use crate::config::DatabaseUrl;
use crate::store::{self, ChangeQuery, Store};
use crate::sync::{SyncOutcome, sync_once};
use warden_core::posture::{self, Policy};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the synced data in this database instead of a temporary SQLite file
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

const DEMO_PAT: &str = "warden-demo-pat";

pub(super) async fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    #[allow(clippy::disallowed_methods, reason = "the demo's estate and runs are dated by the real clock")]
    let now = OffsetDateTime::now_utc();
    let estate = Estate::seed(now);
    let counts = estate.counts();
    let sim = Simulator::start(SimulatorOptions::new(estate, DEMO_PAT), "127.0.0.1:0".parse()?).await?;
    let directory = tempfile::tempdir()?;
    let url = match &args.database {
        Some(url) => DatabaseUrl::new(url.clone()),
        None => DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden-demo.db").display())),
    };
    let store = store::open_and_migrate(&url).await?;
    let environment = Environment {
        name: EnvironmentName::parse("demo")?,
        url: sim.base_url(),
        credential_reference: "pat:simulator".to_owned(),
        orgs: Vec::new(),
        sync_interval_seconds: 900,
        api: ApiVersion::Auto,
        labels: Default::default(),
    };
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(DEMO_PAT)));
    options.rate_limit = 0;
    let client = ZitadelClient::new(options)?;

    println!(
        "warden demo: a simulated ZITADEL with {} organizations, {} humans and {} service accounts at {}",
        counts.orgs,
        counts.human_users,
        counts.machine_users,
        sim.base_url()
    );
    println!("store: {url}\n");

    println!("1. First sync: everything is read into the store.");
    let first = sync_once(&environment, &client, &*store, now).await?;
    print!("{}", outcome_table(&first));

    println!("\n2. Meanwhile in ZITADEL, an administrator makes the changes nobody reviews:");
    for line in drift(&sim) {
        println!("   - {line}");
    }

    println!("\n3. Second sync: warden records every difference, and who made it.");
    let second = sync_once(&environment, &client, &*store, now + Duration::minutes(15)).await?;
    print!("{}", outcome_table(&second));
    print_changes(&*store, &second).await?;

    println!("\n4. Findings: what an identity team should act on (rules in docs/rules.md).");
    let snapshot = store.load_snapshot(&environment.name).await?;
    let findings = posture::evaluate(&environment.name, &snapshot, &Policy::default(), now + Duration::minutes(15));
    print!("{}", findings_summary(&findings));
    println!(
        "\nNext: the findings lifecycle, alerts, SCIM provisioning and the web workspace build on this store.\n\
         Against a real ZITADEL: put an [[environments]] entry in warden.toml (see warden.example.toml), then run\n\
         `warden sync` and `warden changes`."
    );
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn outcome_table(outcome: &SyncOutcome) -> String {
    let count = |kind| outcome.run.counts.get(&kind).copied().unwrap_or_default().to_string();
    let rows = vec![vec![
        outcome.run.status.to_string(),
        format!("{:.1}s", outcome.duration.as_secs_f64()),
        outcome.run.requests.to_string(),
        count(ResourceKind::Org),
        count(ResourceKind::User),
        count(ResourceKind::Project),
        count(ResourceKind::UserGrant),
        count(ResourceKind::MachineKey),
        count(ResourceKind::PersonalAccessToken),
        outcome.added.to_string(),
        outcome.removed.to_string(),
        outcome.modified.to_string(),
    ]];
    let header = [
        "status", "took", "requests", "orgs", "users", "projects", "grants", "keys", "pats", "added", "removed",
        "modified",
    ];
    table::render(&header, &rows).lines().map(|line| format!("   {line}\n")).collect()
}

/// A week of unreviewed changes, made by a human administrator of the platform organization.
fn drift(sim: &Simulator) -> Vec<String> {
    sim.control().with_estate(|estate| {
        let platform = estate.platform_org_id().to_owned();
        let editor = estate
            .users()
            .find(|user| user.org_id == platform && matches!(user.kind, zitadel_sim::UserKind::Human(_)))
            .map_or_else(|| estate.warden_user_id().to_owned(), |user| user.id.clone());
        let customer = estate.orgs().find(|org| org.id != platform).map(|org| org.id.clone()).unwrap_or(platform);
        let mut done = Vec::new();
        if let Ok(bot) = estate.add_machine_user(&editor, &customer, "hotfix-bot", "Hotfix bot", "") {
            let scope = zitadel_sim::MembershipScope::Org { org_id: customer.clone() };
            if estate.add_membership(&editor, &bot, scope, vec!["ORG_OWNER".to_owned()]).is_ok() {
                done.push(format!(
                    "created service account hotfix-bot (no description) as ORG_OWNER of org {customer}"
                ));
            }
            if estate.add_machine_key(&editor, &bot, NO_EXPIRY).is_ok() {
                done.push("gave it a key that never expires".to_owned());
            }
        }
        let active_human = estate
            .users()
            .find(|user| {
                user.org_id == customer
                    && user.state == zitadel_sim::UserState::Active
                    && matches!(user.kind, zitadel_sim::UserKind::Human(_))
            })
            .map(|user| user.id.clone());
        if let Some(user) = active_human
            && estate.deactivate_user(&editor, &user).is_ok()
        {
            done.push(format!("deactivated user {user}"));
        }
        let role = estate.project_roles().next().map(|role| (role.project_id.clone(), role.key.clone()));
        if let Some((project, key)) = role
            && estate.remove_project_role(&editor, &project, &key).is_ok()
        {
            done.push(format!("removed role {key} from project {project} (and from every grant holding it)"));
        }
        done
    })
}

async fn print_changes(store: &dyn Store, outcome: &SyncOutcome) -> anyhow::Result<()> {
    let query = ChangeQuery { environment: Some(outcome.run.environment.clone()), ..ChangeQuery::default() };
    let mut recorded: Vec<_> =
        store.list_changes(&query).await?.into_iter().filter(|change| change.run_id == outcome.run.id).collect();
    // Additions and removals first: they are rarer and say more than the cascade of modified grants.
    recorded.sort_by_key(|change| (change.kind != ChangeKind::Added, change.kind != ChangeKind::Removed));
    let shown = recorded.len().min(12);
    let rows: Vec<Vec<String>> = recorded[..shown]
        .iter()
        .map(|change| {
            vec![
                change.kind.to_string(),
                change.object_kind.to_string(),
                change.object_key.clone(),
                changes::actor(change),
                changes::modified_fields(change),
            ]
        })
        .collect();
    let table = table::render(&["change", "type", "object", "by", "fields"], &rows);
    print!("{}", table.lines().map(|line| format!("   {line}\n")).collect::<String>());
    if recorded.len() > shown {
        println!("   ... and {} more (warden changes lists them all)", recorded.len() - shown);
    }
    Ok(())
}

/// Findings per rule, highest severity first, with an example subject and what to do.
fn findings_summary(findings: &[posture::Finding]) -> String {
    let mut per_rule: Vec<(&posture::Finding, usize)> = Vec::new();
    for finding in findings {
        match per_rule.iter_mut().find(|(first, _)| first.rule == finding.rule) {
            Some((_, count)) => *count += 1,
            None => per_rule.push((finding, 1)),
        }
    }
    let rows: Vec<Vec<String>> = per_rule
        .iter()
        .map(|(first, count)| {
            vec![first.severity.to_string(), first.rule.to_owned(), count.to_string(), first.message.clone()]
        })
        .collect();
    let table = table::render(&["severity", "rule", "subjects", "for example"], &rows);
    let mut out: String = table.lines().map(|line| format!("   {line}\n")).collect();
    if let Some((first, _)) = per_rule.first() {
        out.push_str(&format!("   what to do about {}: {}\n", first.rule, first.remediation));
    }
    out
}
