//! LDAP providers: for each server, TCP reachability and, with TLS (`ldaps://`, or StartTLS on `ldap://`), a TLS
//! handshake whose peer certificate is recorded for its expiry. Nothing is bound and no credential is sent: the
//! only LDAP message is the StartTLS extended request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Url;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;
use warden_core::health::{CertificateUse, Check};

use crate::probe::address::resolve_checked;
use crate::probe::certificate::{describe_certificate, parse_certificate};
use crate::probe::http::describe;
use crate::probe::{Error, Record};

/// Servers probed per provider, at most (ZITADEL tries them in order; a long list is a configuration smell).
const MAX_SERVERS: usize = 10;
/// `LDAPMessage { messageID 1, extendedReq { requestName "1.3.6.1.4.1.1466.20037" } }` (RFC 4511 4.14.1).
const START_TLS_REQUEST: &[u8] = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037";
/// The StartTLS response is a few dozen bytes; anything longer is not an LDAP server answering it.
const MAX_START_TLS_RESPONSE: usize = 16 * 1024;

/// What a probe needs of an LDAP provider's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapConfiguration {
    /// `ldaps://host:636`, `ldap://host:389`.
    pub servers: Vec<String>,
    pub start_tls: bool,
    /// PEM of the CA ZITADEL trusts for these servers (`ldap.rootCa`), if configured.
    pub root_ca: Option<Vec<u8>>,
}

/// What LDAP probing needs from the prober.
pub(crate) struct LdapContext<'a> {
    pub(crate) allow_private: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    /// Verifies peers against the platform's roots (and the configured extra ones).
    pub(crate) verifier: Arc<dyn ServerCertVerifier>,
    pub(crate) extra_root_certificates: &'a [Vec<u8>],
}

pub(crate) async fn probe_ldap(
    context: &LdapContext<'_>,
    configuration: &LdapConfiguration,
    record: &Record,
    now: OffsetDateTime,
) {
    if configuration.servers.is_empty() {
        record.check(Check::failed("servers", "no LDAP server configured"));
        return;
    }
    let verifier = match &configuration.root_ca {
        Some(pem) => match verifier_with_roots(pem, context.extra_root_certificates) {
            Ok(verifier) => verifier,
            Err(error) => {
                record.check(Check::failed("root ca", error));
                return;
            }
        },
        None => Arc::clone(&context.verifier),
    };
    for server in configuration.servers.iter().take(MAX_SERVERS) {
        probe_server(context, &verifier, server, configuration.start_tls, record, now).await;
    }
}

async fn probe_server(
    context: &LdapContext<'_>,
    verifier: &Arc<dyn ServerCertVerifier>,
    server: &str,
    start_tls: bool,
    record: &Record,
    now: OffsetDateTime,
) {
    let (host, port, implicit_tls) = match parse_server(server) {
        Ok(parsed) => parsed,
        Err(error) => {
            record.check(Check::failed(format!("server {server}"), error));
            return;
        }
    };
    let endpoint = format!("{host}:{port}");
    let started = Instant::now();
    let stream = match connect(context, &host, port).await {
        Ok(stream) => stream,
        Err(error) => {
            record.check(Check::failed(format!("tcp {endpoint}"), error.to_string()));
            return;
        }
    };
    record.check(Check::passed(format!("tcp {endpoint}"), "connected").with_latency(started.elapsed()));
    if !implicit_tls && !start_tls {
        return;
    }
    let tls_name = format!("tls {endpoint}");
    let handshake = async {
        let mut stream = stream;
        if !implicit_tls {
            start_tls_exchange(&mut stream).await?;
        }
        handshake(verifier, &host, stream).await
    };
    let started = Instant::now();
    let outcome = match tokio::time::timeout(context.request_timeout, handshake).await {
        Ok(outcome) => outcome,
        Err(_) => Err((format!("no TLS handshake within {} ms", context.request_timeout.as_millis()), None)),
    };
    let source = format!("{}://{endpoint}", if implicit_tls { "ldaps" } else { "ldap+starttls" });
    let latency = started.elapsed();
    let (certificate, failure) = match outcome {
        Ok(der) => (Some(der), None),
        Err((message, der)) => (der, Some(message)),
    };
    let certificate = certificate.map(|der| parse_certificate(&der, CertificateUse::Tls, &source));
    let description = match &certificate {
        Some(Ok(certificate)) => describe_certificate(certificate, now),
        Some(Err(error)) => error.clone(),
        None => "no certificate".to_owned(),
    };
    if let Some(Ok(certificate)) = certificate {
        record.certificate(certificate);
    }
    record.check(
        match failure {
            None => Check::passed(tls_name, description),
            Some(message) => Check::failed(tls_name, format!("{message} ({description})")),
        }
        .with_latency(latency),
    );
}

/// `(host, port, implicit TLS)` of `ldaps://host[:636]` or `ldap://host[:389]`.
pub(crate) fn parse_server(server: &str) -> Result<(String, u16, bool), String> {
    let url = Url::parse(server.trim()).map_err(|error| format!("not a URL: {error}"))?;
    let implicit_tls = match url.scheme() {
        "ldaps" => true,
        "ldap" => false,
        other => return Err(format!("scheme {other} is neither ldap nor ldaps")),
    };
    let host = url.host_str().filter(|host| !host.is_empty()).ok_or("no host")?;
    let port = url.port().unwrap_or(if implicit_tls { 636 } else { 389 });
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port, implicit_tls))
}

/// Connects to the first of the checked addresses that answers.
async fn connect(context: &LdapContext<'_>, host: &str, port: u16) -> Result<TcpStream, Error> {
    let addresses = resolve_checked(host, port, context.allow_private).await?;
    let mut last = Error::Connection("no address".to_owned());
    for address in addresses {
        match tokio::time::timeout(context.connect_timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(error)) => last = Error::Connection(format!("{address}: {error}")),
            Err(_) => last = Error::Timeout { after: context.connect_timeout },
        }
    }
    Err(last)
}

type HandshakeFailure = (String, Option<Vec<u8>>);

/// Sends the StartTLS request and reads the response; an error unless the server agreed.
async fn start_tls_exchange(stream: &mut TcpStream) -> Result<(), HandshakeFailure> {
    stream.write_all(START_TLS_REQUEST).await.map_err(|error| (format!("StartTLS: {error}"), None))?;
    let mut response = Vec::new();
    let mut buffer = [0_u8; 1024];
    loop {
        if let Some(code) = start_tls_result(&response) {
            return match code {
                Ok(0) => Ok(()),
                Ok(code) => Err((format!("the server refused StartTLS (result code {code})"), None)),
                Err(message) => Err((format!("StartTLS: {message}"), None)),
            };
        }
        if response.len() > MAX_START_TLS_RESPONSE {
            return Err(("StartTLS: the response is too long to be one".to_owned(), None));
        }
        let read = stream.read(&mut buffer).await.map_err(|error| (format!("StartTLS: {error}"), None))?;
        if read == 0 {
            return Err(("StartTLS: the server closed the connection".to_owned(), None));
        }
        response.extend_from_slice(&buffer[..read]);
    }
}

/// The result code of a complete StartTLS response in `bytes`; `None` while incomplete.
pub(crate) fn start_tls_result(bytes: &[u8]) -> Option<Result<u8, String>> {
    if bytes.first().is_some_and(|tag| *tag != 0x30) {
        return Some(Err("not an LDAP message".to_owned()));
    }
    let (_, content, _) = match tlv(bytes)? {
        Ok(parsed) => parsed,
        Err(message) => return Some(Err(message)),
    };
    let Some(Ok((0x02, _, rest))) = tlv(content) else { return Some(Err("no message id".to_owned())) };
    let Some(Ok((0x78, response, _))) = tlv(rest) else { return Some(Err("not an extended response".to_owned())) };
    match tlv(response) {
        Some(Ok((0x0a, [code], _))) => Some(Ok(*code)),
        _ => Some(Err("no result code".to_owned())),
    }
}

/// A BER element: `(tag, content, the bytes after it)`.
type Element<'a> = (u8, &'a [u8], &'a [u8]);

/// One BER tag-length-value; `None` while `bytes` is incomplete.
fn tlv(bytes: &[u8]) -> Option<Result<Element<'_>, String>> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Some(Err("unsupported length".to_owned()));
        }
        if rest.len() < count {
            return None;
        }
        let length = rest[..count].iter().fold(0_usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return None;
    }
    Some(Ok((tag, &rest[..length], &rest[length..])))
}

/// A TLS handshake over `stream`; the peer's certificate, also when the handshake failed after receiving it.
async fn handshake(
    verifier: &Arc<dyn ServerCertVerifier>,
    host: &str,
    stream: TcpStream,
) -> Result<Vec<u8>, HandshakeFailure> {
    let recording = Arc::new(RecordingVerifier { inner: Arc::clone(verifier), seen: Mutex::new(None) });
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| (error.to_string(), None))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&recording) as Arc<dyn ServerCertVerifier>)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).map_err(|error| (format!("server name: {error}"), None))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let outcome = connector.connect(name, stream).await;
    let seen = recording.seen.lock().unwrap_or_else(PoisonError::into_inner).take();
    match outcome {
        Ok(_) => seen.ok_or_else(|| ("the server sent no certificate".to_owned(), None)),
        Err(error) => Err((format!("TLS handshake failed: {}", describe(&error)), seen)),
    }
}

/// The platform's verifier with `root_ca` (PEM, ZITADEL's `rootCa`) and the extra roots added.
fn verifier_with_roots(root_ca: &[u8], extra: &[Vec<u8>]) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let mut roots: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(root_ca)
        .collect::<Result<_, _>>()
        .map_err(|error| format!("the configured root CA is not PEM: {error}"))?;
    if roots.is_empty() {
        return Err("the configured root CA holds no certificate".to_owned());
    }
    roots.extend(extra.iter().map(|der| CertificateDer::from(der.clone())));
    platform_verifier(roots)
}

/// The platform's verifier (its roots, plus `extra_roots`).
pub(crate) fn platform_verifier(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider)
        .map(|verifier| Arc::new(verifier) as Arc<dyn ServerCertVerifier>)
        .map_err(|error| format!("cannot load the trusted roots: {error}"))
}

/// Delegates verification and keeps the end-entity certificate it was asked about.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    seen: Mutex<Option<Vec<u8>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(end_entity.to_vec());
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_parse_with_default_ports() {
        assert_eq!(parse_server("ldaps://ldap.example.com").unwrap(), ("ldap.example.com".to_owned(), 636, true));
        assert_eq!(parse_server("ldap://10.0.0.1:1389").unwrap(), ("10.0.0.1".to_owned(), 1389, false));
        assert_eq!(parse_server("ldap://[::1]").unwrap(), ("::1".to_owned(), 389, false));
        assert!(parse_server("http://ldap.example.com").is_err());
        assert!(parse_server("ldap.example.com:389").is_err());
    }

    #[test]
    fn start_tls_responses_are_read_only_when_complete() {
        assert_eq!(START_TLS_REQUEST.len(), 31);
        let success = b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";
        for end in 0..success.len() {
            assert_eq!(start_tls_result(&success[..end]), None, "{end} bytes are incomplete");
        }
        assert_eq!(start_tls_result(success), Some(Ok(0)));
        let refused = b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x02\x04\x00\x04\x00";
        assert_eq!(start_tls_result(refused), Some(Ok(2)));
        assert!(matches!(start_tls_result(b"HTTP/1.1 400 Bad Request\r\n"), Some(Err(_))));
        assert!(start_tls_result(b"\x30\x84\xff\xff\xff\xff").is_none(), "a huge length waits for the cap");
    }
}
