//! X.509 certificates as the probes see them: parsed from DER (TLS peers, SAML metadata) into
//! `warden_core::health::Certificate`, and described for a check's detail.

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use warden_core::health::{Certificate, CertificateUse};
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// The certificate in `der`, or why it cannot be read.
pub(crate) fn parse_certificate(der: &[u8], usage: CertificateUse, source: &str) -> Result<Certificate, String> {
    let (_, certificate) =
        X509Certificate::from_der(der).map_err(|error| format!("not a valid X.509 certificate: {error}"))?;
    let validity = certificate.validity();
    let fingerprint: String = Sha256::digest(der).iter().map(|byte| format!("{byte:02x}")).collect();
    let mut subject = certificate.subject().to_string();
    if subject.is_empty() {
        subject = format!("sha256:{}", &fingerprint[..16]);
    }
    Ok(Certificate {
        usage,
        source: source.to_owned(),
        subject: subject.chars().take(300).collect(),
        fingerprint,
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
    })
}

/// `CN=idp valid until 2027-01-01 (400 days left)`, or why it is not valid at `now`.
pub(crate) fn describe_certificate(certificate: &Certificate, now: OffsetDateTime) -> String {
    let until = certificate.not_after.date();
    if certificate.not_after <= now {
        format!("{} expired on {until}", certificate.subject)
    } else if now < certificate.not_before {
        format!("{} not valid before {} (until {until})", certificate.subject, certificate.not_before.date())
    } else {
        format!("{} valid until {until} ({} days left)", certificate.subject, certificate.days_left(now))
    }
}
