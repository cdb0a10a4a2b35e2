//! Bearer tokens and ids: SCIM connection tokens (handed out once, stored as SHA-256) and the ids of SCIM
//! connections, users and groups.
//!
//! A token is 256 random bits, base64url without padding; the store keeps only its SHA-256. Tokens are handed
//! out once, by `warden scim connection create|rotate`, and never formatted anywhere else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::store::TokenHash;

/// A new token and its hash.
pub fn issue_token() -> (SecretString, TokenHash) {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (SecretString::from(token), hash)
}

pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// Compares two hashes in constant time.
pub fn same_hash(left: &TokenHash, right: &TokenHash) -> bool {
    left.0.ct_eq(&right.0).into()
}

/// A version-7 UUID (RFC 9562): the creation time in milliseconds, then 74 random bits. The id of a connection,
/// user or group: unique and unguessable, and ids made later sort later, so the indexes keyed by them grow at one
/// end instead of being written all over (which makes every write after a checkpoint log whole index pages).
pub fn new_id(created: OffsetDateTime) -> String {
    let mut bytes = [0_u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let milliseconds = u64::try_from(created.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    bytes[..6].copy_from_slice(&milliseconds.to_be_bytes()[2..]);
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn tokens_are_256_bits_and_only_their_hash_matches() {
        let (token, hash) = issue_token();
        assert_eq!(token.expose_secret().len(), 43);
        assert!(same_hash(&hash_token(token.expose_secret()), &hash));
        let (other, _) = issue_token();
        assert!(!same_hash(&hash_token(other.expose_secret()), &hash));
        assert!(!format!("{hash:?}").contains(char::is_numeric));
    }

    #[test]
    fn ids_are_version_7_uuids_that_differ_and_sort_by_creation() {
        let created = time::macros::datetime!(2026-12-01 12:00:00 UTC);
        let id = new_id(created);
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'7');
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{id}");
        // 2026-12-01T12:00:00Z is 1796126400000 ms since the epoch: 0x01a2_3179_de00.
        assert!(id.starts_with("01a23179-de00-7"), "{id}");
        assert_ne!(id, new_id(created));
        assert!(new_id(created + time::Duration::milliseconds(1)) > id);
    }
}
