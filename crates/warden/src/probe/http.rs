//! The HTTP side of probing, hardened for hostile URLs: a GET with a deadline over the whole exchange (redirects and
//! body included), redirects followed by hand up to a cap (each hop's address checked like the first), the body
//! read as a stream and abandoned past a size cap, no proxy, no cookies, no `Referer`, no credentials, and the peer
//! certificate of every HTTPS hop kept for its expiry.

use std::error::Error as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, DATE, LOCATION};
use reqwest::{StatusCode, Url};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;
use tokio::time::Instant;

use crate::probe::address::{CheckedResolver, check_address};
use crate::probe::{Error, ProbeSettings};

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate, the only form a server may send).
const HTTP_DATE: &[FormatItem<'static>] =
    format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");

/// A response that arrived in full within the caps.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) status: StatusCode,
    /// The `Date` header, if the server sent a valid one.
    pub(crate) date: Option<OffsetDateTime>,
    pub(crate) body: Vec<u8>,
    /// From the first byte sent to the last byte read, redirects included.
    pub(crate) latency: Duration,
    /// When the response was complete, on the monotonic clock (to place `date` against warden's own time).
    pub(crate) received: Instant,
    /// `(origin, leaf certificate DER)` of every HTTPS hop.
    pub(crate) certificates: Vec<(String, Vec<u8>)>,
}

/// One HTTP client with the caps of [`ProbeSettings`] and one address policy.
pub(crate) struct HttpClient {
    client: reqwest::Client,
    allow_private: bool,
    request_timeout: Duration,
    max_redirects: usize,
    max_response_bytes: usize,
}

impl HttpClient {
    /// A client that refuses special-purpose addresses unless `allow_private`.
    pub(crate) fn new(settings: &ProbeSettings, allow_private: bool) -> Result<HttpClient, Error> {
        let resolver = CheckedResolver { allow_private };
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .read_timeout(settings.request_timeout)
            .tls_info(true)
            .user_agent(concat!("warden-probe/", env!("CARGO_PKG_VERSION")));
        for der in &settings.extra_root_certificates {
            let certificate = reqwest::Certificate::from_der(der).map_err(|error| Error::Client(error.to_string()))?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder.build().map_err(|error| Error::Client(describe(&error)))?;
        Ok(HttpClient {
            client,
            allow_private,
            request_timeout: settings.request_timeout,
            max_redirects: settings.max_redirects,
            max_response_bytes: settings.max_response_bytes,
        })
    }

    /// GETs `url` (any status is an answer; the caller judges it) within the request timeout and the caps.
    pub(crate) async fn get(&self, url: &str, accept: &str) -> Result<Fetched, Error> {
        let url = parse_url(url)?;
        match tokio::time::timeout(self.request_timeout, self.follow(url, accept)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout { after: self.request_timeout }),
        }
    }

    async fn follow(&self, mut url: Url, accept: &str) -> Result<Fetched, Error> {
        let started = Instant::now();
        let mut certificates = Vec::new();
        let mut hops = 0;
        loop {
            self.check_literal_host(&url)?;
            let response = self
                .client
                .get(url.clone())
                .header(ACCEPT, accept)
                .send()
                .await
                .map_err(|error| from_reqwest(&error, self.request_timeout))?;
            if url.scheme() == "https"
                && let Some(info) = response.extensions().get::<reqwest::tls::TlsInfo>()
                && let Some(der) = info.peer_certificate()
            {
                certificates.push((url.origin().ascii_serialization(), der.to_vec()));
            }
            let status = response.status();
            if status.is_redirection()
                && let Some(location) = response.headers().get(LOCATION)
            {
                if hops == self.max_redirects {
                    return Err(Error::TooManyRedirects { limit: self.max_redirects });
                }
                hops += 1;
                let location = location.to_str().map_err(|_| Error::InvalidUrl {
                    url: String::from_utf8_lossy(location.as_bytes()).into_owned(),
                    message: "the redirect location is not text".to_owned(),
                })?;
                let next = url.join(location).map_err(|error| Error::InvalidUrl {
                    url: location.chars().take(200).collect(),
                    message: error.to_string(),
                })?;
                url = parse_url(next.as_str())?;
                continue;
            }
            let date = response
                .headers()
                .get(DATE)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| time::PrimitiveDateTime::parse(text, HTTP_DATE).ok())
                .map(time::PrimitiveDateTime::assume_utc);
            let body = self.read_body(response).await?;
            let received = Instant::now();
            return Ok(Fetched { status, date, body, latency: received - started, received, certificates });
        }
    }

    /// Address literals never reach the resolver: check them here (names are checked as they resolve).
    fn check_literal_host(&self, url: &Url) -> Result<(), Error> {
        let host = url.host_str().unwrap_or_default();
        if let Ok(address) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            check_address(host, address, self.allow_private)?;
        }
        Ok(())
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, Error> {
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(Error::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| from_reqwest(&error, self.request_timeout))? {
            if body.len() + chunk.len() > limit {
                return Err(Error::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Parses a URL to probe: http or https only, and without user info (no credentials go to a provider).
pub(crate) fn parse_url(text: &str) -> Result<Url, Error> {
    let mut url = Url::parse(text.trim())
        .map_err(|error| Error::InvalidUrl { url: text.chars().take(200).collect(), message: error.to_string() })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::UnsupportedScheme { url: url.to_string() });
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Setting these fails only for URLs that cannot have credentials, which http(s) URLs can.
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    Ok(url)
}

/// Our own error when the resolver refused the name (it travels inside the HTTP client's error), else the whole
/// cause chain as one line.
fn from_reqwest(error: &reqwest::Error, after: Duration) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(cause) = source {
        if let Some(ours) = cause.downcast_ref::<Error>() {
            return ours.clone();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return Error::Timeout { after };
    }
    Error::Connection(describe(error))
}

/// An error and its causes, `: `-separated, repeats dropped.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_probed_and_user_info_is_dropped() {
        assert_eq!(parse_url("https://user:secret@idp.example.com/x").unwrap().as_str(), "https://idp.example.com/x");
        assert!(matches!(parse_url("ftp://idp.example.com/"), Err(Error::UnsupportedScheme { .. })));
        assert!(matches!(parse_url("file:///etc/passwd"), Err(Error::UnsupportedScheme { .. })));
        assert!(matches!(parse_url("not a url"), Err(Error::InvalidUrl { .. })));
        // WHATWG parsing turns odd address spellings into the address the connection would go to.
        assert_eq!(parse_url("http://2130706433/").unwrap().host_str(), Some("127.0.0.1"));
        assert_eq!(parse_url("http://0x7f.1/").unwrap().host_str(), Some("127.0.0.1"));
    }

    #[test]
    fn http_dates_parse() {
        let parsed = time::PrimitiveDateTime::parse("Sun, 06 Nov 1994 08:49:37 GMT", HTTP_DATE).unwrap();
        assert_eq!(parsed.assume_utc().unix_timestamp(), 784_111_777);
    }
}
