//! SAML providers: the IdP metadata ZITADEL stores (and, when the configuration names a metadata URL, the metadata
//! published there): the entity id, the SSO endpoint (with the binding ZITADEL is configured to use), and every
//! signing certificate with its validity. During a rotation the metadata lists the current and the next signing
//! certificate; both are recorded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use warden_core::health::{Certificate, CertificateUse, Check};

use crate::probe::certificate::{describe_certificate, parse_certificate};
use crate::probe::http::HttpClient;
use crate::probe::{Record, check_name};

const METADATA_NAMESPACE: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const SIGNATURE_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";
const XML: &str = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8";
/// More elements than any real metadata document has; a bound on hostile ones.
const MAX_NODES: u32 = 200_000;

/// What a probe needs of a SAML provider's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlConfiguration {
    /// The metadata ZITADEL stores (`saml.metadataXml`, decoded).
    pub metadata_xml: Option<String>,
    /// Where the provider publishes its metadata, when the configuration names it.
    pub metadata_url: Option<String>,
    /// ZITADEL's binding (`SAML_BINDING_POST`, ...), when configured.
    pub binding: Option<String>,
}

/// The parts of IdP metadata a probe checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub(crate) entity_id: Option<String>,
    /// `(binding, location)` of every `SingleSignOnService`.
    pub(crate) single_sign_on: Vec<(String, String)>,
    /// DER of every signing certificate (`KeyDescriptor` with `use="signing"` or no `use`), or why it is unreadable.
    pub(crate) signing_certificates: Vec<Result<Vec<u8>, String>>,
}

pub(crate) async fn probe_saml(
    http: &HttpClient,
    configuration: &SamlConfiguration,
    record: &Record,
    now: OffsetDateTime,
) {
    let binding = configuration.binding.as_deref().and_then(binding_urn);
    let mut stored_fingerprints = Vec::new();
    match &configuration.metadata_xml {
        Some(xml) => {
            let certificates = judge(xml, "metadata", binding, "", record, now);
            stored_fingerprints = certificates.iter().map(|certificate| certificate.fingerprint.clone()).collect();
        }
        None if configuration.metadata_url.is_none() => {
            record.check(Check::failed(check_name::METADATA, "ZITADEL holds no metadata for this provider"));
        }
        None => {}
    }
    let Some(url) = &configuration.metadata_url else { return };
    let fetched = match http.get(url, XML).await {
        Ok(fetched) => fetched,
        Err(error) => {
            record.check(Check::failed(check_name::FETCHED_METADATA, format!("{url}: {error}")));
            return;
        }
    };
    record.tls_certificates(&fetched);
    if !fetched.status.is_success() {
        let detail = format!("{url}: HTTP {}", fetched.status.as_u16());
        record.check(Check::failed(check_name::FETCHED_METADATA, detail).with_latency(fetched.latency));
        return;
    }
    let xml = String::from_utf8_lossy(&fetched.body);
    let published = judge(&xml, url, binding, "fetched ", record, now);
    record.amend_latency(check_name::FETCHED_METADATA, fetched.latency);
    if configuration.metadata_xml.is_some() && !published.is_empty() {
        let missing =
            published.iter().filter(|certificate| !stored_fingerprints.contains(&certificate.fingerprint)).count();
        record.check(if missing == 0 {
            Check::passed(check_name::METADATA_IN_SYNC, "ZITADEL's copy lists every published signing certificate")
        } else {
            Check::failed(
                check_name::METADATA_IN_SYNC,
                format!("{missing} published signing certificates are missing from ZITADEL's copy: re-import {url}"),
            )
        });
    }
}

/// Parses `xml` and records its checks (names prefixed with `prefix`) and certificates; returns the certificates.
fn judge(
    xml: &str,
    source: &str,
    binding: Option<&str>,
    prefix: &str,
    record: &Record,
    now: OffsetDateTime,
) -> Vec<Certificate> {
    let name = |check: &str| format!("{prefix}{check}");
    let metadata = match parse_metadata(xml) {
        Ok(metadata) => metadata,
        Err(error) => {
            record.check(Check::failed(name(check_name::METADATA), format!("{source}: {error}")));
            return Vec::new();
        }
    };
    record.check(Check::passed(name(check_name::METADATA), format!("{source}: parsed")));
    record.check(match &metadata.entity_id {
        Some(entity_id) => Check::passed(name(check_name::ENTITY_ID), entity_id.clone()),
        None => Check::failed(name(check_name::ENTITY_ID), "the metadata has no entityID"),
    });
    record.check(judge_single_sign_on(&metadata, binding, &name(check_name::SSO_ENDPOINT)));

    let mut certificates = Vec::new();
    let mut lines = Vec::new();
    for (position, der) in metadata.signing_certificates.iter().enumerate() {
        match der
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|der| parse_certificate(der, CertificateUse::SamlSigning, source))
        {
            Ok(certificate) => {
                lines.push(describe_certificate(&certificate, now));
                certificates.push(certificate);
            }
            Err(error) => lines.push(format!("certificate #{}: {error}", position + 1)),
        }
    }
    let valid = certificates.iter().filter(|certificate| certificate.is_valid_at(now)).count();
    let detail =
        if lines.is_empty() { "the metadata lists no signing certificate".to_owned() } else { lines.join("; ") };
    record.check(if valid > 0 {
        Check::passed(name(check_name::SIGNING_CERTIFICATES), detail)
    } else {
        Check::failed(name(check_name::SIGNING_CERTIFICATES), format!("no valid signing certificate: {detail}"))
    });
    for certificate in &certificates {
        record.certificate(certificate.clone());
    }
    certificates
}

fn judge_single_sign_on(metadata: &Metadata, binding: Option<&str>, name: &str) -> Check {
    let usable: Vec<&(String, String)> = metadata
        .single_sign_on
        .iter()
        .filter(|(_, location)| location.starts_with("https://") || location.starts_with("http://"))
        .collect();
    let listed: Vec<String> = usable
        .iter()
        .take(5)
        .map(|(binding, location)| format!("{} {location}", binding.rsplit(':').next().unwrap_or(binding)))
        .collect();
    if usable.is_empty() {
        return Check::failed(name, "the metadata has no SingleSignOnService with an http(s) location");
    }
    match binding {
        Some(wanted) if !usable.iter().any(|(binding, _)| binding == wanted) => Check::failed(
            name,
            format!("no SingleSignOnService for ZITADEL's binding {wanted} (offered: {})", listed.join(", ")),
        ),
        _ => Check::passed(name, listed.join(", ")),
    }
}

/// The binding URN of ZITADEL's `SAML_BINDING_*` setting.
fn binding_urn(setting: &str) -> Option<&'static str> {
    match setting {
        "SAML_BINDING_POST" => Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
        "SAML_BINDING_REDIRECT" => Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"),
        "SAML_BINDING_ARTIFACT" => Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"),
        _ => None,
    }
}

/// Reads IdP metadata: an `EntityDescriptor` (the first with an `IDPSSODescriptor`, also inside an
/// `EntitiesDescriptor`). Documents with a DTD are refused (no entity expansion).
pub(crate) fn parse_metadata(xml: &str) -> Result<Metadata, String> {
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..Default::default() };
    let document =
        roxmltree::Document::parse_with_options(xml, options).map_err(|error| format!("not XML: {error}"))?;
    let entities: Vec<roxmltree::Node<'_, '_>> =
        document.descendants().filter(|node| is(node, METADATA_NAMESPACE, "EntityDescriptor")).collect();
    let entity = entities
        .iter()
        .find(|entity| identity_provider(**entity).is_some())
        .or(entities.first())
        .ok_or("no EntityDescriptor")?;
    let descriptor =
        identity_provider(*entity).ok_or("no IDPSSODescriptor: not the metadata of an identity provider")?;
    let mut metadata = Metadata {
        entity_id: entity.attribute("entityID").filter(|id| !id.trim().is_empty()).map(str::to_owned),
        ..Metadata::default()
    };
    for child in descriptor.children() {
        if is(&child, METADATA_NAMESPACE, "SingleSignOnService") {
            let binding = child.attribute("Binding").unwrap_or_default().to_owned();
            let location = child.attribute("Location").unwrap_or_default().to_owned();
            metadata.single_sign_on.push((binding, location));
        }
        if is(&child, METADATA_NAMESPACE, "KeyDescriptor")
            && child.attribute("use").is_none_or(|usage| usage == "signing")
        {
            for certificate in child.descendants().filter(|node| is(node, SIGNATURE_NAMESPACE, "X509Certificate")) {
                let text: String =
                    certificate.text().unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
                metadata
                    .signing_certificates
                    .push(STANDARD.decode(text).map_err(|error| format!("not base64: {error}")));
            }
        }
    }
    Ok(metadata)
}

fn is(node: &roxmltree::Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(namespace)
}

fn identity_provider<'a, 'input>(entity: roxmltree::Node<'a, 'input>) -> Option<roxmltree::Node<'a, 'input>> {
    entity.children().find(|child| is(child, METADATA_NAMESPACE, "IDPSSODescriptor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_parts_are_read_and_hostile_documents_refused() {
        let xml = r#"<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <md:EntityDescriptor entityID="https://sp.example.com"><md:SPSSODescriptor/></md:EntityDescriptor>
  <md:EntityDescriptor entityID="https://idp.example.com/metadata">
    <md:IDPSSODescriptor>
      <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
        AQID
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>!!</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>
</md:EntitiesDescriptor>"#;
        let metadata = parse_metadata(xml).unwrap();
        assert_eq!(metadata.entity_id.as_deref(), Some("https://idp.example.com/metadata"));
        assert_eq!(metadata.single_sign_on.len(), 1);
        assert_eq!(metadata.signing_certificates.len(), 2, "the encryption key is not a signing certificate");
        assert_eq!(metadata.signing_certificates[0], Ok(vec![1, 2, 3]));
        assert!(metadata.signing_certificates[1].is_err());

        let check = judge_single_sign_on(&metadata, binding_urn("SAML_BINDING_POST"), "sso endpoint");
        assert!(!check.ok && check.detail.contains("HTTP-POST"), "{check:?}");
        assert!(judge_single_sign_on(&metadata, binding_urn("SAML_BINDING_REDIRECT"), "sso endpoint").ok);

        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol2;"/>"#;
        assert!(parse_metadata(bomb).is_err(), "a DTD is refused");
        assert!(parse_metadata("<not-closed>").is_err());
        assert_eq!(parse_metadata("<a/>").unwrap_err(), "no EntityDescriptor");
    }
}
