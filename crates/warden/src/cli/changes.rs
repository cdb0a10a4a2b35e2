//! `warden changes`: the recorded change history, newest first.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use warden_core::id::EnvironmentName;
use warden_core::model::{Attribution, Change, ResourceKind};

use crate::app::App;
use crate::app::history::changes;
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, parse_when, table, time_text};
use crate::store::ChangeQuery;

#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Only changes observed since this time: RFC 3339 (2026-11-01T09:30:00Z), a date (2026-11-01, 00:00 UTC) or a
    /// duration back from now (7d, 12h)
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only this kind of object (user, machine_key, user_grant, membership, ...)
    #[arg(long = "type", value_name = "KIND")]
    object_kind: Option<String>,
    /// At most this many changes
    #[arg(long, default_value_t = 200)]
    limit: u32,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(super) async fn run(app: &App, args: &ChangesArgs) -> anyhow::Result<ExitCode> {
    let environment = args.env.as_deref().map(EnvironmentName::parse).transpose()?;
    let object_kind = match args.object_kind.as_deref() {
        None => None,
        Some(text) => Some(ResourceKind::parse(text).ok_or_else(|| {
            let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|kind| kind.as_str()).collect();
            anyhow::anyhow!("--type {text:?} is not one of {}", kinds.join(", "))
        })?),
    };
    let since = args.since.as_deref().map(|text| parse_when("--since", text, app.now())).transpose()?;
    let query = ChangeQuery { environment, since, object_kind, limit: Some(args.limit) };
    let changes = changes(app, &query).await?;
    match args.format {
        OutputFormat::Json => {
            let changes: Vec<serde_json::Value> = changes.iter().map(change_json).collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "changes": changes }))?)?;
        }
        OutputFormat::Table => out!("{}", change_table(&changes))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The stable JSON of `warden changes --format json`.
fn change_json(change: &Change) -> serde_json::Value {
    let (attribution, actor) = match &change.attribution {
        Attribution::Observed => ("observed", serde_json::Value::Null),
        Attribution::Event { editor_user_id, editor_name, occurred_at } => (
            "event",
            json!({
                "user_id": editor_user_id.as_ref().map(ToString::to_string),
                "name": editor_name,
                "occurred_at": time_text(*occurred_at),
            }),
        ),
    };
    json!({
        "environment": change.environment.as_str(),
        "run_id": change.run_id.0,
        "observed_at": time_text(change.observed_at),
        "object_kind": change.object_kind.as_str(),
        "object_key": change.object_key,
        "org_id": change.org_id.as_ref().map(ToString::to_string),
        "kind": change.kind.as_str(),
        "fields": change.fields.iter().map(|field| json!({"field": field.field, "before": field.before, "after": field.after})).collect::<Vec<_>>(),
        "attribution": attribution,
        "actor": actor,
    })
}

/// Who made a change, for people: the editor's name or id, or `(observed)` when ZITADEL did not say.
pub(super) fn actor(change: &Change) -> String {
    match &change.attribution {
        Attribution::Observed => "(observed)".to_owned(),
        Attribution::Event { editor_name, editor_user_id, .. } => {
            editor_name.clone().or_else(|| editor_user_id.as_ref().map(ToString::to_string)).unwrap_or_default()
        }
    }
}

/// The fields a modification changed, `field: before -> after`, for people.
pub(super) fn modified_fields(change: &Change) -> String {
    let fields: Vec<String> = change
        .fields
        .iter()
        .filter(|field| field.before.is_some() && field.after.is_some())
        .map(|field| {
            format!(
                "{}: {} -> {}",
                field.field,
                field.before.as_deref().unwrap_or(""),
                field.after.as_deref().unwrap_or("")
            )
        })
        .collect();
    fields.join("; ")
}

fn change_table(changes: &[Change]) -> String {
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|change| {
            let when = match &change.attribution {
                Attribution::Observed => change.observed_at,
                Attribution::Event { occurred_at, .. } => *occurred_at,
            };
            vec![
                time_text(when),
                change.environment.to_string(),
                change.kind.to_string(),
                change.object_kind.to_string(),
                change.object_key.clone(),
                actor(change),
                modified_fields(change),
            ]
        })
        .collect();
    table::render(&["when", "environment", "change", "type", "object", "by", "fields"], &rows)
}
