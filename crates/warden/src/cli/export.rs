//! `warden export access`: who holds which role where, in the shape access-review (IGA) tools import: users,
//! projects as groups, roles as entitlements, and grants.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use warden_core::model::{Snapshot, UserKind};

use crate::app::App;
use crate::app::history::export_snapshots;
use crate::cli::output::{out, outln};
use crate::cli::report::csv_field;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Users, projects (groups), roles (entitlements) and grants
    Access(AccessArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ExportFormat {
    /// One row per user, project and role: the flat file review tools take
    Csv,
    /// Users, groups, entitlements and grants as separate lists
    Json,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    format: ExportFormat,
}

pub(super) async fn run(app: &App, command: &ExportCommand) -> anyhow::Result<ExitCode> {
    let ExportCommand::Access(args) = command;
    let exported: Vec<(String, Snapshot)> = export_snapshots(app, args.env.as_deref())
        .await?
        .into_iter()
        .map(|(name, snapshot)| (name.to_string(), snapshot))
        .collect();
    match args.format {
        ExportFormat::Csv => out!("{}", access_csv(&exported))?,
        ExportFormat::Json => {
            let environments: Vec<serde_json::Value> =
                exported.iter().map(|(name, snapshot)| access_json(name, snapshot)).collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "environments": environments }))?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn user_type(kind: &UserKind) -> &'static str {
    match kind {
        UserKind::Human(_) => "human",
        UserKind::Machine(_) => "machine",
    }
}

fn access_csv(exported: &[(String, Snapshot)]) -> String {
    let mut out = String::from(
        "environment,user_id,username,user_type,user_state,user_org_id,project_id,project_name,role_key,grant_id,grant_state\n",
    );
    for (environment, snapshot) in exported {
        let users: BTreeMap<_, _> = snapshot.users.iter().map(|user| (&user.id, user)).collect();
        let projects: BTreeMap<_, _> = snapshot.projects.iter().map(|project| (&project.id, project)).collect();
        for grant in &snapshot.user_grants {
            let user = users.get(&grant.user_id);
            let project_name = projects.get(&grant.project_id).map(|project| project.name.as_str()).unwrap_or_default();
            let (username, kind, state, org) = match user {
                Some(user) => {
                    (user.username.as_str(), user_type(&user.kind), user.state.as_str(), user.org_id.as_str())
                }
                None => ("", "", "", ""),
            };
            let roles: Vec<&str> = if grant.role_keys.is_empty() {
                vec![""]
            } else {
                grant.role_keys.iter().map(|key| key.as_str()).collect()
            };
            for role in roles {
                let fields = [
                    environment.as_str(),
                    grant.user_id.as_str(),
                    username,
                    kind,
                    state,
                    org,
                    grant.project_id.as_str(),
                    project_name,
                    role,
                    grant.id.as_str(),
                    grant.state.as_str(),
                ];
                out.push_str(&fields.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
        }
    }
    out
}

/// The stable JSON of `warden export access --format json`.
fn access_json(environment: &str, snapshot: &Snapshot) -> serde_json::Value {
    json!({
        "name": environment,
        "users": snapshot.users.iter().map(|user| {
            let email = match &user.kind {
                UserKind::Human(human) => Some(human.email.as_str()).filter(|email| !email.is_empty()),
                UserKind::Machine(_) => None,
            };
            json!({
                "id": user.id.as_str(),
                "username": user.username,
                "name": user.display_name(),
                "email": email,
                "type": user_type(&user.kind),
                "state": user.state.as_str(),
                "org_id": user.org_id.as_str(),
            })
        }).collect::<Vec<_>>(),
        "groups": snapshot.projects.iter().map(|project| json!({
            "id": project.id.as_str(),
            "name": project.name,
            "org_id": project.org_id.as_str(),
        })).collect::<Vec<_>>(),
        "entitlements": snapshot.project_roles.iter().map(|role| json!({
            "id": format!("{}/{}", role.project_id, role.key),
            "group_id": role.project_id.as_str(),
            "key": role.key.as_str(),
            "display_name": role.display_name,
        })).collect::<Vec<_>>(),
        "grants": snapshot.user_grants.iter().map(|grant| json!({
            "id": grant.id.as_str(),
            "user_id": grant.user_id.as_str(),
            "group_id": grant.project_id.as_str(),
            "entitlement_ids": grant.role_keys.iter().map(|key| format!("{}/{key}", grant.project_id)).collect::<Vec<_>>(),
            "state": grant.state.as_str(),
        })).collect::<Vec<_>>(),
    })
}
