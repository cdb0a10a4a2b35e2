//! Provisioning into ZITADEL: group-to-role mappings, the durable outbox of ZITADEL operations that SCIM writes set
//! off, and what warden created in ZITADEL (linked users, managed grants), in the shape of `store/observed`
//! (`store`, `rows`, `sql`). The outbox's rows are inserted by the SCIM record writes (`store/scim/write`, which
//! owns their shape: `NewProvisioningOperation`), in the write's own transaction.

mod rows;
mod sql;
mod store;

pub use store::{
    ConnectionBacklog, GroupRoleMapping, GroupSelector, ManagedGrant, ProvisionedUser, ProvisioningOperation,
    ProvisioningStore, RepairPlan,
};
