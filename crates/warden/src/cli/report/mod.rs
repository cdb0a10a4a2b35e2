//! `warden report`: findings and service accounts of the synced environments, for people and for CI gates.
//!
//! The findings are the ones governance tracks (the same rules, history and cross-environment comparison as after a
//! sync), evaluated on the stored state at the time of the report; suppressed ones are listed apart and never fail
//! a gate. Service accounts come from the inventory, riskiest first.

mod render;

use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use warden_core::posture::Severity;

pub(super) use render::{credential_json, csv_field, grant_json, membership_json, scope_text};

use crate::app::App;
use crate::app::report::report;
use crate::cli::output::out;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(in crate::cli) enum FailOn {
    Low,
    Medium,
    High,
}

impl FailOn {
    pub(in crate::cli) fn severity(self) -> Severity {
        match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// Exit with code 3 when an unsuppressed finding of this severity or higher exists (for CI gates)
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
}

pub(super) async fn run(app: &App, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let report = report(app, args.env.as_deref()).await?;
    let gathered = started.elapsed();
    let output = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&render::report_json(&report))? + "\n",
        ReportFormat::Table => render::report_table(&report),
        ReportFormat::Csv => render::findings_csv(&report),
        ReportFormat::Markdown => render::report_markdown(&report),
    };
    tracing::debug!(gather_ms = gathered.as_millis(), render_ms = (started.elapsed() - gathered).as_millis(), "report");
    out!("{output}")?;
    let failed = args.fail_on.is_some_and(|fail_on| report.has_finding_at_least(fail_on.severity()));
    Ok(if failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}
