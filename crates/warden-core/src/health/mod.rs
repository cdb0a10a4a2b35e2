//! Provider health: what one probe of ZITADEL or of an identity provider found ([`ProbeResult`]), and the status
//! derived from the last probes ([`evaluate`]: `healthy`, `degraded`, `down` or `unknown`) with its transitions
//! ([`status_change`]). The probes themselves are I/O and live in the binary; this module only judges their results,
//! and `now` is always a parameter.
//!
//! The provider rules (`idp-unreachable`, `idp-certificate-expiring`) read the [`ProviderHealth`] evaluated here.

mod status;

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

use crate::id::{EnvironmentName, IdpId};
use crate::model::{IdpOwner, ProviderType};

pub use status::{HealthPolicy, ProviderHealth, StatusChange, evaluate, evaluate_all, status_change};

/// What is probed: an environment's ZITADEL itself, or one of the identity providers it federates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub environment: EnvironmentName,
    /// The provider's name in ZITADEL (`ZITADEL` for ZITADEL itself).
    pub name: String,
    pub kind: TargetKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Zitadel,
    IdentityProvider { id: IdpId, provider_type: ProviderType, owner: IdpOwner },
}

/// A target's identity within its environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetId {
    Zitadel,
    IdentityProvider(IdpId),
}

/// A target's identity across environments: what probe and status histories are keyed by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetKey {
    pub environment: EnvironmentName,
    pub id: TargetId,
}

impl Target {
    pub fn id(&self) -> TargetId {
        match &self.kind {
            TargetKind::Zitadel => TargetId::Zitadel,
            TargetKind::IdentityProvider { id, .. } => TargetId::IdentityProvider(id.clone()),
        }
    }

    pub fn key(&self) -> TargetKey {
        TargetKey { environment: self.environment.clone(), id: self.id() }
    }

    /// `zitadel`, or the provider's type (`oidc`, `saml`, `azure_ad`, ...).
    pub fn type_name(&self) -> &str {
        match &self.kind {
            TargetKind::Zitadel => TargetId::ZITADEL_TEXT,
            TargetKind::IdentityProvider { provider_type, .. } => provider_type.as_str(),
        }
    }
}

impl TargetId {
    /// The text form of [`TargetId::Zitadel`]; ZITADEL's own ids are numeric.
    pub const ZITADEL_TEXT: &'static str = "zitadel";

    /// `zitadel`, or ZITADEL's id of the identity provider.
    pub fn as_str(&self) -> &str {
        match self {
            TargetId::Zitadel => TargetId::ZITADEL_TEXT,
            TargetId::IdentityProvider(id) => id.as_str(),
        }
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a probe checked (`discovery`, `jwks`, `tls`, `signing certificates`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found, or what went wrong, in one line.
    pub detail: String,
    /// How long the exchange behind the check took, when there was one.
    pub latency: Option<Duration>,
}

impl Check {
    pub fn passed(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), ok: true, detail: detail.into(), latency: None }
    }

    pub fn failed(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), ok: false, detail: detail.into(), latency: None }
    }

    pub fn with_latency(self, latency: Duration) -> Check {
        Check { latency: Some(latency), ..self }
    }
}

/// What a certificate is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CertificateUse {
    /// Signs a SAML provider's assertions (from its metadata).
    SamlSigning,
    /// Serves an endpoint over TLS (HTTPS, LDAPS, StartTLS).
    Tls,
}

impl CertificateUse {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateUse::SamlSigning => "signing",
            CertificateUse::Tls => "tls",
        }
    }

    pub fn parse(text: &str) -> Option<CertificateUse> {
        [CertificateUse::SamlSigning, CertificateUse::Tls].into_iter().find(|usage| usage.as_str() == text)
    }
}

/// A certificate a probe saw, with its validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub usage: CertificateUse,
    /// Where it was seen: the endpoint (`https://idp.example.com/...`, `ldap.example.com:636`) or `metadata`.
    pub source: String,
    /// The subject's distinguished name, as text.
    pub subject: String,
    /// SHA-256 of the DER, lowercase hex: tells two certificates with the same subject apart.
    pub fingerprint: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Certificate {
    /// Whole days from `now` until it expires; negative once expired.
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }

    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now < self.not_after
    }
}

/// The signing keys a JWKS offered: usable ones (a supported algorithm and well-formed key material) and the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeySummary {
    pub usable: u32,
    pub unusable: u32,
}

/// Everything one probe of one target found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub target: Target,
    pub probed_at: OffsetDateTime,
    /// Every check, in the order it ran; the probe failed when one of them did.
    pub checks: Vec<Check>,
    pub certificates: Vec<Certificate>,
    /// The signing keys of the JWKS, for targets that have one and when it could be read.
    pub keys: Option<KeySummary>,
}

impl ProbeResult {
    /// Whether every check passed.
    pub fn succeeded(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }

    /// The slowest exchange of the probe.
    pub fn latency(&self) -> Option<Duration> {
        self.checks.iter().filter_map(|check| check.latency).max()
    }

    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| !check.ok)
    }
}

/// A provider's status, derived from its last probes by [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Down,
    /// Never probed.
    Unknown,
}

impl HealthStatus {
    pub const ALL: [HealthStatus; 4] =
        [HealthStatus::Healthy, HealthStatus::Degraded, HealthStatus::Down, HealthStatus::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Down => "down",
            HealthStatus::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<HealthStatus> {
        HealthStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
