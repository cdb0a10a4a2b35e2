//! Connection health over time: [`watch_connections`], the scheduler's step, judges every SCIM connection and, in
//! each environment where a connection's status no longer matches its open health finding, governs the environment,
//! so the transition opens or resolves its alert (with its webhooks) within one step.

use std::collections::{BTreeMap, BTreeSet};

use warden_core::id::EnvironmentName;
use warden_core::posture::{SCIM_CONNECTION_DEGRADED, SCIM_CONNECTION_STALLED};

use crate::app::lease::{self, Acquired};
use crate::app::{App, Error};
use crate::govern::connections::{JudgedConnection, health_findings, judge_connections};
use crate::govern::govern_once;

/// Every connection (or only one, by name or id), judged now.
pub async fn connections_health(app: &App, connection: Option<&str>) -> Result<Vec<JudgedConnection>, Error> {
    let only = match connection {
        Some(name) => Some(crate::app::scim_admin::find_connection(app, name).await?.id),
        None => None,
    };
    let policy = &app.settings().governance.connection_health;
    let mut judged = judge_connections(None, &**app.store(), policy, app.now()).await?;
    judged.retain(|judged| only.as_ref().is_none_or(|only| *only == judged.connection.id));
    Ok(judged)
}

/// What one step of the watch did: the environments whose health findings changed and were governed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WatchOutcome {
    pub governed: Vec<EnvironmentName>,
}

/// The scheduler's step (under the `connection-health` lease, so replicas do not govern twice).
pub async fn watch_connections(app: &App) -> Result<WatchOutcome, Error> {
    let lease = match lease::acquire(app, "connection-health").await? {
        Acquired::Held(lease) => lease,
        Acquired::Busy(_) => return Ok(WatchOutcome::default()),
    };
    let outcome = watch_under_lease(app).await;
    lease.release().await;
    outcome
}

async fn watch_under_lease(app: &App) -> Result<WatchOutcome, Error> {
    let store = app.store();
    let now = app.now();
    let policy = &app.settings().governance.connection_health;
    // Judged once for every environment: the request counts and the outboxes are read in one go.
    let mut by_environment: BTreeMap<EnvironmentName, Vec<JudgedConnection>> = BTreeMap::new();
    for judged in judge_connections(None, &**store, policy, now).await? {
        by_environment.entry(judged.connection.tenant.environment.clone()).or_default().push(judged);
    }
    let mut outcome = WatchOutcome::default();
    let rules = [SCIM_CONNECTION_DEGRADED.id, SCIM_CONNECTION_STALLED.id];
    for (environment, judged) in by_environment {
        let now_failing: BTreeSet<(String, String)> = health_findings(&environment, &judged)
            .into_iter()
            .map(|finding| (finding.rule.to_owned(), finding.subject.id))
            .collect();
        let open: BTreeSet<(String, String)> = store
            .list_findings(Some(&environment), false)
            .await?
            .into_iter()
            .filter(|tracked| rules.contains(&tracked.finding.rule))
            .map(|tracked| (tracked.finding.rule.to_owned(), tracked.finding.subject.id))
            .collect();
        if now_failing == open {
            continue;
        }
        for judged in &judged {
            tracing::info!(
                %environment, connection = %judged.connection.name, status = judged.health.status.as_str(),
                reasons = ?judged.health.reasons, "SCIM connection health"
            );
        }
        govern_once(&environment, None, &**store, &app.settings().governance, now).await?;
        outcome.governed.push(environment);
    }
    Ok(outcome)
}
