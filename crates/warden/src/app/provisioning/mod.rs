//! Provisioning into ZITADEL: what Okta or Entra ID push into warden's SCIM server flows on into ZITADEL as users
//! and, through group-to-role mappings, as project-role grants.
//!
//! - `plan`: which operations a SCIM write sets off (pure). `scim_records` enqueues them in the write's own
//!   transaction, so an accepted write is never lost and a refused one provisions nothing.
//! - `apply`: one operation applied to ZITADEL, converging (safe to repeat).
//! - here: [`provision_once`], the worker's one step (claim due operations, apply them, record each outcome:
//!   applied, retried with backoff, or parked after `[provisioning] max_attempts`), and the operator's commands
//!   (mappings; the outbox's status, retry and discard), each audited.

mod apply;
pub mod health;
pub mod plan;
mod repair;

use std::time::Duration;

use tokio::task::JoinSet;
use warden_core::id::{EnvironmentName, ProjectId, RoleKey};
use warden_core::model::ResourceKind;
use warden_core::operator::Operator;
use warden_core::posture::{ConnectionActivity, ConnectionHealth};

use crate::app::provisioning::apply::Failure;
use crate::app::scim_admin::find_connection;
use crate::app::{App, Error, tokens};
use crate::govern::connections::JudgedConnection;
use crate::store::{ConnectionBacklog, GroupRoleMapping, GroupSelector, ProvisioningOperation, ScimConnection};

pub use apply::EXTERNAL_ID_METADATA_KEY;
pub use plan::{DesiredUser, ProvisioningTarget};
pub use repair::{RepairOutcome, repair};

/// Operations claimed per step, shared out between the connections with work due; they belong to different users and
/// are applied concurrently (each environment's client bounds its own concurrency and rate).
const BATCH: usize = 64;
/// The fewest operations a connection with work due gets per step, however many connections have work.
const LEAST_SHARE: usize = 4;

/// What one step of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProvisionOutcome {
    pub claimed: usize,
    pub applied: usize,
    /// Failed and scheduled to be tried again.
    pub retried: usize,
    pub parked: usize,
}

/// The worker's step: claims due operations (the first waiting one of each SCIM user; an equal share for every
/// connection with work due, so one tenant's backlog never holds back another's), applies them concurrently, and
/// records each outcome as soon as it is known. With nothing due, it only reads.
pub async fn provision_once(app: &App) -> Result<ProvisionOutcome, Error> {
    let store = app.store();
    let now = app.now();
    let connections = store.due_provisioning_connections(now).await?;
    let mut outcome = ProvisionOutcome::default();
    if connections.is_empty() {
        return Ok(outcome);
    }
    // A claim lasts `[server] lease_ttl` and is extended while its operation is applied: a worker that dies (a
    // killed process) strands its operations, and the later operations of their users, for one lease at most.
    let ttl = app.settings().lease_ttl;
    let claim_ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::SECOND * 30);
    let claimed_until = now + claim_ttl;
    let share = u32::try_from((BATCH / connections.len()).max(LEAST_SHARE)).unwrap_or(u32::MAX);
    let mut running = JoinSet::new();
    for connection in &connections {
        for operation in
            store.claim_provisioning_operations(connection, app.holder(), now, claimed_until, share).await?
        {
            outcome.claimed += 1;
            let app = app.clone();
            running.spawn(async move { attempt(&app, &operation).await });
        }
    }
    let settled = async {
        while let Some(result) = running.join_next().await {
            match result {
                Ok(Ok(Attempt::Applied)) => outcome.applied += 1,
                Ok(Ok(Attempt::Retried)) => outcome.retried += 1,
                Ok(Ok(Attempt::Parked)) => outcome.parked += 1,
                // The outcome could not be recorded: the claim runs out and another step tries again.
                Ok(Err(error)) => tracing::error!(%error, "cannot record a provisioning outcome"),
                Err(error) => tracing::error!(%error, "a provisioning attempt panicked"),
            }
        }
    };
    tokio::select! {
        () = settled => {}
        () = heartbeat(app, ttl, claim_ttl) => {}
    }
    Ok(outcome)
}

/// Extends this process's claims every third of their time, for as long as the step runs (never returns).
async fn heartbeat(app: &App, ttl: Duration, claim_ttl: time::Duration) {
    let mut ticks = tokio::time::interval(ttl / 3);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let now = app.now();
        if let Err(error) = app.store().extend_provisioning_claims(app.holder(), now, now + claim_ttl).await {
            tracing::warn!(%error, "cannot extend the provisioning claims; another worker may take them over");
        }
    }
}

enum Attempt {
    Applied,
    Retried,
    Parked,
}

async fn attempt(app: &App, operation: &ProvisioningOperation) -> Result<Attempt, Error> {
    let result = match app.zitadel(&operation.tenant.environment) {
        Ok(client) => apply::apply(app, &client, operation).await,
        Err(error) => Err(Failure::Transient(error.to_string())),
    };
    let store = app.store();
    let now = app.now();
    match result {
        Ok(()) => {
            store.complete_provisioning_operation(operation, now).await?;
            tracing::debug!(operation = operation.id, kind = operation.kind.as_str(), "provisioned");
            Ok(Attempt::Applied)
        }
        Err(Failure::Transient(message)) if operation.attempts + 1 < app.settings().provisioning.max_attempts => {
            let retry_at = now + backoff(app, operation.attempts);
            tracing::warn!(operation = operation.id, attempts = operation.attempts + 1, error = %message, "provisioning failed; will retry");
            store.fail_provisioning_operation(operation.id, &message, Some(retry_at), now).await?;
            Ok(Attempt::Retried)
        }
        Err(Failure::Transient(message) | Failure::Refused(message)) => {
            tracing::error!(operation = operation.id, error = %message, "provisioning operation parked");
            store.fail_provisioning_operation(operation.id, &message, None, now).await?;
            Ok(Attempt::Parked)
        }
    }
}

/// `retry_delay * 2^attempts`, at most `max_retry_delay`.
fn backoff(app: &App, attempts: u32) -> time::Duration {
    let settings = &app.settings().provisioning;
    let delay = settings.retry_delay.saturating_mul(1 << attempts.min(16)).min(settings.max_retry_delay);
    time::Duration::try_from(delay).unwrap_or(time::Duration::MINUTE)
}

/// A mapping as an operator asks for it: the project by id or name, role keys as typed.
pub struct MappingRequest {
    pub connection: String,
    pub group: GroupSelector,
    pub project: String,
    pub roles: Vec<String>,
}

/// Adds a mapping after checking its project and role keys against the last sync of the connection's
/// environment; returns it with the number of grants operations it set off (one per member of its groups).
pub async fn add_mapping(
    app: &App,
    operator: &Operator,
    request: MappingRequest,
) -> Result<(GroupRoleMapping, u64), Error> {
    let connection = find_connection(app, &request.connection).await?;
    let group_text = match &request.group {
        GroupSelector::DisplayName(name) | GroupSelector::ExternalId(name) => name,
    };
    if group_text.trim().is_empty() {
        return Err(Error::Invalid("the group must not be empty".to_owned()));
    }
    if request.roles.is_empty() {
        return Err(Error::Invalid("name at least one role key (--role KEY)".to_owned()));
    }
    let (project_id, known_roles) = resolve_project(app, &connection, &request.project).await?;
    let mut role_keys = Vec::with_capacity(request.roles.len());
    for role in &request.roles {
        let key = RoleKey::parse(role.clone()).map_err(|error| Error::Invalid(format!("role {role:?}: {error}")))?;
        if !known_roles.contains(&key) {
            let known: Vec<&str> = known_roles.iter().map(RoleKey::as_str).collect();
            return Err(Error::Invalid(format!(
                "project {project_id} has no role {role:?} (its roles at the last sync: {})",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )));
        }
        if !role_keys.contains(&key) {
            role_keys.push(key);
        }
    }
    let now = app.now();
    let mapping = GroupRoleMapping {
        id: tokens::new_id(now),
        connection_id: connection.id.clone(),
        tenant: connection.tenant.clone(),
        group: request.group,
        project_id,
        role_keys,
        created_by: operator.recorded_name().to_owned(),
        created_at: now,
    };
    let enqueued = app.store().add_group_role_mapping(&mapping).await?;
    Ok((mapping, enqueued))
}

/// The project of the connection's org that `project` names (id or name), with its role keys, from the last sync.
async fn resolve_project(
    app: &App,
    connection: &ScimConnection,
    project: &str,
) -> Result<(ProjectId, Vec<RoleKey>), Error> {
    let environment: &EnvironmentName = &connection.tenant.environment;
    let snapshot = app.store().load_kinds(environment, &[ResourceKind::Project, ResourceKind::ProjectRole]).await?;
    let org = &connection.tenant.org_id;
    let candidates: Vec<_> = snapshot
        .projects
        .iter()
        .filter(|candidate| candidate.org_id == *org && (candidate.id.as_str() == project || candidate.name == project))
        .collect();
    let found = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::NotFound(format!(
                "org {org} of environment {environment} has no project {project:?} at the last sync \
                 (run warden sync --env {environment} first if it is new)"
            )));
        }
        _ => return Err(Error::Invalid(format!("several projects of org {org} are named {project:?}: use its id"))),
    };
    let roles =
        snapshot.project_roles.iter().filter(|role| role.project_id == found.id).map(|role| role.key.clone()).collect();
    Ok((found.id.clone(), roles))
}

pub async fn mappings(app: &App, connection: Option<&str>) -> Result<Vec<GroupRoleMapping>, Error> {
    let connection = match connection {
        Some(name) => Some(find_connection(app, name).await?.id),
        None => None,
    };
    Ok(app.store().list_group_role_mappings(connection.as_ref()).await?)
}

/// Removes a mapping: the grants it gave are taken back from its groups' members (by their grants operations).
pub async fn remove_mapping(app: &App, operator: &Operator, id: &str) -> Result<(GroupRoleMapping, u64), Error> {
    app.store()
        .remove_group_role_mapping(id, operator.recorded_name(), app.now())
        .await?
        .ok_or_else(|| Error::NotFound(format!("no mapping {id:?} (see warden mapping list)")))
}

/// A connection's provisioning as `warden provisioning status` shows it.
#[derive(Debug, Clone)]
pub struct ConnectionProvisioning {
    pub connection: ScimConnection,
    pub backlog: ConnectionBacklog,
    /// Its parked operations (the first hundred).
    pub parked: Vec<ProvisioningOperation>,
    /// Its requests over the last hour and day, and its status (`healthy`, `degraded`, `stalled`, `disabled`).
    pub activity: ConnectionActivity,
    pub health: ConnectionHealth,
}

pub async fn status(app: &App, connection: Option<&str>) -> Result<Vec<ConnectionProvisioning>, Error> {
    let store = app.store();
    let mut overview = Vec::new();
    for JudgedConnection { connection, backlog, activity, health } in
        health::connections_health(app, connection).await?
    {
        let parked = if backlog.parked > 0 {
            store.list_provisioning_operations(Some(&connection.id), true, 100).await?
        } else {
            Vec::new()
        };
        overview.push(ConnectionProvisioning { connection, backlog, parked, activity, health });
    }
    Ok(overview)
}

/// Parked operations to be tried again now: one, or all of them (`None`). Returns how many.
pub async fn retry(app: &App, operator: &Operator, id: Option<i64>) -> Result<u64, Error> {
    let retried = app.store().retry_parked_operations(id, operator.recorded_name(), app.now()).await?;
    if let (Some(id), 0) = (id, retried) {
        return Err(Error::NotFound(format!("no parked operation {id} (see warden provisioning status)")));
    }
    Ok(retried)
}

/// Drops an operation for good; the reason goes into the audit log with what it was.
pub async fn discard(app: &App, operator: &Operator, id: i64, reason: &str) -> Result<ProvisioningOperation, Error> {
    if reason.trim().is_empty() {
        return Err(Error::Invalid("say why the operation is discarded (--reason TEXT)".to_owned()));
    }
    app.store()
        .discard_provisioning_operation(id, reason.trim(), operator.recorded_name(), app.now())
        .await?
        .ok_or_else(|| Error::NotFound(format!("no operation {id} in the outbox (see warden provisioning status)")))
}
