//! Governance: findings with their lifecycle, suppressions, trend points, alerts, webhook notifications and their
//! deliveries, and the audit log, in the shape of `store/observed` (`store`, `rows`, `sql`), the SQL in a file per
//! sub-topic.

mod alerts;
pub(crate) mod audit;
mod findings;
mod notifications;
mod rows;
mod sql;
mod store;
mod suppressions;
mod trends;

pub use store::{
    AuditEvent, DeliveryAttempt, DeliveryStatus, GovernanceStore, NewNotification, Notification, WARDEN_OPERATOR,
};
