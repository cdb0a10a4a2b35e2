//! `warden access`: access at a point in time, reconstructed from the recorded changes: who held a role, and what a
//! service account could do.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use time::OffsetDateTime;
use warden_core::access_history::{AccessHistory, Holder, service_account_access_at, who_held_role};
use warden_core::id::{EnvironmentName, ProjectId, RoleKey, UserId};
use warden_core::model::{Snapshot, User};

use crate::cli::output::{out, outln};
use crate::cli::report::{credential_json, grant_json, membership_json, scope_text};
use crate::cli::{OutputFormat, join_display, parse_when, selected_environments, table, time_text};
use crate::config::Config;
use crate::store::{self, ChangeQuery, Store};

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Who held a role on a project (through user grants) at a time
    Who {
        #[command(flatten)]
        at: AtArgs,
        /// The project: its id, or its name when that is unique
        #[arg(long)]
        project: String,
        /// The role key
        #[arg(long)]
        role: String,
    },
    /// What a user (typically a service account) could do at a time: grants, manager roles, valid credentials
    Account {
        #[command(flatten)]
        at: AtArgs,
        /// The user: its id, or its username when that is unique
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct AtArgs {
    /// The environment (may be left out when only one is configured)
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// When: RFC 3339 (2026-11-01T09:30:00Z), a date (2026-11-01, 00:00 UTC) or a duration back (7d) [default: now]
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

/// An environment's history, loaded for questions about `at`.
struct Loaded {
    environment: EnvironmentName,
    at: OffsetDateTime,
    current: Snapshot,
    changes: Vec<warden_core::model::Change>,
    baseline: OffsetDateTime,
}

impl Loaded {
    fn history(&self) -> AccessHistory<'_> {
        AccessHistory { current: &self.current, changes: &self.changes, baseline: self.baseline }
    }
}

pub(super) async fn run(config: &Config, command: &AccessCommand) -> anyhow::Result<ExitCode> {
    match command {
        AccessCommand::Who { at, project, role } => {
            let loaded = load(config, at).await?;
            let project_id = resolve_project(&loaded.current, project)?;
            let role_key = RoleKey::parse(role).map_err(|error| anyhow::anyhow!("--role: {error}"))?;
            let holders = who_held_role(&loaded.history(), &project_id, &role_key, loaded.at)?;
            match at.format {
                OutputFormat::Json => {
                    let value = json!({
                        "environment": loaded.environment.as_str(),
                        "at": time_text(loaded.at),
                        "project_id": project_id.as_str(),
                        "role_key": role_key.as_str(),
                        "holders": holders.iter().map(holder_json).collect::<Vec<_>>(),
                    });
                    outln!("{}", serde_json::to_string_pretty(&value)?)?;
                }
                OutputFormat::Table => {
                    outln!(
                        "{} held {role_key} on project {project_id} in {} at {}:",
                        plural(holders.len(), "user"),
                        loaded.environment,
                        time_text(loaded.at)
                    )?;
                    let rows: Vec<Vec<String>> = holders.iter().map(holder_row).collect();
                    out!("{}", table::render(&["user", "username", "kind", "state", "grant", "roles"], &rows))?;
                }
            }
        }
        AccessCommand::Account { at, user } => {
            let loaded = load(config, at).await?;
            let user_id = resolve_user(&loaded.current, user)?;
            let access = service_account_access_at(&loaded.history(), &user_id, loaded.at)?;
            match at.format {
                OutputFormat::Json => {
                    let value = json!({
                        "environment": loaded.environment.as_str(),
                        "at": time_text(access.at),
                        "user": user_json(&access.user),
                        "grants": access.grants.iter().map(grant_json).collect::<Vec<_>>(),
                        "memberships": access.memberships.iter().map(membership_json).collect::<Vec<_>>(),
                        "credentials": access.credentials.iter().map(credential_json).collect::<Vec<_>>(),
                    });
                    outln!("{}", serde_json::to_string_pretty(&value)?)?;
                }
                OutputFormat::Table => {
                    let user = &access.user;
                    outln!(
                        "{} ({}, {}, {}) in {} at {}",
                        user.username,
                        user.id,
                        if user.is_machine() { "service account" } else { "human" },
                        user.state,
                        loaded.environment,
                        time_text(access.at)
                    )?;
                    let grants: Vec<Vec<String>> = access
                        .grants
                        .iter()
                        .map(|grant| {
                            vec![
                                grant.project_name.clone().unwrap_or_else(|| grant.project_id.to_string()),
                                join_display(&grant.role_keys, ","),
                                grant.user_grant_id.to_string(),
                            ]
                        })
                        .collect();
                    outln!("\n{}:", plural(grants.len(), "active user grant"))?;
                    out!("{}", table::render(&["project", "roles", "grant"], &grants))?;
                    let memberships: Vec<Vec<String>> = access
                        .memberships
                        .iter()
                        .map(|membership| vec![scope_text(&membership.scope), membership.roles.join(",")])
                        .collect();
                    outln!("\n{}:", plural(memberships.len(), "manager membership"))?;
                    out!("{}", table::render(&["scope", "roles"], &memberships))?;
                    let credentials: Vec<Vec<String>> = access
                        .credentials
                        .iter()
                        .map(|credential| {
                            vec![
                                credential.kind.as_str().to_owned(),
                                credential.id.clone(),
                                credential.created_at.map(time_text).unwrap_or_default(),
                                credential.expires_at.map_or_else(|| "never".to_owned(), time_text),
                            ]
                        })
                        .collect();
                    outln!("\n{}:", plural(credentials.len(), "valid credential"))?;
                    out!("{}", table::render(&["kind", "id", "created", "expires"], &credentials))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn load(config: &Config, args: &AtArgs) -> anyhow::Result<Loaded> {
    let environments = selected_environments(config, args.env.as_deref())?;
    let environment = match environments.as_slice() {
        [one] => EnvironmentName::parse(&one.name)?,
        [] => anyhow::bail!("no environments are configured: add [[environments]] to the configuration"),
        _ => anyhow::bail!("several environments are configured: say which with --env"),
    };
    #[allow(clippy::disallowed_methods, reason = "the default time is the command's now")]
    let at = match &args.at {
        Some(text) => parse_when("--at", text)?,
        None => OffsetDateTime::now_utc(),
    };
    let store = store::open_and_migrate(&config.database.url).await?;
    load_history(&*store, environment, at).await
}

/// The current state, the changes observed after `at`, and where history starts.
async fn load_history(store: &dyn Store, environment: EnvironmentName, at: OffsetDateTime) -> anyhow::Result<Loaded> {
    let baseline = store
        .first_stored_sync_run(&environment)
        .await?
        .ok_or_else(|| anyhow::anyhow!("environment {environment} has never been synced: run `warden sync` first"))?
        .started_at;
    let current = store.load_snapshot(&environment).await?;
    let query = ChangeQuery { environment: Some(environment.clone()), since: Some(at), ..ChangeQuery::default() };
    let changes = store.list_changes(&query).await?;
    Ok(Loaded { environment, at, current, changes, baseline })
}

/// An object named on the command line by its id, or by its name when exactly one object has that name (in the
/// current state, so that a renamed or removed one can still be asked about by id).
fn resolve<'a, Id, Error: std::fmt::Display>(
    flag: &str,
    text: &str,
    named: impl Iterator<Item = (&'a str, &'a Id)>,
    parse: impl FnOnce(&str) -> Result<Id, Error>,
) -> anyhow::Result<Id>
where
    Id: Clone + std::fmt::Display + 'a,
{
    let named: Vec<&Id> = named.filter(|(name, _)| *name == text).map(|(_, id)| id).collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => parse(text).map_err(|error| anyhow::anyhow!("{flag} {text:?}: {error}")),
        many => anyhow::bail!(
            "{flag} {text:?} names {} objects; give one of their ids: {}",
            many.len(),
            join_display(many, ",")
        ),
    }
}

fn resolve_project(snapshot: &Snapshot, text: &str) -> anyhow::Result<ProjectId> {
    let named = snapshot.projects.iter().map(|project| (project.name.as_str(), &project.id));
    resolve("--project", text, named, |text| ProjectId::parse(text))
}

fn resolve_user(snapshot: &Snapshot, text: &str) -> anyhow::Result<UserId> {
    let named = snapshot.users.iter().map(|user| (user.username.as_str(), &user.id));
    resolve("--user", text, named, |text| UserId::parse(text))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

fn user_json(user: &User) -> serde_json::Value {
    json!({
        "id": user.id.as_str(),
        "username": user.username,
        "kind": if user.is_machine() { "machine" } else { "human" },
        "state": user.state.as_str(),
        "org_id": user.org_id.as_str(),
    })
}

fn holder_json(holder: &Holder) -> serde_json::Value {
    json!({
        "user_id": holder.user_id.as_str(),
        "user": holder.user.as_ref().map(user_json),
        "user_grant_id": holder.user_grant_id.as_str(),
        "grant_org_id": holder.grant_org_id.as_str(),
        "role_keys": holder.role_keys.iter().map(|key| key.as_str()).collect::<Vec<_>>(),
    })
}

fn holder_row(holder: &Holder) -> Vec<String> {
    let (username, kind, state) = match &holder.user {
        Some(user) => (
            user.username.clone(),
            if user.is_machine() { "machine" } else { "human" }.to_owned(),
            user.state.to_string(),
        ),
        None => ("(not synced)".to_owned(), String::new(), String::new()),
    };
    vec![
        holder.user_id.to_string(),
        username,
        kind,
        state,
        holder.user_grant_id.to_string(),
        join_display(&holder.role_keys, ","),
    ]
}
