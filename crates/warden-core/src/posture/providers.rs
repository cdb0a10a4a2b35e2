//! Identity-provider rules over the evaluated provider health (`crate::health`): `idp-unreachable` (a provider is
//! down) and `idp-certificate-expiring` (a certificate its probes saw expires soon). The probes themselves are I/O
//! and live in the binary; these rules only judge their outcomes. ZITADEL itself is not an identity provider: its
//! health is reported, but these rules skip it.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::health::{Certificate, HealthStatus, ProviderHealth, TargetKind};
use crate::id::{EnvironmentName, IdpId};
use crate::model::{IdpOwner, ResourceKind};
use crate::posture::{Finding, Policy, Rule, Severity, Subject, date_text};

pub const IDP_UNREACHABLE: Rule = Rule {
    id: "idp-unreachable",
    severity: Severity::High,
    remediation: "Check the provider's issuer URL and that its discovery document and JWKS (or its metadata, or its \
                  servers) are served, and valid, from where ZITADEL runs; until they are, nobody can log in \
                  through this provider.",
};

/// High below `certificate_expiring_high_days`, medium below `certificate_expiring_medium_days`.
pub const IDP_CERTIFICATE_EXPIRING: Rule = Rule {
    id: "idp-certificate-expiring",
    severity: Severity::High,
    remediation: "Ask the provider's owner for the new certificate (for SAML, new metadata) and update the provider \
                  in ZITADEL before the old certificate expires; logins through it fail from that moment.",
};

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

/// The identity providers among `health`, with their id and owner (ZITADEL itself is skipped).
fn providers(health: &[ProviderHealth]) -> impl Iterator<Item = (&ProviderHealth, &IdpId, &IdpOwner)> {
    health.iter().filter_map(|health| match &health.target.kind {
        TargetKind::Zitadel => None,
        TargetKind::IdentityProvider { id, owner, .. } => Some((health, id, owner)),
    })
}

/// Identity providers whose status is `down`: their newest probes all failed (`crate::health::evaluate`).
/// Evidence: how many probes failed, the newest probe's time and each of its failed checks.
pub fn idp_unreachable(environment: &EnvironmentName, health: &[ProviderHealth]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = providers(health)
        .filter(|(health, _, _)| health.status == HealthStatus::Down)
        .map(|(health, id, owner)| {
            let mut evidence = vec![("failed probes".to_owned(), format!("{} of {}", health.failures, health.probes))];
            let mut failed = Vec::new();
            if let Some(latest) = &health.latest {
                evidence.push(("probed at".to_owned(), latest.probed_at.to_string()));
                for check in latest.failed_checks() {
                    evidence.push((check.name.clone(), check.detail.clone()));
                    failed.push(check.name.as_str());
                }
            }
            let what = if failed.is_empty() { "probes".to_owned() } else { failed.join(", ") };
            Finding {
                rule: IDP_UNREACHABLE.id,
                severity: IDP_UNREACHABLE.severity,
                environment: environment.clone(),
                subject: subject(id, &health.target.name, owner),
                message: format!("identity provider {} is down: {what} failed", health.target.name),
                evidence,
                remediation: IDP_UNREACHABLE.remediation,
            }
        })
        .collect();
    crate::posture::sort_findings(&mut findings);
    findings
}

/// Identity providers with a certificate (a SAML signing certificate, or the TLS certificate of an endpoint the
/// probes reached) that expires, or has expired, within the policy's thresholds: high when less than
/// `certificate_expiring_high_days` remain, medium when less than `certificate_expiring_medium_days`. One finding
/// per provider, at the severity of its most urgent certificate, with every such certificate as evidence. The
/// certificates are those of the newest probe that saw any ([`ProviderHealth::certificates`]).
pub fn idp_certificate_expiring(
    environment: &EnvironmentName,
    health: &[ProviderHealth],
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let high = now + Duration::days(policy.certificate_expiring_high_days);
    let medium = now + Duration::days(policy.certificate_expiring_medium_days);
    let mut by_provider: BTreeMap<&IdpId, (&ProviderHealth, &IdpOwner, Vec<&Certificate>)> = BTreeMap::new();
    for (health, id, owner) in providers(health) {
        let expiring: Vec<&Certificate> =
            health.certificates.iter().filter(|certificate| certificate.not_after < medium).collect();
        if !expiring.is_empty() {
            by_provider.insert(id, (health, owner, expiring));
        }
    }
    let mut findings: Vec<Finding> = by_provider
        .into_iter()
        .filter_map(|(id, (health, owner, mut expiring))| {
            expiring.sort_by_key(|certificate| certificate.not_after);
            let soonest = *expiring.first()?;
            let severity = if soonest.not_after < high { Severity::High } else { Severity::Medium };
            let when = |certificate: &Certificate| {
                if certificate.not_after <= now {
                    format!("expired {}", date_text(certificate.not_after))
                } else {
                    let days = (certificate.not_after - now).whole_days();
                    format!("expires {} (in {days} days)", date_text(certificate.not_after))
                }
            };
            let name = |certificate: &Certificate| {
                format!("{} certificate {} ({})", certificate.usage.as_str(), certificate.subject, certificate.source)
            };
            Some(Finding {
                rule: IDP_CERTIFICATE_EXPIRING.id,
                severity,
                environment: environment.clone(),
                subject: subject(id, &health.target.name, owner),
                message: format!("identity provider {}: {} {}", health.target.name, name(soonest), when(soonest)),
                evidence: expiring.iter().map(|certificate| (name(certificate), when(certificate))).collect(),
                remediation: IDP_CERTIFICATE_EXPIRING.remediation,
            })
        })
        .collect();
    crate::posture::sort_findings(&mut findings);
    findings
}
