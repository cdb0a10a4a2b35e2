//! Incremental sync against the simulator over real HTTP, on SQLite and PostgreSQL: after random mutations of
//! every kind an incremental run leaves the store exactly as a full run leaves a second store, with the same
//! changes; a failed events page or re-read stores nothing false and keeps the position; an unchanged estate costs
//! a handful of requests; and the mode is chosen (and recorded) as documented.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use warden::store::{ChangeQuery, Store};
use warden::sync::{SyncOptions, SyncOutcome, sync_once};
use warden_core::id::EnvironmentName;
use warden_core::model::{ApiVersion, Environment, MetadataScope, Observed, Snapshot, SyncMode, SyncStatus, UserKind};
use warden_zitadel::{ClientOptions, Credential, ZitadelClient};
use zitadel_sim::{Estate, Fault, FaultKind, MembershipScope, NO_EXPIRY, NewHumanUser, Simulator};

use crate::support::{contract_tests, on_sqlite};
use crate::sync::{NOW, simulator};

contract_tests!(
    incremental_and_full_sync_agree_after_random_mutations,
    a_failed_events_page_or_re_read_stores_nothing_false_and_keeps_the_position,
    an_unchanged_estate_costs_a_handful_of_requests_and_the_mode_is_recorded,
    the_metadata_scope_reads_and_keeps_only_machine_users_metadata,
    a_credential_that_may_not_read_events_always_syncs_in_full,
    an_estate_removed_and_re_added_is_recorded_whole_and_stored_as_a_fresh_sync_stores_it,
);

fn environment(sim: &Simulator, name: &str) -> Environment {
    Environment { name: EnvironmentName::parse(name).unwrap(), ..crate::sync::environment(sim) }
}

fn client(sim: &Simulator) -> ZitadelClient {
    crate::sync::client(sim, ApiVersion::Auto, 1_000)
}

async fn sync(sim: &Simulator, store: &dyn Store, minutes: i64, full: bool) -> SyncOutcome {
    sync_named(sim, store, "prod", minutes, full).await
}

async fn sync_named(sim: &Simulator, store: &dyn Store, name: &str, minutes: i64, full: bool) -> SyncOutcome {
    let at = NOW + time::Duration::minutes(minutes);
    let options = SyncOptions { full, ..SyncOptions::default() };
    sync_once(&environment(sim, name), &client(sim), store, options, at).await.unwrap()
}

/// The run's changes as `(kind, object kind, key, fields)`, in a stable order.
async fn changes_of(store: &dyn Store, outcome: &SyncOutcome) -> BTreeSet<String> {
    let query = ChangeQuery { environment: Some(outcome.run.environment.clone()), ..ChangeQuery::default() };
    let changes = store.list_changes(&query).await.unwrap();
    changes
        .into_iter()
        .filter(|change| change.run_id == outcome.run.id)
        .map(|change| format!("{} {} {} {:?}", change.kind, change.object_kind, change.object_key, change.fields))
        .collect()
}

/// One random mutation of the estate, of any kind the simulator can make; `None` when the pick did not apply.
fn mutate(estate: &mut Estate, rng: &mut ChaCha8Rng, step: usize) -> Option<String> {
    let editor = estate.warden_user_id().to_owned();
    let pick = |len: usize, rng: &mut ChaCha8Rng| (len > 0).then(|| rng.random_range(0..len));
    let users: Vec<(String, String, bool)> = estate
        .users()
        .filter(|user| user.id != editor)
        .map(|user| (user.id.clone(), user.org_id.clone(), user.is_machine()))
        .collect();
    let machines: Vec<&(String, String, bool)> = users.iter().filter(|user| user.2).collect();
    let orgs: Vec<String> = estate.orgs().map(|org| org.id.clone()).collect();
    let projects: Vec<(String, String)> =
        estate.projects().map(|project| (project.id.clone(), project.org_id.clone())).collect();
    let roles: Vec<(String, String)> =
        estate.project_roles().map(|role| (role.project_id.clone(), role.key.clone())).collect();
    let grants: Vec<String> = estate.user_grants().map(|grant| grant.id.clone()).collect();
    let keys: Vec<(String, String)> = estate.machine_keys().map(|key| (key.user_id.clone(), key.id.clone())).collect();
    let metadata: Vec<(String, String)> =
        estate.user_metadata().map(|entry| (entry.user_id.clone(), entry.key.clone())).collect();
    let memberships: Vec<(String, MembershipScope)> = estate
        .memberships()
        .filter(|membership| membership.user_id != editor)
        .map(|membership| (membership.user_id.clone(), membership.scope.clone()))
        .collect();
    let tokens: Vec<(String, String)> =
        estate.personal_access_tokens().map(|token| (token.user_id.clone(), token.id.clone())).collect();
    let applications: Vec<(String, String)> =
        estate.applications().map(|app| (app.project_id.clone(), app.id.clone())).collect();
    let project_grants: Vec<(String, String)> =
        estate.project_grants().map(|grant| (grant.project_id.clone(), grant.id.clone())).collect();
    let applied = match rng.random_range(0..27) {
        17 => {
            let (user, token) = &tokens[pick(tokens.len(), rng)?];
            estate.remove_personal_access_token(&editor, user, token).map(|()| "remove pat")
        }
        18 => {
            let (project, _) = &projects[pick(projects.len(), rng)?];
            estate.change_project(&editor, project, &format!("renamed {step}")).map(|()| "rename project")
        }
        19 => {
            let (project, key) = &roles[pick(roles.len(), rng)?];
            estate.change_project_role(&editor, project, key, &format!("Role {step}"), "group").map(|()| "change role")
        }
        20 => {
            let (user, scope) = &memberships[pick(memberships.len(), rng)?];
            let roles = vec![["ORG_OWNER", "PROJECT_OWNER_VIEWER", "ORG_USER_MANAGER"][step % 3].to_owned()];
            estate.change_membership(&editor, user, scope, roles).map(|()| "change membership")
        }
        21 => {
            let org = &orgs[pick(orgs.len(), rng)?];
            estate.change_org_name(&editor, org, &format!("Org {step}")).map(|()| "rename org")
        }
        22 if step.is_multiple_of(4) => {
            let org = &orgs[pick(orgs.len(), rng)?];
            estate.remove_org(&editor, org).map(|()| "remove org")
        }
        23 => {
            let (project, app) = &applications[pick(applications.len(), rng)?];
            estate.remove_application(&editor, project, app).map(|()| "remove application")
        }
        24 => {
            let (project, grant) = &project_grants[pick(project_grants.len(), rng)?];
            estate.remove_project_grant(&editor, project, grant).map(|()| "remove project grant")
        }
        25 => {
            let (project, org) = &projects[pick(projects.len(), rng)?];
            let granted = orgs.iter().find(|candidate| *candidate != org)?;
            estate.add_project_grant(&editor, project, granted, Vec::new()).map(|_| "add project grant")
        }
        26 => {
            let user = &users[pick(users.len(), rng)?];
            match step % 3 {
                0 => estate.lock_user(&editor, &user.0).map(|()| "lock"),
                1 => estate.unlock_user(&editor, &user.0).map(|()| "unlock"),
                _ => estate.reactivate_user(&editor, &user.0).map(|()| "reactivate"),
            }
        }
        0 => {
            let org = &orgs[pick(orgs.len(), rng)?];
            let name = format!("person{step}");
            let new = NewHumanUser::new(&name, "Ada", "Step", &format!("{name}@example.com"));
            estate.add_human_user(&editor, org, new).map(|_| "add human")
        }
        1 => {
            let org = &orgs[pick(orgs.len(), rng)?];
            estate.add_machine_user(&editor, org, &format!("bot{step}"), "Bot", "").map(|_| "add machine")
        }
        2 => {
            let user = &users[pick(users.len(), rng)?];
            estate.set_user_email(&editor, &user.0, &format!("changed{step}@example.com"), false).map(|()| "email")
        }
        3 => {
            let user = &users[pick(users.len(), rng)?];
            estate.set_user_profile(&editor, &user.0, "Renamed", &format!("N{step}"), "Renamed").map(|()| "rename user")
        }
        4 => {
            let user = &users[pick(users.len(), rng)?];
            estate.deactivate_user(&editor, &user.0).map(|()| "deactivate")
        }
        5 => {
            let user = &users[pick(users.len(), rng)?];
            estate.remove_user(&editor, &user.0).map(|()| "remove user")
        }
        6 => {
            let user = machines[pick(machines.len(), rng)?];
            estate.add_machine_key(&editor, &user.0, NO_EXPIRY).map(|_| "add key")
        }
        7 => {
            let (user, key) = &keys[pick(keys.len(), rng)?];
            estate.remove_machine_key(&editor, user, key).map(|()| "remove key")
        }
        8 => {
            let user = machines[pick(machines.len(), rng)?];
            estate.add_personal_access_token(&editor, &user.0, NO_EXPIRY, vec!["openid".to_owned()]).map(|_| "add pat")
        }
        9 => {
            let user = &users[pick(users.len(), rng)?];
            estate
                .set_user_metadata(&editor, &user.0, &format!("k{}", step % 3), step.to_string().as_bytes())
                .map(|()| "metadata")
        }
        10 => {
            let (user, key) = &metadata[pick(metadata.len(), rng)?];
            estate.remove_user_metadata(&editor, user, key).map(|()| "remove metadata")
        }
        11 => {
            let org = &orgs[pick(orgs.len(), rng)?];
            estate.add_project(&editor, org, &format!("project {step}")).map(|_| "add project")
        }
        12 => {
            let (project, _) = &projects[pick(projects.len(), rng)?];
            estate.remove_project(&editor, project).map(|()| "remove project")
        }
        13 => {
            let (project, _) = &projects[pick(projects.len(), rng)?];
            let key = format!("role{step}");
            estate.add_project_role(&editor, project, &key, "A role", "").map(|()| "add role")
        }
        14 => {
            let (project, key) = &roles[pick(roles.len(), rng)?];
            estate.remove_project_role(&editor, project, key).map(|()| "remove role")
        }
        15 => {
            let grant = &grants[pick(grants.len(), rng)?];
            if rng.random_bool(0.5) {
                estate.remove_user_grant(&editor, grant).map(|()| "remove grant")
            } else {
                estate.update_user_grant(&editor, grant, Vec::new()).map(|()| "change grant")
            }
        }
        _ => {
            if rng.random_bool(0.5) {
                let (user, scope) = &memberships[pick(memberships.len(), rng)?];
                estate.remove_membership(&editor, user, scope).map(|()| "remove membership")
            } else {
                let user = &users[pick(users.len(), rng)?];
                let (project, org) = &projects[pick(projects.len(), rng)?];
                let scope = MembershipScope::Project { project_id: project.clone(), org_id: org.clone() };
                estate
                    .add_membership(&editor, &user.0, scope, vec!["PROJECT_OWNER".to_owned()])
                    .map(|()| "add membership")
            }
        }
    };
    applied.ok().map(str::to_owned)
}

async fn incremental_and_full_sync_agree_after_random_mutations(store: Arc<dyn Store>) {
    let cases: u64 = std::env::var("WARDEN_PROPERTY_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(4);
    for case in 0..cases {
        let seed = 0x5eed_0000 + case;
        let (sim, store) = (simulator().await, store.clone());
        // A second store for the full sync; the store under test gets the incremental one.
        on_sqlite(|full_store| async move {
            let name = format!("case{case}");
            let first = sync_named(&sim, &*store, &name, 0, false).await;
            assert_eq!((first.run.status.clone(), first.run.mode.clone()), (SyncStatus::Ok, SyncMode::Full));
            sync_named(&sim, &*full_store, &name, 0, false).await;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let steps = rng.random_range(5..40);
            let applied: Vec<String> = sim
                .control()
                .with_estate(|estate| (0..steps).filter_map(|step| mutate(estate, &mut rng, step)).collect());

            let incremental = sync_named(&sim, &*store, &name, 15, false).await;
            // Removing an organization is the one mutation that calls for a full run.
            let org_removed = applied.iter().any(|step| step == "remove org");
            let expected_mode = if org_removed { SyncMode::Full } else { SyncMode::Incremental };
            assert_eq!(incremental.run.mode, expected_mode, "seed {seed}: {}", incremental.run.mode_reason);
            assert_eq!(incremental.run.status, SyncStatus::Ok, "seed {seed}: {:?}", incremental.run.errors);
            let full = sync_named(&sim, &*full_store, &name, 15, true).await;
            assert_eq!(full.run.mode, SyncMode::Full);

            let name = &incremental.run.environment;
            let (stored, expected) =
                (store.load_snapshot(name).await.unwrap(), full_store.load_snapshot(name).await.unwrap());
            let differences = differences(&stored, &expected);
            assert!(differences.is_empty(), "seed {seed}: {differences:#?}\nafter {applied:?}");
            assert_eq!(
                changes_of(&*store, &incremental).await,
                changes_of(&*full_store, &full).await,
                "seed {seed}: {applied:?}"
            );
            assert_eq!(incremental.run.counts, full.run.counts, "seed {seed}");
            assert_eq!(incremental.machine_users, full.machine_users, "seed {seed}");
            assert!(org_removed || incremental.run.requests < full.run.requests, "seed {seed}");
        })
        .await;
    }
}

async fn a_failed_events_page_or_re_read_stores_nothing_false_and_keeps_the_position(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let first = sync(&sim, &*store, 0, false).await;
    let position = first.run.event_position.expect("a full run records where the events stand");
    let name = first.run.environment.clone();
    let (user, org) = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let user = estate.users().find(|user| !user.is_machine() && user.id != editor).unwrap().clone();
        estate.set_user_email(&editor, &user.id, "moved@example.com", false).unwrap();
        (user.id, user.org_id)
    });

    // The events cannot be read: nothing is stored, the run is partial, the position stays.
    sim.control().add_fault(Fault::new("POST /admin/v1/events/_search", FaultKind::Status(503)));
    let blind = sync(&sim, &*store, 15, false).await;
    assert_eq!((blind.run.status.clone(), blind.run.mode.clone()), (SyncStatus::Partial, SyncMode::Incremental));
    assert!(blind.run.errors.iter().any(|error| error.scope == "events"), "{:?}", blind.run.errors);
    assert_eq!((blind.added, blind.removed, blind.modified), (0, 0, 0));
    assert_eq!(blind.run.event_position, None);
    sim.control().clear_faults();

    // The changed user's organization cannot be listed: partial, nothing of it removed, position kept.
    let mut users_fail = Fault::new("POST /management/v1/users/_search", FaultKind::Status(500));
    users_fail.org_id = Some(org.clone());
    sim.control().add_fault(users_fail);
    sim.control().add_fault(Fault::new("POST /v2/users", FaultKind::Status(500)));
    let partial = sync(&sim, &*store, 30, false).await;
    assert_eq!((partial.run.status.clone(), partial.run.mode.clone()), (SyncStatus::Partial, SyncMode::Incremental));
    assert_eq!(partial.removed, 0, "{:?}", partial.run.errors);
    let last_ok = store.last_sync_run(&name, SyncStatus::Ok, None).await.unwrap().unwrap();
    assert_eq!((last_ok.id, last_ok.event_position), (first.run.id, Some(position)));
    sim.control().clear_faults();

    // The next run reads on from the old position and picks the change up.
    let caught_up = sync(&sim, &*store, 45, false).await;
    assert_eq!((caught_up.run.status.clone(), caught_up.run.mode.clone()), (SyncStatus::Ok, SyncMode::Incremental));
    assert!(caught_up.run.event_position > Some(position));
    let stored = store.observed_user(&name, &user).await.unwrap().unwrap();
    let UserKind::Human(profile) = stored.kind else { panic!("{stored:?} is no person") };
    assert_eq!(profile.email, "moved@example.com");
}

async fn an_unchanged_estate_costs_a_handful_of_requests_and_the_mode_is_recorded(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let first = sync(&sim, &*store, 0, false).await;
    assert_eq!((first.run.mode.clone(), first.run.mode_reason.as_str()), (SyncMode::Full, "first sync"));
    let unchanged = sync(&sim, &*store, 15, false).await;
    assert_eq!(unchanged.run.mode, SyncMode::Incremental, "{}", unchanged.run.mode_reason);
    assert_eq!((unchanged.added, unchanged.removed, unchanged.modified), (0, 0, 0));
    // The organizations and one page of events.
    assert!(
        unchanged.run.requests <= 3,
        "{} requests against {} for a full sync",
        unchanged.run.requests,
        first.run.requests
    );
    assert_eq!(unchanged.run.counts, first.run.counts);
    assert_eq!(unchanged.machine_users, first.machine_users);

    let forced = sync(&sim, &*store, 30, true).await;
    assert_eq!((forced.run.mode.clone(), forced.run.mode_reason.as_str()), (SyncMode::Full, "requested"));
    // A day after the last full run, a full run is due again.
    let due = sync(&sim, &*store, 30 + 24 * 60, false).await;
    assert_eq!((due.run.mode.clone(), due.run.mode_reason.as_str()), (SyncMode::Full, "full_sync_interval elapsed"));
    let runs = store.list_sync_runs(&first.run.environment, 10).await.unwrap();
    assert_eq!(runs.iter().map(|run| run.mode.as_str()).collect::<Vec<_>>(), ["full", "full", "incremental", "full"]);
}

/// The objects two snapshots hold differently, as `key: stored / expected`.
fn differences(stored: &Snapshot, expected: &Snapshot) -> Vec<String> {
    fn of<T: Observed + std::fmt::Debug>(stored: &[T], expected: &[T], out: &mut Vec<String>) {
        let index = |objects: &[T]| -> BTreeMap<String, String> {
            objects.iter().map(|object| (object.key(), format!("{object:?}"))).collect()
        };
        let (stored, expected) = (index(stored), index(expected));
        for key in stored.keys().chain(expected.keys()).collect::<BTreeSet<_>>() {
            if stored.get(key) != expected.get(key) {
                out.push(format!("{key}: {:?} / {:?}", stored.get(key), expected.get(key)));
            }
        }
    }
    let mut out = Vec::new();
    of(&stored.orgs, &expected.orgs, &mut out);
    of(&stored.projects, &expected.projects, &mut out);
    of(&stored.project_roles, &expected.project_roles, &mut out);
    of(&stored.users, &expected.users, &mut out);
    of(&stored.machine_keys, &expected.machine_keys, &mut out);
    of(&stored.personal_access_tokens, &expected.personal_access_tokens, &mut out);
    of(&stored.user_grants, &expected.user_grants, &mut out);
    of(&stored.memberships, &expected.memberships, &mut out);
    of(&stored.project_grants, &expected.project_grants, &mut out);
    of(&stored.applications, &expected.applications, &mut out);
    of(&stored.identity_providers, &expected.identity_providers, &mut out);
    of(&stored.user_metadata, &expected.user_metadata, &mut out);
    out
}

async fn the_metadata_scope_reads_and_keeps_only_machine_users_metadata(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let (client, environment) = (client(&sim), environment(&sim, "prod"));
    let run = |minutes: i64, metadata: MetadataScope| {
        let options = SyncOptions { metadata, ..SyncOptions::default() };
        sync_once(&environment, &client, &*store, options, NOW + time::Duration::minutes(minutes))
    };
    let all = run(0, MetadataScope::All).await.unwrap();
    let name = all.run.environment.clone();
    let machine_user = |snapshot: &Snapshot, user: &warden_core::id::UserId| {
        snapshot.users.iter().find(|candidate| &candidate.id == user).is_some_and(|user| user.is_machine())
    };
    let before = store.load_snapshot(&name).await.unwrap();
    assert!(
        before.user_metadata.iter().any(|entry| !machine_user(&before, &entry.user_id)),
        "the seed has people's metadata"
    );

    // Narrowing the scope is a full run that forgets people's metadata without recording its removal.
    let machines = run(15, MetadataScope::Machines).await.unwrap();
    assert_eq!(machines.run.mode, SyncMode::Full, "{}", machines.run.mode_reason);
    assert_eq!(machines.removed, 0);
    assert!(machines.run.requests < all.run.requests, "{} against {}", machines.run.requests, all.run.requests);
    let after = store.load_snapshot(&name).await.unwrap();
    assert!(after.user_metadata.iter().all(|entry| machine_user(&after, &entry.user_id)));
    assert_eq!(
        after.user_metadata.len(),
        before.user_metadata.iter().filter(|entry| machine_user(&before, &entry.user_id)).count()
    );

    // Incrementally, a person's new metadata is not read; a machine user's is.
    let (person, machine) = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let person = estate.users().find(|user| !user.is_machine()).unwrap().id.clone();
        let machine = estate.users().find(|user| user.is_machine() && user.id != editor).unwrap().id.clone();
        estate.set_user_metadata(&editor, &person, "team", b"blue").unwrap();
        estate.set_user_metadata(&editor, &machine, "team", b"red").unwrap();
        (person, machine)
    });
    let incremental = run(30, MetadataScope::Machines).await.unwrap();
    assert_eq!(incremental.run.mode, SyncMode::Incremental, "{}", incremental.run.mode_reason);
    let stored = store.load_snapshot(&name).await.unwrap();
    let team_of = |user: &str| {
        stored.user_metadata.iter().any(|entry| entry.user_id.as_str() == user && entry.key.as_str() == "team")
    };
    assert!(team_of(&machine) && !team_of(&person));
}

async fn a_credential_that_may_not_read_events_always_syncs_in_full(store: Arc<dyn Store>) {
    let sim = simulator().await;
    // A service user that may read one organization, not the instance's events (no `events.read`).
    let (org, viewer) = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let org = estate.orgs().find(|org| org.id != estate.platform_org_id()).unwrap().id.clone();
        let viewer = estate.add_machine_user(&editor, &org, "org-viewer", "Org viewer", "").unwrap();
        let scope = MembershipScope::Org { org_id: org.clone() };
        estate.add_membership(&editor, &viewer, scope, vec!["ORG_OWNER_VIEWER".to_owned()]).unwrap();
        (org, viewer)
    });
    sim.control().register_pat("org-viewer-pat", &viewer);
    let mut options =
        ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from("org-viewer-pat")));
    options.rate_limit = 0;
    let client = ZitadelClient::new(options).unwrap();
    let mut environment = environment(&sim, "prod");
    environment.orgs = vec![warden_core::id::OrgId::parse(org).unwrap()];
    for (minutes, reason) in [(0, "first sync"), (15, "no event position")] {
        let at = NOW + time::Duration::minutes(minutes);
        let outcome = sync_once(&environment, &client, &*store, SyncOptions::default(), at).await.unwrap();
        assert_eq!(outcome.run.status, SyncStatus::Ok, "{:?}", outcome.run.errors);
        assert_eq!(outcome.run.mode, SyncMode::Full);
        assert!(outcome.run.mode_reason.starts_with(reason), "{}", outcome.run.mode_reason);
        assert_eq!(outcome.run.event_position, None);
        assert!(outcome.run.counts[&warden_core::model::ResourceKind::User] > 0);
    }
}

async fn an_estate_removed_and_re_added_is_recorded_whole_and_stored_as_a_fresh_sync_stores_it(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let empty = Simulator::start(
        zitadel_sim::SimulatorOptions::new(Estate::minimal(NOW), crate::sync::PAT),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let at = |minutes: i64| NOW + time::Duration::minutes(minutes);
    let environment = |url: String| Environment { url, ..environment(&sim, "prod") };
    let (full, accept) = (SyncOptions::default(), SyncOptions { removal_guard: None, ..SyncOptions::default() });
    let first = sync_once(&environment(sim.base_url()), &client(&sim), &*store, full.clone(), at(0)).await.unwrap();
    let total: u64 = first.run.counts.values().sum();

    // The same environment pointed at a nearly empty instance: a full run (another URL), every removal recorded.
    let gone = sync_once(&environment(empty.base_url()), &client(&empty), &*store, accept, at(15)).await.unwrap();
    assert_eq!((gone.run.status.clone(), gone.run.mode.clone()), (SyncStatus::Ok, SyncMode::Full));
    let left: u64 = gone.run.counts.values().sum();
    assert_eq!(gone.removed as u64 + left, total + gone.added as u64);
    assert_eq!(
        changes_of(&*store, &gone).await.iter().filter(|change| change.starts_with("removed")).count(),
        gone.removed
    );

    // Pointed back: every object is recorded as added, with its fields, and the store holds what a fresh sync stores.
    let back = sync_once(&environment(sim.base_url()), &client(&sim), &*store, full, at(30)).await.unwrap();
    assert_eq!(back.run.status, SyncStatus::Ok, "{:?}", back.run.errors);
    assert_eq!(back.run.counts, first.run.counts);
    let added: Vec<String> =
        changes_of(&*store, &back).await.into_iter().filter(|change| change.starts_with("added")).collect();
    assert_eq!(added.len(), back.added);
    assert!(added.iter().all(|change| !change.ends_with("[]")), "an addition without its fields");
    let (seed_environment, seed_client) = (environment(sim.base_url()), client(&sim));
    on_sqlite(|fresh| async move {
        sync_once(&seed_environment, &seed_client, &*fresh, SyncOptions::default(), at(30)).await.unwrap();
        let name = back.run.environment.clone();
        let differences =
            differences(&store.load_snapshot(&name).await.unwrap(), &fresh.load_snapshot(&name).await.unwrap());
        assert!(differences.is_empty(), "{differences:#?}");
    })
    .await;
}
