//! `warden scim connection create|list|rotate|disable|log`: the bearer tokens SCIM clients use, and what they did.
//!
//! A token is printed once, when it is created or rotated; the store keeps only its SHA-256.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use secrecy::ExposeSecret;
use serde_json::json;
use warden_core::id::OrgId;

use crate::app::App;
use crate::app::scim_admin::{self, ConnectionOptions, ConnectionStatus, IssuedToken};
use crate::cli::output::{out, outln};
use crate::cli::provisioning::{ActivityExpectation, ConfigureArgs, DeletePolicyArg, Switch, configure};
use crate::cli::{OutputFormat, table, time_text};
use crate::config::ConfigDuration;
use crate::store::{ConnectionSettings, ScimConnectionId, ScimConnectionKind};

#[derive(Debug, Subcommand)]
pub enum ScimCommand {
    /// Bearer tokens of SCIM clients (Okta, Entra ID, ...), one per connection into one organization
    #[command(subcommand)]
    Connection(ConnectionCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection and print its base URL and token (shown only this once)
    Create(CreateArgs),
    /// List connections (never their tokens) with their last request and the last 24 hours' requests and errors
    List(ListArgs),
    /// Issue a new token; the old one keeps working for the grace period
    Rotate(RotateArgs),
    /// Disable a connection: its tokens stop working at once
    Disable(DisableArgs),
    /// Change a connection's settings: provisioning, what a SCIM DELETE does, whether ZITADEL's tokens are accepted,
    /// the activity expected (audited)
    Configure(ConfigureArgs),
    /// A connection's most recent requests, newest first (method, path without the query, status, latency)
    Log(LogArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum KindArg {
    Okta,
    Entra,
    Generic,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The configured environment whose organization the client provisions into
    #[arg(long, value_name = "NAME")]
    env: String,
    /// The ZITADEL organization id (the tenant)
    #[arg(long, value_name = "ORG_ID")]
    org: String,
    /// A name for people, e.g. "okta"
    #[arg(long)]
    name: String,
    #[arg(long, value_enum, default_value_t = KindArg::Generic)]
    kind: KindArg,
    /// Whether the users and groups it receives flow on into ZITADEL
    #[arg(long, value_enum, default_value_t = Switch::On)]
    provisioning: Switch,
    /// What a SCIM DELETE of a user does in ZITADEL
    #[arg(long, value_enum, default_value_t = DeletePolicyArg::Deactivate)]
    delete_policy: DeletePolicyArg,
    /// Also accept bearer tokens the environment's ZITADEL vouches for (a service user's PAT or client-credentials
    /// token with a user-manager role in the org), as ZITADEL's own SCIM server does
    #[arg(long, value_enum, default_value_t = Switch::Off)]
    zitadel_tokens: Switch,
    /// The connection is stalled after this long without a request (`24h`, `7d`); default: never
    #[arg(long, value_name = "DURATION|never")]
    expect_activity_within: Option<ActivityExpectation>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The connection id (see `warden scim connection list`)
    id: String,
    /// How long the previous token keeps working: `1h`, `24h`, `7d`
    #[arg(long, default_value = "24h")]
    grace: ConfigDuration,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DisableArgs {
    /// The connection id
    id: String,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// The connection id
    id: String,
    /// How many requests, at most
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(super) async fn run(app: &App, command: &ScimCommand) -> anyhow::Result<ExitCode> {
    let ScimCommand::Connection(command) = command;
    match command {
        ConnectionCommand::Create(args) => create(app, args).await,
        ConnectionCommand::List(args) => list(app, args).await,
        ConnectionCommand::Rotate(args) => rotate(app, args).await,
        ConnectionCommand::Disable(args) => disable(app, args).await,
        ConnectionCommand::Configure(args) => configure(app, args).await,
        ConnectionCommand::Log(args) => log(app, args).await,
    }
}

fn print_token(format: OutputFormat, issued: &IssuedToken, note: &str) -> std::io::Result<()> {
    let token = issued.token.expose_secret();
    match format {
        OutputFormat::Json => outln!("{}", json!({"base_url": issued.base_url, "token": token}))?,
        OutputFormat::Table => {
            outln!("base URL: {}", issued.base_url)?;
            outln!("token:    {token}")?;
            outln!("{note}")?;
        }
    }
    Ok(())
}

async fn create(app: &App, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let org_id = OrgId::parse(args.org.clone()).context("--org")?;
    let kind = match args.kind {
        KindArg::Okta => ScimConnectionKind::Okta,
        KindArg::Entra => ScimConnectionKind::Entra,
        KindArg::Generic => ScimConnectionKind::Generic,
    };
    let settings = ConnectionSettings {
        provisioning: args.provisioning == Switch::On,
        delete_policy: args.delete_policy.policy(),
        zitadel_tokens: args.zitadel_tokens == Switch::On,
        expect_activity_within: args.expect_activity_within.and_then(|expectation| expectation.0),
    };
    let options = ConnectionOptions { kind, settings };
    let issued = scim_admin::create_connection(app, &args.env, org_id, &args.name, options).await?;
    let note = format!("connection {}: store the token now, it is not shown again", issued.connection.id);
    print_token(args.format, &issued, &note)?;
    Ok(ExitCode::SUCCESS)
}

async fn list(app: &App, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let connections = scim_admin::connections(app).await?;
    let status = |status: &ConnectionStatus| match status {
        ConnectionStatus::Disabled => "disabled".to_owned(),
        ConnectionStatus::Rotating { previous_valid_until } => {
            format!("active (previous token valid until {})", time_text(*previous_valid_until))
        }
        ConnectionStatus::Active => "active".to_owned(),
    };
    match args.format {
        OutputFormat::Json => {
            let rows: Vec<_> = connections
                .iter()
                .map(|overview| {
                    let (connection, activity) = (&overview.connection, &overview.activity);
                    json!({
                        "id": connection.id.as_str(),
                        "environment": connection.tenant.environment.as_str(),
                        "org_id": connection.tenant.org_id.as_str(),
                        "name": connection.name,
                        "kind": connection.kind.as_str(),
                        "base_url": overview.base_url,
                        "created_at": time_text(connection.created_at),
                        "disabled_at": connection.disabled_at.map(time_text),
                        "status": status(&overview.status),
                        "provisioning": connection.settings.provisioning,
                        "delete_policy": connection.settings.delete_policy.as_str(),
                        "zitadel_tokens": connection.settings.zitadel_tokens,
                        "expect_activity_within_seconds":
                            connection.settings.expect_activity_within.map(|within| within.whole_seconds()),
                        "last_request_at": activity.last_request_at.map(time_text),
                        "last_24h": {
                            "requests": activity.requests,
                            "client_errors": activity.client_errors,
                            "server_errors": activity.server_errors,
                        },
                    })
                })
                .collect();
            outln!("{}", serde_json::Value::Array(rows))?;
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = connections
                .iter()
                .map(|overview| {
                    let (connection, activity) = (&overview.connection, &overview.activity);
                    vec![
                        connection.id.to_string(),
                        connection.tenant.environment.to_string(),
                        connection.tenant.org_id.to_string(),
                        connection.name.clone(),
                        connection.kind.as_str().to_owned(),
                        time_text(connection.created_at),
                        status(&overview.status),
                        activity.last_request_at.map_or_else(|| "never".to_owned(), time_text),
                        activity.requests.to_string(),
                        activity.client_errors.to_string(),
                        activity.server_errors.to_string(),
                    ]
                })
                .collect();
            let header =
                ["ID", "ENV", "ORG", "NAME", "KIND", "CREATED", "STATUS", "LAST REQUEST", "24H", "24H 4XX", "24H 5XX"];
            out!("{}", table::render(&header, &rows))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate(app: &App, args: &RotateArgs) -> anyhow::Result<ExitCode> {
    let id = ScimConnectionId::new(args.id.clone());
    let issued = scim_admin::rotate_token(app, &id, args.grace.as_time()).await?;
    let until = issued.previous_valid_until.map(time_text).unwrap_or_default();
    let note = format!(
        "connection {id}: the previous token works until {until}; store the new one now, it is not shown again"
    );
    print_token(args.format, &issued, &note)?;
    Ok(ExitCode::SUCCESS)
}

async fn disable(app: &App, args: &DisableArgs) -> anyhow::Result<ExitCode> {
    let id = ScimConnectionId::new(args.id.clone());
    scim_admin::disable_connection(app, &id).await?;
    outln!("connection {id} is disabled")?;
    Ok(ExitCode::SUCCESS)
}

async fn log(app: &App, args: &LogArgs) -> anyhow::Result<ExitCode> {
    let id = ScimConnectionId::new(args.id.clone());
    let entries = scim_admin::request_log(app, &id, args.limit).await?;
    match args.format {
        OutputFormat::Json => {
            let requests: Vec<_> = entries
                .iter()
                .map(|entry| {
                    json!({
                        "at": time_text(entry.at),
                        "method": entry.method,
                        "path": entry.path,
                        "status": entry.status,
                        "latency_ms": entry.latency_ms,
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "requests": requests }))?)?;
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|entry| {
                    vec![
                        time_text(entry.at),
                        entry.method.clone(),
                        entry.path.clone(),
                        entry.status.to_string(),
                        entry.latency_ms.to_string(),
                    ]
                })
                .collect();
            out!("{}", table::render(&["AT", "METHOD", "PATH", "STATUS", "MS"], &rows))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
