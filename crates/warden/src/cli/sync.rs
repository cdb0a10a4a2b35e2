//! `warden sync`: every configured environment (or one), in parallel, with a progress line each on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use warden_core::model::{ResourceKind, SyncStatus};

use crate::app::sync::{EnvironmentSync, SyncRequest, deliver_notifications, sync_environment};
use crate::app::{self, App};
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, table};

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
    /// Read everything, even where ZITADEL's events since the last run would let the run read only what changed
    #[arg(long)]
    full: bool,
}

pub(super) async fn run(app: &App, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let environments = app.environments(args.env.as_deref())?;
    let request = SyncRequest { accept_removals: args.accept_removals, full: args.full };
    let show_progress = args.format == OutputFormat::Table && std::io::stderr().is_terminal();
    let bars = MultiProgress::new();

    let mut runs = tokio::task::JoinSet::new();
    for environment in environments {
        let name = environment.name().clone();
        // Every client is built (its credential read) before any run starts: a missing credential stops the
        // command before it syncs anything.
        let stats = app.zitadel(&name)?.stats();
        let bar = show_progress.then(|| progress_bar(&bars, name.as_str()));
        let app = app.clone();
        runs.spawn(async move {
            let ticker = bar.clone().map(|bar| {
                tokio::spawn(async move {
                    loop {
                        bar.set_message(format!("{} requests, {} retries", stats.requests(), stats.retries()));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                })
            });
            let synced = sync_environment(&app, &name, request).await;
            if let Some(ticker) = ticker {
                ticker.abort();
            }
            if let (Some(bar), Ok(synced)) = (&bar, &synced) {
                let outcome = &synced.outcome;
                bar.finish_with_message(format!(
                    "{}: {} requests, +{} -{} ~{}",
                    outcome.run.status, outcome.run.requests, outcome.added, outcome.removed, outcome.modified
                ));
            }
            synced
        });
    }
    let mut synced = Vec::new();
    let mut busy = false;
    while let Some(joined) = runs.join_next().await {
        match joined? {
            Ok(run) => synced.push(run),
            // Reported, and the command ends with exit code 4 once the other environments are synced.
            Err(error @ app::Error::SyncRunning { .. }) => {
                eprintln!("error: {error}");
                busy = true;
            }
            Err(error) => return Err(error.into()),
        }
    }
    synced.sort_by(|a, b| a.environment.cmp(&b.environment));
    deliver_notifications(app).await;

    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&summary_json(&synced))?)?,
        OutputFormat::Table => out!("{}", summary_table(&synced))?,
    }
    let worst = synced.iter().map(|synced| &synced.outcome.run.status).fold(0, |worst, status| {
        worst.max(match status {
            SyncStatus::Ok => 0,
            SyncStatus::Partial => 1,
            _ => 2,
        })
    });
    Ok(ExitCode::from(if busy { 4 } else { worst }))
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

/// The stable JSON of `warden sync --format json` (an interface for scripts; documented in the README).
fn summary_json(synced: &[EnvironmentSync]) -> serde_json::Value {
    let environments: Vec<serde_json::Value> = synced
        .iter()
        .map(|summary| {
            let outcome = &summary.outcome;
            json!({
                "name": summary.environment.as_str(),
                "run_id": outcome.run.id.0,
                "status": outcome.run.status.as_str(),
                "mode": outcome.run.mode.as_str(),
                "mode_reason": outcome.run.mode_reason,
                "duration_ms": outcome.duration.as_millis() as u64,
                "requests": outcome.run.requests,
                "retries": outcome.run.retries,
                "errors": outcome.run.errors.iter().map(|error| json!({"scope": error.scope, "message": error.message})).collect::<Vec<_>>(),
                "counts": {
                    "orgs": summary.count(ResourceKind::Org),
                    "users": summary.count(ResourceKind::User),
                    "human_users": summary.human_users(),
                    "machine_users": summary.machine_users(),
                    "projects": summary.count(ResourceKind::Project),
                    "roles": summary.count(ResourceKind::ProjectRole),
                    "user_grants": summary.count(ResourceKind::UserGrant),
                    "machine_keys": summary.count(ResourceKind::MachineKey),
                    "pats": summary.count(ResourceKind::PersonalAccessToken),
                    "memberships": summary.count(ResourceKind::Membership),
                    "project_grants": summary.count(ResourceKind::ProjectGrant),
                    "applications": summary.count(ResourceKind::Application),
                    "identity_providers": summary.count(ResourceKind::IdentityProvider),
                    "user_metadata": summary.count(ResourceKind::UserMetadata),
                },
                "changes": {"added": outcome.added, "removed": outcome.removed, "modified": outcome.modified},
            })
        })
        .collect();
    json!({ "environments": environments })
}

fn summary_table(synced: &[EnvironmentSync]) -> String {
    let header = [
        "environment",
        "status",
        "mode",
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
    let rows: Vec<Vec<String>> = synced
        .iter()
        .map(|summary| {
            let outcome = &summary.outcome;
            vec![
                summary.environment.to_string(),
                outcome.run.status.to_string(),
                outcome.run.mode.to_string(),
                format!("{:.1}s", outcome.duration.as_secs_f64()),
                outcome.run.requests.to_string(),
                outcome.run.retries.to_string(),
                summary.count(ResourceKind::Org).to_string(),
                summary.human_users().to_string(),
                summary.machine_users().to_string(),
                summary.count(ResourceKind::Project).to_string(),
                summary.count(ResourceKind::ProjectRole).to_string(),
                summary.count(ResourceKind::UserGrant).to_string(),
                summary.count(ResourceKind::MachineKey).to_string(),
                summary.count(ResourceKind::PersonalAccessToken).to_string(),
                summary.count(ResourceKind::Membership).to_string(),
                outcome.added.to_string(),
                outcome.removed.to_string(),
                outcome.modified.to_string(),
            ]
        })
        .collect();
    let mut out = table::render(&header, &rows);
    for summary in synced {
        let run = &summary.outcome.run;
        out.push_str(&format!("{}: {} sync: {}\n", summary.environment, run.mode, run.mode_reason));
        for error in &summary.outcome.run.errors {
            out.push_str(&format!("{}: {}: {}\n", summary.environment, error.scope, error.message));
        }
        for note in &summary.outcome.not_permitted {
            out.push_str(&format!("{}: not read (no permission): {note}\n", summary.environment));
        }
    }
    out
}
