//! `warden sync`: every configured environment (or one), in parallel, with a progress line each on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use time::OffsetDateTime;
use warden_core::id::EnvironmentName;
use warden_core::model::{ResourceKind, SyncStatus};
use warden_core::reconcile::RemovalGuard;

use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, selected_environments, table, zitadel_client};
use crate::config::Config;
use crate::govern::{GovernanceSettings, govern_once, notify};
use crate::store::{self, Store};
use crate::sync::{SyncOptions, SyncOutcome, sync_once};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Record every removal this run finds, even more than an environment's `removal_guard_percent` allows (after
    /// checking that the deletions in ZITADEL are real)
    #[arg(long)]
    accept_removals: bool,
}

/// One environment's result, with the user split the summary shows.
struct Summary {
    name: String,
    outcome: SyncOutcome,
    human_users: u64,
    machine_users: u64,
}

pub(super) async fn run(config: &Config, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let environments = selected_environments(config, args.env.as_deref())?;
    anyhow::ensure!(
        !environments.is_empty(),
        "no environments are configured: add [[environments]] to the configuration"
    );
    let store: Arc<dyn Store> = store::open_and_migrate(&config.database.url).await?;
    let settings = Arc::new(governance_settings(config));
    let show_progress = args.format == OutputFormat::Table && std::io::stderr().is_terminal();
    let bars = MultiProgress::new();

    let mut runs = tokio::task::JoinSet::new();
    for environment in environments {
        let client = zitadel_client(environment)?;
        let model = environment.to_environment().map_err(|(field, message)| anyhow::anyhow!("{field}: {message}"))?;
        let bar = show_progress.then(|| progress_bar(&bars, &model.name.to_string()));
        let store = store.clone();
        let settings = settings.clone();
        let options = SyncOptions {
            removal_guard: (!args.accept_removals)
                .then_some(RemovalGuard { max_percent: environment.removal_guard_percent, ..RemovalGuard::default() }),
        };
        runs.spawn(async move {
            let ticker = bar.clone().map(|bar| {
                let stats = client.stats();
                tokio::spawn(async move {
                    loop {
                        bar.set_message(format!("{} requests, {} retries", stats.requests(), stats.retries()));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                })
            });
            #[allow(clippy::disallowed_methods, reason = "the command's entry point dates the run")]
            let now = OffsetDateTime::now_utc();
            let outcome = sync_once(&model, &client, &*store, options, now).await;
            // Findings, trends and alerts follow every run that stored something; a failure here is logged, not a
            // failed sync (the next run evaluates again).
            if let Ok(synced) = &outcome
                && synced.run.status != SyncStatus::Failed
                && let Err(error) = govern_once(&model.name, synced.run.id, &*store, &settings, now).await
            {
                tracing::error!(environment = %model.name, %error, "cannot evaluate findings");
            }
            if let Some(ticker) = ticker {
                ticker.abort();
            }
            if let (Some(bar), Ok(outcome)) = (&bar, &outcome) {
                bar.finish_with_message(format!(
                    "{}: {} requests, +{} -{} ~{}",
                    outcome.run.status, outcome.run.requests, outcome.added, outcome.removed, outcome.modified
                ));
            }
            (model.name.to_string(), outcome)
        });
    }
    let mut summaries = Vec::new();
    while let Some(joined) = runs.join_next().await {
        let (name, outcome) = joined?;
        let outcome = outcome?;
        let machine_users = outcome.machine_users;
        let human_users = count(&outcome, ResourceKind::User).saturating_sub(machine_users);
        summaries.push(Summary { name, outcome, human_users, machine_users });
    }
    summaries.sort_by(|a, b| a.name.cmp(&b.name));
    deliver_notifications(&*store, config).await;

    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&summary_json(&summaries))?)?,
        OutputFormat::Table => out!("{}", summary_table(&summaries))?,
    }
    let worst = summaries.iter().map(|summary| &summary.outcome.run.status).fold(0, |worst, status| {
        worst.max(match status {
            SyncStatus::Ok => 0,
            SyncStatus::Partial => 1,
            _ => 2,
        })
    });
    Ok(ExitCode::from(worst))
}

/// The policy, alert threshold and webhooks of `[governance]`.
pub(super) fn governance_settings(config: &Config) -> GovernanceSettings {
    GovernanceSettings {
        policy: config.governance.policy.policy(),
        alert_min_severity: config.governance.alert_min_severity.severity(),
        webhooks: config.governance.webhooks.clone(),
        environments: config
            .environments
            .iter()
            .filter_map(|environment| EnvironmentName::parse(&environment.name).ok())
            .collect(),
    }
}

/// One round of webhook delivery after the sync (its results are already stored, so a slow or failing endpoint
/// delays nothing but its own notifications, which the next run retries).
pub(super) async fn deliver_notifications(store: &dyn Store, config: &Config) {
    if config.governance.webhooks.is_empty() {
        return;
    }
    let http = match reqwest::Client::builder().build() {
        Ok(http) => http,
        Err(error) => return tracing::error!(%error, "cannot build the webhook client"),
    };
    #[allow(clippy::disallowed_methods, reason = "delivery is dated by the command's entry point")]
    let now = OffsetDateTime::now_utc();
    match notify::deliver_due(store, &config.governance.webhooks, &http, now).await {
        Ok(outcome) => tracing::info!(?outcome, "notifications"),
        Err(error) => tracing::error!(%error, "cannot deliver notifications"),
    }
}

fn progress_bar(bars: &MultiProgress, name: &str) -> ProgressBar {
    let bar = bars.add(ProgressBar::new_spinner());
    let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_prefix(name.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn count(outcome: &SyncOutcome, kind: ResourceKind) -> u64 {
    outcome.run.counts.get(&kind).copied().unwrap_or_default()
}

/// The stable JSON of `warden sync --format json` (an interface for scripts; documented in the README).
fn summary_json(summaries: &[Summary]) -> serde_json::Value {
    let environments: Vec<serde_json::Value> = summaries
        .iter()
        .map(|summary| {
            let outcome = &summary.outcome;
            json!({
                "name": summary.name,
                "run_id": outcome.run.id.0,
                "status": outcome.run.status.as_str(),
                "duration_ms": outcome.duration.as_millis() as u64,
                "requests": outcome.run.requests,
                "retries": outcome.run.retries,
                "errors": outcome.run.errors.iter().map(|error| json!({"scope": error.scope, "message": error.message})).collect::<Vec<_>>(),
                "counts": {
                    "orgs": count(outcome, ResourceKind::Org),
                    "users": count(outcome, ResourceKind::User),
                    "human_users": summary.human_users,
                    "machine_users": summary.machine_users,
                    "projects": count(outcome, ResourceKind::Project),
                    "roles": count(outcome, ResourceKind::ProjectRole),
                    "user_grants": count(outcome, ResourceKind::UserGrant),
                    "machine_keys": count(outcome, ResourceKind::MachineKey),
                    "pats": count(outcome, ResourceKind::PersonalAccessToken),
                    "memberships": count(outcome, ResourceKind::Membership),
                    "project_grants": count(outcome, ResourceKind::ProjectGrant),
                    "applications": count(outcome, ResourceKind::Application),
                    "identity_providers": count(outcome, ResourceKind::IdentityProvider),
                    "user_metadata": count(outcome, ResourceKind::UserMetadata),
                },
                "changes": {"added": outcome.added, "removed": outcome.removed, "modified": outcome.modified},
            })
        })
        .collect();
    json!({ "environments": environments })
}

fn summary_table(summaries: &[Summary]) -> String {
    let header = [
        "environment",
        "status",
        "duration",
        "requests",
        "retries",
        "orgs",
        "humans",
        "machines",
        "projects",
        "roles",
        "grants",
        "keys",
        "pats",
        "members",
        "added",
        "removed",
        "modified",
    ];
    let rows: Vec<Vec<String>> = summaries
        .iter()
        .map(|summary| {
            let outcome = &summary.outcome;
            vec![
                summary.name.clone(),
                outcome.run.status.to_string(),
                format!("{:.1}s", outcome.duration.as_secs_f64()),
                outcome.run.requests.to_string(),
                outcome.run.retries.to_string(),
                count(outcome, ResourceKind::Org).to_string(),
                summary.human_users.to_string(),
                summary.machine_users.to_string(),
                count(outcome, ResourceKind::Project).to_string(),
                count(outcome, ResourceKind::ProjectRole).to_string(),
                count(outcome, ResourceKind::UserGrant).to_string(),
                count(outcome, ResourceKind::MachineKey).to_string(),
                count(outcome, ResourceKind::PersonalAccessToken).to_string(),
                count(outcome, ResourceKind::Membership).to_string(),
                outcome.added.to_string(),
                outcome.removed.to_string(),
                outcome.modified.to_string(),
            ]
        })
        .collect();
    let mut out = table::render(&header, &rows);
    for summary in summaries {
        for error in &summary.outcome.run.errors {
            out.push_str(&format!("{}: {}: {}\n", summary.name, error.scope, error.message));
        }
        for note in &summary.outcome.not_permitted {
            out.push_str(&format!("{}: not read (no permission): {note}\n", summary.name));
        }
    }
    out
}
