//! The observed-state aggregate's trait: [`Store`] (environments, observed objects, sync runs, changes), the
//! supertrait of every other aggregate's, so that one `Arc<dyn Store>` reaches everything stored.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, OrgId, SyncRunId, UserId};
use warden_core::model::{
    Change, Environment, MetadataScope, ObjectBatch, ObjectKey, ResourceKind, Snapshot, SyncError, SyncMode, SyncRun,
    SyncStatus, User,
};

use crate::store::{Error, GovernanceStore, LeaseStore, MaintenanceStore, ProbeStore, ProvisioningStore, ScimStore};

/// Which changes to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct ChangeQuery {
    pub environment: Option<EnvironmentName>,
    /// Only changes observed at or after this time.
    pub since: Option<OffsetDateTime>,
    pub object_kind: Option<ResourceKind>,
    pub limit: Option<u32>,
}

/// A part of an environment's stored objects: those of the organizations, of the users (for kinds that belong to a
/// user: the users themselves, their keys, tokens, metadata, grants and memberships) and, with `instance`, those
/// that belong to no organization (instance managers and identity providers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectScope {
    pub orgs: Vec<OrgId>,
    pub users: Vec<UserId>,
    pub instance: bool,
}

/// Everything warden stores; SCIM provisioning is the [`ScimStore`] supertrait.
#[async_trait]
pub trait Store:
    GovernanceStore + ScimStore + ProvisioningStore + LeaseStore + MaintenanceStore + ProbeStore + Send + Sync
{
    /// `postgres` or `sqlite`.
    fn dialect(&self) -> &'static str;

    /// Applies the migrations this build knows and the database has not seen yet.
    async fn migrate(&self) -> Result<(), Error>;

    /// The tables and their columns, sorted: lets tests prove both dialects hold the same model.
    async fn describe_schema(&self) -> Result<Vec<(String, Vec<String>)>, Error>;

    // Environments.

    async fn upsert_environment(&self, environment: &Environment) -> Result<(), Error>;
    async fn list_environments(&self) -> Result<Vec<Environment>, Error>;
    /// Removes an environment and everything observed and recorded in it. Returns whether it existed.
    async fn delete_environment(&self, name: &EnvironmentName) -> Result<bool, Error>;

    // Observed state.

    /// Inserts or replaces a batch of objects of one kind in one transaction. Objects are matched by their key; when
    /// a key occurs twice in the batch the last one wins.
    async fn upsert_objects(&self, environment: &EnvironmentName, batch: &ObjectBatch) -> Result<(), Error>;
    /// Deletes objects of one kind by key in one transaction; returns how many existed.
    async fn delete_objects(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        keys: &[ObjectKey],
    ) -> Result<u64, Error>;
    /// Every stored object of one kind, ordered by key.
    async fn list_objects(&self, environment: &EnvironmentName, kind: ResourceKind) -> Result<ObjectBatch, Error>;
    /// At most `limit` stored objects of one kind whose keys follow `after` (from the first when `None`), ordered
    /// by key (byte order, as Rust orders strings): walks a large kind a bounded page at a time.
    async fn list_objects_page(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ObjectBatch, Error>;
    /// The stored objects of one kind in `scope`, in no particular order.
    async fn list_objects_in(
        &self,
        environment: &EnvironmentName,
        kind: ResourceKind,
        scope: &ObjectScope,
    ) -> Result<ObjectBatch, Error>;
    /// The stored user `id` of an environment, if any.
    async fn observed_user(&self, environment: &EnvironmentName, id: &str) -> Result<Option<User>, Error>;
    /// Deletes the stored metadata of users outside `scope` (people's for `machines`, everyone's for `none`), without
    /// recording changes; returns how many entries.
    async fn forget_user_metadata(&self, environment: &EnvironmentName, scope: &MetadataScope) -> Result<u64, Error>;
    /// How many of the environment's stored users are machine users.
    async fn count_machine_users(&self, environment: &EnvironmentName) -> Result<u64, Error>;
    /// How many objects of each kind are stored for an environment (every kind present, zero included).
    async fn count_objects(&self, environment: &EnvironmentName) -> Result<BTreeMap<ResourceKind, u64>, Error>;

    /// Everything stored for an environment, read a keyset page at a time (a large estate's rows are never all
    /// buffered at once).
    async fn load_snapshot(&self, environment: &EnvironmentName) -> Result<Snapshot, Error> {
        self.load_kinds(environment, &ResourceKind::ALL).await
    }

    /// A snapshot holding only `kinds` (the others left empty), read like [`Store::load_snapshot`]. The two largest
    /// kinds, user grants and users, are read on two connections at once, each half with its share of the rest:
    /// decoding rows is most of the time, and it then uses two cores.
    async fn load_kinds(&self, environment: &EnvironmentName, kinds: &[ResourceKind]) -> Result<Snapshot, Error> {
        let (mut grants_half, mut users_half) = (Vec::new(), Vec::new());
        for (position, &kind) in kinds.iter().enumerate() {
            let with_grants = kind == ResourceKind::UserGrant || (position % 2 == 0 && kind != ResourceKind::User);
            if with_grants { grants_half.push(kind) } else { users_half.push(kind) }
        }
        let counts = self.count_objects(environment).await?;
        let (first, second) = tokio::join!(
            load_each(self, environment, &grants_half, &counts),
            load_each(self, environment, &users_half, &counts)
        );
        // The halves hold different kinds: moving the second's lists into the first copies nothing.
        let (mut snapshot, mut second) = (first?, second?);
        for &kind in &users_half {
            snapshot.extend(second.take(kind));
        }
        Ok(snapshot)
    }

    // Sync runs.

    /// Records a new run in status `running`, run by `holder` (the process holding the environment's sync lease,
    /// if any), and returns it with its id.
    async fn start_sync_run(
        &self,
        environment: &EnvironmentName,
        started_at: OffsetDateTime,
        holder: Option<&str>,
    ) -> Result<SyncRun, Error>;
    /// Stores the run's end state (status, finish time, counts, errors, request statistics).
    async fn finish_sync_run(&self, run: &SyncRun) -> Result<(), Error>;
    /// Marks the environment's runs before `before` that are still `running` and whose holder does not hold the
    /// live lease `lease` at `now` (so no live process is running them) as `interrupted` with `error`; their finish
    /// time stays unknown. Returns how many.
    async fn interrupt_abandoned_sync_runs(
        &self,
        environment: &EnvironmentName,
        before: SyncRunId,
        lease: &str,
        error: &SyncError,
        now: OffsetDateTime,
    ) -> Result<u64, Error>;
    /// Marks the environment's runs that `holder` is still running as `interrupted` at `now`, with `error`: the
    /// holder gave them up (a shutdown past its grace). Returns how many.
    async fn interrupt_sync_runs(
        &self,
        environment: &EnvironmentName,
        holder: &str,
        error: &SyncError,
        now: OffsetDateTime,
    ) -> Result<u64, Error>;
    /// The most recent runs of an environment, newest first.
    async fn list_sync_runs(&self, environment: &EnvironmentName, limit: u32) -> Result<Vec<SyncRun>, Error>;
    /// The environment's newest run that ended in `status` (and, if given, ran in `mode`).
    async fn last_sync_run(
        &self,
        environment: &EnvironmentName,
        status: SyncStatus,
        mode: Option<SyncMode>,
    ) -> Result<Option<SyncRun>, Error>;
    /// The environment's first run that stored state (ok or partial): its baseline, where its history starts.
    async fn first_stored_sync_run(&self, environment: &EnvironmentName) -> Result<Option<SyncRun>, Error>;

    // Changes.

    /// Appends changes in one transaction.
    async fn insert_changes(&self, changes: &[Change]) -> Result<(), Error>;
    async fn list_changes(&self, query: &ChangeQuery) -> Result<Vec<Change>, Error>;

    // A sync's outcome.

    /// Applies one sync's outcome in one transaction: removals, upserts, the changes and the run's end state. On any
    /// error (or a crash) nothing of it is visible and the previous state stands.
    async fn apply_sync(&self, environment: &EnvironmentName, writes: SyncWrites<'_>) -> Result<(), Error>;
}

/// Everything one sync run writes, applied together by [`Store::apply_sync`].
pub struct SyncWrites<'a> {
    /// Objects to insert or replace.
    pub upserts: &'a Snapshot,
    /// Objects to delete, by kind and key.
    pub removals: &'a [(ResourceKind, ObjectKey)],
    /// The change rows, taken a statement's worth at a time (a run that changed a whole estate renders them as
    /// they are written instead of holding them all).
    pub changes: &'a mut (dyn Iterator<Item = Change> + Send),
    /// The run, in its end state (status, finish time, counts, errors, request statistics).
    pub run: &'a SyncRun,
}

/// Reads every object of `kinds`, one kind after the other, a keyset page at a time, each page moved into the
/// snapshot as it arrives; the first page of a kind makes room for the `counts` stored, so the list never grows
/// by copying.
async fn load_each<S: Store + ?Sized>(
    store: &S,
    environment: &EnvironmentName,
    kinds: &[ResourceKind],
    counts: &BTreeMap<ResourceKind, u64>,
) -> Result<Snapshot, Error> {
    const PAGE: u32 = 5_000;
    let mut snapshot = Snapshot::default();
    for &kind in kinds {
        let mut after: Option<ObjectKey> = None;
        loop {
            let mut page = store.list_objects_page(environment, kind, after.as_deref(), PAGE).await?;
            let (full, first_page) = (page.len() == PAGE as usize, after.is_none());
            after = page.last_key();
            if full && first_page {
                let expected = counts.get(&kind).copied().unwrap_or_default();
                page.reserve(usize::try_from(expected).unwrap_or(0).saturating_sub(page.len()));
            }
            snapshot.extend(page);
            if !full {
                break;
            }
        }
    }
    Ok(snapshot)
}
