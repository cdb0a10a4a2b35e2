//! Key-ordered work on a batch, for comparing a large kind with the store a bounded slice at a time.

use std::collections::BTreeSet;

use crate::fields::Described;
use crate::id::OrgId;
use crate::model::{ObjectBatch, ObjectKey, Observed, Stored};

/// Sorts by descending key; of objects sharing a key, the one that came last stays (as in the store).
fn sort_descending_unique<T: Observed>(objects: &mut Vec<T>) {
    // A stable sort of the reversed list puts the last copy of a key first among its equals.
    objects.reverse();
    objects.sort_by_cached_key(|object| std::cmp::Reverse(object.key()));
    objects.dedup_by(|later, earlier| later.key() == earlier.key());
}

/// Moves the objects whose keys are at most `last` (the tail of a list sorted by descending key) out. The list gives
/// back room as it shrinks (whenever it uses less than half), so that a kind moved slice by slice into another list
/// is never held twice over.
fn split_smallest_through<T: Observed>(objects: &mut Vec<T>, last: &str) -> Vec<T> {
    let start = objects.partition_point(|object| object.key().as_str() > last);
    let tail = objects.split_off(start);
    if objects.len() < objects.capacity() / 2 {
        objects.shrink_to_fit();
    }
    tail
}

impl ObjectBatch {
    /// An empty batch of the same kind.
    pub fn empty_like(&self) -> ObjectBatch {
        map_objects!(self, |_objects| Vec::new())
    }

    /// Orders the batch by descending key, keeping one object per key: the last one given. Taking the smallest
    /// keys off such a batch ([`ObjectBatch::split_smallest_through`]) never moves the rest.
    pub fn sort_by_key_descending(&mut self) {
        with_objects!(self, |objects| sort_descending_unique(objects))
    }

    /// The key of the object at `index`, if there is one.
    pub fn key_at(&self, index: usize) -> Option<ObjectKey> {
        with_objects!(self, |objects| objects.get(index).map(Observed::key))
    }

    /// The key of the last object.
    pub fn last_key(&self) -> Option<ObjectKey> {
        self.len().checked_sub(1).and_then(|index| self.key_at(index))
    }

    /// Moves the objects whose keys are at most `last` out of a batch sorted by ascending key, and returns them.
    pub fn split_through(&mut self, last: &str) -> ObjectBatch {
        map_objects!(self, |objects| {
            let rest = objects.split_off(objects.partition_point(|object| object.key().as_str() <= last));
            std::mem::replace(objects, rest)
        })
    }

    /// Moves the objects whose keys are at most `last` out of a batch sorted by descending key (its tail), and
    /// returns them, smallest key last.
    pub fn split_smallest_through(&mut self, last: &str) -> ObjectBatch {
        map_objects!(self, |objects| split_smallest_through(objects, last))
    }

    /// Keeps the objects of the organizations `orgs` and, with `instance`, those of no organization.
    pub fn retain_in_orgs(&mut self, orgs: &BTreeSet<OrgId>, instance: bool) {
        with_objects!(self, |objects| objects.retain(|object| match object.scope_org() {
            Some(org) => orgs.contains(org),
            None => instance,
        }))
    }

    /// Moves every object of `other` (which must be of the same kind) to the end of this batch; returns `other`
    /// untouched when the kinds differ.
    pub fn append(&mut self, other: ObjectBatch) -> Result<(), ObjectBatch> {
        fn append<T: Stored>(objects: &mut Vec<T>, other: ObjectBatch) -> Result<(), ObjectBatch> {
            objects.extend(T::from_batch(other)?);
            Ok(())
        }
        with_objects!(self, |objects| append(objects, other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{OrgId, ProjectId};
    use crate::model::{Project, ProjectState};

    fn project(id: &str, name: &str) -> Project {
        Project {
            id: ProjectId::parse(id).unwrap(),
            org_id: OrgId::parse("1").unwrap(),
            name: name.to_owned(),
            state: ProjectState::Active,
            role_assertion: false,
            role_check: false,
            has_project_check: false,
            created_at: None,
            changed_at: None,
        }
    }

    fn names(batch: &ObjectBatch) -> Vec<String> {
        match batch {
            ObjectBatch::Projects(projects) => projects.iter().map(|project| project.name.clone()).collect(),
            _ => panic!("not projects"),
        }
    }

    #[test]
    fn sorting_keeps_the_last_copy_of_a_key() {
        let mut batch =
            ObjectBatch::Projects(vec![project("3", "c"), project("1", "a1"), project("2", "b"), project("1", "a2")]);
        batch.sort_by_key_descending();
        assert_eq!(names(&batch), ["c", "b", "a2"]);
        assert_eq!(batch.last_key().as_deref(), Some("1"));
        assert_eq!(batch.key_at(0).as_deref(), Some("3"));
        let smallest = batch.split_smallest_through("2");
        assert_eq!(names(&smallest), ["b", "a2"]);
        assert_eq!(names(&batch), ["c"]);
    }

    #[test]
    fn split_through_moves_the_prefix_up_to_and_including_the_key() {
        let mut batch = ObjectBatch::Projects(vec![project("1", "a"), project("2", "b"), project("4", "d")]);
        let head = batch.split_through("3");
        assert_eq!(names(&head), ["a", "b"]);
        assert_eq!(names(&batch), ["d"]);
        let head = batch.split_through("4");
        assert_eq!(names(&head), ["d"]);
        assert!(batch.is_empty());
        assert!(batch.empty_like().is_empty());
    }

    #[test]
    fn append_refuses_another_kind() {
        let mut batch = ObjectBatch::Projects(vec![project("1", "a")]);
        assert!(batch.append(ObjectBatch::Projects(vec![project("2", "b")])).is_ok());
        assert_eq!(names(&batch), ["a", "b"]);
        assert!(batch.append(ObjectBatch::Orgs(Vec::new())).is_err());
    }
}
