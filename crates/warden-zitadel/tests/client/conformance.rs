//! The exchange log of a full read (v1 and v2) and of provisioning, checked against ZITADEL's own published
//! schemas with `check-log.mjs`: a request ZITADEL would reject is a client bug, a response it could not have given
//! is a simulator bug.

use secrecy::SecretString;
use warden_core::id::OrgId;
use warden_zitadel::{Credential, NewHumanUser};

use crate::estate_walk::read_estate_v1;
use crate::support::{ADMIN_PAT, Sim, client_for, now};

#[tokio::test]
async fn every_exchange_of_a_full_read_and_of_provisioning_passes_zitadels_schemas() {
    if zitadel_sim::schemas::check_log_script().is_none() {
        eprintln!("ZITADEL schema tools not installed: skipping the conformance check");
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("exchanges.jsonl");
    let sim = Sim::start(zitadel_sim::Estate::seed(now()), |options| options.exchange_log = Some(log.clone())).await;
    let client = client_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));

    let snapshot = read_estate_v1(&client).await;
    client.list_users_instance_wide().await.unwrap().unwrap();
    client.list_projects_instance_wide().await.unwrap().unwrap();
    client.list_user_grants_instance_wide().await.unwrap().unwrap();
    client.list_memberships_instance_wide().await.unwrap().unwrap();
    client.list_machine_keys_instance_wide().await.unwrap().unwrap();
    client.list_personal_access_tokens_instance_wide().await.unwrap().unwrap();
    client.search_events(&warden_zitadel::EventQuery { limit: 100, ..Default::default() }).await.unwrap();

    let org: OrgId = snapshot.orgs[1].id.clone();
    let project = snapshot.projects.iter().find(|project| project.org_id == org).unwrap();
    let role = snapshot.project_roles.iter().find(|role| role.project_id == project.id).unwrap();
    let user = client
        .import_human_user(
            &org,
            &NewHumanUser {
                username: "grace.hopper".to_owned(),
                given_name: "Grace".to_owned(),
                family_name: "Hopper".to_owned(),
                display_name: String::new(),
                preferred_language: "en".to_owned(),
                email: "grace@customer.example".to_owned(),
                email_verified: true,
                phone: String::new(),
            },
        )
        .await
        .unwrap();
    let profile = warden_zitadel::ProfileUpdate {
        given_name: "Grace".to_owned(),
        family_name: "Hopper".to_owned(),
        nick_name: "Amazing Grace".to_owned(),
        display_name: "Grace Hopper".to_owned(),
        preferred_language: "en".to_owned(),
    };
    client.update_human_profile(&org, &user, &profile).await.unwrap();
    client.update_email(&org, &user, "grace.hopper@customer.example", false).await.unwrap();
    let grant = client.add_user_grant(&org, &user, &project.id, None, std::slice::from_ref(&role.key)).await.unwrap();
    client.update_user_grant(&org, &user, &grant, std::slice::from_ref(&role.key)).await.unwrap();
    let key = warden_core::id::MetadataKey::parse("urn:zitadel:scim:externalId").unwrap();
    client.set_user_metadata(&org, &user, &key, b"00u1").await.unwrap();
    client.deactivate_user(&org, &user).await.unwrap();
    client.reactivate_user(&org, &user).await.unwrap();
    client.remove_user_grant(&org, &user, &grant).await.unwrap();
    client.remove_user(&org, &user).await.unwrap();

    let checked = zitadel_sim::schemas::check_exchange_log(&log).expect("the checker is installed");
    let exchanges = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(exchanges > 500, "a full read is hundreds of exchanges, got {exchanges}");
    let report = checked.unwrap_or_else(|report| panic!("check-log.mjs found violations:\n{report}"));
    eprintln!("conformance: {exchanges} exchanges, {}", report.lines().last().unwrap_or_default());
}
