//! SCIM connections' health as the store tells it: each connection's requests over the last hour and day (the
//! request log) and its provisioning outbox, judged by `warden_core::posture::judge_connection`.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};
use warden_core::id::EnvironmentName;
use warden_core::posture::{
    ConnectionActivity, ConnectionHealth, ConnectionHealthPolicy, Finding, connection_health_findings, judge_connection,
};

use crate::store::{self, ConnectionBacklog, ScimConnection, ScimConnectionActivity, ScimConnectionId, Store};

/// A connection with what its health is judged on (its request counts and its outbox) and the verdict.
#[derive(Debug, Clone)]
pub struct JudgedConnection {
    pub connection: ScimConnection,
    pub backlog: ConnectionBacklog,
    pub activity: ConnectionActivity,
    pub health: ConnectionHealth,
}

/// Every connection (of `environment`, or all), oldest first, judged at `now`.
pub async fn judge_connections(
    environment: Option<&EnvironmentName>,
    store: &dyn Store,
    policy: &ConnectionHealthPolicy,
    now: OffsetDateTime,
) -> Result<Vec<JudgedConnection>, store::Error> {
    let connections: Vec<_> = store
        .list_scim_connections()
        .await?
        .into_iter()
        .filter(|connection| environment.is_none_or(|environment| connection.tenant.environment == *environment))
        .collect();
    if connections.is_empty() {
        return Ok(Vec::new());
    }
    let by_connection = |activities: Vec<ScimConnectionActivity>| -> HashMap<ScimConnectionId, ScimConnectionActivity> {
        activities.into_iter().map(|activity| (activity.connection_id.clone(), activity)).collect()
    };
    let hour = by_connection(store.scim_connection_activity(now - Duration::HOUR).await?);
    let day = by_connection(store.scim_connection_activity(now - Duration::DAY).await?);
    let mut backlogs: HashMap<_, _> = store
        .provisioning_backlogs()
        .await?
        .into_iter()
        .map(|backlog| (backlog.connection_id.clone(), backlog))
        .collect();
    Ok(connections
        .into_iter()
        .map(|connection| {
            let (hour, day) = (hour.get(&connection.id), day.get(&connection.id));
            let backlog = backlogs.remove(&connection.id).unwrap_or_else(|| ConnectionBacklog {
                connection_id: connection.id.clone(),
                pending: 0,
                parked: 0,
                oldest_enqueued_at: None,
                applied: 0,
                last_applied_at: None,
            });
            let activity = ConnectionActivity {
                connection_id: connection.id.to_string(),
                name: connection.name.clone(),
                org_id: connection.tenant.org_id.clone(),
                created_at: connection.created_at,
                disabled: connection.disabled_at.is_some(),
                expect_activity_within: connection.settings.expect_activity_within,
                last_request_at: day.and_then(|day| day.last_request_at),
                requests_last_hour: hour.map_or(0, |hour| hour.requests),
                errors_last_hour: hour.map_or(0, |hour| hour.server_errors),
                requests_last_day: day.map_or(0, |day| day.requests),
                errors_last_day: day.map_or(0, |day| day.server_errors),
                backlog: backlog.pending,
                oldest_enqueued_at: backlog.oldest_enqueued_at,
                parked: backlog.parked,
                last_applied_at: backlog.last_applied_at,
            };
            let health = judge_connection(&activity, policy, now);
            JudgedConnection { connection, backlog, activity, health }
        })
        .collect())
}

/// The findings of these connections' health (`scim-connection-degraded`, `scim-connection-stalled`).
pub fn health_findings(environment: &EnvironmentName, judged: &[JudgedConnection]) -> Vec<Finding> {
    connection_health_findings(environment, judged.iter().map(|judged| (&judged.activity, &judged.health)))
}
