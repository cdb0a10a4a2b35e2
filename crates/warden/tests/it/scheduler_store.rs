//! The leases and maintenance aggregates of the store, on SQLite and PostgreSQL: a lease taken by one holder at a
//! time, renewed by it alone, taken over once expired; retention that keeps what it promises to keep; planner
//! statistics refreshed where a table grew; the schema's currency.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::Duration;
use warden::store::{LeaseAcquisition, RetentionCutoffs, Store};
use warden_core::id::EnvironmentName;
use warden_core::model::{Attribution, Change, ChangeKind, FieldChange, ObjectBatch, ResourceKind, SyncStatus};

use crate::fixtures::{self, CHANGED};
use crate::support::contract_tests;

contract_tests!(
    a_lease_has_one_holder_until_it_expires_or_is_released,
    retention_keeps_the_baseline_each_days_last_run_and_every_run_with_changes,
    statistics_are_refreshed_for_grown_tables_and_the_schema_is_current,
);

fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

const TTL: StdDuration = StdDuration::from_secs(30);
const MIDNIGHT: time::OffsetDateTime = time::macros::datetime!(2026-01-15 00:00 UTC);

async fn a_lease_has_one_holder_until_it_expires_or_is_released(store: Arc<dyn Store>) {
    let acquired = |from: Option<&str>| LeaseAcquisition::Acquired { taken_over_from: from.map(str::to_owned) };
    assert_eq!(store.acquire_lease("sync/prod", "a", CHANGED, TTL).await.unwrap(), acquired(None));
    // Held: another holder is told who holds it and since when; the holder itself takes it again.
    match store.acquire_lease("sync/prod", "b", CHANGED + Duration::seconds(10), TTL).await.unwrap() {
        LeaseAcquisition::Busy(lease) => {
            assert_eq!((lease.holder.as_str(), lease.acquired_at), ("a", CHANGED));
            assert_eq!(lease.expires_at, CHANGED + Duration::seconds(30));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.acquire_lease("sync/prod", "a", CHANGED + Duration::seconds(10), TTL).await.unwrap(),
        acquired(None)
    );
    // Other leases are independent.
    assert_eq!(store.acquire_lease("retention", "b", CHANGED, TTL).await.unwrap(), acquired(None));

    // Renewed by its holder only.
    assert!(store.renew_lease("sync/prod", "a", CHANGED + Duration::seconds(20), TTL).await.unwrap());
    assert!(!store.renew_lease("sync/prod", "b", CHANGED + Duration::seconds(20), TTL).await.unwrap());
    let lease = store.lease("sync/prod").await.unwrap().unwrap();
    assert_eq!(lease.expires_at, CHANGED + Duration::seconds(50));

    // Expired: taken over, naming whom from; the old holder can no longer renew.
    let later = CHANGED + Duration::seconds(51);
    assert_eq!(store.acquire_lease("sync/prod", "b", later, TTL).await.unwrap(), acquired(Some("a")));
    assert!(!store.renew_lease("sync/prod", "a", later, TTL).await.unwrap());

    // Released by its holder only.
    store.release_lease("sync/prod", "a").await.unwrap();
    assert_eq!(store.lease("sync/prod").await.unwrap().map(|lease| lease.holder), Some("b".to_owned()));
    store.release_lease("sync/prod", "b").await.unwrap();
    assert_eq!(store.lease("sync/prod").await.unwrap(), None);
    assert_eq!(store.acquire_lease("sync/prod", "c", later, TTL).await.unwrap(), acquired(None));
}

fn change(run_id: warden_core::id::SyncRunId, observed_at: time::OffsetDateTime) -> Change {
    Change {
        environment: prod(),
        run_id,
        observed_at,
        object_kind: ResourceKind::User,
        object_key: "300".to_owned(),
        org_id: None,
        kind: ChangeKind::Modified,
        fields: vec![FieldChange { field: "email".to_owned(), before: None, after: Some("a@b.example".to_owned()) }],
        attribution: Attribution::Observed,
    }
}

fn cutoffs(sync_runs: time::OffsetDateTime) -> RetentionCutoffs {
    let long_ago = CHANGED - Duration::days(10_000);
    RetentionCutoffs {
        scim_request_log: long_ago,
        sync_runs,
        changes: None,
        audit_events: None,
        provider_probes: long_ago,
    }
}

async fn retention_keeps_the_baseline_each_days_last_run_and_every_run_with_changes(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    // Four runs a day for three days: the first ever is the baseline, the second run of day 1 recorded a change.
    let mut runs = Vec::new();
    for day in 0..3 {
        for hour in [1, 7, 13, 19] {
            let started = MIDNIGHT + Duration::days(day) + Duration::hours(hour);
            let mut run = store.start_sync_run(&prod(), started, None).await.unwrap();
            run.status = SyncStatus::Ok;
            run.finished_at = Some(started + Duration::minutes(1));
            store.finish_sync_run(&run).await.unwrap();
            runs.push(run);
        }
    }
    let changed = &runs[5];
    store.insert_changes(&[change(changed.id, changed.started_at)]).await.unwrap();
    let running = store.start_sync_run(&prod(), MIDNIGHT - Duration::days(1), None).await.unwrap();

    // Nothing is older than the cutoff: nothing goes.
    assert_eq!(store.apply_retention(&cutoffs(MIDNIGHT)).await.unwrap().sync_runs, 0);
    // Everything older than the cutoff that recorded nothing goes, except the baseline and each day's last run.
    let pruned = store.apply_retention(&cutoffs(MIDNIGHT + Duration::days(10))).await.unwrap();
    let kept: Vec<_> = store.list_sync_runs(&prod(), 100).await.unwrap().into_iter().map(|run| run.id).collect();
    let expected = [runs[11].id, runs[7].id, runs[5].id, runs[3].id, runs[0].id, running.id];
    assert_eq!(kept, expected);
    assert_eq!(pruned.sync_runs, 12 - 5);
    // The change is still there, and so is the run it hangs off.
    let query = warden::store::ChangeQuery { environment: Some(prod()), ..Default::default() };
    assert_eq!(store.list_changes(&query).await.unwrap().len(), 1);

    // Changes and the audit log go only when a retention is set for them.
    let mut with_changes = cutoffs(MIDNIGHT + Duration::days(10));
    with_changes.changes = Some(MIDNIGHT + Duration::days(10));
    with_changes.audit_events = Some(MIDNIGHT + Duration::days(10));
    let pruned = store.apply_retention(&with_changes).await.unwrap();
    assert_eq!(pruned.changes, 1);
    assert!(store.list_changes(&query).await.unwrap().is_empty());
    // Its run, now without changes, went in the same pass (it is neither the baseline nor a day's last).
    assert_eq!(pruned.sync_runs, 1);
    let kept: Vec<_> = store.list_sync_runs(&prod(), 100).await.unwrap().into_iter().map(|run| run.id).collect();
    assert_eq!(kept, [runs[11].id, runs[7].id, runs[3].id, runs[0].id, running.id]);
}

async fn statistics_are_refreshed_for_grown_tables_and_the_schema_is_current(store: Arc<dyn Store>) {
    assert!(!store.migrations_behind().await.unwrap());
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let users: Vec<_> = (0..2_000).map(|index| fixtures::human(&format!("{}", 10_000 + index), "100")).collect();
    store.upsert_objects(&prod(), &ObjectBatch::Users(users)).await.unwrap();
    // PostgreSQL counts the changes per table (shortly after the commit); SQLite decides for itself.
    let mut analyzed = Vec::new();
    for _ in 0..50 {
        analyzed = store.refresh_statistics().await.unwrap();
        if analyzed.iter().any(|table| table == "zitadel_user") || store.dialect() == "sqlite" {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    if store.dialect() == "postgres" {
        assert!(analyzed.iter().any(|table| table == "zitadel_user"), "{analyzed:?}");
        // Analyzed now: nothing changed since.
        assert!(!store.refresh_statistics().await.unwrap().contains(&"zitadel_user".to_owned()));
    } else {
        assert!(analyzed.is_empty());
    }
    store.close().await.unwrap();
}
