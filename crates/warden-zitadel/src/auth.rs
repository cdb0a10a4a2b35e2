//! Turns a [`Credential`] into bearer tokens: a PAT is used as it is; a key or client secret is exchanged at the
//! token endpoint, cached, and exchanged again before it expires or when ZITADEL rejects it.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::credential::Credential;
use crate::error::Error;

/// The scope that makes an access token valid for ZITADEL's own APIs.
pub const ZITADEL_API_SCOPE: &str = "openid urn:zitadel:iam:org:project:id:zitadel:aud";

/// How long a signed JWT-profile assertion stays valid.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

pub(crate) struct TokenSource {
    credential: Credential,
    cached: Mutex<Option<CachedToken>>,
}

pub(crate) struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

/// A form to post to `/oauth/v2/token`, and the Basic credentials to send with it, if any.
pub(crate) struct TokenRequest {
    pub(crate) form: Vec<(&'static str, String)>,
    pub(crate) basic: Option<(String, SecretString)>,
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
pub(crate) struct TokenErrorBody {
    #[serde(default)]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) error_description: Option<String>,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl TokenSource {
    pub(crate) fn new(credential: Credential) -> TokenSource {
        TokenSource { credential, cached: Mutex::new(None) }
    }

    /// Whether tokens come from the token endpoint (and so can be renewed).
    pub(crate) fn is_exchanged(&self) -> bool {
        !matches!(self.credential, Credential::PersonalAccessToken(_))
    }

    /// A usable bearer token: the PAT, or a cached access token that is not due for renewal. `None` means a new
    /// one must be requested with [`TokenSource::token_request`] and stored with [`TokenSource::store`].
    pub(crate) async fn current(&self) -> Option<SecretString> {
        if let Credential::PersonalAccessToken(token) = &self.credential {
            return Some(token.clone());
        }
        let cached = self.cached.lock().await;
        cached.as_ref().filter(|cached| Instant::now() < cached.refresh_at).map(|cached| cached.token.clone())
    }

    /// Serializes renewals: callers hold this while exchanging, so concurrent requests wait for one exchange.
    pub(crate) async fn renewal_lock(&self) -> tokio::sync::MutexGuard<'_, Option<CachedToken>> {
        self.cached.lock().await
    }

    /// Forgets `rejected` if it is still the cached token, so the next request exchanges the credential anew.
    pub(crate) async fn invalidate(&self, rejected: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|cached| cached.token.expose_secret() == rejected.expose_secret()) {
            *cached = None;
        }
    }

    /// The token endpoint request for this credential. `issuer` is ZITADEL's base URL (the assertion's audience).
    pub(crate) fn token_request(&self, issuer: &str) -> Result<TokenRequest, Error> {
        match &self.credential {
            Credential::PersonalAccessToken(_) => {
                Err(Error::Token { message: "a personal access token is not exchanged".to_owned() })
            }
            Credential::ServiceAccountKey(key) => {
                let now = jsonwebtoken::get_current_timestamp();
                let claims = AssertionClaims {
                    iss: &key.user_id,
                    sub: &key.user_id,
                    aud: issuer,
                    iat: now,
                    exp: now + ASSERTION_LIFETIME.as_secs(),
                };
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some(key.key_id.clone());
                // jsonwebtoken's errors describe the key's shape, never its bytes.
                let signing_key = EncodingKey::from_rsa_pem(key.private_key.expose_secret().as_bytes())
                    .map_err(|error| Error::Signing { message: error.to_string() })?;
                let assertion = jsonwebtoken::encode(&header, &claims, &signing_key)
                    .map_err(|error| Error::Signing { message: error.to_string() })?;
                Ok(TokenRequest {
                    form: vec![
                        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()),
                        ("scope", ZITADEL_API_SCOPE.to_owned()),
                        ("assertion", assertion),
                    ],
                    basic: None,
                })
            }
            Credential::ClientCredentials { client_id, client_secret } => Ok(TokenRequest {
                form: vec![("grant_type", "client_credentials".to_owned()), ("scope", ZITADEL_API_SCOPE.to_owned())],
                basic: Some((client_id.clone(), client_secret.clone())),
            }),
        }
    }
}

impl CachedToken {
    /// Renews at 80 % of the lifetime ZITADEL granted (ZITADEL's default is 12 hours), and at least a few
    /// seconds before expiry, so that a request never leaves with a token about to lapse.
    pub(crate) fn from_response(response: TokenResponse) -> CachedToken {
        let lifetime = Duration::from_secs(response.expires_in.unwrap_or(3_600));
        let margin = (lifetime / 5).max(Duration::from_secs(5)).min(lifetime);
        CachedToken { token: SecretString::from(response.access_token), refresh_at: Instant::now() + lifetime - margin }
    }

    pub(crate) fn token(&self) -> SecretString {
        self.token.clone()
    }

    pub(crate) fn is_fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}
