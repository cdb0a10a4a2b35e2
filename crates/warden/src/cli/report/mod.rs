//! `warden report`: findings and service accounts of the synced environments, for people and for CI gates.
//!
//! The findings are the ones governance tracks (the same rules, history and cross-environment comparison as after a
//! sync), evaluated on the stored state at the time of the report; suppressed ones are listed apart and never fail
//! a gate. Service accounts come from the inventory, riskiest first.

mod render;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use time::OffsetDateTime;
use warden_core::governance::{Suppression, dedupe_key, suppressed_by};
use warden_core::id::EnvironmentName;
use warden_core::inventory::{ServiceAccount, service_account_inventory};
use warden_core::model::SyncRun;
use warden_core::posture::{self, Finding, Severity};

pub(super) use render::{credential_json, csv_field, grant_json, membership_json, scope_text};

use crate::cli::output::out;
use crate::cli::selected_environments;
use crate::cli::sync::governance_settings;
use crate::config::Config;
use crate::govern::{history_findings, snapshot_findings};
use crate::store::{self, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum FailOn {
    Low,
    Medium,
    High,
}

impl FailOn {
    fn severity(self) -> Severity {
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

/// Everything a report shows, gathered once and rendered in any format.
pub(crate) struct Report {
    pub environments: Vec<ReportedEnvironment>,
    /// Unsuppressed findings, highest severity first.
    pub findings: Vec<ReportedFinding>,
    /// Findings an operator accepted, with the suppression that covers each.
    pub suppressed: Vec<(ReportedFinding, Suppression)>,
    /// Every environment's machine users, riskiest first.
    pub service_accounts: Vec<ServiceAccount>,
}

pub(crate) struct ReportedEnvironment {
    pub name: EnvironmentName,
    pub last_run: Option<SyncRun>,
    pub human_users: usize,
    pub machine_users: usize,
}

pub(crate) struct ReportedFinding {
    pub finding: Finding,
    /// When governance first saw it (after a sync); `None` when it has not been tracked yet.
    pub first_seen: Option<OffsetDateTime>,
}

impl Report {
    pub(crate) fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|reported| reported.finding.severity == severity).count()
    }
}

pub(super) async fn run(config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let environments = selected_environments(config, args.env.as_deref())?;
    anyhow::ensure!(
        !environments.is_empty(),
        "no environments are configured: add [[environments]] to the configuration"
    );
    let names = environments
        .iter()
        .map(|environment| EnvironmentName::parse(&environment.name))
        .collect::<Result<Vec<_>, _>>()?;
    let store = store::open_and_migrate(&config.database.url).await?;
    #[allow(clippy::disallowed_methods, reason = "the report is dated by the command's entry point")]
    let now = OffsetDateTime::now_utc();
    let settings = governance_settings(config);
    let started = Instant::now();
    let report = gather(&*store, &names, &settings.policy, &settings.environments, now).await?;
    let gathered = started.elapsed();
    let output = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&render::report_json(&report))? + "\n",
        ReportFormat::Table => render::report_table(&report),
        ReportFormat::Csv => render::findings_csv(&report),
        ReportFormat::Markdown => render::report_markdown(&report),
    };
    tracing::debug!(gather_ms = gathered.as_millis(), render_ms = (started.elapsed() - gathered).as_millis(), "report");
    out!("{output}")?;
    let failed = args
        .fail_on
        .is_some_and(|fail_on| report.findings.iter().any(|reported| reported.finding.severity >= fail_on.severity()));
    Ok(if failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

/// Evaluates `environments` as stored, at `now`; `compared_with` are the environments role drift is judged across
/// (every configured one, so that a report on one environment still sees what the others have).
pub(crate) async fn gather(
    store: &dyn Store,
    environments: &[EnvironmentName],
    policy: &posture::Policy,
    compared_with: &[EnvironmentName],
    now: OffsetDateTime,
) -> Result<Report, store::Error> {
    let suppressions = store.list_suppressions().await?;
    let mut report =
        Report { environments: Vec::new(), findings: Vec::new(), suppressed: Vec::new(), service_accounts: Vec::new() };
    let mut findings = Vec::new();
    for environment in environments {
        let last_run = store.list_sync_runs(environment, 1).await?.into_iter().next();
        if last_run.is_none() {
            tracing::warn!(%environment, "never synced: run `warden sync` first");
        }
        let started = Instant::now();
        let snapshot = store.load_kinds(environment, &posture::KINDS_READ).await?;
        let loaded = started.elapsed();
        findings.extend(snapshot_findings(environment, &snapshot, policy, now));
        findings.extend(history_findings(environment, &snapshot, store, policy, compared_with, now).await?);
        let evaluated = started.elapsed();
        report.service_accounts.extend(service_account_inventory(environment, &snapshot, policy, now));
        tracing::debug!(
            %environment,
            load_ms = loaded.as_millis(),
            evaluate_ms = (evaluated - loaded).as_millis(),
            inventory_ms = (started.elapsed() - evaluated).as_millis(),
            "environment reported"
        );
        let machine_users = snapshot.users.iter().filter(|user| user.is_machine()).count();
        report.environments.push(ReportedEnvironment {
            name: environment.clone(),
            last_run,
            human_users: snapshot.users.len() - machine_users,
            machine_users,
        });
    }
    posture::sort_findings(&mut findings);
    report.service_accounts.sort_by(|a, b| {
        b.risk
            .score
            .cmp(&a.risk.score)
            .then_with(|| a.environment.cmp(&b.environment))
            .then_with(|| a.username.cmp(&b.username))
            .then_with(|| a.id.cmp(&b.id))
    });

    let mut first_seen: HashMap<String, OffsetDateTime> = HashMap::new();
    for environment in environments {
        for tracked in store.list_findings(Some(environment), false).await? {
            first_seen.insert(dedupe_key(&tracked.finding), tracked.first_seen);
        }
    }
    for finding in findings {
        let reported = ReportedFinding { first_seen: first_seen.get(&dedupe_key(&finding)).copied(), finding };
        match suppressed_by(&suppressions, &reported.finding, now) {
            Some(suppression) => report.suppressed.push((reported, suppression.clone())),
            None => report.findings.push(reported),
        }
    }
    Ok(report)
}
