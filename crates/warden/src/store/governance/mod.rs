//! Governance: findings with their lifecycle, suppressions, trend points, alerts, webhook notifications and their
//! deliveries, and the audit log, in the shape of `store/observed` (`store`, `rows`, `sql`).

mod rows;
mod sql;
mod store;

pub use store::{
    AuditEvent, DeliveryAttempt, DeliveryStatus, GovernanceStore, NewNotification, Notification, WARDEN_OPERATOR,
};
