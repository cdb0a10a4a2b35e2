//! How warden authenticates to an environment's ZITADEL. The configuration only names where a secret is; the secret
//! is read when it is used and lives in a [`SecretString`] whose `Debug` is redacted.

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use warden_zitadel::{Credential, ServiceAccountKey};

/// Where an environment's credential comes from: exactly one of the three ZITADEL service-account logins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    /// Name of the environment variable holding a personal access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pat_env: Option<String>,
    /// Path of a service-account key file (`{"type":"serviceaccount","keyId","key","userId"}`), for JWT profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Names of the environment variables holding a client id and secret, for client credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_env: Option<String>,
}

/// A credential source that is well-formed (exactly one kind chosen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    PersonalAccessToken { variable: String },
    KeyFile { path: PathBuf },
    ClientCredentials { client_id_variable: String, client_secret_variable: String },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::PersonalAccessToken { variable } => write!(f, "pat_env:{variable}"),
            CredentialSource::KeyFile { path } => write!(f, "key_file:{}", path.display()),
            CredentialSource::ClientCredentials { client_id_variable, client_secret_variable } => {
                write!(f, "client_credentials:{client_id_variable}/{client_secret_variable}")
            }
        }
    }
}

impl CredentialConfig {
    /// Checks that exactly one kind of credential is configured.
    pub fn source(&self) -> Result<CredentialSource, String> {
        match (&self.pat_env, &self.key_file, &self.client_id_env, &self.client_secret_env) {
            (Some(variable), None, None, None) => {
                Ok(CredentialSource::PersonalAccessToken { variable: variable.clone() })
            }
            (None, Some(path), None, None) => Ok(CredentialSource::KeyFile { path: path.clone() }),
            (None, None, Some(client_id_variable), Some(client_secret_variable)) => {
                Ok(CredentialSource::ClientCredentials {
                    client_id_variable: client_id_variable.clone(),
                    client_secret_variable: client_secret_variable.clone(),
                })
            }
            (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                Err("client credentials need both client_id_env and client_secret_env".to_owned())
            }
            (None, None, None, None) => {
                Err("no credential: set pat_env, key_file, or client_id_env with client_secret_env".to_owned())
            }
            _ => Err("set only one of pat_env, key_file, or client_id_env with client_secret_env".to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("environment variable {variable} is not set (named by {field})")]
    MissingVariable { variable: String, field: &'static str },
    #[error("environment variable {variable} is empty (named by {field})")]
    EmptyVariable { variable: String, field: &'static str },
    #[error("cannot read key file {path}: {reason}")]
    UnreadableKeyFile { path: String, reason: String },
    #[error("key file {path} is not a ZITADEL service-account key: {reason}")]
    InvalidKeyFile { path: String, reason: String },
}

pub(super) fn read_variable(variable: &str, field: &'static str) -> Result<SecretString, CredentialError> {
    match std::env::var(variable) {
        Ok(value) if value.trim().is_empty() => {
            Err(CredentialError::EmptyVariable { variable: variable.to_owned(), field })
        }
        Ok(value) => Ok(SecretString::from(value)),
        Err(_) => Err(CredentialError::MissingVariable { variable: variable.to_owned(), field }),
    }
}

fn read_key_file(path: &Path) -> Result<ServiceAccountKey, CredentialError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| CredentialError::UnreadableKeyFile { path: shown.clone(), reason: error.to_string() })?;
    ServiceAccountKey::from_json(&text)
        .map_err(|error| CredentialError::InvalidKeyFile { path: shown, reason: error.to_string() })
}

impl CredentialSource {
    /// Reads the secret now: environment variables and key files are consulted only when a credential is used.
    pub fn resolve(&self) -> Result<Credential, CredentialError> {
        match self {
            CredentialSource::PersonalAccessToken { variable } => {
                Ok(Credential::PersonalAccessToken(read_variable(variable, "pat_env")?))
            }
            CredentialSource::KeyFile { path } => Ok(Credential::ServiceAccountKey(read_key_file(path)?)),
            CredentialSource::ClientCredentials { client_id_variable, client_secret_variable } => {
                let client_id = read_variable(client_id_variable, "client_id_env")?.expose_secret().to_owned();
                let client_secret = read_variable(client_secret_variable, "client_secret_env")?;
                Ok(Credential::ClientCredentials { client_id, client_secret })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pat: Option<&str>, key: Option<&str>, id: Option<&str>, secret: Option<&str>) -> CredentialConfig {
        CredentialConfig {
            pat_env: pat.map(str::to_owned),
            key_file: key.map(PathBuf::from),
            client_id_env: id.map(str::to_owned),
            client_secret_env: secret.map(str::to_owned),
        }
    }

    #[test]
    fn exactly_one_credential_kind_is_accepted() {
        assert!(config(Some("P"), None, None, None).source().is_ok());
        assert!(config(None, Some("k.json"), None, None).source().is_ok());
        assert!(config(None, None, Some("I"), Some("S")).source().is_ok());
        assert!(config(None, None, None, None).source().unwrap_err().contains("no credential"));
        assert!(config(Some("P"), Some("k.json"), None, None).source().unwrap_err().contains("only one"));
        assert!(config(None, None, Some("I"), None).source().unwrap_err().contains("both"));
    }

    #[test]
    fn key_file_problems_name_the_file_and_never_echo_the_key() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("sa.json");
        let missing = read_key_file(&path).unwrap_err();
        assert!(
            matches!(&missing, CredentialError::UnreadableKeyFile { path: shown, .. } if shown.ends_with("sa.json"))
        );

        let key = r"-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretsecret\n-----END RSA PRIVATE KEY-----";
        std::fs::write(&path, format!(r#"{{"type":"application","keyId":"1","key":"{key}","userId":"2"}}"#)).unwrap();
        let error = read_key_file(&path).unwrap_err().to_string();
        assert!(error.contains("sa.json") && error.contains("serviceaccount") && !error.contains("MIIE"), "{error}");
    }
}
