//! The command line. Each subcommand exists only when it works; exit codes are documented in `--help`.

mod access;
mod changes;
mod compare;
mod demo;
mod export;
mod governance;
mod health;
mod output;
mod provisioning;
mod report;
mod runs;
mod scim;
mod serve;
mod sync;
mod table;
mod trends;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use time::OffsetDateTime;
use warden_core::operator::{Operator, OperatorName};

use crate::app::{App, Settings};
use crate::cli::output::outln;
use crate::config::{self, Config, ConfigSource};
use crate::{store, telemetry};

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  a sync was partial: some lists could not be read (their stored state was kept)
  2  invalid configuration, unreachable database, a failed sync, or another error
  3  warden report (or warden health) --fail-on SEVERITY found a finding of that severity or higher
  4  warden sync: another process (warden serve, or another warden sync) is syncing the environment";

/// Identity governance for ZITADEL: sync, posture, SCIM provisioning.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Configuration file [default: ./warden.toml if it exists]
    #[arg(long, global = true, env = "WARDEN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database schema (also done on every start)
    Migrate,
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Read every configured environment from ZITADEL into the store and record what changed
    Sync(sync::SyncArgs),
    /// List recorded changes, newest first
    Changes(changes::ChangesArgs),
    /// Recent sync runs of each environment: status (running, ok, partial, failed, interrupted), duration, errors
    Runs(runs::RunsArgs),
    /// Findings and service accounts of the synced environments (exit 3 with --fail-on when one is met)
    Report(report::ReportArgs),
    /// Probe ZITADEL and its identity providers now and print each one's status (exit 3 with --fail-on when a
    /// provider finding is met)
    Health(health::HealthArgs),
    /// Counts of service accounts, humans, grants and findings over time (by sync, day or week)
    Trends(trends::TrendsArgs),
    /// Projects and their role keys side by side across environments (only differences unless --all)
    Compare(compare::CompareArgs),
    /// Access at a point in time, from the recorded changes: who held a role, what an account could do
    #[command(subcommand)]
    Access(access::AccessCommand),
    /// Export synced data for other tools
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Serve SCIM 2.0 (and /healthz, /readyz) on [server] listen
    Serve,
    /// Manage SCIM connections: the bearer tokens of Okta, Entra ID and other SCIM clients
    #[command(subcommand)]
    Scim(scim::ScimCommand),
    /// Sync a simulated ZITADEL estate into a temporary store and report on it (nothing to set up)
    Demo(demo::DemoArgs),
    /// Findings as tracked across syncs: first and last seen, resolved, suppressed
    Findings(governance::FindingsArgs),
    /// Accept findings of a rule, for a subject or an environment, with a reason (audited)
    #[command(subcommand)]
    Suppress(governance::SuppressCommand),
    /// Alerts opened by findings: list, show, acknowledge, resolve, note (audited)
    #[command(subcommand)]
    Alerts(governance::AlertsCommand),
    /// What operators did: suppressions and alert actions
    Audit(governance::AuditArgs),
    /// Map SCIM groups to ZITADEL project roles (audited)
    #[command(subcommand)]
    Mapping(provisioning::MappingCommand),
    /// The provisioning outbox: status per connection, retry or discard parked operations (audited)
    #[command(subcommand)]
    Provisioning(provisioning::ProvisioningCommand),
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people
    Table,
    /// Stable JSON for scripts
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration, read every credential and reach the database; print the resolved configuration
    /// with secrets redacted
    Check,
}

/// Parses the arguments, runs the command and turns any error into one line on stderr and exit code 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        if matches!(cli.command, Command::Demo(_)) { telemetry::QUIET_FILTER } else { telemetry::DEFAULT_FILTER };
    telemetry::init(telemetry::LogFormat::from_env(), filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&anyhow::Error::new(error).context("cannot start the async runtime")),
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => fail(&error),
    }
}

fn fail(error: &anyhow::Error) -> ExitCode {
    // One line, whatever the cause chain holds.
    let message = format!("{error:#}").replace('\n', " ");
    eprintln!("error: {message}");
    ExitCode::from(2)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let (config, source) = config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Migrate => {
            with_app(&config, async |app| {
                let dialect = app.store().dialect();
                tracing::info!(database = %config.database.url, dialect, "database schema is up to date");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        // Neither opens the configured store: a check leaves no trace, the demo has its own.
        Command::Config(ConfigCommand::Check) => check_config(&config, &source).await,
        Command::Demo(args) => demo::run(&args).await,
        Command::Sync(args) => with_app(&config, async |app| sync::run(app, &args).await).await,
        Command::Changes(args) => with_app(&config, async |app| changes::run(app, &args).await).await,
        Command::Runs(args) => with_app(&config, async |app| runs::run(app, &args).await).await,
        Command::Report(args) => with_app(&config, async |app| report::run(app, &args).await).await,
        Command::Health(args) => with_app(&config, async |app| health::run(app, &args).await).await,
        Command::Trends(args) => with_app(&config, async |app| trends::run(app, &args).await).await,
        Command::Compare(args) => with_app(&config, async |app| compare::run(app, &args).await).await,
        Command::Access(command) => with_app(&config, async |app| access::run(app, &command).await).await,
        Command::Export(command) => with_app(&config, async |app| export::run(app, &command).await).await,
        Command::Findings(args) => with_app(&config, async |app| governance::findings(app, &args).await).await,
        Command::Suppress(command) => with_app(&config, async |app| governance::suppress(app, &command).await).await,
        Command::Alerts(command) => with_app(&config, async |app| governance::alerts(app, &command).await).await,
        Command::Audit(args) => with_app(&config, async |app| governance::audit(app, &args).await).await,
        Command::Serve => with_app(&config, async |app| serve::run(app).await).await,
        Command::Scim(command) => with_app(&config, async |app| scim::run(app, &command).await).await,
        Command::Mapping(command) => with_app(&config, async |app| provisioning::mapping(app, &command).await).await,
        Command::Provisioning(command) => with_app(&config, async |app| provisioning::run(app, &command).await).await,
    }
}

/// Runs `command` on the application the configuration describes (its store opened and migrated), then closes the
/// store, so that an SQLite database is left without a write-ahead log for the next command to replay.
async fn with_app(
    config: &Config,
    command: impl AsyncFnOnce(&App) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let app = App::open(Settings::from_config(config)?).await?;
    let result = command(&app).await;
    if let Err(error) = app.store().close().await {
        tracing::warn!(%error, "cannot close the database cleanly");
    }
    result
}

/// A time as RFC 3339 for tables and JSON.
fn time_text(time: time::OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| time.unix_timestamp().to_string())
}

/// Ids, names or keys in one cell or message.
fn join_display<T: std::fmt::Display>(items: impl IntoIterator<Item = T>, separator: &str) -> String {
    items.into_iter().map(|item| item.to_string()).collect::<Vec<_>>().join(separator)
}

/// A time given on the command line: RFC 3339 (`2026-11-01T09:30:00Z`), a date (`2026-11-01`, meaning 00:00 UTC)
/// or a duration back from `now` (`7d`, `12h`, `90m`).
fn parse_when(flag: &str, text: &str, now: OffsetDateTime) -> anyhow::Result<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(time) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &date_format) {
        return Ok(date.midnight().assume_utc());
    }
    let seconds = config::parse_duration_seconds(text).map_err(|_| {
        anyhow::anyhow!("{flag} {text:?} is not an RFC 3339 time, a date (2026-11-01) or a duration like 7d or 12h")
    })?;
    Ok(now - time::Duration::seconds(i64::try_from(seconds)?))
}

/// The person acting, as `--by NAME` names them.
fn operator(by: &str) -> anyhow::Result<Operator> {
    let name = OperatorName::parse(by).map_err(|error| anyhow::anyhow!("--by: {error}"))?;
    Ok(Operator::CommandLine(name))
}

async fn check_config(config: &Config, source: &ConfigSource) -> anyhow::Result<ExitCode> {
    let mut notes = Vec::new();
    match &source.file {
        Some(file) => notes.push(format!("configuration read from {} and WARDEN_* variables", file.display())),
        None => notes.push("no configuration file; defaults and WARDEN_* variables".to_owned()),
    }
    for environment in &config.environments {
        let credential = environment.credential.source().map_err(anyhow::Error::msg)?;
        credential.resolve().with_context(|| format!("environments[{}] credential", environment.name))?;
        notes.push(format!("environment {}: credential {credential} is readable", environment.name));
        if let Some(signing_key) = &environment.actions_signing_key {
            signing_key
                .resolve("actions_signing_key")
                .with_context(|| format!("environments[{}] actions_signing_key", environment.name))?;
            notes.push(format!("environment {}: actions signing key {signing_key} is readable", environment.name));
        }
    }
    if config.database.url.is_sqlite() {
        // Opening would create the file; a check should leave no trace.
        notes.push(format!("database {}: SQLite, created on first use", config.database.url));
    } else {
        store::open(&config.database.url).await?;
        notes.push(format!("database {}: reachable", config.database.url));
    }
    let resolved = toml::to_string_pretty(config).context("cannot render the configuration")?;
    outln!("{resolved}")?;
    for note in notes {
        outln!("# {note}")?;
    }
    Ok(ExitCode::SUCCESS)
}
