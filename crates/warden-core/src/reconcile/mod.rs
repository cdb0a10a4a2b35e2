//! Reconciliation: the stored state of an environment and a freshly fetched one in; the changes between them and
//! the writes that make the store hold the fetched state out. Pure: no I/O, no clock.
//!
//! Partial-fetch safety lives here: a scope (resource kind x organization) that could not be read completely is
//! *unknown*. Its stored objects are carried over unchanged and never reported as removed; the next complete read
//! reconciles them.

mod guard;

use std::collections::{BTreeMap, BTreeSet};

use crate::fields::{Described, FieldValue};
use crate::id::OrgId;
use crate::model::{ChangeKind, FieldChange, ObjectKey, Observed, ResourceKind, Snapshot, Stored, with_kind};

pub use guard::{ExcessiveRemoval, RemovalGuard, excessive_counts, excessive_removals};

/// One fetch unit: a kind of object in one organization, or at instance level (`org: None`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FetchScope {
    pub kind: ResourceKind,
    pub org: Option<OrgId>,
}

/// What changed in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    pub object_kind: ResourceKind,
    pub object_key: ObjectKey,
    pub org_id: Option<OrgId>,
    pub kind: ChangeKind,
    /// Every field for an addition or removal (before or after empty); the differing ones for a modification.
    pub fields: Vec<FieldChange>,
}

/// The outcome of reconciling one environment: what changed, and the least the store must write to hold the
/// fetched state (plus the stored objects of unknown scopes) afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    pub changes: Vec<ObjectChange>,
    /// Objects that are new or differ from the stored copy in any way (bookkeeping timestamps included).
    pub upserts: Snapshot,
    /// Stored objects that are gone.
    pub removals: Vec<(ResourceKind, ObjectKey)>,
}

impl Reconciliation {
    pub fn count(&self, kind: &ChangeKind) -> usize {
        self.changes.iter().filter(|change| &change.kind == kind).count()
    }
}

/// Compares `stored` with `fetched`. Objects of `unknown` scopes that were not fetched are kept as stored: neither
/// removed nor reported. `fetched` is consumed: what must be written moves into the result, the rest is dropped,
/// so a large estate is never held twice. Reconciling kind by kind (snapshots holding one kind each) gives the same
/// result with less held at once.
pub fn reconcile(stored: &Snapshot, mut fetched: Snapshot, unknown: &BTreeSet<FetchScope>) -> Reconciliation {
    let mut outcome = Reconciliation::default();
    let upserts = &mut outcome.upserts;
    let mut sink = Sink { changes: &mut outcome.changes, removals: &mut outcome.removals, unknown };
    for kind in ResourceKind::ALL {
        with_kind!(kind, |T| {
            let fetched = std::mem::take(T::list_mut(&mut fetched));
            sink.diff(T::list(stored), fetched, T::list_mut(upserts));
        });
    }
    outcome
}

struct Sink<'a> {
    changes: &'a mut Vec<ObjectChange>,
    removals: &'a mut Vec<(ResourceKind, ObjectKey)>,
    unknown: &'a BTreeSet<FetchScope>,
}

impl Sink<'_> {
    /// The changes of one kind, in key order; objects to write go to `upserts`.
    fn diff<T: Described + PartialEq>(&mut self, stored: &[T], fetched: Vec<T>, upserts: &mut Vec<T>) {
        let kind = T::KIND;
        let stored: BTreeMap<ObjectKey, &T> = stored.iter().map(|object| (object.key(), object)).collect();
        // A key fetched twice (unstable paging) counts once; the last copy wins, as in the store.
        let fetched: BTreeMap<ObjectKey, T> = fetched.into_iter().map(|object| (object.key(), object)).collect();
        let mut still_there: BTreeSet<ObjectKey> = BTreeSet::new();
        for (key, now) in fetched {
            let change = |change_kind, fields| ObjectChange {
                object_kind: kind,
                object_key: key.clone(),
                org_id: now.scope_org().cloned(),
                kind: change_kind,
                fields,
            };
            match stored.get(&key) {
                None => {
                    self.changes.push(change(ChangeKind::Added, all_fields(&now, false)));
                    upserts.push(now);
                }
                Some(before) if **before != now => {
                    let fields = changed_fields(before.fields(), now.fields());
                    if !fields.is_empty() {
                        self.changes.push(change(ChangeKind::Modified, fields));
                    }
                    upserts.push(now);
                }
                Some(_) => {}
            }
            still_there.insert(key);
        }
        for (key, before) in stored {
            if still_there.contains(&key) {
                continue;
            }
            let scope = FetchScope { kind, org: before.scope_org().cloned() };
            if self.unknown.contains(&scope) {
                continue;
            }
            self.changes.push(ObjectChange {
                object_kind: kind,
                object_key: key.clone(),
                org_id: before.scope_org().cloned(),
                kind: ChangeKind::Removed,
                fields: all_fields(before, true),
            });
            self.removals.push((kind, key));
        }
    }
}

/// The changes recording objects of `objects` whole: as added (every field after) or removed (every field before),
/// those for which `keep(kind, index in its list)` holds, kind by kind. Rendered one at a time, so that a run that
/// adds or removes a whole estate holds the objects, not their changes as well.
pub fn whole_object_changes<'a>(
    objects: &'a Snapshot,
    kind: &ChangeKind,
    keep: impl Fn(ResourceKind, usize) -> bool + Clone + Send + 'a,
) -> impl Iterator<Item = ObjectChange> + Send + 'a {
    let removed = *kind == ChangeKind::Removed;
    ResourceKind::ALL.into_iter().flat_map(move |object_kind| {
        let keep = keep.clone();
        let changes: Box<dyn Iterator<Item = ObjectChange> + Send + 'a> = with_kind!(object_kind, |T| Box::new(
            T::list(objects).iter().enumerate().filter(move |(index, _)| keep(object_kind, *index)).map(
                move |(_, object)| ObjectChange {
                    object_kind,
                    org_id: object.scope_org().cloned(),
                    kind: if removed { ChangeKind::Removed } else { ChangeKind::Added },
                    fields: all_fields(object, removed),
                    object_key: object.key(),
                }
            )
        ));
        changes
    })
}

fn all_fields<T: Described>(object: &T, before: bool) -> Vec<FieldChange> {
    object
        .fields()
        .into_iter()
        .map(|(field, value)| {
            let (before, after) = if before { (value, None) } else { (None, value) };
            FieldChange { field: field.to_owned(), before, after }
        })
        .collect()
}

/// The fields whose values differ, matched by name (in the order of `after`, then fields only `before` had).
fn changed_fields(before: Vec<(&'static str, FieldValue)>, after: Vec<(&'static str, FieldValue)>) -> Vec<FieldChange> {
    let mut before: BTreeMap<&'static str, FieldValue> = before.into_iter().collect();
    let mut changes = Vec::new();
    for (field, new) in after {
        let old = before.remove(field).flatten();
        if old != new {
            changes.push(FieldChange { field: field.to_owned(), before: old, after: new });
        }
    }
    for (field, old) in before {
        if old.is_some() {
            changes.push(FieldChange { field: field.to_owned(), before: old, after: None });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessTokenType, HumanProfile, MachineProfile, User, UserKind, UserState};

    fn user(id: &str, org: &str, email: &str) -> User {
        User {
            id: crate::id::UserId::parse(id).unwrap(),
            org_id: OrgId::parse(org).unwrap(),
            username: format!("user{id}"),
            preferred_login_name: format!("user{id}@example"),
            state: UserState::Active,
            kind: UserKind::Human(HumanProfile { email: email.to_owned(), ..HumanProfile::default() }),
            created_at: None,
            changed_at: None,
        }
    }

    fn users(list: Vec<User>) -> Snapshot {
        Snapshot { users: list, ..Snapshot::default() }
    }

    fn summary(outcome: &Reconciliation) -> Vec<String> {
        outcome
            .changes
            .iter()
            .map(|change| {
                let shown = if change.kind == ChangeKind::Modified { change.fields.as_slice() } else { &[] };
                let fields: Vec<String> = shown
                    .iter()
                    .map(|field| format!("{}:{:?}->{:?}", field.field, field.before, field.after))
                    .collect();
                format!("{} {} {} {}", change.kind, change.object_kind, change.object_key, fields.join(" "))
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn identical_states_have_no_changes_and_the_state_is_what_was_fetched() {
        let snapshot = users(vec![user("1", "10", "a@x"), user("2", "10", "b@x")]);
        let outcome = reconcile(&snapshot, snapshot.clone(), &BTreeSet::new());
        assert!(outcome.changes.is_empty());
        assert_eq!(outcome.upserts, Snapshot::default(), "nothing to write");
        assert!(outcome.removals.is_empty());
    }

    #[test]
    fn additions_removals_and_field_level_modifications() {
        let stored = users(vec![user("1", "10", "a@x"), user("2", "10", "b@x")]);
        let mut changed = user("2", "10", "new@x");
        changed.state = UserState::Inactive;
        changed.changed_at = Some(time::macros::datetime!(2026-01-01 0:00 UTC));
        let fetched = users(vec![changed, user("3", "11", "c@x")]);
        let outcome = reconcile(&stored, fetched.clone(), &BTreeSet::new());
        assert_eq!(
            summary(&outcome),
            [
                r#"modified user 2 state:Some("active")->Some("inactive") email:Some("b@x")->Some("new@x")"#,
                "added user 3",
                "removed user 1",
            ]
        );
        let added = &outcome.changes[1];
        assert_eq!(added.org_id, Some(OrgId::parse("11").unwrap()));
        assert!(added.fields.iter().all(|field| field.before.is_none()));
        assert!(added.fields.iter().any(|field| field.field == "email" && field.after.as_deref() == Some("c@x")));
        assert_eq!(outcome.upserts, fetched);
        assert_eq!(outcome.removals, [(ResourceKind::User, "1".to_owned())]);
    }

    #[test]
    fn an_object_that_differs_only_in_bookkeeping_is_written_but_not_reported() {
        let stored = users(vec![user("1", "10", "a@x")]);
        let mut touched = user("1", "10", "a@x");
        touched.changed_at = Some(time::macros::datetime!(2026-01-01 0:00 UTC));
        let outcome = reconcile(&stored, users(vec![touched.clone()]), &BTreeSet::new());
        assert!(outcome.changes.is_empty());
        assert_eq!(outcome.upserts, users(vec![touched]));
    }

    #[test]
    fn unknown_scopes_keep_their_stored_objects_and_report_no_removal() {
        let stored = users(vec![user("1", "10", "a@x"), user("2", "11", "b@x")]);
        let fetched = users(Vec::new());
        let unknown = BTreeSet::from([FetchScope { kind: ResourceKind::User, org: Some(OrgId::parse("10").unwrap()) }]);
        let outcome = reconcile(&stored, fetched.clone(), &unknown);
        assert_eq!(summary(&outcome), ["removed user 2"], "org 11 was read completely; org 10 was not");
        assert_eq!(outcome.removals, [(ResourceKind::User, "2".to_owned())]);

        // An unknown scope of another kind protects nothing here.
        let other =
            BTreeSet::from([FetchScope { kind: ResourceKind::MachineKey, org: Some(OrgId::parse("10").unwrap()) }]);
        assert_eq!(reconcile(&stored, fetched.clone(), &other).count(&ChangeKind::Removed), 2);
    }

    #[test]
    fn a_key_fetched_twice_counts_once() {
        let fetched = users(vec![user("1", "10", "old@x"), user("1", "10", "a@x")]);
        let outcome = reconcile(&Snapshot::default(), fetched, &BTreeSet::new());
        assert_eq!(summary(&outcome), ["added user 1"]);
        assert_eq!(outcome.upserts, users(vec![user("1", "10", "a@x")]));
    }

    #[test]
    fn fields_are_matched_by_name_even_when_the_kind_of_user_changes() {
        let stored = users(vec![user("1", "10", "a@x")]);
        let mut machine = user("1", "10", "");
        machine.kind = UserKind::Machine(MachineProfile {
            name: String::new(),
            description: "deploys".to_owned(),
            has_secret: false,
            access_token_type: AccessTokenType::Bearer,
        });
        let outcome = reconcile(&stored, users(vec![machine]), &BTreeSet::new());
        let fields: Vec<&str> = outcome.changes[0].fields.iter().map(|field| field.field.as_str()).collect();
        assert!(fields.contains(&"kind") && fields.contains(&"description") && fields.contains(&"email"), "{fields:?}");
        assert!(!fields.contains(&"display_name"), "both are empty: {fields:?}");
    }
}
