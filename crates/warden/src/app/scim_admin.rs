//! SCIM connections: the tenants' bearer tokens (created, rotated with a grace period, disabled) and what each
//! connection did (activity counts, the request log). A token exists in clear only in the value these operations
//! return once; the store keeps its SHA-256.

use secrecy::SecretString;
use time::{Duration, OffsetDateTime};
use warden_core::id::OrgId;
use warden_core::model::{INSTANCE_USER_MANAGER_ROLES, ORG_USER_MANAGER_ROLES, user_manager_role};

use crate::app::tokens as token;
use crate::app::{App, Error};
use warden_core::operator::Operator;

use crate::store::{
    ConnectionSettings, DeletePolicy, ScimConnection, ScimConnectionActivity, ScimConnectionId, ScimConnectionKind,
    ScimRequestLogEntry, ScimTenant,
};

/// The window of a connection's request and error counts in [`connections`].
pub const ACTIVITY_WINDOW: Duration = Duration::days(1);

/// A connection with its token in clear: shown once, never stored.
pub struct IssuedToken {
    pub connection: ScimConnection,
    pub token: SecretString,
    /// Where the SCIM client sends its requests.
    pub base_url: String,
    /// Until when the previous token keeps working (after a rotation).
    pub previous_valid_until: Option<OffsetDateTime>,
}

/// The base URL a SCIM client of `org` is given (from `[server] public_url`, else the listen address).
pub fn base_url(app: &App, org: &OrgId) -> String {
    format!("{}/scim/v2/{org}", app.settings().scim.public_base_url)
}

/// What a new connection is for: its client, and its settings (provisioning, accepted tokens, expected activity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionOptions {
    pub kind: ScimConnectionKind,
    pub settings: ConnectionSettings,
}

impl ConnectionOptions {
    /// A connection whose writes stay in warden.
    pub fn without_provisioning(kind: ScimConnectionKind) -> ConnectionOptions {
        ConnectionOptions { kind, settings: ConnectionSettings::without_provisioning() }
    }
}

/// Creates a connection of a SCIM client into `org` of the configured `environment`. With provisioning on, the
/// environment's credential must be able to manage the org's users (checked with ZITADEL now, naming what is
/// missing); with ZITADEL's tokens accepted, no other connection of the org may accept them.
pub async fn create_connection(
    app: &App,
    environment: &str,
    org: OrgId,
    name: &str,
    options: ConnectionOptions,
) -> Result<IssuedToken, Error> {
    let environment = app.environment(environment)?.environment.clone();
    app.store().upsert_environment(&environment).await?;
    let tenant = ScimTenant { environment: environment.name, org_id: org };
    check_settings(app, &tenant, None, &options.settings).await?;
    issue_connection(app, tenant, name, options).await
}

/// What `warden scim connection configure` changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub provisioning: Option<bool>,
    pub delete_policy: Option<DeletePolicy>,
    pub zitadel_tokens: Option<bool>,
    /// `Some(None)` drops the expectation.
    pub expect_activity_within: Option<Option<Duration>>,
}

impl SettingsChange {
    fn applied_to(self, settings: ConnectionSettings) -> ConnectionSettings {
        ConnectionSettings {
            provisioning: self.provisioning.unwrap_or(settings.provisioning),
            delete_policy: self.delete_policy.unwrap_or(settings.delete_policy),
            zitadel_tokens: self.zitadel_tokens.unwrap_or(settings.zitadel_tokens),
            expect_activity_within: self.expect_activity_within.unwrap_or(settings.expect_activity_within),
        }
    }
}

/// Changes a connection's settings (by name or id), checked like [`create_connection`]'s; audited.
pub async fn configure_connection(
    app: &App,
    operator: &Operator,
    connection: &str,
    change: SettingsChange,
) -> Result<ScimConnection, Error> {
    let connection = find_connection(app, connection).await?;
    let settings = change.applied_to(connection.settings);
    let newly_provisioning = settings.provisioning && !connection.settings.provisioning;
    let checked = ConnectionSettings { provisioning: newly_provisioning, ..settings };
    check_settings(app, &connection.tenant, Some(&connection.id), &checked).await?;
    app.store().configure_scim_connection(&connection.id, &settings, operator.recorded_name(), app.now()).await?;
    tracing::info!(connection = %connection.id, ?settings, "SCIM connection configured");
    Ok(ScimConnection { settings, ..connection })
}

/// The connection an operator names: by name (which must be unambiguous) or by id.
pub async fn find_connection(app: &App, name_or_id: &str) -> Result<ScimConnection, Error> {
    let connections = app.store().list_scim_connections().await?;
    let matching: Vec<&ScimConnection> = connections
        .iter()
        .filter(|connection| connection.id.as_str() == name_or_id || connection.name == name_or_id)
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            Err(Error::NotFound(format!("no SCIM connection named {name_or_id:?} (see warden scim connection list)")))
        }
        _ => Err(Error::Invalid(format!("several SCIM connections are named {name_or_id:?}: name one by its id"))),
    }
}

/// Provisioning needs a credential that manages the org's users; ZITADEL's tokens may be accepted by one connection
/// per org (the SCIM URL names only the org).
async fn check_settings(
    app: &App,
    tenant: &ScimTenant,
    this: Option<&ScimConnectionId>,
    settings: &ConnectionSettings,
) -> Result<(), Error> {
    if settings.zitadel_tokens {
        let connections = app.store().list_scim_connections().await?;
        if let Some(other) = connections.iter().find(|other| {
            Some(&other.id) != this
                && other.disabled_at.is_none()
                && other.settings.zitadel_tokens
                && other.tenant.org_id == tenant.org_id
        }) {
            return Err(Error::Invalid(format!(
                "SCIM connection {} ({}) already accepts ZITADEL's tokens for org {}: a SCIM client names only the \
                 org, so one connection per org may",
                other.name, other.id, tenant.org_id
            )));
        }
    }
    if settings.provisioning {
        check_permission(app, tenant).await?;
    }
    Ok(())
}

/// Stores a new connection into `tenant` (whose environment the store holds) and returns its token.
pub async fn issue_connection(
    app: &App,
    tenant: ScimTenant,
    name: &str,
    options: ConnectionOptions,
) -> Result<IssuedToken, Error> {
    let now = app.now();
    let (token, hash) = token::issue_token();
    let connection = ScimConnection {
        id: ScimConnectionId::new(token::new_id(now)),
        tenant,
        name: name.to_owned(),
        kind: options.kind,
        token_hash: hash,
        previous_token_hash: None,
        previous_valid_until: None,
        disabled_at: None,
        created_at: now,
        settings: options.settings,
    };
    app.store().create_scim_connection(&connection).await?;
    tracing::info!(connection = %connection.id, org = %connection.tenant.org_id, "SCIM connection created");
    let base_url = base_url(app, &connection.tenant.org_id);
    Ok(IssuedToken { connection, token, base_url, previous_valid_until: None })
}

/// A connection as `warden scim connection list` shows it.
#[derive(Debug, Clone)]
pub struct ConnectionOverview {
    pub connection: ScimConnection,
    /// The last [`ACTIVITY_WINDOW`]'s requests and errors, and the last request ever logged.
    pub activity: ScimConnectionActivity,
    pub status: ConnectionStatus,
    pub base_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionStatus {
    Active,
    /// Active, and the token it replaced still works until then.
    Rotating {
        previous_valid_until: OffsetDateTime,
    },
    Disabled,
}

/// Every connection with its recent activity (never its token).
pub async fn connections(app: &App) -> Result<Vec<ConnectionOverview>, Error> {
    let store = app.store();
    let connections = store.list_scim_connections().await?;
    let now = app.now();
    let activities = store.scim_connection_activity(now - ACTIVITY_WINDOW).await?;
    Ok(connections
        .into_iter()
        .map(|connection| {
            let activity =
                activities.iter().find(|activity| activity.connection_id == connection.id).cloned().unwrap_or_else(
                    || ScimConnectionActivity {
                        connection_id: connection.id.clone(),
                        last_request_at: None,
                        requests: 0,
                        client_errors: 0,
                        server_errors: 0,
                    },
                );
            let status = match (connection.disabled_at, connection.previous_valid_until) {
                (Some(_), _) => ConnectionStatus::Disabled,
                (None, Some(until)) if until > now => ConnectionStatus::Rotating { previous_valid_until: until },
                _ => ConnectionStatus::Active,
            };
            let base_url = base_url(app, &connection.tenant.org_id);
            ConnectionOverview { connection, activity, status, base_url }
        })
        .collect())
}

/// Issues a new token for the connection; the previous one keeps working for `grace`.
pub async fn rotate_token(app: &App, id: &ScimConnectionId, grace: Duration) -> Result<IssuedToken, Error> {
    let store = app.store();
    let connection = store.scim_connection(id).await?.ok_or_else(|| no_connection(id))?;
    if connection.disabled_at.is_some() {
        return Err(Error::Invalid(format!("SCIM connection {id} is disabled")));
    }
    let (token, hash) = token::issue_token();
    let until = app.now() + grace;
    store.rotate_scim_connection_token(id, &hash, until).await?;
    tracing::info!(connection = %id, "SCIM token rotated");
    let base_url = base_url(app, &connection.tenant.org_id);
    Ok(IssuedToken { connection, token, base_url, previous_valid_until: Some(until) })
}

/// Stops every token of the connection at once.
pub async fn disable_connection(app: &App, id: &ScimConnectionId) -> Result<(), Error> {
    if app.store().disable_scim_connection(id, app.now()).await? { Ok(()) } else { Err(no_connection(id)) }
}

/// The connection's most recent requests, newest first.
pub async fn request_log(app: &App, id: &ScimConnectionId, limit: u32) -> Result<Vec<ScimRequestLogEntry>, Error> {
    let store = app.store();
    if store.scim_connection(id).await?.is_none() {
        return Err(no_connection(id));
    }
    Ok(store.list_scim_request_log(id, limit).await?)
}

fn no_connection(id: &ScimConnectionId) -> Error {
    Error::NotFound(format!("no SCIM connection {id}"))
}

/// Checks that the environment's credential may manage the users of the tenant's org (create, change, deactivate,
/// remove, grant), as ZITADEL itself says (`/auth/v1/memberships/me/_search`); the error names what is missing.
pub async fn check_permission(app: &App, tenant: &ScimTenant) -> Result<(), Error> {
    let client = app.zitadel(&tenant.environment)?;
    let memberships = client.list_my_memberships().await.map_err(|error| {
        Error::Invalid(format!(
            "cannot check what the credential of environment {} may do: {error}",
            tenant.environment
        ))
    })?;
    match user_manager_role(&memberships, &tenant.org_id) {
        Some(role) => {
            tracing::info!(environment = %tenant.environment, org = %tenant.org_id, role, "the credential may provision");
            Ok(())
        }
        None => Err(Error::Invalid(format!(
            "the credential of environment {} holds no role that manages users in org {}: provisioning creates users \
             and grants there, so give its service user {} in that org (or {} on the instance), or create the \
             connection with --provisioning off",
            tenant.environment,
            tenant.org_id,
            ORG_USER_MANAGER_ROLES.join(" or "),
            INSTANCE_USER_MANAGER_ROLES.join(" or "),
        ))),
    }
}
