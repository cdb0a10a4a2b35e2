//! [`ZitadelClient`]: typed calls to one ZITADEL instance, paged, retried, rate-limited and version-negotiated.

mod read;
mod write;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use warden_core::id::OrgId;
use warden_core::model::ApiVersion;

use crate::credential::Credential;
use crate::dto::int64;
use crate::error::Error;
use crate::transport::{Call, RetryPolicy, Stats, Transport};

pub use read::{EventQuery, ZitadelEvent};
pub use write::{NewHumanUser, ProfileUpdate};

/// The largest page ZITADEL serves (v2 rejects more; v1 would return everything without a limit).
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// How to reach and treat one ZITADEL instance.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://acme.zitadel.cloud`: also the JWT-profile audience.
    pub base_url: String,
    pub credential: Credential,
    pub api: ApiVersion,
    /// Requests per second; 0 turns the limit off.
    pub rate_limit: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Per request, connection to last byte.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Items per page, at most [`MAX_PAGE_SIZE`].
    pub page_size: u32,
}

impl ClientOptions {
    /// ZITADEL Cloud's limits: 50 requests/s, 16 in flight, 30 s per request, pages of 1,000.
    pub fn new(base_url: impl Into<String>, credential: Credential) -> ClientOptions {
        ClientOptions {
            base_url: base_url.into(),
            credential,
            api: ApiVersion::Auto,
            rate_limit: 50,
            concurrency: 16,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            page_size: MAX_PAGE_SIZE,
        }
    }
}

/// The v2 services warden uses where they save requests; each may be missing on an older ZITADEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V2Service {
    Organizations,
    Users,
    Projects,
    Authorizations,
    Administrators,
    /// User v2 `ListKeys` (`POST /v2/users/keys/search`): newer than the rest of user v2, so probed on its own.
    MachineKeys,
    /// User v2 `ListPersonalAccessTokens` (`POST /v2/users/pats/search`).
    PersonalAccessTokens,
}

/// A client for one ZITADEL instance. Cheap to clone; clones share the rate limit, the concurrency bound, the
/// token cache and the statistics.
#[derive(Clone)]
pub struct ZitadelClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    api: ApiVersion,
    page_size: u32,
    absent_v2: Mutex<HashSet<V2Service>>,
}

/// How a list call pages: v1 and v2 object lists (`query` / `details.totalResult` / `result`) or v2 filter lists
/// (`pagination` / `pagination.totalResult` / a named item field).
#[derive(Debug, Clone, Copy)]
pub(crate) enum PageStyle {
    Query,
    Pagination { items: &'static str },
}

/// One list: where, what to ask for, and how to describe it.
pub(crate) struct ListCall<'a> {
    pub(crate) path: String,
    pub(crate) org: Option<&'a OrgId>,
    pub(crate) style: PageStyle,
    pub(crate) sorting_column: Option<&'static str>,
    /// `queries` (v1/v2 object lists) or `filters` (v2 filter lists), as ZITADEL expects them.
    pub(crate) filters: Option<serde_json::Value>,
    pub(crate) operation: String,
    pub(crate) permission: &'static str,
}

impl ZitadelClient {
    pub fn new(options: ClientOptions) -> Result<ZitadelClient, Error> {
        let base_url = options.base_url.trim_end_matches('/').to_owned();
        let valid = (base_url.starts_with("https://") || base_url.starts_with("http://"))
            && base_url
                .split_once("://")
                .map(|(_, host)| host)
                .is_some_and(|host| !host.is_empty() && !host.contains(['/', ' ']));
        if !valid {
            return Err(Error::InvalidBaseUrl(options.base_url));
        }
        let transport = Transport::new(
            base_url,
            options.credential,
            options.rate_limit,
            options.concurrency,
            options.timeout,
            options.retry,
        )?;
        Ok(ZitadelClient {
            inner: Arc::new(Inner {
                transport,
                api: options.api,
                page_size: options.page_size.clamp(1, MAX_PAGE_SIZE),
                absent_v2: Mutex::new(HashSet::new()),
            }),
        })
    }

    pub fn base_url(&self) -> &str {
        self.inner.transport.base_url()
    }

    /// Exchanges warden's credential for a new access token now, bypassing (and leaving) the token cache: the health
    /// probe's "can warden still get a token?". `None` for a personal access token, which is used as it is.
    pub async fn issue_access_token(&self) -> Result<Option<SecretString>, Error> {
        self.inner.transport.issue_token().await
    }

    /// Requests, retries and token exchanges so far.
    pub fn stats(&self) -> Arc<Stats> {
        self.inner.transport.stats.clone()
    }

    /// Whether a v2 service is worth calling: not with `api = "v1"`, and not once it proved absent under `auto`.
    pub fn uses_v2(&self, service: V2Service) -> bool {
        match &self.inner.api {
            ApiVersion::V1 => false,
            ApiVersion::V2 => true,
            _ => !self.inner.absent_v2.lock().is_ok_and(|absent| absent.contains(&service)),
        }
    }

    /// Runs a v2 call, or says (`Ok(None)`) that the caller should use v1 instead: under `auto` when the service is
    /// absent (remembered for the rest of the client's life), always under `v1`. Under `v2` absence is an error.
    pub(crate) async fn through_v2<T>(
        &self,
        service: V2Service,
        operation: &str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<Option<T>, Error> {
        if !self.uses_v2(service) {
            return Ok(None);
        }
        match call.await {
            Ok(value) => Ok(Some(value)),
            Err(error) if error.is_unimplemented() => match self.inner.api {
                ApiVersion::V2 => Err(Error::V2Unavailable { operation: operation.to_owned() }),
                _ => {
                    tracing::info!(?service, "ZITADEL does not serve this v2 service; using v1");
                    if let Ok(mut absent) = self.inner.absent_v2.lock() {
                        absent.insert(service);
                    }
                    Ok(None)
                }
            },
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        org: Option<&OrgId>,
        body: Option<serde_json::Value>,
        operation: String,
        permission: &'static str,
    ) -> Result<T, Error> {
        let call = Call { method, path, org, body, operation, permission: Some(permission) };
        self.inner.transport.json(&call).await
    }

    /// Every page of a list. Checks that each page holds what the total promised, that the total does not change
    /// while paging, and, where ZITADEL cannot sort the list, that no item arrived twice or went missing.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        list: &ListCall<'_>,
        key: impl Fn(&T) -> String,
    ) -> Result<Vec<T>, Error> {
        let page_size = u64::from(self.inner.page_size);
        let mut items: Vec<T> = Vec::new();
        let mut first_total = None;
        let mut offset = 0_u64;
        loop {
            let paging = serde_json::json!({"offset": offset.to_string(), "limit": page_size, "asc": true});
            let mut body = serde_json::Map::new();
            let filters_field = match list.style {
                PageStyle::Query => {
                    body.insert("query".to_owned(), paging);
                    "queries"
                }
                PageStyle::Pagination { .. } => {
                    body.insert("pagination".to_owned(), paging);
                    "filters"
                }
            };
            if let Some(column) = list.sorting_column {
                body.insert("sortingColumn".to_owned(), column.into());
            }
            if let Some(filters) = &list.filters {
                body.insert(filters_field.to_owned(), filters.clone());
            }
            let operation =
                if offset == 0 { list.operation.clone() } else { format!("{} (offset {offset})", list.operation) };
            let response: serde_json::Value = self
                .call(Method::POST, list.path.clone(), list.org, Some(body.into()), operation, list.permission)
                .await?;
            let (total, page) = read_page::<T>(&response, list.style)
                .map_err(|message| Error::InvalidResponse { operation: list.operation.clone(), message })?;
            match first_total {
                None => first_total = Some(total),
                Some(before) if before != total => {
                    return Err(Error::TotalChanged { operation: list.operation.clone(), before, after: total });
                }
                Some(_) => {}
            }
            let expected = page_size.min(total.saturating_sub(offset));
            if (page.len() as u64) < expected || page.len() as u64 > page_size {
                return Err(Error::ShortPage {
                    operation: list.operation.clone(),
                    offset,
                    received: page.len(),
                    expected,
                    total,
                });
            }
            let received = page.len() as u64;
            items.extend(page);
            offset += received;
            if received < page_size || offset >= total {
                break;
            }
        }
        if list.sorting_column.is_none() {
            let total = first_total.unwrap_or_default();
            let mut seen = HashSet::with_capacity(items.len());
            items.retain(|item| seen.insert(key(item)));
            if items.len() as u64 != total {
                return Err(Error::Incomplete { operation: list.operation.clone(), total, distinct: items.len() });
            }
        }
        Ok(items)
    }
}

fn read_page<T: DeserializeOwned>(response: &serde_json::Value, style: PageStyle) -> Result<(u64, Vec<T>), String> {
    let (total, items) = match style {
        PageStyle::Query => (response.pointer("/details/totalResult"), response.get("result")),
        PageStyle::Pagination { items } => (response.pointer("/pagination/totalResult"), response.get(items)),
    };
    let total = match total {
        None => 0,
        Some(value) => int64(value).map_err(|error| format!("totalResult: {error}"))?,
    };
    let items = match items {
        None => Vec::new(),
        Some(items) => Vec::<T>::deserialize(items).map_err(|error| error.to_string())?,
    };
    Ok((total, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        #[serde(default)]
        id: String,
    }

    #[test]
    fn pages_tolerate_missing_fields_and_unknown_ones() {
        let response =
            serde_json::json!({"details":{"totalResult":"2","viewTimestamp":"x"},"result":[{"id":"1","new":1},{}]});
        let (total, items) = read_page::<Item>(&response, PageStyle::Query).unwrap();
        assert_eq!((total, items.len(), items[0].id.as_str(), items[1].id.as_str()), (2, 2, "1", ""));

        let response =
            serde_json::json!({"pagination":{"totalResult":"3","appliedLimit":"100"},"projects":[{"id":"7"}]});
        let (total, items) = read_page::<Item>(&response, PageStyle::Pagination { items: "projects" }).unwrap();
        assert_eq!((total, items), (3, vec![Item { id: "7".to_owned() }]));

        let (total, items) = read_page::<Item>(&serde_json::json!({}), PageStyle::Query).unwrap();
        assert_eq!((total, items.len()), (0, 0));
        assert!(read_page::<Item>(&serde_json::json!({"details":{"totalResult":"x"}}), PageStyle::Query).is_err());
        assert!(read_page::<Item>(&serde_json::json!({"result":{"id":"1"}}), PageStyle::Query).is_err());
    }
}
