//! `warden report`: findings and service accounts of the synced environments, for people and for CI gates.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;
use time::OffsetDateTime;
use warden_core::id::EnvironmentName;
use warden_core::model::{Snapshot, SyncRun, UserKind};
use warden_core::posture::{self, Finding, Policy, Severity};

use crate::cli::{selected_environments, table, time_text};
use crate::config::Config;
use crate::govern::notify::subject_json;
use crate::store;

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
    /// Exit with code 3 when a finding of this severity or higher exists (for CI gates)
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
}

/// One environment as the report sees it: its last sync and its state.
struct Reported {
    environment: EnvironmentName,
    name: String,
    last_run: Option<SyncRun>,
    snapshot: Snapshot,
}

pub(super) async fn run(config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let environments = selected_environments(config, args.env.as_deref())?;
    anyhow::ensure!(
        !environments.is_empty(),
        "no environments are configured: add [[environments]] to the configuration"
    );
    let store = store::open_and_migrate(&config.database.url).await?;
    #[allow(clippy::disallowed_methods, reason = "the report is dated by the command's entry point")]
    let now = OffsetDateTime::now_utc();
    let policy = Policy::default();
    let mut reported = Vec::new();
    let mut findings = Vec::new();
    for environment in environments {
        let model = environment.to_environment().map_err(|(field, message)| anyhow::anyhow!("{field}: {message}"))?;
        let last_run = store.list_sync_runs(&model.name, 1).await?.into_iter().next();
        if last_run.is_none() {
            tracing::warn!(environment = %model.name, "never synced: run `warden sync` first");
        }
        let snapshot = store.load_snapshot(&model.name).await?;
        findings.extend(posture::evaluate(&model.name, &snapshot, &policy, now));
        reported.push(Reported { name: model.name.to_string(), environment: model.name, last_run, snapshot });
    }
    let across: Vec<(EnvironmentName, &Snapshot)> =
        reported.iter().map(|environment| (environment.environment.clone(), &environment.snapshot)).collect();
    findings.extend(posture::environment_role_drift(&across));
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(b.rule)));
    let output = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&report_json(&reported, &findings))? + "\n",
        ReportFormat::Table => report_table(&reported, &findings),
        ReportFormat::Csv => findings_csv(&findings),
        ReportFormat::Markdown => report_markdown(&reported, &findings),
    };
    print!("{output}");
    let failed =
        args.fail_on.is_some_and(|fail_on| findings.iter().any(|finding| finding.severity >= fail_on.severity()));
    Ok(if failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|finding| finding.severity == severity).count()
}

/// A machine user's standing: credentials and manager roles.
struct ServiceAccount<'a> {
    environment: &'a str,
    user: &'a warden_core::model::User,
    keys: usize,
    tokens: usize,
    grants: usize,
    manager_roles: Vec<String>,
}

fn service_accounts(reported: &[Reported]) -> Vec<ServiceAccount<'_>> {
    let mut accounts = Vec::new();
    for environment in reported {
        let snapshot = &environment.snapshot;
        for user in snapshot.users.iter().filter(|user| user.is_machine()) {
            let mut manager_roles: Vec<String> = snapshot
                .memberships
                .iter()
                .filter(|membership| membership.user_id == user.id)
                .flat_map(|membership| membership.roles.iter().cloned())
                .collect();
            manager_roles.sort();
            manager_roles.dedup();
            accounts.push(ServiceAccount {
                environment: &environment.name,
                user,
                keys: snapshot.machine_keys.iter().filter(|key| key.user_id == user.id).count(),
                tokens: snapshot.personal_access_tokens.iter().filter(|token| token.user_id == user.id).count(),
                grants: snapshot.user_grants.iter().filter(|grant| grant.user_id == user.id).count(),
                manager_roles,
            });
        }
    }
    accounts
}

fn description(account: &ServiceAccount<'_>) -> String {
    match &account.user.kind {
        UserKind::Machine(machine) => machine.description.clone(),
        UserKind::Human(_) => String::new(),
    }
}

/// The stable JSON of `warden report --format json` (an interface for CI; documented in the README).
fn report_json(reported: &[Reported], findings: &[Finding]) -> serde_json::Value {
    let accounts = service_accounts(reported);
    json!({
        "environments": reported.iter().map(|environment| json!({
            "name": environment.name,
            "last_sync": environment.last_run.as_ref().map(|run| json!({
                "run_id": run.id.0,
                "status": run.status.as_str(),
                "started_at": time_text(run.started_at),
                "finished_at": run.finished_at.map(time_text),
            })),
        })).collect::<Vec<_>>(),
        "summary": {
            "findings": findings.len(),
            "high": count(findings, Severity::High),
            "medium": count(findings, Severity::Medium),
            "low": count(findings, Severity::Low),
            "service_accounts": accounts.len(),
        },
        "findings": findings.iter().map(|finding| json!({
            "rule": finding.rule,
            "severity": finding.severity.as_str(),
            "environment": finding.environment.as_str(),
            "subject": subject_json(&finding.subject),
            "message": finding.message,
            "evidence": finding.evidence.iter().map(|(fact, value)| json!({"fact": fact, "value": value})).collect::<Vec<_>>(),
            "remediation": finding.remediation,
        })).collect::<Vec<_>>(),
        "service_accounts": accounts.iter().map(|account| json!({
            "environment": account.environment,
            "id": account.user.id.as_str(),
            "username": account.user.username,
            "name": account.user.display_name(),
            "org_id": account.user.org_id.as_str(),
            "state": account.user.state.as_str(),
            "description": description(account),
            "machine_keys": account.keys,
            "personal_access_tokens": account.tokens,
            "user_grants": account.grants,
            "manager_roles": account.manager_roles,
        })).collect::<Vec<_>>(),
    })
}

fn summary_line(findings: &[Finding], accounts: usize) -> String {
    format!(
        "{} findings ({} high, {} medium, {} low) across {accounts} service accounts",
        findings.len(),
        count(findings, Severity::High),
        count(findings, Severity::Medium),
        count(findings, Severity::Low)
    )
}

fn finding_rows(findings: &[Finding]) -> Vec<Vec<String>> {
    findings
        .iter()
        .map(|finding| {
            vec![
                finding.severity.to_string(),
                finding.rule.to_owned(),
                finding.environment.to_string(),
                finding.subject.name.clone(),
                finding.message.clone(),
            ]
        })
        .collect()
}

fn account_rows(reported: &[Reported]) -> Vec<Vec<String>> {
    service_accounts(reported)
        .iter()
        .map(|account| {
            vec![
                account.environment.to_owned(),
                account.user.username.clone(),
                account.user.state.to_string(),
                account.keys.to_string(),
                account.tokens.to_string(),
                account.grants.to_string(),
                account.manager_roles.join(","),
            ]
        })
        .collect()
}

const FINDING_HEADER: [&str; 5] = ["severity", "rule", "environment", "subject", "message"];
const ACCOUNT_HEADER: [&str; 7] =
    ["environment", "service account", "state", "keys", "pats", "grants", "manager roles"];

fn report_table(reported: &[Reported], findings: &[Finding]) -> String {
    let mut out = format!("{}\n\n", summary_line(findings, service_accounts(reported).len()));
    out.push_str(&table::render(&FINDING_HEADER, &finding_rows(findings)));
    out.push('\n');
    out.push_str(&table::render(&ACCOUNT_HEADER, &account_rows(reported)));
    out
}

fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let escape = |cell: &str| cell.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.iter().map(|cell| escape(cell)).collect::<Vec<_>>().join(" | ")));
    }
    out
}

fn report_markdown(reported: &[Reported], findings: &[Finding]) -> String {
    format!(
        "# warden report\n\n{}\n\n## Findings\n\n{}\n## Service accounts\n\n{}",
        summary_line(findings, service_accounts(reported).len()),
        markdown_table(&FINDING_HEADER, &finding_rows(findings)),
        markdown_table(&ACCOUNT_HEADER, &account_rows(reported))
    )
}

/// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled.
pub(super) fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn findings_csv(findings: &[Finding]) -> String {
    let mut out = String::from("severity,rule,environment,subject_type,subject_id,subject_name,org_id,message\n");
    for finding in findings {
        let org = finding.subject.org_id.as_ref().map(ToString::to_string).unwrap_or_default();
        let fields = [
            finding.severity.as_str(),
            finding.rule,
            finding.environment.as_str(),
            finding.subject.kind.as_str(),
            &finding.subject.id,
            &finding.subject.name,
            &org,
            &finding.message,
        ];
        out.push_str(&fields.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let table = markdown_table(&["a", "b"], &[vec!["x|y".to_owned(), "1\n2".to_owned()]]);
        assert_eq!(table, "| a | b |\n|---|---|\n| x\\|y | 1 2 |\n");
    }
}
