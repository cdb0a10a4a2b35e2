//! Connection health over time: [`watch_connections`], the scheduler's step, judges every SCIM connection and, in
//! each environment where a connection's status no longer matches its open health finding, governs the environment,
//! so the transition opens or resolves its alert (with its webhooks) within one step.

use std::collections::{BTreeMap, BTreeSet};

use warden_core::id::EnvironmentName;
use warden_core::posture::{
    ConnectionActivity, ConnectionHealth, SCIM_CONNECTION_DEGRADED, SCIM_CONNECTION_STALLED, connection_health_findings,
};

use crate::app::lease::{self, Acquired};
use crate::app::{App, Error};
use crate::govern::connections::connection_health;
use crate::govern::govern_once;

/// Every connection (or only one, by name or id) with what its health is judged on and its status now.
pub async fn connections_health(
    app: &App,
    connection: Option<&str>,
) -> Result<Vec<(ConnectionActivity, ConnectionHealth)>, Error> {
    let only = match connection {
        Some(name) => Some(crate::app::scim_admin::find_connection(app, name).await?.id.to_string()),
        None => None,
    };
    let policy = &app.settings().governance.connection_health;
    let mut health = connection_health(None, &**app.store(), policy, app.now()).await?;
    health.retain(|(activity, _)| only.as_ref().is_none_or(|only| *only == activity.connection_id));
    Ok(health)
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
    let mut by_environment: BTreeMap<EnvironmentName, Vec<(ConnectionActivity, ConnectionHealth)>> = BTreeMap::new();
    let connections = store.list_scim_connections().await?;
    for environment in connections.iter().map(|connection| &connection.tenant.environment).collect::<BTreeSet<_>>() {
        let health = connection_health(Some(environment), &**store, policy, now).await?;
        by_environment.insert(environment.clone(), health);
    }
    let mut outcome = WatchOutcome::default();
    let rules = [SCIM_CONNECTION_DEGRADED.id, SCIM_CONNECTION_STALLED.id];
    for (environment, health) in by_environment {
        let now_failing: BTreeSet<(String, String)> = connection_health_findings(&environment, &health)
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
        for (activity, judged) in &health {
            tracing::info!(
                %environment, connection = %activity.name, status = judged.status.as_str(), reasons = ?judged.reasons,
                "SCIM connection health"
            );
        }
        govern_once(&environment, None, &**store, &app.settings().governance, now).await?;
        outcome.governed.push(environment);
    }
    Ok(outcome)
}
