//! The inventory of a small estate, and the risk score's worked example of `docs/risk-score.md`.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::id::{EnvironmentName, MachineKeyId, OrgId, PatId, ProjectGrantId, ProjectId, RoleKey, UserGrantId, UserId};
use crate::inventory::{CredentialKind, ReachVia, ServiceAccount, service_account_inventory};
use crate::model::{
    AccessTokenType, GrantState, HumanProfile, KeyType, MachineKey, MachineProfile, Membership, MembershipScope,
    PersonalAccessToken, Project, ProjectGrant, ProjectState, Snapshot, User, UserGrant, UserKind, UserState,
};
use crate::posture::Policy;

const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn org(id: &str) -> OrgId {
    OrgId::parse(id).unwrap()
}

fn project_id(id: &str) -> ProjectId {
    ProjectId::parse(id).unwrap()
}

fn machine(id: &str, description: &str, state: UserState, has_secret: bool) -> User {
    User {
        id: UserId::parse(id).unwrap(),
        org_id: org("1"),
        username: id.to_owned(),
        preferred_login_name: String::new(),
        state,
        kind: UserKind::Machine(MachineProfile {
            name: format!("{id} account"),
            description: description.to_owned(),
            has_secret,
            access_token_type: AccessTokenType::Jwt,
        }),
        created_at: Some(NOW - Duration::days(800)),
        changed_at: None,
    }
}

fn project(id: &str, owner: &str) -> Project {
    Project {
        id: project_id(id),
        org_id: org(owner),
        name: format!("Project {id}"),
        state: ProjectState::Active,
        role_assertion: false,
        role_check: false,
        has_project_check: false,
        created_at: None,
        changed_at: None,
    }
}

fn grant(id: &str, user: &str, project: &str, keys: &[&str], state: GrantState) -> UserGrant {
    UserGrant {
        id: UserGrantId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: org("1"),
        project_id: project_id(project),
        project_grant_id: None,
        role_keys: keys.iter().map(|key| RoleKey::parse(*key).unwrap()).collect(),
        state,
        created_at: None,
        changed_at: None,
    }
}

fn membership(user: &str, scope: MembershipScope, role: &str) -> Membership {
    Membership {
        user_id: UserId::parse(user).unwrap(),
        scope,
        roles: vec![role.to_owned()],
        created_at: None,
        changed_at: None,
    }
}

fn key(id: &str, user: &str, created_days_ago: i64, expires_in_days: Option<i64>) -> MachineKey {
    MachineKey {
        id: MachineKeyId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: org("1"),
        key_type: KeyType::Json,
        created_at: Some(NOW - Duration::days(created_days_ago)),
        expires_at: expires_in_days.map(|days| NOW + Duration::days(days)),
    }
}

fn token(id: &str, user: &str, created_days_ago: i64, expires_in_days: i64) -> PersonalAccessToken {
    PersonalAccessToken {
        id: PatId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        org_id: org("1"),
        scopes: Vec::new(),
        created_at: Some(NOW - Duration::days(created_days_ago)),
        expires_at: Some(NOW + Duration::days(expires_in_days)),
    }
}

/// The estate of `docs/risk-score.md`: `deployer` (the worked example), `reporter` (quiet), `retired` (inactive),
/// `root` (everything, capped) and a person who is not in the inventory.
fn estate() -> Snapshot {
    let p1 = || MembershipScope::Project { org_id: org("1"), project_id: project_id("p1") };
    Snapshot {
        projects: vec![project("p1", "1"), project("p2", "2")],
        project_grants: vec![
            ProjectGrant {
                id: ProjectGrantId::parse("pg-p1-3").unwrap(),
                project_id: project_id("p1"),
                org_id: org("1"),
                granted_org_id: org("3"),
                role_keys: vec![RoleKey::parse("reader").unwrap()],
                state: GrantState::Active,
                created_at: None,
                changed_at: None,
            },
            ProjectGrant {
                id: ProjectGrantId::parse("pg-p2-1").unwrap(),
                project_id: project_id("p2"),
                org_id: org("2"),
                granted_org_id: org("1"),
                role_keys: vec![RoleKey::parse("reader").unwrap()],
                state: GrantState::Active,
                created_at: None,
                changed_at: None,
            },
        ],
        users: vec![
            machine("deployer", "", UserState::Active, false),
            machine("reporter", "nightly revenue report", UserState::Active, false),
            machine("retired", "old importer", UserState::Inactive, false),
            machine("root", "", UserState::Active, true),
            User { kind: UserKind::Human(HumanProfile::default()), ..machine("alice", "", UserState::Active, false) },
        ],
        user_grants: vec![
            grant("g1", "deployer", "p1", &["deploy", "admin"], GrantState::Active),
            UserGrant {
                project_grant_id: Some(ProjectGrantId::parse("pg-p2-1").unwrap()),
                ..grant("g2", "deployer", "p2", &["reader"], GrantState::Active)
            },
            grant("g3", "deployer", "p2", &["writer"], GrantState::Inactive),
            grant("g4", "reporter", "p1", &["reader"], GrantState::Active),
            grant("g5", "retired", "p1", &["reader"], GrantState::Active),
            grant("g6", "alice", "p1", &["admin"], GrantState::Active),
            grant("g7", "root", "p1", &["admin"], GrantState::Active),
            grant("g8", "root", "p2", &["reader"], GrantState::Active),
        ],
        memberships: vec![
            membership("deployer", MembershipScope::Org(org("1")), "ORG_OWNER"),
            membership("deployer", p1(), "PROJECT_OWNER"),
            membership("reporter", p1(), "PROJECT_OWNER_VIEWER"),
            membership("root", MembershipScope::Instance, "IAM_OWNER"),
            membership("root", MembershipScope::Org(org("4")), "ORG_OWNER"),
            membership("root", MembershipScope::Org(org("5")), "ORG_OWNER"),
            membership("root", p1(), "PROJECT_OWNER"),
        ],
        machine_keys: vec![
            key("k-deployer", "deployer", 400, None),
            key("k-reporter", "reporter", 10, Some(80)),
            key("k-old", "reporter", 200, Some(-5)),
            key("k-root", "root", 500, None),
        ],
        personal_access_tokens: vec![token("t-deployer", "deployer", 10, 30), token("t-root", "root", 5, 20)],
        ..Snapshot::default()
    }
}

fn inventory() -> Vec<ServiceAccount> {
    service_account_inventory(&EnvironmentName::parse("prod").unwrap(), &estate(), &Policy::default(), NOW)
}

fn account(name: &str) -> ServiceAccount {
    inventory().into_iter().find(|account| account.username == name).unwrap()
}

fn factors(account: &ServiceAccount) -> Vec<String> {
    account.risk.factors.iter().map(|factor| format!("{} {}: {}", factor.id, factor.points, factor.detail)).collect()
}

#[test]
fn machine_users_only_riskiest_first() {
    let order: Vec<(String, u8)> =
        inventory().into_iter().map(|account| (account.username, account.risk.score)).collect();
    let expected = [("root", 100), ("deployer", 87), ("retired", 6), ("reporter", 1)];
    assert_eq!(order, expected.map(|(name, score)| (name.to_owned(), score)));
}

#[test]
fn the_worked_example_of_the_risk_score() {
    let deployer = account("deployer");
    assert_eq!(
        factors(&deployer),
        [
            "org-manager-role 25: ORG_OWNER on org 1",
            "project-manager-role 15: PROJECT_OWNER on project p1",
            "credential-without-expiry 15: machine_key k-deployer",
            "credential-older-than-max-age 10: machine_key k-deployer",
            "multiple-active-credentials 5: 2 unexpired keys and tokens",
            "cross-org-reach 10: 2 other organization(s): 2, 3",
            "project-reach 2: active grants on 2 project(s)",
            "no-description 5: no description",
        ]
    );
    assert_eq!(deployer.risk.score, 87);
}

#[test]
fn the_score_is_capped_at_100_and_every_factor_still_shows() {
    let root = account("root");
    let total: u32 = root.risk.factors.iter().map(|factor| u32::from(factor.points)).sum();
    assert_eq!((root.risk.score, total), (100, 137));
    let ids: Vec<&str> = root.risk.factors.iter().map(|factor| factor.id).collect();
    assert_eq!(
        ids,
        [
            "instance-manager-role",
            "org-manager-role",
            "project-manager-role",
            "credential-without-expiry",
            "credential-older-than-max-age",
            "multiple-active-credentials",
            "client-secret",
            "cross-org-reach",
            "project-reach",
            "no-description",
        ]
    );
}

#[test]
fn quiet_and_inactive_accounts() {
    assert_eq!(factors(&account("reporter")), ["project-reach 1: active grants on 1 project(s)"]);
    assert_eq!(
        factors(&account("retired")),
        [
            "project-reach 1: active grants on 1 project(s)",
            "inactive-with-access 5: inactive account holds 1 grant(s) and 0 membership(s)",
        ]
    );
}

#[test]
fn an_account_lists_its_reach_and_credentials() {
    let deployer = account("deployer");
    assert_eq!((deployer.display_name.as_str(), deployer.org_id.as_str()), ("deployer account", "1"));
    assert_eq!((deployer.access_token_type.clone(), deployer.has_client_secret), (AccessTokenType::Jwt, false));
    assert_eq!(deployer.created_at, Some(NOW - Duration::days(800)));

    let grants: Vec<String> = deployer
        .grants
        .iter()
        .map(|grant| {
            let keys: Vec<&str> = grant.role_keys.iter().map(RoleKey::as_str).collect();
            format!(
                "{} {} {} via {:?} [{}] {}",
                grant.user_grant_id,
                grant.project_name.as_deref().unwrap_or("?"),
                grant.grant_org_id,
                grant.project_grant_id.as_ref().map(ProjectGrantId::as_str),
                keys.join(","),
                grant.state
            )
        })
        .collect();
    assert_eq!(
        grants,
        [
            "g1 Project p1 1 via None [admin,deploy] active",
            "g2 Project p2 1 via Some(\"pg-p2-1\") [reader] active",
            "g3 Project p2 1 via None [writer] inactive",
        ]
    );

    let memberships: Vec<String> = deployer
        .memberships
        .iter()
        .map(|membership| {
            format!("{} {:?} {}", membership.scope.kind(), membership.project_name, membership.roles.join(","))
        })
        .collect();
    assert_eq!(memberships, ["org None ORG_OWNER", "project Some(\"Project p1\") PROJECT_OWNER"]);

    assert_eq!(deployer.project_grant_reach.len(), 2, "p1 (granted to 3) and p2 (granted to 1)");
    let p1 = &deployer.project_grant_reach[0];
    assert_eq!(
        (p1.project_id.as_str(), p1.via.as_slice()),
        ("p1", &[ReachVia::UserGrant, ReachVia::ProjectMembership][..])
    );
    let granted: Vec<(&str, &str)> =
        p1.granted_to.iter().map(|granted| (granted.org_id.as_str(), granted.role_keys[0].as_str())).collect();
    assert_eq!(granted, [("3", "reader")]);
    assert_eq!(deployer.project_grant_reach[1].via, [ReachVia::UserGrant]);

    let reached: Vec<&str> = deployer.orgs_reached.iter().map(OrgId::as_str).collect();
    assert_eq!(reached, ["2", "3"], "p2's owner, and the org p1 (which it manages) is granted to; never its own");

    let credentials: Vec<String> = deployer
        .credentials
        .iter()
        .map(|credential| {
            format!(
                "{} {} age {:?} expires {} expired {}",
                credential.kind.as_str(),
                credential.id,
                credential.age_days,
                credential.expires_at.map_or_else(|| "never".to_owned(), |at| at.date().to_string()),
                credential.expired
            )
        })
        .collect();
    assert_eq!(
        credentials,
        [
            "machine_key k-deployer age Some(400) expires never expired false",
            "personal_access_token t-deployer age Some(10) expires 2026-12-01 expired false",
        ]
    );
}

#[test]
fn expired_credentials_are_listed_but_carry_no_risk() {
    let reporter = account("reporter");
    let listed: Vec<(CredentialKind, &str, bool)> = reporter
        .credentials
        .iter()
        .map(|credential| (credential.kind, credential.id.as_str(), credential.expired))
        .collect();
    assert_eq!(
        listed,
        [(CredentialKind::MachineKey, "k-old", true), (CredentialKind::MachineKey, "k-reporter", false)]
    );
    assert!(reporter.risk.factors.iter().all(|factor| !factor.id.starts_with("credential")));
    // A viewer membership of p1 lists p1's grants as reach, but only managing a project reaches its granted orgs.
    assert_eq!(reporter.project_grant_reach[0].via, [ReachVia::UserGrant, ReachVia::ProjectMembership]);
    assert!(reporter.orgs_reached.is_empty());
}
