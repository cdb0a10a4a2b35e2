//! `warden trends`: counts of machine users, humans, grants and findings over time, one point per sync or thinned to
//! one per day or ISO week.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;
use warden_core::id::OrgId;
use warden_core::trend::{Granularity, TrendPoint};

use crate::app::App;
use crate::app::history::{TrendBucket, TrendQuery, trends};
use crate::cli::output::{out, outln};
use crate::cli::{OutputFormat, parse_when, table, time_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Bucket {
    /// Every sync
    Sync,
    /// The last sync of each day (UTC)
    Day,
    /// The last sync of each ISO week (Monday to Sunday, UTC)
    Week,
}

#[derive(Debug, Args)]
pub struct TrendsArgs {
    /// Only this environment
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// One organization's counts instead of the environment's
    #[arg(long, value_name = "ORG_ID", conflicts_with = "per_org")]
    org: Option<String>,
    /// Every organization's counts, besides the environment's
    #[arg(long)]
    per_org: bool,
    #[arg(long, value_enum, default_value_t = Bucket::Day)]
    by: Bucket,
    /// Only points since: RFC 3339, a date (2026-11-01) or a duration back from now (30d) [default: 90d]
    #[arg(long, value_name = "WHEN", default_value = "90d")]
    since: String,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

pub(super) async fn run(app: &App, args: &TrendsArgs) -> anyhow::Result<ExitCode> {
    let org = args.org.as_deref().map(OrgId::parse).transpose().map_err(|error| anyhow::anyhow!("--org: {error}"))?;
    let query = TrendQuery {
        environment: args.env.clone(),
        org,
        per_org: args.per_org,
        since: parse_when("--since", &args.since, app.now())?,
        bucket: match args.by {
            Bucket::Sync => TrendBucket::Sync,
            Bucket::Day => TrendBucket::Day,
            Bucket::Week => TrendBucket::Week,
        },
    };
    let points = trends(app, &query).await?;
    match args.format {
        OutputFormat::Json => {
            let items: Vec<_> = points.iter().map(|point| point_json(point, args.by)).collect();
            outln!("{}", serde_json::to_string_pretty(&json!({ "points": items }))?)?;
        }
        OutputFormat::Table => out!("{}", trend_table(&points, args.by))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The bucket a point stands for: its day or week's Monday, or its own time for every sync.
fn bucket_text(point: &TrendPoint, by: Bucket) -> String {
    match by {
        Bucket::Sync => time_text(point.at),
        Bucket::Day => Granularity::Day.bucket_start(point.at).to_string(),
        Bucket::Week => format!("week of {}", Granularity::Week.bucket_start(point.at)),
    }
}

fn point_json(point: &TrendPoint, by: Bucket) -> serde_json::Value {
    json!({
        "environment": point.environment.as_str(),
        "org_id": point.org_id.as_ref().map(|org| org.as_str()),
        "bucket": match by {
            Bucket::Sync => serde_json::Value::Null,
            Bucket::Day => json!(Granularity::Day.bucket_start(point.at).to_string()),
            Bucket::Week => json!(Granularity::Week.bucket_start(point.at).to_string()),
        },
        "at": time_text(point.at),
        "machine_users": point.machine_users,
        "human_users": point.human_users,
        "user_grants": point.user_grants,
        "findings": point.findings,
    })
}

/// A signed difference to the previous point of the same series, empty for a series' first point.
fn delta(now: u64, before: Option<u64>) -> String {
    match before {
        None => String::new(),
        Some(before) if now >= before => format!("+{}", now - before),
        Some(before) => format!("-{}", before - now),
    }
}

fn trend_table(points: &[TrendPoint], by: Bucket) -> String {
    if points.is_empty() {
        return "no trend points yet: every `warden sync` records one\n".to_owned();
    }
    let mut rows = Vec::new();
    let mut previous: Option<&TrendPoint> = None;
    for point in points {
        let same_series =
            previous.filter(|before| before.environment == point.environment && before.org_id == point.org_id);
        rows.push(vec![
            point.environment.to_string(),
            point.org_id.as_ref().map_or_else(|| "(all)".to_owned(), ToString::to_string),
            bucket_text(point, by),
            point.machine_users.to_string(),
            delta(point.machine_users, same_series.map(|before| before.machine_users)),
            point.human_users.to_string(),
            point.user_grants.to_string(),
            point.findings.to_string(),
            delta(point.findings, same_series.map(|before| before.findings)),
        ]);
        previous = Some(point);
    }
    let header = ["environment", "org", "when", "service accounts", "change", "humans", "grants", "findings", "change"];
    table::render(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_signed_and_empty_for_a_first_point() {
        assert_eq!(delta(5, None), "");
        assert_eq!(delta(5, Some(3)), "+2");
        assert_eq!(delta(3, Some(5)), "-2");
        assert_eq!(delta(4, Some(4)), "+0");
    }
}
