//! `warden runs`: each environment's recent sync runs (running, finished, failed or interrupted), full or
//! incremental and why, with their duration, requests and errors.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use warden_core::model::SyncRun;

use crate::app::App;
use crate::app::history::sync_runs;
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, table, time_text};

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// At most this many runs per environment
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(super) async fn run(app: &App, args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let runs = sync_runs(app, args.env.as_deref(), args.limit).await?;
    match args.format {
        OutputFormat::Json => {
            let runs: Vec<serde_json::Value> = runs.iter().map(run_json).collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "runs": runs }))?)?;
        }
        OutputFormat::Table => out!("{}", runs_table(&runs))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn duration_ms(run: &SyncRun) -> Option<i64> {
    run.finished_at.map(|finished| (finished - run.started_at).whole_milliseconds() as i64)
}

/// The stable JSON of `warden runs --format json`.
fn run_json(run: &SyncRun) -> serde_json::Value {
    json!({
        "environment": run.environment.as_str(),
        "run_id": run.id.0,
        "status": run.status.as_str(),
        "mode": run.mode.as_str(),
        "mode_reason": run.mode_reason,
        "event_position": run.event_position.map(time_text),
        "started_at": time_text(run.started_at),
        "finished_at": run.finished_at.map(time_text),
        "duration_ms": duration_ms(run),
        "requests": run.requests,
        "retries": run.retries,
        "errors": run.errors.iter().map(|error| json!({"scope": error.scope, "message": error.message})).collect::<Vec<_>>(),
    })
}

fn runs_table(runs: &[SyncRun]) -> String {
    if runs.is_empty() {
        return "no sync runs yet: `warden sync` or `warden serve` records them\n".to_owned();
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            vec![
                run.environment.to_string(),
                run.id.0.to_string(),
                run.status.to_string(),
                run.mode.to_string(),
                time_text(run.started_at),
                duration_ms(run).map_or_else(String::new, |ms| format!("{:.1}s", ms as f64 / 1000.0)),
                run.requests.to_string(),
                run.retries.to_string(),
                run.mode_reason.clone(),
                run.errors.first().map_or_else(String::new, |error| {
                    let more = run.errors.len() - 1;
                    let first = format!("{}: {}", error.scope, error.message);
                    if more == 0 { first } else { format!("{first} (+{more} more)") }
                }),
            ]
        })
        .collect();
    let header = ["environment", "run", "status", "mode", "started", "took", "requests", "retries", "why", "errors"];
    table::render(&header, &rows)
}
