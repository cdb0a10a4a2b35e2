//! Governance commands: findings with their lifecycle, suppressions, alerts, the audit log.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use warden_core::governance::{AlertAction, AlertStatus, Suppression, TrackedFinding};
use warden_core::id::EnvironmentName;
use warden_core::posture;

use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, table, time_text};
use crate::config::Config;
use crate::govern::notify::{alert_json, subject_json};
use crate::store::{self, Store};

#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Resolved findings too
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum SuppressCommand {
    /// Accept a rule's findings (for one subject or environment), with a reason; audited
    Add {
        #[arg(long)]
        rule: String,
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// The subject's id (for credential rules, the machine user's id)
        #[arg(long, value_name = "ID")]
        subject: Option<String>,
        #[arg(long)]
        reason: String,
        /// Days until the suppression expires (none: until lifted)
        #[arg(long, value_name = "DAYS")]
        days: Option<u32>,
        /// Who decides (recorded in the audit log)
        #[arg(long, value_name = "OPERATOR")]
        by: String,
    },
    /// Every suppression, lifted and expired ones included
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// End a suppression; audited
    Lift {
        id: i64,
        #[arg(long, value_name = "OPERATOR")]
        by: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts that are not resolved (or of one status)
    List {
        #[arg(long, value_name = "open|acknowledged|resolved")]
        status: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// One alert with its history and deliveries
    Show { id: i64 },
    /// Acknowledge an open alert
    Ack {
        id: i64,
        #[arg(long, value_name = "OPERATOR")]
        by: String,
    },
    /// Resolve an alert, saying why
    Resolve {
        id: i64,
        #[arg(long)]
        reason: String,
        #[arg(long, value_name = "OPERATOR")]
        by: String,
    },
    /// Add a note to an alert
    Note {
        id: i64,
        text: String,
        #[arg(long, value_name = "OPERATOR")]
        by: String,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[allow(clippy::disallowed_methods, reason = "operator commands are dated by the command's entry point")]
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn optional_time(time: Option<OffsetDateTime>) -> String {
    time.map(time_text).unwrap_or_default()
}

fn environment_name(name: Option<&str>) -> anyhow::Result<Option<EnvironmentName>> {
    name.map(|name| EnvironmentName::parse(name).map_err(|error| anyhow::anyhow!("--env: {error}"))).transpose()
}

pub(super) async fn findings(config: &Config, args: &FindingsArgs) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    let environment = environment_name(args.env.as_deref())?;
    let findings = store.list_findings(environment.as_ref(), args.all).await?;
    let suppressions = store.list_suppressions().await?;
    let now = now();
    let suppressed = |tracked: &TrackedFinding| {
        warden_core::governance::suppressed_by(&suppressions, &tracked.finding, now).map(|suppression| suppression.id)
    };
    match args.format {
        OutputFormat::Json => {
            let items: Vec<_> = findings
                .iter()
                .map(|tracked| {
                    let finding = &tracked.finding;
                    json!({
                        "rule": finding.rule,
                        "severity": finding.severity.as_str(),
                        "environment": finding.environment.as_str(),
                        "subject": subject_json(&finding.subject),
                        "message": finding.message,
                        "first_seen": time_text(tracked.first_seen),
                        "last_seen": time_text(tracked.last_seen),
                        "resolved_at": tracked.resolved_at.map(time_text),
                        "suppressed_by": suppressed(tracked),
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "findings": items }))?)?;
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = findings
                .iter()
                .map(|tracked| {
                    let finding = &tracked.finding;
                    vec![
                        finding.severity.to_string(),
                        finding.rule.to_owned(),
                        finding.environment.to_string(),
                        finding.subject.name.clone(),
                        time_text(tracked.first_seen),
                        time_text(tracked.last_seen),
                        match (tracked.resolved_at, suppressed(tracked)) {
                            (Some(resolved), _) => format!("resolved {}", time_text(resolved)),
                            (None, Some(id)) => format!("suppressed (#{id})"),
                            (None, None) => "open".to_owned(),
                        },
                    ]
                })
                .collect();
            let header = ["severity", "rule", "environment", "subject", "first seen", "last seen", "status"];
            out!("{}", table::render(&header, &rows))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn suppress(config: &Config, command: &SuppressCommand) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    match command {
        SuppressCommand::Add { rule, env, subject, reason, days, by } => {
            anyhow::ensure!(posture::rule(rule).is_some(), "no rule {rule:?} (docs/rules.md lists them)");
            anyhow::ensure!(!reason.trim().is_empty(), "--reason may not be empty");
            anyhow::ensure!(!by.trim().is_empty(), "--by may not be empty");
            let now = now();
            let suppression = Suppression {
                id: 0,
                environment: environment_name(env.as_deref())?,
                rule: rule.clone(),
                subject_id: subject.clone(),
                reason: reason.clone(),
                created_by: by.clone(),
                created_at: now,
                expires_at: days.map(|days| now + Duration::days(i64::from(days))),
                lifted_by: None,
                lifted_at: None,
            };
            let stored = store.add_suppression(&suppression).await?;
            outln!("suppression #{} added", stored.id)?;
        }
        SuppressCommand::List { format } => {
            let suppressions = store.list_suppressions().await?;
            let now = now();
            match format {
                OutputFormat::Json => {
                    let items: Vec<_> = suppressions
                        .iter()
                        .map(|suppression| {
                            json!({
                                "id": suppression.id,
                                "rule": suppression.rule,
                                "environment": suppression.environment.as_ref().map(ToString::to_string),
                                "subject_id": suppression.subject_id,
                                "reason": suppression.reason,
                                "created_by": suppression.created_by,
                                "created_at": time_text(suppression.created_at),
                                "expires_at": suppression.expires_at.map(time_text),
                                "lifted_by": suppression.lifted_by,
                                "lifted_at": suppression.lifted_at.map(time_text),
                                "active": suppression.is_active(now),
                            })
                        })
                        .collect();
                    outln!("{}", serde_json::to_string_pretty(&json!({ "suppressions": items }))?)?;
                }
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = suppressions
                        .iter()
                        .map(|suppression| {
                            vec![
                                suppression.id.to_string(),
                                suppression.rule.clone(),
                                suppression.environment.as_ref().map(ToString::to_string).unwrap_or_else(|| "*".into()),
                                suppression.subject_id.clone().unwrap_or_else(|| "*".to_owned()),
                                suppression.reason.clone(),
                                suppression.created_by.clone(),
                                optional_time(suppression.expires_at),
                                if suppression.is_active(now) { "active" } else { "ended" }.to_owned(),
                            ]
                        })
                        .collect();
                    let header = ["id", "rule", "environment", "subject", "reason", "by", "expires", "status"];
                    out!("{}", table::render(&header, &rows))?;
                }
            }
        }
        SuppressCommand::Lift { id, by } => {
            store.lift_suppression(*id, by, now()).await?;
            outln!("suppression #{id} lifted")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn alerts(config: &Config, command: &AlertsCommand) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    match command {
        AlertsCommand::List { status, format } => {
            let status = status.as_deref().map(AlertStatus::from_text);
            if let Some(AlertStatus::Unknown(other)) = &status {
                anyhow::bail!("--status {other:?}: use open, acknowledged or resolved");
            }
            let alerts = store.list_alerts(status.as_ref()).await?;
            match format {
                OutputFormat::Json => {
                    let items: Vec<_> = alerts.iter().map(alert_json).collect();
                    outln!("{}", serde_json::to_string_pretty(&json!({ "alerts": items }))?)?;
                }
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = alerts
                        .iter()
                        .map(|alert| {
                            vec![
                                alert.id.to_string(),
                                alert.status.to_string(),
                                alert.severity.to_string(),
                                alert.rule.clone(),
                                alert.environment.to_string(),
                                alert.subject.name.clone(),
                                time_text(alert.opened_at),
                            ]
                        })
                        .collect();
                    let header = ["id", "status", "severity", "rule", "environment", "subject", "opened"];
                    out!("{}", table::render(&header, &rows))?;
                }
            }
        }
        AlertsCommand::Show { id } => show_alert(&*store, *id).await?,
        AlertsCommand::Ack { id, by } => act(&*store, *id, &AlertAction::Acknowledge, by).await?,
        AlertsCommand::Resolve { id, reason, by } => {
            act(&*store, *id, &AlertAction::Resolve { reason: reason.clone() }, by).await?
        }
        AlertsCommand::Note { id, text, by } => {
            act(&*store, *id, &AlertAction::Note { text: text.clone() }, by).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn act(store: &dyn Store, id: i64, action: &AlertAction, operator: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!operator.trim().is_empty(), "--by may not be empty");
    let alert = store.act_on_alert(id, action, operator, now()).await?;
    outln!("alert #{id} {} ({})", action.name(), alert.status)?;
    Ok(())
}

async fn show_alert(store: &dyn Store, id: i64) -> anyhow::Result<()> {
    let alert = store.get_alert(id).await?;
    outln!("alert #{} [{}] {} {} in {}", alert.id, alert.status, alert.severity, alert.rule, alert.environment)?;
    outln!("subject: {} {} ({})", alert.subject.kind, alert.subject.name, alert.subject.id)?;
    outln!("message: {}", alert.message)?;
    if let Some(resolution) = &alert.resolution {
        outln!("resolution: {resolution}")?;
    }
    let events: Vec<Vec<String>> = store
        .alert_events(id)
        .await?
        .iter()
        .map(|event| {
            vec![
                time_text(event.at),
                event.operator.clone(),
                event.action.clone(),
                event.to_status.to_string(),
                event.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out!("{}", table::render(&["at", "by", "action", "status", "note"], &events))?;
    let deliveries: Vec<Vec<String>> = store
        .list_notifications(Some(id))
        .await?
        .iter()
        .map(|notification| {
            vec![
                notification.webhook.clone(),
                notification.event.clone(),
                notification.status.as_str().to_owned(),
                notification.attempts.to_string(),
                notification.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !deliveries.is_empty() {
        out!("{}", table::render(&["webhook", "event", "delivery", "attempts", "last error"], &deliveries))?;
    }
    Ok(())
}

pub(super) async fn audit(config: &Config, args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    let events = store.list_audit_events(args.limit).await?;
    match args.format {
        OutputFormat::Json => {
            let items: Vec<_> = events
                .iter()
                .map(|event| {
                    json!({
                        "at": time_text(event.at),
                        "operator": event.operator,
                        "action": event.action,
                        "target": event.target,
                        "details": event.details,
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "events": items }))?)?;
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = events
                .iter()
                .map(|event| {
                    vec![
                        time_text(event.at),
                        event.operator.clone(),
                        event.action.clone(),
                        event.target.clone(),
                        event.details.to_string(),
                    ]
                })
                .collect();
            out!("{}", table::render(&["at", "operator", "action", "target", "details"], &rows))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
