//! Trends: counts taken from each synced state, kept over time, and thinned to one point per day or week.
//!
//! [`trend_points`] counts one state (one point per organization plus one for the whole environment);
//! [`bucket_trend`] keeps the last point of each day or ISO week (Monday to Sunday, UTC). The
//! `service-account-growth` rule reads these points.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, OffsetDateTime, UtcOffset};

use crate::id::{EnvironmentName, OrgId};
use crate::model::Snapshot;
use crate::posture::Finding;

/// Counts in one environment, or one of its organizations, at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    pub at: OffsetDateTime,
    pub environment: EnvironmentName,
    /// The organization counted; `None` for the environment as a whole.
    pub org_id: Option<OrgId>,
    pub machine_users: u64,
    pub human_users: u64,
    /// User grants owned by the organization (the grant's own organization, not the project's).
    pub user_grants: u64,
    /// Findings whose subject belongs to the organization; for the environment, every finding of it.
    pub findings: u64,
}

/// How finely [`bucket_trend`] thins points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Granularity {
    /// Calendar days, UTC.
    Day,
    /// ISO weeks: Monday 00:00 to Sunday 24:00, UTC.
    Week,
}

impl Granularity {
    /// The first day of the bucket `at` falls in.
    pub fn bucket_start(self, at: OffsetDateTime) -> Date {
        let date = at.to_offset(UtcOffset::UTC).date();
        match self {
            Granularity::Day => date,
            Granularity::Week => {
                let back = i64::from(date.weekday().number_days_from_monday());
                date.checked_sub(time::Duration::days(back)).unwrap_or(date)
            }
        }
    }
}

/// One point per organization of the snapshot (and any organization a user, grant or finding names), plus one for
/// the whole environment (`org_id: None`), all dated `at`. Only `findings` of this environment are counted.
pub fn trend_points(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    findings: &[Finding],
    at: OffsetDateTime,
) -> Vec<TrendPoint> {
    let empty = |org_id: Option<OrgId>| TrendPoint {
        at,
        environment: environment.clone(),
        org_id,
        machine_users: 0,
        human_users: 0,
        user_grants: 0,
        findings: 0,
    };
    let mut total = empty(None);
    let orgs: BTreeSet<&OrgId> = snapshot
        .orgs
        .iter()
        .map(|org| &org.id)
        .chain(snapshot.users.iter().map(|user| &user.org_id))
        .chain(snapshot.user_grants.iter().map(|grant| &grant.org_id))
        .chain(
            findings
                .iter()
                .filter(|finding| &finding.environment == environment)
                .filter_map(|f| f.subject.org_id.as_ref()),
        )
        .collect();
    let mut per_org: BTreeMap<&OrgId, TrendPoint> =
        orgs.into_iter().map(|org_id| (org_id, empty(Some(org_id.clone())))).collect();
    for user in &snapshot.users {
        let machine = user.is_machine();
        for point in [Some(&mut total), per_org.get_mut(&user.org_id)].into_iter().flatten() {
            if machine {
                point.machine_users += 1;
            } else {
                point.human_users += 1;
            }
        }
    }
    for grant in &snapshot.user_grants {
        total.user_grants += 1;
        if let Some(point) = per_org.get_mut(&grant.org_id) {
            point.user_grants += 1;
        }
    }
    for finding in findings.iter().filter(|finding| &finding.environment == environment) {
        total.findings += 1;
        if let Some(point) = finding.subject.org_id.as_ref().and_then(|org_id| per_org.get_mut(org_id)) {
            point.findings += 1;
        }
    }
    let mut points: Vec<TrendPoint> = per_org.into_values().collect();
    points.push(total);
    points
}

/// Keeps, per (environment, organization, bucket), the last point in the bucket (of points at the same time, the
/// one that comes last). The points keep their own times; they come out ordered by environment, organization
/// (the environment as a whole first) and time.
pub fn bucket_trend(points: &[TrendPoint], granularity: Granularity) -> Vec<TrendPoint> {
    let mut last: BTreeMap<(&EnvironmentName, Option<&OrgId>, Date), &TrendPoint> = BTreeMap::new();
    for point in points {
        let bucket = (&point.environment, point.org_id.as_ref(), granularity.bucket_start(point.at));
        match last.get(&bucket) {
            Some(kept) if kept.at > point.at => {}
            _ => {
                last.insert(bucket, point);
            }
        }
    }
    last.into_values().cloned().collect()
}

#[cfg(test)]
mod tests;
