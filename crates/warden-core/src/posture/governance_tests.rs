//! Table-driven tests of the rules beyond the snapshot rules: accumulation, growth, providers, SCIM mappings, and
//! the rule registry. Each case is data: a small input and the findings it must (and must not) produce.

use std::collections::BTreeSet;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::health::{
    Certificate, CertificateUse, Check, HealthPolicy, ProbeResult, ProviderHealth, Target, TargetKind, evaluate_all,
};
use crate::id::{
    EnvironmentName, GroupRoleMappingId, IdpId, OrgId, ProjectId, RoleKey, ScimGroupId, UserGrantId, UserId,
};
use crate::model::{
    AccessTokenType, GrantState, HumanProfile, IdpOwner, MachineProfile, Org, OrgState, Project, ProjectRole,
    ProjectState, ProviderType, ResourceKind, Snapshot, User, UserGrant, UserKind, UserState,
};
use crate::posture::{
    ALL_RULES, Finding, GroupMember, GroupRoleMapping, Policy, RULES, ScimGroup, Severity, SubjectKind,
    idp_certificate_expiring, idp_unreachable, machine_role_accumulation, mapping_gap, rule, service_account_growth,
    ungoverned_grant, unmapped_group,
};
use crate::trend::TrendPoint;

const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

fn org(id: &str) -> OrgId {
    OrgId::parse(id).unwrap()
}

/// `rule subject-id` (and the severity when it is not the rule's usual one) for every finding, sorted.
fn summary(findings: &[Finding]) -> Vec<String> {
    let mut lines: Vec<String> = findings
        .iter()
        .map(|finding| {
            let usual = rule(finding.rule).map(|rule| rule.severity);
            if usual == Some(finding.severity) {
                format!("{} {}", finding.rule, finding.subject.id)
            } else {
                format!("{} {} {}", finding.rule, finding.subject.id, finding.severity)
            }
        })
        .collect();
    lines.sort();
    lines
}

fn check(name: &str, findings: &[Finding], expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|line| (*line).to_owned()).collect();
    expected.sort();
    assert_eq!(summary(findings), expected, "{name}");
}

// ---------------------------------------------------------------- machine-role-accumulation

fn user(id: &str, org_id: &str, machine: bool) -> User {
    User {
        id: UserId::parse(id).unwrap(),
        org_id: org(org_id),
        username: format!("user-{id}"),
        preferred_login_name: String::new(),
        state: UserState::Active,
        kind: if machine {
            UserKind::Machine(MachineProfile {
                name: String::new(),
                description: "described".to_owned(),
                has_secret: false,
                access_token_type: AccessTokenType::Bearer,
            })
        } else {
            UserKind::Human(HumanProfile::default())
        },
        created_at: None,
        changed_at: None,
    }
}

fn user_grant(id: &str, user_id: &str, org_id: &str, project: &str, keys: &[&str], state: GrantState) -> UserGrant {
    UserGrant {
        id: UserGrantId::parse(id).unwrap(),
        user_id: UserId::parse(user_id).unwrap(),
        org_id: org(org_id),
        project_id: ProjectId::parse(project).unwrap(),
        project_grant_id: None,
        role_keys: keys.iter().map(|key| RoleKey::parse(*key).unwrap()).collect(),
        state,
        created_at: None,
        changed_at: None,
    }
}

/// An organization `org_id` whose machine users hold, each, `(projects, roles per project)`; users are named
/// `{org_id}-{index}`.
fn peers(org_id: &str, holdings: &[(usize, usize)]) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for (index, (projects, roles)) in holdings.iter().enumerate() {
        let user_id = format!("{org_id}-{index}");
        snapshot.users.push(user(&user_id, org_id, true));
        for project in 0..*projects {
            let keys: Vec<String> = (0..*roles).map(|role| format!("role{role}")).collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let grant_id = format!("{user_id}-g{project}");
            snapshot.user_grants.push(user_grant(
                &grant_id,
                &user_id,
                org_id,
                &format!("p{project}"),
                &keys,
                GrantState::Active,
            ));
        }
    }
    snapshot
}

/// `count` users holding one project with one role.
fn ordinary(count: usize) -> Vec<(usize, usize)> {
    vec![(1, 1); count]
}

#[test]
fn machine_role_accumulation_compares_each_machine_user_with_its_organization() {
    struct Case {
        name: &'static str,
        snapshot: Snapshot,
        policy: Policy,
        expected: &'static [&'static str],
    }
    let with = |mut holdings: Vec<(usize, usize)>, last: (usize, usize)| {
        holdings.push(last);
        holdings
    };
    let cases = [
        Case {
            name: "20 peers: p95 is the 19th value, the one above it fires",
            snapshot: peers("1", &with(ordinary(19), (2, 1))),
            policy: Policy::default(),
            expected: &["machine-role-accumulation 1-19"],
        },
        Case {
            name: "more roles on as many projects fires too",
            snapshot: peers("1", &with(ordinary(19), (1, 3))),
            policy: Policy::default(),
            expected: &["machine-role-accumulation 1-19"],
        },
        Case {
            name: "19 peers: nearest rank makes p95 the maximum, nobody is above it",
            snapshot: peers("1", &with(ordinary(18), (5, 5))),
            policy: Policy::default(),
            expected: &[],
        },
        Case {
            name: "two at the top of 20 are the p95 themselves",
            snapshot: peers("1", &with(with(ordinary(18), (3, 1)), (3, 1))),
            policy: Policy::default(),
            expected: &[],
        },
        Case {
            name: "users without grants are peers: one grant above nineteen without",
            snapshot: peers("1", &with(vec![(0, 0); 19], (1, 1))),
            policy: Policy::default(),
            expected: &["machine-role-accumulation 1-19"],
        },
        Case {
            name: "below the minimum population the rule is quiet",
            snapshot: peers("1", &with(ordinary(19), (2, 1))),
            policy: Policy { accumulation_min_population: 21, ..Policy::default() },
            expected: &[],
        },
        Case {
            name: "a minimum population of exactly the org's size still evaluates",
            snapshot: peers("1", &with(ordinary(19), (2, 1))),
            policy: Policy { accumulation_min_population: 20, ..Policy::default() },
            expected: &["machine-role-accumulation 1-19"],
        },
        Case {
            name: "organizations are separate populations",
            snapshot: {
                let mut snapshot = peers("1", &ordinary(19));
                snapshot.append(peers("2", &with(ordinary(19), (4, 4))));
                snapshot
            },
            policy: Policy::default(),
            expected: &["machine-role-accumulation 2-19"],
        },
        Case {
            name: "inactive grants do not count",
            snapshot: {
                let mut snapshot = peers("1", &ordinary(20));
                let extra = user_grant("x", "1-19", "1", "p9", &["role0"], GrantState::Inactive);
                snapshot.user_grants.push(extra);
                snapshot
            },
            policy: Policy::default(),
            expected: &[],
        },
        Case {
            name: "people are not peers and are never reported",
            snapshot: {
                let mut snapshot = peers("1", &ordinary(20));
                snapshot.users.push(user("h", "1", false));
                for project in 0..5 {
                    let id = format!("h-{project}");
                    snapshot.user_grants.push(user_grant(
                        &id,
                        "h",
                        "1",
                        &format!("p{project}"),
                        &["a"],
                        GrantState::Active,
                    ));
                }
                snapshot
            },
            policy: Policy::default(),
            expected: &[],
        },
        Case {
            name: "the same role on the same project through two grants is one role",
            snapshot: {
                let mut snapshot = peers("1", &ordinary(20));
                snapshot.user_grants.push(user_grant("y", "1-19", "1", "p0", &["role0"], GrantState::Active));
                snapshot
            },
            policy: Policy::default(),
            expected: &[],
        },
    ];
    for case in cases {
        check(case.name, &machine_role_accumulation(&prod(), &case.snapshot, &case.policy), case.expected);
    }
}

#[test]
fn machine_role_accumulation_evidence_names_the_counts_and_the_percentiles() {
    let mut holdings = ordinary(19);
    holdings.push((3, 2));
    let findings = machine_role_accumulation(&prod(), &peers("1", &holdings), &Policy::default());
    let evidence: Vec<String> = findings[0].evidence.iter().map(|(fact, value)| format!("{fact}={value}")).collect();
    assert_eq!(evidence, ["projects=3", "roles=6", "org p95 projects=1", "org p95 roles=1", "org machine users=20"]);
    assert_eq!(findings[0].subject.kind, SubjectKind::Object(ResourceKind::User));
    assert_eq!(findings[0].severity, Severity::Medium);
}

// ---------------------------------------------------------------- service-account-growth

/// `(environment, org or "" for the whole environment, days before NOW, machine users)`.
type PointRow = (&'static str, &'static str, i64, u64);

fn points(rows: &[PointRow]) -> Vec<TrendPoint> {
    rows.iter()
        .map(|(environment, org_id, days_ago, machine_users)| TrendPoint {
            at: NOW - Duration::days(*days_ago),
            environment: EnvironmentName::parse(*environment).unwrap(),
            org_id: if org_id.is_empty() { None } else { Some(org(org_id)) },
            machine_users: *machine_users,
            human_users: 0,
            user_grants: 0,
            findings: 0,
        })
        .collect()
}

#[test]
fn service_account_growth_compares_now_with_the_window_start() {
    struct Case {
        name: &'static str,
        rows: &'static [PointRow],
        expected: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "4 to 6 in 30 days",
            rows: &[("prod", "1", 30, 4), ("prod", "1", 0, 6)],
            expected: &["service-account-growth 1"],
        },
        Case {
            name: "exactly 25 % is not more than 25 %",
            rows: &[("prod", "1", 30, 4), ("prod", "1", 0, 5)],
            expected: &[],
        },
        Case {
            name: "8 to 11 is 37 %",
            rows: &[("prod", "1", 30, 8), ("prod", "1", 0, 11)],
            expected: &["service-account-growth 1"],
        },
        Case {
            name: "a baseline below the minimum is not news",
            rows: &[("prod", "1", 30, 3), ("prod", "1", 0, 9)],
            expected: &[],
        },
        Case { name: "1 to 2 is not news", rows: &[("prod", "1", 30, 1), ("prod", "1", 0, 2)], expected: &[] },
        Case {
            name: "from zero is not a growth rate",
            rows: &[("prod", "1", 30, 0), ("prod", "1", 0, 9)],
            expected: &[],
        },
        Case {
            name: "history shorter than the window: the earliest point is the baseline",
            rows: &[("prod", "1", 10, 4), ("prod", "1", 5, 5), ("prod", "1", 0, 6)],
            expected: &["service-account-growth 1"],
        },
        Case {
            name: "the baseline is the latest point at or before the window start, not the earliest",
            rows: &[("prod", "1", 60, 2), ("prod", "1", 31, 8), ("prod", "1", 10, 3), ("prod", "1", 0, 10)],
            expected: &[],
        },
        Case {
            name: "growth older than the window is not counted",
            rows: &[("prod", "1", 90, 4), ("prod", "1", 40, 12), ("prod", "1", 0, 12)],
            expected: &[],
        },
        Case { name: "a single point has nothing to compare with", rows: &[("prod", "1", 0, 50)], expected: &[] },
        Case {
            name: "points after now are ignored",
            rows: &[("prod", "1", 30, 4), ("prod", "1", 0, 4), ("prod", "1", -1, 40)],
            expected: &[],
        },
        Case { name: "shrinking is fine", rows: &[("prod", "1", 30, 10), ("prod", "1", 0, 4)], expected: &[] },
        Case {
            name: "the environment as a whole is its own series",
            rows: &[("prod", "", 30, 20), ("prod", "", 0, 26), ("prod", "1", 30, 10), ("prod", "1", 0, 12)],
            expected: &["service-account-growth prod"],
        },
        Case {
            name: "other environments are not this one's business",
            rows: &[("staging", "1", 30, 4), ("staging", "1", 0, 40)],
            expected: &[],
        },
    ];
    for case in cases {
        let findings =
            service_account_growth(&prod(), &Snapshot::default(), &points(case.rows), &Policy::default(), NOW);
        check(case.name, &findings, case.expected);
    }
}

#[test]
fn service_account_growth_names_the_org_and_takes_thresholds_from_the_policy() {
    let snapshot = Snapshot {
        orgs: vec![Org {
            id: org("1"),
            name: "Acme".to_owned(),
            state: OrgState::Active,
            primary_domain: String::new(),
            created_at: None,
            changed_at: None,
        }],
        ..Snapshot::default()
    };
    let rows = points(&[("prod", "1", 7, 2), ("prod", "1", 0, 3), ("prod", "", 7, 2), ("prod", "", 0, 3)]);
    assert!(service_account_growth(&prod(), &snapshot, &rows, &Policy::default(), NOW).is_empty());
    let loose = Policy { growth_min_baseline: 2, growth_percent: 40, growth_window_days: 7, ..Policy::default() };
    let findings = service_account_growth(&prod(), &snapshot, &rows, &loose, NOW);
    let subjects: Vec<(SubjectKind, &str)> =
        findings.iter().map(|finding| (finding.subject.kind, finding.subject.name.as_str())).collect();
    assert_eq!(subjects, [(SubjectKind::Object(ResourceKind::Org), "Acme"), (SubjectKind::Environment, "prod")]);
    let evidence: Vec<String> = findings[0].evidence.iter().map(|(fact, value)| format!("{fact}: {value}")).collect();
    assert_eq!(
        evidence,
        [
            "baseline: 2 machine users on 2026-10-25",
            "current: 3 machine users on 2026-11-01",
            "growth: 50 %",
            "window: 7 days"
        ]
    );
}

// ---------------------------------------------------------------- idp-unreachable, idp-certificate-expiring

fn provider_target(id: &str, owner: IdpOwner) -> Target {
    Target {
        environment: prod(),
        name: format!("idp {id}"),
        kind: TargetKind::IdentityProvider { id: IdpId::parse(id).unwrap(), provider_type: ProviderType::Oidc, owner },
    }
}

/// `(provider id, minutes before NOW, probe ok)`: the history, evaluated with the default health policy.
type ProbeRow = (&'static str, i64, bool);

fn healths(rows: &[ProbeRow]) -> Vec<ProviderHealth> {
    let mut ids: Vec<&str> = rows.iter().map(|(id, _, _)| *id).collect();
    ids.dedup();
    let targets: Vec<Target> = ids.iter().map(|id| provider_target(id, IdpOwner::Org(org("1")))).collect();
    let history: Vec<ProbeResult> = rows
        .iter()
        .map(|(id, minutes_ago, ok)| ProbeResult {
            target: provider_target(id, IdpOwner::Org(org("1"))),
            probed_at: NOW - Duration::minutes(*minutes_ago),
            checks: vec![
                Check::passed("discovery", "ok"),
                if *ok { Check::passed("jwks", "2 usable keys") } else { Check::failed("jwks", "connection refused") },
            ],
            certificates: Vec::new(),
            keys: None,
        })
        .collect();
    evaluate_all(&targets, &history, &HealthPolicy::default(), NOW)
}

#[test]
fn idp_unreachable_fires_for_providers_that_are_down() {
    let cases: [(&str, &[ProbeRow], &[&str]); 6] = [
        ("healthy", &[("a", 0, true)], &[]),
        ("never answered", &[("a", 0, false)], &["idp-unreachable a"]),
        ("one failure after successes is not down", &[("a", 0, false), ("a", 5, true), ("a", 10, true)], &[]),
        (
            "the last three failed",
            &[("a", 0, false), ("a", 5, false), ("a", 10, false), ("a", 15, true)],
            &["idp-unreachable a"],
        ),
        (
            "recovered: the newest succeeded",
            &[("a", 0, true), ("a", 5, false), ("a", 10, false), ("a", 15, false)],
            &[],
        ),
        ("per provider", &[("a", 0, true), ("b", 0, false)], &["idp-unreachable b"]),
    ];
    for (name, rows, expected) in cases {
        check(name, &idp_unreachable(&prod(), &healths(rows)), expected);
    }
    let findings = idp_unreachable(&prod(), &healths(&[("a", 0, false)]));
    assert!(findings[0].evidence.contains(&("jwks".to_owned(), "connection refused".to_owned())));
    assert!(findings[0].evidence.contains(&("failed probes".to_owned(), "1 of 1".to_owned())));
    assert_eq!(findings[0].message, "identity provider idp a is down: jwks failed");
    assert_eq!(findings[0].subject.org_id, Some(org("1")));

    let zitadel = Target { environment: prod(), name: "ZITADEL".to_owned(), kind: TargetKind::Zitadel };
    let down = evaluate_all(&[zitadel], &[], &HealthPolicy::default(), NOW);
    assert!(idp_unreachable(&prod(), &down).is_empty(), "ZITADEL itself is not an identity provider");
}

/// `(provider id, certificate subject, hours from NOW to its not-after)`.
type CertificateRow = (&'static str, &'static str, i64);

fn with_certificates(rows: &[CertificateRow]) -> Vec<ProviderHealth> {
    let mut ids: Vec<&str> = rows.iter().map(|(id, _, _)| *id).collect();
    ids.dedup();
    let targets: Vec<Target> = ids.iter().map(|id| provider_target(id, IdpOwner::Instance)).collect();
    let history: Vec<ProbeResult> = ids
        .iter()
        .map(|id| ProbeResult {
            target: provider_target(id, IdpOwner::Instance),
            probed_at: NOW,
            checks: vec![Check::passed("metadata", "ok")],
            certificates: rows
                .iter()
                .filter(|(provider, _, _)| provider == id)
                .map(|(_, subject, hours)| Certificate {
                    usage: CertificateUse::SamlSigning,
                    source: "metadata".to_owned(),
                    subject: (*subject).to_owned(),
                    fingerprint: "00".to_owned(),
                    not_before: NOW - Duration::days(400),
                    not_after: NOW + Duration::hours(*hours),
                })
                .collect(),
            keys: None,
        })
        .collect();
    evaluate_all(&targets, &history, &HealthPolicy::default(), NOW)
}

#[test]
fn idp_certificate_expiring_is_high_below_14_days_and_medium_below_30() {
    let day = 24;
    let cases: [(&str, &[CertificateRow], &[&str]); 8] = [
        ("a year left", &[("s", "c1", 365 * day)], &[]),
        ("exactly 30 days left is not below 30", &[("s", "c1", 30 * day)], &[]),
        ("an hour under 30 days", &[("s", "c1", 30 * day - 1)], &["idp-certificate-expiring s medium"]),
        ("exactly 14 days left is medium", &[("s", "c1", 14 * day)], &["idp-certificate-expiring s medium"]),
        ("an hour under 14 days is high", &[("s", "c1", 14 * day - 1)], &["idp-certificate-expiring s"]),
        ("expired is high", &[("s", "c1", -day)], &["idp-certificate-expiring s"]),
        (
            "the most urgent certificate decides",
            &[("s", "c1", 20 * day), ("s", "c2", 5 * day)],
            &["idp-certificate-expiring s"],
        ),
        (
            "a fresh certificate does not hide an old one",
            &[("s", "new", 700 * day), ("s", "old", 20 * day)],
            &["idp-certificate-expiring s medium"],
        ),
    ];
    for (name, rows, expected) in cases {
        check(name, &idp_certificate_expiring(&prod(), &with_certificates(rows), &Policy::default(), NOW), expected);
    }
    let findings = idp_certificate_expiring(
        &prod(),
        &with_certificates(&[("s", "c1", 20 * day), ("s", "c2", 5 * day)]),
        &Policy::default(),
        NOW,
    );
    let evidence: Vec<&str> = findings[0].evidence.iter().map(|(fact, _)| fact.as_str()).collect();
    assert_eq!(evidence, ["signing certificate c2 (metadata)", "signing certificate c1 (metadata)"], "soonest first");
    assert_eq!(
        findings[0].message,
        "identity provider idp s: signing certificate c2 (metadata) expires 2026-11-06 (in 5 days)"
    );
    let strict =
        Policy { certificate_expiring_high_days: 60, certificate_expiring_medium_days: 90, ..Policy::default() };
    check(
        "thresholds from the policy",
        &idp_certificate_expiring(&prod(), &with_certificates(&[("s", "c", 50 * day)]), &strict, NOW),
        &["idp-certificate-expiring s"],
    );
}

// ---------------------------------------------------------------- mapping-gap, unmapped-group, ungoverned-grant

fn mapping(id: &str, org_id: &str, group: &str, project: &str, keys: &[&str]) -> GroupRoleMapping {
    GroupRoleMapping {
        id: GroupRoleMappingId::parse(id).unwrap(),
        org_id: org(org_id),
        group_id: ScimGroupId::parse(group).unwrap(),
        group_name: format!("group {group}"),
        project_id: ProjectId::parse(project).unwrap(),
        role_keys: keys.iter().map(|key| RoleKey::parse(*key).unwrap()).collect(),
    }
}

/// Project `p` (owned by org 1) with roles `admin` and `reader`, and user `u` of org 2.
fn governed_estate(grants: Vec<UserGrant>) -> Snapshot {
    let project = ProjectId::parse("p").unwrap();
    Snapshot {
        projects: vec![Project {
            id: project.clone(),
            org_id: org("1"),
            name: "Billing".to_owned(),
            state: ProjectState::Active,
            role_assertion: false,
            role_check: false,
            has_project_check: false,
            created_at: None,
            changed_at: None,
        }],
        project_roles: ["admin", "reader"]
            .map(|key| ProjectRole {
                project_id: project.clone(),
                org_id: org("1"),
                key: RoleKey::parse(key).unwrap(),
                display_name: String::new(),
                group: String::new(),
                created_at: None,
                changed_at: None,
            })
            .to_vec(),
        users: vec![user("u", "2", false)],
        user_grants: grants,
        ..Snapshot::default()
    }
}

#[test]
fn mapping_gap_finds_mappings_to_missing_projects_and_roles() {
    let estate = governed_estate(Vec::new());
    let cases: [(&str, GroupRoleMapping, &[&str]); 4] = [
        ("project and roles exist", mapping("m", "2", "g", "p", &["admin", "reader"]), &[]),
        ("no role keys is no gap", mapping("m", "2", "g", "p", &[]), &[]),
        ("the project is gone", mapping("m", "2", "g", "gone", &["admin"]), &["mapping-gap m"]),
        ("a role is gone", mapping("m", "2", "g", "p", &["admin", "writer"]), &["mapping-gap m"]),
    ];
    for (name, mapping, expected) in cases {
        check(name, &mapping_gap(&prod(), &estate, &[mapping]), expected);
    }
    let findings = mapping_gap(&prod(), &estate, &[mapping("m", "2", "g", "p", &["writer", "admin", "owner"])]);
    let evidence: Vec<&str> = findings[0].evidence.iter().map(|(fact, _)| fact.as_str()).collect();
    assert_eq!(evidence, ["role owner", "role writer"]);
    assert_eq!(findings[0].subject.kind, SubjectKind::GroupRoleMapping);
    assert_eq!(findings[0].subject.name, "group g -> Billing");
}

#[test]
fn unmapped_group_finds_groups_with_members_and_no_mapping() {
    let group = |id: &str, org_id: &str, members: u64| ScimGroup {
        id: ScimGroupId::parse(id).unwrap(),
        org_id: org(org_id),
        display_name: format!("Group {id}"),
        member_count: members,
    };
    let mappings = [mapping("m", "2", "mapped", "p", &["admin"])];
    let cases = [
        ("a mapped group", group("mapped", "2", 5), &[][..]),
        ("an empty group", group("empty", "2", 0), &[][..]),
        ("a group with one member", group("lonely", "2", 1), &["unmapped-group lonely"][..]),
        ("a mapping in another org does not count", group("mapped", "3", 5), &["unmapped-group mapped"][..]),
    ];
    for (name, group, expected) in cases {
        check(name, &unmapped_group(&prod(), &[group], &mappings), expected);
    }
}

#[test]
fn ungoverned_grant_finds_grants_no_group_mapping_explains() {
    let provisioned = BTreeSet::from([org("2")]);
    let member = |group: &str| GroupMember {
        group_id: ScimGroupId::parse(group).unwrap(),
        user_id: UserId::parse("u").unwrap(),
    };
    let grant = |keys: &[&str], state: GrantState| user_grant("g", "u", "2", "p", keys, state);
    let admins = mapping("m1", "2", "admins", "p", &["admin"]);
    let readers = mapping("m2", "2", "readers", "p", &["reader"]);
    struct Case {
        name: &'static str,
        grant: UserGrant,
        mappings: Vec<GroupRoleMapping>,
        members: Vec<GroupMember>,
        expected: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "explained by the user's group",
            grant: grant(&["admin"], GrantState::Active),
            mappings: vec![admins.clone()],
            members: vec![member("admins")],
            expected: &[],
        },
        Case {
            name: "two groups together explain two roles",
            grant: grant(&["admin", "reader"], GrantState::Active),
            mappings: vec![admins.clone(), readers.clone()],
            members: vec![member("admins"), member("readers")],
            expected: &[],
        },
        Case {
            name: "not in the group",
            grant: grant(&["admin"], GrantState::Active),
            mappings: vec![admins.clone()],
            members: vec![],
            expected: &["ungoverned-grant g"],
        },
        Case {
            name: "one role more than the mapping gives",
            grant: grant(&["admin", "reader"], GrantState::Active),
            mappings: vec![admins.clone()],
            members: vec![member("admins")],
            expected: &["ungoverned-grant g"],
        },
        Case {
            name: "an inactive grant gives nothing",
            grant: grant(&["admin"], GrantState::Inactive),
            mappings: vec![],
            members: vec![],
            expected: &[],
        },
        Case {
            name: "a mapping of another org explains nothing here",
            grant: grant(&["admin"], GrantState::Active),
            mappings: vec![mapping("m3", "3", "admins", "p", &["admin"])],
            members: vec![member("admins")],
            expected: &["ungoverned-grant g"],
        },
        Case {
            name: "no role keys, but a mapping of the project",
            grant: grant(&[], GrantState::Active),
            mappings: vec![readers.clone()],
            members: vec![member("readers")],
            expected: &[],
        },
        Case {
            name: "no role keys and no mapping",
            grant: grant(&[], GrantState::Active),
            mappings: vec![],
            members: vec![],
            expected: &["ungoverned-grant g"],
        },
        Case {
            name: "an org not provisioned by SCIM is not governed by mappings",
            grant: user_grant("g", "u", "9", "p", &["admin"], GrantState::Active),
            mappings: vec![],
            members: vec![],
            expected: &[],
        },
    ];
    for case in cases {
        let estate = governed_estate(vec![case.grant]);
        check(
            case.name,
            &ungoverned_grant(&prod(), &estate, &case.mappings, &case.members, &provisioned),
            case.expected,
        );
    }
    let estate = governed_estate(vec![grant(&["admin", "reader"], GrantState::Active)]);
    let findings = ungoverned_grant(&prod(), &estate, &[admins], &[member("admins")], &provisioned);
    let evidence: Vec<String> = findings[0].evidence.iter().map(|(fact, value)| format!("{fact}: {value}")).collect();
    assert_eq!(
        evidence,
        [
            "user: user-u",
            "project: Billing",
            "groups: admins",
            "role reader: no mapping of the user's groups grants it"
        ]
    );
}

// ---------------------------------------------------------------- the registry

#[test]
fn every_rule_of_the_design_is_registered_once_and_documented() {
    let ids: Vec<&str> = ALL_RULES.iter().map(|rule| rule.id).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    for evaluated in RULES {
        assert_eq!(rule(evaluated.id), Some(&evaluated), "{}", evaluated.id);
    }
    let docs = include_str!("../../../../docs/rules.md");
    let documented: Vec<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("## `"))
        .filter_map(|line| line.split_once('`').map(|(id, _)| id))
        .collect();
    assert_eq!(documented, ids, "docs/rules.md documents the rules in registry order");
    for rule in ALL_RULES {
        let heading = format!("## `{}` ({}", rule.id, rule.severity);
        assert!(docs.contains(&heading), "{heading}");
        assert!(!rule.remediation.is_empty(), "{}", rule.id);
    }
}

#[test]
fn subject_kinds_round_trip_through_text() {
    let kinds = ResourceKind::ALL.into_iter().map(SubjectKind::Object).chain([
        SubjectKind::Environment,
        SubjectKind::ScimGroup,
        SubjectKind::GroupRoleMapping,
    ]);
    for kind in kinds {
        assert_eq!(SubjectKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(SubjectKind::from(ResourceKind::User).as_str(), "user");
}
