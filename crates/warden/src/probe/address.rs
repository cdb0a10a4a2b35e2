//! Which addresses a probe may connect to, and the resolver that enforces it.
//!
//! Provider URLs come from ZITADEL configuration that an organization's admin can edit, so a probe must not become
//! a way into warden's own network. Unless `allow_private` is set, every address a name resolves to is checked
//! against the special-purpose ranges (RFC 6890 and its IPv6 registry: private, loopback, link-local, shared,
//! documentation, benchmarking, multicast, reserved, and IPv6 forms that embed such an IPv4 address); a name with any
//! refused address is refused whole. The connection then goes to exactly the addresses checked: the HTTP client
//! resolves through [`CheckedResolver`], and LDAP connects to what [`resolve_checked`] returned, so there is no
//! second lookup for a DNS-rebinding answer to slip into.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::probe::Error;

/// Why an address is refused, or `None` when a probe may connect to it.
pub(crate) fn special_purpose(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => special_purpose_v4(v4),
        IpAddr::V6(v6) => special_purpose_v6(v6),
    }
}

fn special_purpose_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    let reason = match (a, b, c) {
        (0, _, _) => "\"this network\" (0.0.0.0/8)",
        (10, _, _) => "private (10.0.0.0/8)",
        (100, 64..=127, _) => "shared address space (100.64.0.0/10)",
        (127, _, _) => "loopback (127.0.0.0/8)",
        (169, 254, _) => "link-local (169.254.0.0/16)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast (192.88.99.0/24)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast (224.0.0.0/4)",
        (240..=255, _, _) => "reserved (240.0.0.0/4) or broadcast",
        _ => return None,
    };
    Some(reason)
}

fn special_purpose_v6(address: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = address.to_ipv4_mapped() {
        return special_purpose_v4(v4).map(|_| "an IPv4-mapped special-purpose address (::ffff:0:0/96)");
    }
    let segments = address.segments();
    let embedded_v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    let reason = match segments {
        [0, 0, 0, 0, 0, 0, 0, 0] => "unspecified (::)",
        [0, 0, 0, 0, 0, 0, 0, 1] => "loopback (::1)",
        // IPv4-compatible (deprecated) addresses: ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible (::/96)",
        [0x0064, 0xff9b, 0, 0, 0, 0, high, low] if special_purpose_v4(embedded_v4(high, low)).is_some() => {
            "NAT64 of a special-purpose IPv4 address (64:ff9b::/96)"
        }
        [0x0064, 0xff9b, 0x0001, ..] => "local-use NAT64 (64:ff9b:1::/48)",
        [0x0100, 0, 0, 0, ..] => "discard-only (100::/64)",
        [0x2001, 0x0000, ..] => "Teredo (2001::/32)",
        [0x2001, 0x0db8, ..] => "documentation (2001:db8::/32)",
        [0x2001, second, ..] if second < 0x0200 => "IETF protocol assignments (2001::/23)",
        [0x2002, high, low, ..] if special_purpose_v4(embedded_v4(high, low)).is_some() => {
            "6to4 of a special-purpose IPv4 address (2002::/16)"
        }
        [first, ..] if first & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        [first, ..] if first & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        [first, ..] if first & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        [first, ..] if first & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        _ => return None,
    };
    Some(reason)
}

/// Refuses `address` unless `allow_private` is set or it is not special-purpose.
pub(crate) fn check_address(host: &str, address: IpAddr, allow_private: bool) -> Result<(), Error> {
    match special_purpose(address) {
        Some(reason) if !allow_private => {
            Err(Error::RefusedAddress { host: host.to_owned(), address, reason: reason.to_owned() })
        }
        _ => Ok(()),
    }
}

/// Resolves `host` (a name or an address literal) and checks every address; the addresses to connect to, with
/// `port`.
pub(crate) async fn resolve_checked(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, Error> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = literal.parse::<IpAddr>() {
        check_address(host, address, allow_private)?;
        return Ok(vec![SocketAddr::new(address, port)]);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| Error::Resolve { host: host.to_owned(), message: error.to_string() })?
        .collect();
    if addresses.is_empty() {
        return Err(Error::Resolve { host: host.to_owned(), message: "no addresses".to_owned() });
    }
    for address in &addresses {
        check_address(host, address.ip(), allow_private)?;
    }
    Ok(addresses)
}

/// The HTTP client's resolver: every name goes through [`resolve_checked`]; a refusal travels as our own
/// [`Error`] inside the HTTP client's error.
#[derive(Debug, Default)]
pub(crate) struct CheckedResolver {
    pub(crate) allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            match resolve_checked(&host, 0, allow_private).await {
                Ok(addresses) => Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs),
                Err(error) => Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_purpose_ranges_are_refused_and_public_ones_are_not() {
        let refused = [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001::1",
            "2001:db8::1",
            "2002:a00:1::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ];
        for text in refused {
            let address: IpAddr = text.parse().unwrap();
            assert!(special_purpose(address).is_some(), "{text} must be refused");
            assert!(check_address("h", address, false).is_err());
            assert!(check_address("h", address, true).is_ok(), "{text} is allowed with allow_private");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ];
        for text in allowed {
            assert_eq!(special_purpose(text.parse().unwrap()), None, "{text} is public");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_before_any_connection() {
        let error = resolve_checked("localhost", 80, false).await.unwrap_err();
        assert!(matches!(error, Error::RefusedAddress { .. }), "{error}");
        assert!(resolve_checked("localhost", 80, true).await.is_ok());
        let error = resolve_checked("[::1]", 80, false).await.unwrap_err();
        assert!(error.to_string().contains("loopback"), "{error}");
    }
}
