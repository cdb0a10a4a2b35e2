//! `warden access`: access at a point in time, reconstructed from the recorded changes: who held a role, and what a
//! service account could do.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use time::OffsetDateTime;
use warden_core::access_history::Holder;
use warden_core::model::User;

use crate::app::App;
use crate::app::history::{account_access_at, role_holders_at};
use crate::cli::output::{out, outln};
use crate::cli::report::{credential_json, grant_json, membership_json, scope_text};
use crate::cli::{OutputFormat, join_display, parse_when, table, time_text};

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

pub(super) async fn run(app: &App, command: &AccessCommand) -> anyhow::Result<ExitCode> {
    match command {
        AccessCommand::Who { at, project, role } => {
            let when = when(app, at)?;
            let found = role_holders_at(app, at.env.as_deref(), when, project, role).await?;
            let (holders, role_key, project_id) = (&found.holders, &found.role_key, &found.project_id);
            match at.format {
                OutputFormat::Json => {
                    let value = json!({
                        "environment": found.environment.as_str(),
                        "at": time_text(found.at),
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
                        found.environment,
                        time_text(found.at)
                    )?;
                    let rows: Vec<Vec<String>> = holders.iter().map(holder_row).collect();
                    out!("{}", table::render(&["user", "username", "kind", "state", "grant", "roles"], &rows))?;
                }
            }
        }
        AccessCommand::Account { at, user } => {
            let when = when(app, at)?;
            let (environment, access) = account_access_at(app, at.env.as_deref(), when, user).await?;
            match at.format {
                OutputFormat::Json => {
                    let value = json!({
                        "environment": environment.as_str(),
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
                        environment,
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

/// The time asked about: `--at`, or now.
fn when(app: &App, args: &AtArgs) -> anyhow::Result<OffsetDateTime> {
    let now = app.now();
    args.at.as_deref().map_or(Ok(now), |text| parse_when("--at", text, now))
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
