//! Ids in URL paths. ZITADEL ids are decimal, but role and metadata keys may hold `/`, `:` and more.

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters.
pub(crate) fn segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_everything_but_unreserved_characters() {
        assert_eq!(segment("310551234567890001"), "310551234567890001");
        assert_eq!(segment("urn:zitadel:scim:externalId"), "urn%3Azitadel%3Ascim%3AexternalId");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
