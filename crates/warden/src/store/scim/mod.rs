//! SCIM provisioning: connections (bearer tokens into one tenant), users, groups with their members, and the
//! request log, in the shape of `store/observed` (`store`, `rows`, `sql`, the SQL's longer parts in `read` and
//! `write`), plus `cache`, the connections a serving process keeps by token hash. [`ScimStore`] is a supertrait of
//! [`crate::store::Store`], so every store has it.

mod cache;
mod read;
mod rows;
mod sql;
mod store;
mod write;

pub(crate) use cache::ConnectionCache;
pub(crate) use rows::{OUTBOX_INSERT_COLUMNS, push_outbox_rows};
pub use store::{
    ConnectionSettings, DeletePolicy, NewProvisioningOperation, ProvisioningOperationKind, ScimCondition,
    ScimConnection, ScimConnectionActivity, ScimConnectionId, ScimConnectionKind, ScimGroupMember, ScimKind, ScimPage,
    ScimQuery, ScimRecord, ScimRequestLogEntry, ScimSortKey, ScimStore, ScimTenant, ScimUserGroup, TokenHash,
    WriteEffects,
};
