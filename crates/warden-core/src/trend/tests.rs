//! Counting a state into points, and thinning points into days and ISO weeks.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::id::{EnvironmentName, OrgId, ProjectId, UserGrantId, UserId};
use crate::model::{
    AccessTokenType, GrantState, HumanProfile, MachineProfile, Org, OrgState, ResourceKind, Snapshot, User, UserGrant,
    UserKind, UserState,
};
use crate::posture::{Finding, Severity, Subject, SubjectKind};
use crate::trend::{Granularity, TrendPoint, bucket_trend, trend_points};

fn environment(name: &str) -> EnvironmentName {
    EnvironmentName::parse(name).unwrap()
}

fn user(id: &str, org: &str, machine: bool) -> User {
    User {
        id: UserId::parse(id).unwrap(),
        org_id: OrgId::parse(org).unwrap(),
        username: id.to_owned(),
        preferred_login_name: String::new(),
        state: UserState::Active,
        kind: if machine {
            UserKind::Machine(MachineProfile {
                name: String::new(),
                description: String::new(),
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

fn grant(id: &str, user: &str, org: &str) -> UserGrant {
    UserGrant {
        id: UserGrantId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: OrgId::parse(org).unwrap(),
        project_id: ProjectId::parse("p").unwrap(),
        project_grant_id: None,
        role_keys: Vec::new(),
        state: GrantState::Active,
        created_at: None,
        changed_at: None,
    }
}

fn finding(environment_name: &str, org: Option<&str>) -> Finding {
    Finding {
        rule: "machine-without-description",
        severity: Severity::Low,
        environment: environment(environment_name),
        subject: Subject {
            kind: SubjectKind::Object(ResourceKind::User),
            id: "x".to_owned(),
            name: "x".to_owned(),
            org_id: org.map(|org| OrgId::parse(org).unwrap()),
        },
        message: String::new(),
        evidence: Vec::new(),
        remediation: "",
    }
}

/// `org machine human grants findings` per point.
fn rows(points: &[TrendPoint]) -> Vec<String> {
    points
        .iter()
        .map(|point| {
            let org = point.org_id.as_ref().map_or("*", OrgId::as_str);
            format!("{org} {} {} {} {}", point.machine_users, point.human_users, point.user_grants, point.findings)
        })
        .collect()
}

#[test]
fn trend_points_count_each_org_and_the_whole_environment() {
    let at = datetime!(2026-11-01 12:00 UTC);
    let snapshot = Snapshot {
        orgs: ["1", "2", "3"]
            .map(|id| Org {
                id: OrgId::parse(id).unwrap(),
                name: format!("Org {id}"),
                state: OrgState::Active,
                primary_domain: String::new(),
                created_at: None,
                changed_at: None,
            })
            .to_vec(),
        users: vec![user("m1", "1", true), user("m2", "1", true), user("h1", "1", false), user("h2", "2", false)],
        user_grants: vec![grant("g1", "m1", "1"), grant("g2", "h2", "2"), grant("g3", "h2", "2")],
        ..Snapshot::default()
    };
    let findings = [finding("prod", Some("1")), finding("prod", None), finding("staging", Some("2"))];
    let points = trend_points(&environment("prod"), &snapshot, &findings, at);
    assert_eq!(rows(&points), ["1 2 1 1 1", "2 0 1 2 0", "3 0 0 0 0", "* 2 2 3 2"]);
    assert!(points.iter().all(|point| point.at == at && point.environment.as_str() == "prod"));
}

/// `(environment, org or "" for the whole environment, time, machine users)`.
type Row = (&'static str, &'static str, OffsetDateTime, u64);

fn points(rows: &[Row]) -> Vec<TrendPoint> {
    rows.iter()
        .map(|(environment_name, org, at, machine_users)| TrendPoint {
            at: *at,
            environment: environment(environment_name),
            org_id: if org.is_empty() { None } else { Some(OrgId::parse(*org).unwrap()) },
            machine_users: *machine_users,
            human_users: 0,
            user_grants: 0,
            findings: 0,
        })
        .collect()
}

/// `environment org machine-users` of each kept point.
fn kept(points: &[TrendPoint]) -> Vec<String> {
    points
        .iter()
        .map(|point| {
            let org = point.org_id.as_ref().map_or("*", OrgId::as_str);
            format!("{} {org} {}", point.environment, point.machine_users)
        })
        .collect()
}

#[test]
fn bucketing_keeps_the_last_point_of_each_day_or_iso_week() {
    struct Case {
        name: &'static str,
        rows: &'static [Row],
        granularity: Granularity,
        expected: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "the last point of a day wins",
            rows: &[
                ("prod", "", datetime!(2026-11-02 08:00 UTC), 1),
                ("prod", "", datetime!(2026-11-02 23:59 UTC), 2),
                ("prod", "", datetime!(2026-11-02 12:00 UTC), 3),
            ],
            granularity: Granularity::Day,
            expected: &["prod * 2"],
        },
        Case {
            name: "days are UTC days, whatever the offset a time is written in",
            rows: &[
                ("prod", "", datetime!(2026-11-02 22:00 UTC), 1),
                ("prod", "", datetime!(2026-11-03 00:30 +02:00), 2), // 22:30 UTC on the 2nd
                ("prod", "", datetime!(2026-11-02 23:30 -02:00), 3), // 01:30 UTC on the 3rd
            ],
            granularity: Granularity::Day,
            expected: &["prod * 2", "prod * 3"],
        },
        Case {
            name: "midnight starts a new day",
            rows: &[
                ("prod", "", datetime!(2026-11-02 23:59:59 UTC), 1),
                ("prod", "", datetime!(2026-11-03 00:00 UTC), 2),
            ],
            granularity: Granularity::Day,
            expected: &["prod * 1", "prod * 2"],
        },
        Case {
            name: "a week runs Monday to Sunday",
            rows: &[
                ("prod", "", datetime!(2026-11-02 00:00 UTC), 1), // Monday
                ("prod", "", datetime!(2026-11-08 23:59 UTC), 2), // Sunday
                ("prod", "", datetime!(2026-11-09 00:00 UTC), 3), // next Monday
            ],
            granularity: Granularity::Week,
            expected: &["prod * 2", "prod * 3"],
        },
        Case {
            name: "an ISO week spans the new year",
            rows: &[("prod", "", datetime!(2026-12-29 10:00 UTC), 1), ("prod", "", datetime!(2027-01-03 10:00 UTC), 2)],
            granularity: Granularity::Week,
            expected: &["prod * 2"],
        },
        Case {
            name: "environments and orgs are bucketed separately, the environment as a whole first",
            rows: &[
                ("prod", "1", datetime!(2026-11-02 08:00 UTC), 1),
                ("prod", "", datetime!(2026-11-02 08:00 UTC), 2),
                ("dev", "1", datetime!(2026-11-02 09:00 UTC), 3),
                ("prod", "1", datetime!(2026-11-02 09:00 UTC), 4),
            ],
            granularity: Granularity::Day,
            expected: &["dev 1 3", "prod * 2", "prod 1 4"],
        },
        Case {
            name: "of two points at the same time, the later listed wins",
            rows: &[("prod", "", datetime!(2026-11-02 08:00 UTC), 1), ("prod", "", datetime!(2026-11-02 08:00 UTC), 2)],
            granularity: Granularity::Day,
            expected: &["prod * 2"],
        },
        Case { name: "nothing in, nothing out", rows: &[], granularity: Granularity::Week, expected: &[] },
    ];
    for case in cases {
        assert_eq!(kept(&bucket_trend(&points(case.rows), case.granularity)), case.expected, "{}", case.name);
    }
}

#[test]
fn bucket_starts_are_the_day_or_the_monday() {
    let cases = [
        (datetime!(2026-11-04 15:00 UTC), Granularity::Day, "2026-11-04"),
        (datetime!(2026-11-04 15:00 UTC), Granularity::Week, "2026-11-02"),
        (datetime!(2026-11-02 00:00 UTC), Granularity::Week, "2026-11-02"),
        (datetime!(2026-11-01 23:59 UTC), Granularity::Week, "2026-10-26"),
        (datetime!(2026-11-02 01:00 +03:00), Granularity::Week, "2026-10-26"),
    ];
    for (at, granularity, expected) in cases {
        assert_eq!(granularity.bucket_start(at).to_string(), expected, "{at} {granularity:?}");
    }
}
