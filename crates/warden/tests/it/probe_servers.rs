//! Local servers for the probe tests: plain or TLS (rustls with certificates rcgen makes now), each connection's
//! request head read and handed with the stream to the case's handler, which answers as well or as badly as the
//! case needs. Every accepted connection is counted, so a test can prove a server was never contacted.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A connection's stream, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type Stream = Box<dyn Io>;
type Handler = Arc<dyn Fn(String, Stream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A running server; stops when dropped.
pub struct TestServer {
    pub address: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl TestServer {
    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.address.port())
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves HTTP/1.1 on 127.0.0.1: `handler(path, stream)` for each request (one per connection).
pub async fn serve<F, Fut>(tls: Option<Arc<rustls::ServerConfig>>, handler: F) -> TestServer
where
    F: Fn(String, Stream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler: Handler = Arc::new(move |path, stream| Box::pin(handler(path, stream)));
    serve_raw(tls, move |stream| {
        let handler = Arc::clone(&handler);
        async move {
            let mut stream = stream;
            if let Some(path) = read_request_path(&mut stream).await {
                handler(path, stream).await;
            }
        }
    })
    .await
}

/// Accepts connections on 127.0.0.1 and hands each (after the TLS handshake, with `tls`) to `connection`.
pub async fn serve_raw<F, Fut>(tls: Option<Arc<rustls::ServerConfig>>, connection: F) -> TestServer
where
    F: Fn(Stream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    let connection = Arc::new(connection);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let connection = Arc::clone(&connection);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let stream: Stream = match acceptor {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(tls) => Box::new(tls),
                        Err(_) => return,
                    },
                    None => Box::new(tcp),
                };
                connection(stream).await;
            });
        }
    });
    TestServer { address, connections, task }
}

/// Reads a request head; its path.
pub async fn read_request_path(stream: &mut Stream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_owned();
    line.split_whitespace().nth(1).map(str::to_owned)
}

/// Writes a complete response and closes the connection.
pub async fn respond(mut stream: Stream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

pub async fn respond_json(stream: Stream, body: &serde_json::Value) {
    respond(stream, "200 OK", "application/json", body.to_string().as_bytes()).await;
}

/// A discovery document for `issuer` with its JWKS at `{issuer}/keys`.
pub fn discovery(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/keys"),
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

/// A JWKS with one RS256 key (the simulator's public test key).
pub fn jwks() -> serde_json::Value {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(zitadel_sim::SERVICE_ACCOUNT_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    let mut jwk =
        serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::RS256).unwrap())
            .unwrap();
    jwk["kid"] = serde_json::json!("test-1");
    serde_json::json!({ "keys": [jwk] })
}

/// A certificate authority made now, and the leaf certificates it signs.
pub struct TestAuthority {
    issuer: Issuer<'static, KeyPair>,
    pub certificate_der: Vec<u8>,
}

/// A leaf certificate with its key, as rustls wants them.
pub struct Leaf {
    pub certificate_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

impl TestAuthority {
    pub fn new() -> TestAuthority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, "warden test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        TestAuthority { certificate_der: certificate.der().to_vec(), issuer: Issuer::new(params, key) }
    }

    /// A certificate for `127.0.0.1` and `localhost` valid from a day before `now` until `days` after it.
    pub fn leaf(&self, common_name: &str, now: OffsetDateTime, days: i64) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(days);
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        Leaf { certificate_der: certificate.der().to_vec(), key_der: key.serialize_der() }
    }
}

impl Leaf {
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(self.certificate_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// A self-signed signing certificate valid from 30 days before `now` until `days` after it (for SAML metadata).
pub fn signing_certificate(common_name: &str, now: OffsetDateTime, days: i64) -> Vec<u8> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.not_before = now - time::Duration::days(30);
    params.not_after = now + time::Duration::days(days);
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}
