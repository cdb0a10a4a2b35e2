//! The objects an [`Estate`](crate::Estate) holds: plain data, one struct per ZITADEL resource.

use time::OffsetDateTime;
use time::macros::datetime;

/// The expiration ZITADEL reports for keys and PATs that never expire.
pub const NO_EXPIRY: OffsetDateTime = datetime!(9999-12-31 23:59:59 UTC);

/// Bookkeeping every stored object carries (ZITADEL's `ObjectDetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Aggregate sequence (number of events on the object).
    pub sequence: u64,
    /// When the object was created.
    pub created: OffsetDateTime,
    /// When the object was last changed.
    pub changed: OffsetDateTime,
}

impl ObjectMeta {
    /// Metadata of an object created (and last changed) at `created`.
    pub fn new(created: OffsetDateTime) -> Self {
        Self { sequence: 1, created, changed: created }
    }
}

/// Organization state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgState {
    /// `ORG_STATE_ACTIVE`.
    Active,
    /// `ORG_STATE_INACTIVE`.
    Inactive,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Org id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Primary domain, e.g. `acme.warden-sim.zitadel.cloud`.
    pub primary_domain: String,
    /// State.
    pub state: OrgState,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// User state (the subset the simulator produces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    /// `USER_STATE_ACTIVE`.
    Active,
    /// `USER_STATE_INACTIVE` (deactivated).
    Inactive,
    /// `USER_STATE_LOCKED`.
    Locked,
    /// `USER_STATE_INITIAL` (no password / unverified email yet).
    Initial,
}

/// Gender of a human user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    /// Not set (`GENDER_UNSPECIFIED`).
    Unspecified,
    /// `GENDER_FEMALE`.
    Female,
    /// `GENDER_MALE`.
    Male,
    /// `GENDER_DIVERSE`.
    Diverse,
}

/// Access token type of a machine user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTokenType {
    /// Opaque bearer tokens (the default, enum value 0).
    Bearer,
    /// JWT access tokens.
    Jwt,
}

/// Human-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanProfile {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Nick name (may be empty).
    pub nick_name: String,
    /// Display name.
    pub display_name: String,
    /// Preferred language tag (`en`, `de`, `und`, ...).
    pub preferred_language: String,
    /// Gender.
    pub gender: Gender,
    /// Email address.
    pub email: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Phone number (may be empty).
    pub phone: String,
    /// Whether the phone is verified.
    pub phone_verified: bool,
    /// When the password was last changed, if ever.
    pub password_changed: Option<OffsetDateTime>,
}

/// Machine-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineProfile {
    /// Name.
    pub name: String,
    /// Description (may be empty).
    pub description: String,
    /// Client secret for the client-credentials grant, if one is set.
    pub client_secret: Option<String>,
    /// Access token type.
    pub access_token_type: AccessTokenType,
}

/// Human or machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKind {
    /// A person.
    Human(HumanProfile),
    /// A service account.
    Machine(MachineProfile),
}

/// A user (human or machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub id: String,
    /// Owning org (resource owner).
    pub org_id: String,
    /// Login name within the org.
    pub user_name: String,
    /// State.
    pub state: UserState,
    /// Human or machine fields.
    pub kind: UserKind,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

impl User {
    /// Whether this is a machine user.
    pub fn is_machine(&self) -> bool {
        matches!(self.kind, UserKind::Machine(_))
    }

    /// The human profile, if human.
    pub fn human(&self) -> Option<&HumanProfile> {
        match &self.kind {
            UserKind::Human(human) => Some(human),
            UserKind::Machine(_) => None,
        }
    }

    /// The machine profile, if machine.
    pub fn machine(&self) -> Option<&MachineProfile> {
        match &self.kind {
            UserKind::Machine(machine) => Some(machine),
            UserKind::Human(_) => None,
        }
    }

    /// Display name: the human display name or the machine name.
    pub fn display_name(&self) -> &str {
        match &self.kind {
            UserKind::Human(human) => &human.display_name,
            UserKind::Machine(machine) => &machine.name,
        }
    }
}

/// A machine key (JWT profile key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineKey {
    /// Key id (the JWT `kid`).
    pub id: String,
    /// Owning machine user.
    pub user_id: String,
    /// Org of the user.
    pub org_id: String,
    /// Expiration ([`NO_EXPIRY`] = never).
    pub expiration: OffsetDateTime,
    /// PEM public key when the simulator can verify JWTs signed with this key.
    pub public_key_pem: Option<String>,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// A personal access token (metadata only; the token text is not stored here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalAccessToken {
    /// Token id.
    pub id: String,
    /// Owning machine user.
    pub user_id: String,
    /// Org of the user.
    pub org_id: String,
    /// Expiration ([`NO_EXPIRY`] = never).
    pub expiration: OffsetDateTime,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// Project state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectState {
    /// `PROJECT_STATE_ACTIVE`.
    Active,
    /// `PROJECT_STATE_INACTIVE`.
    Inactive,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Project id.
    pub id: String,
    /// Owning org.
    pub org_id: String,
    /// Name.
    pub name: String,
    /// State.
    pub state: ProjectState,
    /// Assert roles on authentication.
    pub project_role_assertion: bool,
    /// Check authorization (roles) on authentication (v2: `authorizationRequired`).
    pub project_role_check: bool,
    /// Check that the user's org has access (v2: `projectAccessRequired`).
    pub has_project_check: bool,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// A project role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRole {
    /// Internal id (not exposed by ZITADEL; keeps insertion order).
    pub internal_id: String,
    /// Project.
    pub project_id: String,
    /// Org owning the project.
    pub org_id: String,
    /// Role key.
    pub key: String,
    /// Display name.
    pub display_name: String,
    /// Group (may be empty).
    pub group: String,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// State of user grants and project grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// Active.
    Active,
    /// Inactive.
    Inactive,
}

/// A user grant (authorization): roles of one user on one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    /// Grant id.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// Resource owner of the grant (the org that granted; usually the user's org).
    pub org_id: String,
    /// The project.
    pub project_id: String,
    /// Project grant this grant is based on (cross-org grants), if any.
    pub project_grant_id: Option<String>,
    /// Role keys.
    pub role_keys: Vec<String>,
    /// State.
    pub state: GrantState,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// Where a manager membership applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipScope {
    /// The whole instance (`IAM_*` roles).
    Instance,
    /// One org (`ORG_*` roles).
    Org {
        /// The org.
        org_id: String,
    },
    /// One project (`PROJECT_*` roles).
    Project {
        /// The project.
        project_id: String,
        /// Org owning the project.
        org_id: String,
    },
    /// One project grant (`PROJECT_GRANT_*` roles).
    ProjectGrant {
        /// The project.
        project_id: String,
        /// The project grant.
        grant_id: String,
        /// Org owning the project.
        org_id: String,
        /// Org the project is granted to.
        granted_org_id: String,
    },
}

/// A manager membership (ZITADEL "member"): manager roles of a user on a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Internal id (not exposed; keeps insertion order).
    pub internal_id: String,
    /// The user.
    pub user_id: String,
    /// Scope.
    pub scope: MembershipScope,
    /// Manager roles (`IAM_OWNER`, `ORG_OWNER`, ...).
    pub roles: Vec<String>,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// A project granted to another org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectGrant {
    /// Grant id.
    pub id: String,
    /// Project.
    pub project_id: String,
    /// Org owning the project (resource owner of the grant).
    pub org_id: String,
    /// Org the project is granted to.
    pub granted_org_id: String,
    /// Role keys granted.
    pub role_keys: Vec<String>,
    /// State.
    pub state: GrantState,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// Application state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppState {
    /// `APP_STATE_ACTIVE`.
    Active,
    /// `APP_STATE_INACTIVE`.
    Inactive,
}

/// OIDC application type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcAppType {
    /// Server-side web app (enum 0).
    Web,
    /// Single-page app.
    UserAgent,
    /// Native app.
    Native,
}

/// Application configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppConfig {
    /// OIDC client.
    Oidc {
        /// Client id.
        client_id: String,
        /// App type.
        app_type: OidcAppType,
        /// Redirect URIs.
        redirect_uris: Vec<String>,
        /// Uses PKCE / no secret (`OIDC_AUTH_METHOD_TYPE_NONE`) instead of basic.
        auth_method_none: bool,
        /// Refresh tokens allowed.
        refresh_token: bool,
        /// Dev mode (allows http redirects).
        dev_mode: bool,
    },
    /// API (resource server) client.
    Api {
        /// Client id.
        client_id: String,
        /// Private key JWT instead of basic.
        private_key_jwt: bool,
    },
    /// SAML service provider.
    Saml {
        /// SP metadata XML.
        metadata_xml: String,
    },
}

/// An application of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// App id.
    pub id: String,
    /// Project.
    pub project_id: String,
    /// Org owning the project.
    pub org_id: String,
    /// Name.
    pub name: String,
    /// State.
    pub state: AppState,
    /// Configuration.
    pub config: AppConfig,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// Identity provider configuration (the variants the simulator produces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdpConfig {
    /// Generic OIDC.
    Oidc {
        /// Issuer URL.
        issuer: String,
        /// Client id.
        client_id: String,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// Google.
    Google {
        /// Client id.
        client_id: String,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// Microsoft Entra ID (Azure AD).
    AzureAd {
        /// Client id.
        client_id: String,
        /// Tenant id.
        tenant_id: String,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// SAML.
    Saml {
        /// IdP metadata XML (holds the signing certificates).
        metadata_xml: String,
        /// Not-after of the signing certificate inside the metadata (the soonest, during a rotation).
        certificate_not_after: OffsetDateTime,
    },
    /// Generic JWT.
    Jwt {
        /// Issuer of the JWTs.
        issuer: String,
        /// Where the user gets the JWT.
        jwt_endpoint: String,
        /// The JWKS of the signing keys.
        keys_endpoint: String,
        /// Header carrying the JWT.
        header_name: String,
    },
    /// LDAP.
    Ldap {
        /// `ldap://host:port` or `ldaps://host:port`.
        servers: Vec<String>,
        /// StartTLS on `ldap://`.
        start_tls: bool,
        /// Base DN.
        base_dn: String,
    },
    /// GitHub.
    Github {
        /// Client id.
        client_id: String,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// GitLab.
    Gitlab {
        /// Client id.
        client_id: String,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// Sign in with Apple.
    Apple {
        /// Client (services) id.
        client_id: String,
        /// Team id.
        team_id: String,
        /// Key id.
        key_id: String,
        /// Scopes.
        scopes: Vec<String>,
    },
}

/// Identity provider state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdpState {
    /// `IDP_STATE_ACTIVE`.
    Active,
    /// `IDP_STATE_INACTIVE`.
    Inactive,
}

/// An identity provider template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// IdP id.
    pub id: String,
    /// Owning org, or `None` for an instance-level provider.
    pub org_id: Option<String>,
    /// Name.
    pub name: String,
    /// State.
    pub state: IdpState,
    /// Linking allowed.
    pub is_linking_allowed: bool,
    /// Creation allowed.
    pub is_creation_allowed: bool,
    /// Auto creation.
    pub is_auto_creation: bool,
    /// Auto update.
    pub is_auto_update: bool,
    /// Configuration.
    pub config: IdpConfig,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// One metadata entry of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMetadata {
    /// Internal id (not exposed; keeps insertion order).
    pub internal_id: String,
    /// The user.
    pub user_id: String,
    /// Org of the user.
    pub org_id: String,
    /// Key.
    pub key: String,
    /// Raw value.
    pub value: Vec<u8>,
    /// Created/changed/sequence.
    pub meta: ObjectMeta,
}

/// Who made a change (ZITADEL's event editor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    /// User id of the editor.
    pub user_id: String,
    /// Display name at the time of the event.
    pub display_name: String,
}

/// One event of the instance's event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Sequence within its aggregate (1, 2, 3, ... per aggregate type and id), as ZITADEL's eventstore v3.
    pub sequence: u64,
    /// Global position in the log (1, 2, 3, ...), the order events were written (ZITADEL's `position`; the event
    /// API does not show it).
    pub position: u64,
    /// When it was written: the command's time (`max(now, previous event + 1 µs)`), shared by its command's events.
    pub created: OffsetDateTime,
    /// Who did it.
    pub editor: Editor,
    /// Aggregate type (`user`, `usergrant`, `org`, `project`, `instance`).
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Resource owner org id (the instance id for instance events).
    pub resource_owner: String,
    /// Event type (`user.human.added`, ...).
    pub event_type: String,
    /// Payload (enums as numbers, like ZITADEL).
    pub payload: serde_json::Value,
}

/// A rule id and subject the seed deliberately planted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededAnomaly {
    /// Rule id, e.g. `key-without-expiry`.
    pub rule: &'static str,
    /// Machine user id (credential/user rules) or IdP id (IdP rules).
    pub subject_id: String,
    /// Human-readable detail.
    pub note: String,
}

/// Object counts of an estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EstateCounts {
    /// Orgs.
    pub orgs: u64,
    /// All users.
    pub users: u64,
    /// Human users.
    pub human_users: u64,
    /// Machine users.
    pub machine_users: u64,
    /// Projects.
    pub projects: u64,
    /// Project roles.
    pub project_roles: u64,
    /// User grants.
    pub user_grants: u64,
    /// Machine keys.
    pub machine_keys: u64,
    /// Personal access tokens.
    pub personal_access_tokens: u64,
    /// Manager memberships.
    pub memberships: u64,
    /// Project grants.
    pub project_grants: u64,
    /// Applications.
    pub applications: u64,
    /// Identity providers.
    pub identity_providers: u64,
    /// User metadata entries.
    pub user_metadata: u64,
}
