//! `warden compare`: projects and their role keys side by side across environments, by organization and project
//! name (ids differ between environments).

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use warden_core::id::EnvironmentName;
use warden_core::model::{ResourceKind, Snapshot};
use warden_core::posture::{ProjectComparison, compare_projects};

use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, join_display, table};
use crate::config::Config;
use crate::store;

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

pub(super) async fn run(config: &Config, args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = if args.environments.is_empty() {
        config.environments.iter().map(|environment| environment.name.clone()).collect()
    } else {
        args.environments.clone()
    };
    let mut environments = Vec::new();
    for name in &names {
        anyhow::ensure!(config.environment(name).is_some(), "no environment named {name:?} is configured");
        environments.push(EnvironmentName::parse(name)?);
    }
    anyhow::ensure!(environments.len() >= 2, "comparing needs at least two environments (configured: {})", names.len());
    let store = store::open_and_migrate(&config.database.url).await?;
    let mut states = Vec::new();
    for environment in environments {
        let mut state = Snapshot::default();
        for kind in [ResourceKind::Org, ResourceKind::Project, ResourceKind::ProjectRole] {
            state.extend(store.list_objects(&environment, kind).await?);
        }
        states.push((environment, state));
    }
    let compared: Vec<(EnvironmentName, &Snapshot)> =
        states.iter().map(|(environment, state)| (environment.clone(), state)).collect();
    let comparisons: Vec<ProjectComparison<'_>> =
        compare_projects(&compared).into_iter().filter(|comparison| args.all || comparison.differs()).collect();
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
