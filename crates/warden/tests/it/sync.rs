//! `sync_once` against the simulator over real HTTP, on SQLite and PostgreSQL: a first sync stores everything, a
//! second finds nothing, a scripted set of mutations yields exactly its changes, and a failed page never turns into
//! removals.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;
use time::macros::datetime;
use warden::store::{ChangeQuery, Store};
use warden::sync::{SyncOptions, SyncOutcome, sync_once};
use warden_core::id::EnvironmentName;
use warden_core::model::{
    ApiVersion, Attribution, ChangeKind, Environment, MembershipScope, Observed, ResourceKind, Snapshot, SyncStatus,
};
use warden_zitadel::{ClientOptions, Credential, RetryPolicy, ZitadelClient};
use zitadel_sim::{Estate, Fault, FaultKind, Simulator, SimulatorOptions};

use crate::support::contract_tests;

contract_tests!(
    a_first_sync_stores_the_whole_estate_and_a_second_finds_nothing,
    a_set_of_mutations_yields_exactly_its_changes,
    a_failed_page_makes_the_run_partial_without_false_removals,
    rate_limit_storms_and_truncated_bodies_are_retried_to_a_complete_run,
    a_timeout_makes_the_run_partial_and_keeps_its_scope,
    a_run_that_would_remove_most_users_holds_every_removal_until_accepted,
);

pub(crate) const PAT: &str = "warden-sync-test-pat";
pub(crate) const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

pub(crate) async fn simulator() -> Simulator {
    let options = SimulatorOptions::new(Estate::seed(NOW), PAT);
    Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

pub(crate) fn environment(sim: &Simulator) -> Environment {
    Environment {
        name: EnvironmentName::parse("prod").unwrap(),
        url: sim.base_url(),
        credential_reference: "pat_env:TEST".to_owned(),
        orgs: Vec::new(),
        sync_interval_seconds: 900,
        api: ApiVersion::Auto,
        labels: Default::default(),
    }
}

pub(crate) fn client(sim: &Simulator, api: ApiVersion, page_size: u32) -> ZitadelClient {
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(PAT)));
    options.api = api;
    options.rate_limit = 0;
    options.page_size = page_size;
    options.retry = RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    };
    ZitadelClient::new(options).unwrap()
}

async fn sync(sim: &Simulator, client: &ZitadelClient, store: &dyn Store, minutes: i64) -> SyncOutcome {
    let at = NOW + time::Duration::minutes(minutes);
    sync_once(&environment(sim), client, store, SyncOptions::default(), at).await.unwrap()
}

fn change_set(store_changes: &[warden_core::model::Change]) -> BTreeSet<(String, ResourceKind, String)> {
    store_changes
        .iter()
        .map(|change| (change.kind.to_string(), change.object_kind, change.object_key.clone()))
        .collect()
}

async fn changes_of_run(store: &dyn Store, outcome: &SyncOutcome) -> Vec<warden_core::model::Change> {
    let query = ChangeQuery { environment: Some(outcome.run.environment.clone()), ..ChangeQuery::default() };
    store.list_changes(&query).await.unwrap().into_iter().filter(|change| change.run_id == outcome.run.id).collect()
}

async fn a_first_sync_stores_the_whole_estate_and_a_second_finds_nothing(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let client = client(&sim, ApiVersion::Auto, 1_000);
    let first = sync(&sim, &client, &*store, 0).await;
    assert_eq!(first.run.status, SyncStatus::Ok, "{:?}", first.run.errors);
    let counts = sim.control().counts();
    let stored = store.load_snapshot(&first.run.environment).await.unwrap().counts();
    let expected = [
        (ResourceKind::Org, counts.orgs),
        (ResourceKind::User, counts.users),
        (ResourceKind::Project, counts.projects),
        (ResourceKind::ProjectRole, counts.project_roles),
        (ResourceKind::UserGrant, counts.user_grants),
        (ResourceKind::MachineKey, counts.machine_keys),
        (ResourceKind::PersonalAccessToken, counts.personal_access_tokens),
        (ResourceKind::Membership, counts.memberships),
        (ResourceKind::ProjectGrant, counts.project_grants),
        (ResourceKind::Application, counts.applications),
        (ResourceKind::IdentityProvider, counts.identity_providers),
        (ResourceKind::UserMetadata, counts.user_metadata),
    ];
    for (kind, count) in expected {
        assert_eq!(stored[&kind], count, "{kind} stored");
        assert_eq!(first.run.counts[&kind], count, "{kind} counted in the run");
    }
    let total: u64 = expected.iter().map(|(_, count)| count).sum();
    assert_eq!((first.added as u64, first.removed, first.modified), (total, 0, 0));
    assert!(changes_of_run(&*store, &first).await.is_empty(), "the first sync is the baseline: no change rows");
    assert!(first.run.requests > 0 && first.run.finished_at.is_some());

    let second = sync(&sim, &client, &*store, 15).await;
    assert_eq!(second.run.status, SyncStatus::Ok);
    assert_eq!((second.added, second.removed, second.modified), (0, 0, 0));
    assert!(changes_of_run(&*store, &second).await.is_empty(), "an unchanged estate writes no change rows");
}

async fn a_set_of_mutations_yields_exactly_its_changes(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let client = client(&sim, ApiVersion::Auto, 1_000);
    let first = sync(&sim, &client, &*store, 0).await;
    let before: Snapshot = store.load_snapshot(&first.run.environment).await.unwrap();

    // The role to remove: one some user grant holds, in another project than the one to delete.
    let doomed_project = before.project_grants.first().unwrap().project_id.clone();
    let (role_project, role_key) = before
        .user_grants
        .iter()
        .filter(|grant| grant.project_id != doomed_project)
        .find_map(|grant| grant.role_keys.first().map(|key| (grant.project_id.clone(), key.clone())))
        .unwrap();
    let human = before.users.iter().find(|user| !user.is_machine() && user.state.is_usable()).unwrap().clone();
    let other_human = before
        .users
        .iter()
        .find(|user| !user.is_machine() && user.state.is_usable() && user.id != human.id)
        .unwrap()
        .clone();
    let machine = before.users.iter().find(|user| user.is_machine()).unwrap().clone();
    let org = before.orgs[1].id.clone();

    let (new_user, new_key) = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let new_user = estate.add_machine_user(&editor, org.as_str(), "deploy-bot", "Deploy bot", "").unwrap();
        let scope = zitadel_sim::MembershipScope::Org { org_id: org.to_string() };
        estate.add_membership(&editor, &new_user, scope, vec!["ORG_OWNER".to_owned()]).unwrap();
        estate.remove_project_role(&editor, role_project.as_str(), role_key.as_str()).unwrap();
        estate.set_user_email(&editor, human.id.as_str(), "changed@customer.example", false).unwrap();
        let new_key = estate.add_machine_key(&editor, machine.id.as_str(), zitadel_sim::NO_EXPIRY).unwrap();
        estate.deactivate_user(&editor, other_human.id.as_str()).unwrap();
        estate.remove_project(&editor, doomed_project.as_str()).unwrap();
        (new_user, new_key)
    });

    let mut expected: BTreeSet<(String, ResourceKind, String)> = BTreeSet::new();
    let mut expect = |kind: &str, object: ResourceKind, key: String| expected.insert((kind.to_owned(), object, key));
    expect("added", ResourceKind::User, new_user.clone());
    expect("added", ResourceKind::Membership, format!("org/{org}/{new_user}"));
    expect("removed", ResourceKind::ProjectRole, format!("{role_project}/{role_key}"));
    for grant in before
        .user_grants
        .iter()
        .filter(|grant| grant.project_id == role_project && grant.role_keys.contains(&role_key))
    {
        expect("modified", ResourceKind::UserGrant, grant.key());
    }
    for grant in before
        .project_grants
        .iter()
        .filter(|grant| grant.project_id == role_project && grant.role_keys.contains(&role_key))
    {
        expect("modified", ResourceKind::ProjectGrant, grant.key());
    }
    expect("modified", ResourceKind::User, human.key());
    expect("added", ResourceKind::MachineKey, new_key);
    expect("modified", ResourceKind::User, other_human.key());
    expect("removed", ResourceKind::Project, doomed_project.to_string());
    for role in before.project_roles.iter().filter(|role| role.project_id == doomed_project) {
        expect("removed", ResourceKind::ProjectRole, role.key());
    }
    for app in before.applications.iter().filter(|app| app.project_id == doomed_project) {
        expect("removed", ResourceKind::Application, app.key());
    }
    for grant in before.user_grants.iter().filter(|grant| grant.project_id == doomed_project) {
        expect("removed", ResourceKind::UserGrant, grant.key());
    }
    for grant in before.project_grants.iter().filter(|grant| grant.project_id == doomed_project) {
        expect("removed", ResourceKind::ProjectGrant, grant.key());
    }
    for membership in &before.memberships {
        let on_doomed = match &membership.scope {
            MembershipScope::Project { project_id, .. } | MembershipScope::ProjectGrant { project_id, .. } => {
                *project_id == doomed_project
            }
            _ => false,
        };
        if on_doomed {
            expect("removed", ResourceKind::Membership, membership.key());
        }
    }

    let second = sync(&sim, &client, &*store, 15).await;
    assert_eq!(second.run.status, SyncStatus::Ok, "{:?}", second.run.errors);
    assert_eq!(first.machine_users + 1, second.machine_users, "deploy-bot joined the service accounts");
    assert_eq!(second.machine_users, sim.control().counts().machine_users);
    let changes = changes_of_run(&*store, &second).await;
    assert_eq!(change_set(&changes), expected);
    let email = changes.iter().find(|change| change.object_key == human.key()).unwrap();
    assert!(
        email
            .fields
            .iter()
            .any(|field| field.field == "email" && field.after.as_deref() == Some("changed@customer.example")),
        "{email:?}"
    );
    let deactivated = changes.iter().find(|change| change.object_key == other_human.key()).unwrap();
    assert!(
        deactivated.fields.iter().any(|field| field.field == "state" && field.after.as_deref() == Some("inactive"))
    );
    assert!(changes.iter().all(|change| change.kind != ChangeKind::Modified || !change.fields.is_empty()));

    // Every change is explained by ZITADEL's events: the editor and the time it happened.
    let warden_user = sim.control().with_estate(|estate| estate.warden_user_id().to_owned());
    let unexplained: Vec<_> = changes
        .iter()
        .filter(|change| match &change.attribution {
            Attribution::Event { editor_user_id, occurred_at, .. } => {
                // Each command's events a microsecond after the previous one's, under the simulator's frozen clock.
                let when = NOW..NOW + time::Duration::seconds(1);
                editor_user_id.as_ref().map(ToString::to_string) != Some(warden_user.clone())
                    || !when.contains(occurred_at)
            }
            Attribution::Observed => true,
        })
        .map(|change| format!("{} {} {}", change.kind, change.object_kind, change.object_key))
        .collect();
    assert!(unexplained.is_empty(), "not attributed: {unexplained:?}");
    // The first run is the baseline: it records no changes.
    assert!(changes_of_run(&*store, &first).await.is_empty());
}

async fn a_failed_page_makes_the_run_partial_without_false_removals(store: Arc<dyn Store>) {
    let sim = simulator().await;
    // v1 and small pages: users are read per organization, several pages each.
    let client = client(&sim, ApiVersion::V1, 5);
    let first = sync(&sim, &client, &*store, 0).await;
    assert_eq!(first.run.status, SyncStatus::Ok, "{:?}", first.run.errors);
    let before = store.load_snapshot(&first.run.environment).await.unwrap();
    let org = before
        .orgs
        .iter()
        .max_by_key(|org| before.users.iter().filter(|user| user.org_id == org.id).count())
        .unwrap()
        .id
        .clone();
    let users_of_org = before.users.iter().filter(|user| user.org_id == org).count();
    assert!(users_of_org > 15, "org {org} has {users_of_org} users");

    // Meanwhile a user of that org really is removed; the failing read must not report it, nor lose the others.
    let victim = before.users.iter().find(|user| user.org_id == org && !user.is_machine()).unwrap().id.clone();
    sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        estate.remove_user(&editor, victim.as_str()).unwrap();
    });
    sim.control().add_fault(Fault {
        route: "POST /management/v1/users/_search".to_owned(),
        org_id: Some(org.to_string()),
        kind: FaultKind::Status(500),
        skip: 2,
        times: Some(1),
    });
    // A full run (an incremental one after no change would not list the managers at all).
    let options = SyncOptions { full: true, ..SyncOptions::default() };
    let at = NOW + time::Duration::minutes(15);
    let partial = sync_once(&environment(&sim), &client, &*store, options, at).await.unwrap();
    assert_eq!(partial.run.status, SyncStatus::Partial);
    assert!(partial.run.errors.iter().any(|error| error.scope.contains(org.as_str())), "{:?}", partial.run.errors);
    let removed_users: Vec<_> = changes_of_run(&*store, &partial)
        .await
        .into_iter()
        .filter(|change| change.kind == ChangeKind::Removed && change.org_id.as_ref() == Some(&org))
        // The victim's grants and memberships were read completely and are gone for real; what hangs off the
        // unreadable user list is not known and must be kept.
        .filter(|change| {
            matches!(
                change.object_kind,
                ResourceKind::User
                    | ResourceKind::MachineKey
                    | ResourceKind::PersonalAccessToken
                    | ResourceKind::UserMetadata
            )
        })
        .collect();
    assert!(removed_users.is_empty(), "false removals: {removed_users:?}");
    let during = store.load_snapshot(&first.run.environment).await.unwrap();
    assert_eq!(during.users.iter().filter(|user| user.org_id == org).count(), users_of_org, "the org's users are kept");

    // The next good run reconciles: now the removal is real and reported.
    let good = sync(&sim, &client, &*store, 30).await;
    assert_eq!(good.run.status, SyncStatus::Ok, "{:?}", good.run.errors);
    let removed: BTreeSet<String> = changes_of_run(&*store, &good)
        .await
        .into_iter()
        .filter(|change| change.kind == ChangeKind::Removed && change.object_kind == ResourceKind::User)
        .map(|change| change.object_key)
        .collect();
    assert_eq!(removed, BTreeSet::from([victim.to_string()]));
}

async fn rate_limit_storms_and_truncated_bodies_are_retried_to_a_complete_run(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let client = client(&sim, ApiVersion::Auto, 1_000);
    let mut storm = Fault::new("*", FaultKind::RateLimited { retry_after_seconds: 1 });
    storm.times = Some(2);
    sim.control().add_fault(storm);
    let mut truncated = Fault::new("*", FaultKind::TruncatedBody);
    truncated.skip = 20;
    truncated.times = Some(2);
    sim.control().add_fault(truncated);
    let outcome = sync(&sim, &client, &*store, 0).await;
    assert_eq!(outcome.run.status, SyncStatus::Ok, "{:?}", outcome.run.errors);
    assert!(outcome.run.retries >= 4, "{} retries", outcome.run.retries);
    assert_eq!(outcome.run.counts[&ResourceKind::User], sim.control().counts().users);
}

async fn a_timeout_makes_the_run_partial_and_keeps_its_scope(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let mut options = ClientOptions::new(sim.base_url(), Credential::PersonalAccessToken(SecretString::from(PAT)));
    options.api = ApiVersion::V1;
    options.rate_limit = 0;
    options.timeout = Duration::from_millis(400);
    options.retry = RetryPolicy { max_retries: 1, initial_backoff: Duration::from_millis(5), ..RetryPolicy::default() };
    let client = ZitadelClient::new(options).unwrap();
    let first = sync(&sim, &client, &*store, 0).await;
    assert_eq!(first.run.status, SyncStatus::Ok, "{:?}", first.run.errors);
    let before = store.load_snapshot(&first.run.environment).await.unwrap();
    let org = before.orgs[0].id.clone();
    let members_of_org = |snapshot: &Snapshot| {
        snapshot.memberships.iter().filter(|membership| membership.scope == MembershipScope::Org(org.clone())).count()
    };
    assert!(members_of_org(&before) > 0);

    let mut hang = Fault::new("POST /management/v1/orgs/me/members/_search", FaultKind::Hang);
    hang.org_id = Some(org.to_string());
    sim.control().add_fault(hang);
    // A full run (an incremental one after no change would not list the managers at all).
    let options = SyncOptions { full: true, ..SyncOptions::default() };
    let at = NOW + time::Duration::minutes(15);
    let partial = sync_once(&environment(&sim), &client, &*store, options, at).await.unwrap();
    assert_eq!(partial.run.status, SyncStatus::Partial);
    assert!(
        partial.run.errors.iter().any(|error| error.message.contains("did not answer")),
        "{:?}",
        partial.run.errors
    );
    assert_eq!(partial.removed, 0);
    let after = store.load_snapshot(&first.run.environment).await.unwrap();
    assert_eq!(members_of_org(&after), members_of_org(&before));
}

async fn a_run_that_would_remove_most_users_holds_every_removal_until_accepted(store: Arc<dyn Store>) {
    let sim = simulator().await;
    let client = client(&sim, ApiVersion::Auto, 1000);
    let first = sync(&sim, &client, &*store, 0).await;
    let before = store.load_snapshot(&first.run.environment).await.unwrap();

    // ZITADEL lists far fewer users (what a credential that lost its permissions sees): 60 % are gone.
    let gone: Vec<String> = sim.control().with_estate(|estate| {
        let editor = estate.warden_user_id().to_owned();
        let people: Vec<String> = estate
            .users()
            .filter(|user| matches!(user.kind, zitadel_sim::UserKind::Human(_)))
            .map(|user| user.id.clone())
            .collect();
        let count = before.users.len() * 6 / 10;
        let gone: Vec<String> = people.into_iter().take(count).collect();
        for user in &gone {
            estate.remove_user(&editor, user).unwrap();
        }
        gone
    });
    assert!(gone.len() * 2 > before.users.len());

    let held = sync(&sim, &client, &*store, 15).await;
    assert_eq!(held.run.status, SyncStatus::Partial);
    let error = held.run.errors.iter().find(|error| error.scope == "removals").expect("the guard says why");
    assert!(error.message.contains("--accept-removals"), "{}", error.message);
    assert_eq!(held.removed, 0);
    assert!(changes_of_run(&*store, &held).await.iter().all(|change| change.kind != ChangeKind::Removed));
    let during = store.load_snapshot(&first.run.environment).await.unwrap();
    assert_eq!(during.users.len(), before.users.len(), "nothing was removed");
    assert_eq!(held.run.counts[&ResourceKind::User], before.users.len() as u64);

    // An operator who checked accepts them: every removal is recorded.
    let accept = SyncOptions { removal_guard: None, ..SyncOptions::default() };
    let at = NOW + time::Duration::minutes(30);
    let accepted = sync_once(&environment(&sim), &client, &*store, accept, at).await.unwrap();
    assert_eq!(accepted.run.status, SyncStatus::Ok, "{:?}", accepted.run.errors);
    let removed: BTreeSet<String> = changes_of_run(&*store, &accepted)
        .await
        .into_iter()
        .filter(|change| change.kind == ChangeKind::Removed && change.object_kind == ResourceKind::User)
        .map(|change| change.object_key)
        .collect();
    assert_eq!(removed, gone.into_iter().collect());
}
