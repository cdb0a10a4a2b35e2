//! `warden scim connection create|list|rotate|disable|log`: the bearer tokens SCIM clients use, and what they did.
//!
//! A token is printed once, when it is created or rotated; the store keeps only its SHA-256.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use time::Duration;
use warden_core::id::OrgId;

use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, selected_environments, table, time_text};
use crate::config::{Config, parse_duration_seconds};
use crate::scim::{now, token};
use crate::store::{
    self, ScimConnection, ScimConnectionActivity, ScimConnectionId, ScimConnectionKind, ScimTenant, Store,
};

/// The window of `list`'s request and error counts.
const ACTIVITY_WINDOW: Duration = Duration::days(1);

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
    grace: String,
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

pub(super) async fn run(config: &Config, command: &ScimCommand) -> anyhow::Result<ExitCode> {
    let ScimCommand::Connection(command) = command;
    match command {
        ConnectionCommand::Create(args) => create(config, args).await,
        ConnectionCommand::List(args) => list(config, args).await,
        ConnectionCommand::Rotate(args) => rotate(config, args).await,
        ConnectionCommand::Disable(args) => disable(config, args).await,
        ConnectionCommand::Log(args) => log(config, args).await,
    }
}

fn base_url(config: &Config, org: &OrgId) -> String {
    format!("{}/scim/v2/{org}", config.server.public_base_url())
}

fn print_token(format: OutputFormat, base_url: &str, token: &str, note: &str) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => outln!("{}", json!({"base_url": base_url, "token": token}))?,
        OutputFormat::Table => {
            outln!("base URL: {base_url}")?;
            outln!("token:    {token}")?;
            outln!("{note}")?;
        }
    }
    Ok(())
}

/// Stores a new connection into `tenant` and returns it with its token (only the token's hash is stored).
pub(super) async fn issue_connection(
    store: &dyn Store,
    tenant: ScimTenant,
    name: &str,
    kind: ScimConnectionKind,
    now: time::OffsetDateTime,
) -> Result<(ScimConnection, SecretString), store::Error> {
    let (token, hash) = token::issue_token();
    let connection = ScimConnection {
        id: ScimConnectionId::new(token::new_id(now)),
        tenant,
        name: name.to_owned(),
        kind,
        token_hash: hash,
        previous_token_hash: None,
        previous_valid_until: None,
        disabled_at: None,
        created_at: now,
    };
    store.create_scim_connection(&connection).await?;
    Ok((connection, token))
}

async fn create(config: &Config, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let environment = selected_environments(config, Some(&args.env))?
        .into_iter()
        .next()
        .context("no environment selected")?
        .to_environment()
        .map_err(|(field, message)| anyhow::anyhow!("environments[{}].{field}: {message}", args.env))?;
    let org_id = OrgId::parse(args.org.clone()).context("--org")?;
    let store = store::open_and_migrate(&config.database.url).await?;
    store.upsert_environment(&environment).await?;
    let kind = match args.kind {
        KindArg::Okta => ScimConnectionKind::Okta,
        KindArg::Entra => ScimConnectionKind::Entra,
        KindArg::Generic => ScimConnectionKind::Generic,
    };
    let tenant = ScimTenant { environment: environment.name, org_id: org_id.clone() };
    let (connection, token) = issue_connection(&*store, tenant, &args.name, kind, now()).await?;
    tracing::info!(connection = %connection.id, org = %org_id, "SCIM connection created");
    let note = format!("connection {}: store the token now, it is not shown again", connection.id);
    print_token(args.format, &base_url(config, &org_id), token.expose_secret(), &note)?;
    Ok(ExitCode::SUCCESS)
}

async fn list(config: &Config, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    let connections = store.list_scim_connections().await?;
    let at = now();
    let activities = store.scim_connection_activity(at - ACTIVITY_WINDOW).await?;
    let idle = |connection: &ScimConnection| ScimConnectionActivity {
        connection_id: connection.id.clone(),
        last_request_at: None,
        requests: 0,
        client_errors: 0,
        server_errors: 0,
    };
    let activity = |connection: &ScimConnection| {
        activities
            .iter()
            .find(|activity| activity.connection_id == connection.id)
            .cloned()
            .unwrap_or_else(|| idle(connection))
    };
    let status = |connection: &ScimConnection| match (connection.disabled_at, connection.previous_valid_until) {
        (Some(_), _) => "disabled".to_owned(),
        (None, Some(until)) if until > at => format!("active (previous token valid until {})", time_text(until)),
        _ => "active".to_owned(),
    };
    match args.format {
        OutputFormat::Json => {
            let rows: Vec<_> = connections
                .iter()
                .map(|connection| {
                    let activity = activity(connection);
                    json!({
                        "id": connection.id.as_str(),
                        "environment": connection.tenant.environment.as_str(),
                        "org_id": connection.tenant.org_id.as_str(),
                        "name": connection.name,
                        "kind": connection.kind.as_str(),
                        "base_url": base_url(config, &connection.tenant.org_id),
                        "created_at": time_text(connection.created_at),
                        "disabled_at": connection.disabled_at.map(time_text),
                        "status": status(connection),
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
                .map(|connection| {
                    let activity = activity(connection);
                    vec![
                        connection.id.to_string(),
                        connection.tenant.environment.to_string(),
                        connection.tenant.org_id.to_string(),
                        connection.name.clone(),
                        connection.kind.as_str().to_owned(),
                        time_text(connection.created_at),
                        status(connection),
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

async fn rotate(config: &Config, args: &RotateArgs) -> anyhow::Result<ExitCode> {
    let grace = parse_duration_seconds(&args.grace).map_err(anyhow::Error::msg).context("--grace")?;
    let store = store::open_and_migrate(&config.database.url).await?;
    let id = ScimConnectionId::new(args.id.clone());
    let connection = store.scim_connection(&id).await?.with_context(|| format!("no SCIM connection {id}"))?;
    anyhow::ensure!(connection.disabled_at.is_none(), "SCIM connection {id} is disabled");
    let (token, hash) = token::issue_token();
    let until = now() + Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX));
    store.rotate_scim_connection_token(&id, &hash, until).await?;
    tracing::info!(connection = %id, "SCIM token rotated");
    let note = format!(
        "connection {id}: the previous token works until {}; store the new one now, it is not shown again",
        time_text(until)
    );
    print_token(args.format, &base_url(config, &connection.tenant.org_id), token.expose_secret(), &note)?;
    Ok(ExitCode::SUCCESS)
}

async fn disable(config: &Config, args: &DisableArgs) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    let id = ScimConnectionId::new(args.id.clone());
    anyhow::ensure!(store.disable_scim_connection(&id, now()).await?, "no SCIM connection {id}");
    outln!("connection {id} is disabled")?;
    Ok(ExitCode::SUCCESS)
}

async fn log(config: &Config, args: &LogArgs) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    let id = ScimConnectionId::new(args.id.clone());
    anyhow::ensure!(store.scim_connection(&id).await?.is_some(), "no SCIM connection {id}");
    let entries = store.list_scim_request_log(&id, args.limit).await?;
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
