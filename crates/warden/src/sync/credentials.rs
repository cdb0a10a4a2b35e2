//! Machine keys and personal access tokens through ZITADEL's instance-wide searches (`/v2/users/keys/search`,
//! `/v2/users/pats/search`): a few pages instead of two lists per machine user.
//!
//! The searches do not carry a key's type or a token's scopes. Neither changes after creation (ZITADEL has no
//! command to change them), so they are taken from the store; a credential the store does not know yet is read
//! with its user's per-user list, which carries them.

use std::collections::{BTreeSet, HashMap};

use warden_core::id::{MachineKeyId, OrgId, PatId, UserId};
use warden_core::model::{KeyType, MachineKey, ObjectBatch, PersonalAccessToken};

/// What the store knows of credentials that never change after creation.
#[derive(Debug, Default)]
pub(crate) struct KnownCredentials {
    pub(crate) key_types: HashMap<MachineKeyId, KeyType>,
    pub(crate) token_scopes: HashMap<PatId, Vec<String>>,
}

impl KnownCredentials {
    /// From the stored keys and tokens.
    pub(crate) fn of(keys: ObjectBatch, tokens: ObjectBatch) -> KnownCredentials {
        let mut known = KnownCredentials::default();
        if let ObjectBatch::MachineKeys(keys) = keys {
            known.key_types = keys.into_iter().map(|key| (key.id, key.key_type)).collect();
        }
        if let ObjectBatch::PersonalAccessTokens(tokens) = tokens {
            known.token_scopes = tokens.into_iter().map(|token| (token.id, token.scopes)).collect();
        }
        known
    }

    /// Completes searched keys with their stored type. Returns the complete keys and the users (with their
    /// organization) whose keys must be listed per user instead: the searched keys of those users are dropped,
    /// their list replaces them.
    pub(crate) fn complete_keys(&self, keys: Vec<MachineKey>) -> (Vec<MachineKey>, BTreeSet<(OrgId, UserId)>) {
        complete(
            keys,
            |key| (key.org_id.clone(), key.user_id.clone()),
            |key| self.key_types.get(&key.id).map(|key_type| key.key_type = key_type.clone()).is_some(),
        )
    }

    /// As [`KnownCredentials::complete_keys`], for tokens and their scopes.
    pub(crate) fn complete_tokens(
        &self,
        tokens: Vec<PersonalAccessToken>,
    ) -> (Vec<PersonalAccessToken>, BTreeSet<(OrgId, UserId)>) {
        complete(
            tokens,
            |token| (token.org_id.clone(), token.user_id.clone()),
            |token| self.token_scopes.get(&token.id).map(|scopes| token.scopes = scopes.clone()).is_some(),
        )
    }
}

/// Fills each credential from the store (`fill` says whether it could); the owners of those it could not fill are
/// returned, and all their credentials dropped.
fn complete<T>(
    credentials: Vec<T>,
    owner: impl Fn(&T) -> (OrgId, UserId),
    fill: impl Fn(&mut T) -> bool,
) -> (Vec<T>, BTreeSet<(OrgId, UserId)>) {
    let mut unknown = BTreeSet::new();
    let mut complete = Vec::with_capacity(credentials.len());
    for mut credential in credentials {
        if fill(&mut credential) {
            complete.push(credential);
        } else {
            unknown.insert(owner(&credential));
        }
    }
    complete.retain(|credential| !unknown.contains(&owner(credential)));
    (complete, unknown)
}
