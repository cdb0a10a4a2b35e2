//! Self-signed X.509 certificates (hand-written DER, RSA-SHA256 signed with the fixed test key) and the SAML IdP
//! metadata documents that carry them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use time::OffsetDateTime;

use super::{SERVICE_ACCOUNT_PRIVATE_KEY_PEM, SERVICE_ACCOUNT_PUBLIC_KEY_PEM};

/// OID 1.2.840.113549.1.1.11 (sha256WithRSAEncryption), encoded.
const SHA256_WITH_RSA: &[u8] = &[0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
/// OID 2.5.4.3 (commonName), encoded.
const COMMON_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];

/// The validity of one signing certificate: `(serial, not_before, not_after)`.
pub(crate) type CertificateValidity = (u64, OffsetDateTime, OffsetDateTime);

/// SAML IdP metadata XML with one signing certificate valid from `not_before` to `not_after`.
pub(crate) fn saml_idp_metadata(
    entity_id: &str,
    sso_url: &str,
    common_name: &str,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> String {
    saml_idp_metadata_rotating(entity_id, sso_url, common_name, &[(serial, not_before, not_after)])
}

/// SAML IdP metadata XML listing several signing certificates (during a rotation: the current and the next), with
/// single sign-on over the Redirect and POST bindings.
pub(crate) fn saml_idp_metadata_rotating(
    entity_id: &str,
    sso_url: &str,
    common_name: &str,
    certificates: &[CertificateValidity],
) -> String {
    let key_descriptors: String = certificates
        .iter()
        .map(|(serial, not_before, not_after)| {
            let certificate = STANDARD.encode(self_signed_certificate(common_name, *serial, *not_before, *not_after));
            format!(
                concat!(
                    "    <md:KeyDescriptor use=\"signing\">\n",
                    "      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n",
                    "    </md:KeyDescriptor>\n",
                ),
                certificate = certificate
            )
        })
        .collect();
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" ",
            "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{entity}\">\n",
            "  <md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" ",
            "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
            "{keys}",
            "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>\n",
            "    <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" ",
            "Location=\"{sso}\"/>\n",
            "    <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" ",
            "Location=\"{sso}\"/>\n",
            "  </md:IDPSSODescriptor>\n",
            "</md:EntityDescriptor>\n"
        ),
        entity = entity_id,
        keys = key_descriptors,
        sso = sso_url,
    )
}

/// SAML service-provider metadata (for SAML applications; no certificate).
pub(crate) fn saml_sp_metadata(entity_id: &str, acs_url: &str) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{entity}\">\n",
            "  <md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
            "    <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" ",
            "Location=\"{acs}\" index=\"0\"/>\n",
            "  </md:SPSSODescriptor>\n",
            "</md:EntityDescriptor>\n"
        ),
        entity = entity_id,
        acs = acs_url,
    )
}

/// DER of a self-signed certificate for `CN=common_name`.
pub(crate) fn self_signed_certificate(
    common_name: &str,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Vec<u8> {
    let algorithm = sequence(&[SHA256_WITH_RSA.to_vec(), vec![0x05, 0x00]]);
    let name = sequence(&[set(&[sequence(&[COMMON_NAME.to_vec(), tagged(0x0C, common_name.as_bytes())])])]);
    let tbs = sequence(&[
        tagged(0xA0, &integer(2)),
        integer(serial),
        algorithm.clone(),
        name.clone(),
        sequence(&[time(not_before), time(not_after)]),
        name,
        public_key_info(),
    ]);
    let signature = sign(&tbs);
    let mut bits = vec![0x00];
    bits.extend_from_slice(&signature);
    sequence(&[tbs, algorithm, tagged(0x03, &bits)])
}

/// The SubjectPublicKeyInfo DER of the fixed test key (the body of its `BEGIN PUBLIC KEY` PEM).
fn public_key_info() -> Vec<u8> {
    let body: String = SERVICE_ACCOUNT_PUBLIC_KEY_PEM.lines().filter(|line| !line.starts_with("-----")).collect();
    STANDARD.decode(body.trim()).unwrap_or_default()
}

/// RSA-SHA256 signature with the fixed test key; an all-zero signature if signing is unavailable.
fn sign(message: &[u8]) -> Vec<u8> {
    EncodingKey::from_rsa_pem(SERVICE_ACCOUNT_PRIVATE_KEY_PEM.as_bytes())
        .ok()
        .and_then(|key| jsonwebtoken::crypto::sign(message, &key, Algorithm::RS256).ok())
        .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
        .unwrap_or_else(|| vec![0; 256])
}

fn tagged(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let first = bytes.iter().position(|byte| *byte != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - first) as u8);
        out.extend_from_slice(&bytes[first..]);
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tagged(0x30, &parts.concat())
}

fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    tagged(0x31, &parts.concat())
}

fn integer(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|byte| *byte != 0).unwrap_or(bytes.len() - 1);
    let mut content = Vec::new();
    if bytes[first] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[first..]);
    tagged(0x02, &content)
}

/// UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280).
fn time(at: OffsetDateTime) -> Vec<u8> {
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    let (hour, minute, second) = (at.hour(), at.minute(), at.second());
    if (1950..2050).contains(&year) {
        let text = format!("{:02}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z", year % 100);
        tagged(0x17, text.as_bytes())
    } else {
        let text = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z");
        tagged(0x18, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn certificate_is_well_formed_der() {
        let der = self_signed_certificate("test", 7, datetime!(2025-01-01 0:00 UTC), datetime!(2026-01-01 0:00 UTC));
        assert_eq!(der[0], 0x30);
        // Long-form length of the outer sequence covers the rest exactly.
        assert_eq!(der[1], 0x82);
        let length = usize::from(der[2]) << 8 | usize::from(der[3]);
        assert_eq!(length + 4, der.len());
        let pem_body = String::from_utf8_lossy(&der);
        assert!(!pem_body.is_empty());
    }
}
