//! How each domain type maps onto its table: column lists, bound values and decoding, shared by both dialects.

use std::collections::BTreeMap;

use serde_json::json;
use warden_core::id::{EnvironmentName, SyncRunId};
use warden_core::model::{
    AccessTokenType, ApiVersion, Application, ApplicationKind, ApplicationState, Attribution, Change, ChangeKind,
    Environment, FieldChange, GrantState, HumanProfile, IdentityProvider, IdpOwner, IdpState, KeyType, MachineKey,
    MachineProfile, Membership, MembershipScope, Observed, Org, OrgState, PersonalAccessToken, Project, ProjectGrant,
    ProjectRole, ProjectState, ProviderType, ResourceKind, SyncError, SyncMode, SyncRun, SyncStatus, User, UserGrant,
    UserKind, UserMetadata, UserState,
};

use crate::store::Error;
use crate::store::sql::{RowView, SqlValue};

/// An observed object type and its table. Every such table also has `environment` and `id` (the object key).
pub(crate) trait Record: Observed + Sized + Send + Sync {
    const TABLE: &'static str;
    /// The columns after `environment` and `id`, in the order of [`Record::values`].
    const COLUMNS: &'static [&'static str];
    fn values(&self) -> Vec<SqlValue>;
    fn decode(row: &RowView<'_>) -> Result<Self, Error>;
}

pub(crate) fn table_of(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Org => Org::TABLE,
        ResourceKind::Project => Project::TABLE,
        ResourceKind::ProjectRole => ProjectRole::TABLE,
        ResourceKind::User => User::TABLE,
        ResourceKind::MachineKey => MachineKey::TABLE,
        ResourceKind::PersonalAccessToken => PersonalAccessToken::TABLE,
        ResourceKind::UserGrant => UserGrant::TABLE,
        ResourceKind::Membership => Membership::TABLE,
        ResourceKind::ProjectGrant => ProjectGrant::TABLE,
        ResourceKind::Application => Application::TABLE,
        ResourceKind::IdentityProvider => IdentityProvider::TABLE,
        ResourceKind::UserMetadata => UserMetadata::TABLE,
    }
}

fn id_text(id: Option<&impl AsRef<str>>) -> SqlValue {
    SqlValue::NullableText(id.map(|id| id.as_ref().to_owned()))
}

impl Record for Org {
    const TABLE: &'static str = "org";
    const COLUMNS: &'static [&'static str] = &["name", "state", "primary_domain", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(&self.name),
            SqlValue::text(self.state.as_str()),
            SqlValue::text(&self.primary_domain),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(Org {
            id: row.id("id")?,
            name: row.text("name")?,
            state: OrgState::from_text(&row.text("state")?),
            primary_domain: row.text("primary_domain")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for Project {
    const TABLE: &'static str = "project";
    const COLUMNS: &'static [&'static str] =
        &["org_id", "name", "state", "role_assertion", "role_check", "has_project_check", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(&self.name),
            SqlValue::text(self.state.as_str()),
            SqlValue::Boolean(self.role_assertion),
            SqlValue::Boolean(self.role_check),
            SqlValue::Boolean(self.has_project_check),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(Project {
            id: row.id("id")?,
            org_id: row.id("org_id")?,
            name: row.text("name")?,
            state: ProjectState::from_text(&row.text("state")?),
            role_assertion: row.boolean("role_assertion")?,
            role_check: row.boolean("role_check")?,
            has_project_check: row.boolean("has_project_check")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for ProjectRole {
    const TABLE: &'static str = "project_role";
    const COLUMNS: &'static [&'static str] =
        &["project_id", "org_id", "role_key", "display_name", "role_group", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.project_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(self.key.as_str()),
            SqlValue::text(&self.display_name),
            SqlValue::text(&self.group),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(ProjectRole {
            project_id: row.id("project_id")?,
            org_id: row.id("org_id")?,
            key: row.id("role_key")?,
            display_name: row.text("display_name")?,
            group: row.text("role_group")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for User {
    const TABLE: &'static str = "zitadel_user";
    const COLUMNS: &'static [&'static str] = &[
        "org_id",
        "kind",
        "username",
        "preferred_login_name",
        "state",
        "display_name",
        "given_name",
        "family_name",
        "nick_name",
        "preferred_language",
        "email",
        "email_verified",
        "phone",
        "phone_verified",
        "description",
        "has_secret",
        "access_token_type",
        "created_at",
        "changed_at",
    ];

    fn values(&self) -> Vec<SqlValue> {
        let mut values = vec![
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(if self.is_machine() { "machine" } else { "human" }),
            SqlValue::text(&self.username),
            SqlValue::text(&self.preferred_login_name),
            SqlValue::text(self.state.as_str()),
        ];
        let text = |value: &str| SqlValue::NullableText(Some(value.to_owned()));
        match &self.kind {
            UserKind::Human(human) => values.extend([
                SqlValue::text(&human.display_name),
                text(&human.given_name),
                text(&human.family_name),
                text(&human.nick_name),
                text(&human.preferred_language),
                text(&human.email),
                SqlValue::NullableBoolean(Some(human.email_verified)),
                text(&human.phone),
                SqlValue::NullableBoolean(Some(human.phone_verified)),
                SqlValue::NullableText(None),
                SqlValue::NullableBoolean(None),
                SqlValue::NullableText(None),
            ]),
            UserKind::Machine(machine) => values.extend([
                SqlValue::text(&machine.name),
                SqlValue::NullableText(None),
                SqlValue::NullableText(None),
                SqlValue::NullableText(None),
                SqlValue::NullableText(None),
                SqlValue::NullableText(None),
                SqlValue::NullableBoolean(None),
                SqlValue::NullableText(None),
                SqlValue::NullableBoolean(None),
                text(&machine.description),
                SqlValue::NullableBoolean(Some(machine.has_secret)),
                text(machine.access_token_type.as_str()),
            ]),
        }
        values.extend([SqlValue::Time(self.created_at), SqlValue::Time(self.changed_at)]);
        values
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        let text = |column| Ok::<_, Error>(row.optional_text(column)?.unwrap_or_default());
        let flag = |column| Ok::<_, Error>(row.optional_boolean(column)?.unwrap_or_default());
        let kind = match row.text("kind")?.as_str() {
            "machine" => UserKind::Machine(MachineProfile {
                name: row.text("display_name")?,
                description: text("description")?,
                has_secret: flag("has_secret")?,
                access_token_type: AccessTokenType::from_text(&text("access_token_type")?),
            }),
            "human" => UserKind::Human(HumanProfile {
                display_name: row.text("display_name")?,
                given_name: text("given_name")?,
                family_name: text("family_name")?,
                nick_name: text("nick_name")?,
                preferred_language: text("preferred_language")?,
                email: text("email")?,
                email_verified: flag("email_verified")?,
                phone: text("phone")?,
                phone_verified: flag("phone_verified")?,
            }),
            other => {
                return Err(Error::Corrupt {
                    table: Self::TABLE,
                    column: "kind".to_owned(),
                    message: format!("unknown user kind {other:?}"),
                });
            }
        };
        Ok(User {
            id: row.id("id")?,
            org_id: row.id("org_id")?,
            username: row.text("username")?,
            preferred_login_name: row.text("preferred_login_name")?,
            state: UserState::from_text(&row.text("state")?),
            kind,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for MachineKey {
    const TABLE: &'static str = "machine_key";
    const COLUMNS: &'static [&'static str] = &["user_id", "org_id", "key_type", "created_at", "expires_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.user_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(self.key_type.as_str()),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.expires_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(MachineKey {
            id: row.id("id")?,
            user_id: row.id("user_id")?,
            org_id: row.id("org_id")?,
            key_type: KeyType::from_text(&row.text("key_type")?),
            created_at: row.time("created_at")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

impl Record for PersonalAccessToken {
    const TABLE: &'static str = "personal_access_token";
    const COLUMNS: &'static [&'static str] = &["user_id", "org_id", "scopes", "created_at", "expires_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.user_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::json_strings(&self.scopes),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.expires_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(PersonalAccessToken {
            id: row.id("id")?,
            user_id: row.id("user_id")?,
            org_id: row.id("org_id")?,
            scopes: row.strings("scopes")?,
            created_at: row.time("created_at")?,
            expires_at: row.time("expires_at")?,
        })
    }
}

impl Record for UserGrant {
    const TABLE: &'static str = "user_grant";
    const COLUMNS: &'static [&'static str] =
        &["user_id", "org_id", "project_id", "project_grant_id", "role_keys", "state", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.user_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(self.project_id.as_str()),
            id_text(self.project_grant_id.as_ref()),
            SqlValue::json_strings(&self.role_keys),
            SqlValue::text(self.state.as_str()),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(UserGrant {
            id: row.id("id")?,
            user_id: row.id("user_id")?,
            org_id: row.id("org_id")?,
            project_id: row.id("project_id")?,
            project_grant_id: row.optional_id("project_grant_id")?,
            role_keys: row.ids("role_keys")?,
            state: GrantState::from_text(&row.text("state")?),
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for Membership {
    const TABLE: &'static str = "membership";
    const COLUMNS: &'static [&'static str] =
        &["user_id", "scope", "org_id", "project_id", "project_grant_id", "roles", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        let (project_id, project_grant_id) = match &self.scope {
            MembershipScope::Instance | MembershipScope::Org(_) => (None, None),
            MembershipScope::Project { project_id, .. } => (Some(project_id), None),
            MembershipScope::ProjectGrant { project_id, project_grant_id, .. } => {
                (Some(project_id), Some(project_grant_id))
            }
        };
        vec![
            SqlValue::text(self.user_id.as_str()),
            SqlValue::text(self.scope.kind()),
            id_text(self.scope.org_id()),
            id_text(project_id),
            id_text(project_grant_id),
            SqlValue::json_strings(&self.roles),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        let scope = match row.text("scope")?.as_str() {
            "instance" => MembershipScope::Instance,
            "org" => MembershipScope::Org(row.id("org_id")?),
            "project" => MembershipScope::Project { org_id: row.id("org_id")?, project_id: row.id("project_id")? },
            "project_grant" => MembershipScope::ProjectGrant {
                org_id: row.id("org_id")?,
                project_id: row.id("project_id")?,
                project_grant_id: row.id("project_grant_id")?,
            },
            other => {
                return Err(Error::Corrupt {
                    table: Self::TABLE,
                    column: "scope".to_owned(),
                    message: format!("unknown membership scope {other:?}"),
                });
            }
        };
        Ok(Membership {
            user_id: row.id("user_id")?,
            scope,
            roles: row.strings("roles")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for ProjectGrant {
    const TABLE: &'static str = "project_grant";
    const COLUMNS: &'static [&'static str] =
        &["project_id", "org_id", "granted_org_id", "role_keys", "state", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.project_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(self.granted_org_id.as_str()),
            SqlValue::json_strings(&self.role_keys),
            SqlValue::text(self.state.as_str()),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(ProjectGrant {
            id: row.id("id")?,
            project_id: row.id("project_id")?,
            org_id: row.id("org_id")?,
            granted_org_id: row.id("granted_org_id")?,
            role_keys: row.ids("role_keys")?,
            state: GrantState::from_text(&row.text("state")?),
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for Application {
    const TABLE: &'static str = "application";
    const COLUMNS: &'static [&'static str] = &[
        "project_id",
        "org_id",
        "name",
        "state",
        "kind",
        "client_id",
        "auth_method",
        "settings",
        "created_at",
        "changed_at",
    ];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.project_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(&self.name),
            SqlValue::text(self.state.as_str()),
            SqlValue::text(self.kind.as_str()),
            SqlValue::NullableText(self.client_id.clone()),
            SqlValue::NullableText(self.auth_method.clone()),
            SqlValue::json_map(&self.settings),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(Application {
            id: row.id("id")?,
            project_id: row.id("project_id")?,
            org_id: row.id("org_id")?,
            name: row.text("name")?,
            state: ApplicationState::from_text(&row.text("state")?),
            kind: ApplicationKind::from_text(&row.text("kind")?),
            client_id: row.optional_text("client_id")?,
            auth_method: row.optional_text("auth_method")?,
            settings: row.string_map("settings")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for IdentityProvider {
    const TABLE: &'static str = "identity_provider";
    const COLUMNS: &'static [&'static str] =
        &["owner_org_id", "name", "state", "provider_type", "config", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        let owner_org_id = match &self.owner {
            IdpOwner::Instance => None,
            IdpOwner::Org(org_id) => Some(org_id),
        };
        vec![
            id_text(owner_org_id),
            SqlValue::text(&self.name),
            SqlValue::text(self.state.as_str()),
            SqlValue::text(self.provider_type.as_str()),
            SqlValue::json_map(&self.config),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(IdentityProvider {
            id: row.id("id")?,
            owner: row.optional_id("owner_org_id")?.map_or(IdpOwner::Instance, IdpOwner::Org),
            name: row.text("name")?,
            state: IdpState::from_text(&row.text("state")?),
            provider_type: ProviderType::from_text(&row.text("provider_type")?),
            config: row.string_map("config")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

impl Record for UserMetadata {
    const TABLE: &'static str = "user_metadata";
    const COLUMNS: &'static [&'static str] =
        &["user_id", "org_id", "metadata_key", "value", "created_at", "changed_at"];

    fn values(&self) -> Vec<SqlValue> {
        vec![
            SqlValue::text(self.user_id.as_str()),
            SqlValue::text(self.org_id.as_str()),
            SqlValue::text(self.key.as_str()),
            SqlValue::Bytes(self.value.clone()),
            SqlValue::Time(self.created_at),
            SqlValue::Time(self.changed_at),
        ]
    }

    fn decode(row: &RowView<'_>) -> Result<Self, Error> {
        Ok(UserMetadata {
            user_id: row.id("user_id")?,
            org_id: row.id("org_id")?,
            key: row.id("metadata_key")?,
            value: row.bytes("value")?,
            created_at: row.time("created_at")?,
            changed_at: row.time("changed_at")?,
        })
    }
}

pub(crate) const ENVIRONMENT_COLUMNS: &[&str] =
    &["name", "url", "credential_reference", "orgs", "sync_interval_seconds", "api", "labels"];

pub(crate) fn environment_values(environment: &Environment) -> Vec<SqlValue> {
    vec![
        SqlValue::text(environment.name.as_str()),
        SqlValue::text(&environment.url),
        SqlValue::text(&environment.credential_reference),
        SqlValue::json_strings(&environment.orgs),
        SqlValue::Integer(i64::try_from(environment.sync_interval_seconds).unwrap_or(i64::MAX)),
        SqlValue::text(environment.api.as_str()),
        SqlValue::json_map(&environment.labels),
    ]
}

pub(crate) fn decode_environment(row: &RowView<'_>) -> Result<Environment, Error> {
    let name = row.text("name")?;
    Ok(Environment {
        name: EnvironmentName::parse(name).map_err(|error| Error::Corrupt {
            table: "environment",
            column: "name".to_owned(),
            message: error.to_string(),
        })?,
        url: row.text("url")?,
        credential_reference: row.text("credential_reference")?,
        orgs: row.ids("orgs")?,
        sync_interval_seconds: row.unsigned("sync_interval_seconds")?,
        api: ApiVersion::from_text(&row.text("api")?),
        labels: row.string_map("labels")?,
    })
}

/// `id` first; inserts leave it to the database.
pub(crate) const SYNC_RUN_COLUMNS: &[&str] = &[
    "id",
    "environment",
    "started_at",
    "finished_at",
    "status",
    "counts",
    "errors",
    "requests",
    "retries",
    "holder",
    "mode",
    "mode_reason",
    "event_position",
    "basis",
];

/// A run's errors as stored in `sync_run.errors` (read back by [`decode_sync_run`]).
pub(crate) fn sync_errors_value(errors: &[SyncError]) -> SqlValue {
    SqlValue::Json(errors.iter().map(|error| json!({"scope": error.scope, "message": error.message})).collect())
}

/// The values of every column but `id`.
pub(crate) fn sync_run_values(run: &SyncRun) -> Vec<SqlValue> {
    let counts: serde_json::Map<String, serde_json::Value> =
        run.counts.iter().map(|(kind, count)| (kind.as_str().to_owned(), json!(count))).collect();
    let clamp = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    vec![
        SqlValue::text(run.environment.as_str()),
        SqlValue::Time(Some(run.started_at)),
        SqlValue::Time(run.finished_at),
        SqlValue::text(run.status.as_str()),
        SqlValue::Json(serde_json::Value::Object(counts)),
        sync_errors_value(&run.errors),
        SqlValue::Integer(clamp(run.requests)),
        SqlValue::Integer(clamp(run.retries)),
        SqlValue::NullableText(run.holder.clone()),
        SqlValue::text(run.mode.as_str()),
        SqlValue::text(&run.mode_reason),
        SqlValue::Time(run.event_position),
        SqlValue::NullableText(run.basis.clone()),
    ]
}

pub(crate) fn decode_sync_run(row: &RowView<'_>) -> Result<SyncRun, Error> {
    #[derive(serde::Deserialize)]
    struct StoredError {
        scope: String,
        message: String,
    }
    let counts: BTreeMap<String, u64> = row.json_as("counts")?;
    let errors: Vec<StoredError> = row.json_as("errors")?;
    Ok(SyncRun {
        id: SyncRunId(row.integer("id")?),
        environment: decode_environment_name(row)?,
        started_at: row.required_time("started_at")?,
        finished_at: row.time("finished_at")?,
        status: SyncStatus::from_text(&row.text("status")?),
        // A kind this build does not know (written by a newer warden) is skipped rather than failing the read.
        counts: counts.into_iter().filter_map(|(kind, count)| Some((ResourceKind::parse(&kind)?, count))).collect(),
        errors: errors.into_iter().map(|error| SyncError { scope: error.scope, message: error.message }).collect(),
        requests: row.unsigned("requests")?,
        retries: row.unsigned("retries")?,
        holder: row.optional_text("holder")?,
        mode: SyncMode::from_text(&row.text("mode")?),
        mode_reason: row.text("mode_reason")?,
        event_position: row.time("event_position")?,
        basis: row.optional_text("basis")?,
    })
}

fn decode_environment_name(row: &RowView<'_>) -> Result<EnvironmentName, Error> {
    EnvironmentName::parse(row.text("environment")?).map_err(|error| Error::Corrupt {
        table: row.table,
        column: "environment".to_owned(),
        message: error.to_string(),
    })
}

/// `id` first; inserts leave it to the database.
pub(crate) const CHANGE_COLUMNS: &[&str] = &[
    "id",
    "environment",
    "run_id",
    "observed_at",
    "object_kind",
    "object_key",
    "org_id",
    "kind",
    "fields",
    "attribution",
    "actor_user_id",
    "actor_name",
    "occurred_at",
];

/// The values of every column but `id`.
pub(crate) fn change_values(change: &Change) -> Vec<SqlValue> {
    let fields: Vec<serde_json::Value> = change
        .fields
        .iter()
        .map(|field| json!({"field": field.field, "before": field.before, "after": field.after}))
        .collect();
    let (attribution, actor_user_id, actor_name, occurred_at) = match &change.attribution {
        Attribution::Observed => ("observed", None, None, None),
        Attribution::Event { editor_user_id, editor_name, occurred_at } => {
            ("event", editor_user_id.as_ref(), editor_name.clone(), Some(*occurred_at))
        }
    };
    vec![
        SqlValue::text(change.environment.as_str()),
        SqlValue::Integer(change.run_id.0),
        SqlValue::Time(Some(change.observed_at)),
        SqlValue::text(change.object_kind.as_str()),
        SqlValue::text(&change.object_key),
        id_text(change.org_id.as_ref()),
        SqlValue::text(change.kind.as_str()),
        SqlValue::Json(serde_json::Value::Array(fields)),
        SqlValue::text(attribution),
        id_text(actor_user_id),
        SqlValue::NullableText(actor_name),
        SqlValue::Time(occurred_at),
    ]
}

pub(crate) fn decode_change(row: &RowView<'_>) -> Result<Change, Error> {
    #[derive(serde::Deserialize)]
    struct StoredField {
        field: String,
        before: Option<String>,
        after: Option<String>,
    }
    let corrupt =
        |column: &str, message: String| Error::Corrupt { table: "change", column: column.to_owned(), message };
    let object_kind = row.text("object_kind")?;
    let fields: Vec<StoredField> = row.json_as("fields")?;
    let attribution = match row.text("attribution")?.as_str() {
        "observed" => Attribution::Observed,
        "event" => Attribution::Event {
            editor_user_id: row.optional_id("actor_user_id")?,
            editor_name: row.optional_text("actor_name")?,
            occurred_at: row.required_time("occurred_at")?,
        },
        other => return Err(corrupt("attribution", format!("unknown attribution {other:?}"))),
    };
    Ok(Change {
        environment: decode_environment_name(row)?,
        run_id: SyncRunId(row.integer("run_id")?),
        observed_at: row.required_time("observed_at")?,
        object_kind: ResourceKind::parse(&object_kind)
            .ok_or_else(|| corrupt("object_kind", format!("unknown object kind {object_kind:?}")))?,
        object_key: row.text("object_key")?,
        org_id: row.optional_id("org_id")?,
        kind: ChangeKind::from_text(&row.text("kind")?),
        fields: fields
            .into_iter()
            .map(|field| FieldChange { field: field.field, before: field.before, after: field.after })
            .collect(),
        attribution,
    })
}
