//! Governance commands: findings with their lifecycle, suppressions, alerts, the audit log.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use time::OffsetDateTime;
use warden_core::governance::{AlertAction, AlertStatus};
use warden_core::id::EnvironmentName;

use crate::app::App;
use crate::app::alerts::{self, NewSuppression};
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, operator, table, time_text};
use crate::govern::notify::{alert_json, subject_json};

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

fn optional_time(time: Option<OffsetDateTime>) -> String {
    time.map(time_text).unwrap_or_default()
}

fn environment_name(name: Option<&str>) -> anyhow::Result<Option<EnvironmentName>> {
    name.map(|name| EnvironmentName::parse(name).map_err(|error| anyhow::anyhow!("--env: {error}"))).transpose()
}

pub(super) async fn findings(app: &App, args: &FindingsArgs) -> anyhow::Result<ExitCode> {
    let environment = environment_name(args.env.as_deref())?;
    let findings = alerts::tracked_findings(app, environment.as_ref(), args.all).await?;
    match args.format {
        OutputFormat::Json => {
            let items: Vec<_> = findings
                .iter()
                .map(|status| {
                    let tracked = &status.tracked;
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
                        "suppressed_by": status.suppressed_by,
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "findings": items }))?)?;
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = findings
                .iter()
                .map(|status| {
                    let tracked = &status.tracked;
                    let finding = &tracked.finding;
                    vec![
                        finding.severity.to_string(),
                        finding.rule.to_owned(),
                        finding.environment.to_string(),
                        finding.subject.name.clone(),
                        time_text(tracked.first_seen),
                        time_text(tracked.last_seen),
                        match (tracked.resolved_at, status.suppressed_by) {
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

pub(super) async fn suppress(app: &App, command: &SuppressCommand) -> anyhow::Result<ExitCode> {
    match command {
        SuppressCommand::Add { rule, env, subject, reason, days, by } => {
            let new = NewSuppression {
                rule: rule.clone(),
                environment: environment_name(env.as_deref())?,
                subject_id: subject.clone(),
                reason: reason.clone(),
                days: *days,
            };
            let stored = alerts::add_suppression(app, new, &operator(by)?).await?;
            outln!("suppression #{} added", stored.id)?;
        }
        SuppressCommand::List { format } => {
            let (suppressions, now) = alerts::suppressions(app).await?;
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
            alerts::lift_suppression(app, *id, &operator(by)?).await?;
            outln!("suppression #{id} lifted")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn alerts(app: &App, command: &AlertsCommand) -> anyhow::Result<ExitCode> {
    match command {
        AlertsCommand::List { status, format } => {
            let status = status.as_deref().map(AlertStatus::from_text);
            let alerts = alerts::alerts(app, status.as_ref()).await?;
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
        AlertsCommand::Show { id } => show_alert(app, *id).await?,
        AlertsCommand::Ack { id, by } => act(app, *id, &AlertAction::Acknowledge, by).await?,
        AlertsCommand::Resolve { id, reason, by } => {
            act(app, *id, &AlertAction::Resolve { reason: reason.clone() }, by).await?
        }
        AlertsCommand::Note { id, text, by } => act(app, *id, &AlertAction::Note { text: text.clone() }, by).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn act(app: &App, id: i64, action: &AlertAction, by: &str) -> anyhow::Result<()> {
    let alert = alerts::act_on_alert(app, id, action, &operator(by)?).await?;
    outln!("alert #{id} {} ({})", action.name(), alert.status)?;
    Ok(())
}

async fn show_alert(app: &App, id: i64) -> anyhow::Result<()> {
    let detail = alerts::alert(app, id).await?;
    let alert = &detail.alert;
    outln!("alert #{} [{}] {} {} in {}", alert.id, alert.status, alert.severity, alert.rule, alert.environment)?;
    outln!("subject: {} {} ({})", alert.subject.kind, alert.subject.name, alert.subject.id)?;
    outln!("message: {}", alert.message)?;
    if let Some(resolution) = &alert.resolution {
        outln!("resolution: {resolution}")?;
    }
    let events: Vec<Vec<String>> = detail
        .events
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
    let deliveries: Vec<Vec<String>> = detail
        .notifications
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

pub(super) async fn audit(app: &App, args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let events = alerts::audit_events(app, args.limit).await?;
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
