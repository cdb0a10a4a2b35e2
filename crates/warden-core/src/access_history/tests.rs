//! A scripted history: four synced states, the changes the real `reconcile` records between them, and the check
//! that rewinding the last state answers exactly what each earlier state would have.

use std::collections::BTreeSet;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::access_history::{
    AccessHistory, AccessHistoryError, access_in, holders, rewind, rewind_kinds, service_account_access_at,
    who_held_role,
};
use crate::id::{
    ApplicationId, EnvironmentName, IdpId, MachineKeyId, MetadataKey, OrgId, PatId, ProjectGrantId, ProjectId, RoleKey,
    SyncRunId, UserGrantId, UserId,
};
use crate::model::{
    AccessTokenType, Application, ApplicationKind, ApplicationState, Attribution, Change, ChangeKind, FieldChange,
    GrantState, HumanProfile, IdentityProvider, IdpOwner, IdpState, KeyType, MachineKey, MachineProfile, Membership,
    MembershipScope, Observed, Org, OrgState, PersonalAccessToken, Project, ProjectGrant, ProjectRole, ProjectState,
    ProviderType, ResourceKind, Snapshot, User, UserGrant, UserKind, UserMetadata, UserState,
};
use crate::reconcile::reconcile;

const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
const T1: OffsetDateTime = datetime!(2026-01-10 00:00 UTC);
const T2: OffsetDateTime = datetime!(2026-01-20 00:00 UTC);
const T3: OffsetDateTime = datetime!(2026-02-01 00:00 UTC);

fn org_id(id: &str) -> OrgId {
    OrgId::parse(id).unwrap()
}

fn user_id(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn billing() -> ProjectId {
    ProjectId::parse("p").unwrap()
}

fn keys(keys: &[&str]) -> Vec<RoleKey> {
    keys.iter().map(|key| RoleKey::parse(*key).unwrap()).collect()
}

fn org(id: &str) -> Org {
    Org {
        id: org_id(id),
        name: format!("Org {id}"),
        state: OrgState::Active,
        primary_domain: format!("org{id}.example"),
        created_at: None,
        changed_at: None,
    }
}

fn machine(id: &str, org: &str, description: &str) -> User {
    User {
        id: user_id(id),
        org_id: org_id(org),
        username: id.to_owned(),
        preferred_login_name: format!("{id}@example"),
        state: UserState::Active,
        kind: UserKind::Machine(MachineProfile {
            name: format!("{id} account"),
            description: description.to_owned(),
            has_secret: false,
            access_token_type: AccessTokenType::Bearer,
        }),
        created_at: None,
        changed_at: None,
    }
}

fn human(id: &str, email: &str) -> User {
    User {
        kind: UserKind::Human(HumanProfile {
            given_name: "Hanna".to_owned(),
            display_name: "Hanna H".to_owned(),
            email: email.to_owned(),
            email_verified: true,
            ..HumanProfile::default()
        }),
        ..machine(id, "1", "")
    }
}

fn grant(id: &str, user: &str, org: &str, role_keys: &[&str], state: GrantState) -> UserGrant {
    UserGrant {
        id: UserGrantId::parse(id).unwrap(),
        user_id: user_id(user),
        org_id: org_id(org),
        project_id: billing(),
        project_grant_id: None,
        role_keys: keys(role_keys),
        state,
        created_at: None,
        changed_at: None,
    }
}

fn membership(user: &str, scope: MembershipScope, roles: &[&str]) -> Membership {
    Membership {
        user_id: user_id(user),
        scope,
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        created_at: None,
        changed_at: None,
    }
}

fn key(id: &str, user: &str, created: OffsetDateTime, expires: Option<OffsetDateTime>) -> MachineKey {
    MachineKey {
        id: MachineKeyId::parse(id).unwrap(),
        user_id: user_id(user),
        org_id: org_id("1"),
        key_type: KeyType::Json,
        created_at: Some(created),
        expires_at: expires,
    }
}

fn project_scope() -> MembershipScope {
    MembershipScope::Project { org_id: org_id("1"), project_id: billing() }
}

fn project_grant_scope() -> MembershipScope {
    MembershipScope::ProjectGrant {
        org_id: org_id("1"),
        project_id: billing(),
        project_grant_id: ProjectGrantId::parse("pg1").unwrap(),
    }
}

/// The state at T0 (the first sync): m1 reads billing and owns the project, h1 administers it.
fn state_at_t0() -> Snapshot {
    Snapshot {
        orgs: vec![org("1"), org("2")],
        projects: vec![Project {
            id: billing(),
            org_id: org_id("1"),
            name: "Billing".to_owned(),
            state: ProjectState::Active,
            role_assertion: true,
            role_check: false,
            has_project_check: false,
            created_at: None,
            changed_at: None,
        }],
        project_roles: ["admin", "billing/reader"]
            .map(|key| ProjectRole {
                project_id: billing(),
                org_id: org_id("1"),
                key: RoleKey::parse(key).unwrap(),
                display_name: key.to_uppercase(),
                group: String::new(),
                created_at: None,
                changed_at: None,
            })
            .to_vec(),
        users: vec![human("h1", "h1@example"), machine("m1", "1", "deploys"), machine("m2", "1", "")],
        user_grants: vec![
            grant("g1", "m1", "1", &["billing/reader"], GrantState::Active),
            grant("g2", "h1", "1", &["admin"], GrantState::Active),
        ],
        memberships: vec![
            membership("m1", project_scope(), &["PROJECT_OWNER"]),
            membership("m1", project_grant_scope(), &["PROJECT_GRANT_OWNER"]),
            membership("m2", MembershipScope::Org(org_id("1")), &["ORG_USER_MANAGER"]),
        ],
        machine_keys: vec![key("k1", "m1", T0 - Duration::days(10), Some(T0 + Duration::days(100)))],
        personal_access_tokens: vec![PersonalAccessToken {
            id: PatId::parse("t1").unwrap(),
            user_id: user_id("m2"),
            org_id: org_id("1"),
            scopes: vec!["openid".to_owned(), "urn:zitadel:iam:org:project:id:zitadel:aud".to_owned()],
            created_at: Some(T0 - Duration::days(5)),
            expires_at: None,
        }],
        project_grants: vec![ProjectGrant {
            id: ProjectGrantId::parse("pg1").unwrap(),
            project_id: billing(),
            org_id: org_id("1"),
            granted_org_id: org_id("2"),
            role_keys: keys(&["billing/reader"]),
            state: GrantState::Active,
            created_at: None,
            changed_at: None,
        }],
        ..Snapshot::default()
    }
}

/// T1: m1 is promoted to admin and gets a second, short-lived key; m2 becomes admin; h1 loses admin.
fn state_at_t1() -> Snapshot {
    let mut state = state_at_t0();
    state.user_grants = vec![
        grant("g1", "m1", "1", &["admin", "billing/reader"], GrantState::Active),
        grant("g3", "m2", "1", &["admin"], GrantState::Active),
    ];
    state.machine_keys.push(key("k2", "m1", T1 - Duration::hours(1), Some(T1 + Duration::days(5))));
    state.memberships[0].roles.push("PROJECT_OWNER_VIEWER".to_owned());
    state.users[2] = machine("m2", "1", "billing exports");
    state
}

/// T2: m1 is removed with everything it held; m2 and its grant are deactivated; the project grant widens.
fn state_at_t2() -> Snapshot {
    let mut state = state_at_t1();
    state.users.retain(|user| user.id.as_str() != "m1");
    state.user_grants.retain(|grant| grant.user_id.as_str() != "m1");
    state.machine_keys.clear();
    state.memberships.retain(|membership| membership.user_id.as_str() != "m1");
    state.users[1].state = UserState::Inactive;
    state.user_grants[0].state = GrantState::Inactive;
    state.project_grants[0].role_keys = keys(&["admin", "billing/reader"]);
    state.users[0] = human("h1", "hanna@example");
    state
}

/// T3 (now): m3 of org 2 administers billing through the project grant and owns the instance; the project is renamed.
fn state_at_t3() -> Snapshot {
    let mut state = state_at_t2();
    state.users.push(machine("m3", "2", "partner sync"));
    state.user_grants.push(UserGrant {
        project_grant_id: Some(ProjectGrantId::parse("pg1").unwrap()),
        ..grant("g4", "m3", "2", &["admin"], GrantState::Active)
    });
    state.memberships.push(membership("m3", MembershipScope::Instance, &["IAM_OWNER"]));
    state.projects[0].name = "Billing v2".to_owned();
    state
}

/// The changes `reconcile` records from `before` to `after`, as the store keeps them.
fn record(before: &Snapshot, after: &Snapshot, observed_at: OffsetDateTime, run: i64) -> Vec<Change> {
    reconcile(before, after.clone(), &BTreeSet::new())
        .changes
        .into_iter()
        .map(|change| Change {
            environment: EnvironmentName::parse("prod").unwrap(),
            run_id: SyncRunId(run),
            observed_at,
            object_kind: change.object_kind,
            object_key: change.object_key,
            org_id: change.org_id,
            kind: change.kind,
            fields: change.fields,
            attribution: Attribution::Observed,
        })
        .collect()
}

/// Every recorded change, from the first sync (all additions) to now.
fn history_changes() -> Vec<Change> {
    let states = [Snapshot::default(), state_at_t0(), state_at_t1(), state_at_t2(), state_at_t3()];
    let times = [T0, T1, T2, T3];
    let mut changes = Vec::new();
    for (run, (pair, time)) in states.windows(2).zip(times).enumerate() {
        changes.extend(record(&pair[0], &pair[1], time, i64::try_from(run).unwrap() + 1));
    }
    changes
}

/// Times to ask about, and the state that was true then.
fn timeline() -> Vec<(OffsetDateTime, Snapshot)> {
    vec![
        (T0, state_at_t0()),
        (T0 + Duration::days(1), state_at_t0()),
        (T1 - Duration::seconds(1), state_at_t0()),
        (T1, state_at_t1()),
        (T1 + Duration::days(6), state_at_t1()),
        (T2, state_at_t2()),
        (T3 - Duration::seconds(1), state_at_t2()),
        (T3, state_at_t3()),
        (T3 + Duration::days(30), state_at_t3()),
    ]
}

/// The access-carrying kinds in key order, with lists sorted (as they are recorded) and no bookkeeping times.
fn comparable(snapshot: &Snapshot) -> Snapshot {
    fn sorted<T: Observed + Clone>(objects: &[T]) -> Vec<T> {
        let mut objects = objects.to_vec();
        objects.sort_by_key(Observed::key);
        objects
    }
    let mut state = Snapshot {
        orgs: sorted(&snapshot.orgs),
        projects: sorted(&snapshot.projects),
        project_roles: sorted(&snapshot.project_roles),
        users: sorted(&snapshot.users),
        machine_keys: sorted(&snapshot.machine_keys),
        personal_access_tokens: sorted(&snapshot.personal_access_tokens),
        user_grants: sorted(&snapshot.user_grants),
        memberships: sorted(&snapshot.memberships),
        project_grants: sorted(&snapshot.project_grants),
        ..Snapshot::default()
    };
    state.user_grants.iter_mut().for_each(|grant| grant.role_keys.sort());
    state.project_grants.iter_mut().for_each(|grant| grant.role_keys.sort());
    state.memberships.iter_mut().for_each(|membership| membership.roles.sort());
    state.personal_access_tokens.iter_mut().for_each(|token| token.scopes.sort());
    state
}

#[test]
fn rewinding_the_current_state_gives_each_earlier_state() {
    let current = state_at_t3();
    let changes = history_changes();
    let history = AccessHistory { current: &current, changes: &changes, baseline: T0 };
    for (at, expected) in timeline() {
        assert_eq!(comparable(&rewind(&history, at).unwrap()), comparable(&expected), "at {at}");
    }
    // The order the store hands changes over in does not matter.
    let mut reversed = changes.clone();
    reversed.reverse();
    let history = AccessHistory { changes: &reversed, ..history };
    assert_eq!(comparable(&rewind(&history, T0).unwrap()), comparable(&state_at_t0()));
}

#[test]
fn who_held_a_role_at_each_time_is_what_that_state_says() {
    let current = state_at_t3();
    let changes = history_changes();
    let history = AccessHistory { current: &current, changes: &changes, baseline: T0 };
    let admin = RoleKey::parse("admin").unwrap();
    for (at, state) in timeline() {
        for role in ["admin", "billing/reader", "none"] {
            let role = RoleKey::parse(role).unwrap();
            let expected = holders(&comparable(&state), &billing(), &role);
            assert_eq!(who_held_role(&history, &billing(), &role, at).unwrap(), expected, "{role} at {at}");
        }
    }
    let admins = |at| -> Vec<String> {
        who_held_role(&history, &billing(), &admin, at)
            .unwrap()
            .into_iter()
            .map(|holder| format!("{} via {}", holder.user_id, holder.user_grant_id))
            .collect()
    };
    assert_eq!(admins(T0 + Duration::hours(12)), ["h1 via g2"]);
    assert_eq!(admins(T1 + Duration::hours(12)), ["m1 via g1", "m2 via g3"]);
    assert!(admins(T2 + Duration::hours(12)).is_empty(), "m1 removed, m2's grant inactive");
    assert_eq!(admins(T3), ["m3 via g4"]);
    let holder = who_held_role(&history, &billing(), &admin, T1).unwrap().remove(0);
    let user = holder.user.unwrap();
    assert_eq!((user.username.as_str(), user.display_name()), ("m1", "m1 account"), "a removed user is restored");
}

#[test]
fn what_a_service_account_could_do_at_each_time_is_what_that_state_says() {
    let current = state_at_t3();
    let changes = history_changes();
    let history = AccessHistory { current: &current, changes: &changes, baseline: T0 };
    for (at, state) in timeline() {
        for user in ["m1", "m2", "m3", "h1"] {
            let expected = access_in(&comparable(&state), &user_id(user), at);
            assert_eq!(service_account_access_at(&history, &user_id(user), at), expected, "{user} at {at}");
        }
    }

    let m1 = service_account_access_at(&history, &user_id("m1"), T1 + Duration::hours(1)).unwrap();
    let grants: Vec<String> = m1
        .grants
        .iter()
        .map(|grant| {
            let keys: Vec<&str> = grant.role_keys.iter().map(RoleKey::as_str).collect();
            format!("{} {} [{}]", grant.user_grant_id, grant.project_name.as_deref().unwrap_or("?"), keys.join(","))
        })
        .collect();
    assert_eq!(grants, ["g1 Billing [admin,billing/reader]"]);
    let memberships: Vec<String> = m1
        .memberships
        .iter()
        .map(|membership| format!("{} {}", membership.scope.kind(), membership.roles.join(",")))
        .collect();
    assert_eq!(memberships, ["project PROJECT_OWNER,PROJECT_OWNER_VIEWER", "project_grant PROJECT_GRANT_OWNER"]);
    let credentials: Vec<&str> = m1.credentials.iter().map(|credential| credential.id.as_str()).collect();
    assert_eq!(credentials, ["k1", "k2"]);

    let later = service_account_access_at(&history, &user_id("m1"), T1 + Duration::days(6)).unwrap();
    let credentials: Vec<&str> = later.credentials.iter().map(|credential| credential.id.as_str()).collect();
    assert_eq!(credentials, ["k1"], "k2 had expired by then");

    let m2 = service_account_access_at(&history, &user_id("m2"), T2).unwrap();
    assert_eq!(m2.user.state, UserState::Inactive);
    assert!(m2.grants.is_empty(), "its only grant was inactive");
    assert_eq!(m2.credentials.len(), 1, "the PAT never expires");

    assert_eq!(
        service_account_access_at(&history, &user_id("m1"), T2),
        Err(AccessHistoryError::UnknownUser { user_id: user_id("m1"), at: T2 })
    );
}

#[test]
fn nothing_is_known_before_the_baseline() {
    let current = state_at_t3();
    let changes = history_changes();
    let history = AccessHistory { current: &current, changes: &changes, baseline: T0 };
    let before = T0 - Duration::seconds(1);
    let error = who_held_role(&history, &billing(), &RoleKey::parse("admin").unwrap(), before).unwrap_err();
    assert_eq!(error, AccessHistoryError::BeforeBaseline { at: before, baseline: T0 });
    assert!(error.to_string().starts_with("history starts at the baseline"), "{error}");
    assert!(service_account_access_at(&history, &user_id("m2"), before).is_err());
}

#[test]
fn a_history_that_does_not_fit_the_state_is_an_error_not_a_guess() {
    let current = state_at_t0();
    let modified_stranger = Change {
        environment: EnvironmentName::parse("prod").unwrap(),
        run_id: SyncRunId(9),
        observed_at: T1,
        object_kind: ResourceKind::UserGrant,
        object_key: "g-unknown".to_owned(),
        org_id: Some(org_id("1")),
        kind: ChangeKind::Modified,
        fields: vec![FieldChange { field: "state".to_owned(), before: Some("active".to_owned()), after: None }],
        attribution: Attribution::Observed,
    };
    let removed_without_fields = Change { kind: ChangeKind::Removed, fields: Vec::new(), ..modified_stranger.clone() };
    for change in [modified_stranger, removed_without_fields] {
        let changes = [change];
        let history = AccessHistory { current: &current, changes: &changes, baseline: T0 };
        let error = rewind(&history, T0).unwrap_err();
        assert!(matches!(error, AccessHistoryError::Unrewindable { .. }), "{error}");
    }
}

fn application(id: &str, settings: &[(&str, &str)]) -> Application {
    Application {
        id: ApplicationId::parse(id).unwrap(),
        project_id: billing(),
        org_id: org_id("1"),
        name: format!("App {id}"),
        state: ApplicationState::Active,
        kind: ApplicationKind::Oidc,
        client_id: Some(format!("{id}@billing")),
        auth_method: None,
        settings: settings.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect(),
        created_at: None,
        changed_at: None,
    }
}

fn provider(id: &str, owner: IdpOwner, state: IdpState) -> IdentityProvider {
    IdentityProvider {
        id: IdpId::parse(id).unwrap(),
        owner,
        name: format!("Provider {id}"),
        state,
        provider_type: ProviderType::Saml,
        config: [("binding".to_owned(), "post".to_owned()), ("metadata_url".to_owned(), "https://idp/m".to_owned())]
            .into(),
        created_at: None,
        changed_at: None,
    }
}

fn metadata(value: &str) -> UserMetadata {
    UserMetadata {
        user_id: user_id("h1"),
        org_id: org_id("1"),
        key: MetadataKey::parse("team/primary").unwrap(),
        value: value.as_bytes().to_vec(),
        created_at: None,
        changed_at: None,
    }
}

/// The scripted states with the kinds that carry no access as well: an application is reconfigured, then replaced;
/// an organization's provider is added, then deactivated, and the instance gets one; metadata changes, then goes.
fn everything_at(stage: usize) -> Snapshot {
    let mut state = [state_at_t0, state_at_t1, state_at_t2, state_at_t3][stage]();
    let redirect = ("redirect_uris", "https://a.example/cb,https://b.example/cb");
    let (applications, identity_providers, user_metadata) = match stage {
        0 => (vec![application("a1", &[redirect, ("dev_mode", "false")])], Vec::new(), vec![metadata("billing")]),
        1 => (
            vec![application("a1", &[redirect, ("dev_mode", "true")])],
            vec![provider("i1", IdpOwner::Org(org_id("1")), IdpState::Active)],
            vec![metadata("payments; ledger")],
        ),
        2 => (
            vec![Application { auth_method: Some("basic".to_owned()), ..application("a2", &[]) }],
            vec![provider("i1", IdpOwner::Org(org_id("1")), IdpState::Inactive)],
            Vec::new(),
        ),
        _ => (
            vec![Application { auth_method: Some("basic".to_owned()), ..application("a2", &[]) }],
            vec![
                provider("i1", IdpOwner::Org(org_id("1")), IdpState::Inactive),
                provider("i2", IdpOwner::Instance, IdpState::Active),
            ],
            Vec::new(),
        ),
    };
    state.applications = applications;
    state.identity_providers = identity_providers;
    state.user_metadata = user_metadata;
    state
}

#[test]
fn every_kind_rewinds_to_each_earlier_state() {
    let states: Vec<Snapshot> = (0..4).map(everything_at).collect();
    let mut changes = record(&Snapshot::default(), &states[0], T0, 1);
    for (run, (pair, time)) in states.windows(2).zip([T1, T2, T3]).enumerate() {
        changes.extend(record(&pair[0], &pair[1], time, i64::try_from(run).unwrap() + 2));
    }
    let history = AccessHistory { current: &states[3], changes: &changes, baseline: T0 };
    let comparable_everything = |snapshot: &Snapshot| {
        let mut everything = comparable(snapshot);
        for kind in [ResourceKind::Application, ResourceKind::IdentityProvider, ResourceKind::UserMetadata] {
            let mut batch = snapshot.clone().take(kind);
            batch.sort_by_key_descending();
            everything.extend(batch);
        }
        everything
    };
    let times = [(T0, 0), (T1 - Duration::seconds(1), 0), (T1, 1), (T2, 2), (T3 - Duration::seconds(1), 2), (T3, 3)];
    for (at, stage) in times {
        let then = rewind_kinds(&history, at, &ResourceKind::ALL).unwrap();
        assert_eq!(comparable_everything(&then), comparable_everything(&states[stage]), "at {at}");
    }
    let access_only = rewind(&history, T1).unwrap();
    assert!(access_only.applications.is_empty() && access_only.identity_providers.is_empty(), "not rewound");
    assert_eq!(comparable(&access_only), comparable(&state_at_t1()));
}
