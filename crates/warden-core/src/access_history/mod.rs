//! Access at a point in time, reconstructed from the change history.
//!
//! warden stores the current state of an environment and every change each sync observed. The state at time `T` is
//! the current state with every change recorded after `T` undone, newest first ([`rewind`]): an added object is
//! removed, a removed object is restored from its `before` values, a modified object gets its `before` values back.
//! The answer is the state as of the last sync at or before `T`: changes are placed at the time they were observed
//! (`observed_at`), so the precision is the sync interval. Before the first sync (the baseline) nothing is known.
//!
//! [`rewind`] rewinds the kinds that carry access ([`ACCESS_KINDS`]), [`rewind_kinds`] any kinds. Objects are rebuilt
//! through the same description of each kind that `reconcile` records them with (`crate::fields`), so whatever a
//! change records, a rewind restores. Rewound objects carry no bookkeeping times: no `changed_at`, and `created_at`
//! only where the kind records it (keys and tokens) or from the later object of a modification. What the text of a
//! field cannot hold does not survive either: list fields are recorded comma-joined, so a role key containing a comma
//! does not survive a rewind (see `crate::fields` for the rest).

mod rewind;

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::id::{OrgId, ProjectId, RoleKey, UserGrantId, UserId};
use crate::inventory::{
    Credential, GrantAccess, ManagerAccess, SnapshotIndex, credentials_of, grants_of, memberships_of,
};
use crate::model::{Change, GrantState, ObjectKey, ResourceKind, Snapshot, User};

/// An environment's current state and the changes recorded since the time asked about.
#[derive(Debug, Clone, Copy)]
pub struct AccessHistory<'a> {
    /// The state as of the latest sync.
    pub current: &'a Snapshot,
    /// Changes recorded after the time asked about, in any order. Changes recorded at or before that time may be
    /// included; they are skipped.
    pub changes: &'a [Change],
    /// When history starts: the time of the environment's first sync.
    pub baseline: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessHistoryError {
    #[error("history starts at the baseline, {}: nothing is known about {}", rfc3339(*baseline), rfc3339(*at))]
    BeforeBaseline { at: OffsetDateTime, baseline: OffsetDateTime },
    #[error("the {kind} change of {object_kind} {object_key} cannot be undone: {reason}")]
    Unrewindable { object_kind: ResourceKind, object_key: ObjectKey, kind: String, reason: String },
    #[error("user {user_id} did not exist at {}", rfc3339(*at))]
    UnknownUser { user_id: UserId, at: OffsetDateTime },
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Who held a role through a user grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user_id: UserId,
    /// The user as it was then; `None` when the user is not in the synced state (its organization is out of scope).
    pub user: Option<User>,
    pub user_grant_id: UserGrantId,
    /// The organization that owned the grant.
    pub grant_org_id: OrgId,
    /// Every role key of the grant, sorted (the one asked about among them).
    pub role_keys: Vec<RoleKey>,
}

/// What a user (a service account, typically) could do at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessAt {
    pub at: OffsetDateTime,
    /// The user as it was then (its state says whether it could log in).
    pub user: User,
    /// Its active user grants then.
    pub grants: Vec<GrantAccess>,
    /// Its manager memberships then.
    pub memberships: Vec<ManagerAccess>,
    /// Keys and tokens that existed then and had not expired (ages relative to `at`).
    pub credentials: Vec<Credential>,
}

/// The kinds that carry access, which [`rewind`] rewinds: organizations, projects, project roles, users, machine
/// keys, personal access tokens, user grants, memberships and project grants.
pub const ACCESS_KINDS: [ResourceKind; 9] = [
    ResourceKind::Org,
    ResourceKind::Project,
    ResourceKind::ProjectRole,
    ResourceKind::User,
    ResourceKind::MachineKey,
    ResourceKind::PersonalAccessToken,
    ResourceKind::UserGrant,
    ResourceKind::Membership,
    ResourceKind::ProjectGrant,
];

/// The state as of the last sync at or before `at`, for the kinds that carry access ([`ACCESS_KINDS`]; the others are
/// left empty).
pub fn rewind(history: &AccessHistory<'_>, at: OffsetDateTime) -> Result<Snapshot, AccessHistoryError> {
    rewind_kinds(history, at, &ACCESS_KINDS)
}

/// The state of `kinds` (any of [`ResourceKind::ALL`]) as of the last sync at or before `at`; the others are left
/// empty.
pub fn rewind_kinds(
    history: &AccessHistory<'_>,
    at: OffsetDateTime,
    kinds: &[ResourceKind],
) -> Result<Snapshot, AccessHistoryError> {
    if at < history.baseline {
        return Err(AccessHistoryError::BeforeBaseline { at, baseline: history.baseline });
    }
    rewind::rewind(history.current, history.changes, at, kinds)
}

/// The users whose active user grants held `role_key` on `project_id` at `at` (manager memberships are a separate
/// question: see [`service_account_access_at`]), sorted by user id, then grant id.
pub fn who_held_role(
    history: &AccessHistory<'_>,
    project_id: &ProjectId,
    role_key: &RoleKey,
    at: OffsetDateTime,
) -> Result<Vec<Holder>, AccessHistoryError> {
    let then = rewind(history, at)?;
    Ok(holders(&then, project_id, role_key))
}

/// The holders of a role in one state.
fn holders(snapshot: &Snapshot, project_id: &ProjectId, role_key: &RoleKey) -> Vec<Holder> {
    let users: HashMap<&UserId, &User> = snapshot.users.iter().map(|user| (&user.id, user)).collect();
    let mut holders: Vec<Holder> = snapshot
        .user_grants
        .iter()
        .filter(|grant| {
            grant.state == GrantState::Active && &grant.project_id == project_id && grant.role_keys.contains(role_key)
        })
        .map(|grant| {
            let mut role_keys = grant.role_keys.clone();
            role_keys.sort();
            Holder {
                user_id: grant.user_id.clone(),
                user: users.get(&grant.user_id).map(|user| (*user).clone()),
                user_grant_id: grant.id.clone(),
                grant_org_id: grant.org_id.clone(),
                role_keys,
            }
        })
        .collect();
    holders.sort_by(|a, b| a.user_id.cmp(&b.user_id).then_with(|| a.user_grant_id.cmp(&b.user_grant_id)));
    holders
}

/// What `user_id` could do at `at`: its active grants, its memberships, and its credentials valid then.
pub fn service_account_access_at(
    history: &AccessHistory<'_>,
    user_id: &UserId,
    at: OffsetDateTime,
) -> Result<AccessAt, AccessHistoryError> {
    let then = rewind(history, at)?;
    access_in(&then, user_id, at)
}

/// A user's access in one state, as of `at`.
fn access_in(snapshot: &Snapshot, user_id: &UserId, at: OffsetDateTime) -> Result<AccessAt, AccessHistoryError> {
    let user = snapshot
        .users
        .iter()
        .find(|user| &user.id == user_id)
        .cloned()
        .ok_or_else(|| AccessHistoryError::UnknownUser { user_id: user_id.clone(), at })?;
    let index = SnapshotIndex::new(snapshot);
    let mut grants = grants_of(&index, user_id);
    grants.retain(|grant| grant.state == GrantState::Active);
    let mut credentials = credentials_of(&index, user_id, at);
    credentials.retain(|credential| !credential.expired && credential.created_at.is_none_or(|created| created <= at));
    Ok(AccessAt { at, user, grants, memberships: memberships_of(&index, user_id), credentials })
}

#[cfg(test)]
mod tests;
