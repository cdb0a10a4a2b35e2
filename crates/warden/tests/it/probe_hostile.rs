//! Hostile endpoints: a 10 MB body, an endless redirect chain and slowloris servers (HTTP and LDAP) each end within
//! the timeout and the caps; private addresses are refused without `allow_private` and never contacted (a listener
//! that counts connections sees none), while ZITADEL's own URL, warden's configuration, may be private.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use time::macros::datetime;
use tokio::io::AsyncWriteExt as _;
use warden::probe::{
    LdapConfiguration, ProbePlan, ProbeSettings, ProbeTarget, SamlConfiguration, probe_all, zitadel_target,
};
use warden_core::health::{ProbeResult, Target, TargetKind};
use warden_core::id::{EnvironmentName, IdpId};
use warden_core::model::{IdpOwner, ProviderType};

use crate::probe_servers::{respond, serve, serve_raw};

const NOW: time::OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

fn settings(allow_private: bool) -> ProbeSettings {
    ProbeSettings {
        request_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_millis(500),
        probe_timeout: Duration::from_secs(5),
        max_redirects: 3,
        max_response_bytes: 1024 * 1024,
        allow_private,
        ..ProbeSettings::default()
    }
}

fn target(id: &str, provider_type: ProviderType, plan: ProbePlan) -> ProbeTarget {
    ProbeTarget {
        target: Target {
            environment: EnvironmentName::parse("prod").unwrap(),
            name: format!("provider {id}"),
            kind: TargetKind::IdentityProvider {
                id: IdpId::parse(id).unwrap(),
                provider_type,
                owner: IdpOwner::Instance,
            },
        },
        plan,
    }
}

fn oidc(id: &str, issuer: String) -> ProbeTarget {
    target(id, ProviderType::Oidc, ProbePlan::Oidc { issuer })
}

/// Probes and returns the results with how long it took.
async fn probe(targets: Vec<ProbeTarget>, settings: &ProbeSettings) -> (Vec<ProbeResult>, Duration) {
    let started = Instant::now();
    let results = probe_all(targets, settings, NOW).await.unwrap();
    (results, started.elapsed())
}

fn detail(result: &ProbeResult, check: &str) -> String {
    let found = result.checks.iter().find(|candidate| candidate.name == check);
    let found = found.unwrap_or_else(|| panic!("no {check} check in {result:#?}"));
    assert!(!found.ok, "{check} must fail: {result:#?}");
    found.detail.clone()
}

#[tokio::test]
async fn a_ten_megabyte_body_is_abandoned_at_the_cap() {
    const TEN_MEGABYTES: usize = 10 * 1024 * 1024;
    let written = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&written);
    // One server says how long the body is; the other streams it in chunks without saying.
    let declared = serve(None, |_, stream| async move {
        respond(stream, "200 OK", "application/json", &vec![b' '; TEN_MEGABYTES]).await;
    })
    .await;
    let streamed = serve(None, move |_, mut stream| {
        let counted = Arc::clone(&counted);
        async move {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
            while counted.load(Ordering::SeqCst) < TEN_MEGABYTES {
                if stream.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                counted.fetch_add(64 * 1024, Ordering::SeqCst);
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
    })
    .await;
    let settings = settings(true);
    let targets = vec![oidc("1", declared.url("http", "")), oidc("2", streamed.url("http", ""))];
    let (results, elapsed) = probe(targets, &settings).await;
    for result in &results {
        let detail = detail(result, "discovery");
        assert!(detail.contains("larger than 1048576 bytes: abandoned"), "{detail}");
    }
    assert!(elapsed < settings.request_timeout * 3, "took {elapsed:?}");
    assert!(
        written.load(Ordering::SeqCst) < TEN_MEGABYTES,
        "the stream was abandoned before its end ({} bytes written)",
        written.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn an_endless_redirect_chain_stops_at_the_cap() {
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let server = serve(None, move |path, mut stream| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let hop: u64 = path.rsplit('/').next().and_then(|last| last.parse().ok()).unwrap_or(0);
            let head = format!("HTTP/1.1 302 Found\r\nLocation: /hop/{}\r\nContent-Length: 0\r\n\r\n", hop + 1);
            let _ = stream.write_all(head.as_bytes()).await;
        }
    })
    .await;
    let settings = settings(true);
    let (results, elapsed) = probe(vec![oidc("1", server.url("http", ""))], &settings).await;
    let detail = detail(&results[0], "discovery");
    assert!(detail.contains("more than 3 redirects"), "{detail}");
    assert_eq!(requests.load(Ordering::SeqCst), 4, "the first request and three redirects, no more");
    assert!(elapsed < settings.request_timeout * 3, "took {elapsed:?}");
}

#[tokio::test]
async fn slowloris_servers_are_cut_off_by_the_timeout() {
    // Headers a byte at a time; a body a byte at a time; an LDAP server that never answers StartTLS.
    let drip = |first: &'static str, then: &'static [u8]| {
        move |_, mut stream: crate::probe_servers::Stream| async move {
            let _ = stream.write_all(first.as_bytes()).await;
            for byte in then.iter().cycle().take(100_000) {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let headers = serve(None, drip("HTTP/1.1 200 OK\r\n", b"X-Padding: aaaaaaaa")).await;
    let body = serve(None, drip("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n", b"{}")).await;
    let ldap = serve_raw(None, |stream| async move {
        let _open = stream;
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    let settings = settings(true);
    let targets = vec![
        oidc("1", headers.url("http", "")),
        oidc("2", body.url("http", "")),
        target(
            "3",
            ProviderType::Ldap,
            ProbePlan::Ldap(LdapConfiguration { servers: vec![ldap.url("ldap", "")], start_tls: true, root_ca: None }),
        ),
    ];
    let (results, elapsed) = probe(targets, &settings).await;
    for result in &results[..2] {
        let detail = detail(result, "discovery");
        assert!(detail.contains("no answer within 1000 ms"), "{detail}");
    }
    let port = ldap.address.port();
    let detail = detail(&results[2], &format!("tls 127.0.0.1:{port}"));
    assert!(detail.contains("no TLS handshake within 1000 ms"), "{detail}");
    assert!(elapsed < settings.request_timeout * 3, "took {elapsed:?}");
}

#[tokio::test]
async fn private_addresses_are_refused_and_never_contacted() {
    let server = serve(None, |_, stream| async move {
        respond(stream, "200 OK", "application/json", b"{}").await;
    })
    .await;
    let port = server.address.port();
    let spellings = [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://2130706433:{port}"),
        format!("http://0x7f.0.0.1:{port}"),
    ];
    let mut targets: Vec<ProbeTarget> =
        spellings.iter().enumerate().map(|(index, url)| oidc(&format!("{}", index + 1), url.clone())).collect();
    targets.push(target(
        "10",
        ProviderType::Jwt,
        ProbePlan::Jwt { keys_endpoint: format!("{}/keys", spellings[0]), jwt_endpoint: spellings[1].clone() },
    ));
    targets.push(target(
        "11",
        ProviderType::Saml,
        ProbePlan::Saml(SamlConfiguration {
            metadata_xml: None,
            metadata_url: Some(format!("{}/metadata", spellings[1])),
            binding: None,
        }),
    ));
    targets.push(target(
        "12",
        ProviderType::Ldap,
        ProbePlan::Ldap(LdapConfiguration {
            servers: vec![format!("ldap://127.0.0.1:{port}"), format!("ldaps://localhost:{port}")],
            start_tls: false,
            root_ca: None,
        }),
    ));
    targets.push(target(
        "13",
        ProviderType::OAuth,
        ProbePlan::OAuth { endpoints: vec![("authorization endpoint".to_owned(), spellings[0].clone())] },
    ));
    let (results, _) = probe(targets.clone(), &settings(false)).await;
    for result in &results {
        assert!(!result.checks.is_empty());
        for check in &result.checks {
            assert!(!check.ok, "{check:?}");
            assert!(check.detail.contains("refused, not contacted"), "{check:?}");
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.connections(), 0, "nothing was contacted");

    // ZITADEL's own URL is warden's configuration: a private one is probed.
    let zitadel = zitadel_target(&EnvironmentName::parse("prod").unwrap(), &spellings[0], None);
    probe(vec![zitadel], &settings(false)).await;
    let contacted = server.connections();
    assert!(contacted > 0, "ZITADEL's own URL was contacted");

    // And with allow_private, so are the providers (the listener counts for real).
    probe(targets, &settings(true)).await;
    assert!(server.connections() > contacted + 10, "{} connections", server.connections());
}
