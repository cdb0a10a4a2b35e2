//! Undoing recorded changes: objects rebuilt from the field values `reconcile` recorded, through the same
//! description of each kind (`crate::fields::Described`).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::access_history::AccessHistoryError;
use crate::fields::{Described, RecordedFields};
use crate::model::{Change, ChangeKind, ObjectKey, ResourceKind, Snapshot, Stored, with_kind};

/// The current state of `kinds` with every change recorded after `at` undone, newest first; the other kinds are
/// left empty.
pub(super) fn rewind(
    current: &Snapshot,
    changes: &[Change],
    at: OffsetDateTime,
    kinds: &[ResourceKind],
) -> Result<Snapshot, AccessHistoryError> {
    let mut later: Vec<(usize, &Change)> =
        changes.iter().enumerate().filter(|(_, change)| change.observed_at > at).collect();
    // Newest first; of changes observed at the same time, the one listed last first.
    later.sort_by(|(a_index, a), (b_index, b)| {
        b.observed_at.cmp(&a.observed_at).then_with(|| b.run_id.cmp(&a.run_id)).then_with(|| b_index.cmp(a_index))
    });
    let mut then = Snapshot::default();
    for kind in ResourceKind::ALL.into_iter().filter(|kind| kinds.contains(kind)) {
        let changes: Vec<&Change> =
            later.iter().map(|(_, change)| *change).filter(|change| change.object_kind == kind).collect();
        then.extend(with_kind!(kind, |T| T::into_batch(undo(T::list(current), &changes)?)));
    }
    Ok(then)
}

/// Undoes `changes` (newest first, all of one kind) on `objects`, returning the objects in key order.
fn undo<T: Described + Clone>(objects: &[T], changes: &[&Change]) -> Result<Vec<T>, AccessHistoryError> {
    let mut by_key: BTreeMap<ObjectKey, T> = objects.iter().map(|object| (object.key(), object.clone())).collect();
    for change in changes {
        let failed = |reason: String| AccessHistoryError::Unrewindable {
            object_kind: change.object_kind,
            object_key: change.object_key.clone(),
            kind: change.kind.to_string(),
            reason,
        };
        let key = &change.object_key;
        match &change.kind {
            ChangeKind::Added => {
                by_key.remove(key).ok_or_else(|| failed("the added object is not in the later state".to_owned()))?;
            }
            ChangeKind::Removed => {
                let recorded: RecordedFields =
                    change.fields.iter().map(|field| (field.field.clone(), field.before.clone())).collect();
                let object = T::rebuild(key, change.org_id.as_ref(), &recorded, None)
                    .map_err(|error| failed(error.to_string()))?;
                by_key.insert(key.clone(), object);
            }
            ChangeKind::Modified => {
                let later = by_key
                    .get(key)
                    .ok_or_else(|| failed("the modified object is not in the later state".to_owned()))?;
                let mut recorded: RecordedFields =
                    later.fields().into_iter().map(|(field, value)| (field.to_owned(), value)).collect();
                for field in &change.fields {
                    recorded.insert(field.field.clone(), field.before.clone());
                }
                let object = T::rebuild(key, change.org_id.as_ref(), &recorded, Some(later))
                    .map_err(|error| failed(error.to_string()))?;
                by_key.insert(key.clone(), object);
            }
            ChangeKind::Unknown(other) => return Err(failed(format!("unknown change kind {other:?}"))),
        }
    }
    Ok(by_key.into_values().collect())
}
