//! The three ways a ZITADEL service user authenticates. Secrets live in [`SecretString`]s, whose `Debug` is
//! redacted; nothing in this crate formats them.

use secrecy::SecretString;
use serde::Deserialize;

/// A credential for a ZITADEL machine user.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A personal access token, sent as the bearer token.
    PersonalAccessToken(SecretString),
    /// A service-account key: a JWT signed with it is exchanged for an access token (RFC 7523 JWT profile).
    ServiceAccountKey(ServiceAccountKey),
    /// A client id and secret exchanged for an access token (OAuth client credentials).
    ClientCredentials { client_id: String, client_secret: SecretString },
}

/// A ZITADEL service-account key file: `{"type":"serviceaccount","keyId","key","userId"}`.
#[derive(Debug, Clone)]
pub struct ServiceAccountKey {
    pub key_id: String,
    pub user_id: String,
    /// The PEM-encoded RSA private key.
    pub private_key: SecretString,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// serde_json's message names the field and position but never echoes values, so no key material leaks.
    #[error("not valid key file JSON: {0}")]
    Json(String),
    #[error("type is {0:?}, expected \"serviceaccount\"")]
    WrongType(String),
    #[error("key is not a PEM private key")]
    NotPem,
}

impl ServiceAccountKey {
    /// Parses the JSON of a key file as ZITADEL issues it.
    pub fn from_json(text: &str) -> Result<ServiceAccountKey, KeyFileError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct KeyFile {
            #[serde(rename = "type")]
            kind: String,
            key_id: String,
            key: String,
            user_id: String,
        }
        let file: KeyFile = serde_json::from_str(text).map_err(|error| KeyFileError::Json(error.to_string()))?;
        if file.kind != "serviceaccount" {
            return Err(KeyFileError::WrongType(file.kind));
        }
        if !file.key.contains("PRIVATE KEY") {
            return Err(KeyFileError::NotPem);
        }
        Ok(ServiceAccountKey { key_id: file.key_id, user_id: file.user_id, private_key: SecretString::from(file.key) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = r"-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretsecret\n-----END RSA PRIVATE KEY-----";

    #[test]
    fn key_files_parse_and_errors_never_echo_the_key() {
        let good = format!(r#"{{"type":"serviceaccount","keyId":"1","key":"{SECRET}","userId":"2"}}"#);
        let key = ServiceAccountKey::from_json(&good).unwrap();
        assert_eq!((key.key_id.as_str(), key.user_id.as_str()), ("1", "2"));
        assert!(!format!("{key:?}").contains("MIIE"));

        let wrong_type = good.replace("serviceaccount", "application");
        assert_eq!(
            ServiceAccountKey::from_json(&wrong_type).unwrap_err(),
            KeyFileError::WrongType("application".into())
        );
        let broken = good.replace(r#""userId":"2""#, r#""userId":2"#);
        let error = ServiceAccountKey::from_json(&broken).unwrap_err().to_string();
        assert!(!error.contains("MIIE"), "{error}");
        let not_pem = good.replace("RSA PRIVATE KEY", "CERTIFICATE");
        assert_eq!(ServiceAccountKey::from_json(&not_pem).unwrap_err(), KeyFileError::NotPem);
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let secret = "zitadel-pat-7f3a9c";
        for credential in [
            Credential::PersonalAccessToken(SecretString::from(secret)),
            Credential::ClientCredentials { client_id: "client".into(), client_secret: SecretString::from(secret) },
            Credential::ServiceAccountKey(ServiceAccountKey {
                key_id: "k".into(),
                user_id: "u".into(),
                private_key: SecretString::from(secret),
            }),
        ] {
            let shown = format!("{credential:?}");
            assert!(!shown.contains(secret) && shown.contains("REDACTED"), "{shown}");
        }
    }
}
