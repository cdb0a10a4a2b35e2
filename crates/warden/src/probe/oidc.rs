//! OIDC issuers (generic OIDC, Azure AD, GitLab self-hosted, ZITADEL's own) and JWKS: the discovery document
//! (fetched, issuer matching, required endpoints present) and the keys (at least one usable signing key; the
//! algorithms and key ids). The judging functions are pure and take the parsed documents.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use warden_core::health::{Check, KeySummary};

use crate::probe::http::HttpClient;
use crate::probe::{Record, check_name};

const JSON: &str = "application/json";
/// The endpoints a login through the provider needs.
const REQUIRED_ENDPOINTS: [&str; 3] = ["authorization_endpoint", "token_endpoint", "jwks_uri"];
/// RSA keys shorter than this many bits are not usable.
const MIN_RSA_BITS: usize = 2048;

/// What the discovery document's `issuer` must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpectedIssuer {
    /// Exactly this text (OpenID Connect Discovery 1.0, section 4.3).
    Exact(String),
    /// Azure AD's multi-tenant endpoints (`common`, `organizations`, `consumers`) answer with a template:
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`.
    AzureTemplate { authority: String },
}

/// A signing key of a JWKS that can verify signatures.
pub(crate) struct UsableKey {
    pub(crate) key_id: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The keys of a JWKS, judged.
pub(crate) struct JwksKeys {
    pub(crate) usable: Vec<UsableKey>,
    /// `(key id or position, why)`.
    pub(crate) unusable: Vec<(String, String)>,
    /// Keys for encryption (`use: enc` or an encryption algorithm): neither usable nor unusable for signing.
    pub(crate) encryption: usize,
}

/// The discovery URL of an issuer.
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// Fetches and judges `issuer`'s discovery document, then its JWKS; records both checks. Returns the usable keys
/// (empty when either failed).
pub(crate) async fn probe_issuer(
    http: &HttpClient,
    issuer: &str,
    expected: &ExpectedIssuer,
    record: &Record,
) -> Vec<UsableKey> {
    let url = discovery_url(issuer);
    let fetched = match http.get(&url, JSON).await {
        Ok(fetched) => fetched,
        Err(error) => {
            record.check(Check::failed(check_name::DISCOVERY, format!("{url}: {error}")));
            return Vec::new();
        }
    };
    record.tls_certificates(&fetched);
    let latency = fetched.latency;
    let judged = if fetched.status.is_success() {
        serde_json::from_slice::<serde_json::Value>(&fetched.body)
            .map_err(|error| format!("not JSON: {error}"))
            .and_then(|document| judge_discovery(&document, expected))
    } else {
        Err(format!("HTTP {}", fetched.status.as_u16()))
    };
    match judged {
        Ok((jwks_uri, detail)) => {
            record.check(Check::passed(check_name::DISCOVERY, detail).with_latency(latency));
            probe_jwks(http, &jwks_uri, record).await
        }
        Err(message) => {
            record.check(Check::failed(check_name::DISCOVERY, format!("{url}: {message}")).with_latency(latency));
            Vec::new()
        }
    }
}

/// Fetches and judges a JWKS; records the check and the key counts. Returns the usable keys.
pub(crate) async fn probe_jwks(http: &HttpClient, url: &str, record: &Record) -> Vec<UsableKey> {
    let fetched = match http.get(url, JSON).await {
        Ok(fetched) => fetched,
        Err(error) => {
            record.check(Check::failed(check_name::JWKS, format!("{url}: {error}")));
            return Vec::new();
        }
    };
    record.tls_certificates(&fetched);
    let latency = fetched.latency;
    let judged = if fetched.status.is_success() {
        serde_json::from_slice::<serde_json::Value>(&fetched.body)
            .map_err(|error| format!("not JSON: {error}"))
            .and_then(|document| judge_jwks(&document))
    } else {
        Err(format!("HTTP {}", fetched.status.as_u16()))
    };
    match judged {
        Ok(keys) => {
            record.keys(KeySummary {
                usable: u32::try_from(keys.usable.len()).unwrap_or(u32::MAX),
                unusable: u32::try_from(keys.unusable.len()).unwrap_or(u32::MAX),
            });
            let detail = describe_keys(&keys);
            let check = if keys.usable.is_empty() {
                Check::failed(check_name::JWKS, format!("{url}: no usable signing key ({detail})"))
            } else {
                Check::passed(check_name::JWKS, detail)
            };
            record.check(check.with_latency(latency));
            keys.usable
        }
        Err(message) => {
            record.check(Check::failed(check_name::JWKS, format!("{url}: {message}")).with_latency(latency));
            Vec::new()
        }
    }
}

/// Judges a discovery document: `issuer` as expected and the required endpoints present as http(s) URLs. The JWKS
/// URI and a one-line description, or what is wrong.
pub(crate) fn judge_discovery(
    document: &serde_json::Value,
    expected: &ExpectedIssuer,
) -> Result<(String, String), String> {
    let object = document.as_object().ok_or("not a JSON object")?;
    let issuer = object.get("issuer").and_then(serde_json::Value::as_str).ok_or("no issuer")?;
    let matches = match expected {
        ExpectedIssuer::Exact(expected) => issuer == expected,
        ExpectedIssuer::AzureTemplate { authority } => {
            issuer == format!("{}/{{tenantid}}/v2.0", authority.trim_end_matches('/'))
        }
    };
    if !matches {
        let expected = match expected {
            ExpectedIssuer::Exact(expected) => expected.clone(),
            ExpectedIssuer::AzureTemplate { authority } => format!("{authority}/{{tenantid}}/v2.0"),
        };
        return Err(format!("issuer is {} instead of {expected}", shorten(issuer)));
    }
    let mut missing = Vec::new();
    for endpoint in REQUIRED_ENDPOINTS {
        let valid = object
            .get(endpoint)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|url| url.starts_with("https://") || url.starts_with("http://"));
        if !valid {
            missing.push(endpoint);
        }
    }
    if !missing.is_empty() {
        return Err(format!("missing or invalid {}", missing.join(", ")));
    }
    let jwks_uri = object.get("jwks_uri").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let algorithms: Vec<&str> = object
        .get("id_token_signing_alg_values_supported")
        .and_then(serde_json::Value::as_array)
        .map(|values| values.iter().filter_map(serde_json::Value::as_str).take(10).collect())
        .unwrap_or_default();
    let mut detail = format!("issuer {} matches; authorization, token and JWKS endpoints present", shorten(issuer));
    if !algorithms.is_empty() {
        detail.push_str(&format!("; ID tokens signed with {}", algorithms.join(", ")));
    }
    Ok((jwks_uri, detail))
}

/// Judges every key of a JWKS (`{"keys": [...]}`).
pub(crate) fn judge_jwks(document: &serde_json::Value) -> Result<JwksKeys, String> {
    let keys = document.get("keys").and_then(serde_json::Value::as_array).ok_or("no \"keys\" list")?;
    let mut judged = JwksKeys { usable: Vec::new(), unusable: Vec::new(), encryption: 0 };
    for (position, key) in keys.iter().enumerate() {
        let key_id = key.get("kid").and_then(serde_json::Value::as_str).map(|kid| shorten(kid).to_owned());
        let name = key_id.clone().unwrap_or_else(|| format!("#{}", position + 1));
        if key.get("use").and_then(serde_json::Value::as_str) == Some("enc") {
            judged.encryption += 1;
            continue;
        }
        match judge_key(key) {
            Ok(Some((algorithm, decoding))) => {
                judged.usable.push(UsableKey { key_id, algorithm, key: decoding });
            }
            Ok(None) => judged.encryption += 1,
            Err(reason) => judged.unusable.push((name, reason)),
        }
    }
    Ok(judged)
}

/// A signing key's algorithm and verifier, `None` for an encryption key, or why it is not usable.
fn judge_key(key: &serde_json::Value) -> Result<Option<(Algorithm, DecodingKey)>, String> {
    let key_type = key.get("kty").and_then(serde_json::Value::as_str).unwrap_or_default();
    if !matches!(key_type, "RSA" | "EC" | "OKP") {
        return Err(match key_type {
            "oct" => "a symmetric key in a public JWKS".to_owned(),
            "" => "no key type".to_owned(),
            other => format!("unsupported key type {}", shorten(other)),
        });
    }
    let jwk: Jwk = serde_json::from_value(key.clone()).map_err(|error| format!("malformed: {error}"))?;
    let algorithm = match jwk.common.key_algorithm {
        Some(KeyAlgorithm::RSA1_5 | KeyAlgorithm::RSA_OAEP | KeyAlgorithm::RSA_OAEP_256) => return Ok(None),
        Some(KeyAlgorithm::HS256 | KeyAlgorithm::HS384 | KeyAlgorithm::HS512) => {
            return Err("an HMAC algorithm on a public key".to_owned());
        }
        Some(algorithm) => Algorithm::try_from(algorithm).map_err(|error| format!("algorithm: {error}"))?,
        None => match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(curve) => match curve.curve {
                jsonwebtoken::jwk::EllipticCurve::P384 => Algorithm::ES384,
                _ => Algorithm::ES256,
            },
            AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            AlgorithmParameters::OctetKey(_) => return Err("a symmetric key in a public JWKS".to_owned()),
            _ => return Err("an unsupported key type".to_owned()),
        },
    };
    if let AlgorithmParameters::RSA(rsa) = &jwk.algorithm {
        let bits = base64_url_length(&rsa.n) * 8;
        if bits < MIN_RSA_BITS {
            return Err(format!("an RSA key of {bits} bits (fewer than {MIN_RSA_BITS})"));
        }
    }
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|error| format!("unusable key material: {error}"))?;
    Ok(Some((algorithm, decoding)))
}

/// Bytes encoded by unpadded base64url text (leading zero bytes of an RSA modulus do not count).
fn base64_url_length(text: &str) -> usize {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map(|bytes| bytes.iter().skip_while(|byte| **byte == 0).count())
        .unwrap_or(0)
}

/// `2 usable signing keys: RS256 kid a, ES256 kid b; 1 unusable: kid c (an RSA key of 1024 bits ...)`.
fn describe_keys(keys: &JwksKeys) -> String {
    let usable: Vec<String> = keys
        .usable
        .iter()
        .take(10)
        .map(|key| match &key.key_id {
            Some(kid) => format!("{:?} kid {kid}", key.algorithm),
            None => format!("{:?} without kid", key.algorithm),
        })
        .collect();
    let mut text = if keys.usable.is_empty() {
        "no usable signing keys".to_owned()
    } else {
        format!("{} usable signing keys: {}", keys.usable.len(), usable.join(", "))
    };
    if !keys.unusable.is_empty() {
        let unusable: Vec<String> =
            keys.unusable.iter().take(5).map(|(name, reason)| format!("{name} ({reason})")).collect();
        text.push_str(&format!("; {} unusable: {}", keys.unusable.len(), unusable.join(", ")));
    }
    if keys.encryption > 0 {
        text.push_str(&format!("; {} encryption keys", keys.encryption));
    }
    text
}

/// Whether `token` is a JWT, and if so whether a key of the JWKS verifies its signature. `None` for an opaque token.
pub(crate) fn verify_token(token: &str, keys: &[UsableKey]) -> Option<Result<String, String>> {
    if token.split('.').count() != 3 {
        return None;
    }
    let header = jsonwebtoken::decode_header(token).ok()?;
    let candidates: Vec<&UsableKey> = keys
        .iter()
        .filter(|key| header.kid.is_none() || key.key_id.is_none() || key.key_id == header.kid)
        .filter(|key| key.algorithm == header.alg)
        .collect();
    let kid = header.kid.as_deref().map(shorten).unwrap_or("(none)");
    if candidates.is_empty() {
        return Some(Err(format!("a JWT signed with {:?} by kid {kid}, which the JWKS does not list", header.alg)));
    }
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    for key in candidates {
        if jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation).is_ok() {
            return Some(Ok(format!(
                "a JWT signed with {:?} by kid {kid}; the signature verifies against the JWKS",
                header.alg
            )));
        }
    }
    Some(Err(format!(
        "a JWT signed with {:?} by kid {kid}; its signature does not verify against the JWKS",
        header.alg
    )))
}

/// Hostile text shortened for a check's detail.
fn shorten(text: &str) -> &str {
    match text.char_indices().nth(120) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const RSA_N: &str = "2S1ogi5mCMs10Yj1-2o4qiwRFLMRkr95sMGrQU0QH9hxSKAPam1-4iZ5HWZ630LnCNbB_FNUCqHjWGp5xOdoLyMFl3k5SbxZOQUOHJyk6ezQcx5C4dHgMS-E8b_vjJ1B1C2hl4IUktL0UQAcWbGK_Lnm8I98qZJrksVn4GoeObzaAwkT_glwBokab4n_gyw4QSKqvsFzhXg8GlLrCCoPEEQVT6LrUwQYO4KpwokaGfqYtCv-HBLsBVIYWhwLcgrEHWr_plYxy8GZT1ZMMOrKUQGTxS8z_IcxYT_cIU9327HimD6k_0OafOF8uVgFE2OWY6KfUNIfS0dHROYSdWuYuQ";

    fn rsa_key(kid: &str) -> serde_json::Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": RSA_N, "e": "AQAB"})
    }

    #[test]
    fn discovery_needs_the_issuer_and_the_endpoints() {
        let good = json!({
            "issuer": "https://idp.example.com",
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
            "jwks_uri": "https://idp.example.com/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let exact = ExpectedIssuer::Exact("https://idp.example.com".to_owned());
        let (jwks, detail) = judge_discovery(&good, &exact).unwrap();
        assert_eq!(jwks, "https://idp.example.com/keys");
        assert!(detail.contains("RS256"), "{detail}");
        let other = ExpectedIssuer::Exact("https://idp.example.com/".to_owned());
        assert!(judge_discovery(&good, &other).unwrap_err().contains("instead of https://idp.example.com/"));
        let mut missing = good.clone();
        missing["jwks_uri"] = json!("javascript:alert(1)");
        missing.as_object_mut().unwrap().remove("token_endpoint");
        assert_eq!(judge_discovery(&missing, &exact).unwrap_err(), "missing or invalid token_endpoint, jwks_uri");
        assert!(judge_discovery(&json!([1, 2]), &exact).is_err());
        assert!(judge_discovery(&json!({"issuer": 7}), &exact).is_err());
        let mut azure = good;
        azure["issuer"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0");
        let template = ExpectedIssuer::AzureTemplate { authority: "https://login.microsoftonline.com".to_owned() };
        assert!(judge_discovery(&azure, &template).is_ok());
    }

    #[test]
    fn keys_are_usable_unusable_or_for_encryption() {
        let document = json!({"keys": [
            rsa_key("good"),
            {"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": RSA_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": RSA_N, "e": "AQAB"},
            {"kty": "EC", "kid": "bad-curve", "crv": "P-999", "x": "AA", "y": "AA"},
            {"kty": "weird"},
            "not even an object",
        ]});
        let keys = judge_jwks(&document).unwrap();
        assert_eq!(keys.usable.len(), 1);
        assert_eq!(keys.usable[0].key_id.as_deref(), Some("good"));
        assert_eq!(keys.encryption, 2);
        let unusable: Vec<&str> = keys.unusable.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(unusable, ["short", "secret", "bad-curve", "#7", "#8"]);
        assert!(keys.unusable[0].1.contains("8 bits") || keys.unusable[0].1.contains("24 bits"), "{:?}", keys.unusable);
        assert!(describe_keys(&keys).starts_with("1 usable signing keys: RS256 kid good; 5 unusable"));
        assert!(judge_jwks(&json!({"keys": []})).unwrap().usable.is_empty());
        assert!(judge_jwks(&json!({"nokeys": 1})).is_err());
    }

    #[test]
    fn opaque_tokens_are_not_verified_and_jwts_are() {
        assert!(verify_token("an-opaque-token", &[]).is_none());
        assert!(verify_token("sim.abc.id-token", &[]).is_none(), "three parts but no JWT header");
        let header = base64_json(&json!({"alg": "RS256", "kid": "other"}));
        let token = format!("{header}.{}.c2ln", base64_json(&json!({"sub": "1"})));
        let keys = judge_jwks(&json!({"keys": [rsa_key("good")]})).unwrap().usable;
        let verdict = verify_token(&token, &keys).unwrap().unwrap_err();
        assert!(verdict.contains("does not list"), "{verdict}");
        let header = base64_json(&json!({"alg": "RS256", "kid": "good"}));
        let token = format!("{header}.{}.c2ln", base64_json(&json!({"sub": "1"})));
        let verdict = verify_token(&token, &keys).unwrap().unwrap_err();
        assert!(verdict.contains("does not verify"), "{verdict}");
    }

    fn base64_json(value: &serde_json::Value) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }
}
