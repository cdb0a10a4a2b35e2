//! A simulated ZITADEL instance over real HTTP, for tests, benchmarks and demos.
//!
//! - [`Estate`]: the in-memory model of one instance, with deterministic generators ([`Estate::seed`],
//!   [`Estate::large`]), accessors, mutation helpers (each appends ZITADEL events) and the list of planted anomalies.
//! - [`Simulator`]: serves the Management v1, Admin v1, v2 and v2beta REST routes warden uses, with grpc-gateway JSON
//!   conventions, PAT / JWT-profile / client-credentials authentication, ZITADEL error bodies, an exchange log and
//!   fault injection; steered through [`Control`] (or the `/__sim/` HTTP control API). It can call an Actions v2
//!   target for its new events ([`Control::add_action_target`]), signed as ZITADEL signs them.
//! - [`schemas`]: an exchange log checked against ZITADEL's published schemas.

mod error;
mod estate;
mod json;
pub mod schemas;
mod server;

pub use estate::{
    AccessTokenType, AppConfig, AppState, Application, Editor, Estate, EstateCounts, EstateError, EstateErrorKind,
    Event, Gender, GrantState, HumanProfile, IdentityProvider, IdpConfig, IdpState, MachineKey, MachineProfile,
    Membership, MembershipScope, NO_EXPIRY, NewHumanUser, ObjectMeta, OidcAppType, Org, OrgState, PersonalAccessToken,
    Project, ProjectGrant, ProjectRole, ProjectState, SERVICE_ACCOUNT_PRIVATE_KEY_PEM, SERVICE_ACCOUNT_PUBLIC_KEY_PEM,
    SeededAnomaly, User, UserGrant, UserKind, UserMetadata, UserState,
};
pub use json::format_timestamp;
pub use server::{
    AZURE_TENANT, ApiSupport, Control, Fault, FaultKind, ProbeProviders, ProviderEndpoint, Simulator, SimulatorOptions,
    action_event_body, actions_signature,
};
