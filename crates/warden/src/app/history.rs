//! What the recorded history answers: the change log, access at a point in time (the current state rewound through
//! the changes recorded since), trends, the comparison of environments, and the access export.

use time::OffsetDateTime;
use warden_core::access_history::{AccessAt, AccessHistory, Holder, service_account_access_at, who_held_role};
use warden_core::id::{EnvironmentName, OrgId, ProjectId, RoleKey, UserId};
use warden_core::model::{Change, Snapshot, SyncRun};
use warden_core::posture::{ProjectComparison, compare_projects};
use warden_core::trend::{Granularity, TrendPoint, bucket_trend};

use crate::app::{App, Error};
use crate::govern::load_roles;
use crate::store::ChangeQuery;

/// Recorded changes, newest first.
pub async fn changes(app: &App, query: &ChangeQuery) -> Result<Vec<Change>, Error> {
    Ok(app.store().list_changes(query).await?)
}

/// The most recent sync runs of the configured environments (or the one `only` names), at most `limit` each,
/// newest first within each environment: running, finished, failed and interrupted ones alike.
pub async fn sync_runs(app: &App, only: Option<&str>, limit: u32) -> Result<Vec<SyncRun>, Error> {
    let mut runs = Vec::new();
    for entry in app.environments(only)? {
        runs.extend(app.store().list_sync_runs(entry.name(), limit).await?);
    }
    Ok(runs)
}

/// An environment's history, loaded to answer questions about one time.
#[derive(Debug)]
pub struct LoadedHistory {
    pub environment: EnvironmentName,
    pub at: OffsetDateTime,
    /// What the store holds now.
    pub current: Snapshot,
    /// The changes observed after `at`.
    pub changes: Vec<Change>,
    /// When the environment's history starts (its first stored run).
    pub baseline: OffsetDateTime,
}

impl LoadedHistory {
    fn history(&self) -> AccessHistory<'_> {
        AccessHistory { current: &self.current, changes: &self.changes, baseline: self.baseline }
    }
}

/// Who held a role at a time.
#[derive(Debug)]
pub struct RoleHolders {
    pub environment: EnvironmentName,
    pub at: OffsetDateTime,
    pub project_id: ProjectId,
    pub role_key: RoleKey,
    pub holders: Vec<Holder>,
}

/// The users whose active grants held `role` on `project` (its id, or its name when unique) at `at`, in the
/// environment `only` names (or the only one configured).
pub async fn role_holders_at(
    app: &App,
    only: Option<&str>,
    at: OffsetDateTime,
    project: &str,
    role: &str,
) -> Result<RoleHolders, Error> {
    let loaded = load_history(app, only, at).await?;
    let project_id = resolve_project(&loaded.current, project)?;
    let role_key = RoleKey::parse(role).map_err(|error| Error::Invalid(format!("role {role:?}: {error}")))?;
    let holders = who_held_role(&loaded.history(), &project_id, &role_key, loaded.at)?;
    Ok(RoleHolders { environment: loaded.environment, at: loaded.at, project_id, role_key, holders })
}

/// What `user` (its id, or its username when unique) could do at `at`: grants, manager roles, valid credentials.
pub async fn account_access_at(
    app: &App,
    only: Option<&str>,
    at: OffsetDateTime,
    user: &str,
) -> Result<(EnvironmentName, AccessAt), Error> {
    let loaded = load_history(app, only, at).await?;
    let user_id = resolve_user(&loaded.current, user)?;
    let access = service_account_access_at(&loaded.history(), &user_id, loaded.at)?;
    Ok((loaded.environment, access))
}

/// The current state, the changes observed after `at`, and where history starts, of the environment `only` names
/// (or the only one configured).
pub async fn load_history(app: &App, only: Option<&str>, at: OffsetDateTime) -> Result<LoadedHistory, Error> {
    let environment = match app.environments(only)?.as_slice() {
        [one] => one.name().clone(),
        _ => return Err(Error::Invalid("several environments are configured: say which with --env".to_owned())),
    };
    let store = app.store();
    let baseline = store
        .first_stored_sync_run(&environment)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!("environment {environment} has never been synced: run `warden sync` first"))
        })?
        .started_at;
    let current = store.load_snapshot(&environment).await?;
    let query = ChangeQuery { environment: Some(environment.clone()), since: Some(at), ..ChangeQuery::default() };
    let changes = store.list_changes(&query).await?;
    Ok(LoadedHistory { environment, at, current, changes, baseline })
}

/// An object named by its id, or by its name when exactly one object has that name (in the current state, so that
/// a renamed or removed one can still be asked about by id).
fn resolve<'a, Id, ParseError: std::fmt::Display>(
    what: &str,
    text: &str,
    named: impl Iterator<Item = (&'a str, &'a Id)>,
    parse: impl FnOnce(&str) -> Result<Id, ParseError>,
) -> Result<Id, Error>
where
    Id: Clone + std::fmt::Display + 'a,
{
    let named: Vec<&Id> = named.filter(|(name, _)| *name == text).map(|(_, id)| id).collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => parse(text).map_err(|error| Error::Invalid(format!("{what} {text:?}: {error}"))),
        many => Err(Error::Invalid(format!(
            "{what} {text:?} names {} objects; give one of their ids: {}",
            many.len(),
            many.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
        ))),
    }
}

fn resolve_project(snapshot: &Snapshot, text: &str) -> Result<ProjectId, Error> {
    let named = snapshot.projects.iter().map(|project| (project.name.as_str(), &project.id));
    resolve("project", text, named, |text| ProjectId::parse(text))
}

fn resolve_user(snapshot: &Snapshot, text: &str) -> Result<UserId, Error> {
    let named = snapshot.users.iter().map(|user| (user.username.as_str(), &user.id));
    resolve("user", text, named, |text| UserId::parse(text))
}

/// Which trend points, and how thinned.
#[derive(Debug, Clone)]
pub struct TrendQuery {
    /// Only this environment; `None`: every configured one.
    pub environment: Option<String>,
    /// One organization's series instead of the environments'.
    pub org: Option<OrgId>,
    /// Every organization's series besides the environments'.
    pub per_org: bool,
    pub since: OffsetDateTime,
    pub bucket: TrendBucket,
}

/// One point per sync, or the last of each day or ISO week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendBucket {
    Sync,
    Day,
    Week,
}

/// Trend points, each series in time order.
pub async fn trends(app: &App, query: &TrendQuery) -> Result<Vec<TrendPoint>, Error> {
    let mut points = Vec::new();
    for entry in app.environments(query.environment.as_deref())? {
        let stored = app.store().list_trend_points(entry.name(), Some(query.since)).await?;
        points.extend(stored.into_iter().filter(|point| match &query.org {
            Some(org) => point.org_id.as_ref() == Some(org),
            None => query.per_org || point.org_id.is_none(),
        }));
    }
    Ok(match query.bucket {
        TrendBucket::Sync => {
            points.sort_by(|a, b| (&a.environment, &a.org_id, a.at).cmp(&(&b.environment, &b.org_id, b.at)));
            points
        }
        TrendBucket::Day => bucket_trend(&points, Granularity::Day),
        TrendBucket::Week => bucket_trend(&points, Granularity::Week),
    })
}

/// The organizations, projects and roles of several environments, to compare.
#[derive(Debug)]
pub struct EnvironmentRoles {
    pub environments: Vec<(EnvironmentName, Snapshot)>,
}

impl EnvironmentRoles {
    /// The environments as [`compare_projects`] takes them.
    pub fn compared(&self) -> Vec<(EnvironmentName, &Snapshot)> {
        self.environments.iter().map(|(name, roles)| (name.clone(), roles)).collect()
    }
}

/// Loads the roles of the environments `names` (every configured one when empty; at least two).
pub async fn environment_roles(app: &App, names: &[String]) -> Result<EnvironmentRoles, Error> {
    let selected: Vec<EnvironmentName> = if names.is_empty() {
        app.settings().environment_names()
    } else {
        names.iter().map(|name| app.environment(name).map(|entry| entry.name().clone())).collect::<Result<_, _>>()?
    };
    if selected.len() < 2 {
        return Err(Error::Invalid(format!(
            "comparing needs at least two environments (configured: {})",
            app.settings().environments.len()
        )));
    }
    let mut environments = Vec::with_capacity(selected.len());
    for name in selected {
        let roles = load_roles(&**app.store(), &name).await?;
        environments.push((name, roles));
    }
    Ok(EnvironmentRoles { environments })
}

/// The projects compared across `compared`: only those that differ, unless `all`.
pub fn project_comparisons<'a>(
    compared: &'a [(EnvironmentName, &'a Snapshot)],
    all: bool,
) -> Vec<ProjectComparison<'a>> {
    compare_projects(compared).into_iter().filter(|comparison| all || comparison.differs()).collect()
}

/// Every stored object of the configured environments (or the one `only` names), for the access export.
pub async fn export_snapshots(app: &App, only: Option<&str>) -> Result<Vec<(EnvironmentName, Snapshot)>, Error> {
    let mut exported = Vec::new();
    for entry in app.environments(only)? {
        exported.push((entry.name().clone(), app.store().load_snapshot(entry.name()).await?));
    }
    Ok(exported)
}
