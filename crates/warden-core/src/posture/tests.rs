//! Table-driven: each case is a small estate, and the findings it must (and must not) produce.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::id::{EnvironmentName, MachineKeyId, OrgId, PatId, ProjectId, UserGrantId, UserId};
use crate::model::{
    AccessTokenType, GrantState, HumanProfile, KeyType, MachineKey, MachineProfile, Membership, MembershipScope,
    PersonalAccessToken, Snapshot, User, UserGrant, UserKind, UserState,
};
use crate::posture::{Policy, Severity, evaluate};

const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn machine(id: &str, description: &str, state: UserState) -> User {
    User {
        id: UserId::parse(id).unwrap(),
        org_id: OrgId::parse("10").unwrap(),
        username: format!("svc-{id}"),
        preferred_login_name: String::new(),
        state,
        kind: UserKind::Machine(MachineProfile {
            name: format!("Service {id}"),
            description: description.to_owned(),
            has_secret: false,
            access_token_type: AccessTokenType::Bearer,
        }),
        created_at: Some(NOW - Duration::days(500)),
        changed_at: None,
    }
}

fn human(id: &str) -> User {
    User { kind: UserKind::Human(HumanProfile::default()), ..machine(id, "", UserState::Active) }
}

fn key(id: &str, user: &str, created_days_ago: i64, expires_in_days: Option<i64>) -> MachineKey {
    MachineKey {
        id: MachineKeyId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: OrgId::parse("10").unwrap(),
        key_type: KeyType::Json,
        created_at: Some(NOW - Duration::days(created_days_ago)),
        expires_at: expires_in_days.map(|days| NOW + Duration::days(days)),
    }
}

fn token(id: &str, user: &str, created_days_ago: i64, expires_in_days: Option<i64>) -> PersonalAccessToken {
    PersonalAccessToken {
        id: PatId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: OrgId::parse("10").unwrap(),
        scopes: Vec::new(),
        created_at: Some(NOW - Duration::days(created_days_ago)),
        expires_at: expires_in_days.map(|days| NOW + Duration::days(days)),
    }
}

fn membership(user: &str, role: &str) -> Membership {
    Membership {
        user_id: UserId::parse(user).unwrap(),
        scope: MembershipScope::Org(OrgId::parse("10").unwrap()),
        roles: vec![role.to_owned()],
        created_at: None,
        changed_at: None,
    }
}

fn grant(user: &str) -> UserGrant {
    UserGrant {
        id: UserGrantId::parse(format!("g{user}")).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: OrgId::parse("10").unwrap(),
        project_id: ProjectId::parse("20").unwrap(),
        project_grant_id: None,
        role_keys: Vec::new(),
        state: GrantState::Active,
        created_at: None,
        changed_at: None,
    }
}

/// `rule subject` for every finding.
fn found(snapshot: &Snapshot) -> Vec<String> {
    let environment = EnvironmentName::parse("prod").unwrap();
    evaluate(&environment, snapshot, &Policy::default(), NOW)
        .into_iter()
        .map(|finding| format!("{} {}", finding.rule, finding.subject.id))
        .collect()
}

fn described(id: &str) -> User {
    machine(id, "deploys billing", UserState::Active)
}

#[test]
fn each_rule_fires_does_not_fire_and_holds_its_boundary() {
    struct Case {
        name: &'static str,
        snapshot: Snapshot,
        expected: &'static [&'static str],
    }
    let with = |users: Vec<User>| Snapshot { users, ..Snapshot::default() };
    let cases = [
        Case { name: "a quiet service account", snapshot: with(vec![described("1")]), expected: &[] },
        Case {
            name: "manager role on a machine user",
            snapshot: Snapshot { memberships: vec![membership("1", "ORG_OWNER")], ..with(vec![described("1")]) },
            expected: &["machine-user-manager-role 1"],
        },
        Case {
            name: "a viewer role is not a manager role",
            snapshot: Snapshot { memberships: vec![membership("1", "ORG_OWNER_VIEWER")], ..with(vec![described("1")]) },
            expected: &[],
        },
        Case {
            name: "a person may manage",
            snapshot: Snapshot { memberships: vec![membership("1", "ORG_OWNER")], ..with(vec![human("1")]) },
            expected: &[],
        },
        Case {
            name: "a key that never expires",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 10, None)], ..with(vec![described("1")]) },
            expected: &["key-without-expiry 1"],
        },
        Case {
            name: "a key living exactly 365 days is within policy",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 10, Some(355))], ..with(vec![described("1")]) },
            expected: &[],
        },
        Case {
            name: "a key living 366 days is not",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 10, Some(356))], ..with(vec![described("1")]) },
            expected: &["key-without-expiry 1"],
        },
        Case {
            name: "a PAT that never expires",
            snapshot: Snapshot {
                personal_access_tokens: vec![token("t", "1", 10, None)],
                ..with(vec![described("1")])
            },
            expected: &["pat-without-expiry 1"],
        },
        Case {
            name: "a credential just over a year old",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 366, Some(30))], ..with(vec![described("1")]) },
            expected: &["credential-older-than-365d 1", "key-without-expiry 1"],
        },
        Case {
            name: "a credential exactly a year old is not yet due",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 365, Some(30))], ..with(vec![described("1")]) },
            expected: &["key-without-expiry 1"],
        },
        Case {
            name: "an expired credential is nobody's risk",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 800, Some(0))], ..with(vec![described("1")]) },
            expected: &[],
        },
        Case {
            name: "expiring in exactly 14 days is soon",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 100, Some(14))], ..with(vec![described("1")]) },
            expected: &["credential-expiring-soon 1"],
        },
        Case {
            name: "expiring in 15 days is not",
            snapshot: Snapshot { machine_keys: vec![key("k", "1", 100, Some(15))], ..with(vec![described("1")]) },
            expected: &[],
        },
        Case {
            name: "an inactive account with grants",
            snapshot: Snapshot {
                user_grants: vec![grant("1")],
                ..with(vec![machine("1", "old", UserState::Inactive)])
            },
            expected: &["inactive-machine-with-grants 1"],
        },
        Case {
            name: "a locked account with a membership",
            snapshot: Snapshot {
                memberships: vec![membership("1", "ORG_OWNER_VIEWER")],
                ..with(vec![machine("1", "old", UserState::Locked)])
            },
            expected: &["inactive-machine-with-grants 1"],
        },
        Case {
            name: "an inactive account with nothing left",
            snapshot: with(vec![machine("1", "old", UserState::Inactive)]),
            expected: &[],
        },
        Case {
            name: "an active account with grants",
            snapshot: Snapshot { user_grants: vec![grant("1")], ..with(vec![described("1")]) },
            expected: &[],
        },
        Case {
            name: "no description, or only blanks",
            snapshot: with(vec![machine("1", "", UserState::Active), machine("2", "  ", UserState::Active)]),
            expected: &["machine-without-description 1", "machine-without-description 2"],
        },
    ];
    for case in cases {
        let mut actual = found(&case.snapshot);
        actual.sort();
        let mut expected: Vec<String> = case.expected.iter().map(|text| (*text).to_owned()).collect();
        expected.sort();
        assert_eq!(actual, expected, "{}", case.name);
    }
}

#[test]
fn one_finding_per_user_and_rule_with_every_credential_as_evidence_and_high_severity_first() {
    let snapshot = Snapshot {
        users: vec![described("1")],
        machine_keys: vec![key("k1", "1", 10, None), key("k2", "1", 20, None)],
        memberships: vec![membership("1", "IAM_OWNER")],
        ..Snapshot::default()
    };
    let environment = EnvironmentName::parse("prod").unwrap();
    let findings = evaluate(&environment, &snapshot, &Policy::default(), NOW);
    assert_eq!(findings.len(), 2);
    assert_eq!((findings[0].rule, findings[0].severity), ("machine-user-manager-role", Severity::High));
    let keys = &findings[1];
    assert_eq!((keys.rule, keys.severity), ("key-without-expiry", Severity::Medium));
    let evidence: Vec<&str> = keys.evidence.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(evidence, ["key k1", "key k2"]);
    assert_eq!(keys.subject.name, "Service 1");
    assert!(keys.message.contains("2 key(s)"), "{}", keys.message);
    assert!(!keys.remediation.is_empty());
}

#[test]
fn thresholds_come_from_the_policy() {
    let snapshot = Snapshot {
        users: vec![described("1")],
        machine_keys: vec![key("k", "1", 10, Some(60))],
        ..Snapshot::default()
    };
    let environment = EnvironmentName::parse("prod").unwrap();
    let strict = Policy { credential_max_lifetime_days: 30, expiring_soon_days: 90, ..Policy::default() };
    let rules: Vec<&str> = evaluate(&environment, &snapshot, &strict, NOW).iter().map(|finding| finding.rule).collect();
    assert_eq!(rules, ["key-without-expiry", "credential-expiring-soon"], "medium before low");
}
