//! Comparing a fetched kind with the store a bounded slice at a time.
//!
//! Both sides are walked in key order, like a merge join: the store a keyset page at a time, the fetched objects
//! sorted once. Each round compares the two sides up to a common key bound, so the stored state is never loaded
//! whole; a large estate's comparison holds at most two pages of stored objects next to what was fetched.

use std::collections::{BTreeMap, BTreeSet};

use warden_core::id::EnvironmentName;
use warden_core::model::{ChangeKind, ObjectBatch, ObjectKey, ResourceKind, Snapshot};
use warden_core::reconcile::{
    ExcessiveRemoval, FetchScope, ObjectChange, Reconciliation, RemovalGuard, excessive_counts, reconcile,
};

use crate::store::{self, Store};

/// Objects per side compared in one round, and the store's page size.
pub(crate) const SLICE: usize = 2_000;

/// What comparing every kind found, with the tallies the run reports.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// The changes (none for a baseline), upserts and removals.
    pub(crate) reconciliation: Reconciliation,
    pub(crate) added: usize,
    pub(crate) removed: usize,
    pub(crate) modified: usize,
    /// Objects per kind the store holds after the run.
    pub(crate) counts_after: BTreeMap<ResourceKind, u64>,
    /// Machine users the store holds after the run.
    pub(crate) machine_users_after: u64,
    /// `None`: every removal is recorded.
    guard: Option<RemovalGuard>,
    stored_counts: BTreeMap<ResourceKind, u64>,
    /// Removals found per kind, held or not.
    removing: BTreeMap<ResourceKind, u64>,
    /// How many removals were held, once the guard tripped: from then on removals are dropped as they are found,
    /// so that a run finding the whole estate gone never holds its removals in memory.
    held: Option<usize>,
}

/// The removals a run held, and the kinds that made it hold them.
#[derive(Debug)]
pub(crate) struct HeldRemovals {
    pub(crate) held: usize,
    pub(crate) excessive: Vec<ExcessiveRemoval>,
}

impl Comparison {
    /// Starts from what the store holds now; removals beyond `guard` are held.
    pub(crate) fn new(stored_counts: BTreeMap<ResourceKind, u64>, guard: Option<RemovalGuard>) -> Comparison {
        Comparison { counts_after: stored_counts.clone(), stored_counts, guard, ..Comparison::default() }
    }

    /// The removals held, if the guard tripped.
    pub(crate) fn held_removals(&self) -> Option<HeldRemovals> {
        let (held, guard) = (self.held?, self.guard?);
        Some(HeldRemovals { held, excessive: excessive_counts(&self.stored_counts, &self.removing, guard) })
    }

    /// Counts the machine users among users the store holds (or will hold) after the run.
    fn count_stored(&mut self, page: &ObjectBatch) {
        if let ObjectBatch::Users(users) = page {
            self.machine_users_after += users.iter().filter(|user| user.is_machine()).count() as u64;
        }
    }

    /// Takes a kind the store holds nothing of: every object is an addition, and none needs comparing.
    pub(crate) fn absorb_baseline(&mut self, mut fetched: ObjectBatch) {
        fetched.sort_by_key_descending();
        self.added += fetched.len();
        *self.counts_after.entry(fetched.kind()).or_default() += fetched.len() as u64;
        self.count_stored(&fetched);
        self.reconciliation.upserts.extend(fetched);
    }

    /// Keeps every object the run would remove (the removal guard tripped): none is removed or reported, and the
    /// counts stay as stored. Returns how many removals were held.
    fn hold_removals(&mut self) -> usize {
        let held = std::mem::take(&mut self.reconciliation.removals).len();
        let Comparison { reconciliation, removed, counts_after, machine_users_after, .. } = self;
        reconciliation.changes.retain(|change| {
            if change.kind != ChangeKind::Removed {
                return true;
            }
            *removed = removed.saturating_sub(1);
            *counts_after.entry(change.object_kind).or_default() += 1;
            if change.object_kind == ResourceKind::User && is_machine(change) {
                *machine_users_after += 1;
            }
            false
        });
        held
    }

    pub(crate) fn absorb(&mut self, mut part: Reconciliation) {
        for (kind, _) in &part.removals {
            *self.removing.entry(*kind).or_default() += 1;
        }
        if let Some(held) = &mut self.held {
            *held += part.removals.len();
            part.removals.clear();
            part.changes.retain(|change| change.kind != ChangeKind::Removed);
        }
        for change in &part.changes {
            let count = self.counts_after.entry(change.object_kind).or_default();
            let machine_user = change.object_kind == ResourceKind::User && is_machine(change);
            match change.kind {
                ChangeKind::Added => {
                    self.added += 1;
                    *count += 1;
                    self.machine_users_after += u64::from(machine_user);
                }
                ChangeKind::Removed => {
                    self.removed += 1;
                    *count = count.saturating_sub(1);
                    self.machine_users_after = self.machine_users_after.saturating_sub(u64::from(machine_user));
                }
                _ => self.modified += 1,
            }
        }
        self.reconciliation.changes.extend(part.changes);
        self.reconciliation.removals.extend(part.removals);
        self.reconciliation.upserts.append(part.upserts);
        let tripped = self.guard.is_some_and(|guard| {
            self.removing.iter().any(|(kind, removing)| {
                guard.is_excessive(self.stored_counts.get(kind).copied().unwrap_or_default(), *removing)
            })
        });
        if tripped && self.held.is_none() {
            self.held = Some(self.hold_removals());
        }
    }
}

/// ZITADEL never turns a person into a machine user or back, so an addition or removal tells by its `kind` field.
fn is_machine(change: &ObjectChange) -> bool {
    change
        .fields
        .iter()
        .any(|field| field.field == "kind" && field.before.as_deref().or(field.after.as_deref()) == Some("machine"))
}

/// Compares the fetched objects of one kind with the stored ones, a slice at a time, into `comparison`.
pub(crate) async fn compare_kind(
    store: &dyn Store,
    environment: &EnvironmentName,
    mut fetched: ObjectBatch,
    unknown: &BTreeSet<FetchScope>,
    slice: usize,
    comparison: &mut Comparison,
) -> Result<(), store::Error> {
    let kind = fetched.kind();
    fetched.sort_by_key_descending();
    let mut stored = fetched.empty_like();
    let mut cursor: Option<ObjectKey> = None;
    let mut stored_exhausted = false;
    loop {
        if !stored_exhausted && stored.len() < slice {
            let page = store
                .list_objects_page(environment, kind, cursor.as_deref(), u32::try_from(slice).unwrap_or(u32::MAX))
                .await?;
            stored_exhausted = page.len() < slice;
            cursor = page.last_key().or(cursor);
            comparison.count_stored(&page);
            stored.append(page).map_err(|page| store::Error::Corrupt {
                table: "page",
                column: "kind".to_owned(),
                message: format!("asked for {kind}, got {}", page.kind()),
            })?;
        }
        // Each side vouches for the keys up to its last one in memory (the stored side for all keys once the store
        // has no more); a round compares up to the lower bound, so every key is compared exactly once.
        let stored_bound = if stored_exhausted { None } else { stored.last_key() };
        let fetched_bound =
            fetched.len().checked_sub(slice).filter(|index| *index > 0).and_then(|index| fetched.key_at(index));
        let bound = match (stored_bound, fetched_bound) {
            (Some(stored_bound), Some(fetched_bound)) => Some(stored_bound.min(fetched_bound)),
            (stored_bound, fetched_bound) => stored_bound.or(fetched_bound),
        };
        let (stored_slice, fetched_slice) = match &bound {
            Some(bound) => (stored.split_through(bound), fetched.split_smallest_through(bound)),
            None => {
                let empty = fetched.empty_like();
                (std::mem::replace(&mut stored, empty.clone()), std::mem::replace(&mut fetched, empty))
            }
        };
        let part = reconcile(&Snapshot::of(stored_slice), Snapshot::of(fetched_slice), unknown);
        comparison.absorb(part);
        if bound.is_none() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use warden_core::id::{OrgId, UserId};
    use warden_core::model::{ApiVersion, Environment, HumanProfile, User, UserKind, UserState};

    use super::*;
    use crate::config::DatabaseUrl;

    fn user(id: &str, email: &str) -> User {
        User {
            id: UserId::parse(id).unwrap(),
            org_id: OrgId::parse("1").unwrap(),
            username: format!("user{id}"),
            preferred_login_name: format!("user{id}@acme"),
            state: UserState::Active,
            kind: UserKind::Human(HumanProfile { email: email.to_owned(), ..HumanProfile::default() }),
            created_at: None,
            changed_at: None,
        }
    }

    fn summary(changes: &[ObjectChange]) -> Vec<String> {
        let mut lines: Vec<String> =
            changes.iter().map(|change| format!("{} {} {:?}", change.kind, change.object_key, change.fields)).collect();
        lines.sort();
        lines
    }

    /// Whatever the slice size, comparing against the store a slice at a time finds what comparing the whole
    /// kind at once finds. Keys of different lengths make byte order and numeric order differ.
    #[tokio::test]
    async fn slices_of_any_size_find_what_one_comparison_finds() {
        let directory = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
        let store = store::open_and_migrate(&url).await.unwrap();
        let environment = Environment {
            name: EnvironmentName::parse("prod").unwrap(),
            url: "http://127.0.0.1:1".to_owned(),
            credential_reference: "pat_env:PAT".to_owned(),
            orgs: Vec::new(),
            sync_interval_seconds: 900,
            api: ApiVersion::Auto,
            labels: Default::default(),
        };
        store.upsert_environment(&environment).await.unwrap();

        let stored: Vec<User> = (1..=40).map(|index| user(&(index * 7).to_string(), "old@acme")).collect();
        store.upsert_objects(&environment.name, &ObjectBatch::Users(stored.clone())).await.unwrap();
        // Every third stored user is gone, every fifth changed its email, and new users come in between and after.
        let mut fetched: Vec<User> = Vec::new();
        for (index, user) in stored.iter().enumerate() {
            match index {
                index if index % 3 == 0 => {}
                index if index % 5 == 0 => fetched.push(user_with_email(user, "new@acme")),
                _ => fetched.push(user.clone()),
            }
        }
        fetched.extend((1..=12).map(|index| user(&(index * 31 + 1).to_string(), "added@acme")));
        fetched.reverse();

        let expected = reconcile(
            &Snapshot { users: stored, ..Snapshot::default() },
            Snapshot { users: fetched.clone(), ..Snapshot::default() },
            &BTreeSet::new(),
        );
        for slice in [1, 2, 3, 7, 40, 1000] {
            let mut comparison = Comparison::new(store.count_objects(&environment.name).await.unwrap(), None);
            let batch = ObjectBatch::Users(fetched.clone());
            compare_kind(&*store, &environment.name, batch, &BTreeSet::new(), slice, &mut comparison).await.unwrap();
            let found = &comparison.reconciliation;
            assert_eq!(summary(&found.changes), summary(&expected.changes), "slice {slice}");
            assert_eq!(found.upserts.users.len(), expected.upserts.users.len(), "slice {slice}");
            let mut removals = found.removals.clone();
            removals.sort();
            assert_eq!(removals, expected.removals, "slice {slice}");
            let expected_count = 40 + expected.count(&ChangeKind::Added) - expected.count(&ChangeKind::Removed);
            assert_eq!(comparison.counts_after[&ResourceKind::User], expected_count as u64, "slice {slice}");
            assert_eq!(comparison.added + comparison.removed + comparison.modified, expected.changes.len());
        }
    }

    fn user_with_email(user: &User, email: &str) -> User {
        let mut user = user.clone();
        user.kind = UserKind::Human(HumanProfile { email: email.to_owned(), ..HumanProfile::default() });
        user
    }
}
