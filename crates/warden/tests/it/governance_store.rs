//! The governance half of the store contract, on SQLite and PostgreSQL: findings' lifecycle, suppressions and the
//! audit log, alerts deduplicated and moved through their lifecycle, the notification outbox, trend points.

use std::sync::Arc;

use time::Duration;
use warden::store::{DeliveryAttempt, DeliveryStatus, Error, NewNotification, Store, WARDEN_OPERATOR};
use warden_core::governance::{AlertAction, AlertPlan, AlertStatus, Suppression, dedupe_key};
use warden_core::id::{EnvironmentName, OrgId};
use warden_core::model::ResourceKind;
use warden_core::posture::{Finding, Severity, Subject, SubjectKind};
use warden_core::trend::TrendPoint;

use crate::fixtures::{self, CHANGED};
use crate::support::contract_tests;

contract_tests!(
    findings_open_stay_resolve_and_come_back,
    suppressions_are_audited_and_lifted,
    alerts_are_deduplicated_and_follow_their_lifecycle,
    notifications_wait_in_an_outbox_with_their_attempts,
    trend_points_are_listed_oldest_first,
);

fn name(text: &str) -> EnvironmentName {
    EnvironmentName::parse(text).unwrap()
}

fn finding(rule: &'static str, subject: &str, severity: Severity) -> Finding {
    Finding {
        rule,
        severity,
        environment: name("prod"),
        subject: Subject {
            kind: SubjectKind::Object(ResourceKind::User),
            id: subject.to_owned(),
            name: format!("sa-{subject}"),
            org_id: Some(OrgId::parse("100").unwrap()),
        },
        message: format!("{rule} on {subject}"),
        evidence: vec![("key_ids".to_owned(), "k1, k2".to_owned())],
        remediation: warden_core::posture::rule(rule).unwrap().remediation,
    }
}

async fn prod(store: &dyn Store) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
}

async fn findings_open_stay_resolve_and_come_back(store: Arc<dyn Store>) {
    prod(&*store).await;
    let env = name("prod");
    let manager = finding("machine-user-manager-role", "1", Severity::High);
    let key = finding("key-without-expiry", "1", Severity::Medium);

    let first = store.record_findings(&env, &[manager.clone(), key.clone(), key.clone()], CHANGED).await.unwrap();
    assert_eq!(first.opened.len(), 2, "a finding listed twice opens once");
    let later = CHANGED + Duration::hours(1);
    let second = store.record_findings(&env, std::slice::from_ref(&manager), later).await.unwrap();
    assert!(second.opened.is_empty());
    assert_eq!(second.resolved.len(), 1);
    assert_eq!(second.resolved[0].finding, key);

    let open = store.list_findings(Some(&env), false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].first_seen, open[0].last_seen), (CHANGED, later), "first sighting kept, last moved on");
    assert_eq!(open[0].finding, manager, "evidence and remediation round-trip");
    let all = store.list_findings(None, true).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].resolved_at, Some(later));

    let again = CHANGED + Duration::hours(2);
    let third = store.record_findings(&env, &[manager, key.clone()], again).await.unwrap();
    assert_eq!(third.opened.len(), 1, "a resolved finding that comes back opens again");
    let back = store.list_findings(Some(&env), false).await.unwrap();
    let back = back.iter().find(|tracked| tracked.finding.rule == key.rule).unwrap();
    assert_eq!((back.first_seen, back.resolved_at), (again, None));
}

async fn suppressions_are_audited_and_lifted(store: Arc<dyn Store>) {
    prod(&*store).await;
    let suppression = Suppression {
        id: 0,
        environment: Some(name("prod")),
        rule: "key-without-expiry".to_owned(),
        subject_id: Some("1".to_owned()),
        reason: "vendor integration, rotation tracked in SEC-12".to_owned(),
        created_by: "ana".to_owned(),
        created_at: CHANGED,
        expires_at: Some(CHANGED + Duration::days(30)),
        lifted_by: None,
        lifted_at: None,
    };
    let stored = store.add_suppression(&suppression).await.unwrap();
    assert!(stored.id > 0);
    assert_eq!(store.list_suppressions().await.unwrap(), vec![stored.clone()]);
    let lifted = store.lift_suppression(stored.id, "bo", CHANGED + Duration::days(1)).await.unwrap();
    assert_eq!(lifted.lifted_by.as_deref(), Some("bo"));
    assert!(!lifted.is_active(CHANGED + Duration::days(2)));

    let audit = store.list_audit_events(10).await.unwrap();
    let actions: Vec<(&str, &str)> =
        audit.iter().map(|event| (event.operator.as_str(), event.action.as_str())).collect();
    assert_eq!(actions, [("bo", "suppression.lift"), ("ana", "suppression.add")]);
    assert_eq!(audit[1].details["reason"], "vendor integration, rotation tracked in SEC-12");

    let unknown = Suppression { environment: Some(name("nowhere")), ..suppression };
    assert!(matches!(store.add_suppression(&unknown).await.unwrap_err(), Error::UnknownEnvironment(_)));
    assert!(matches!(store.lift_suppression(999, "bo", CHANGED).await.unwrap_err(), Error::UnknownSuppression(999)));
}

async fn alerts_are_deduplicated_and_follow_their_lifecycle(store: Arc<dyn Store>) {
    prod(&*store).await;
    let env = name("prod");
    let manager = finding("machine-user-manager-role", "1", Severity::High);
    let plan = AlertPlan { open: vec![manager.clone()], resolve: Vec::new() };
    let (opened, _) = store.apply_alert_plan(&env, &plan, CHANGED).await.unwrap();
    assert_eq!(opened.len(), 1);
    let alert = &opened[0];
    assert_eq!((alert.status.clone(), alert.dedupe_key.clone()), (AlertStatus::Open, dedupe_key(&manager)));
    // Another replica planned the same alert: the active one is not opened twice.
    let (again, _) = store.apply_alert_plan(&env, &plan, CHANGED).await.unwrap();
    assert!(again.is_empty());

    let later = CHANGED + Duration::minutes(5);
    let acknowledged = store.act_on_alert(alert.id, &AlertAction::Acknowledge, "ana", later).await.unwrap();
    assert_eq!(acknowledged.status, AlertStatus::Acknowledged);
    store
        .act_on_alert(alert.id, &AlertAction::Note { text: "owner: team-billing".to_owned() }, "ana", later)
        .await
        .unwrap();
    let refused = store.act_on_alert(alert.id, &AlertAction::Acknowledge, "bo", later).await.unwrap_err();
    assert!(matches!(refused, Error::Refused(_)), "{refused}");

    let resolve = AlertPlan { open: Vec::new(), resolve: vec![(alert.id, "condition cleared".to_owned())] };
    let (_, resolved) = store.apply_alert_plan(&env, &resolve, later + Duration::hours(1)).await.unwrap();
    assert_eq!(resolved[0].status, AlertStatus::Resolved);
    assert_eq!(resolved[0].resolution.as_deref(), Some("condition cleared"));
    assert!(store.list_alerts(None).await.unwrap().is_empty(), "nothing active");
    assert_eq!(store.list_alerts(Some(&AlertStatus::Resolved)).await.unwrap().len(), 1);

    let history: Vec<(String, String, AlertStatus)> = store
        .alert_events(alert.id)
        .await
        .unwrap()
        .into_iter()
        .map(|event| (event.operator, event.action, event.to_status))
        .collect();
    let expected = [
        (WARDEN_OPERATOR, "opened", AlertStatus::Open),
        ("ana", "acknowledged", AlertStatus::Acknowledged),
        ("ana", "noted", AlertStatus::Acknowledged),
        (WARDEN_OPERATOR, "resolved", AlertStatus::Resolved),
    ]
    .map(|(operator, action, status)| (operator.to_owned(), action.to_owned(), status));
    assert_eq!(history, expected);

    // Resolved, the condition may open a new alert with the same key.
    let (reopened, _) = store.apply_alert_plan(&env, &plan, later + Duration::hours(2)).await.unwrap();
    assert_eq!(reopened.len(), 1);
    assert_ne!(reopened[0].id, alert.id);
    let audit = store.list_audit_events(10).await.unwrap();
    assert_eq!(audit.len(), 2, "operators' actions are audited: {audit:?}");
}

async fn notifications_wait_in_an_outbox_with_their_attempts(store: Arc<dyn Store>) {
    prod(&*store).await;
    let env = name("prod");
    let plan = AlertPlan { open: vec![finding("machine-user-manager-role", "1", Severity::High)], resolve: Vec::new() };
    let (opened, _) = store.apply_alert_plan(&env, &plan, CHANGED).await.unwrap();
    let notification = NewNotification {
        alert_id: opened[0].id,
        webhook: "secops".to_owned(),
        event: "opened".to_owned(),
        payload: "{}".to_owned(),
    };
    store.enqueue_notifications(&[notification], CHANGED).await.unwrap();
    let claim = |at: time::OffsetDateTime| at + Duration::minutes(5);
    let due = store.claim_due_notifications("replica-a", CHANGED, claim(CHANGED), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    // Claimed: another replica gets nothing until the claim runs out.
    assert!(store.claim_due_notifications("replica-b", CHANGED, claim(CHANGED), 10).await.unwrap().is_empty());
    let expired = CHANGED + Duration::minutes(5);
    let taken_over = store.claim_due_notifications("replica-b", expired, claim(expired), 10).await.unwrap();
    assert_eq!(taken_over.iter().map(|notification| notification.id).collect::<Vec<_>>(), vec![due[0].id]);
    let retry = DeliveryAttempt {
        status: DeliveryStatus::Pending,
        http_status: Some(503),
        error: Some("HTTP 503".to_owned()),
        next_attempt_at: CHANGED + Duration::seconds(30),
    };
    store.record_delivery(due[0].id, &retry, CHANGED).await.unwrap();
    let early = CHANGED + Duration::seconds(29);
    assert!(
        store.claim_due_notifications("replica-a", early, claim(early), 10).await.unwrap().is_empty(),
        "backing off"
    );
    let retried = CHANGED + Duration::seconds(30);
    let due = store.claim_due_notifications("replica-a", retried, claim(retried), 10).await.unwrap();
    assert_eq!((due[0].attempts, due[0].last_status), (1, Some(503)));
    let delivered = DeliveryAttempt {
        status: DeliveryStatus::Delivered,
        http_status: Some(200),
        error: None,
        next_attempt_at: CHANGED,
    };
    store.record_delivery(due[0].id, &delivered, CHANGED + Duration::seconds(31)).await.unwrap();
    let log = store.list_notifications(Some(opened[0].id)).await.unwrap();
    assert_eq!((log[0].status, log[0].attempts), (DeliveryStatus::Delivered, 2));
    assert_eq!(log[0].delivered_at, Some(CHANGED + Duration::seconds(31)));
    let later = CHANGED + Duration::days(1);
    assert!(store.claim_due_notifications("replica-a", later, claim(later), 10).await.unwrap().is_empty());
}

async fn trend_points_are_listed_oldest_first(store: Arc<dyn Store>) {
    prod(&*store).await;
    let env = name("prod");
    let point = |at, org: Option<&str>, machine_users| TrendPoint {
        at,
        environment: env.clone(),
        org_id: org.map(|org| OrgId::parse(org).unwrap()),
        machine_users,
        human_users: 10,
        user_grants: 4,
        findings: 2,
    };
    let first = store.start_sync_run(&env, CHANGED, None).await.unwrap();
    let second = store.start_sync_run(&env, CHANGED + Duration::days(1), None).await.unwrap();
    store.insert_trend_points(second.id, &[point(CHANGED + Duration::days(1), None, 12)]).await.unwrap();
    store.insert_trend_points(first.id, &[point(CHANGED, None, 10), point(CHANGED, Some("100"), 4)]).await.unwrap();
    let points = store.list_trend_points(&env, None).await.unwrap();
    assert_eq!(
        points,
        vec![point(CHANGED, None, 10), point(CHANGED, Some("100"), 4), point(CHANGED + Duration::days(1), None, 12)]
    );
    let recent = store.list_trend_points(&env, Some(CHANGED + Duration::hours(1))).await.unwrap();
    assert_eq!(recent.len(), 1);
}
