//! A secret other than a ZITADEL credential, named in the configuration by where it is read from (`{ env = "NAME" }`)
//! and read only when it is used: the ZITADEL Actions signing key of an environment.

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::config::CredentialError;
use crate::config::credential::read_variable;

/// Where a secret is read from: `{ env = "PROD_ACTIONS_KEY" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretReference {
    /// The environment variable holding the secret.
    pub env: String,
}

impl SecretReference {
    pub fn from_env(variable: impl Into<String>) -> SecretReference {
        SecretReference { env: variable.into() }
    }

    /// Reads the secret now; `field` names the configuration key in the error.
    pub fn resolve(&self, field: &'static str) -> Result<SecretString, CredentialError> {
        read_variable(&self.env, field)
    }

    /// The variable's name must be one: not empty, no `=` or NUL.
    pub(crate) fn check(&self) -> Result<(), String> {
        let valid = !self.env.trim().is_empty() && !self.env.contains(['=', '\0']);
        if valid { Ok(()) } else { Err(format!("{:?} is not an environment variable's name", self.env)) }
    }
}

impl fmt::Display for SecretReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "env:{}", self.env)
    }
}
