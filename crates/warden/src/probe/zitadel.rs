//! ZITADEL itself: `/debug/healthz` and `/debug/ready`, its issuer (discovery and JWKS), a token issued with
//! warden's own credential (verified against the instance JWKS when it is a JWT), and the clock skew between ZITADEL
//! and warden from the `Date` header. ZITADEL's URL is warden's own configuration, not ZITADEL's, so its address is
//! not refused when private; the token exchange is the one place a probe sends a credential, and it goes to ZITADEL.

use std::time::Duration;

use secrecy::ExposeSecret as _;
use tokio::time::Instant;
use warden_core::health::Check;
use warden_zitadel::ZitadelClient;

use crate::probe::http::{Fetched, HttpClient};
use crate::probe::oidc::{ExpectedIssuer, probe_issuer, verify_token};
use crate::probe::{ProbeClock, Record, check_name};

pub(crate) async fn probe_zitadel(
    http: &HttpClient,
    base_url: &str,
    client: Option<&ZitadelClient>,
    max_clock_skew: Duration,
    clock: &ProbeClock,
    record: &Record,
) {
    let base_url = base_url.trim_end_matches('/');
    let healthz = probe_endpoint(http, &format!("{base_url}/debug/healthz"), check_name::HEALTHZ, record).await;
    let ready = probe_endpoint(http, &format!("{base_url}/debug/ready"), check_name::READY, record).await;
    let dated = [healthz, ready].into_iter().flatten().find_map(|fetched| fetched.date.map(|date| (date, fetched)));
    record.check(match dated {
        Some((date, fetched)) => clock_skew_check(date - clock.at(fetched.received), max_clock_skew),
        None => Check::passed(check_name::CLOCK_SKEW, "unknown: ZITADEL sent no Date header"),
    });

    let keys = probe_issuer(http, base_url, &ExpectedIssuer::Exact(base_url.to_owned()), record).await;

    let Some(client) = client else { return };
    let started = Instant::now();
    let check = match client.issue_access_token().await {
        Ok(None) => Check::passed(check_name::TOKEN, "the credential is a personal access token: nothing to issue"),
        Ok(Some(token)) => match verify_token(token.expose_secret(), &keys) {
            None => Check::passed(check_name::TOKEN, "an opaque access token was issued"),
            Some(Ok(detail)) => Check::passed(check_name::TOKEN, detail),
            Some(Err(detail)) => Check::failed(check_name::TOKEN, detail),
        },
        // warden_zitadel's errors name operations and ZITADEL's messages, never the credential.
        Err(error) => Check::failed(check_name::TOKEN, error.to_string()),
    };
    record.check(check.with_latency(started.elapsed()));
}

/// GETs a health endpoint and records whether it answered 2xx.
async fn probe_endpoint(http: &HttpClient, url: &str, name: &str, record: &Record) -> Option<Fetched> {
    match http.get(url, "*/*").await {
        Ok(fetched) => {
            record.tls_certificates(&fetched);
            let status = fetched.status.as_u16();
            let check = if fetched.status.is_success() {
                Check::passed(name, format!("HTTP {status}"))
            } else {
                Check::failed(name, format!("{url}: HTTP {status}"))
            };
            record.check(check.with_latency(fetched.latency));
            Some(fetched)
        }
        Err(error) => {
            record.check(Check::failed(name, format!("{url}: {error}")));
            None
        }
    }
}

/// `skew` is ZITADEL's clock minus warden's (the `Date` header has whole seconds, so a second of it is noise).
pub(crate) fn clock_skew_check(skew: time::Duration, max: Duration) -> Check {
    let seconds = skew.whole_seconds();
    let description = match seconds {
        0 => "ZITADEL's clock agrees with warden's (within a second)".to_owned(),
        ahead if ahead > 0 => format!("ZITADEL's clock is {ahead} s ahead of warden's"),
        behind => format!("ZITADEL's clock is {} s behind warden's", -behind),
    };
    if skew.unsigned_abs() <= max + Duration::from_secs(1) {
        Check::passed(check_name::CLOCK_SKEW, description)
    } else {
        Check::failed(check_name::CLOCK_SKEW, format!("{description} (more than {} s)", max.as_secs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_skew_within_the_bound_passes() {
        let max = Duration::from_secs(30);
        assert!(clock_skew_check(time::Duration::seconds(0), max).ok);
        assert!(clock_skew_check(time::Duration::seconds(31), max).ok, "a second of Date-header noise");
        assert!(!clock_skew_check(time::Duration::seconds(32), max).ok);
        let behind = clock_skew_check(time::Duration::seconds(-120), max);
        assert!(!behind.ok && behind.detail.contains("120 s behind"), "{behind:?}");
    }
}
