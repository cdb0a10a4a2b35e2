//! No secret (PAT, key, client secret, access token) in any log line or error message, at any log level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;
use tracing_subscriber::fmt::MakeWriter;
use warden_zitadel::{Credential, ServiceAccountKey};

use crate::support::{ADMIN_PAT, Sim, client_for};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Everything on this thread's runtime logs into the buffer, down to TRACE (hyper and reqwest included).
#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_a_log_line_or_an_error_message() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = Sim::seed().await;
    let key_json = sim.control().service_account_key_json();
    let key = ServiceAccountKey::from_json(&key_json).unwrap();
    let (client_id, client_secret) = sim.control().client_credentials();
    let wrong_pat = "wrong-pat-0123456789abcdef";
    let wrong_secret = "wrong-client-secret-0123456789";

    let mut errors = Vec::new();
    let pat = client_for(&sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)));
    pat.list_orgs().await.unwrap();
    let jwt = client_for(&sim, Credential::ServiceAccountKey(key.clone()));
    jwt.own_org().await.unwrap();
    sim.control().revoke_access_tokens();
    jwt.own_org().await.unwrap();
    let credentials = client_for(
        &sim,
        Credential::ClientCredentials {
            client_id: client_id.clone(),
            client_secret: SecretString::from(client_secret.clone()),
        },
    );
    credentials.own_org().await.unwrap();
    for failing in [
        Credential::PersonalAccessToken(SecretString::from(wrong_pat)),
        Credential::ClientCredentials { client_id, client_secret: SecretString::from(wrong_secret) },
    ] {
        let error = client_for(&sim, failing).own_org().await.unwrap_err();
        errors.push(format!("{error} {error:?}"));
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 20, "TRACE logging captured little:\n{logs}");
    let key_line = key_json.split("\\n").nth(2).unwrap().to_owned();
    for secret in [ADMIN_PAT, wrong_pat, wrong_secret, client_secret.as_str(), key_line.as_str()] {
        assert!(!logs.contains(secret), "a secret is in the logs");
        for error in &errors {
            assert!(!error.contains(secret), "a secret is in an error: {error}");
        }
    }
    assert!(!logs.to_ascii_lowercase().contains("bearer "), "an authorization header was logged");
    assert!(!logs.contains("assertion="), "a JWT assertion was logged");
}
