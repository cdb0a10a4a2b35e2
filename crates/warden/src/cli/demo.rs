//! `warden demo`: a simulated ZITADEL estate synced into an embedded store and reported on, with nothing to set up.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use time::Duration;
use warden_core::health::ProviderHealth;
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::model::{ChangeKind, ResourceKind};
use warden_core::posture;
use warden_zitadel::{ClientOptions, Credential, ZitadelClient};
use zitadel_sim::{Estate, NO_EXPIRY, ProbeProviders, Simulator, SimulatorOptions};

use crate::app::health::probe_environment;
use crate::app::history::changes as list_changes;
use crate::app::report::{Report, report_on};
use crate::app::scim_admin::{ConnectionOptions, issue_connection};
use crate::app::sync::{SyncRequest, sync_environment};
use crate::app::{App, Clock, FixedClock, Settings, SystemClock};
use crate::cli::output::{out, outln};
use crate::cli::{changes, serve, table};
use crate::config::{Config, CredentialConfig, DatabaseUrl, EnvironmentConfig, SeverityName};
use crate::server;
use crate::store::{self, ChangeQuery, ScimConnectionKind, ScimTenant};
use crate::sync::SyncOutcome;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the synced data in this database instead of a temporary SQLite file
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Afterwards, serve the demo store on this address (SCIM with a demo connection, health) until Ctrl-C
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

const DEMO_PAT: &str = "warden-demo-pat";
const DEMO_ENVIRONMENT: &str = "demo";

pub(super) async fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let now = clock.now();
    let estate = Estate::seed(now);
    let counts = estate.counts();
    let mut options = SimulatorOptions::new(estate, DEMO_PAT);
    // Identity providers of every kind whose endpoints the simulator serves: healthy, slow, broken, expiring.
    options.probe_providers = Some(ProbeProviders { slow_latency: std::time::Duration::from_millis(400) });
    let sim = Simulator::start(options, "127.0.0.1:0".parse()?).await?;
    let directory = tempfile::tempdir()?;
    let url = match &args.database {
        Some(url) => DatabaseUrl::new(url.clone()),
        None => DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden-demo.db").display())),
    };
    let mut settings = Settings::from_config(&demo_config(url.clone(), sim.base_url()))?;
    // The slow provider answers after 400 ms (a demo does not wait 2 s); the local endpoints within a few.
    settings.governance.health.latency_threshold = std::time::Duration::from_millis(300);
    let store = store::open_and_migrate(&url).await?;
    let app = App::new(settings, store, clock.clone());
    let environment = EnvironmentName::parse(DEMO_ENVIRONMENT)?;
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(DEMO_PAT)));
    options.rate_limit = 0;
    app.use_zitadel_client(environment.clone(), ZitadelClient::new(options)?);

    outln!(
        "warden demo: a simulated ZITADEL with {} organizations, {} humans and {} service accounts at {}",
        counts.orgs,
        counts.human_users,
        counts.machine_users,
        sim.base_url()
    )?;
    outln!("store: {url}\n")?;

    outln!("1. First sync: everything is read into the store, and governed.")?;
    let first = sync_environment(&app, &environment, SyncRequest::default()).await?;
    let governed = first.governed.clone().unwrap_or_default();
    out!("{}", outcome_table(&first.outcome))?;

    outln!("\n2. Meanwhile in ZITADEL, an administrator makes the changes nobody reviews:")?;
    for line in drift(&sim) {
        outln!("   - {line}")?;
    }

    clock.advance(Duration::minutes(15));
    outln!("\n3. Second sync: warden records every difference, and who made it.")?;
    let second = sync_environment(&app, &environment, SyncRequest::default()).await?;
    let regoverned = second.governed.clone().unwrap_or_default();
    out!("{}", outcome_table(&second.outcome))?;
    print_changes(&app, &second.outcome).await?;

    outln!("\n4. Provider health: ZITADEL and the identity providers it federates, probed now.")?;
    // Probes talk to live endpoints (ZITADEL's clock among them): from here on the demo runs in real time.
    let app = App::new(app.settings().clone(), app.store().clone(), Arc::new(SystemClock));
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(DEMO_PAT)));
    options.rate_limit = 0;
    app.use_zitadel_client(environment.clone(), ZitadelClient::new(options)?);
    let round = probe_environment(&app, &environment).await?;
    out!("{}", providers_table(&round.providers))?;

    outln!("\n5. Findings: what an identity team should act on (rules in docs/rules.md).")?;
    let report = report_on(&app, std::slice::from_ref(&environment)).await?;
    out!("{}", findings_summary(&report))?;
    outln!(
        "   tracked: {} open after the first sync, {} new and {} resolved after the second; {} high-severity alerts open",
        governed.findings,
        regoverned.findings_opened,
        regoverned.findings_resolved,
        (governed.alerts_opened + regoverned.alerts_opened).saturating_sub(regoverned.alerts_resolved),
    )?;

    outln!("\n6. The riskiest service accounts (score 0-100, formula in docs/risk-score.md):")?;
    out!("{}", riskiest_accounts(&report, 5))?;

    match args.listen {
        Some(listen) => serve_demo(&app, &sim, listen).await?,
        None => outln!(
            "\nNext: `warden demo --listen 127.0.0.1:8080` serves this store (SCIM with a demo connection).\n\
             Against a real ZITADEL: put an [[environments]] entry in warden.toml (see warden.example.toml), then run\n\
             `warden sync`, `warden report`, `warden findings`, `warden alerts list`, `warden trends` and\n\
             `warden access who --project NAME --role KEY --at 2026-11-01`."
        )?,
    }
    sim.shutdown().await;
    app.store().close().await?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's configuration: one environment, the simulator, no rate limit, alerts for high findings only. Its
/// credential is handed to the client directly (the variable it names is never read).
fn demo_config(database: DatabaseUrl, simulator_url: String) -> Config {
    let mut config = Config::default();
    config.database.url = database;
    config.governance.alert_min_severity = SeverityName::High;
    // The simulated providers live on 127.0.0.1, and its Entra ID tenant under the simulator.
    config.probes.allow_private = true;
    config.probes.azure_authority = format!("{simulator_url}/__idp/azure");
    let mut environment: EnvironmentConfig = EnvironmentConfig::new(DEMO_ENVIRONMENT, simulator_url);
    environment.credential = CredentialConfig { pat_env: Some("WARDEN_DEMO_PAT".to_owned()), ..Default::default() };
    environment.rate_limit = 0;
    config.environments.push(environment);
    config
}

/// Serves the demo store until Ctrl-C, with a SCIM connection into the first customer organization.
async fn serve_demo(app: &App, sim: &Simulator, listen: SocketAddr) -> anyhow::Result<()> {
    let org_id = sim.control().with_estate(|estate| {
        let platform = estate.platform_org_id().to_owned();
        estate.orgs().find(|org| org.id != platform).map_or(platform, |org| org.id.clone())
    });
    let tenant = ScimTenant { environment: EnvironmentName::parse(DEMO_ENVIRONMENT)?, org_id: OrgId::parse(org_id)? };
    let issued =
        issue_connection(app, tenant, "demo", ConnectionOptions::without_provisioning(ScimConnectionKind::Generic))
            .await?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let base_url = format!("http://{address}/scim/v2/{}", issued.connection.tenant.org_id);
    let announcement = format!(
        "\nServing the demo store on http://{address} until Ctrl-C:\n   \
         health:     http://{address}/healthz\n   \
         SCIM 2.0:   {base_url}  (a demo connection; its bearer token is below)\n   \
         token:      {}\n   \
         try:        curl -H 'Authorization: Bearer <token>' '{base_url}/Users?count=5'\n",
        issued.token.expose_secret()
    );
    // One write, and a reader that went away (`| head`) does not stop the server.
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(announcement.as_bytes()).and_then(|()| stdout.flush()).is_err() {
        tracing::warn!("stdout is closed; serving anyway");
    }
    drop(stdout);
    // The URLs the SCIM server hands out name the address it listens on.
    let mut settings = app.settings().clone();
    settings.listen = address;
    settings.scim.public_base_url = format!("http://{address}");
    let app = App::new(settings, app.store().clone(), app.clock().clone());
    server::serve(listener, server::build(&app), serve::shutdown_signal()).await.context("the server failed")?;
    Ok(())
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

async fn print_changes(app: &App, outcome: &SyncOutcome) -> anyhow::Result<()> {
    let query = ChangeQuery { environment: Some(outcome.run.environment.clone()), ..ChangeQuery::default() };
    let mut recorded: Vec<_> =
        list_changes(app, &query).await?.into_iter().filter(|change| change.run_id == outcome.run.id).collect();
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
    out!("{}", table.lines().map(|line| format!("   {line}\n")).collect::<String>())?;
    if recorded.len() > shown {
        outln!("   ... and {} more (warden changes lists them all)", recorded.len() - shown)?;
    }
    Ok(())
}

/// Each probed target's status, and why when it is not healthy.
fn providers_table(providers: &[ProviderHealth]) -> String {
    let rows: Vec<Vec<String>> = providers
        .iter()
        .map(|provider| {
            vec![
                provider.status.as_str().to_owned(),
                provider.target.name.clone(),
                provider.target.type_name().to_owned(),
                // The status's reason and, when a probe failed, the first check that failed.
                provider.reasons.iter().take(2).cloned().collect::<Vec<_>>().join("; "),
            ]
        })
        .collect();
    let table = table::render(&["status", "target", "type", "why"], &rows);
    table.lines().map(|line| format!("   {line}\n")).collect()
}

/// Findings per rule, highest severity first, with an example subject and what to do.
fn findings_summary(report: &Report) -> String {
    let mut per_rule: Vec<(&posture::Finding, usize)> = Vec::new();
    for finding in report.findings.iter().map(|reported| &reported.finding) {
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

/// The `count` highest-scored service accounts and what scored them.
fn riskiest_accounts(report: &Report, count: usize) -> String {
    let rows: Vec<Vec<String>> = report
        .service_accounts
        .iter()
        .take(count)
        .map(|account| {
            let factors: Vec<String> =
                account.risk.factors.iter().map(|factor| format!("+{} {}", factor.points, factor.id)).collect();
            vec![account.risk.score.to_string(), account.username.clone(), factors.join(", ")]
        })
        .collect();
    let table = table::render(&["risk", "service account", "why"], &rows);
    table.lines().map(|line| format!("   {line}\n")).collect()
}
