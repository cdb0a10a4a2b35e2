//! The store contract: every case runs on SQLite and on PostgreSQL, through `Arc<dyn Store>` only.

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;
use warden::store::{ChangeQuery, Error, Store, SyncWrites};
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::model::{
    Attribution, Change, ChangeKind, FieldChange, ObjectBatch, Observed, ResourceKind, Snapshot, SyncError, SyncStatus,
    UserKind, UserState,
};

use crate::fixtures::{self, CHANGED};
use crate::support::contract_tests;

contract_tests!(
    every_kind_round_trips_unchanged,
    kinds_are_walked_a_keyset_page_at_a_time_and_counted,
    upserting_replaces_by_key_and_the_last_duplicate_wins,
    deleting_removes_only_the_named_keys_of_one_environment,
    objects_need_a_known_environment,
    environments_are_upserted_listed_and_deleted_with_everything_in_them,
    sync_runs_are_started_finished_and_listed_newest_first,
    changes_are_appended_and_queried_by_environment_time_and_kind,
    ten_thousand_users_are_upserted_in_one_call,
    empty_batches_and_key_lists_are_no_ops,
    a_sync_outcome_is_applied_in_one_transaction,
    a_failed_apply_leaves_the_previous_state,
);

fn name(text: &str) -> EnvironmentName {
    EnvironmentName::parse(text).unwrap()
}

fn sort_by_key<T: Observed>(objects: &mut [T]) {
    objects.sort_by_key(|object| object.key().into_bytes());
}

/// The store lists by key in byte order; so does this.
fn sorted(mut snapshot: Snapshot) -> Snapshot {
    sort_by_key(&mut snapshot.orgs);
    sort_by_key(&mut snapshot.projects);
    sort_by_key(&mut snapshot.project_roles);
    sort_by_key(&mut snapshot.users);
    sort_by_key(&mut snapshot.machine_keys);
    sort_by_key(&mut snapshot.personal_access_tokens);
    sort_by_key(&mut snapshot.user_grants);
    sort_by_key(&mut snapshot.memberships);
    sort_by_key(&mut snapshot.project_grants);
    sort_by_key(&mut snapshot.applications);
    sort_by_key(&mut snapshot.identity_providers);
    sort_by_key(&mut snapshot.user_metadata);
    snapshot
}

async fn store_estate(store: &dyn Store, environment: &str) -> Snapshot {
    store.upsert_environment(&fixtures::environment(environment)).await.unwrap();
    let estate = fixtures::estate();
    for batch in fixtures::batches(&estate) {
        store.upsert_objects(&name(environment), &batch).await.unwrap();
    }
    estate
}

async fn every_kind_round_trips_unchanged(store: Arc<dyn Store>) {
    let estate = store_estate(&*store, "prod").await;
    let loaded = store.load_snapshot(&name("prod")).await.unwrap();
    assert_eq!(loaded, sorted(estate.clone()));
    assert!(ResourceKind::ALL.iter().all(|kind| loaded.counts()[kind] >= 2));
    for batch in fixtures::batches(&sorted(estate)) {
        assert_eq!(store.list_objects(&name("prod"), batch.kind()).await.unwrap(), batch);
    }
}

async fn kinds_are_walked_a_keyset_page_at_a_time_and_counted(store: Arc<dyn Store>) {
    let estate = store_estate(&*store, "prod").await;
    store_estate(&*store, "staging").await;
    // Keys of different lengths: byte order is not numeric order, and both sides of a sync must agree on it.
    let users: Vec<_> = ["9", "10", "100", "1000", "99"].iter().map(|id| fixtures::human(id, "100")).collect();
    store.upsert_objects(&name("prod"), &ObjectBatch::Users(users)).await.unwrap();

    let counts = store.count_objects(&name("prod")).await.unwrap();
    let snapshot = store.load_snapshot(&name("prod")).await.unwrap();
    assert_eq!(counts, snapshot.counts());
    assert_eq!(counts[&ResourceKind::User], estate.users.len() as u64 + 5);
    for kind in ResourceKind::ALL {
        let whole = store.list_objects(&name("prod"), kind).await.unwrap();
        let mut keys = whole.keys();
        keys.sort();
        assert_eq!(whole.keys(), keys, "{kind} listed in byte order");
        for limit in [1, 2, 1000] {
            let mut walked = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = store.list_objects_page(&name("prod"), kind, after.as_deref(), limit).await.unwrap();
                assert!(page.len() <= limit as usize);
                if page.is_empty() {
                    break;
                }
                after = page.last_key();
                walked.extend(page.keys());
            }
            assert_eq!(walked, keys, "{kind} walked in pages of {limit}");
        }
    }
    assert!(store.count_objects(&name("nowhere")).await.unwrap().values().all(|count| *count == 0));
}

async fn upserting_replaces_by_key_and_the_last_duplicate_wins(store: Arc<dyn Store>) {
    store_estate(&*store, "prod").await;
    let mut changed = fixtures::human("300", "100");
    changed.state = UserState::Locked;
    changed.changed_at = Some(CHANGED + Duration::days(1));
    if let UserKind::Human(profile) = &mut changed.kind {
        profile.email = "new@acme.example".to_owned();
    }
    // The same key three times in one batch, as an unstable ZITADEL page can deliver it.
    let mut stale = changed.clone();
    stale.username = "stale".to_owned();
    let batch = ObjectBatch::Users(vec![stale.clone(), stale, changed.clone()]);
    store.upsert_objects(&name("prod"), &batch).await.unwrap();

    let ObjectBatch::Users(users) = store.list_objects(&name("prod"), ResourceKind::User).await.unwrap() else {
        panic!("users listed as another kind");
    };
    assert_eq!(users.len(), 3, "an upsert never adds a row for a known key");
    assert_eq!(users.iter().find(|user| user.id == changed.id), Some(&changed));

    // A human who becomes a machine user (ZITADEL ids are never reused, but the store must not mix profiles).
    let turned = fixtures::machine("300", "100");
    store.upsert_objects(&name("prod"), &ObjectBatch::Users(vec![turned.clone()])).await.unwrap();
    let snapshot = store.load_snapshot(&name("prod")).await.unwrap();
    assert_eq!(snapshot.users.iter().find(|user| user.id == turned.id), Some(&turned));
}

async fn deleting_removes_only_the_named_keys_of_one_environment(store: Arc<dyn Store>) {
    let estate = store_estate(&*store, "prod").await;
    store_estate(&*store, "staging").await;

    for batch in fixtures::batches(&estate) {
        let kind = batch.kind();
        let keys = batch.keys();
        let doomed = vec![keys[0].clone(), "no-such-key".to_owned()];
        assert_eq!(store.delete_objects(&name("prod"), kind, &doomed).await.unwrap(), 1, "{kind}");
        let remaining = store.list_objects(&name("prod"), kind).await.unwrap().keys();
        assert_eq!(remaining.len(), keys.len() - 1, "{kind}");
        assert!(!remaining.contains(&keys[0]), "{kind}");
        assert_eq!(store.list_objects(&name("staging"), kind).await.unwrap().len(), keys.len(), "{kind}");
    }
    assert_eq!(store.delete_objects(&name("prod"), ResourceKind::User, &[]).await.unwrap(), 0);
}

async fn objects_need_a_known_environment(store: Arc<dyn Store>) {
    let batch = ObjectBatch::Users(vec![fixtures::human("300", "100")]);
    let error = store.upsert_objects(&name("nowhere"), &batch).await.unwrap_err();
    assert!(matches!(&error, Error::UnknownEnvironment(environment) if environment.as_str() == "nowhere"), "{error}");
    let error = store.start_sync_run(&name("nowhere"), CHANGED, None).await.unwrap_err();
    assert!(matches!(error, Error::UnknownEnvironment(_)), "{error}");
}

async fn environments_are_upserted_listed_and_deleted_with_everything_in_them(store: Arc<dyn Store>) {
    store_estate(&*store, "staging").await;
    store_estate(&*store, "prod").await;
    let run = store.start_sync_run(&name("prod"), CHANGED, None).await.unwrap();
    store.insert_changes(&[change("prod", run.id, CHANGED, ChangeKind::Added)]).await.unwrap();

    let mut prod = fixtures::environment("prod");
    prod.url = "https://acme.zitadel.cloud".to_owned();
    prod.orgs.clear();
    prod.labels.clear();
    store.upsert_environment(&prod).await.unwrap();
    let listed = store.list_environments().await.unwrap();
    assert_eq!(listed, vec![prod, fixtures::environment("staging")]);

    assert!(store.delete_environment(&name("prod")).await.unwrap());
    assert!(!store.delete_environment(&name("prod")).await.unwrap());
    assert_eq!(store.load_snapshot(&name("prod")).await.unwrap(), Snapshot::default());
    assert!(store.list_sync_runs(&name("prod"), 10).await.unwrap().is_empty());
    let query = ChangeQuery { environment: Some(name("prod")), ..ChangeQuery::default() };
    assert!(store.list_changes(&query).await.unwrap().is_empty());
    assert_eq!(store.load_snapshot(&name("staging")).await.unwrap(), sorted(fixtures::estate()));
}

async fn sync_runs_are_started_finished_and_listed_newest_first(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let first = store.start_sync_run(&name("prod"), CHANGED, None).await.unwrap();
    assert_eq!(first.status, SyncStatus::Running);
    let mut second = store.start_sync_run(&name("prod"), CHANGED + Duration::minutes(15), None).await.unwrap();
    assert_ne!(first.id, second.id);

    second.status = SyncStatus::Partial;
    second.finished_at = Some(CHANGED + Duration::minutes(16));
    second.counts = fixtures::estate().counts();
    second.errors = vec![SyncError { scope: "user @ org 101".to_owned(), message: "page 3: HTTP 500".to_owned() }];
    second.requests = 412;
    second.retries = 3;
    store.finish_sync_run(&second).await.unwrap();

    let runs = store.list_sync_runs(&name("prod"), 10).await.unwrap();
    assert_eq!(runs, vec![second.clone(), first.clone()]);
    assert_eq!(store.list_sync_runs(&name("prod"), 1).await.unwrap(), vec![second.clone()]);
    // The first run is still running: the partial second one is the first that stored state.
    assert_eq!(store.first_stored_sync_run(&name("prod")).await.unwrap(), Some(second.clone()));
    assert_eq!(store.first_stored_sync_run(&name("staging")).await.unwrap(), None);

    second.id = SyncRunId(second.id.0 + 1_000);
    assert!(matches!(store.finish_sync_run(&second).await, Err(Error::UnknownSyncRun(_))));

    // A later run marks the earlier runs still `running` interrupted: only those, only of its environment, and
    // only those whose holder does not hold the environment's sync lease.
    store.upsert_environment(&fixtures::environment("staging")).await.unwrap();
    let other = store.start_sync_run(&name("staging"), CHANGED, None).await.unwrap();
    let live = store.start_sync_run(&name("prod"), CHANGED + Duration::minutes(20), Some("replica-a")).await.unwrap();
    let ttl = std::time::Duration::from_secs(60);
    let now = CHANGED + Duration::minutes(30);
    store.acquire_lease("sync/prod", "replica-a", now, ttl).await.unwrap();
    let third = store.start_sync_run(&name("prod"), now, Some("replica-b")).await.unwrap();
    let interrupted = SyncError { scope: "run".to_owned(), message: "interrupted".to_owned() };
    let prod = name("prod");
    let abandoned = |at| store.interrupt_abandoned_sync_runs(&prod, third.id, "sync/prod", &interrupted, at);
    assert_eq!(abandoned(now).await.unwrap(), 1, "replica-a's run is left alone while its lease lives");
    // Once replica-a's lease has run out, its run is interrupted too.
    assert_eq!(abandoned(now + Duration::minutes(2)).await.unwrap(), 1);
    let stored = store.list_sync_runs(&name("prod"), 10).await.unwrap();
    assert_eq!(
        stored.iter().find(|run| run.id == live.id).and_then(|run| run.holder.clone()).as_deref(),
        Some("replica-a")
    );
    let runs = store.list_sync_runs(&name("prod"), 10).await.unwrap();
    let statuses: Vec<_> = runs.iter().map(|run| (run.id, run.status.clone(), run.errors.clone())).collect();
    second.id = SyncRunId(second.id.0 - 1_000);
    assert_eq!(
        statuses,
        vec![
            (third.id, SyncStatus::Running, Vec::new()),
            (live.id, SyncStatus::Interrupted, vec![interrupted.clone()]),
            (second.id, SyncStatus::Partial, second.errors.clone()),
            (first.id, SyncStatus::Interrupted, vec![interrupted.clone()]),
        ]
    );
    assert_eq!(runs[3].finished_at, None, "when it ended is unknown");
    assert_eq!(store.list_sync_runs(&name("staging"), 1).await.unwrap(), vec![other]);
    assert_eq!(abandoned(now + Duration::minutes(2)).await.unwrap(), 0);

    // A holder that gives its run up marks it interrupted, with the time it did.
    let gave_up = now + Duration::minutes(3);
    assert_eq!(store.interrupt_sync_runs(&name("prod"), "replica-b", &interrupted, gave_up).await.unwrap(), 1);
    let third = store.list_sync_runs(&name("prod"), 1).await.unwrap().remove(0);
    assert_eq!((third.status, third.finished_at), (SyncStatus::Interrupted, Some(gave_up)));
}

fn change(environment: &str, run_id: SyncRunId, observed_at: time::OffsetDateTime, kind: ChangeKind) -> Change {
    Change {
        environment: name(environment),
        run_id,
        observed_at,
        object_kind: ResourceKind::User,
        object_key: "300".to_owned(),
        org_id: Some(warden_core::id::OrgId::parse("100").unwrap()),
        kind,
        fields: vec![FieldChange {
            field: "email".to_owned(),
            before: Some("old@acme.example".to_owned()),
            after: Some("new@acme.example".to_owned()),
        }],
        attribution: Attribution::Observed,
    }
}

async fn changes_are_appended_and_queried_by_environment_time_and_kind(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    store.upsert_environment(&fixtures::environment("staging")).await.unwrap();
    let run = store.start_sync_run(&name("prod"), CHANGED, None).await.unwrap();
    let staging_run = store.start_sync_run(&name("staging"), CHANGED, None).await.unwrap();

    // Whole seconds and fractions on both sides of the boundary: text timestamps must still order by time.
    let boundary = datetime!(2026-02-01 10:00:00 UTC);
    let early = change("prod", run.id, boundary - Duration::milliseconds(500), ChangeKind::Added);
    let on_boundary = change("prod", run.id, boundary, ChangeKind::Modified);
    let mut late = change("prod", run.id, boundary + Duration::microseconds(1), ChangeKind::Removed);
    late.object_kind = ResourceKind::MachineKey;
    late.object_key = "400".to_owned();
    late.fields.clear();
    late.org_id = None;
    late.attribution = Attribution::Event {
        editor_user_id: Some(warden_core::id::UserId::parse("301").unwrap()),
        editor_name: Some("CI deployer".to_owned()),
        occurred_at: boundary - Duration::minutes(3),
    };
    let elsewhere = change("staging", staging_run.id, boundary + Duration::hours(1), ChangeKind::Added);
    store.insert_changes(&[early.clone(), on_boundary.clone(), late.clone(), elsewhere.clone()]).await.unwrap();

    let all = store.list_changes(&ChangeQuery::default()).await.unwrap();
    assert_eq!(all, vec![elsewhere, late.clone(), on_boundary.clone(), early]);

    let query = ChangeQuery { environment: Some(name("prod")), since: Some(boundary), ..ChangeQuery::default() };
    assert_eq!(store.list_changes(&query).await.unwrap(), vec![late.clone(), on_boundary.clone()]);

    let query = ChangeQuery { object_kind: Some(ResourceKind::User), limit: Some(1), ..query };
    assert_eq!(store.list_changes(&query).await.unwrap(), vec![on_boundary]);

    let query = ChangeQuery { object_kind: Some(ResourceKind::MachineKey), limit: None, ..query };
    assert_eq!(store.list_changes(&query).await.unwrap(), vec![late]);
}

async fn ten_thousand_users_are_upserted_in_one_call(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let users = fixtures::many_users(10_000);
    store.upsert_objects(&name("prod"), &ObjectBatch::Users(users.clone())).await.unwrap();
    // Again, unchanged: still 10,000 rows.
    store.upsert_objects(&name("prod"), &ObjectBatch::Users(users.clone())).await.unwrap();
    let ObjectBatch::Users(stored) = store.list_objects(&name("prod"), ResourceKind::User).await.unwrap() else {
        panic!("users listed as another kind");
    };
    assert_eq!(stored.len(), 10_000);
    assert_eq!(stored, users, "ids of equal length sort as the fixture made them");
}

async fn empty_batches_and_key_lists_are_no_ops(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    for kind in ResourceKind::ALL {
        let empty = store.list_objects(&name("prod"), kind).await.unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.kind(), kind);
        store.upsert_objects(&name("prod"), &empty).await.unwrap();
        assert_eq!(store.delete_objects(&name("prod"), kind, &[]).await.unwrap(), 0);
    }
    store.insert_changes(&[]).await.unwrap();
}

/// Both migration sets create the same tables with the same columns.
#[tokio::test]
async fn migrations_of_both_dialects_define_the_same_schema() {
    let sqlite_schema = crate::support::on_sqlite(|store| async move {
        assert_eq!(store.dialect(), "sqlite");
        store.describe_schema().await.unwrap()
    })
    .await;
    let tables: Vec<&str> = sqlite_schema.iter().map(|(table, _)| table.as_str()).collect();
    for expected in ["environment", "zitadel_user", "membership", "sync_run", "change", "user_metadata"] {
        assert!(tables.contains(&expected), "{expected} missing from {tables:?}");
    }

    let postgres_schema = crate::support::on_postgres(|store| async move {
        assert_eq!(store.dialect(), "postgres");
        store.describe_schema().await.unwrap()
    })
    .await;
    if let Some(postgres_schema) = postgres_schema {
        assert_eq!(sqlite_schema, postgres_schema);
    }

    let names = |dialect: &str| {
        let directory = format!("{}/migrations/{dialect}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"), "migrations must have the same numbering in both dialects");
}

async fn a_sync_outcome_is_applied_in_one_transaction(store: Arc<dyn Store>) {
    let estate = store_estate(&*store, "prod").await;
    let mut run = store.start_sync_run(&name("prod"), CHANGED, None).await.unwrap();
    let mut changed = fixtures::human("300", "100");
    changed.state = UserState::Inactive;
    let added = fixtures::machine("303", "101");
    let upserts = Snapshot { users: vec![changed.clone(), added.clone()], ..Snapshot::default() };
    let removed_key = estate.machine_keys[0].key();
    let removals = vec![(ResourceKind::MachineKey, removed_key.clone())];
    let changes =
        vec![change("prod", run.id, CHANGED, ChangeKind::Modified), change("prod", run.id, CHANGED, ChangeKind::Added)];
    run.status = SyncStatus::Ok;
    run.finished_at = Some(CHANGED + Duration::seconds(3));
    run.requests = 9;
    let mut rows = changes.clone().into_iter();
    let writes = SyncWrites { upserts: &upserts, removals: &removals, changes: &mut rows, run: &run };
    store.apply_sync(&name("prod"), writes).await.unwrap();

    let snapshot = store.load_snapshot(&name("prod")).await.unwrap();
    assert!(snapshot.users.contains(&changed) && snapshot.users.contains(&added));
    assert_eq!(snapshot.users.len(), estate.users.len() + 1);
    assert!(snapshot.machine_keys.iter().all(|key| key.key() != removed_key));
    assert_eq!(snapshot.machine_keys.len(), estate.machine_keys.len() - 1);
    let query = ChangeQuery { environment: Some(name("prod")), ..ChangeQuery::default() };
    assert_eq!(store.list_changes(&query).await.unwrap().len(), 2);
    assert_eq!(store.list_sync_runs(&name("prod"), 1).await.unwrap(), vec![run]);
}

async fn a_failed_apply_leaves_the_previous_state(store: Arc<dyn Store>) {
    store_estate(&*store, "prod").await;
    let before = store.load_snapshot(&name("prod")).await.unwrap();
    let run = store.start_sync_run(&name("prod"), CHANGED, None).await.unwrap();
    let upserts = Snapshot { users: vec![fixtures::machine("399", "100")], ..Snapshot::default() };
    let removals = vec![(ResourceKind::User, "300".to_owned())];
    // The last statement fails: the run to finish does not exist.
    let mut missing_run = run.clone();
    missing_run.id = SyncRunId(run.id.0 + 1_000);
    let changes = vec![change("prod", run.id, CHANGED, ChangeKind::Added)];
    let mut rows = changes.clone().into_iter();
    let writes = SyncWrites { upserts: &upserts, removals: &removals, changes: &mut rows, run: &missing_run };
    let error = store.apply_sync(&name("prod"), writes).await.unwrap_err();
    assert!(matches!(error, Error::UnknownSyncRun(_)), "{error}");

    assert_eq!(store.load_snapshot(&name("prod")).await.unwrap(), before);
    let query = ChangeQuery { environment: Some(name("prod")), ..ChangeQuery::default() };
    assert!(store.list_changes(&query).await.unwrap().is_empty());
    assert_eq!(store.list_sync_runs(&name("prod"), 1).await.unwrap()[0].status, SyncStatus::Running);
}
