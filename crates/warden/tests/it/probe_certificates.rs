//! Certificates made at test time (rcgen): SAML signing certificates valid for 10, 25 and 400 days give degraded,
//! degraded and healthy with the matching `idp-certificate-expiring` findings, and new metadata clears them; the TLS
//! certificates of HTTPS endpoints (a private CA trusted through `extra_root_certificates`) and of LDAP servers
//! (LDAPS and StartTLS) are recorded with their expiry, and an untrusted one fails the handshake yet is still read.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use warden::probe::{LdapConfiguration, ProbePlan, ProbeSettings, ProbeTarget, probe_all, targets_from};
use warden_core::health::{
    CertificateUse, HealthPolicy, HealthStatus, ProbeResult, ProviderHealth, Target, TargetKind, evaluate_all,
};
use warden_core::id::{EnvironmentName, IdpId};
use warden_core::model::{IdentityProvider, IdpOwner, IdpState, ProviderType};
use warden_core::posture::{Policy, Severity, idp_certificate_expiring};

use crate::probe_servers::{TestAuthority, discovery, jwks, respond_json, serve, serve_raw, signing_certificate};

const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

/// TLS peers are verified against the real clock, so certificates served over TLS are made around it.
#[allow(clippy::disallowed_methods, reason = "TLS verification reads the real clock")]
fn real_now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn environment() -> EnvironmentName {
    EnvironmentName::parse("prod").unwrap()
}

fn settings(authority: Option<&TestAuthority>) -> ProbeSettings {
    ProbeSettings {
        request_timeout: Duration::from_secs(3),
        allow_private: true,
        extra_root_certificates: authority.map(|authority| vec![authority.certificate_der.clone()]).unwrap_or_default(),
        ..ProbeSettings::default()
    }
}

/// IdP metadata with these signing certificates (DER).
fn metadata(entity_id: &str, certificates: &[Vec<u8>]) -> String {
    let keys: String = certificates
        .iter()
        .map(|der| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}\
                 </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                STANDARD.encode(der)
            )
        })
        .collect();
    format!(
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
         xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{entity_id}\"><md:IDPSSODescriptor>{keys}\
         <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
         Location=\"https://idp.example.com/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>"
    )
}

fn saml_provider(id: &str, xml: &str) -> IdentityProvider {
    IdentityProvider {
        id: IdpId::parse(id).unwrap(),
        owner: IdpOwner::Instance,
        name: format!("saml {id}"),
        state: IdpState::Active,
        provider_type: ProviderType::Saml,
        config: BTreeMap::from([
            ("saml.metadataXml".to_owned(), xml.to_owned()),
            ("saml.binding".to_owned(), "SAML_BINDING_POST".to_owned()),
        ]),
        created_at: None,
        changed_at: None,
    }
}

fn evaluate(results: &[ProbeResult], at: OffsetDateTime) -> Vec<ProviderHealth> {
    let targets: Vec<Target> = results.iter().map(|result| result.target.clone()).collect();
    evaluate_all(&targets, results, &HealthPolicy::default(), at)
}

fn expiring(health: &[ProviderHealth], now: OffsetDateTime) -> Vec<(String, Severity)> {
    idp_certificate_expiring(&environment(), health, &Policy::default(), now)
        .into_iter()
        .map(|finding| (finding.subject.id, finding.severity))
        .collect()
}

#[tokio::test]
async fn saml_certificates_valid_for_10_25_and_400_days() {
    let providers: Vec<IdentityProvider> = [("10", 10), ("25", 25), ("400", 400)]
        .iter()
        .map(|(id, days)| {
            saml_provider(
                id,
                &metadata(&format!("https://idp-{id}.example.com"), &[signing_certificate(id, NOW, *days)]),
            )
        })
        .collect();
    let results = probe_all(targets_from(&environment(), &providers), &settings(None), NOW).await.unwrap();
    for result in &results {
        let checks: Vec<(&str, bool)> = result.checks.iter().map(|check| (check.name.as_str(), check.ok)).collect();
        assert_eq!(
            checks,
            [("metadata", true), ("entity id", true), ("sso endpoint", true), ("signing certificates", true)],
            "{result:#?}"
        );
        assert_eq!(result.certificates[0].usage, CertificateUse::SamlSigning);
    }
    let health = evaluate(&results, NOW);
    let statuses: Vec<HealthStatus> = health.iter().map(|health| health.status).collect();
    assert_eq!(statuses, [HealthStatus::Degraded, HealthStatus::Degraded, HealthStatus::Healthy]);
    assert_eq!(expiring(&health, NOW), [("10".to_owned(), Severity::High), ("25".to_owned(), Severity::Medium)]);
    assert!(results[0].checks[3].detail.contains("CN=10 valid until 2026-11-11"), "{:?}", results[0]);

    // The provider's owner sends new metadata (the next certificate, then only the next): a rotation shows both,
    // and once the old one is gone the provider is healthy and the finding clears.
    let next = signing_certificate("10-next", NOW, 400);
    let current = signing_certificate("10", NOW, 10);
    let rotating = saml_provider("10", &metadata("https://idp-10.example.com", &[current, next.clone()]));
    let later = NOW + time::Duration::minutes(5);
    let mut rotated = probe_all(targets_from(&environment(), &[rotating]), &settings(None), later).await.unwrap();
    assert_eq!(rotated[0].certificates.len(), 2, "during a rotation both certificates are shown");
    let done = saml_provider("10", &metadata("https://idp-10.example.com", &[next]));
    let later = later + time::Duration::minutes(5);
    rotated.extend(probe_all(targets_from(&environment(), &[done]), &settings(None), later).await.unwrap());
    let health = evaluate(&rotated, later);
    assert_eq!(health[0].status, HealthStatus::Healthy);
    assert!(expiring(&health[..1], later).is_empty());

    // An expired certificate alone fails the check.
    let expired = saml_provider("9", &metadata("https://idp-9.example.com", &[signing_certificate("9", NOW, -1)]));
    let results = probe_all(targets_from(&environment(), &[expired]), &settings(None), NOW).await.unwrap();
    let check = results[0].checks.iter().find(|check| check.name == "signing certificates").unwrap();
    assert!(!check.ok && check.detail.contains("expired on"), "{check:?}");
}

#[tokio::test]
async fn https_endpoints_report_their_tls_certificate() {
    let now = real_now();
    let authority = TestAuthority::new();
    let leaf = authority.leaf("idp.test", now, 20);
    // The discovery document names the server's own address, known once it listens.
    let known = Arc::new(OnceLock::<String>::new());
    let named = Arc::clone(&known);
    let server = serve(Some(leaf.server_config()), move |path, stream| {
        let issuer = named.get().cloned().unwrap_or_default();
        async move {
            if path.ends_with("/keys") {
                respond_json(stream, &jwks()).await;
            } else {
                respond_json(stream, &discovery(&issuer)).await;
            }
        }
    })
    .await;
    let issuer = server.url("https", "");
    known.set(issuer.clone()).unwrap();
    let target = ProbeTarget {
        target: Target {
            environment: environment(),
            name: "tls".to_owned(),
            kind: TargetKind::IdentityProvider {
                id: IdpId::parse("1").unwrap(),
                provider_type: ProviderType::Oidc,
                owner: IdpOwner::Instance,
            },
        },
        plan: ProbePlan::Oidc { issuer: issuer.clone() },
    };
    let results = probe_all(vec![target.clone()], &settings(Some(&authority)), now).await.unwrap();
    assert!(results[0].succeeded(), "{:#?}", results[0]);
    assert_eq!(results[0].certificates.len(), 1, "one certificate, seen by discovery and JWKS");
    let certificate = &results[0].certificates[0];
    assert_eq!(certificate.usage, CertificateUse::Tls);
    assert_eq!(certificate.source, issuer);
    assert_eq!(certificate.subject, "CN=idp.test");
    let health = evaluate(&results, now);
    assert_eq!(health[0].status, HealthStatus::Degraded, "{:?}", health[0].reasons);
    assert_eq!(expiring(&health, now), [("1".to_owned(), Severity::Medium)]);

    // Without the private CA the handshake fails, and says why.
    let results = probe_all(vec![target], &settings(None), now).await.unwrap();
    let discovery = &results[0].checks[0];
    assert!(!discovery.ok && discovery.detail.to_lowercase().contains("certificate"), "{discovery:?}");
}

#[tokio::test]
async fn ldap_servers_over_tls_and_start_tls_report_their_certificate() {
    let now = real_now();
    let authority = TestAuthority::new();
    let ldaps_leaf = authority.leaf("ldaps.test", now, 25);
    let ldaps = serve_raw(Some(ldaps_leaf.server_config()), |stream| async move {
        let _open = stream;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    // StartTLS: the request, the server's "success", then the handshake on the same connection.
    let start_tls_leaf = authority.leaf("starttls.test", now, 400);
    let acceptor = tokio_rustls::TlsAcceptor::from(start_tls_leaf.server_config());
    let start_tls = serve_raw(None, move |mut stream| {
        let acceptor = acceptor.clone();
        async move {
            let mut request = [0_u8; 31];
            if stream.read_exact(&mut request).await.is_err() {
                return;
            }
            let success = b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";
            if stream.write_all(success).await.is_err() {
                return;
            }
            if let Ok(tls) = acceptor.accept(stream).await {
                let _open = tls;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    })
    .await;
    let refusing = serve_raw(None, |mut stream| async move {
        let mut request = [0_u8; 31];
        let _ = stream.read_exact(&mut request).await;
        let _ = stream.write_all(b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x02\x04\x00\x04\x00").await;
    })
    .await;
    let untrusted_leaf = TestAuthority::new().leaf("untrusted.test", now, 100);
    let untrusted = serve_raw(Some(untrusted_leaf.server_config()), |stream| async move {
        let _open = stream;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let ldap = |id: &str, servers: Vec<String>, start_tls: bool| ProbeTarget {
        target: Target {
            environment: environment(),
            name: format!("ldap {id}"),
            kind: TargetKind::IdentityProvider {
                id: IdpId::parse(id).unwrap(),
                provider_type: ProviderType::Ldap,
                owner: IdpOwner::Instance,
            },
        },
        plan: ProbePlan::Ldap(LdapConfiguration { servers, start_tls, root_ca: None }),
    };
    let targets = vec![
        ldap("1", vec![ldaps.url("ldaps", "")], false),
        ldap("2", vec![start_tls.url("ldap", "")], true),
        ldap("3", vec![refusing.url("ldap", "")], true),
        ldap("4", vec![untrusted.url("ldaps", "")], false),
    ];
    let results = probe_all(targets, &settings(Some(&authority)), now).await.unwrap();
    let summary: Vec<Vec<(String, bool)>> = results
        .iter()
        .map(|result| {
            result.checks.iter().map(|check| (check.name.split(' ').next().unwrap().to_owned(), check.ok)).collect()
        })
        .collect();
    let pair = |name: &str, ok: bool| (name.to_owned(), ok);
    assert_eq!(
        summary,
        [
            vec![pair("tcp", true), pair("tls", true)],
            vec![pair("tcp", true), pair("tls", true)],
            vec![pair("tcp", true), pair("tls", false)],
            vec![pair("tcp", true), pair("tls", false)],
        ],
        "{results:#?}"
    );
    assert_eq!(results[0].certificates[0].subject, "CN=ldaps.test");
    assert_eq!(results[0].certificates[0].days_left(now.replace_nanosecond(0).unwrap()), 25, "to the second");
    assert_eq!(results[1].certificates[0].subject, "CN=starttls.test");
    assert!(results[2].checks[1].detail.contains("refused StartTLS (result code 2)"), "{:?}", results[2].checks);
    assert_eq!(results[3].certificates[0].subject, "CN=untrusted.test", "read although not trusted");
    let health = evaluate(&results, now);
    let statuses: Vec<HealthStatus> = health.iter().map(|health| health.status).collect();
    assert_eq!(statuses, [HealthStatus::Degraded, HealthStatus::Healthy, HealthStatus::Down, HealthStatus::Down]);
}
