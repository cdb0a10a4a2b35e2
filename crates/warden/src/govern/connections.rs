//! SCIM connections' health as the store tells it: each connection's requests over the last hour and day (the
//! request log) and its provisioning outbox, judged by `warden_core::posture::judge_connection`.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};
use warden_core::id::EnvironmentName;
use warden_core::posture::{ConnectionActivity, ConnectionHealth, ConnectionHealthPolicy, judge_connection};

use crate::store::{self, ScimConnectionActivity, ScimConnectionId, Store};

/// Every connection (of `environment`, or all), oldest first, with what its health is judged on and the verdict.
pub async fn connection_health(
    environment: Option<&EnvironmentName>,
    store: &dyn Store,
    policy: &ConnectionHealthPolicy,
    now: OffsetDateTime,
) -> Result<Vec<(ConnectionActivity, ConnectionHealth)>, store::Error> {
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
    let backlogs: HashMap<_, _> = store
        .provisioning_backlogs()
        .await?
        .into_iter()
        .map(|backlog| (backlog.connection_id.clone(), backlog))
        .collect();
    Ok(connections
        .into_iter()
        .map(|connection| {
            let (hour, day) = (hour.get(&connection.id), day.get(&connection.id));
            let backlog = backlogs.get(&connection.id);
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
                backlog: backlog.map_or(0, |backlog| backlog.pending),
                oldest_enqueued_at: backlog.and_then(|backlog| backlog.oldest_enqueued_at),
                parked: backlog.map_or(0, |backlog| backlog.parked),
                last_applied_at: backlog.and_then(|backlog| backlog.last_applied_at),
            };
            let health = judge_connection(&activity, policy, now);
            (activity, health)
        })
        .collect())
}
