//! The one storage seam: every SQL statement warden runs lives under this module.
//!
//! One folder per aggregate, each in the same shape: `observed` (environments, observed objects, sync runs,
//! changes: [`Store`], the supertrait of the others), `governance` ([`GovernanceStore`]), `scim` ([`ScimStore`]),
//! `leases` ([`LeaseStore`]: which process runs a job), `maintenance` ([`MaintenanceStore`]: retention, planner
//! statistics), `probes` ([`ProbeStore`]: provider health) and `provisioning` ([`ProvisioningStore`]: mappings, the
//! outbox of ZITADEL operations, what warden made in ZITADEL). Below them, `sql` holds the SQL machinery they share, written once over a `Dialect`; `postgres`
//! (the primary store that replicas share) and `sqlite` (the embedded default) implement it, each with its own
//! migrations with the same numbering. This file only declares the modules and re-exports what callers use.

mod error;
mod governance;
mod leases;
mod maintenance;
mod observed;
mod open;
mod postgres;
mod probes;
mod provisioning;
mod scim;
mod sql;
mod sql_store;
mod sqlite;

pub use error::Error;
pub use governance::{
    AuditEvent, DeliveryAttempt, DeliveryStatus, GovernanceStore, NewNotification, Notification, WARDEN_OPERATOR,
};
pub use leases::{Lease, LeaseAcquisition, LeaseStore};
pub use maintenance::{MaintenanceStore, RetentionCutoffs, RetentionPruned};
pub use observed::{ChangeQuery, ObjectScope, Store, SyncWrites};
pub use open::{SingleServer, claim_single_server, open, open_and_migrate};
pub use postgres::{create_scratch_database, drop_scratch_database};
pub use probes::ProbeStore;
pub use provisioning::{
    ConnectionBacklog, GroupRoleMapping, GroupSelector, ManagedGrant, ProvisionedUser, ProvisioningOperation,
    ProvisioningStore, RepairPlan,
};
pub use scim::{
    ConnectionSettings, DeletePolicy, NewProvisioningOperation, ProvisioningOperationKind, ScimCondition,
    ScimConnection, ScimConnectionActivity, ScimConnectionId, ScimConnectionKind, ScimGroupMember, ScimKind, ScimPage,
    ScimQuery, ScimRecord, ScimRequestLogEntry, ScimSortKey, ScimStore, ScimTenant, ScimUserGroup, TokenHash,
    WriteEffects,
};
