//! Comparing a fetched kind with the store a bounded slice at a time.
//!
//! Both sides are walked in key order, like a merge join: the store a keyset page at a time, the fetched objects
//! sorted once. Each round compares the two sides up to a common key bound, so the stored state is never loaded
//! whole; a large estate's comparison holds at most two pages of stored objects next to what was fetched.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use warden_core::id::EnvironmentName;
use warden_core::model::{ChangeKind, ObjectBatch, ObjectKey, ResourceKind, Snapshot};
use warden_core::reconcile::{
    ExcessiveRemoval, FetchScope, ObjectChange, Reconciliation, RemovalGuard, excessive_counts, reconcile,
    whole_object_changes,
};

use crate::store::{self, Store};

/// Objects per side compared in one round, and the store's page size.
pub(crate) const SLICE: usize = 2_000;

/// What comparing every kind found, with the tallies the run reports.
///
/// Additions and removals are kept as objects (the upserts, the removed stored objects), not as changes: a change
/// records every field of its object again, and a run that adds or removes a whole estate would hold the estate
/// twice. Their changes are rendered while the store writes them ([`Comparison::changes`]).
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// The modifications (additions and removals are `added` and `removed_objects`), upserts and removals.
    pub(crate) reconciliation: Reconciliation,
    /// Per kind, whether each upsert (by its index) is an addition: a byte an object, not its key again.
    added_flags: BTreeMap<ResourceKind, Vec<bool>>,
    /// The stored objects removed (not held).
    removed_objects: Snapshot,
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

    /// Whether anything changed.
    pub(crate) fn changed(&self) -> bool {
        self.added + self.removed + self.modified > 0
    }

    /// Every change, rendered as it is taken: `modified` (taken with [`Comparison::take_modified`]), then the
    /// additions and removals kind by kind.
    pub(crate) fn changes(&self, modified: Vec<ObjectChange>) -> impl Iterator<Item = ObjectChange> + Send + '_ {
        let flags = &self.added_flags;
        let added = whole_object_changes(&self.reconciliation.upserts, &ChangeKind::Added, move |kind, index| {
            flags.get(&kind).and_then(|flags| flags.get(index)).copied().unwrap_or(false)
        });
        let removed = whole_object_changes(&self.removed_objects, &ChangeKind::Removed, |_, _| true);
        modified.into_iter().chain(added).chain(removed)
    }

    /// Moves the modifications out (the rest is rendered by [`Comparison::changes`]).
    pub(crate) fn take_modified(&mut self) -> Vec<ObjectChange> {
        std::mem::take(&mut self.reconciliation.changes)
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

    /// Takes a kind the store holds nothing of, outside a baseline: every object is an addition, recorded as one,
    /// and none needs comparing (a run re-adding an estate moves each such kind whole).
    fn absorb_additions(&mut self, mut fetched: ObjectBatch) {
        fetched.sort_by_key_descending();
        let kind = fetched.kind();
        self.added += fetched.len();
        *self.counts_after.entry(kind).or_default() += fetched.len() as u64;
        self.count_stored(&fetched);
        let flags = self.added_flags.entry(kind).or_default();
        flags.resize(self.reconciliation.upserts.count(kind), false);
        flags.resize(flags.len() + fetched.len(), true);
        self.reconciliation.upserts.extend(fetched);
    }

    /// Keeps every object the run would remove (the removal guard tripped): none is removed or reported, and the
    /// counts stay as stored. Returns how many removals were held.
    fn hold_removals(&mut self) -> usize {
        let held = std::mem::take(&mut self.reconciliation.removals).len();
        let removed = std::mem::take(&mut self.removed_objects);
        for kind in ResourceKind::ALL {
            let count = removed.count(kind) as u64;
            *self.counts_after.entry(kind).or_default() += count;
            self.removed = self.removed.saturating_sub(count as usize);
        }
        self.machine_users_after += removed.users.iter().filter(|user| user.is_machine()).count() as u64;
        held
    }

    /// Takes one comparison's outcome; `stored` are the stored objects it compared (the removed ones are kept).
    pub(crate) fn absorb(&mut self, mut part: Reconciliation, mut stored: Snapshot) {
        for (kind, _) in &part.removals {
            *self.removing.entry(*kind).or_default() += 1;
        }
        if let Some(held) = &mut self.held {
            *held += part.removals.len();
            part.removals.clear();
        }
        let removals: HashSet<(ResourceKind, &str)> =
            part.removals.iter().map(|(kind, key)| (*kind, key.as_str())).collect();
        stored.retain(|kind, key| removals.contains(&(kind, key)));
        self.machine_users_after = self
            .machine_users_after
            .saturating_sub(stored.users.iter().filter(|user| user.is_machine()).count() as u64);
        for kind in ResourceKind::ALL {
            let count = self.counts_after.entry(kind).or_default();
            *count = count.saturating_sub(stored.count(kind) as u64);
        }
        self.removed += removals.len();
        self.removed_objects.append(stored);
        let mut added_keys: HashSet<(ResourceKind, ObjectKey)> = HashSet::new();
        for change in std::mem::take(&mut part.changes) {
            match change.kind {
                ChangeKind::Added => {
                    self.added += 1;
                    *self.counts_after.entry(change.object_kind).or_default() += 1;
                    let machine_user = change.object_kind == ResourceKind::User && is_machine(&change);
                    self.machine_users_after += u64::from(machine_user);
                    added_keys.insert((change.object_kind, change.object_key));
                }
                ChangeKind::Removed => {}
                _ => {
                    self.modified += 1;
                    self.reconciliation.changes.push(change);
                }
            }
        }
        for kind in ResourceKind::ALL {
            if part.upserts.count(kind) > 0 {
                let flags = self.added_flags.entry(kind).or_default();
                flags.extend(part.upserts.keys(kind).into_iter().map(|key| added_keys.contains(&(kind, key))));
            }
        }
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

/// ZITADEL never turns a person into a machine user or back, so an addition tells by its `kind` field.
fn is_machine(change: &ObjectChange) -> bool {
    change.fields.iter().any(|field| field.field == "kind" && field.after.as_deref() == Some("machine"))
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
    if comparison.stored_counts.get(&kind).copied().unwrap_or_default() == 0 {
        comparison.absorb_additions(fetched);
        return Ok(());
    }
    fetched.sort_by_key_descending();
    // At least the objects beyond those stored are additions: room for them at once (a list grown a slice at a
    // time ends with up to twice the room it needs, which is most of the memory of a run re-adding an estate).
    let stored_count = usize::try_from(comparison.stored_counts.get(&kind).copied().unwrap_or_default()).unwrap_or(0);
    comparison.reconciliation.upserts.reserve(kind, fetched.len().saturating_sub(stored_count));
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
        let stored_slice = Snapshot::of(stored_slice);
        let part = reconcile(&stored_slice, Snapshot::of(fetched_slice), unknown);
        comparison.absorb(part, stored_slice);
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
            let modified = comparison.take_modified();
            let changes: Vec<ObjectChange> = comparison.changes(modified).collect();
            let found = &comparison.reconciliation;
            assert_eq!(summary(&changes), summary(&expected.changes), "slice {slice}");
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
