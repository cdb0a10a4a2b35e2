//! A configured ZITADEL deployment that warden governs.

use std::collections::BTreeMap;

use crate::id::{EnvironmentName, OrgId};
use crate::model::text_enum::text_enum;

text_enum!(
    /// Which ZITADEL API generation to read through.
    ApiVersion {
        /// Probe once per run; use v2 where the instance serves it, else v1.
        Auto => "auto",
        V1 => "v1",
        V2 => "v2",
    }
);

text_enum!(
    /// Whose metadata a sync reads: one list per user, the largest part of a full sync of a large estate.
    MetadataScope {
        All => "all",
        /// Machine users' only: for estates where people's metadata does not matter.
        Machines => "machines",
        /// Nobody's.
        Nobody => "none",
    }
);

impl MetadataScope {
    /// Whether the metadata of a user (a machine user or not) is read.
    pub fn covers(&self, machine: bool) -> bool {
        match self {
            MetadataScope::All => true,
            MetadataScope::Machines => machine,
            _ => false,
        }
    }
}

/// An environment as recorded in the store (its credential is only ever referenced, never held).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: EnvironmentName,
    /// The ZITADEL instance's base URL.
    pub url: String,
    /// Where the credential comes from (`pat_env:ZITADEL_PROD_PAT`, `key_file:sa.json`, ...), for display.
    pub credential_reference: String,
    /// The organisations in scope; empty means every organisation the credential can see.
    pub orgs: Vec<OrgId>,
    pub sync_interval_seconds: u64,
    pub api: ApiVersion,
    pub labels: BTreeMap<String, String>,
}
