//! The provider-health half of the store contract, on SQLite and PostgreSQL: probes round-trip with their checks,
//! certificates and key counts; the newest probes per target feed the status model; status changes are a history
//! whose last entry is the current status.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;
use warden::store::{Error, Store};
use warden_core::health::{
    Certificate, CertificateUse, Check, HealthPolicy, HealthStatus, KeySummary, ProbeResult, StatusChange, Target,
    TargetId, TargetKind, evaluate_all, status_change,
};
use warden_core::id::{EnvironmentName, IdpId, OrgId};
use warden_core::model::{IdpOwner, ProviderType};

use crate::fixtures;
use crate::support::contract_tests;

contract_tests!(
    probes_round_trip_and_the_newest_per_target_feed_the_status,
    probes_need_a_known_environment_and_go_with_it,
    probe_history_is_newest_first_and_old_probes_are_pruned,
    status_changes_are_a_history_whose_last_entry_is_current,
);

const T0: OffsetDateTime = datetime!(2026-11-01 12:00:00.123_456 UTC);

fn prod() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

fn zitadel() -> Target {
    Target { environment: prod(), name: "ZITADEL".to_owned(), kind: TargetKind::Zitadel }
}

fn provider(id: &str, provider_type: ProviderType, owner: IdpOwner) -> Target {
    Target {
        environment: prod(),
        name: format!("provider {id}"),
        kind: TargetKind::IdentityProvider { id: IdpId::parse(id).unwrap(), provider_type, owner },
    }
}

fn saml() -> Target {
    provider("300", ProviderType::Saml, IdpOwner::Org(OrgId::parse("100").unwrap()))
}

fn oidc() -> Target {
    provider("200", ProviderType::Oidc, IdpOwner::Instance)
}

fn probe(target: Target, minutes: i64, ok: bool) -> ProbeResult {
    ProbeResult {
        target,
        probed_at: T0 + time::Duration::minutes(minutes),
        checks: vec![
            Check::passed("discovery", "issuer matches").with_latency(Duration::from_millis(42)),
            if ok {
                Check::passed("jwks", "2 usable signing keys").with_latency(Duration::from_millis(7))
            } else {
                Check::failed("jwks", "no answer within 5000 ms \"quoted\" ünïcode")
            },
        ],
        certificates: Vec::new(),
        keys: ok.then_some(KeySummary { usable: 2, unusable: 0 }),
    }
}

fn with_certificate(mut probe: ProbeResult) -> ProbeResult {
    probe.keys = Some(KeySummary { usable: 1, unusable: 3 });
    probe.certificates = vec![
        Certificate {
            usage: CertificateUse::SamlSigning,
            source: "metadata".to_owned(),
            subject: "CN=idp.example.com, O=Example".to_owned(),
            fingerprint: "ab".repeat(32),
            not_before: datetime!(2026-01-01 0:00 UTC),
            not_after: datetime!(2026-11-11 0:00 UTC),
        },
        Certificate {
            usage: CertificateUse::Tls,
            source: "https://idp.example.com".to_owned(),
            subject: "CN=idp.example.com".to_owned(),
            fingerprint: "cd".repeat(32),
            not_before: datetime!(2026-01-01 0:00 UTC),
            not_after: datetime!(2027-01-01 0:00 UTC),
        },
    ];
    probe
}

async fn probes_round_trip_and_the_newest_per_target_feed_the_status(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    store.upsert_environment(&fixtures::environment("stage")).await.unwrap();
    let mut elsewhere = probe(zitadel(), 0, true);
    elsewhere.target.environment = EnvironmentName::parse("stage").unwrap();
    let probes = vec![
        probe(zitadel(), 0, true),
        probe(zitadel(), 5, true),
        probe(zitadel(), 10, true),
        probe(oidc(), 0, true),
        probe(oidc(), 5, false),
        probe(oidc(), 10, false),
        with_certificate(probe(saml(), 10, true)),
        elsewhere,
    ];
    store.record_probes(&probes).await.unwrap();
    store.record_probes(&[]).await.unwrap();

    let latest = store.latest_probes(&prod(), 2).await.unwrap();
    let order: Vec<(String, i64)> =
        latest.iter().map(|probe| (probe.target.id().to_string(), (probe.probed_at - T0).whole_minutes())).collect();
    assert_eq!(
        order,
        [
            ("zitadel".to_owned(), 10),
            ("zitadel".to_owned(), 5),
            ("200".to_owned(), 10),
            ("200".to_owned(), 5),
            ("300".to_owned(), 10)
        ],
        "per target newest first, at most two each, other environments left out"
    );
    assert_eq!(latest[2], probes[5], "every field round-trips");
    assert_eq!(latest[4], probes[6], "certificates and an organization owner round-trip");
    assert_eq!(latest[0], probes[2]);

    let healths = evaluate_all(&[zitadel(), oidc(), saml()], &latest, &HealthPolicy::default(), T0);
    let statuses: Vec<HealthStatus> = healths.iter().map(|health| health.status).collect();
    assert_eq!(statuses, [HealthStatus::Healthy, HealthStatus::Down, HealthStatus::Degraded]);
}

async fn probes_need_a_known_environment_and_go_with_it(store: Arc<dyn Store>) {
    let error = store.record_probes(&[probe(oidc(), 0, true)]).await.unwrap_err();
    assert!(matches!(error, Error::UnknownEnvironment(ref name) if name.as_str() == "prod"), "{error}");
    let change = StatusChange {
        target: oidc(),
        from: HealthStatus::Unknown,
        to: HealthStatus::Healthy,
        at: T0,
        reasons: Vec::new(),
    };
    let error = store.record_status_changes(std::slice::from_ref(&change)).await.unwrap_err();
    assert!(matches!(error, Error::UnknownEnvironment(_)), "{error}");

    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    store.record_probes(&[probe(oidc(), 0, true)]).await.unwrap();
    store.record_status_changes(&[change]).await.unwrap();
    assert!(store.delete_environment(&prod()).await.unwrap());
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    assert!(store.latest_probes(&prod(), 10).await.unwrap().is_empty(), "probes go with their environment");
    assert!(store.current_statuses(&prod()).await.unwrap().is_empty());
}

async fn probe_history_is_newest_first_and_old_probes_are_pruned(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let probes: Vec<ProbeResult> = (0..5).map(|minutes| probe(oidc(), minutes, minutes % 2 == 0)).collect();
    store.record_probes(&probes).await.unwrap();
    store.record_probes(&[probe(zitadel(), 0, true)]).await.unwrap();

    let history = store.probe_history(&oidc().key(), 3).await.unwrap();
    let minutes: Vec<i64> = history.iter().map(|probe| (probe.probed_at - T0).whole_minutes()).collect();
    assert_eq!(minutes, [4, 3, 2]);
    assert_eq!(store.probe_history(&zitadel().key(), 10).await.unwrap().len(), 1);

    let pruned = store.prune_probes(T0 + time::Duration::minutes(3)).await.unwrap();
    assert_eq!(pruned, 4, "three of the provider's and ZITADEL's one");
    let left = store.probe_history(&oidc().key(), 10).await.unwrap();
    assert_eq!(left.len(), 2);
}

async fn status_changes_are_a_history_whose_last_entry_is_current(store: Arc<dyn Store>) {
    store.upsert_environment(&fixtures::environment("prod")).await.unwrap();
    let healthy = evaluate_all(&[oidc()], &[probe(oidc(), 0, true)], &HealthPolicy::default(), T0);
    let first = status_change(None, &healthy[0], T0).unwrap();
    let down = evaluate_all(&[oidc()], &[probe(oidc(), 5, false)], &HealthPolicy::default(), T0);
    let second = status_change(Some(HealthStatus::Healthy), &down[0], T0 + time::Duration::minutes(5)).unwrap();
    let zitadel_up = StatusChange {
        target: zitadel(),
        from: HealthStatus::Unknown,
        to: HealthStatus::Healthy,
        at: T0,
        reasons: Vec::new(),
    };
    store.record_status_changes(&[first.clone(), zitadel_up.clone()]).await.unwrap();
    store.record_status_changes(std::slice::from_ref(&second)).await.unwrap();
    store.record_status_changes(&[]).await.unwrap();

    let current = store.current_statuses(&prod()).await.unwrap();
    assert_eq!(current.get(&oidc().key()), Some(&HealthStatus::Down));
    assert_eq!(current.get(&zitadel().key()), Some(&HealthStatus::Healthy));
    assert_eq!(current.len(), 2);

    let history = store.status_history(&prod(), None, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0], second, "newest first; the reasons round-trip");
    assert!(!second.reasons.is_empty());
    let of_oidc = store.status_history(&prod(), Some(&oidc().id()), 10).await.unwrap();
    assert_eq!(of_oidc, [second, first]);
    let of_zitadel = store.status_history(&prod(), Some(&TargetId::Zitadel), 1).await.unwrap();
    assert_eq!(of_zitadel, [zitadel_up]);
}
