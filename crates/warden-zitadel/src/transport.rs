//! Every HTTP exchange with ZITADEL goes through [`Transport`]: the rate limit, the concurrency bound, bearer
//! tokens (renewed once on a 401), timeouts, and retries with exponential backoff and jitter on 429/502/503/504,
//! timeouts and connection errors, honouring `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use warden_core::id::OrgId;

use crate::auth::{CachedToken, TokenErrorBody, TokenResponse, TokenSource};
use crate::credential::Credential;
use crate::error::{ApiFailure, Error};

/// How hard to try before giving up on one request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; each further retry doubles it, up to `max_backoff`. Jitter takes up to half of it away.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; longer requests are capped.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Counters of one client, shared by its clones.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    retries: AtomicU64,
    token_exchanges: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
}

impl Stats {
    /// HTTP requests sent, retries and token exchanges included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    pub fn token_exchanges(&self) -> u64 {
        self.token_exchanges.load(Ordering::Relaxed)
    }
    /// Requests answered with a 4xx status.
    pub fn client_errors(&self) -> u64 {
        self.client_errors.load(Ordering::Relaxed)
    }
    /// Requests answered with a 5xx status.
    pub fn server_errors(&self) -> u64 {
        self.server_errors.load(Ordering::Relaxed)
    }
    /// Requests that got no answer: timeouts, refused or broken connections.
    pub fn transport_errors(&self) -> u64 {
        self.transport_errors.load(Ordering::Relaxed)
    }
}

/// One API call: what to send and how to describe it in errors.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// Sent as `x-zitadel-orgid` (v1 Management API context).
    pub(crate) org: Option<&'a OrgId>,
    pub(crate) body: Option<serde_json::Value>,
    /// "list users of org 123": the start of every error message.
    pub(crate) operation: String,
    /// The ZITADEL permission the call needs, named when ZITADEL denies it.
    pub(crate) permission: Option<&'static str>,
}

struct RawResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

enum AttemptFailure {
    Timeout,
    Connection(String),
}

pub(crate) struct Transport {
    http: reqwest::Client,
    base_url: String,
    tokens: TokenSource,
    limiter: Option<DefaultDirectRateLimiter>,
    permits: Semaphore,
    policy: RetryPolicy,
    timeout: Duration,
    pub(crate) stats: Arc<Stats>,
}

impl Transport {
    pub(crate) fn new(
        base_url: String,
        credential: Credential,
        rate_limit: u32,
        concurrency: usize,
        timeout: Duration,
        policy: RetryPolicy,
    ) -> Result<Transport, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Error::Connection {
                operation: "build the HTTP client".to_owned(),
                message: error.to_string(),
            })?;
        // A burst of one spaces requests evenly: no window of any length ever sees more than the limit.
        let limiter = NonZeroU32::new(rate_limit)
            .map(|per_second| RateLimiter::direct(Quota::per_second(per_second).allow_burst(NonZeroU32::MIN)));
        Ok(Transport {
            http,
            base_url,
            tokens: TokenSource::new(credential),
            limiter,
            permits: Semaphore::new(concurrency.max(1)),
            policy,
            timeout,
            stats: Arc::new(Stats::default()),
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends the call with warden's credential and decodes a 2xx body as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, Error> {
        self.json_with(call, None).await
    }

    /// Sends the call with a bearer token someone else presented (never renewed, never cached) and decodes a 2xx
    /// body as `T`: ZITADEL vouches for the token by answering.
    pub(crate) async fn json_as<T: DeserializeOwned>(&self, call: &Call<'_>, token: &SecretString) -> Result<T, Error> {
        self.json_with(call, Some(token)).await
    }

    async fn json_with<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        presented: Option<&SecretString>,
    ) -> Result<T, Error> {
        let mut renewed = false;
        let mut undecodable = 0;
        loop {
            let token = match presented {
                Some(token) => token.clone(),
                None => self.bearer(&call.operation).await?,
            };
            let url = format!("{}{}", self.base_url, call.path);
            let response = self
                .send(&call.operation, || {
                    let mut request = self.http.request(call.method.clone(), &url).bearer_auth(token.expose_secret());
                    if let Some(org) = call.org {
                        request = request.header("x-zitadel-orgid", org.as_str());
                    }
                    match &call.body {
                        Some(body) => request.json(body),
                        None if call.method == Method::GET || call.method == Method::DELETE => request,
                        None => request.json(&serde_json::json!({})),
                    }
                })
                .await?;
            if response.status.is_success() {
                match serde_json::from_slice(&response.body) {
                    Ok(decoded) => return Ok(decoded),
                    // A cut-off or garbled body is a transport fault; the same request may well succeed.
                    Err(error) if undecodable < self.policy.max_retries => {
                        undecodable += 1;
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(operation = %call.operation, %error, "undecodable response; retrying");
                        tokio::time::sleep(self.backoff(undecodable)).await;
                        continue;
                    }
                    Err(error) => {
                        return Err(Error::InvalidResponse {
                            operation: call.operation.clone(),
                            message: error.to_string(),
                        });
                    }
                }
            }
            if response.status == StatusCode::UNAUTHORIZED
                && presented.is_none()
                && self.tokens.is_exchanged()
                && !renewed
            {
                renewed = true;
                self.tokens.invalidate(&token).await;
                tracing::debug!(operation = %call.operation, "access token rejected; exchanging the credential again");
                continue;
            }
            if response.status == StatusCode::TOO_MANY_REQUESTS {
                return Err(Error::RateLimited {
                    operation: call.operation.clone(),
                    attempts: self.policy.max_retries + 1,
                });
            }
            let failure = ApiFailure::parse(response.status.as_u16(), &response.body);
            return Err(failure.into_error(&call.operation, call.permission, call.org.map(OrgId::as_str)));
        }
    }

    /// Exchanges the credential at the token endpoint now, leaving the cache alone: whether warden can still get a
    /// token (a health probe). `None` for a personal access token, which is not exchanged.
    pub(crate) async fn issue_token(&self) -> Result<Option<SecretString>, Error> {
        if !self.tokens.is_exchanged() {
            return Ok(None);
        }
        let token = self.exchange("issue an access token").await?;
        Ok(Some(SecretString::from(token.access_token)))
    }

    /// One exchange of the credential at `/oauth/v2/token`.
    async fn exchange(&self, operation: &str) -> Result<TokenResponse, Error> {
        let request = self.tokens.token_request(&self.base_url)?;
        let url = format!("{}/oauth/v2/token", self.base_url);
        self.stats.token_exchanges.fetch_add(1, Ordering::Relaxed);
        let response = self
            .send(operation, || {
                let builder = self.http.post(&url).form(&request.form);
                match &request.basic {
                    Some((id, secret)) => builder.basic_auth(id, Some(secret.expose_secret())),
                    None => builder,
                }
            })
            .await?;
        if !response.status.is_success() {
            let body: TokenErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
            let error = body.error.unwrap_or_else(|| format!("HTTP {}", response.status.as_u16()));
            let message = match body.error_description {
                Some(description) => format!("{error}: {description}"),
                None => error,
            };
            return Err(Error::Token { message });
        }
        let token: TokenResponse = serde_json::from_slice(&response.body)
            .map_err(|error| Error::Token { message: format!("unexpected token response: {error}") })?;
        Ok(token)
    }

    /// A bearer token, exchanging the credential when there is no fresh one.
    async fn bearer(&self, operation: &str) -> Result<SecretString, Error> {
        if let Some(token) = self.tokens.current().await {
            return Ok(token);
        }
        let mut cached = self.tokens.renewal_lock().await;
        if let Some(fresh) = cached.as_ref().filter(|cached| cached.is_fresh()) {
            return Ok(fresh.token());
        }
        let token = self.exchange(operation).await?;
        let fresh = CachedToken::from_response(token);
        let token = fresh.token();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Sends a request built by `build` until it gets an answer that is not worth retrying, or retries run out.
    async fn send(&self, operation: &str, build: impl Fn() -> RequestBuilder) -> Result<RawResponse, Error> {
        let mut retry = 0;
        loop {
            let outcome = self.attempt(build()).await;
            let retryable_delay = match &outcome {
                Ok(response) if is_transient(response.status) => {
                    Some(retry_after(&response.headers).map(|delay| delay.min(self.policy.max_retry_after)))
                }
                Ok(_) => None,
                Err(_) => Some(None),
            };
            match retryable_delay {
                Some(requested) if retry < self.policy.max_retries => {
                    retry += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = requested.unwrap_or_else(|| self.backoff(retry));
                    tracing::debug!(%operation, retry, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                }
                _ => {
                    return outcome.map_err(|failure| match failure {
                        AttemptFailure::Timeout => {
                            Error::Timeout { operation: operation.to_owned(), after: self.timeout }
                        }
                        AttemptFailure::Connection(message) => {
                            Error::Connection { operation: operation.to_owned(), message }
                        }
                    });
                }
            }
        }
    }

    async fn attempt(&self, request: RequestBuilder) -> Result<RawResponse, AttemptFailure> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let _permit = self.permits.acquire().await.map_err(|_| AttemptFailure::Connection("client closed".into()))?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let exchange = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(RawResponse { status, headers, body })
        };
        let outcome = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Err(AttemptFailure::Timeout),
            Ok(Err(error)) if error.is_timeout() => Err(AttemptFailure::Timeout),
            // reqwest's messages name the URL and the cause, never headers (where the token travels).
            Ok(Err(error)) => Err(AttemptFailure::Connection(error_chain(&error))),
            Ok(Ok(response)) => Ok(response),
        };
        let counter = match &outcome {
            Err(_) => Some(&self.stats.transport_errors),
            Ok(response) if response.status.is_client_error() => Some(&self.stats.client_errors),
            Ok(response) if response.status.is_server_error() => Some(&self.stats.server_errors),
            Ok(_) => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }

    /// Exponential backoff with jitter: `initial * 2^(retry-1)`, capped, minus up to half at random.
    fn backoff(&self, retry: u32) -> Duration {
        let exponential = self.policy.initial_backoff.saturating_mul(1 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.policy.max_backoff);
        let jitter = rand::rng().random_range(0.0..=0.5);
        capped.mul_f64(1.0 - jitter)
    }
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the form ZITADEL and proxies use); HTTP dates are ignored in favour of backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
