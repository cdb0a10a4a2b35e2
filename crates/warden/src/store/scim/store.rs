//! The SCIM aggregate's trait, [`ScimStore`], and the types it takes and returns.
//!
//! A tenant ([`ScimTenant`]) is a ZITADEL organization of one environment. Every user, group and membership row is
//! keyed by its tenant; no method reads or writes across tenants.

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;
use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, OrgId};

use crate::store::Error;

/// The tenant a SCIM client provisions into: one ZITADEL organization in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScimTenant {
    pub environment: EnvironmentName,
    pub org_id: OrgId,
}

/// A connection's id: 128 random bits, printed like a UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScimConnectionId(String);

impl ScimConnectionId {
    pub fn new(text: impl Into<String>) -> ScimConnectionId {
        ScimConnectionId(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScimConnectionId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The SHA-256 of a bearer token: all the store ever holds of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("TokenHash(..)")
    }
}

/// Which SCIM client a connection is for (it changes nothing on the wire; it documents the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimConnectionKind {
    Okta,
    Entra,
    Generic,
}

impl ScimConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimConnectionKind::Okta => "okta",
            ScimConnectionKind::Entra => "entra",
            ScimConnectionKind::Generic => "generic",
        }
    }

    pub fn parse(text: &str) -> Option<ScimConnectionKind> {
        [ScimConnectionKind::Okta, ScimConnectionKind::Entra, ScimConnectionKind::Generic]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// A SCIM client's access to one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimConnection {
    pub id: ScimConnectionId,
    pub tenant: ScimTenant,
    pub name: String,
    pub kind: ScimConnectionKind,
    pub token_hash: TokenHash,
    /// The hash before the last rotation, accepted until `previous_valid_until`.
    pub previous_token_hash: Option<TokenHash>,
    pub previous_valid_until: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub settings: ConnectionSettings,
}

/// What an operator decides about a connection besides its token: whether its writes flow on into ZITADEL and how,
/// whom it accepts besides its own token, and how much activity it is expected to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionSettings {
    /// Whether the connection's writes flow on into ZITADEL (through the provisioning outbox).
    pub provisioning: bool,
    /// What a SCIM DELETE of a user does in ZITADEL.
    pub delete_policy: DeletePolicy,
    /// Whether a bearer token that the environment's ZITADEL vouches for (a service user's PAT or access token,
    /// whose user holds a user-manager role in the org) is accepted as well as the connection's own token.
    pub zitadel_tokens: bool,
    /// A connection with no request for this long is stalled; `None`: no expectation.
    pub expect_activity_within: Option<time::Duration>,
}

impl ConnectionSettings {
    /// Writes stay in warden; only the connection's own token is accepted; no activity is expected.
    pub fn without_provisioning() -> ConnectionSettings {
        ConnectionSettings::default()
    }
}

/// What a SCIM DELETE of a provisioned user does in ZITADEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletePolicy {
    /// The user is deactivated: nothing is lost, and a user created again with the same userName comes back.
    #[default]
    Deactivate,
    /// The user is removed, with its grants and memberships.
    Remove,
}

impl DeletePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletePolicy::Deactivate => "deactivate",
            DeletePolicy::Remove => "remove",
        }
    }

    pub fn parse(text: &str) -> Option<DeletePolicy> {
        [DeletePolicy::Deactivate, DeletePolicy::Remove].into_iter().find(|policy| policy.as_str() == text)
    }
}

/// Which resource type a record is: users and groups share the record's shape and the store's methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimKind {
    User,
    Group,
}

impl ScimKind {
    pub const ALL: [ScimKind; 2] = [ScimKind::User, ScimKind::Group];
}

/// A stored SCIM user or group.
///
/// `resource` is the normalized resource with its `id` and without `meta` (rendered per request), a group's
/// `members` (stored as rows) or a user's `groups` (read from those rows). `version` starts at 1 and grows by one
/// with every write; it is the ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimRecord {
    pub tenant: ScimTenant,
    pub id: String,
    pub resource: Value,
    /// A group's members; always empty for a user.
    pub members: Vec<ScimGroupMember>,
    /// The groups a user is a direct member of, ordered by displayName then id: filled when read, ignored when
    /// written; always empty for a group.
    pub groups: Vec<ScimUserGroup>,
    pub version: i64,
    pub created: OffsetDateTime,
    pub last_modified: OffsetDateTime,
}

/// One member of a group, kept as the client sent it.
///
/// `value` is usually the id of a user of the same tenant, but need not be: a client may name an id warden does not
/// know (RFC 7643 leaves references to the client), and it is kept as sent. A member is only ever resolved against
/// users of the group's own tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroupMember {
    pub value: String,
    /// As the client sent it; when read without one, the displayName (else the userName) of the tenant's user with
    /// this id.
    pub display: Option<String>,
    /// `User` or `Group` as the client sent it; when read without one, `User` if the id is a user of the tenant.
    pub member_type: Option<String>,
}

/// A group a user is a direct member of (the readOnly `groups` attribute of RFC 7643 section 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUserGroup {
    pub group_id: String,
    pub display: String,
}

/// A condition the store evaluates with an index. Several conditions are combined with `and`.
///
/// `UserName`, `DisplayName` and `Email` compare case-insensitively (their schemas say caseExact false), `Id` and
/// `ExternalId` exactly. A condition a resource type does not have (`UserName` on groups) matches nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimCondition {
    Id(String),
    UserName(String),
    ExternalId(String),
    DisplayName(String),
    /// Any of a user's email addresses.
    Email(String),
}

/// The sort keys the store orders by; resources without the attribute come last in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScimSortKey {
    /// Creation order, the default: stable across pages.
    #[default]
    Created,
    LastModified,
    Id,
    UserName,
    DisplayName,
    ExternalId,
}

/// One page of a filtered list. Ties are broken by creation order, then id, so paging is stable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimQuery {
    pub conditions: Vec<ScimCondition>,
    pub sort: ScimSortKey,
    pub descending: bool,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return at most; `None` returns all.
    pub limit: Option<u64>,
}

/// A page and the number of matches across all pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScimPage {
    pub total: u64,
    pub records: Vec<ScimRecord>,
}

/// What a provisioning operation does for its SCIM user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisioningOperationKind {
    /// Make the ZITADEL user match the SCIM user as the payload has it (create or link it first), then its grants.
    UpsertUser,
    /// Apply the connection's delete policy (in the payload) to the user's ZITADEL user.
    DeleteUser,
    /// Make the user's warden-managed grants the union of its groups' mappings, as they are when applied.
    SyncGrants,
}

impl ProvisioningOperationKind {
    pub const ALL: [ProvisioningOperationKind; 3] = [
        ProvisioningOperationKind::UpsertUser,
        ProvisioningOperationKind::DeleteUser,
        ProvisioningOperationKind::SyncGrants,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProvisioningOperationKind::UpsertUser => "user.upsert",
            ProvisioningOperationKind::DeleteUser => "user.delete",
            ProvisioningOperationKind::SyncGrants => "user.grants",
        }
    }

    pub fn parse(text: &str) -> Option<ProvisioningOperationKind> {
        ProvisioningOperationKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// An operation to enqueue: it commits with the SCIM write that sets it off (and takes that write's tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct NewProvisioningOperation {
    pub connection_id: ScimConnectionId,
    pub scim_user_id: String,
    pub kind: ProvisioningOperationKind,
    pub payload: serde_json::Value,
    pub enqueued_at: OffsetDateTime,
}

/// What commits with a record write besides the record: the request's log row and the provisioning operations the
/// write sets off (each row of the outbox names its SCIM user; all share the write's tenant).
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteEffects<'a> {
    pub log: Option<&'a ScimRequestLogEntry>,
    pub provisioning: &'a [NewProvisioningOperation],
}

impl WriteEffects<'static> {
    /// Nothing besides the record.
    pub const NONE: WriteEffects<'static> = WriteEffects { log: None, provisioning: &[] };
}

impl<'a> WriteEffects<'a> {
    pub fn logged(log: &'a ScimRequestLogEntry) -> WriteEffects<'a> {
        WriteEffects { log: Some(log), provisioning: &[] }
    }
}

/// One request a connection made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRequestLogEntry {
    pub connection_id: ScimConnectionId,
    pub at: OffsetDateTime,
    pub method: String,
    /// The path without the query string (which may carry personal data in a filter).
    pub path: String,
    pub status: u16,
    pub latency_ms: u64,
}

/// What a connection's request log tells of it: when it last called, and how its recent requests went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimConnectionActivity {
    pub connection_id: ScimConnectionId,
    /// Its most recent logged request, however old (the log keeps `[scim] request_log_retention`).
    pub last_request_at: Option<OffsetDateTime>,
    /// Requests since the window's start.
    pub requests: u64,
    /// Of those, answered 4xx (a 409 on a create is normal for Entra ID; many 400s are not).
    pub client_errors: u64,
    /// Of those, answered 5xx.
    pub server_errors: u64,
}

/// SCIM provisioning storage, implemented by every [`crate::store::Store`].
///
/// Errors a caller is expected to handle: [`Error::ScimUniqueness`] (a userName already taken in the tenant,
/// compared case-insensitively), [`Error::ScimVersionMismatch`] (the stored version is not the expected one) and
/// [`Error::ScimNotFound`].
///
/// Every write takes the request-log row of the request that makes it, if any, and the provisioning operations it
/// sets off ([`WriteEffects`]), and commits them in the same transaction as the data change: a write is logged and
/// provisioned if and only if it happened.
#[async_trait]
pub trait ScimStore: Send + Sync {
    // Connections.

    /// Stores a new connection; its environment must be in the store.
    async fn create_scim_connection(&self, connection: &ScimConnection) -> Result<(), Error>;
    /// Every connection, oldest first.
    async fn list_scim_connections(&self) -> Result<Vec<ScimConnection>, Error>;
    async fn scim_connection(&self, id: &ScimConnectionId) -> Result<Option<ScimConnection>, Error>;
    /// The connection whose current or previous token hash is `hash`, disabled or not and whatever the grace
    /// period: the caller decides, comparing in constant time. Cached on PostgreSQL while the process listens for
    /// connection changes, which every connection write below announces (`store::scim::cache`): a connection
    /// disabled or rotated by another process (`warden scim connection disable`) takes effect as soon as the
    /// notification arrives.
    async fn scim_connection_by_token(&self, hash: &TokenHash) -> Result<Option<ScimConnection>, Error>;
    /// Makes `new_hash` the token; the current one stays valid until `previous_valid_until`. Returns whether the
    /// connection exists.
    async fn rotate_scim_connection_token(
        &self,
        id: &ScimConnectionId,
        new_hash: &TokenHash,
        previous_valid_until: OffsetDateTime,
    ) -> Result<bool, Error>;
    /// Disables a connection for good; returns whether it exists.
    async fn disable_scim_connection(&self, id: &ScimConnectionId, at: OffsetDateTime) -> Result<bool, Error>;
    /// Replaces the connection's settings, audited as `operator`'s; returns whether the connection exists.
    async fn configure_scim_connection(
        &self,
        id: &ScimConnectionId,
        settings: &ConnectionSettings,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<bool, Error>;
    /// The enabled connection of `org` (in any environment) that accepts tokens its ZITADEL vouches for; the oldest
    /// if several do. Cached like [`ScimStore::scim_connection_by_token`].
    async fn scim_connection_accepting_zitadel_tokens(&self, org: &str) -> Result<Option<ScimConnection>, Error>;

    // Users and groups.

    /// Stores a new record with its dependent rows (a user's email index, a group's members) in one transaction.
    async fn insert_scim_record(
        &self,
        kind: ScimKind,
        record: &ScimRecord,
        effects: &WriteEffects<'_>,
    ) -> Result<(), Error>;
    async fn scim_record(&self, kind: ScimKind, tenant: &ScimTenant, id: &str) -> Result<Option<ScimRecord>, Error>;
    /// Replaces `previous` (the record as read) with `record` (`record.version` is the new one) if the stored version
    /// is still `previous.version`, in one transaction. Of the dependent rows only those that differ between the
    /// two are written, so a rename touches none and a member added to a large group writes one row.
    async fn update_scim_record(
        &self,
        kind: ScimKind,
        record: &ScimRecord,
        previous: &ScimRecord,
        effects: &WriteEffects<'_>,
    ) -> Result<(), Error>;
    /// Deletes a record (a user also from every group of its tenant), checking the version when one is given.
    async fn delete_scim_record(
        &self,
        kind: ScimKind,
        tenant: &ScimTenant,
        id: &str,
        expected_version: Option<i64>,
        effects: &WriteEffects<'_>,
    ) -> Result<(), Error>;
    async fn list_scim_records(
        &self,
        kind: ScimKind,
        tenant: &ScimTenant,
        query: &ScimQuery,
    ) -> Result<ScimPage, Error>;

    // Request log.

    /// Logs requests that wrote nothing (reads, refused or failed requests), in one statement. Their commit does not
    /// wait for the disk on PostgreSQL (`synchronous_commit = off` for this transaction only): a database crash may
    /// lose the last fraction of a second of these rows, never a write's row or its data.
    async fn insert_scim_request_logs(&self, entries: &[ScimRequestLogEntry]) -> Result<(), Error>;
    /// A connection's most recent requests, newest first.
    async fn list_scim_request_log(
        &self,
        connection_id: &ScimConnectionId,
        limit: u32,
    ) -> Result<Vec<ScimRequestLogEntry>, Error>;
    /// Every connection's activity since `since`, in connection order; a connection without requests has zeros.
    async fn scim_connection_activity(&self, since: OffsetDateTime) -> Result<Vec<ScimConnectionActivity>, Error>;
    /// Deletes at most `limit` request-log rows logged before `before`, oldest first; returns how many it deleted.
    async fn delete_scim_request_logs_before(&self, before: OffsetDateTime, limit: u32) -> Result<u64, Error>;
}
