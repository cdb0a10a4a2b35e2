//! `warden compare`: projects and their role keys side by side across environments, by organization and project
//! name (ids differ between environments).

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use warden_core::id::EnvironmentName;
use warden_core::model::Snapshot;
use warden_core::posture::ProjectComparison;

use crate::app::App;
use crate::app::history::{environment_roles, project_comparisons};
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, join_display, table};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Environments to compare (repeat; default: every configured one)
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// Also list projects that are alike everywhere
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(super) async fn run(app: &App, args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let roles = environment_roles(app, &args.environments).await?;
    let compared = roles.compared();
    let comparisons = project_comparisons(&compared, args.all);
    match args.format {
        OutputFormat::Json => {
            let value = json!({
                "environments": compared.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(),
                "projects": comparisons.iter().map(|comparison| comparison_json(comparison, &compared)).collect::<Vec<_>>(),
            });
            outln!("{}", serde_json::to_string_pretty(&value)?)?;
        }
        OutputFormat::Table => {
            if comparisons.is_empty() {
                outln!(
                    "every project has the same role keys in {}",
                    join_display(compared.iter().map(|(name, _)| name), ", ")
                )?;
            } else {
                let mut header = vec!["organization", "project"];
                header.extend(compared.iter().map(|(name, _)| name.as_str()));
                let rows: Vec<Vec<String>> =
                    comparisons.iter().map(|comparison| comparison_row(comparison, &compared)).collect();
                out!("{}", table::render(&header, &rows))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One cell per environment: absent, alike, or the keys it lacks and has on its own.
fn comparison_row(comparison: &ProjectComparison<'_>, environments: &[(EnvironmentName, &Snapshot)]) -> Vec<String> {
    let all = comparison.all_role_keys();
    let mut row = vec![comparison.org_name.clone(), comparison.project_name.clone()];
    for (name, _) in environments {
        let cells: Vec<String> = comparison
            .present
            .iter()
            .filter(|here| here.environment == name)
            .map(|here| {
                let missing: Vec<&str> = all.difference(&here.role_keys).copied().collect();
                if missing.is_empty() {
                    format!("{} keys", here.role_keys.len())
                } else {
                    format!("lacks {}", missing.join(","))
                }
            })
            .collect();
        row.push(if cells.is_empty() { "(absent)".to_owned() } else { cells.join("; ") });
    }
    row
}

fn comparison_json(
    comparison: &ProjectComparison<'_>,
    environments: &[(EnvironmentName, &Snapshot)],
) -> serde_json::Value {
    let all = comparison.all_role_keys();
    json!({
        "org_name": comparison.org_name,
        "project_name": comparison.project_name,
        "differs": comparison.differs(),
        "role_keys": all.iter().collect::<Vec<_>>(),
        "environments": environments.iter().map(|(name, _)| {
            let here: Vec<_> = comparison.present.iter().filter(|here| here.environment == name).map(|here| json!({
                "project_id": here.project.id.as_str(),
                "org_id": here.project.org_id.as_str(),
                "role_keys": here.role_keys.iter().collect::<Vec<_>>(),
                "missing": all.difference(&here.role_keys).collect::<Vec<_>>(),
            })).collect();
            json!({"environment": name.as_str(), "present": !here.is_empty(), "projects": here})
        }).collect::<Vec<_>>(),
    })
}
