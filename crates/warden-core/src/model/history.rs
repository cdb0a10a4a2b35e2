//! What warden records about its own observations: sync runs and the changes they found.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::id::{EnvironmentName, OrgId, SyncRunId, UserId};
use crate::model::text_enum::text_enum;
use crate::model::{ObjectKey, ResourceKind};

text_enum!(
    /// How a sync run ended.
    SyncStatus {
        Running => "running",
        /// Everything in scope was read and applied.
        Ok => "ok",
        /// Some scopes could not be read; their stored state was kept as it was.
        Partial => "partial",
        Failed => "failed",
        /// Its process ended (killed, shut down past its grace, or it lost its lease) before it finished; nothing
        /// of it was stored.
        Interrupted => "interrupted",
    }
);

text_enum!(
    /// How a sync run read ZITADEL.
    SyncMode {
        /// Every list, everything compared with the store.
        Full => "full",
        /// Only what ZITADEL's events since the last trusted position name, with its fan-out.
        Incremental => "incremental",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: SyncRunId,
    pub environment: EnvironmentName,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub status: SyncStatus,
    pub counts: BTreeMap<ResourceKind, u64>,
    pub errors: Vec<SyncError>,
    pub requests: u64,
    pub retries: u64,
    /// The process that ran it (`host:pid:suffix`), when it was run under a lease.
    pub holder: Option<String>,
    pub mode: SyncMode,
    /// Why the run was full or incremental (`first sync`, `requested`, `events since ...`).
    pub mode_reason: String,
    /// The creation date of the newest ZITADEL event the run accounts for; set only on a run that ended `ok`, and
    /// where the next incremental run reads on from.
    pub event_position: Option<OffsetDateTime>,
    /// What the position is valid for (the environment's scope settings and warden's reading of ZITADEL); a
    /// position recorded under another basis is not trusted.
    pub basis: Option<String>,
}

/// A scope (resource type x org) that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError {
    pub scope: String,
    pub message: String,
}

text_enum!(
    ChangeKind { Added => "added", Removed => "removed", Modified => "modified" }
);

/// One field's value before and after a change (`None` where the object did not exist or the field was unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Who made a change and when, as far as warden can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    /// Only observed: the change happened at some point before `observed_at`; the actor is unknown.
    Observed,
    /// Read from ZITADEL's event store.
    Event { editor_user_id: Option<UserId>, editor_name: Option<String>, occurred_at: OffsetDateTime },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub environment: EnvironmentName,
    pub run_id: SyncRunId,
    pub observed_at: OffsetDateTime,
    pub object_kind: ResourceKind,
    pub object_key: ObjectKey,
    pub org_id: Option<OrgId>,
    pub kind: ChangeKind,
    pub fields: Vec<FieldChange>,
    pub attribution: Attribution,
}
