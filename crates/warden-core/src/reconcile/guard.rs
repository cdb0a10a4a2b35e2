//! The removal guard. ZITADEL answers a credential that lost its permissions with shorter lists, not with errors
//! (a v2 search returns what the caller may still see), so a sync after such a loss would record most of the estate
//! as deleted. A sync that would remove more than a share of any kind it stores holds every removal instead, and
//! says so; an operator who knows the deletions are real accepts them for one run.

use std::collections::BTreeMap;

use crate::model::{ObjectKey, ResourceKind};

/// When a sync holds its removals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalGuard {
    /// Hold when a kind would lose more than this percentage of its stored objects; 100 turns the guard off.
    pub max_percent: u8,
    /// Kinds with fewer stored objects than this are never held (removing 3 of 4 test users is ordinary).
    pub min_stored: u64,
}

impl Default for RemovalGuard {
    fn default() -> Self {
        RemovalGuard { max_percent: 50, min_stored: 20 }
    }
}

/// A kind that would lose more than the guard allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcessiveRemoval {
    pub kind: ResourceKind,
    pub removing: u64,
    pub stored: u64,
}

impl std::fmt::Display for ExcessiveRemoval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} {} objects", self.removing, self.stored, self.kind)
    }
}

impl RemovalGuard {
    /// Whether removing `removing` of `stored` objects of a kind is more than the guard allows.
    pub fn is_excessive(&self, stored: u64, removing: u64) -> bool {
        // removing / stored > max_percent / 100, in integers.
        stored >= self.min_stored
            && self.max_percent < 100
            && u128::from(removing) * 100 > u128::from(stored) * u128::from(self.max_percent)
    }
}

/// The kinds whose removals exceed `guard`, given how many objects of each kind are stored.
pub fn excessive_removals(
    stored: &BTreeMap<ResourceKind, u64>,
    removals: &[(ResourceKind, ObjectKey)],
    guard: RemovalGuard,
) -> Vec<ExcessiveRemoval> {
    let mut removing: BTreeMap<ResourceKind, u64> = BTreeMap::new();
    for (kind, _) in removals {
        *removing.entry(*kind).or_default() += 1;
    }
    excessive_counts(stored, &removing, guard)
}

/// The kinds whose removals (counted per kind) exceed `guard`.
pub fn excessive_counts(
    stored: &BTreeMap<ResourceKind, u64>,
    removing: &BTreeMap<ResourceKind, u64>,
    guard: RemovalGuard,
) -> Vec<ExcessiveRemoval> {
    removing
        .iter()
        .filter_map(|(kind, removing)| {
            let stored = stored.get(kind).copied().unwrap_or_default();
            guard.is_excessive(stored, *removing).then_some(ExcessiveRemoval {
                kind: *kind,
                removing: *removing,
                stored,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removals(kind: ResourceKind, count: usize) -> Vec<(ResourceKind, ObjectKey)> {
        (0..count).map(|index| (kind, index.to_string())).collect()
    }

    #[test]
    fn more_than_the_share_is_held_and_the_share_itself_is_not() {
        let stored = BTreeMap::from([(ResourceKind::User, 100), (ResourceKind::Org, 40)]);
        let guard = RemovalGuard::default();
        assert!(excessive_removals(&stored, &removals(ResourceKind::User, 50), guard).is_empty(), "50 % is allowed");
        assert_eq!(
            excessive_removals(&stored, &removals(ResourceKind::User, 51), guard),
            [ExcessiveRemoval { kind: ResourceKind::User, removing: 51, stored: 100 }]
        );
        let mut both = removals(ResourceKind::User, 10);
        both.extend(removals(ResourceKind::Org, 39));
        let held: Vec<ResourceKind> =
            excessive_removals(&stored, &both, guard).into_iter().map(|excessive| excessive.kind).collect();
        assert_eq!(held, [ResourceKind::Org]);
    }

    #[test]
    fn small_kinds_and_a_guard_at_100_percent_never_hold() {
        let stored = BTreeMap::from([(ResourceKind::User, 19), (ResourceKind::Org, 100)]);
        let guard = RemovalGuard::default();
        assert!(excessive_removals(&stored, &removals(ResourceKind::User, 19), guard).is_empty());
        let off = RemovalGuard { max_percent: 100, ..guard };
        assert!(excessive_removals(&stored, &removals(ResourceKind::Org, 100), off).is_empty());
        let strict = RemovalGuard { max_percent: 0, min_stored: 0 };
        assert_eq!(excessive_removals(&stored, &removals(ResourceKind::Org, 1), strict).len(), 1);
    }
}
