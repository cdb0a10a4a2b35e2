//! `warden mapping add|list|remove` (SCIM groups to ZITADEL project roles) and `warden provisioning
//! status|retry|discard` (the outbox of ZITADEL operations). Every change is audited with `--by` (default: `$USER`).

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::app::App;
use crate::app::provisioning::{self, ConnectionProvisioning, MappingRequest, RepairOutcome};
use crate::app::scim_admin::{self, SettingsChange};
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, join_display, operator, table, time_text};
use crate::store::{ConnectionSettings, GroupRoleMapping, GroupSelector, ProvisioningOperation};
use warden_core::posture::Repair;

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Map a SCIM group of a connection to role keys of a project in the connection's org: its members get a
    /// user grant with these roles in ZITADEL
    Add(MappingAddArgs),
    /// List mappings
    List(MappingListArgs),
    /// Remove a mapping: the grants it gave are taken back from its group's members
    Remove(MappingRemoveArgs),
}

#[derive(Debug, Args)]
pub struct MappingAddArgs {
    /// The SCIM connection, by name or id
    #[arg(long, value_name = "NAME")]
    connection: String,
    /// The group's displayName (compared case-insensitively)
    #[arg(
        long,
        value_name = "DISPLAY_NAME",
        conflicts_with = "group_external_id",
        required_unless_present = "group_external_id"
    )]
    group: Option<String>,
    /// The group's externalId instead of its displayName
    #[arg(long, value_name = "EXTERNAL_ID")]
    group_external_id: Option<String>,
    /// The project, by id or name (as of the last sync)
    #[arg(long, value_name = "ID|NAME")]
    project: String,
    /// A role key of the project; repeat for several
    #[arg(long = "role", value_name = "KEY", required = true)]
    roles: Vec<String>,
    /// Who decides (recorded in the audit log; default: $USER)
    #[arg(long, value_name = "OPERATOR")]
    by: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct MappingListArgs {
    /// Only this connection's mappings (name or id)
    #[arg(long, value_name = "NAME")]
    connection: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct MappingRemoveArgs {
    /// The mapping id (see `warden mapping list`)
    id: String,
    #[arg(long, value_name = "OPERATOR")]
    by: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProvisioningCommand {
    /// Per connection: operations waiting and parked, the oldest one's age, operations applied, the last one
    /// ZITADEL accepted; and each parked operation with its error
    Status(StatusArgs),
    /// Try parked operations again now: one by id, or all of them
    Retry(RetryArgs),
    /// Drop an operation for good, saying why (audited with what it was)
    Discard(DiscardArgs),
    /// Change a connection's settings: provisioning on or off, what a SCIM DELETE does, whether ZITADEL's tokens are
    /// accepted, the activity expected (audited; the same as `warden scim connection configure`)
    Configure(ConfigureArgs),
    /// Compare a connection's SCIM users with ZITADEL as of the last sync and queue what fixes each difference: a
    /// user gone from ZITADEL is provisioned again, a user whose state or mapped grants differ is sent again
    /// (audited; mapping problems are listed, not changed)
    Repair(RepairArgs),
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The connection, by name or id
    #[arg(long, value_name = "NAME")]
    connection: String,
    /// Only list the differences and what would be queued
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_name = "OPERATOR")]
    by: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_name = "NAME")]
    connection: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The operation id (see `warden provisioning status`)
    #[arg(required_unless_present = "all_parked", conflicts_with = "all_parked")]
    id: Option<i64>,
    /// Every parked operation
    #[arg(long)]
    all_parked: bool,
    #[arg(long, value_name = "OPERATOR")]
    by: Option<String>,
}

#[derive(Debug, Args)]
pub struct DiscardArgs {
    id: i64,
    #[arg(long)]
    reason: String,
    #[arg(long, value_name = "OPERATOR")]
    by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Switch {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum DeletePolicyArg {
    /// Deactivate the ZITADEL user: nothing is lost
    Deactivate,
    /// Remove the ZITADEL user with its grants
    Remove,
}

impl DeletePolicyArg {
    pub(super) fn policy(self) -> crate::store::DeletePolicy {
        match self {
            DeletePolicyArg::Deactivate => crate::store::DeletePolicy::Deactivate,
            DeletePolicyArg::Remove => crate::store::DeletePolicy::Remove,
        }
    }
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// The connection, by name or id
    connection: String,
    /// Whether the users and groups it receives flow on into ZITADEL (turning it on checks the credential)
    #[arg(long, value_enum)]
    provisioning: Option<Switch>,
    /// What a SCIM DELETE of a user does in ZITADEL
    #[arg(long, value_enum)]
    delete_policy: Option<DeletePolicyArg>,
    /// Whether bearer tokens the environment's ZITADEL vouches for (a service user's PAT or client-credentials
    /// token, with a user-manager role in the org) are accepted besides the connection's own
    #[arg(long, value_enum)]
    zitadel_tokens: Option<Switch>,
    /// The connection is stalled after this long without a request (`24h`, `7d`), or `never`
    #[arg(long, value_name = "DURATION|never")]
    expect_activity_within: Option<ActivityExpectation>,
    #[arg(long, value_name = "OPERATOR")]
    by: Option<String>,
}

/// `--expect-activity-within`: a duration, or `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ActivityExpectation(pub(super) Option<time::Duration>);

impl std::str::FromStr for ActivityExpectation {
    type Err = String;

    fn from_str(text: &str) -> Result<ActivityExpectation, String> {
        if text == "never" {
            return Ok(ActivityExpectation(None));
        }
        let duration: crate::config::ConfigDuration = text.parse()?;
        let seconds = i64::try_from(duration.get().as_secs()).map_err(|_| format!("{text}: too long"))?;
        if seconds == 0 {
            return Err("use `never` for no expectation".to_owned());
        }
        Ok(ActivityExpectation(Some(time::Duration::seconds(seconds))))
    }
}

impl ConfigureArgs {
    fn change(&self) -> SettingsChange {
        SettingsChange {
            provisioning: self.provisioning.map(|switch| switch == Switch::On),
            delete_policy: self.delete_policy.map(DeletePolicyArg::policy),
            zitadel_tokens: self.zitadel_tokens.map(|switch| switch == Switch::On),
            expect_activity_within: self.expect_activity_within.map(|expectation| expectation.0),
        }
    }
}

/// `warden scim connection configure` and `warden provisioning configure`.
pub(super) async fn configure(app: &App, args: &ConfigureArgs) -> anyhow::Result<ExitCode> {
    let change = args.change();
    if change == SettingsChange::default() {
        anyhow::bail!(
            "nothing to change: give --provisioning, --delete-policy, --zitadel-tokens or --expect-activity-within"
        );
    }
    let connection =
        scim_admin::configure_connection(app, &acting(args.by.as_deref())?, &args.connection, change).await?;
    outln!("connection {}: {}", connection.id, settings_text(&connection.settings))?;
    Ok(ExitCode::SUCCESS)
}

/// "provisioning on (a SCIM DELETE deactivates the ZITADEL user), ZITADEL's tokens accepted, activity expected
/// within 24h".
pub(super) fn settings_text(settings: &ConnectionSettings) -> String {
    format!(
        "provisioning {} (a SCIM DELETE will {} the ZITADEL user), ZITADEL's tokens {}, activity expected {}",
        if settings.provisioning { "on" } else { "off" },
        settings.delete_policy.as_str(),
        if settings.zitadel_tokens { "accepted" } else { "not accepted" },
        settings.expect_activity_within.map_or_else(|| "never".to_owned(), |within| format!("within {within}")),
    )
}

/// `--by`, else the login name running the command.
fn acting(by: Option<&str>) -> anyhow::Result<warden_core::operator::Operator> {
    let name = by.map(str::to_owned).or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "operator".to_owned());
    operator(&name)
}

fn group_text(group: &GroupSelector) -> String {
    match group {
        GroupSelector::DisplayName(name) => name.clone(),
        GroupSelector::ExternalId(id) => format!("externalId {id}"),
    }
}

fn mapping_json(mapping: &GroupRoleMapping) -> serde_json::Value {
    let (display_name, external_id) = match &mapping.group {
        GroupSelector::DisplayName(name) => (Some(name), None),
        GroupSelector::ExternalId(id) => (None, Some(id)),
    };
    json!({
        "id": mapping.id,
        "connection": mapping.connection_id.as_str(),
        "environment": mapping.tenant.environment.as_str(),
        "org_id": mapping.tenant.org_id.as_str(),
        "group_display_name": display_name,
        "group_external_id": external_id,
        "project_id": mapping.project_id.as_str(),
        "roles": mapping.role_keys.iter().map(|key| key.as_str()).collect::<Vec<_>>(),
        "created_by": mapping.created_by,
        "created_at": time_text(mapping.created_at),
    })
}

pub(super) async fn mapping(app: &App, command: &MappingCommand) -> anyhow::Result<ExitCode> {
    match command {
        MappingCommand::Add(args) => {
            let group = match (&args.group, &args.group_external_id) {
                (Some(name), _) => GroupSelector::DisplayName(name.clone()),
                (None, Some(id)) => GroupSelector::ExternalId(id.clone()),
                (None, None) => anyhow::bail!("name the group: --group DISPLAY_NAME or --group-external-id ID"),
            };
            let request = MappingRequest {
                connection: args.connection.clone(),
                group,
                project: args.project.clone(),
                roles: args.roles.clone(),
            };
            let (mapping, enqueued) = provisioning::add_mapping(app, &acting(args.by.as_deref())?, request).await?;
            match args.format {
                OutputFormat::Json => {
                    let mut value = mapping_json(&mapping);
                    value["grant_operations_enqueued"] = json!(enqueued);
                    outln!("{value}")?;
                }
                OutputFormat::Table => outln!(
                    "mapping {}: group {} -> project {} roles {} ({enqueued} members' grants queued)",
                    mapping.id,
                    group_text(&mapping.group),
                    mapping.project_id,
                    join_display(&mapping.role_keys, ", ")
                )?,
            }
        }
        MappingCommand::List(args) => {
            let mappings = provisioning::mappings(app, args.connection.as_deref()).await?;
            match args.format {
                OutputFormat::Json => {
                    outln!("{}", serde_json::Value::Array(mappings.iter().map(mapping_json).collect()))?
                }
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = mappings
                        .iter()
                        .map(|mapping| {
                            vec![
                                mapping.id.clone(),
                                mapping.connection_id.to_string(),
                                mapping.tenant.org_id.to_string(),
                                group_text(&mapping.group),
                                mapping.project_id.to_string(),
                                join_display(&mapping.role_keys, ", "),
                                mapping.created_by.clone(),
                                time_text(mapping.created_at),
                            ]
                        })
                        .collect();
                    let header = ["ID", "CONNECTION", "ORG", "GROUP", "PROJECT", "ROLES", "BY", "CREATED"];
                    out!("{}", table::render(&header, &rows))?;
                }
            }
        }
        MappingCommand::Remove(args) => {
            let (mapping, enqueued) = provisioning::remove_mapping(app, &acting(args.by.as_deref())?, &args.id).await?;
            outln!("mapping {} removed ({enqueued} members' grants queued)", mapping.id)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn operation_json(operation: &ProvisioningOperation) -> serde_json::Value {
    json!({
        "id": operation.id,
        "scim_user_id": operation.scim_user_id,
        "operation": operation.kind.as_str(),
        "enqueued_at": time_text(operation.enqueued_at),
        "attempts": operation.attempts,
        "last_error": operation.last_error,
        "parked_at": operation.parked_at.map(time_text),
    })
}

fn status_json(entry: &ConnectionProvisioning) -> serde_json::Value {
    let backlog = &entry.backlog;
    json!({
        "connection": entry.connection.id.as_str(),
        "name": entry.connection.name,
        "provisioning": entry.connection.settings.provisioning,
        "delete_policy": entry.connection.settings.delete_policy.as_str(),
        "status": entry.health.status.as_str(),
        "reasons": entry.health.reasons,
        "zitadel_tokens": entry.connection.settings.zitadel_tokens,
        "expect_activity_within_seconds":
            entry.connection.settings.expect_activity_within.map(|within| within.whole_seconds()),
        "last_request_at": entry.activity.last_request_at.map(time_text),
        "last_hour": {"requests": entry.activity.requests_last_hour, "errors": entry.activity.errors_last_hour},
        "last_24h": {"requests": entry.activity.requests_last_day, "errors": entry.activity.errors_last_day},
        "pending": backlog.pending,
        "parked": backlog.parked,
        "oldest_enqueued_at": backlog.oldest_enqueued_at.map(time_text),
        "applied": backlog.applied,
        "last_applied_at": backlog.last_applied_at.map(time_text),
        "parked_operations": entry.parked.iter().map(operation_json).collect::<Vec<_>>(),
    })
}

pub(super) async fn run(app: &App, command: &ProvisioningCommand) -> anyhow::Result<ExitCode> {
    match command {
        ProvisioningCommand::Status(args) => {
            let status = provisioning::status(app, args.connection.as_deref()).await?;
            match args.format {
                OutputFormat::Json => outln!("{}", serde_json::Value::Array(status.iter().map(status_json).collect()))?,
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = status
                        .iter()
                        .map(|entry| {
                            let backlog = &entry.backlog;
                            vec![
                                entry.connection.id.to_string(),
                                entry.connection.name.clone(),
                                entry.health.status.as_str().to_owned(),
                                format!("{}/{}", entry.activity.errors_last_hour, entry.activity.requests_last_hour),
                                if entry.connection.settings.provisioning { "on" } else { "off" }.to_owned(),
                                entry.connection.settings.delete_policy.as_str().to_owned(),
                                backlog.pending.to_string(),
                                backlog.parked.to_string(),
                                backlog.oldest_enqueued_at.map_or_else(|| "-".to_owned(), time_text),
                                backlog.applied.to_string(),
                                backlog.last_applied_at.map_or_else(|| "never".to_owned(), time_text),
                            ]
                        })
                        .collect();
                    let header = [
                        "ID",
                        "NAME",
                        "STATUS",
                        "ERRORS/REQUESTS 1H",
                        "PROVISIONING",
                        "ON DELETE",
                        "WAITING",
                        "PARKED",
                        "OLDEST",
                        "APPLIED",
                        "LAST APPLIED",
                    ];
                    out!("{}", table::render(&header, &rows))?;
                    for entry in &status {
                        for reason in &entry.health.reasons {
                            outln!("{} is {}: {reason}", entry.connection.name, entry.health.status.as_str())?;
                        }
                        for operation in &entry.parked {
                            outln!(
                                "parked {} ({}, SCIM user {}, {} attempts): {}",
                                operation.id,
                                operation.kind.as_str(),
                                operation.scim_user_id,
                                operation.attempts,
                                operation.last_error.as_deref().unwrap_or("no error recorded")
                            )?;
                        }
                    }
                }
            }
        }
        ProvisioningCommand::Retry(args) => {
            let id = if args.all_parked { None } else { args.id };
            let retried = provisioning::retry(app, &acting(args.by.as_deref())?, id).await?;
            outln!("{retried} parked operation(s) will be tried again now")?;
        }
        ProvisioningCommand::Discard(args) => {
            let operation = provisioning::discard(app, &acting(args.by.as_deref())?, args.id, &args.reason).await?;
            outln!("operation {} ({}) discarded", operation.id, operation.kind.as_str())?;
        }
        ProvisioningCommand::Configure(args) => return configure(app, args).await,
        ProvisioningCommand::Repair(args) => {
            let outcome =
                provisioning::repair(app, &acting(args.by.as_deref())?, &args.connection, args.dry_run).await?;
            print_repair(args, &outcome)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn repair_text(repair: &Repair) -> (&'static str, &str) {
    match repair {
        Repair::Recreate { user_name, .. } => ("provision again", user_name),
        Repair::Resend { user_name, .. } => ("send again", user_name),
    }
}

fn print_repair(args: &RepairArgs, outcome: &RepairOutcome) -> std::io::Result<()> {
    match args.format {
        OutputFormat::Json => {
            let findings: Vec<_> = outcome
                .findings
                .iter()
                .map(|finding| {
                    json!({
                        "rule": finding.rule,
                        "severity": finding.severity.as_str(),
                        "subject": finding.subject.name,
                        "message": finding.message,
                    })
                })
                .collect();
            let repairs: Vec<_> = outcome
                .repairs
                .iter()
                .map(|repair| {
                    let (action, user) = repair_text(repair);
                    json!({"action": action, "user_name": user})
                })
                .collect();
            outln!(
                "{}",
                json!({"dry_run": args.dry_run, "findings": findings, "repairs": repairs, "enqueued": outcome.enqueued})
            )
        }
        OutputFormat::Table => {
            for finding in &outcome.findings {
                outln!("{} ({}): {}", finding.rule, finding.severity.as_str(), finding.message)?;
            }
            for repair in &outcome.repairs {
                let (action, user) = repair_text(repair);
                outln!("{}: {action} {user}", if args.dry_run { "would" } else { "queued" })?;
            }
            if outcome.findings.is_empty() {
                outln!("no differences between SCIM and ZITADEL as of the last sync")?;
            } else if !args.dry_run {
                outln!("{} operation(s) queued (warden provisioning status shows them)", outcome.enqueued)?;
            }
            Ok(())
        }
    }
}
