//! The provisioning aggregate's trait, [`ProvisioningStore`], and the types it takes and returns.

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::id::{ProjectId, RoleKey, UserGrantId, UserId};

use crate::store::Error;
use crate::store::scim::{NewProvisioningOperation, ProvisioningOperationKind, ScimConnectionId, ScimTenant};

/// An operation in the outbox: waiting, retried, claimed by a worker, or parked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisioningOperation {
    pub id: i64,
    pub connection_id: ScimConnectionId,
    pub tenant: ScimTenant,
    pub scim_user_id: String,
    pub kind: ProvisioningOperationKind,
    pub payload: serde_json::Value,
    pub enqueued_at: OffsetDateTime,
    /// Failed attempts so far.
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    /// Set once the operation stopped being retried: an operator retries or discards it.
    pub parked_at: Option<OffsetDateTime>,
}

/// Which SCIM groups of the tenant a mapping applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSelector {
    /// Groups with this displayName, compared case-insensitively (SCIM's displayName is not case-exact).
    DisplayName(String),
    /// The group with this externalId, compared exactly.
    ExternalId(String),
}

/// A connection's SCIM group granting role keys of a project in the connection's org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRoleMapping {
    pub id: String,
    pub connection_id: ScimConnectionId,
    pub tenant: ScimTenant,
    pub group: GroupSelector,
    pub project_id: ProjectId,
    pub role_keys: Vec<RoleKey>,
    pub created_by: String,
    pub created_at: OffsetDateTime,
}

/// The ZITADEL user a SCIM user became.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionedUser {
    pub tenant: ScimTenant,
    pub scim_user_id: String,
    pub zitadel_user_id: UserId,
    /// Found in ZITADEL with the same userName (not created by warden).
    pub linked: bool,
    /// The user as warden last wrote it.
    pub applied: serde_json::Value,
    pub provisioned_at: OffsetDateTime,
}

/// A user grant warden manages (only these are ever changed or removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedGrant {
    pub tenant: ScimTenant,
    pub zitadel_user_id: UserId,
    pub project_id: ProjectId,
    /// `None` while the grant is being added (its answer has not arrived).
    pub grant_id: Option<UserGrantId>,
    pub role_keys: Vec<RoleKey>,
    pub updated_at: OffsetDateTime,
}

/// What `warden provisioning repair` changes for a tenant, in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct RepairPlan<'a> {
    /// SCIM users whose ZITADEL user is gone: their links and managed grants are forgotten.
    pub forget: &'a [String],
    /// SCIM users whose state differs: what warden remembers writing (the user, its grants' roles) is reset, so
    /// their next operation sends everything again.
    pub resend: &'a [String],
    /// The operations that carry the repair out.
    pub operations: &'a [NewProvisioningOperation],
}

/// A connection's outbox at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionBacklog {
    pub connection_id: ScimConnectionId,
    /// Operations waiting (not parked).
    pub pending: u64,
    pub parked: u64,
    /// The oldest waiting (not parked) operation's enqueue time.
    pub oldest_enqueued_at: Option<OffsetDateTime>,
    /// Operations applied so far.
    pub applied: u64,
    /// When ZITADEL last accepted one of its operations.
    pub last_applied_at: Option<OffsetDateTime>,
}

#[async_trait]
pub trait ProvisioningStore: Send + Sync {
    // Mappings.

    /// Stores a mapping and, in the same transaction, audits it and enqueues a grants operation for every member of
    /// the groups it selects when its connection provisions. Returns how many operations it enqueued.
    async fn add_group_role_mapping(&self, mapping: &GroupRoleMapping) -> Result<u64, Error>;
    /// Removes a mapping (audited) and enqueues a grants operation for every member of its groups; `None` when
    /// there is no such mapping.
    async fn remove_group_role_mapping(
        &self,
        id: &str,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(GroupRoleMapping, u64)>, Error>;
    /// Every mapping, or a connection's, oldest first.
    async fn list_group_role_mappings(
        &self,
        connection: Option<&ScimConnectionId>,
    ) -> Result<Vec<GroupRoleMapping>, Error>;
    /// The tenant's mappings that select a group the SCIM user is a member of.
    async fn mappings_of_scim_user(
        &self,
        tenant: &ScimTenant,
        scim_user_id: &str,
    ) -> Result<Vec<GroupRoleMapping>, Error>;

    // The outbox.

    /// Extends every claim `holder` still has (not yet completed, failed or expired) to `claimed_until`: the
    /// heartbeat of a step whose operations are still being applied. Returns how many claims it extended.
    async fn extend_provisioning_claims(
        &self,
        holder: &str,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
    ) -> Result<u64, Error>;

    /// The connections with operations due at `now` and not claimed, in no particular order.
    async fn due_provisioning_connections(&self, now: OffsetDateTime) -> Result<Vec<ScimConnectionId>, Error>;
    /// Claims for `holder` until `claimed_until` up to `limit` due operations of one connection, each the first
    /// unfinished operation of its SCIM user (so one user's operations apply in order, one at a time, across every
    /// replica); on PostgreSQL rows another replica is claiming at that moment are skipped.
    async fn claim_provisioning_operations(
        &self,
        connection: &ScimConnectionId,
        holder: &str,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ProvisioningOperation>, Error>;
    /// An operation was applied: it leaves the outbox and counts as its connection's last applied.
    async fn complete_provisioning_operation(
        &self,
        operation: &ProvisioningOperation,
        now: OffsetDateTime,
    ) -> Result<(), Error>;
    /// An attempt failed: tried again at `retry_at`, or parked when `None`.
    async fn fail_provisioning_operation(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), Error>;
    /// Operations in the outbox (of one connection; parked ones only), in order, at most `limit`.
    async fn list_provisioning_operations(
        &self,
        connection: Option<&ScimConnectionId>,
        parked_only: bool,
        limit: u32,
    ) -> Result<Vec<ProvisioningOperation>, Error>;
    /// The SCIM users of the tenant with an operation in the outbox (waiting, retried, claimed or parked).
    async fn scim_users_in_outbox(&self, tenant: &ScimTenant) -> Result<Vec<String>, Error>;
    /// Every connection's backlog (connections without operations included), in connection order.
    async fn provisioning_backlogs(&self) -> Result<Vec<ConnectionBacklog>, Error>;
    /// Carries out a repair plan for `tenant` and audits it as `operator`'s (`provisioning.repair`); returns the
    /// operations enqueued.
    async fn enqueue_repair(
        &self,
        tenant: &ScimTenant,
        plan: &RepairPlan<'_>,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<u64, Error>;
    /// Unparks one parked operation (or all, for `None`) to be tried now, audited; returns how many.
    async fn retry_parked_operations(&self, id: Option<i64>, operator: &str, now: OffsetDateTime)
    -> Result<u64, Error>;
    /// Drops a parked or waiting operation for good, audited with the reason; `None` when there is none.
    async fn discard_provisioning_operation(
        &self,
        id: i64,
        reason: &str,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ProvisioningOperation>, Error>;

    // What warden made in ZITADEL.

    async fn provisioned_user(&self, tenant: &ScimTenant, scim_user_id: &str)
    -> Result<Option<ProvisionedUser>, Error>;
    async fn save_provisioned_user(&self, user: &ProvisionedUser) -> Result<(), Error>;
    async fn delete_provisioned_user(&self, tenant: &ScimTenant, scim_user_id: &str) -> Result<(), Error>;
    /// Every user warden provisioned into the tenant.
    async fn provisioned_users(&self, tenant: &ScimTenant) -> Result<Vec<ProvisionedUser>, Error>;
    async fn managed_grants(&self, tenant: &ScimTenant, user: &UserId) -> Result<Vec<ManagedGrant>, Error>;
    /// Every grant warden manages in the tenant.
    async fn managed_grants_of_tenant(&self, tenant: &ScimTenant) -> Result<Vec<ManagedGrant>, Error>;
    async fn save_managed_grant(&self, grant: &ManagedGrant) -> Result<(), Error>;
    async fn delete_managed_grant(&self, tenant: &ScimTenant, user: &UserId, project: &ProjectId) -> Result<(), Error>;
}
