//! `warden health`: probes ZITADEL and every identity provider it federates now, records what they answered, and
//! prints each target's status (from its recent probes, this one's included); exit 3 with `--fail-on` when a
//! provider finding of that severity or higher stands.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use warden_core::health::ProviderHealth;
use warden_core::posture;

use crate::app::App;
use crate::app::health::{HealthRound, probe_environment};
use crate::cli::output::{out, outln};
use crate::cli::report::FailOn;
use crate::cli::{OutputFormat, table, time_text};

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Exit with code 3 when a provider finding (idp-unreachable, idp-certificate-expiring) of this severity or
    /// higher stands
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
}

pub(super) async fn run(app: &App, args: &HealthArgs) -> anyhow::Result<ExitCode> {
    let mut rounds = Vec::new();
    for environment in app.environments(args.env.as_deref())? {
        rounds.push(probe_environment(app, environment.name()).await?);
    }
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&health_json(&rounds))?)?,
        OutputFormat::Table => out!("{}", health_table(&rounds))?,
    }
    let now = app.now();
    let policy = &app.settings().governance.policy;
    let failed = args.fail_on.is_some_and(|fail_on| {
        rounds.iter().any(|round| {
            let mut findings = posture::idp_unreachable(&round.environment, &round.providers);
            findings.extend(posture::idp_certificate_expiring(&round.environment, &round.providers, policy, now));
            findings.iter().any(|finding| finding.severity >= fail_on.severity())
        })
    });
    Ok(if failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

/// The stable JSON of `warden health --format json`.
fn health_json(rounds: &[HealthRound]) -> serde_json::Value {
    let providers: Vec<serde_json::Value> =
        rounds.iter().flat_map(|round| round.providers.iter().map(provider_json)).collect();
    json!({ "providers": providers })
}

pub(super) fn provider_json(provider: &ProviderHealth) -> serde_json::Value {
    let target = &provider.target;
    let checks: Vec<serde_json::Value> = provider
        .latest
        .iter()
        .flat_map(|probe| &probe.checks)
        .map(|check| {
            json!({
                "name": check.name,
                "ok": check.ok,
                "detail": check.detail,
                "latency_ms": check.latency.map(|latency| u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
            })
        })
        .collect();
    json!({
        "environment": target.environment.as_str(),
        "id": target.id().as_str(),
        "name": target.name,
        "type": target.type_name(),
        "status": provider.status.as_str(),
        "reasons": provider.reasons,
        "checks": checks,
        "certificate_expires_at": provider.certificate_expires_at().map(time_text),
    })
}

fn health_table(rounds: &[HealthRound]) -> String {
    let rows: Vec<Vec<String>> = rounds
        .iter()
        .flat_map(|round| &round.providers)
        .map(|provider| {
            let failed: Vec<String> = provider
                .latest
                .iter()
                .flat_map(|probe| probe.failed_checks())
                .map(|check| format!("{}: {}", check.name, check.detail))
                .collect();
            vec![
                provider.target.environment.to_string(),
                provider.target.name.clone(),
                provider.target.type_name().to_owned(),
                provider.status.as_str().to_owned(),
                provider.certificate_expires_at().map(time_text).unwrap_or_default(),
                if provider.reasons.is_empty() { failed.join("; ") } else { provider.reasons.join("; ") },
            ]
        })
        .collect();
    table::render(&["environment", "target", "type", "status", "certificate expires", "why"], &rows)
}
