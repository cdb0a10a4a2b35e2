//! Estate generation: the seed story, determinism, anomalies, the large estate and mutation events.

use std::collections::BTreeSet;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use zitadel_sim::{Estate, IdpConfig, MembershipScope, NO_EXPIRY, UserState};

const NOW: OffsetDateTime = datetime!(2026-03-30 12:00 UTC);

#[test]
fn seed_counts_match_the_story() {
    let estate = Estate::seed(NOW);
    let counts = estate.counts();
    println!("{counts:#?}");
    assert_eq!(counts.orgs, 41);
    assert_eq!(counts.machine_users, 210);
    assert_eq!(counts.human_users, 1_000);
    assert!((1_800..=2_200).contains(&counts.user_grants), "user grants: {}", counts.user_grants);
    assert!(counts.projects >= 41 * 2 && counts.projects <= 41 * 4);
    assert!(counts.project_grants > 0 && counts.identity_providers >= 4);
    assert_eq!(estate.orgs().next().map(|org| org.name.as_str()), Some("Platform"));
    assert_eq!(estate.org(estate.platform_org_id()).map(|org| org.name.as_str()), Some("Platform"));

    // Machine users grew from 40 (six months ago) to 210, fastest in the last month.
    let six_months_ago = NOW - Duration::days(180);
    let machines: Vec<_> = estate.users().filter(|user| user.is_machine()).collect();
    assert_eq!(machines.iter().filter(|user| user.meta.created < six_months_ago).count(), 40);
    let last_month = machines.iter().filter(|user| user.meta.created >= NOW - Duration::days(30)).count();
    let first_month = machines
        .iter()
        .filter(|user| user.meta.created >= six_months_ago && user.meta.created < six_months_ago + Duration::days(30))
        .count();
    assert!(last_month > first_month * 2, "last month {last_month}, first month {first_month}");

    // The warden service account: machine user in the platform org holding IAM_OWNER.
    let warden = estate.user(estate.warden_user_id()).expect("warden exists");
    assert_eq!(warden.user_name, "warden");
    assert_eq!(warden.org_id, estate.platform_org_id());
    assert!(estate.memberships().any(|membership| membership.user_id == warden.id
        && membership.scope == MembershipScope::Instance
        && membership.roles.iter().any(|role| role == "IAM_OWNER")));
    assert!(estate.machine_keys().any(|key| key.id == estate.warden_key_id() && key.public_key_pem.is_some()));
    assert!(estate.events().is_empty(), "a fresh estate has no events");

    // Timestamps are relative to now.
    assert!(estate.users().all(|user| user.meta.created < NOW && user.meta.changed <= NOW));
    assert!(estate.machine_keys().any(|key| key.expiration == NO_EXPIRY));
    assert!(estate.machine_keys().any(|key| key.expiration < NOW));
}

#[test]
fn seed_is_deterministic() {
    assert_eq!(Estate::seed(NOW), Estate::seed(NOW));
    let later = Estate::seed(NOW + Duration::days(1));
    assert_eq!(later.counts(), Estate::seed(NOW).counts());
}

#[test]
fn seeded_anomalies_cover_every_rule() {
    let estate = Estate::seed(NOW);
    let anomalies = estate.seeded_anomalies();
    let rules: BTreeSet<&str> = anomalies.iter().map(|anomaly| anomaly.rule).collect();
    for rule in [
        "machine-user-manager-role",
        "key-without-expiry",
        "pat-without-expiry",
        "credential-older-than-365d",
        "credential-expiring-soon",
        "inactive-machine-with-grants",
        "machine-without-description",
        "idp-certificate-expiring",
    ] {
        let count = anomalies.iter().filter(|anomaly| anomaly.rule == rule).count();
        println!("{rule}: {count}");
        assert!(rules.contains(rule), "no anomaly for {rule}");
    }
    // One entry per subject and rule.
    let unique: BTreeSet<(&str, &str)> = anomalies.iter().map(|a| (a.rule, a.subject_id.as_str())).collect();
    assert_eq!(unique.len(), anomalies.len());
    // Exactly one expiring IdP certificate, on a SAML provider.
    let expiring: Vec<_> = anomalies.iter().filter(|a| a.rule == "idp-certificate-expiring").collect();
    assert_eq!(expiring.len(), 1);
    let idp = estate.identity_providers().find(|idp| idp.id == expiring[0].subject_id).expect("idp");
    assert!(matches!(idp.config, IdpConfig::Saml { .. }));
    // Subjects of user rules are machine users; inactive ones really are inactive.
    for anomaly in anomalies.iter().filter(|a| a.rule != "idp-certificate-expiring") {
        let user = estate.user(&anomaly.subject_id).expect("subject exists");
        assert!(user.is_machine(), "{anomaly:?}");
        if anomaly.rule == "inactive-machine-with-grants" {
            assert!(matches!(user.state, UserState::Inactive | UserState::Locked));
        }
    }
    assert_eq!(estate.current_anomalies(), anomalies);
}

#[test]
fn large_estate_has_the_requested_size() {
    let started = std::time::Instant::now();
    let estate = Estate::large(NOW);
    let elapsed = started.elapsed();
    let counts = estate.counts();
    println!("{counts:#?} in {elapsed:?}");
    assert_eq!(counts.orgs, 200);
    assert_eq!(counts.users, 100_000);
    assert_eq!(counts.machine_users, 5_000);
    assert!(counts.user_grants > 100_000);
}

#[test]
fn mutations_append_events_with_editor() {
    let mut estate = Estate::seed(NOW);
    let editor = estate.warden_user_id().to_string();
    let platform = estate.platform_org_id().to_string();
    let user_id = estate.add_machine_user(&editor, &platform, "new-bot", "New bot", "").expect("added");
    assert!(
        estate.add_machine_user(&editor, &platform, "new-bot", "Again", "").is_err(),
        "user names are unique per org"
    );
    estate.set_now(NOW + Duration::hours(1));
    let key_id = estate.add_machine_key(&editor, &user_id, NO_EXPIRY).expect("key");
    estate.deactivate_user(&editor, &user_id).expect("deactivated");
    let project = estate.projects().next().expect("a project").clone();
    let role = estate.project_roles().find(|role| role.project_id == project.id).expect("a role").clone();
    estate.remove_project_role(&editor, &project.id, &role.key).expect("role removed");
    assert!(estate.user_grants().all(|grant| grant.project_id != project.id || !grant.role_keys.contains(&role.key)));
    estate.remove_project(&editor, &project.id).expect("project removed");
    assert!(estate.user_grants().all(|grant| grant.project_id != project.id));

    let types: Vec<&str> = estate.events().iter().map(|event| event.event_type.as_str()).collect();
    assert_eq!(types[0], "user.machine.added");
    assert!(types.contains(&"user.machine.key.added"));
    assert!(types.contains(&"user.deactivated"));
    assert!(types.contains(&"project.role.removed"));
    assert!(types.contains(&"project.removed"));
    let key_event =
        estate.events().iter().find(|event| event.event_type == "user.machine.key.added").expect("key event");
    assert_eq!(key_event.created, NOW + Duration::hours(1));
    assert_eq!(key_event.editor.user_id, editor);
    assert_eq!(key_event.editor.display_name, "Warden");
    assert_eq!(key_event.payload["keyId"], key_id.as_str());
    let positions: Vec<u64> = estate.events().iter().map(|event| event.position).collect();
    assert!(positions.windows(2).all(|pair| pair[1] == pair[0] + 1), "positions count the whole log");
    let user_sequences: Vec<u64> =
        estate.events().iter().filter(|event| event.aggregate_id == user_id).map(|event| event.sequence).collect();
    assert_eq!(user_sequences, [1, 2, 3], "sequences count per aggregate");
}
