//! Reading the whole estate, the way a sync will: every list, v1 per organization, then v2 across the instance,
//! with pages small enough that every list spans several.

use std::collections::BTreeSet;

use warden_core::model::{Membership, Observed, Snapshot, UserGrant};
use warden_zitadel::ZitadelClient;

use crate::support::{Sim, admin_client, options_for};

/// Every object of the estate through v1 lists only (the baseline every ZITADEL serves).
pub async fn read_estate_v1(client: &ZitadelClient) -> Snapshot {
    let mut snapshot = Snapshot { orgs: client.list_orgs().await.unwrap(), ..Snapshot::default() };
    snapshot.memberships.extend(client.list_instance_members().await.unwrap());
    snapshot.identity_providers.extend(client.list_instance_identity_providers().await.unwrap());
    for org in snapshot.orgs.clone() {
        let users = client.list_users(&org.id).await.unwrap();
        for user in users.iter().filter(|user| user.is_machine()) {
            snapshot.machine_keys.extend(client.list_machine_keys(&user.org_id, &user.id).await.unwrap());
            snapshot
                .personal_access_tokens
                .extend(client.list_personal_access_tokens(&user.org_id, &user.id).await.unwrap());
        }
        for user in &users {
            snapshot.user_metadata.extend(client.list_user_metadata(&user.org_id, &user.id).await.unwrap());
        }
        snapshot.users.extend(users);
        let projects = client.list_projects(&org.id).await.unwrap();
        for project in &projects {
            snapshot.project_roles.extend(client.list_project_roles(project).await.unwrap());
            snapshot.memberships.extend(client.list_project_members(project).await.unwrap());
            snapshot.applications.extend(client.list_applications(project).await.unwrap());
        }
        snapshot.projects.extend(projects);
        let project_grants = client.list_project_grants(&org.id).await.unwrap();
        for grant in &project_grants {
            snapshot.memberships.extend(client.list_project_grant_members(grant).await.unwrap());
        }
        snapshot.project_grants.extend(project_grants);
        snapshot.user_grants.extend(client.list_user_grants(&org.id).await.unwrap());
        snapshot.memberships.extend(client.list_org_members(&org.id).await.unwrap());
        snapshot.identity_providers.extend(client.list_identity_providers(&org.id).await.unwrap());
    }
    // Instance providers are visible from every organization too.
    let mut seen = BTreeSet::new();
    snapshot.identity_providers.retain(|provider| seen.insert(provider.key()));
    snapshot
}

fn keys<T: Observed>(objects: &[T]) -> BTreeSet<String> {
    objects.iter().map(Observed::key).collect()
}

#[tokio::test]
async fn v1_lists_read_every_object_of_the_seed_estate_across_pages() {
    let sim = Sim::seed().await;
    let mut options =
        options_for(&sim, warden_zitadel::Credential::PersonalAccessToken(crate::support::ADMIN_PAT.into()));
    options.page_size = 7;
    let client = ZitadelClient::new(options).unwrap();
    let snapshot = read_estate_v1(&client).await;
    let counts = sim.control().counts();
    assert_eq!(snapshot.orgs.len() as u64, counts.orgs);
    assert_eq!(snapshot.users.len() as u64, counts.users);
    assert_eq!(snapshot.users.iter().filter(|user| user.is_machine()).count() as u64, counts.machine_users);
    assert_eq!(snapshot.projects.len() as u64, counts.projects);
    assert_eq!(snapshot.project_roles.len() as u64, counts.project_roles);
    assert_eq!(snapshot.user_grants.len() as u64, counts.user_grants);
    assert_eq!(snapshot.machine_keys.len() as u64, counts.machine_keys);
    assert_eq!(snapshot.personal_access_tokens.len() as u64, counts.personal_access_tokens);
    assert_eq!(snapshot.memberships.len() as u64, counts.memberships);
    assert_eq!(snapshot.project_grants.len() as u64, counts.project_grants);
    assert_eq!(snapshot.applications.len() as u64, counts.applications);
    assert_eq!(snapshot.identity_providers.len() as u64, counts.identity_providers);
    assert_eq!(snapshot.user_metadata.len() as u64, counts.user_metadata);
    assert_eq!(keys(&snapshot.users).len(), snapshot.users.len(), "no user twice");
    assert!(snapshot.machine_keys.iter().any(|key| key.expires_at.is_none()), "never-expiring keys read as such");
}

#[tokio::test]
async fn v2_instance_wide_lists_match_the_v1_lists_with_fewer_requests() {
    let sim = Sim::seed().await;
    let client = admin_client(&sim);
    let orgs = client.list_orgs().await.unwrap();

    sim.control().reset_request_counts();
    let mut v1_users = Vec::new();
    let mut v1_projects = Vec::new();
    let mut v1_grants: Vec<UserGrant> = Vec::new();
    for org in &orgs {
        v1_users.extend(client.list_users(&org.id).await.unwrap());
        v1_projects.extend(client.list_projects(&org.id).await.unwrap());
        v1_grants.extend(client.list_user_grants(&org.id).await.unwrap());
    }
    let v1_requests = sim.control().total_requests();

    sim.control().reset_request_counts();
    let v2_users = client.list_users_instance_wide().await.unwrap().unwrap();
    let v2_projects = client.list_projects_instance_wide().await.unwrap().unwrap();
    let v2_grants = client.list_user_grants_instance_wide().await.unwrap().unwrap();
    let v2_requests = sim.control().total_requests();

    let mut sorted_v1_users = v1_users.clone();
    sorted_v1_users.sort_by_key(Observed::key);
    let mut sorted_v2_users = v2_users.clone();
    sorted_v2_users.sort_by_key(Observed::key);
    assert_eq!(sorted_v2_users, sorted_v1_users, "the same users, field for field");
    assert_eq!(keys(&v2_projects), keys(&v1_projects));
    assert_eq!(keys(&v2_grants), keys(&v1_grants));
    assert!(v2_requests * 10 < v1_requests, "v2: {v2_requests} requests, v1: {v1_requests}");

    let admins = client.list_memberships_instance_wide().await.unwrap().unwrap();
    let mut v1_memberships: Vec<Membership> = client.list_instance_members().await.unwrap();
    for org in &orgs {
        v1_memberships.extend(client.list_org_members(&org.id).await.unwrap());
        for project in v1_projects.iter().filter(|project| project.org_id == org.id) {
            v1_memberships.extend(client.list_project_members(project).await.unwrap());
        }
        for grant in client.list_project_grants(&org.id).await.unwrap() {
            v1_memberships.extend(client.list_project_grant_members(&grant).await.unwrap());
        }
    }
    assert_eq!(keys(&admins), keys(&v1_memberships));
}
