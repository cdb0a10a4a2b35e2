//! OAuth: discovery, the token endpoint (JWT profile and client credentials) and bearer-token authentication.
//!
//! Scope rule: a token requested without `urn:zitadel:iam:org:project:id:zitadel:aud` is issued (like ZITADEL), but
//! API calls with it fail with 401 `invalid audience (APP-Zxfako)`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use rand::Rng as _;
use serde_json::json;

use super::routes::percent_decode;
use super::{IssuedToken, Shared, lock};
use crate::error::ApiError;
use crate::estate::{SERVICE_ACCOUNT_PRIVATE_KEY_PEM, UserState};

const API_AUDIENCE_SCOPE: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn discovery(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let base = &shared.base_url;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/v2/authorize"),
        "token_endpoint": format!("{base}/oauth/v2/token"),
        "introspection_endpoint": format!("{base}/oauth/v2/introspect"),
        "userinfo_endpoint": format!("{base}/oidc/v1/userinfo"),
        "revocation_endpoint": format!("{base}/oauth/v2/revoke"),
        "end_session_endpoint": format!("{base}/oidc/v1/end_session"),
        "jwks_uri": format!("{base}/oauth/v2/keys"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code", "id_token", "id_token token"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token", JWT_BEARER],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
    }))
}

/// The `kid` of the instance key that signs JWT access tokens.
const INSTANCE_KEY_ID: &str = "sim-instance-1";

/// The public half of the instance's signing key (the fixed test key) as a JWK, without `kid`.
pub(crate) fn instance_jwk() -> serde_json::Value {
    EncodingKey::from_rsa_pem(SERVICE_ACCOUNT_PRIVATE_KEY_PEM.as_bytes())
        .and_then(|key| Jwk::from_encoding_key(&key, Algorithm::RS256))
        .ok()
        .and_then(|jwk| serde_json::to_value(jwk).ok())
        .unwrap_or_else(|| json!({}))
}

/// `GET /oauth/v2/keys`: the instance's signing key.
pub(crate) async fn keys(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({"keys": [shared.signing_key(INSTANCE_KEY_ID)]}))
}

struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into() }
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.error, "error_description": self.description}))).into_response()
    }
}

#[derive(serde::Deserialize)]
struct AssertionClaims {
    iat: Option<u64>,
}

/// `POST /oauth/v2/token` (form-encoded).
pub(crate) async fn token_endpoint(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    shared.count("POST /oauth/v2/token");
    match issue_token(&shared, &headers, form) {
        Ok(body) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn issue_token(
    shared: &Shared,
    headers: &HeaderMap,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Result<serde_json::Value, OAuthError> {
    let Form(form) =
        form.map_err(|rejection| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", rejection.body_text()))?;
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or_default();
    let scope = form.get("scope").cloned().unwrap_or_default();
    let (user_id, with_id_token) = match grant_type {
        JWT_BEARER => {
            let assertion = form
                .get("assertion")
                .ok_or_else(|| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "assertion is missing"))?;
            (verify_assertion(shared, assertion)?, true)
        }
        "client_credentials" => (verify_client(shared, headers, &form)?, false),
        "" => return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is missing")),
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("{other} not supported"),
            ));
        }
    };
    let lifetime = shared.access_token_lifetime;
    let token =
        if shared.jwt_access_tokens { jwt_access_token(shared, &user_id, lifetime)? } else { random_token(shared, 48) };
    let api_audience = scope.split_whitespace().any(|part| part == API_AUDIENCE_SCOPE);
    lock(&shared.access_tokens).insert(
        token.clone(),
        IssuedToken { user_id, expires_at: tokio::time::Instant::now() + lifetime, api_audience },
    );
    let mut body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "scope": scope,
    });
    if with_id_token {
        body["id_token"] = json!(format!("sim.{}.id-token", random_token(shared, 24)));
    }
    Ok(body)
}

/// An access token as a JWT signed with the instance key.
fn jwt_access_token(shared: &Shared, user_id: &str, lifetime: std::time::Duration) -> Result<String, OAuthError> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "iss": shared.base_url,
        "sub": user_id,
        "aud": [shared.base_url],
        "iat": now,
        "exp": now + lifetime.as_secs(),
        "jti": random_token(shared, 16),
    });
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some(INSTANCE_KEY_ID.to_string());
    EncodingKey::from_rsa_pem(SERVICE_ACCOUNT_PRIVATE_KEY_PEM.as_bytes())
        .and_then(|key| jsonwebtoken::encode(&header, &claims, &key))
        .map_err(|error| OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", error.to_string()))
}

fn random_token(shared: &Shared, length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = lock(&shared.token_rng);
    (0..length).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

fn verify_assertion(shared: &Shared, assertion: &str) -> Result<String, OAuthError> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|error| OAuthError::invalid_grant(format!("assertion is not a JWT: {error}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(OAuthError::invalid_grant("assertion must be signed with RS256"));
    }
    let key_id = header.kid.ok_or_else(|| OAuthError::invalid_grant("assertion has no kid"))?;
    let (public_key, user_id) = {
        let estate = lock(&shared.estate);
        let key = estate
            .machine_keys
            .get(&key_id)
            .ok_or_else(|| OAuthError::invalid_grant("Errors.AuthNKey.NotFound: key not found"))?;
        if key.expiration <= estate.now() {
            return Err(OAuthError::invalid_grant("key expired"));
        }
        let public_key =
            key.public_key_pem.clone().ok_or_else(|| OAuthError::invalid_grant("key has no public key"))?;
        (public_key, key.user_id.clone())
    };
    let decoding_key = DecodingKey::from_rsa_pem(public_key.as_bytes())
        .map_err(|error| OAuthError::invalid_grant(format!("unusable public key: {error}")))?;
    let mut validation = Validation::new(Algorithm::RS256);
    let issuer = shared.base_url.clone();
    validation.set_audience(&[issuer.clone(), format!("{issuer}/")]);
    validation.set_issuer(std::slice::from_ref(&user_id));
    validation.sub = Some(user_id.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 60;
    let data = jsonwebtoken::decode::<AssertionClaims>(assertion, &decoding_key, &validation)
        .map_err(|error| OAuthError::invalid_grant(format!("assertion invalid: {error}")))?;
    let issued_at = data.claims.iat.ok_or_else(|| OAuthError::invalid_grant("assertion has no iat"))?;
    let now = jsonwebtoken::get_current_timestamp();
    if issued_at + 3600 < now || issued_at > now + 60 {
        return Err(OAuthError::invalid_grant("iat is not within the last hour"));
    }
    check_user_active(shared, &user_id).map_err(OAuthError::invalid_grant)?;
    Ok(user_id)
}

fn check_user_active(shared: &Shared, user_id: &str) -> Result<(), &'static str> {
    let estate = lock(&shared.estate);
    match estate.user(user_id) {
        Some(user) if user.state == UserState::Active && user.is_machine() => Ok(()),
        Some(_) => Err("user is not active"),
        None => Err("user not found"),
    }
}

fn verify_client(shared: &Shared, headers: &HeaderMap, form: &BTreeMap<String, String>) -> Result<String, OAuthError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|text| text.split_once(':').map(|(id, secret)| (percent_decode(id), percent_decode(secret))));
    let (client_id, secret) = match from_header {
        Some(credentials) => credentials,
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => {
                return Err(OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client authentication missing",
                ));
            }
        },
    };
    let user_id = {
        let estate = lock(&shared.estate);
        estate
            .users()
            .find(|user| {
                user.user_name == client_id
                    && user.machine().and_then(|machine| machine.client_secret.as_deref()) == Some(secret.as_str())
            })
            .map(|user| user.id.clone())
    };
    let user_id = user_id
        .ok_or_else(|| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed"))?;
    check_user_active(shared, &user_id)
        .map_err(|reason| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", reason))?;
    Ok(user_id)
}

/// Resolves the bearer token of an API request to a user id.
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::unauthenticated("AUTH-7fs1e", "auth header missing"))?;
    if let Some(user_id) = lock(&shared.pats).get(&token) {
        return Ok(user_id.clone());
    }
    let issued = lock(&shared.access_tokens).get(&token).cloned();
    match issued {
        Some(issued) if issued.expires_at <= tokio::time::Instant::now() => {
            Err(ApiError::unauthenticated("AUTH-7fs1e", "Errors.Token.Invalid: token expired"))
        }
        Some(issued) if !issued.api_audience => Err(ApiError::unauthenticated("APP-Zxfako", "invalid audience")),
        Some(issued) => Ok(issued.user_id),
        None => Err(ApiError::unauthenticated("AUTH-7fs1e", "Errors.Token.Invalid")),
    }
}
