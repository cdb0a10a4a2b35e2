//! warden's integration tests: one binary, so everything links once.
//!
//! Store tests run on SQLite always and on PostgreSQL when `WARDEN_TEST_DATABASE_URL` is set (CI sets it; under
//! `CI=true` its absence is a failure, so the PostgreSQL half can never be skipped silently).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly by design")]
#![allow(unreachable_pub, reason = "a test binary exports nothing")]

mod actions;
mod app_sync;
mod architecture;
mod cli;
mod deploy_docs;
mod fixtures;
mod governance_cli;
mod governance_store;
mod health_cli;
mod history_cli;
mod posture;
mod probe_certificates;
mod probe_hostile;
mod probe_oidc_provider;
mod probe_servers;
mod probe_simulator;
mod probe_store;
mod provisioning;
mod provisioning_cli;
mod provisioning_health;
mod provisioning_outage;
mod provisioning_repair;
mod scheduler_store;
mod scim_bulk;
mod scim_cli;
mod scim_entra;
mod scim_fairness;
mod scim_input;
mod scim_isolation;
mod scim_membership;
mod scim_okta;
mod scim_properties;
mod scim_protocol;
mod scim_store;
mod scim_support;
mod serve;
mod serve_http;
mod store_contract;
mod store_locking;
mod support;
mod sync;
mod sync_cli;
mod sync_incremental;
mod zitadel_tokens;
