//! Bearer tokens that the environment's ZITADEL vouches for, on the one connection of an org that accepts them
//! (`zitadel_tokens`): the PAT or client-credentials access token of a ZITADEL service user holding a user-manager
//! role in the org, exactly what ZITADEL's own SCIM server takes.
//!
//! ZITADEL is asked with the token itself (`POST /auth/v1/memberships/me/_search`): it answers only for a token it
//! issued that is still valid (opaque or JWT, PAT or access token alike), and the answer lists the manager roles of
//! the token's user. That is token introspection and the role lookup in one request, with no extra API application
//! to register. The verdict is kept for `[scim] zitadel_token_cache`, so a revoked token stops working within that
//! time; concurrent requests with the same token wait for one answer. The token itself is never kept: entries are
//! keyed by its SHA-256.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::sync::OnceCell;
use warden_core::id::EnvironmentName;
use warden_core::model::{INSTANCE_USER_MANAGER_ROLES, ORG_USER_MANAGER_ROLES, user_manager_role};
use warden_zitadel::ZitadelClient;

use crate::store::{ScimConnection, TokenHash};

/// The ZITADEL client of a configured environment (`None`: not configured or its credential cannot be read).
pub type ZitadelClients = Arc<dyn Fn(&EnvironmentName) -> Option<Arc<ZitadelClient>> + Send + Sync>;

/// Verdicts kept at most; beyond it, expired ones are dropped, then all (a flood of made-up tokens cannot grow it).
const MAX_VERDICTS: usize = 10_000;
/// Questions to ZITADEL in flight at once, across all tokens: they share the environment's client (its rate limit
/// and concurrency) with sync and provisioning, and a flood of made-up tokens must not take all of it.
const MAX_QUESTIONS: usize = 4;

/// What ZITADEL said about a token, for one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A valid token whose user manages the org's users by `role`.
    Accepted { user_id: String, role: String },
    /// ZITADEL does not know the token (made up, expired, revoked).
    Unknown,
    /// A valid token whose user may not manage the org's users.
    Forbidden { user_id: Option<String> },
}

impl Verdict {
    /// The answer to a refused request: who the token belongs to and what it lacks, never the token.
    pub(crate) fn forbidden_detail(user_id: Option<&str>, org: &str) -> String {
        format!(
            "the token's ZITADEL user{} holds no role that manages users in organization {org}: it needs {} there, \
             or {} on the instance",
            user_id.map(|id| format!(" {id}")).unwrap_or_default(),
            ORG_USER_MANAGER_ROLES.join(" or "),
            INSTANCE_USER_MANAGER_ROLES.join(" or "),
        )
    }
}

/// Why no verdict came.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VouchError {
    /// ZITADEL could not be asked (unreachable, failing, environment not configured).
    #[error("{0}")]
    Unavailable(String),
    /// The caller's address was throttled while the request waited for a question slot: ZITADEL is not asked.
    #[error("the address is throttled; retry after {0:?}")]
    Throttled(Duration),
}

struct Entry {
    asked_at: Instant,
    verdict: Arc<OnceCell<Verdict>>,
}

pub(crate) struct Vouching {
    clients: ZitadelClients,
    ttl: Duration,
    entries: Mutex<HashMap<([u8; 32], String), Entry>>,
    questions: tokio::sync::Semaphore,
}

impl Vouching {
    pub(crate) fn new(clients: ZitadelClients, ttl: Duration) -> Vouching {
        Vouching {
            clients,
            ttl,
            entries: Mutex::new(HashMap::new()),
            questions: tokio::sync::Semaphore::new(MAX_QUESTIONS),
        }
    }

    /// ZITADEL's verdict on `token` for the org of `connection`, from the cache while fresh. `throttled` is asked
    /// once the question's slot is had, right before ZITADEL would be: made-up tokens sent at once all pass the
    /// throttle at the door, and only this second look sees the failures of those answered meanwhile.
    pub(crate) async fn verdict(
        &self,
        connection: &ScimConnection,
        token: &str,
        hash: &TokenHash,
        throttled: impl Fn() -> Option<Duration>,
    ) -> Result<Verdict, VouchError> {
        let cell = self.cell(hash, connection.tenant.org_id.as_str(), Instant::now());
        let verdict = cell.get_or_try_init(|| self.ask(connection, token, throttled)).await?;
        Ok(verdict.clone())
    }

    /// Whether a token was accepted for some org within the cache time: a throttled address is still let through
    /// with it (like with a connection's own token).
    pub(crate) fn recently_accepted(&self, hash: &TokenHash, now: Instant) -> bool {
        self.lock().iter().any(|((entry_hash, _), entry)| {
            entry_hash == &hash.0
                && now.saturating_duration_since(entry.asked_at) < self.ttl
                && matches!(entry.verdict.get(), Some(Verdict::Accepted { .. }))
        })
    }

    fn cell(&self, hash: &TokenHash, org: &str, now: Instant) -> Arc<OnceCell<Verdict>> {
        let mut entries = self.lock();
        let key = (hash.0, org.to_owned());
        if let Some(entry) = entries.get(&key).filter(|entry| now.saturating_duration_since(entry.asked_at) < self.ttl)
        {
            return entry.verdict.clone();
        }
        if entries.len() >= MAX_VERDICTS {
            entries.retain(|_, entry| now.saturating_duration_since(entry.asked_at) < self.ttl);
            if entries.len() >= MAX_VERDICTS {
                entries.clear();
            }
        }
        let verdict = Arc::new(OnceCell::new());
        entries.insert(key, Entry { asked_at: now, verdict: verdict.clone() });
        verdict
    }

    async fn ask(
        &self,
        connection: &ScimConnection,
        token: &str,
        throttled: impl Fn() -> Option<Duration>,
    ) -> Result<Verdict, VouchError> {
        let environment = &connection.tenant.environment;
        let client = (self.clients)(environment).ok_or_else(|| {
            VouchError::Unavailable(format!("environment {environment} has no usable ZITADEL client"))
        })?;
        let org = &connection.tenant.org_id;
        let _question =
            self.questions.acquire().await.map_err(|_| VouchError::Unavailable("shutting down".to_owned()))?;
        if let Some(wait) = throttled() {
            return Err(VouchError::Throttled(wait));
        }
        let verdict = match client.memberships_of_token(&SecretString::from(token.to_owned())).await {
            Ok(memberships) => match user_manager_role(&memberships, org) {
                Some(role) => Verdict::Accepted {
                    user_id: memberships.first().map(|membership| membership.user_id.to_string()).unwrap_or_default(),
                    role: role.to_owned(),
                },
                None => {
                    Verdict::Forbidden { user_id: memberships.first().map(|membership| membership.user_id.to_string()) }
                }
            },
            Err(error) if error.is_unauthenticated() => Verdict::Unknown,
            Err(error) => return Err(VouchError::Unavailable(error.to_string())),
        };
        match &verdict {
            Verdict::Accepted { user_id, role } => {
                tracing::info!(connection = %connection.id, %org, user_id, role, "ZITADEL vouched for a bearer token");
            }
            Verdict::Forbidden { user_id } => {
                tracing::warn!(connection = %connection.id, %org, ?user_id, "a ZITADEL token without a user-manager role was refused");
            }
            Verdict::Unknown => {}
        }
        Ok(verdict)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<([u8; 32], String), Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
