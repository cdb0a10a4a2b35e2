//! The SCIM half of the store contract: every case on SQLite and on PostgreSQL, through `Arc<dyn Store>` only.

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use warden::store::{
    Error, ScimCondition, ScimConnection, ScimConnectionId, ScimConnectionKind, ScimGroupMember, ScimQuery, ScimRecord,
    ScimRequestLogEntry, ScimSortKey, ScimTenant, Store, TokenHash,
};
use warden_core::id::{EnvironmentName, OrgId};

use crate::fixtures;
use crate::support::contract_tests;

contract_tests!(
    connections_are_created_found_by_token_rotated_and_disabled,
    users_round_trip_and_user_names_are_unique_per_tenant_ignoring_case,
    concurrent_creates_of_one_user_name_let_exactly_one_win,
    writes_check_the_expected_version,
    tenants_never_see_each_other,
    lists_filter_sort_and_page_stably,
    groups_keep_members_with_display_names_and_reject_strangers,
    requests_are_logged_per_connection,
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
        members: members.iter().map(|id| ScimGroupMember { user_id: (*id).to_owned(), display: None }).collect(),
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
    store.insert_scim_user(&bjensen).await.unwrap();
    assert_eq!(store.scim_user(&tenant("100"), "u1").await.unwrap(), Some(bjensen.clone()));
    assert_eq!(store.scim_user(&tenant("100"), "missing").await.unwrap(), None);

    let same_name = user("100", "u2", "bjensen@EXAMPLE.com", json!({}));
    assert!(matches!(store.insert_scim_user(&same_name).await, Err(Error::ScimUniqueness)));
    // Another tenant may use the name.
    store.insert_scim_user(&user("200", "u2", "bjensen@example.com", json!({}))).await.unwrap();

    let other = user("100", "u3", "other", json!({}));
    store.insert_scim_user(&other).await.unwrap();
    let mut renamed = other.clone();
    renamed.resource["userName"] = json!("BJENSEN@example.com");
    renamed.version = 2;
    assert!(matches!(store.update_scim_user(&renamed, 1).await, Err(Error::ScimUniqueness)));
    assert_eq!(store.scim_user(&tenant("100"), "u3").await.unwrap(), Some(other));
}

async fn concurrent_creates_of_one_user_name_let_exactly_one_win(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let first = user("100", "a", "race@example.com", json!({}));
    let second = user("100", "b", "Race@Example.com", json!({}));
    let (left, right) = tokio::join!(store.insert_scim_user(&first), store.insert_scim_user(&second));
    let outcomes = [left, right];
    assert_eq!(outcomes.iter().filter(|outcome| outcome.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().any(|outcome| matches!(outcome, Err(Error::ScimUniqueness))), "{outcomes:?}");
    let page = store.list_scim_users(&tenant("100"), &ScimQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
}

async fn writes_check_the_expected_version(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let original = user("100", "u1", "v", json!({"displayName": "One"}));
    store.insert_scim_user(&original).await.unwrap();
    let mut second = original.clone();
    second.resource["displayName"] = json!("Two");
    second.version = 2;
    second.last_modified = CREATED + time::Duration::minutes(1);
    store.update_scim_user(&second, 1).await.unwrap();
    // A writer that read version 1 loses.
    let mut stale = original.clone();
    stale.version = 2;
    assert!(matches!(store.update_scim_user(&stale, 1).await, Err(Error::ScimVersionMismatch)));
    assert_eq!(store.scim_user(&tenant("100"), "u1").await.unwrap(), Some(second));
    assert!(matches!(store.delete_scim_user(&tenant("100"), "u1", Some(1)).await, Err(Error::ScimVersionMismatch)));
    store.delete_scim_user(&tenant("100"), "u1", Some(2)).await.unwrap();
    assert!(matches!(store.delete_scim_user(&tenant("100"), "u1", None).await, Err(Error::ScimNotFound { .. })));
    let mut ghost = original;
    ghost.version = 5;
    assert!(matches!(store.update_scim_user(&ghost, 4).await, Err(Error::ScimNotFound { .. })));

    let team = group("100", "g1", "Team", &[]);
    store.insert_scim_group(&team).await.unwrap();
    let mut renamed = team.clone();
    renamed.resource["displayName"] = json!("Renamed");
    renamed.version = 2;
    assert!(matches!(store.update_scim_group(&renamed, 7).await, Err(Error::ScimVersionMismatch)));
    store.update_scim_group(&renamed, 1).await.unwrap();
    assert!(matches!(store.delete_scim_group(&tenant("100"), "g1", Some(1)).await, Err(Error::ScimVersionMismatch)));
    store.delete_scim_group(&tenant("100"), "g1", None).await.unwrap();
    assert_eq!(store.scim_group(&tenant("100"), "g1").await.unwrap(), None);
}

async fn tenants_never_see_each_other(store: Arc<dyn Store>) {
    prepare(&*store).await;
    let mine = user("100", "u1", "shared", json!({"externalId": "x"}));
    store.insert_scim_user(&mine).await.unwrap();
    store.insert_scim_group(&group("100", "g1", "Team", &["u1"])).await.unwrap();
    let theirs = tenant("200");
    assert_eq!(store.scim_user(&theirs, "u1").await.unwrap(), None);
    assert_eq!(store.scim_group(&theirs, "g1").await.unwrap(), None);
    assert_eq!(store.list_scim_users(&theirs, &ScimQuery::default()).await.unwrap().total, 0);
    assert_eq!(store.list_scim_groups(&theirs, &ScimQuery::default()).await.unwrap().total, 0);
    let mut hijack = mine.clone();
    hijack.tenant = theirs.clone();
    hijack.version = 2;
    assert!(matches!(store.update_scim_user(&hijack, 1).await, Err(Error::ScimNotFound { .. })));
    assert!(matches!(store.delete_scim_user(&theirs, "u1", None).await, Err(Error::ScimNotFound { .. })));
    assert!(matches!(store.delete_scim_group(&theirs, "g1", None).await, Err(Error::ScimNotFound { .. })));
    // A group of tenant 200 cannot take tenant 100's user as a member.
    let stranger = store.insert_scim_group(&group("200", "g2", "Theirs", &["u1"])).await;
    assert!(matches!(stranger, Err(Error::UnknownScimMember(ref id)) if id == "u1"), "{stranger:?}");
    assert_eq!(store.scim_user(&tenant("100"), "u1").await.unwrap(), Some(mine));
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
        store.insert_scim_user(&record).await.unwrap();
    }
    let list = |query: ScimQuery| {
        let store = store.clone();
        async move { store.list_scim_users(&tenant("100"), &query).await.unwrap() }
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
}

async fn groups_keep_members_with_display_names_and_reject_strangers(store: Arc<dyn Store>) {
    prepare(&*store).await;
    store.insert_scim_user(&user("100", "u1", "alice", json!({"displayName": "Alice A."}))).await.unwrap();
    store.insert_scim_user(&user("100", "u2", "bob", json!({}))).await.unwrap();
    let team = group("100", "g1", "Team", &["u2", "u1", "u1"]);
    store.insert_scim_group(&team).await.unwrap();
    let stored = store.scim_group(&tenant("100"), "g1").await.unwrap().unwrap();
    assert_eq!(
        stored.members,
        vec![
            ScimGroupMember { user_id: "u1".into(), display: Some("Alice A.".into()) },
            ScimGroupMember { user_id: "u2".into(), display: Some("bob".into()) },
        ]
    );
    let unknown = store.insert_scim_group(&group("100", "g2", "Bad", &["u1", "nobody"])).await;
    assert!(matches!(unknown, Err(Error::UnknownScimMember(ref id)) if id == "nobody"), "{unknown:?}");
    assert_eq!(store.scim_group(&tenant("100"), "g2").await.unwrap(), None, "nothing of a failed write is kept");

    let mut fewer = group("100", "g1", "Team", &["u2"]);
    fewer.version = 2;
    store.update_scim_group(&fewer, 1).await.unwrap();
    let failed = group("100", "g1", "Team", &["ghost"]);
    assert!(store.update_scim_group(&ScimRecord { version: 3, ..failed }, 2).await.is_err());
    let stored = store.scim_group(&tenant("100"), "g1").await.unwrap().unwrap();
    assert_eq!((stored.version, stored.members.len()), (2, 1), "a failed update changes nothing");

    // Deleting a user removes its memberships.
    store.delete_scim_user(&tenant("100"), "u2", None).await.unwrap();
    let listed = store
        .list_scim_groups(
            &tenant("100"),
            &ScimQuery { conditions: vec![ScimCondition::DisplayName("team".into())], ..ScimQuery::default() },
        )
        .await
        .unwrap();
    assert_eq!(listed.records.len(), 1);
    assert!(listed.records[0].members.is_empty());
    let by_user_name = ScimQuery { conditions: vec![ScimCondition::UserName("x".into())], ..ScimQuery::default() };
    assert_eq!(store.list_scim_groups(&tenant("100"), &by_user_name).await.unwrap().total, 0);
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
        store.insert_scim_request_log(&entry).await.unwrap();
    }
    let log = store.list_scim_request_log(&ScimConnectionId::new("c1"), 2).await.unwrap();
    assert_eq!(log.iter().map(|entry| entry.status).collect::<Vec<_>>(), vec![404, 201]);
    assert!(store.list_scim_request_log(&ScimConnectionId::new("c2"), 10).await.unwrap().is_empty());
}
