//! The `ZITADEL-Signature` header of an Actions v2 call, checked as ZITADEL makes it (`pkg/actions/signing.go`):
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the target's signing key>`, one `v1` per key
//! (two while a key is being rotated), and a call older than five minutes refused.

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header ZITADEL signs calls in (`actions.SigningHeader`); header names are case-insensitive.
pub const HEADER: &str = "zitadel-signature";
/// How far a call's timestamp may be from now, either way (`actions.DefaultTolerance`: 300 s).
pub const TOLERANCE_SECONDS: i64 = 300;
/// A longer header is not ZITADEL's (its own is under 100 bytes per key).
const MAX_HEADER_BYTES: usize = 1_024;
/// Signatures looked at in one header, at most.
const MAX_SIGNATURES: usize = 4;

/// Why a call is refused before its body is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `ZITADEL-Signature` header.
    Unsigned,
    /// A header that is not `t=...,v1=...` (or more than one).
    MalformedSignature,
    /// No `v1` signature matches the body under the environment's key.
    WrongSignature,
    /// Correctly signed, at a time more than [`TOLERANCE_SECONDS`] from now.
    Stale,
    /// Correctly signed, and accepted before: the same call again.
    Replayed,
}

impl Refusal {
    /// A short reason, for the response and the log.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Unsigned => "unsigned",
            Refusal::MalformedSignature => "malformed signature header",
            Refusal::WrongSignature => "wrong signature",
            Refusal::Stale => "stale timestamp",
            Refusal::Replayed => "replayed",
        }
    }
}

/// A call whose signature matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The signed time, in Unix seconds.
    pub timestamp: i64,
    /// The signature that matched: what a replay would carry again.
    pub signature: [u8; 32],
}

/// Checks `headers`' signature of `body` under `key` at `now` (Unix seconds): the signature first, so that a stale
/// call is one ZITADEL really signed.
pub fn verify(headers: &HeaderMap, body: &[u8], key: &[u8], now: i64) -> Result<Verified, Refusal> {
    let mut values = headers.get_all(HEADER).iter();
    let value = values.next().ok_or(Refusal::Unsigned)?;
    if values.next().is_some() || value.len() > MAX_HEADER_BYTES {
        return Err(Refusal::MalformedSignature);
    }
    let text = value.to_str().map_err(|_| Refusal::MalformedSignature)?;
    let (timestamp, signatures) = parse(text).ok_or(Refusal::MalformedSignature)?;
    let expected = sign(key, timestamp, body);
    let signature = signatures
        .into_iter()
        .find(|signature| bool::from(signature.ct_eq(&expected)))
        .ok_or(Refusal::WrongSignature)?;
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(Refusal::Stale);
    }
    Ok(Verified { timestamp, signature })
}

/// HMAC-SHA256 of `"<timestamp>.<body>"` under `key`.
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut mac =
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// `t=<digits>` once and one or more `v1=<64 hex digits>`, comma-separated; other keys are ignored, as ZITADEL's
/// own check ignores them.
fn parse(header: &str) -> Option<(i64, Vec<[u8; 32]>)> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for pair in header.split(',') {
        let (key, value) = pair.trim().split_once('=')?;
        match key {
            "t" if timestamp.is_none() && !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) => {
                timestamp = Some(value.parse().ok()?);
            }
            "t" => return None,
            "v1" if signatures.len() < MAX_SIGNATURES => signatures.push(hex(value)?),
            _ => {}
        }
    }
    (!signatures.is_empty()).then_some(())?;
    Some((timestamp?, signatures))
}

fn hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (index, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |byte: u8| char::from(byte).to_digit(16);
        out[index] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const KEY: &[u8] = b"98KmsU67";
    const NOW: i64 = 1_790_000_000;

    fn header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn signed(timestamp: i64, body: &[u8], key: &[u8]) -> String {
        let hex: String = sign(key, timestamp, body).iter().map(|byte| format!("{byte:02x}")).collect();
        format!("t={timestamp},v1={hex}")
    }

    #[test]
    fn a_call_signed_as_zitadel_signs_is_accepted_within_five_minutes_either_way() {
        let body = br#"{"event_type":"user.human.added"}"#;
        for at in [NOW, NOW - 300, NOW + 300] {
            let verified = verify(&header(&signed(at, body, KEY)), body, KEY, NOW).unwrap();
            assert_eq!(verified.timestamp, at);
        }
        // A second key's signature (rotation) is enough.
        let other = signed(NOW, body, b"old-key");
        let both = format!("{other},v1={}", signed(NOW, body, KEY).split_once("v1=").unwrap().1);
        assert!(verify(&header(&both), body, KEY, NOW).is_ok());
    }

    #[test]
    fn everything_else_is_refused_with_its_reason() {
        let body = br#"{"event_type":"user.human.added"}"#;
        let good = signed(NOW, body, KEY);
        assert_eq!(verify(&HeaderMap::new(), body, KEY, NOW), Err(Refusal::Unsigned));
        assert_eq!(verify(&header(&signed(NOW, body, b"wrong")), body, KEY, NOW), Err(Refusal::WrongSignature));
        assert_eq!(verify(&header(&good), b"{}", KEY, NOW), Err(Refusal::WrongSignature));
        assert_eq!(verify(&header(&signed(NOW - 301, body, KEY)), body, KEY, NOW), Err(Refusal::Stale));
        assert_eq!(verify(&header(&signed(NOW + 301, body, KEY)), body, KEY, NOW), Err(Refusal::Stale));
        for malformed in ["", "t=1", "v1=00", "t=x,v1=00", "garbage", "t=1,t=2,v1=00", &format!("t=-5,{good}")] {
            assert_eq!(verify(&header(malformed), body, KEY, NOW), Err(Refusal::MalformedSignature), "{malformed}");
        }
        let mut twice = header(&good);
        twice.append(HEADER, HeaderValue::from_str(&good).unwrap());
        assert_eq!(verify(&twice, body, KEY, NOW), Err(Refusal::MalformedSignature));
    }
}
