//! Identity-provider rules: `idp-unreachable` (from OIDC probes) and `idp-certificate-expiring` (from SAML signing
//! certificates). The probes themselves are I/O and live in the binary; these rules only judge their outcomes.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::id::{EnvironmentName, IdpId};
use crate::model::{IdpOwner, ResourceKind};
use crate::posture::{Finding, Policy, Rule, Severity, Subject, date_text};

pub const IDP_UNREACHABLE: Rule = Rule {
    id: "idp-unreachable",
    severity: Severity::High,
    remediation: "Check the provider's issuer URL and that its discovery document and JWKS are served (and valid) \
                  from where ZITADEL runs; until they are, nobody can log in through this provider.",
};

/// High below `certificate_expiring_high_days`, medium below `certificate_expiring_medium_days`.
pub const IDP_CERTIFICATE_EXPIRING: Rule = Rule {
    id: "idp-certificate-expiring",
    severity: Severity::High,
    remediation: "Ask the provider's owner for the new signing certificate (or new metadata) and update the provider \
                  in ZITADEL before the old certificate expires; logins through it fail from that moment.",
};

/// The outcome of probing one OIDC provider: its discovery document and its JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProviderProbe {
    pub idp_id: IdpId,
    pub name: String,
    pub owner: IdpOwner,
    pub probed_at: OffsetDateTime,
    /// `.well-known/openid-configuration` was fetched and is valid.
    pub discovery_ok: bool,
    /// The `jwks_uri` was fetched and holds at least one usable key.
    pub jwks_ok: bool,
    /// What went wrong, as the probe reports it.
    pub error: Option<String>,
}

/// One signing certificate of a SAML provider, read from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSigningCertificate {
    pub idp_id: IdpId,
    pub name: String,
    pub owner: IdpOwner,
    /// How to recognise the certificate (its subject or fingerprint), for the evidence.
    pub certificate: String,
    pub not_after: OffsetDateTime,
}

fn subject(idp_id: &IdpId, name: &str, owner: &IdpOwner) -> Subject {
    Subject {
        kind: ResourceKind::IdentityProvider.into(),
        id: idp_id.to_string(),
        name: name.to_owned(),
        org_id: match owner {
            IdpOwner::Instance => None,
            IdpOwner::Org(org_id) => Some(org_id.clone()),
        },
    }
}

/// OIDC providers whose latest probe (per provider, by `probed_at`) could not fetch or validate the discovery
/// document or the JWKS.
pub fn idp_unreachable(environment: &EnvironmentName, probes: &[OidcProviderProbe]) -> Vec<Finding> {
    let mut latest: BTreeMap<&IdpId, &OidcProviderProbe> = BTreeMap::new();
    for probe in probes {
        match latest.get(&probe.idp_id) {
            Some(kept) if kept.probed_at > probe.probed_at => {}
            _ => {
                latest.insert(&probe.idp_id, probe);
            }
        }
    }
    let mut findings: Vec<Finding> = latest
        .into_values()
        .filter(|probe| !probe.discovery_ok || !probe.jwks_ok)
        .map(|probe| {
            let failed = match (probe.discovery_ok, probe.jwks_ok) {
                (false, false) => "discovery and JWKS",
                (false, true) => "discovery",
                _ => "JWKS",
            };
            let ok = |ok: bool| if ok { "ok" } else { "failed" }.to_owned();
            let mut evidence = vec![
                ("probed at".to_owned(), probe.probed_at.to_string()),
                ("discovery".to_owned(), ok(probe.discovery_ok)),
                ("jwks".to_owned(), ok(probe.jwks_ok)),
            ];
            if let Some(error) = &probe.error {
                evidence.push(("error".to_owned(), error.clone()));
            }
            Finding {
                rule: IDP_UNREACHABLE.id,
                severity: IDP_UNREACHABLE.severity,
                environment: environment.clone(),
                subject: subject(&probe.idp_id, &probe.name, &probe.owner),
                message: format!("identity provider {}: {failed} cannot be fetched or is invalid", probe.name),
                evidence,
                remediation: IDP_UNREACHABLE.remediation,
            }
        })
        .collect();
    crate::posture::sort_findings(&mut findings);
    findings
}

/// SAML providers with a signing certificate that expires (or has expired) within the policy's thresholds: high
/// when less than `certificate_expiring_high_days` remain, medium when less than
/// `certificate_expiring_medium_days`. One finding per provider, at the severity of its most urgent certificate,
/// with every such certificate as evidence.
pub fn idp_certificate_expiring(
    environment: &EnvironmentName,
    certificates: &[SamlSigningCertificate],
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let high = now + Duration::days(policy.certificate_expiring_high_days);
    let medium = now + Duration::days(policy.certificate_expiring_medium_days);
    let mut by_provider: BTreeMap<&IdpId, Vec<&SamlSigningCertificate>> = BTreeMap::new();
    for certificate in certificates.iter().filter(|certificate| certificate.not_after < medium) {
        by_provider.entry(&certificate.idp_id).or_default().push(certificate);
    }
    let mut findings: Vec<Finding> = by_provider
        .into_values()
        .filter_map(|mut expiring| {
            expiring.sort_by_key(|certificate| certificate.not_after);
            let soonest = *expiring.first()?;
            let severity = if soonest.not_after < high { Severity::High } else { Severity::Medium };
            let when = |certificate: &SamlSigningCertificate| {
                if certificate.not_after <= now {
                    format!("expired {}", date_text(certificate.not_after))
                } else {
                    let days = (certificate.not_after - now).whole_days();
                    format!("expires {} (in {days} days)", date_text(certificate.not_after))
                }
            };
            Some(Finding {
                rule: IDP_CERTIFICATE_EXPIRING.id,
                severity,
                environment: environment.clone(),
                subject: subject(&soonest.idp_id, &soonest.name, &soonest.owner),
                message: format!("identity provider {}: signing certificate {}", soonest.name, when(soonest)),
                evidence: expiring
                    .iter()
                    .map(|certificate| (format!("certificate {}", certificate.certificate), when(certificate)))
                    .collect(),
                remediation: IDP_CERTIFICATE_EXPIRING.remediation,
            })
        })
        .collect();
    crate::posture::sort_findings(&mut findings);
    findings
}
