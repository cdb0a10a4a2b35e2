//! The SCIM half of the store contract: every case on SQLite and on PostgreSQL, through `Arc<dyn Store>` only.

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use warden::store::{
    Error, ScimCondition, ScimConnection, ScimConnectionActivity, ScimConnectionId, ScimConnectionKind,
    ScimGroupMember, ScimKind, ScimQuery, ScimRecord, ScimRequestLogEntry, ScimSortKey, ScimTenant, ScimUserGroup,
    Store, TokenHash, WriteEffects,
};
use warden_core::id::{EnvironmentName, OrgId};

use crate::fixtures;
use crate::support::contract_tests;

contract_tests!(
    connections_are_created_found_by_token_rotated_and_disabled,
    users_round_trip_and_user_names_are_unique_per_tenant_ignoring_case,
    concurrent_creates_of_one_user_name_let_exactly_one_win,
    many_concurrent_requests_all_get_a_connection,
    writes_check_the_expected_version,
    tenants_never_see_each_other,
    lists_filter_sort_and_page_stably,
    groups_keep_members_as_sent_and_users_list_their_groups,
    replacements_change_exactly_the_dependents_that_differ,
    requests_are_logged_per_connection,
    request_logs_tell_each_connections_activity_and_are_pruned_oldest_first,
    a_write_commits_its_request_log_row_or_neither,
);

const CREATED: OffsetDateTime = datetime!(2026-03-01 10:00:00 UTC);

fn tenant(org: &str) -> ScimTenant {
    ScimTenant { environment: EnvironmentName::parse("prod").unwrap(), org_id: OrgId::parse(org).unwrap() }
}

async fn prepare(store: &dyn Store) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
}

fn user(org: &str, id: &str, user_name: &str, extra: Value) -> ScimRecord {
    let mut resource =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": user_name});
    if let (Some(resource), Value::Object(extra)) = (resource.as_object_mut(), extra) {
        resource.extend(extra);
    }
    ScimRecord {
        tenant: tenant(org),
        id: id.to_owned(),
        resource,
        members: Vec::new(),
        groups: Vec::new(),
        version: 1,
        created: CREATED,
        last_modified: CREATED,
    }
}

fn group(org: &str, id: &str, display_name: &str, members: &[&str]) -> ScimRecord {
    ScimRecord {
        tenant: tenant(org),
        id: id.to_owned(),
        resource: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": id, "displayName": display_name}),
        members: members
            .iter()
            .map(|id| ScimGroupMember { value: (*id).to_owned(), display: None, member_type: None })
            .collect(),
        groups: Vec::new(),
        version: 1,
        created: CREATED,
        last_modified: CREATED,
    }
}

fn connection(id: &str, org: &str, hash: u8) -> ScimConnection {
    ScimConnection {
        id: ScimConnectionId::new(id),
        tenant: tenant(org),
        name: format!("okta {id}"),
        kind: ScimConnectionKind::Okta,
        token_hash: TokenHash([hash; 32]),
        previous_token_hash: None,
        previous_valid_until: None,
        disabled_at: None,
        created_at: CREATED,
        settings: warden::store::ConnectionSettings::without_provisioning(),
    }
}

fn ids(page: &warden::store::ScimPage) -> Vec<&str> {
    page.records.iter().map(|record| record.id.as_str()).collect()
}

async fn connections_are_created_found_by_token_rotated_and_disabled(store: Arc<dyn Store>) {
    prepare(&*store).await;
    store.create_scim_connection(&connection("c1", "100", 1)).await.unwrap();
    store.create_scim_connection(&connection("c2", "200", 2)).await.unwrap();
    let mut orphan = connection("c3", "100", 3);
    orphan.tenant.environment = EnvironmentName::parse("nowhere").unwrap();
    assert!(matches!(store.create_scim_connection(&orphan).await, Err(Error::UnknownEnvironment(_))));

    assert_eq!(
        store.list_scim_connections().await.unwrap(),
        vec![connection("c1", "100", 1), connection("c2", "200", 2)]
    );
    let found = store.scim_connection_by_token(&TokenHash([2; 32])).await.unwrap().unwrap();
    assert_eq!(found.id, ScimConnectionId::new("c2"));
    assert_eq!(store.scim_connection_by_token(&TokenHash([9; 32])).await.unwrap(), None);

    let until = CREATED + time::Duration::hours(24);
    assert!(
        store.rotate_scim_connection_token(&ScimConnectionId::new("c1"), &TokenHash([7; 32]), until).await.unwrap()
    );
    let rotated = store.scim_connection(&ScimConnectionId::new("c1")).await.unwrap().unwrap();
    assert_eq!(rotated.token_hash, TokenHash([7; 32]));
    assert_eq!((rotated.previous_token_hash, rotated.previous_valid_until), (Some(TokenHash([1; 32])), Some(until)));
    for hash in [1, 7] {
        let found = store.scim_connection_by_token(&TokenHash([hash; 32])).await.unwrap().unwrap();
        assert_eq!(found.id.as_str(), "c1");
    }
    assert!(
        !store.rotate_scim_connection_token(&ScimConnectionId::new("zz"), &TokenHash([8; 32]), until).await.unwrap()
    );

    assert!(store.disable_scim_connection(&ScimConnectionId::new("c2"), until).await.unwrap());
    let disabled = store.scim_connection(&ScimConnectionId::new("c2")).await.unwrap().unwrap();
    assert_eq!(disabled.disabled_at, Some(until));
    assert!(!store.disable_scim_connection(&ScimConnectionId::new("zz"), until).await.unwrap());
}

async fn users_round_trip_and_user_names_are_unique_per_tenant_ignoring_case(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let bjensen = user("100", "u1", "BJensen@example.com", json!({"externalId": "okta-1", "active": false}));
    store.insert_scim_record(ScimKind::User, &bjensen, &WriteEffects::NONE).await.unwrap();
    assert_eq!(store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap(), Some(bjensen.clone()));
    assert_eq!(store.scim_record(ScimKind::User, &tenant("100"), "missing").await.unwrap(), None);

    let same_name = user("100", "u2", "bjensen@EXAMPLE.com", json!({}));
    assert!(matches!(
        store.insert_scim_record(ScimKind::User, &same_name, &WriteEffects::NONE).await,
        Err(Error::ScimUniqueness)
    ));
    // Another tenant may use the name.
    store
        .insert_scim_record(ScimKind::User, &user("200", "u2", "bjensen@example.com", json!({})), &WriteEffects::NONE)
        .await
        .unwrap();

    let other = user("100", "u3", "other", json!({}));
    store.insert_scim_record(ScimKind::User, &other, &WriteEffects::NONE).await.unwrap();
    let mut renamed = other.clone();
    renamed.resource["userName"] = json!("BJENSEN@example.com");
    renamed.version = 2;
    assert!(matches!(
        store.update_scim_record(ScimKind::User, &renamed, &other, &WriteEffects::NONE).await,
        Err(Error::ScimUniqueness)
    ));
    assert_eq!(store.scim_record(ScimKind::User, &tenant("100"), "u3").await.unwrap(), Some(other));
}

async fn concurrent_creates_of_one_user_name_let_exactly_one_win(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let first = user("100", "a", "race@example.com", json!({}));
    let second = user("100", "b", "Race@Example.com", json!({}));
    let (left, right) = tokio::join!(
        store.insert_scim_record(ScimKind::User, &first, &WriteEffects::NONE),
        store.insert_scim_record(ScimKind::User, &second, &WriteEffects::NONE)
    );
    let outcomes = [left, right];
    assert_eq!(outcomes.iter().filter(|outcome| outcome.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().any(|outcome| matches!(outcome, Err(Error::ScimUniqueness))), "{outcomes:?}");
    let page = store.list_scim_records(ScimKind::User, &tenant("100"), &ScimQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
}

/// Far more concurrent SCIM statements than the connections kept for them (and than the pool): each waits its
/// turn, none fails or starves, and the rest of the store still gets connections meanwhile.
async fn many_concurrent_requests_all_get_a_connection(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let tasks: Vec<_> = (0..48)
        .map(|index| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("u{index}");
                store
                    .insert_scim_record(ScimKind::User, &user("100", &id, &id, json!({})), &WriteEffects::NONE)
                    .await
                    .unwrap();
                let query = ScimQuery { conditions: vec![ScimCondition::UserName(id.clone())], ..ScimQuery::default() };
                for _ in 0..5 {
                    let page = store.list_scim_records(ScimKind::User, &tenant("100"), &query).await.unwrap();
                    assert_eq!(ids(&page), vec![id.as_str()]);
                }
            })
        })
        .collect();
    assert!(!store.list_environments().await.unwrap().is_empty(), "the rest of the store is served meanwhile");
    for task in tasks {
        task.await.unwrap();
    }
    let all = store.list_scim_records(ScimKind::User, &tenant("100"), &ScimQuery::default()).await.unwrap();
    assert_eq!(all.total, 48);
}

async fn writes_check_the_expected_version(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let original = user("100", "u1", "v", json!({"displayName": "One"}));
    store.insert_scim_record(ScimKind::User, &original, &WriteEffects::NONE).await.unwrap();
    let mut second = original.clone();
    second.resource["displayName"] = json!("Two");
    second.version = 2;
    second.last_modified = CREATED + time::Duration::minutes(1);
    store.update_scim_record(ScimKind::User, &second, &original, &WriteEffects::NONE).await.unwrap();
    // A writer that read version 1 loses.
    let mut stale = original.clone();
    stale.version = 2;
    assert!(matches!(
        store.update_scim_record(ScimKind::User, &stale, &original, &WriteEffects::NONE).await,
        Err(Error::ScimVersionMismatch)
    ));
    assert_eq!(store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap(), Some(second));
    assert!(matches!(
        store.delete_scim_record(ScimKind::User, &tenant("100"), "u1", Some(1), &WriteEffects::NONE).await,
        Err(Error::ScimVersionMismatch)
    ));
    store.delete_scim_record(ScimKind::User, &tenant("100"), "u1", Some(2), &WriteEffects::NONE).await.unwrap();
    assert!(matches!(
        store.delete_scim_record(ScimKind::User, &tenant("100"), "u1", None, &WriteEffects::NONE).await,
        Err(Error::ScimNotFound { .. })
    ));
    let read_at_4 = ScimRecord { version: 4, ..original.clone() };
    let ghost = ScimRecord { version: 5, ..original };
    assert!(matches!(
        store.update_scim_record(ScimKind::User, &ghost, &read_at_4, &WriteEffects::NONE).await,
        Err(Error::ScimNotFound { .. })
    ));

    let team = group("100", "g1", "Team", &[]);
    store.insert_scim_record(ScimKind::Group, &team, &WriteEffects::NONE).await.unwrap();
    let mut renamed = team.clone();
    renamed.resource["displayName"] = json!("Renamed");
    renamed.version = 2;
    let read_at_7 = ScimRecord { version: 7, ..team.clone() };
    assert!(matches!(
        store.update_scim_record(ScimKind::Group, &renamed, &read_at_7, &WriteEffects::NONE).await,
        Err(Error::ScimVersionMismatch)
    ));
    store.update_scim_record(ScimKind::Group, &renamed, &team, &WriteEffects::NONE).await.unwrap();
    assert!(matches!(
        store.delete_scim_record(ScimKind::Group, &tenant("100"), "g1", Some(1), &WriteEffects::NONE).await,
        Err(Error::ScimVersionMismatch)
    ));
    store.delete_scim_record(ScimKind::Group, &tenant("100"), "g1", None, &WriteEffects::NONE).await.unwrap();
    assert_eq!(store.scim_record(ScimKind::Group, &tenant("100"), "g1").await.unwrap(), None);
}

async fn tenants_never_see_each_other(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let mine = user("100", "u1", "shared", json!({"externalId": "x"}));
    store.insert_scim_record(ScimKind::User, &mine, &WriteEffects::NONE).await.unwrap();
    store.insert_scim_record(ScimKind::Group, &group("100", "g1", "Team", &["u1"]), &WriteEffects::NONE).await.unwrap();
    let theirs = tenant("200");
    assert_eq!(store.scim_record(ScimKind::User, &theirs, "u1").await.unwrap(), None);
    assert_eq!(store.scim_record(ScimKind::Group, &theirs, "g1").await.unwrap(), None);
    assert_eq!(store.list_scim_records(ScimKind::User, &theirs, &ScimQuery::default()).await.unwrap().total, 0);
    assert_eq!(store.list_scim_records(ScimKind::Group, &theirs, &ScimQuery::default()).await.unwrap().total, 0);
    let read_as_theirs = ScimRecord { tenant: theirs.clone(), ..mine.clone() };
    let hijack = ScimRecord { version: 2, ..read_as_theirs.clone() };
    assert!(matches!(
        store.update_scim_record(ScimKind::User, &hijack, &read_as_theirs, &WriteEffects::NONE).await,
        Err(Error::ScimNotFound { .. })
    ));
    assert!(matches!(
        store.delete_scim_record(ScimKind::User, &theirs, "u1", None, &WriteEffects::NONE).await,
        Err(Error::ScimNotFound { .. })
    ));
    assert!(matches!(
        store.delete_scim_record(ScimKind::Group, &theirs, "g1", None, &WriteEffects::NONE).await,
        Err(Error::ScimNotFound { .. })
    ));
    // A group of tenant 200 naming tenant 100's user keeps the id as sent, but it resolves to nothing there: no
    // display or type from the other tenant, and the user's groups in its own tenant do not change.
    store
        .insert_scim_record(ScimKind::Group, &group("200", "g2", "Theirs", &["u1"]), &WriteEffects::NONE)
        .await
        .unwrap();
    let stranger = store.scim_record(ScimKind::Group, &theirs, "g2").await.unwrap().unwrap();
    assert_eq!(stranger.members, vec![ScimGroupMember { value: "u1".into(), display: None, member_type: None }]);
    let mine_now = store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap().unwrap();
    assert_eq!(mine_now.groups, vec![ScimUserGroup { group_id: "g1".into(), display: "Team".into() }]);
    assert_eq!(ScimRecord { groups: Vec::new(), ..mine_now }, mine);
}

async fn lists_filter_sort_and_page_stably(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let people = [
        (
            "u1",
            "carol",
            json!({"externalId": "e1", "displayName": "Carol", "emails": [{"value": "Carol@X.example", "primary": true}]}),
        ),
        (
            "u2",
            "alice",
            json!({"externalId": "e2", "emails": [{"value": "a@x.example"}, {"value": "Alice.Work@X.example", "type": "work"}]}),
        ),
        ("u3", "Bob", json!({"displayName": "bob"})),
    ];
    for (index, (id, name, extra)) in people.into_iter().enumerate() {
        let mut record = user("100", id, name, extra);
        record.created = CREATED + time::Duration::seconds(i64::try_from(index).unwrap());
        store.insert_scim_record(ScimKind::User, &record, &WriteEffects::NONE).await.unwrap();
    }
    let list = |query: ScimQuery| {
        let store = store.clone();
        async move { store.list_scim_records(ScimKind::User, &tenant("100"), &query).await.unwrap() }
    };
    let everyone = list(ScimQuery::default()).await;
    assert_eq!((everyone.total, ids(&everyone)), (3, vec!["u1", "u2", "u3"]));
    let by_condition =
        |condition: ScimCondition| list(ScimQuery { conditions: vec![condition], ..ScimQuery::default() });
    assert_eq!(ids(&by_condition(ScimCondition::UserName("BOB".into())).await), vec!["u3"]);
    assert_eq!(ids(&by_condition(ScimCondition::ExternalId("e2".into())).await), vec!["u2"]);
    assert!(by_condition(ScimCondition::ExternalId("E2".into())).await.records.is_empty(), "externalId is caseExact");
    assert_eq!(ids(&by_condition(ScimCondition::Email("alice.work@x.example".into())).await), vec!["u2"]);
    assert_eq!(ids(&by_condition(ScimCondition::Email("CAROL@x.example".into())).await), vec!["u1"]);
    assert_eq!(ids(&by_condition(ScimCondition::DisplayName("BOB".into())).await), vec!["u3"]);
    assert_eq!(ids(&by_condition(ScimCondition::Id("u2".into())).await), vec!["u2"]);
    let both = ScimQuery {
        conditions: vec![ScimCondition::UserName("alice".into()), ScimCondition::ExternalId("e1".into())],
        ..ScimQuery::default()
    };
    assert_eq!(list(both).await.total, 0);

    let sorted = list(ScimQuery { sort: ScimSortKey::UserName, ..ScimQuery::default() }).await;
    assert_eq!(ids(&sorted), vec!["u2", "u3", "u1"]);
    let descending = list(ScimQuery { sort: ScimSortKey::UserName, descending: true, ..ScimQuery::default() }).await;
    assert_eq!(ids(&descending), vec!["u1", "u3", "u2"]);
    // Missing values come last either way.
    let external = list(ScimQuery { sort: ScimSortKey::ExternalId, descending: true, ..ScimQuery::default() }).await;
    assert_eq!(ids(&external), vec!["u2", "u1", "u3"]);

    let page = list(ScimQuery { offset: 1, limit: Some(1), ..ScimQuery::default() }).await;
    assert_eq!((page.total, ids(&page)), (3, vec!["u2"]));
    let totals_only = list(ScimQuery { limit: Some(0), ..ScimQuery::default() }).await;
    assert_eq!((totals_only.total, totals_only.records.len()), (3, 0));
    let beyond = list(ScimQuery { offset: 10, limit: Some(5), ..ScimQuery::default() }).await;
    assert_eq!((beyond.total, beyond.records.len()), (3, 0));
    // A unique key (userName, id) matches one user at most: paged and counted like any other list.
    let bob = |offset, limit| ScimQuery {
        conditions: vec![ScimCondition::UserName("bob".into())],
        offset,
        limit,
        ..ScimQuery::default()
    };
    assert_eq!((list(bob(0, Some(5))).await.total, ids(&list(bob(0, Some(5))).await)), (1, vec!["u3"]));
    let past_bob = list(bob(1, Some(5))).await;
    assert_eq!((past_bob.total, past_bob.records.len()), (1, 0));
    let bob_counted = list(bob(0, Some(0))).await;
    assert_eq!((bob_counted.total, bob_counted.records.len()), (1, 0));
    let nobody = ScimQuery {
        conditions: vec![ScimCondition::Id("u3".into()), ScimCondition::ExternalId("e1".into())],
        ..ScimQuery::default()
    };
    assert_eq!(list(nobody).await.total, 0);
}

/// A replacement writes the dependent rows by their difference from the record it replaces; what is stored
/// afterwards is exactly the new record's, and rows left alone stay as they were sent.
async fn replacements_change_exactly_the_dependents_that_differ(store: Arc<dyn Store>) {
    prepare(&*store).await;
    for (id, name) in [("u1", "alice"), ("u2", "bob"), ("u3", "carol")] {
        store.insert_scim_record(ScimKind::User, &user("100", id, name, json!({})), &WriteEffects::NONE).await.unwrap();
    }
    let mut team = group("100", "g1", "Team", &["u1", "u2", "u3"]);
    team.members[0].display = Some("Al".into());
    store.insert_scim_record(ScimKind::Group, &team, &WriteEffects::NONE).await.unwrap();
    let read = store.scim_record(ScimKind::Group, &tenant("100"), "g1").await.unwrap().unwrap();
    // u1's display changes, u2 is sent back as it was read, u3 leaves, "nobody" arrives.
    let mut next = ScimRecord { version: 2, ..read.clone() };
    next.members.retain(|member| member.value != "u3");
    next.members[0].display = Some("Alice".into());
    next.members.push(ScimGroupMember { value: "nobody".into(), display: None, member_type: None });
    store.update_scim_record(ScimKind::Group, &next, &read, &WriteEffects::NONE).await.unwrap();
    let member = |value: &str, display: Option<&str>, member_type: Option<&str>| ScimGroupMember {
        value: value.into(),
        display: display.map(str::to_owned),
        member_type: member_type.map(str::to_owned),
    };
    let members = || async { store.scim_record(ScimKind::Group, &tenant("100"), "g1").await.unwrap().unwrap().members };
    assert_eq!(
        members().await,
        vec![
            member("nobody", None, None),
            member("u1", Some("Alice"), Some("User")),
            member("u2", Some("bob"), Some("User"))
        ]
    );
    // u2's row was not rewritten: its display still follows the user's name.
    let bob = store.scim_record(ScimKind::User, &tenant("100"), "u2").await.unwrap().unwrap();
    let mut renamed = ScimRecord { version: 2, groups: Vec::new(), ..bob.clone() };
    renamed.resource["displayName"] = json!("Bobby");
    store.update_scim_record(ScimKind::User, &renamed, &bob, &WriteEffects::NONE).await.unwrap();
    assert_eq!(members().await[2], member("u2", Some("Bobby"), Some("User")));
    // A rename reaches its members' `groups`.
    let read = store.scim_record(ScimKind::Group, &tenant("100"), "g1").await.unwrap().unwrap();
    let mut renamed = ScimRecord { version: 3, ..read.clone() };
    renamed.resource["displayName"] = json!("Team A");
    store.update_scim_record(ScimKind::Group, &renamed, &read, &WriteEffects::NONE).await.unwrap();
    let alice = store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap().unwrap();
    assert_eq!(alice.groups, vec![ScimUserGroup { group_id: "g1".into(), display: "Team A".into() }]);

    // A group too large for one statement's parameters (PostgreSQL then writes it as a transaction of statements).
    let values: Vec<String> = (0..11_000).map(|index| format!("m{index:05}")).collect();
    let crowd = group("100", "g2", "Crowd", &values.iter().map(String::as_str).collect::<Vec<_>>());
    store.insert_scim_record(ScimKind::Group, &crowd, &WriteEffects::NONE).await.unwrap();
    let read = store.scim_record(ScimKind::Group, &tenant("100"), "g2").await.unwrap().unwrap();
    assert_eq!(read.members.len(), 11_000);
    let mut next = ScimRecord { version: 2, ..read.clone() };
    next.members.remove(0);
    next.members.push(ScimGroupMember { value: "z-last".into(), display: Some("Last".into()), member_type: None });
    store.update_scim_record(ScimKind::Group, &next, &read, &WriteEffects::NONE).await.unwrap();
    let stored = store.scim_record(ScimKind::Group, &tenant("100"), "g2").await.unwrap().unwrap();
    assert_eq!((stored.version, stored.members.len()), (2, 11_000));
    assert_eq!((stored.members[0].value.as_str(), stored.members[10_999].value.as_str()), ("m00001", "z-last"));

    // A user's email index follows its addresses.
    let emails =
        |values: &[&str]| json!({"emails": values.iter().map(|value| json!({"value": value})).collect::<Vec<_>>()});
    let carol = user("100", "u4", "dave", emails(&["a@x.example", "B@x.example"]));
    store.insert_scim_record(ScimKind::User, &carol, &WriteEffects::NONE).await.unwrap();
    let mut moved = ScimRecord { version: 2, ..carol.clone() };
    moved.resource["emails"] = emails(&["b@X.example", "c@x.example"])["emails"].clone();
    store.update_scim_record(ScimKind::User, &moved, &carol, &WriteEffects::NONE).await.unwrap();
    for (address, found) in [("a@x.example", 0), ("b@x.example", 1), ("c@x.example", 1)] {
        let query = ScimQuery { conditions: vec![ScimCondition::Email(address.into())], ..ScimQuery::default() };
        let page = store.list_scim_records(ScimKind::User, &tenant("100"), &query).await.unwrap();
        assert_eq!(page.total, found, "{address}");
    }
}

async fn groups_keep_members_as_sent_and_users_list_their_groups(store: Arc<dyn Store>) {
    prepare(&*store).await;
    store
        .insert_scim_record(
            ScimKind::User,
            &user("100", "u1", "alice", json!({"displayName": "Alice A."})),
            &WriteEffects::NONE,
        )
        .await
        .unwrap();
    store.insert_scim_record(ScimKind::User, &user("100", "u2", "bob", json!({})), &WriteEffects::NONE).await.unwrap();
    let mut team = group("100", "g1", "Team", &["u2", "u1", "u1", "nobody"]);
    team.members[0].display = Some("Bobby".into());
    team.members[3].member_type = Some("Group".into());
    store.insert_scim_record(ScimKind::Group, &team, &WriteEffects::NONE).await.unwrap();
    let stored = store.scim_record(ScimKind::Group, &tenant("100"), "g1").await.unwrap().unwrap();
    // Once per value, ordered by value; display and type as sent, else the tenant's user's displayName (or userName)
    // and `User`.
    let member = |value: &str, display: Option<&str>, member_type: Option<&str>| ScimGroupMember {
        value: value.into(),
        display: display.map(str::to_owned),
        member_type: member_type.map(str::to_owned),
    };
    assert_eq!(
        stored.members,
        vec![
            member("nobody", None, Some("Group")),
            member("u1", Some("Alice A."), Some("User")),
            member("u2", Some("Bobby"), Some("User")),
        ]
    );
    store
        .insert_scim_record(ScimKind::Group, &group("100", "g0", "Admins", &["u1"]), &WriteEffects::NONE)
        .await
        .unwrap();

    // A user's groups: direct memberships, by displayName; on a single read and on every user of a page.
    let in_group = |id: &str, display: &str| ScimUserGroup { group_id: id.into(), display: display.into() };
    let alice = store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap().unwrap();
    assert_eq!(alice.groups, vec![in_group("g0", "Admins"), in_group("g1", "Team")]);
    let everyone = store.list_scim_records(ScimKind::User, &tenant("100"), &ScimQuery::default()).await.unwrap();
    let groups: Vec<usize> = everyone.records.iter().map(|user| user.groups.len()).collect();
    assert_eq!(groups, vec![2, 1]);

    let mut fewer = group("100", "g1", "Team", &["u2"]);
    fewer.version = 2;
    store.update_scim_record(ScimKind::Group, &fewer, &stored, &WriteEffects::NONE).await.unwrap();
    let stale = group("100", "g1", "Team", &["u1"]);
    let newer = ScimRecord { version: 3, ..stale.clone() };
    assert!(store.update_scim_record(ScimKind::Group, &newer, &stale, &WriteEffects::NONE).await.is_err());
    let stored = store.scim_record(ScimKind::Group, &tenant("100"), "g1").await.unwrap().unwrap();
    assert_eq!((stored.version, stored.members.len()), (2, 1), "a failed update changes nothing");
    let alice = store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap().unwrap();
    assert_eq!(alice.groups, vec![in_group("g0", "Admins")]);

    // Deleting a user removes its memberships.
    store.delete_scim_record(ScimKind::User, &tenant("100"), "u2", None, &WriteEffects::NONE).await.unwrap();
    let listed = store
        .list_scim_records(
            ScimKind::Group,
            &tenant("100"),
            &ScimQuery { conditions: vec![ScimCondition::DisplayName("team".into())], ..ScimQuery::default() },
        )
        .await
        .unwrap();
    assert_eq!(listed.records.len(), 1);
    assert!(listed.records[0].members.is_empty());
    let by_user_name = ScimQuery { conditions: vec![ScimCondition::UserName("x".into())], ..ScimQuery::default() };
    assert_eq!(store.list_scim_records(ScimKind::Group, &tenant("100"), &by_user_name).await.unwrap().total, 0);
}

async fn requests_are_logged_per_connection(store: Arc<dyn Store>) {
    prepare(&*store).await;
    store.create_scim_connection(&connection("c1", "100", 1)).await.unwrap();
    store.create_scim_connection(&connection("c2", "100", 2)).await.unwrap();
    for (index, status) in [200_u16, 201, 404].into_iter().enumerate() {
        let entry = ScimRequestLogEntry {
            connection_id: ScimConnectionId::new("c1"),
            at: CREATED + time::Duration::seconds(i64::try_from(index).unwrap()),
            method: "GET".into(),
            path: "/scim/v2/100/Users".into(),
            status,
            latency_ms: 3,
        };
        store.insert_scim_request_logs(&[entry]).await.unwrap();
    }
    let log = store.list_scim_request_log(&ScimConnectionId::new("c1"), 2).await.unwrap();
    assert_eq!(log.iter().map(|entry| entry.status).collect::<Vec<_>>(), vec![404, 201]);
    assert!(store.list_scim_request_log(&ScimConnectionId::new("c2"), 10).await.unwrap().is_empty());
}

fn logged(connection: &str, at: OffsetDateTime, status: u16) -> ScimRequestLogEntry {
    ScimRequestLogEntry {
        connection_id: ScimConnectionId::new(connection),
        at,
        method: "GET".into(),
        path: "/scim/v2/100/Users".into(),
        status,
        latency_ms: 2,
    }
}

async fn request_logs_tell_each_connections_activity_and_are_pruned_oldest_first(store: Arc<dyn Store>) {
    prepare(&*store).await;
    for (id, hash) in [("c1", 1), ("c2", 2), ("c3", 3)] {
        store.create_scim_connection(&connection(id, "100", hash)).await.unwrap();
    }
    let ago = |duration: time::Duration| CREATED - duration;
    let day = time::Duration::days(1);
    store
        .insert_scim_request_logs(&[
            logged("c1", ago(time::Duration::days(2)), 200),
            logged("c1", ago(time::Duration::hours(1)), 201),
            logged("c1", ago(time::Duration::minutes(30)), 409),
            logged("c1", ago(time::Duration::minutes(1)), 500),
            logged("c2", ago(time::Duration::days(3)), 200),
        ])
        .await
        .unwrap();
    let activity = |id: &str, last: Option<OffsetDateTime>, [requests, client_errors, server_errors]: [u64; 3]| {
        ScimConnectionActivity {
            connection_id: ScimConnectionId::new(id),
            last_request_at: last,
            requests,
            client_errors,
            server_errors,
        }
    };
    assert_eq!(
        store.scim_connection_activity(ago(day)).await.unwrap(),
        vec![
            activity("c1", Some(ago(time::Duration::minutes(1))), [3, 1, 1]),
            activity("c2", Some(ago(time::Duration::days(3))), [0, 0, 0]),
            activity("c3", None, [0, 0, 0]),
        ]
    );

    // Oldest first, at most `limit` a statement, and only what is older than `before`.
    assert_eq!(store.delete_scim_request_logs_before(ago(day), 1).await.unwrap(), 1);
    assert_eq!(store.scim_connection_activity(ago(day)).await.unwrap()[1], activity("c2", None, [0, 0, 0]));
    assert_eq!(store.delete_scim_request_logs_before(ago(day), 10).await.unwrap(), 1);
    assert_eq!(store.delete_scim_request_logs_before(ago(day), 10).await.unwrap(), 0);
    assert_eq!(store.list_scim_request_log(&ScimConnectionId::new("c1"), 10).await.unwrap().len(), 3);

    // Pruning goes on batch after batch until nothing older is left.
    let old: Vec<_> =
        (0..5_001).map(|second| logged("c3", ago(day + time::Duration::seconds(second + 1)), 200)).collect();
    store.insert_scim_request_logs(&old).await.unwrap();
    let cutoffs = warden::store::RetentionCutoffs {
        scim_request_log: ago(day),
        sync_runs: ago(day * 10_000),
        changes: None,
        audit_events: None,
        provider_probes: ago(day * 10_000),
    };
    assert_eq!(store.apply_retention(&cutoffs).await.unwrap().scim_request_log, 5_001);
    assert_eq!(store.scim_connection_activity(ago(day)).await.unwrap()[2], activity("c3", None, [0, 0, 0]));
    assert_eq!(store.list_scim_request_log(&ScimConnectionId::new("c1"), 10).await.unwrap().len(), 3);
}

/// The request log of a write is part of the write: both are committed, or neither.
async fn a_write_commits_its_request_log_row_or_neither(store: Arc<dyn Store>) {
    prepare(&*store).await;
    store.create_scim_connection(&connection("c1", "100", 1)).await.unwrap();
    let entry = |method: &str, status: u16| ScimRequestLogEntry {
        connection_id: ScimConnectionId::new("c1"),
        at: CREATED,
        method: method.into(),
        path: "/scim/v2/100/Users".into(),
        status,
        latency_ms: 1,
    };
    let logged = || async { store.list_scim_request_log(&ScimConnectionId::new("c1"), 100).await.unwrap() };
    let alice = user("100", "u1", "alice", json!({}));
    store.insert_scim_record(ScimKind::User, &alice, &WriteEffects::logged(&entry("POST", 201))).await.unwrap();
    assert_eq!(logged().await.iter().map(|e| (e.method.as_str(), e.status)).collect::<Vec<_>>(), vec![("POST", 201)]);

    // Failed writes (a taken userName, a stale version, a missing user) keep neither their change nor their row.
    let taken = user("100", "u2", "ALICE", json!({}));
    assert!(matches!(
        store.insert_scim_record(ScimKind::User, &taken, &WriteEffects::logged(&entry("POST", 201))).await,
        Err(Error::ScimUniqueness)
    ));
    let stale = ScimRecord { version: 3, ..user("100", "u1", "alice2", json!({})) };
    let read_at_2 = ScimRecord { version: 2, ..stale.clone() };
    let refused =
        store.update_scim_record(ScimKind::User, &stale, &read_at_2, &WriteEffects::logged(&entry("PUT", 200))).await;
    assert!(matches!(refused, Err(Error::ScimVersionMismatch)));
    let missing = store
        .delete_scim_record(ScimKind::User, &tenant("100"), "u9", None, &WriteEffects::logged(&entry("DELETE", 204)))
        .await;
    assert!(matches!(missing, Err(Error::ScimNotFound { .. })));
    assert_eq!(logged().await.len(), 1);
    assert_eq!(store.scim_record(ScimKind::User, &tenant("100"), "u1").await.unwrap(), Some(alice));
    assert_eq!(store.list_scim_records(ScimKind::User, &tenant("100"), &ScimQuery::default()).await.unwrap().total, 1);

    // A log row that cannot be written (its connection is gone) takes the data change down with it.
    let orphan = ScimRequestLogEntry { connection_id: ScimConnectionId::new("gone"), ..entry("POST", 201) };
    let bob = user("100", "u3", "bob", json!({}));
    assert!(store.insert_scim_record(ScimKind::User, &bob, &WriteEffects::logged(&orphan)).await.is_err());
    assert_eq!(
        store.scim_record(ScimKind::User, &tenant("100"), "u3").await.unwrap(),
        None,
        "the user was rolled back with its log row"
    );

    let team = group("100", "g1", "Team", &["u1"]);
    store.insert_scim_record(ScimKind::Group, &team, &WriteEffects::logged(&entry("POST", 201))).await.unwrap();
    let renamed = ScimRecord { version: 2, ..team.clone() };
    store
        .update_scim_record(ScimKind::Group, &renamed, &team, &WriteEffects::logged(&entry("PATCH", 200)))
        .await
        .unwrap();
    store
        .delete_scim_record(
            ScimKind::Group,
            &tenant("100"),
            "g1",
            Some(2),
            &WriteEffects::logged(&entry("DELETE", 204)),
        )
        .await
        .unwrap();
    store
        .delete_scim_record(ScimKind::User, &tenant("100"), "u1", Some(1), &WriteEffects::logged(&entry("DELETE", 204)))
        .await
        .unwrap();
    let methods: Vec<(String, u16)> = logged().await.into_iter().map(|e| (e.method, e.status)).collect();
    assert_eq!(methods.len(), 5);
    assert!(methods.iter().filter(|(method, _)| method == "DELETE").all(|(_, status)| *status == 204));
}
