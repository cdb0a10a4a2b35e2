//! The report: findings as governance tracks them (the same rules, history and cross-environment comparison as
//! after a sync, evaluated on the stored state now), suppressed ones apart, and the service-account inventory
//! riskiest first.

use std::collections::HashMap;
use std::time::Instant;

use time::OffsetDateTime;
use warden_core::governance::{Suppression, dedupe_key, suppressed_by};
use warden_core::health::ProviderHealth;
use warden_core::id::EnvironmentName;
use warden_core::inventory::{ServiceAccount, service_account_inventory};
use warden_core::model::{SyncRun, SyncStatus};
use warden_core::posture::{self, Finding, Severity};

use crate::app::{App, Error};
use crate::govern::{history_findings, provider_health, snapshot_findings};

/// Everything a report shows, gathered once and rendered in any format.
#[derive(Debug, Clone)]
pub struct Report {
    pub environments: Vec<ReportedEnvironment>,
    /// Unsuppressed findings, highest severity first.
    pub findings: Vec<ReportedFinding>,
    /// Findings an operator accepted, with the suppression that covers each.
    pub suppressed: Vec<(ReportedFinding, Suppression)>,
    /// Every environment's machine users, riskiest first.
    pub service_accounts: Vec<ServiceAccount>,
    /// ZITADEL and every identity provider of each environment, as its stored probes judge it.
    pub providers: Vec<ProviderHealth>,
}

#[derive(Debug, Clone)]
pub struct ReportedEnvironment {
    pub name: EnvironmentName,
    /// The last run that finished (ok, partial, failed or interrupted): what the report's state comes from.
    pub last_run: Option<SyncRun>,
    /// Runs still going (newest first): the state may change under the report.
    pub running: Vec<SyncRun>,
    pub human_users: usize,
    pub machine_users: usize,
}

#[derive(Debug, Clone)]
pub struct ReportedFinding {
    pub finding: Finding,
    /// When governance first saw it (after a sync); `None` when it has not been tracked yet.
    pub first_seen: Option<OffsetDateTime>,
}

impl Report {
    /// Unsuppressed findings of exactly this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|reported| reported.finding.severity == severity).count()
    }

    /// Whether an unsuppressed finding of `severity` or higher exists (what `--fail-on` gates on).
    pub fn has_finding_at_least(&self, severity: Severity) -> bool {
        self.findings.iter().any(|reported| reported.finding.severity >= severity)
    }
}

/// Runs read per environment to find the last finished one and those still going.
const RECENT_RUNS: u32 = 20;

/// The report on the configured environments, or the one `only` names. Role drift is judged across every
/// configured environment, so a report on one still sees what the others have.
pub async fn report(app: &App, only: Option<&str>) -> Result<Report, Error> {
    let names: Vec<EnvironmentName> = app.environments(only)?.into_iter().map(|entry| entry.name().clone()).collect();
    report_on(app, &names).await
}

/// The report on `environments` (which need not be configured: the demo's are not).
pub async fn report_on(app: &App, environments: &[EnvironmentName]) -> Result<Report, Error> {
    let store = &**app.store();
    let governance = &app.settings().governance;
    let policy = &governance.policy;
    let now = app.now();
    let suppressions = store.list_suppressions().await?;
    let mut report = Report {
        environments: Vec::new(),
        findings: Vec::new(),
        suppressed: Vec::new(),
        service_accounts: Vec::new(),
        providers: Vec::new(),
    };
    let mut findings = Vec::new();
    for environment in environments {
        let recent = store.list_sync_runs(environment, RECENT_RUNS).await?;
        let (running, finished): (Vec<SyncRun>, Vec<SyncRun>) =
            recent.into_iter().partition(|run| run.status == SyncStatus::Running);
        let last_run = finished.into_iter().next();
        if last_run.is_none() && running.is_empty() {
            tracing::warn!(%environment, "never synced: run `warden sync` first");
        }
        let started = Instant::now();
        let snapshot = store.load_kinds(environment, &posture::KINDS_READ).await?;
        let loaded = started.elapsed();
        findings.extend(snapshot_findings(environment, &snapshot, policy, now));
        findings.extend(history_findings(environment, &snapshot, store, governance, now).await?);
        let evaluated = started.elapsed();
        report.service_accounts.extend(service_account_inventory(environment, &snapshot, policy, now));
        tracing::debug!(
            %environment,
            load_ms = loaded.as_millis(),
            evaluate_ms = (evaluated - loaded).as_millis(),
            inventory_ms = (started.elapsed() - evaluated).as_millis(),
            "environment reported"
        );
        report.providers.extend(provider_health(environment, store, &governance.health, now).await?);
        let machine_users = snapshot.users.iter().filter(|user| user.is_machine()).count();
        report.environments.push(ReportedEnvironment {
            name: environment.clone(),
            last_run,
            running,
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
