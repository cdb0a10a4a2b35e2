//! Table-driven tests of the status model: every threshold at, just below and just over its boundary.

use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;

use crate::health::{
    Certificate, CertificateUse, Check, HealthPolicy, HealthStatus, KeySummary, ProbeResult, Target, TargetId,
    TargetKind, evaluate, evaluate_all, status_change,
};
use crate::id::{EnvironmentName, IdpId};
use crate::model::{IdpOwner, ProviderType};

const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn target(id: &str) -> Target {
    Target {
        environment: EnvironmentName::parse("prod").unwrap(),
        name: format!("idp {id}"),
        kind: TargetKind::IdentityProvider {
            id: IdpId::parse(id).unwrap(),
            provider_type: ProviderType::Oidc,
            owner: IdpOwner::Instance,
        },
    }
}

/// One probe of provider `a`, `minutes` before NOW: `ok` or failed, with a latency in milliseconds.
#[derive(Clone, Copy)]
struct Row {
    minutes: i64,
    ok: bool,
    latency_ms: u64,
}

const fn ok(minutes: i64) -> Row {
    Row { minutes, ok: true, latency_ms: 50 }
}

const fn failed(minutes: i64) -> Row {
    Row { minutes, ok: false, latency_ms: 50 }
}

const fn slow(minutes: i64, latency_ms: u64) -> Row {
    Row { minutes, ok: true, latency_ms }
}

fn probe(row: Row) -> ProbeResult {
    let check =
        if row.ok { Check::passed("discovery", "ok") } else { Check::failed("discovery", "connection refused") };
    ProbeResult {
        target: target("a"),
        probed_at: NOW - time::Duration::minutes(row.minutes),
        checks: vec![check.with_latency(Duration::from_millis(row.latency_ms))],
        certificates: Vec::new(),
        keys: None,
    }
}

fn certificate(hours_left: i64) -> Certificate {
    Certificate {
        usage: CertificateUse::SamlSigning,
        source: "metadata".to_owned(),
        subject: format!("CN={hours_left}h"),
        fingerprint: "00".to_owned(),
        not_before: NOW - time::Duration::days(300),
        not_after: NOW + time::Duration::hours(hours_left),
    }
}

fn status_of(rows: &[Row]) -> HealthStatus {
    let history: Vec<ProbeResult> = rows.iter().copied().map(probe).collect();
    evaluate(&target("a"), &history, &HealthPolicy::default(), NOW).status
}

/// Ten probes, newest first, from a pattern of `o` (ok) and `x` (failed).
fn pattern(text: &str) -> Vec<Row> {
    text.chars()
        .enumerate()
        .map(|(index, mark)| if mark == 'x' { failed(index as i64) } else { ok(index as i64) })
        .collect()
}

#[test]
fn status_follows_the_failures_of_the_window() {
    use HealthStatus::{Degraded, Down, Healthy, Unknown};
    let cases: [(&str, Vec<Row>, HealthStatus); 12] = [
        ("never probed", vec![], Unknown),
        ("one success", vec![ok(0)], Healthy),
        ("the only probe failed: never answered", vec![failed(0)], Down),
        ("two probes, both failed (fewer than M)", vec![failed(0), failed(5)], Down),
        ("two failed after one success: not M yet, rate 2 of 3", vec![failed(0), failed(5), ok(10)], Degraded),
        ("the last 3 failed", pattern("xxxooooooo"), Down),
        ("the last 2 failed, then a success", pattern("xxoooooooo"), Healthy),
        ("exactly 20 % failed is not over 20 %", pattern("oxoxoooooo"), Healthy),
        ("30 % failed, intermittently", pattern("xoxoxooooo"), Degraded),
        ("failures older than the window do not count", pattern("ooooooooooxxxxx"), Healthy),
        ("recovered: the newest succeeded after M failures", pattern("oxxxoooooo"), Degraded),
        ("recovered and the failures left the window", pattern("ooooooooooxxx"), Healthy),
    ];
    for (name, rows, expected) in cases {
        assert_eq!(status_of(&rows), expected, "{name}");
    }
}

#[test]
fn latency_is_judged_by_the_median_of_successful_probes() {
    use HealthStatus::{Degraded, Healthy};
    let cases: [(&str, Vec<Row>, HealthStatus); 6] = [
        ("exactly the threshold", vec![slow(0, 2_000)], Healthy),
        ("a millisecond over", vec![slow(0, 2_001)], Degraded),
        ("one slow probe among fast ones", vec![slow(0, 9_000), ok(5), ok(10)], Healthy),
        ("most probes slow", vec![slow(0, 9_000), slow(5, 9_000), ok(10)], Degraded),
        ("even count: the upper median", vec![slow(0, 9_000), ok(5)], Degraded),
        (
            "a slow failure does not count as latency",
            vec![
                ok(0),
                ok(1),
                ok(2),
                ok(3),
                ok(4),
                ok(5),
                ok(6),
                ok(7),
                ok(8),
                Row { minutes: 9, ok: false, latency_ms: 60_000 },
            ],
            Healthy,
        ),
    ];
    for (name, rows, expected) in cases {
        assert_eq!(status_of(&rows), expected, "{name}");
    }
}

#[test]
fn certificates_of_the_newest_probe_that_saw_any_decide() {
    use HealthStatus::{Degraded, Healthy};
    let day = 24;
    let with = |hours: &[i64]| {
        let mut probe = probe(ok(0));
        probe.certificates = hours.iter().map(|hours| certificate(*hours)).collect();
        probe
    };
    let cases: [(&str, Vec<ProbeResult>, HealthStatus); 7] = [
        ("400 days left", vec![with(&[400 * day])], Healthy),
        ("exactly 30 days left", vec![with(&[30 * day])], Healthy),
        ("an hour under 30 days", vec![with(&[30 * day - 1])], Degraded),
        ("25 days left", vec![with(&[25 * day])], Degraded),
        ("expired", vec![with(&[-day])], Degraded),
        (
            "a rotation: the current one expires in 10 days, the next in 400",
            vec![with(&[10 * day, 400 * day])],
            Degraded,
        ),
        (
            "the newest probe saw none: the older one's count",
            vec![probe(ok(0)), {
                let mut older = with(&[10 * day]);
                older.probed_at -= time::Duration::minutes(5);
                older
            }],
            Degraded,
        ),
    ];
    for (name, history, expected) in cases {
        assert_eq!(evaluate(&target("a"), &history, &HealthPolicy::default(), NOW).status, expected, "{name}");
    }
    let health = evaluate(&target("a"), &[with(&[400 * day, 10 * day])], &HealthPolicy::default(), NOW);
    assert_eq!(health.certificate_expires_at(), Some(NOW + time::Duration::days(10)));
    assert_eq!(health.certificates.len(), 2, "both certificates of a rotation are kept, soonest first");
    assert_eq!(health.reasons, ["signing certificate CN=240h (metadata) expires on 2026-11-11 (in 10 days)"]);
}

#[test]
fn some_unusable_keys_degrade_and_none_usable_is_left_to_the_checks() {
    use HealthStatus::{Degraded, Healthy};
    let cases: [(&str, KeySummary, HealthStatus); 4] = [
        ("all usable", KeySummary { usable: 2, unusable: 0 }, Healthy),
        ("one of two unusable", KeySummary { usable: 1, unusable: 1 }, Degraded),
        ("all unusable: the JWKS check fails instead", KeySummary { usable: 0, unusable: 2 }, Healthy),
        ("no keys at all: the JWKS check fails instead", KeySummary { usable: 0, unusable: 0 }, Healthy),
    ];
    for (name, keys, expected) in cases {
        let mut probe = probe(ok(0));
        probe.keys = Some(keys);
        assert_eq!(evaluate(&target("a"), &[probe], &HealthPolicy::default(), NOW).status, expected, "{name}");
    }
}

#[test]
fn policy_thresholds_are_configuration() {
    let history: Vec<ProbeResult> = pattern("xoooo").into_iter().map(probe).collect();
    let strict = HealthPolicy { down_after: 1, ..HealthPolicy::default() };
    assert_eq!(evaluate(&target("a"), &history, &strict, NOW).status, HealthStatus::Down);
    let narrow = HealthPolicy { window: 1, ..HealthPolicy::default() };
    let history: Vec<ProbeResult> = pattern("oxx").into_iter().map(probe).collect();
    assert_eq!(evaluate(&target("a"), &history, &narrow, NOW).status, HealthStatus::Healthy);
    let tolerant = HealthPolicy { failure_rate_percent: 50, ..HealthPolicy::default() };
    let history: Vec<ProbeResult> = pattern("xoxoxooooo").into_iter().map(probe).collect();
    assert_eq!(evaluate(&target("a"), &history, &tolerant, NOW).status, HealthStatus::Healthy);
    let zero = HealthPolicy { window: 0, down_after: 0, ..HealthPolicy::default() };
    assert_eq!(evaluate(&target("a"), &history, &zero, NOW).status, HealthStatus::Down, "0 is read as 1");
}

#[test]
fn down_explains_itself_with_the_failed_checks() {
    let history: Vec<ProbeResult> = pattern("xxxo").into_iter().map(probe).collect();
    let health = evaluate(&target("a"), &history, &HealthPolicy::default(), NOW);
    assert_eq!(health.reasons, ["the last 3 probes failed", "discovery: connection refused"]);
    assert_eq!((health.probes, health.failures), (4, 3));
    assert_eq!(health.latest.as_ref().map(|probe| probe.probed_at), Some(NOW));
}

#[test]
fn evaluate_all_keeps_the_targets_order_and_ignores_other_targets() {
    let mut other = probe(failed(0));
    other.target = target("b");
    let history = vec![probe(ok(3)), other, probe(ok(0))];
    let zitadel = Target {
        environment: EnvironmentName::parse("prod").unwrap(),
        name: "ZITADEL".to_owned(),
        kind: TargetKind::Zitadel,
    };
    let healths = evaluate_all(&[zitadel.clone(), target("a"), target("b")], &history, &HealthPolicy::default(), NOW);
    let statuses: Vec<(String, HealthStatus)> =
        healths.iter().map(|health| (health.target.id().to_string(), health.status)).collect();
    assert_eq!(
        statuses,
        [
            ("zitadel".to_owned(), HealthStatus::Unknown),
            ("a".to_owned(), HealthStatus::Healthy),
            ("b".to_owned(), HealthStatus::Down)
        ]
    );
    assert_eq!(healths[1].probes, 2);
    assert_eq!(zitadel.id(), TargetId::Zitadel);
    assert_eq!(zitadel.type_name(), "zitadel");
    assert_eq!(target("a").type_name(), "oidc");
}

#[test]
fn transitions_are_changes_of_status_only() {
    let healthy = evaluate(&target("a"), &[probe(ok(0))], &HealthPolicy::default(), NOW);
    let down = evaluate(&target("a"), &[probe(failed(0))], &HealthPolicy::default(), NOW);
    type Transition = Option<(HealthStatus, HealthStatus)>;
    let cases: [(&str, Option<HealthStatus>, &_, Transition); 4] = [
        ("first evaluation", None, &healthy, Some((HealthStatus::Unknown, HealthStatus::Healthy))),
        ("unchanged", Some(HealthStatus::Healthy), &healthy, None),
        ("goes down", Some(HealthStatus::Healthy), &down, Some((HealthStatus::Healthy, HealthStatus::Down))),
        ("recovers", Some(HealthStatus::Down), &healthy, Some((HealthStatus::Down, HealthStatus::Healthy))),
    ];
    for (name, previous, current, expected) in cases {
        let change = status_change(previous, current, NOW);
        assert_eq!(change.as_ref().map(|change| (change.from, change.to)), expected, "{name}");
    }
    let change = status_change(Some(HealthStatus::Healthy), &down, NOW).unwrap();
    assert_eq!(change.reasons, down.reasons);
    assert_eq!(change.at, NOW);
}

#[test]
fn text_forms_round_trip() {
    for status in HealthStatus::ALL {
        assert_eq!(HealthStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(HealthStatus::parse("sick"), None);
    for usage in [CertificateUse::SamlSigning, CertificateUse::Tls] {
        assert_eq!(CertificateUse::parse(usage.as_str()), Some(usage));
    }
    let certificate = certificate(-1);
    assert!(!certificate.is_valid_at(NOW));
    assert_eq!(certificate.days_left(NOW), 0);
}
