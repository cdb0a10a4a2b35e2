//! The observed state of a ZITADEL estate, and warden's own records about it.
//!
//! Every observed object lives in one environment and has a stable [`ObjectKey`]: ZITADEL's id where the object has
//! one, else the ids that identify it joined by `/` (for example `project_id/role_key`). Only the last part of a
//! composite key may itself contain `/`, so keys stay unambiguous.

/// Applies one expression to the objects of whichever kind the batch holds, wrapping the result in the same kind.
macro_rules! map_objects {
    ($batch:expr, |$objects:ident| $body:expr) => {
        match $batch {
            ObjectBatch::Orgs($objects) => ObjectBatch::Orgs($body),
            ObjectBatch::Projects($objects) => ObjectBatch::Projects($body),
            ObjectBatch::ProjectRoles($objects) => ObjectBatch::ProjectRoles($body),
            ObjectBatch::Users($objects) => ObjectBatch::Users($body),
            ObjectBatch::MachineKeys($objects) => ObjectBatch::MachineKeys($body),
            ObjectBatch::PersonalAccessTokens($objects) => ObjectBatch::PersonalAccessTokens($body),
            ObjectBatch::UserGrants($objects) => ObjectBatch::UserGrants($body),
            ObjectBatch::Memberships($objects) => ObjectBatch::Memberships($body),
            ObjectBatch::ProjectGrants($objects) => ObjectBatch::ProjectGrants($body),
            ObjectBatch::Applications($objects) => ObjectBatch::Applications($body),
            ObjectBatch::IdentityProviders($objects) => ObjectBatch::IdentityProviders($body),
            ObjectBatch::UserMetadata($objects) => ObjectBatch::UserMetadata($body),
        }
    };
}

/// Evaluates one expression on the objects of whichever kind the batch holds.
macro_rules! with_objects {
    ($batch:expr, |$objects:ident| $body:expr) => {
        match $batch {
            ObjectBatch::Orgs($objects) => $body,
            ObjectBatch::Projects($objects) => $body,
            ObjectBatch::ProjectRoles($objects) => $body,
            ObjectBatch::Users($objects) => $body,
            ObjectBatch::MachineKeys($objects) => $body,
            ObjectBatch::PersonalAccessTokens($objects) => $body,
            ObjectBatch::UserGrants($objects) => $body,
            ObjectBatch::Memberships($objects) => $body,
            ObjectBatch::ProjectGrants($objects) => $body,
            ObjectBatch::Applications($objects) => $body,
            ObjectBatch::IdentityProviders($objects) => $body,
            ObjectBatch::UserMetadata($objects) => $body,
        }
    };
}

/// Evaluates one expression with `$type` naming the object type of `kind` (every kind implements [`Stored`]).
macro_rules! with_kind {
    ($kind:expr, |$type:ident| $body:expr) => {
        match $kind {
            $crate::model::ResourceKind::Org => {
                type $type = $crate::model::Org;
                $body
            }
            $crate::model::ResourceKind::Project => {
                type $type = $crate::model::Project;
                $body
            }
            $crate::model::ResourceKind::ProjectRole => {
                type $type = $crate::model::ProjectRole;
                $body
            }
            $crate::model::ResourceKind::User => {
                type $type = $crate::model::User;
                $body
            }
            $crate::model::ResourceKind::MachineKey => {
                type $type = $crate::model::MachineKey;
                $body
            }
            $crate::model::ResourceKind::PersonalAccessToken => {
                type $type = $crate::model::PersonalAccessToken;
                $body
            }
            $crate::model::ResourceKind::UserGrant => {
                type $type = $crate::model::UserGrant;
                $body
            }
            $crate::model::ResourceKind::Membership => {
                type $type = $crate::model::Membership;
                $body
            }
            $crate::model::ResourceKind::ProjectGrant => {
                type $type = $crate::model::ProjectGrant;
                $body
            }
            $crate::model::ResourceKind::Application => {
                type $type = $crate::model::Application;
                $body
            }
            $crate::model::ResourceKind::IdentityProvider => {
                type $type = $crate::model::IdentityProvider;
                $body
            }
            $crate::model::ResourceKind::UserMetadata => {
                type $type = $crate::model::UserMetadata;
                $body
            }
        }
    };
}

pub(crate) use with_kind;

mod batch;
mod environment;
mod estate;
mod history;
mod principal;
mod state;
pub(crate) mod text_enum;

use std::collections::BTreeMap;
use std::fmt;

pub use environment::{ApiVersion, Environment, MetadataScope};
pub use estate::{Application, IdentityProvider, IdpOwner, Org, Project, ProjectGrant, ProjectRole};
pub use history::{Attribution, Change, ChangeKind, FieldChange, SyncError, SyncMode, SyncRun, SyncStatus};
pub use principal::{
    HumanProfile, INSTANCE_USER_MANAGER_ROLES, MachineKey, MachineProfile, Membership, MembershipScope,
    ORG_USER_MANAGER_ROLES, PersonalAccessToken, User, UserGrant, UserKind, UserMetadata, user_manager_role,
};
pub use state::{
    AccessTokenType, ApplicationKind, ApplicationState, GrantState, IdpState, KeyType, OrgState, ProjectState,
    ProviderType, UserState,
};

/// The types of object warden observes in ZITADEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Org,
    Project,
    ProjectRole,
    User,
    MachineKey,
    PersonalAccessToken,
    UserGrant,
    Membership,
    ProjectGrant,
    Application,
    IdentityProvider,
    UserMetadata,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 12] = [
        ResourceKind::Org,
        ResourceKind::Project,
        ResourceKind::ProjectRole,
        ResourceKind::User,
        ResourceKind::MachineKey,
        ResourceKind::PersonalAccessToken,
        ResourceKind::UserGrant,
        ResourceKind::Membership,
        ResourceKind::ProjectGrant,
        ResourceKind::Application,
        ResourceKind::IdentityProvider,
        ResourceKind::UserMetadata,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Org => "org",
            ResourceKind::Project => "project",
            ResourceKind::ProjectRole => "project_role",
            ResourceKind::User => "user",
            ResourceKind::MachineKey => "machine_key",
            ResourceKind::PersonalAccessToken => "personal_access_token",
            ResourceKind::UserGrant => "user_grant",
            ResourceKind::Membership => "membership",
            ResourceKind::ProjectGrant => "project_grant",
            ResourceKind::Application => "application",
            ResourceKind::IdentityProvider => "identity_provider",
            ResourceKind::UserMetadata => "user_metadata",
        }
    }

    pub fn parse(text: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable key of an observed object within its environment and kind.
pub type ObjectKey = String;

/// An object warden observes: it knows its kind and its key.
pub trait Observed {
    const KIND: ResourceKind;
    fn key(&self) -> ObjectKey;
}

macro_rules! observed_by_id {
    ($($type:ty => $kind:ident),+ $(,)?) => {
        $(impl Observed for $type {
            const KIND: ResourceKind = ResourceKind::$kind;
            fn key(&self) -> ObjectKey {
                self.id.to_string()
            }
        })+
    };
}

observed_by_id!(
    Org => Org,
    Project => Project,
    User => User,
    MachineKey => MachineKey,
    PersonalAccessToken => PersonalAccessToken,
    UserGrant => UserGrant,
    ProjectGrant => ProjectGrant,
    Application => Application,
    IdentityProvider => IdentityProvider,
);

impl Observed for ProjectRole {
    const KIND: ResourceKind = ResourceKind::ProjectRole;
    fn key(&self) -> ObjectKey {
        format!("{}/{}", self.project_id, self.key)
    }
}

impl Observed for Membership {
    const KIND: ResourceKind = ResourceKind::Membership;
    fn key(&self) -> ObjectKey {
        match &self.scope {
            MembershipScope::Instance => format!("instance/{}", self.user_id),
            MembershipScope::Org(org_id) => format!("org/{org_id}/{}", self.user_id),
            MembershipScope::Project { project_id, .. } => format!("project/{project_id}/{}", self.user_id),
            MembershipScope::ProjectGrant { project_grant_id, .. } => {
                format!("project_grant/{project_grant_id}/{}", self.user_id)
            }
        }
    }
}

impl Observed for UserMetadata {
    const KIND: ResourceKind = ResourceKind::UserMetadata;
    fn key(&self) -> ObjectKey {
        format!("{}/{}", self.user_id, self.key)
    }
}

/// A batch of objects of one kind: the unit the store upserts in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectBatch {
    Orgs(Vec<Org>),
    Projects(Vec<Project>),
    ProjectRoles(Vec<ProjectRole>),
    Users(Vec<User>),
    MachineKeys(Vec<MachineKey>),
    PersonalAccessTokens(Vec<PersonalAccessToken>),
    UserGrants(Vec<UserGrant>),
    Memberships(Vec<Membership>),
    ProjectGrants(Vec<ProjectGrant>),
    Applications(Vec<Application>),
    IdentityProviders(Vec<IdentityProvider>),
    UserMetadata(Vec<UserMetadata>),
}

impl ObjectBatch {
    pub fn kind(&self) -> ResourceKind {
        fn kind_of<T: Observed>(_: &[T]) -> ResourceKind {
            T::KIND
        }
        with_objects!(self, |objects| kind_of(objects))
    }

    /// The keys of the objects in the batch, in order.
    pub fn keys(&self) -> Vec<ObjectKey> {
        with_objects!(self, |objects| objects.iter().map(Observed::key).collect())
    }

    pub fn len(&self) -> usize {
        with_objects!(self, |objects| objects.len())
    }

    /// Makes room for `additional` more objects, so that appending them later does not reallocate (and, for a
    /// moment, hold the list twice).
    pub fn reserve(&mut self, additional: usize) {
        with_objects!(self, |objects| objects.reserve_exact(additional))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything observed in one environment, one list per kind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub orgs: Vec<Org>,
    pub projects: Vec<Project>,
    pub project_roles: Vec<ProjectRole>,
    pub users: Vec<User>,
    pub machine_keys: Vec<MachineKey>,
    pub personal_access_tokens: Vec<PersonalAccessToken>,
    pub user_grants: Vec<UserGrant>,
    pub memberships: Vec<Membership>,
    pub project_grants: Vec<ProjectGrant>,
    pub applications: Vec<Application>,
    pub identity_providers: Vec<IdentityProvider>,
    pub user_metadata: Vec<UserMetadata>,
}

impl Snapshot {
    /// Appends a batch to the list of its kind (moving it in whole when that list is empty).
    pub fn extend(&mut self, batch: ObjectBatch) {
        fn extend<T: Stored>(snapshot: &mut Snapshot, objects: Vec<T>) {
            let list = T::list_mut(snapshot);
            if list.is_empty() {
                *list = objects;
            } else {
                list.extend(objects);
            }
        }
        with_objects!(batch, |objects| extend(self, objects))
    }

    /// Moves the objects of one kind out, leaving that list empty.
    pub fn take(&mut self, kind: ResourceKind) -> ObjectBatch {
        with_kind!(kind, |T| T::into_batch(std::mem::take(T::list_mut(self))))
    }

    /// Moves every object of `other` into this snapshot.
    pub fn append(&mut self, mut other: Snapshot) {
        for kind in ResourceKind::ALL {
            self.extend(other.take(kind));
        }
    }

    /// Makes room for `additional` more objects of `kind` (a list grown a slice at a time would otherwise end with up
    /// to twice the room it needs).
    pub fn reserve(&mut self, kind: ResourceKind, additional: usize) {
        with_kind!(kind, |T| T::list_mut(self).reserve_exact(additional))
    }

    /// The keys of the objects of `kind`, in list order.
    pub fn keys(&self, kind: ResourceKind) -> Vec<ObjectKey> {
        with_kind!(kind, |T| T::list(self).iter().map(Observed::key).collect())
    }

    /// How many objects of `kind` the snapshot holds.
    pub fn count(&self, kind: ResourceKind) -> usize {
        with_kind!(kind, |T| T::list(self).len())
    }

    /// Keeps the objects for which `keep(kind, key)` holds.
    pub fn retain(&mut self, keep: impl Fn(ResourceKind, &str) -> bool) {
        for kind in ResourceKind::ALL {
            with_kind!(kind, |T| T::list_mut(self).retain(|object| keep(kind, &object.key())));
        }
    }

    /// A snapshot holding one batch.
    pub fn of(batch: ObjectBatch) -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.extend(batch);
        snapshot
    }

    /// How many objects of each kind the snapshot holds (every kind present, zero included).
    pub fn counts(&self) -> BTreeMap<ResourceKind, u64> {
        ResourceKind::ALL.into_iter().map(|kind| (kind, with_kind!(kind, |T| T::list(self).len()) as u64)).collect()
    }
}

/// Where the objects of one kind live: their list in a [`Snapshot`] and their variant of [`ObjectBatch`]. With
/// `with_kind!` and `with_objects!`, code over every kind is written once instead of matching the twelve kinds.
pub(crate) trait Stored: Observed + Sized {
    fn list(snapshot: &Snapshot) -> &[Self];
    fn list_mut(snapshot: &mut Snapshot) -> &mut Vec<Self>;
    fn into_batch(objects: Vec<Self>) -> ObjectBatch;
    /// The objects of a batch of this kind; the batch itself, untouched, when it is of another kind.
    fn from_batch(batch: ObjectBatch) -> Result<Vec<Self>, ObjectBatch>;
}

macro_rules! stored_as {
    ($($type:ident => $variant:ident in $list:ident),+ $(,)?) => {
        $(impl Stored for $type {
            fn list(snapshot: &Snapshot) -> &[Self] {
                &snapshot.$list
            }
            fn list_mut(snapshot: &mut Snapshot) -> &mut Vec<Self> {
                &mut snapshot.$list
            }
            fn into_batch(objects: Vec<Self>) -> ObjectBatch {
                ObjectBatch::$variant(objects)
            }
            fn from_batch(batch: ObjectBatch) -> Result<Vec<Self>, ObjectBatch> {
                match batch {
                    ObjectBatch::$variant(objects) => Ok(objects),
                    other => Err(other),
                }
            }
        })+
    };
}

stored_as!(
    Org => Orgs in orgs,
    Project => Projects in projects,
    ProjectRole => ProjectRoles in project_roles,
    User => Users in users,
    MachineKey => MachineKeys in machine_keys,
    PersonalAccessToken => PersonalAccessTokens in personal_access_tokens,
    UserGrant => UserGrants in user_grants,
    Membership => Memberships in memberships,
    ProjectGrant => ProjectGrants in project_grants,
    Application => Applications in applications,
    IdentityProvider => IdentityProviders in identity_providers,
    UserMetadata => UserMetadata in user_metadata,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{OrgId, ProjectGrantId, ProjectId, RoleKey, UserId};

    #[test]
    fn resource_kinds_round_trip_through_text() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ResourceKind::parse("group"), None);
    }

    #[test]
    fn every_kind_is_dispatched_to_its_own_type_list_and_batch() {
        let mut snapshot = Snapshot::default();
        for kind in ResourceKind::ALL {
            assert_eq!(with_kind!(kind, |T| T::KIND), kind);
            let batch = snapshot.take(kind);
            assert_eq!(batch.kind(), kind);
            let mut same = batch.empty_like();
            assert_eq!(same.append(batch.clone()), Ok(()));
            snapshot.extend(batch);
        }
        assert!(snapshot.counts().values().all(|count| *count == 0));
        assert_eq!(snapshot.counts().len(), ResourceKind::ALL.len());
    }

    #[test]
    fn composite_keys_name_every_part() -> Result<(), crate::id::IdError> {
        let role = ProjectRole {
            project_id: ProjectId::parse("10")?,
            org_id: OrgId::parse("1")?,
            key: RoleKey::parse("billing/admin")?,
            display_name: String::new(),
            group: String::new(),
            created_at: None,
            changed_at: None,
        };
        assert_eq!(role.key(), "10/billing/admin");
        let membership = Membership {
            user_id: UserId::parse("7")?,
            scope: MembershipScope::ProjectGrant {
                org_id: OrgId::parse("1")?,
                project_id: ProjectId::parse("10")?,
                project_grant_id: ProjectGrantId::parse("20")?,
            },
            roles: vec!["PROJECT_GRANT_OWNER".to_owned()],
            created_at: None,
            changed_at: None,
        };
        assert_eq!(membership.key(), "project_grant/20/7");
        Ok(())
    }
}
