//! How SCIM records map onto their tables: column lists, bound values, decoding through `RowView`, the tenant
//! every statement names, and the errors a write's constraint violations stand for.

use sqlx::QueryBuilder;
use warden_core::id::{EnvironmentName, OrgId};
use warden_scim::resource;

use crate::store::Error;
use crate::store::scim::{
    ConnectionSettings, DeletePolicy, NewProvisioningOperation, ScimConnection, ScimConnectionActivity,
    ScimConnectionId, ScimConnectionKind, ScimGroupMember, ScimKind, ScimRecord, ScimRequestLogEntry, ScimTenant,
    ScimUserGroup, TokenHash,
};
use crate::store::sql::{Dialect, RowView, SqlValue, push_binds};

pub(crate) const OUTBOX_INSERT_COLUMNS: &str =
    "connection_id, environment, org_id, scim_user_id, operation, payload, enqueued_at, attempts, next_attempt_at";
/// Values bound per outbox row by [`push_outbox_rows`].
pub(crate) const OUTBOX_VALUES: usize = 9;
pub(super) const CONNECTION_COLUMNS: &str = "id, environment, org_id, name, kind, token_hash, provisioning, \
                                  delete_policy, zitadel_tokens, expect_activity_within_seconds, \
                                  previous_token_hash, previous_valid_until, disabled_at, created_at";
pub(super) const RECORD_COLUMNS: &str = "environment, org_id, id, resource, version, created, last_modified";
/// Rows per statement when a list of ids is bound: far below both dialects' parameter limits.
pub(super) const IDS_PER_STATEMENT: usize = 1_000;

/// Users and groups share their tables' shape and their SQL.
impl ScimKind {
    pub(super) fn table(self) -> &'static str {
        match self {
            ScimKind::User => "scim_user",
            ScimKind::Group => "scim_group",
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            ScimKind::User => "User",
            ScimKind::Group => "Group",
        }
    }

    /// The columns a read selects: a user's carry its groups (`user_groups`), one statement for a page.
    pub(super) fn select_columns<D: Dialect>(self) -> String {
        match self {
            ScimKind::User => format!("{RECORD_COLUMNS}, {} AS user_groups", D::SCIM_USER_GROUPS),
            ScimKind::Group => RECORD_COLUMNS.to_owned(),
        }
    }

    /// The derived columns a write sets besides `resource`, `version` and the times.
    pub(super) fn derived_columns(self) -> &'static [&'static str] {
        match self {
            ScimKind::User => {
                &["user_name", "user_name_lower", "external_id", "display_name", "display_name_lower", "active"]
            }
            ScimKind::Group => &["display_name", "display_name_lower", "external_id"],
        }
    }

    pub(super) fn derived_values(self, record: &ScimRecord) -> Vec<SqlValue> {
        let resource = &record.resource;
        let display_name = resource::display_name(resource).map(str::to_owned);
        let display_name_lower = display_name.as_deref().map(str::to_lowercase);
        let external_id = SqlValue::NullableText(resource::external_id(resource).map(str::to_owned));
        match self {
            ScimKind::User => {
                let user_name = resource::user_name(resource).unwrap_or_default();
                vec![
                    SqlValue::text(user_name),
                    SqlValue::text(user_name.to_lowercase()),
                    external_id,
                    SqlValue::NullableText(display_name),
                    SqlValue::NullableText(display_name_lower),
                    SqlValue::Boolean(resource::active(resource).unwrap_or(true)),
                ]
            }
            ScimKind::Group => vec![
                SqlValue::text(display_name.clone().unwrap_or_default()),
                SqlValue::text(display_name_lower.unwrap_or_default()),
                external_id,
            ],
        }
    }
}

/// ` environment = $1 AND org_id = $2` (with a column prefix such as `m.`).
pub(super) fn push_tenant<D: Dialect>(builder: &mut QueryBuilder<D>, prefix: &str, tenant: &ScimTenant) {
    builder.push(format!(" {prefix}environment = "));
    D::bind(builder, SqlValue::text(tenant.environment.as_str()));
    builder.push(format!(" AND {prefix}org_id = "));
    D::bind(builder, SqlValue::text(tenant.org_id.as_str()));
}

fn corrupt(table: &'static str, column: &str, message: impl std::fmt::Display) -> Error {
    Error::Corrupt { table, column: column.to_owned(), message: message.to_string() }
}

fn decode_hash(table: &'static str, column: &str, bytes: Vec<u8>) -> Result<TokenHash, Error> {
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| corrupt(table, column, "not a SHA-256 hash"))?;
    Ok(TokenHash(bytes))
}

fn decode_tenant(row: &RowView<'_>) -> Result<ScimTenant, Error> {
    Ok(ScimTenant {
        environment: EnvironmentName::parse(row.text("environment")?)
            .map_err(|error| corrupt(row.table, "environment", error))?,
        org_id: OrgId::parse(row.text("org_id")?).map_err(|error| corrupt(row.table, "org_id", error))?,
    })
}

pub(super) fn decode_connection(row: &RowView<'_>) -> Result<ScimConnection, Error> {
    let kind = row.text("kind")?;
    let delete_policy = row.text("delete_policy")?;
    let previous_token_hash = match row.row.bytes("previous_token_hash")? {
        Some(bytes) => Some(decode_hash(row.table, "previous_token_hash", bytes)?),
        None => None,
    };
    Ok(ScimConnection {
        id: ScimConnectionId::new(row.text("id")?),
        tenant: decode_tenant(row)?,
        name: row.text("name")?,
        kind: ScimConnectionKind::parse(&kind).ok_or_else(|| corrupt(row.table, "kind", kind))?,
        token_hash: decode_hash(row.table, "token_hash", row.bytes("token_hash")?)?,
        previous_token_hash,
        previous_valid_until: row.time("previous_valid_until")?,
        disabled_at: row.time("disabled_at")?,
        created_at: row.required_time("created_at")?,
        settings: ConnectionSettings {
            provisioning: row.boolean("provisioning")?,
            delete_policy: DeletePolicy::parse(&delete_policy)
                .ok_or_else(|| corrupt(row.table, "delete_policy", delete_policy))?,
            zitadel_tokens: row.boolean("zitadel_tokens")?,
            expect_activity_within: row
                .optional_integer("expect_activity_within_seconds")?
                .map(time::Duration::seconds),
        },
    })
}

pub(super) fn decode_request_log_entry(view: &RowView<'_>) -> Result<ScimRequestLogEntry, Error> {
    let status = view.unsigned("status")?;
    Ok(ScimRequestLogEntry {
        connection_id: ScimConnectionId::new(view.text("connection_id")?),
        at: view.required_time("at")?,
        method: view.text("method")?,
        path: view.text("path")?,
        status: u16::try_from(status).map_err(|error| corrupt("scim_request_log", "status", error))?,
        latency_ms: view.unsigned("latency_ms")?,
    })
}

pub(super) fn decode_connection_activity(view: &RowView<'_>) -> Result<ScimConnectionActivity, Error> {
    Ok(ScimConnectionActivity {
        connection_id: ScimConnectionId::new(view.text("id")?),
        last_request_at: view.time("last_request_at")?,
        requests: view.unsigned("requests")?,
        client_errors: view.unsigned("client_errors")?,
        server_errors: view.unsigned("server_errors")?,
    })
}

/// A member row of a group and the tenant's user it names, if any: `display` and `type` as sent, else from the user
/// (its displayName, else its userName; and `User`).
pub(super) fn decode_group_member(view: &RowView<'_>) -> Result<(String, ScimGroupMember), Error> {
    let user_name = view.optional_text("user_name")?;
    let member_type = match view.optional_text("member_type")? {
        Some(sent) => Some(sent),
        None => user_name.is_some().then(|| "User".to_owned()),
    };
    let display = match view.optional_text("display")? {
        Some(sent) => Some(sent),
        None => view.optional_text("display_name")?.or(user_name),
    };
    Ok((view.text("group_id")?, ScimGroupMember { value: view.text("member_id")?, display, member_type }))
}

/// A user or group of `tenant` (the tenant the statement selected: every SCIM statement names its tenant).
pub(super) fn decode_record(kind: ScimKind, tenant: &ScimTenant, row: &RowView<'_>) -> Result<ScimRecord, Error> {
    Ok(ScimRecord {
        tenant: tenant.clone(),
        id: row.text("id")?,
        resource: serde_json::from_str(&row.text("resource")?)
            .map_err(|error| corrupt(row.table, "resource", error))?,
        members: Vec::new(),
        groups: match kind {
            ScimKind::User => decode_user_groups(row)?,
            ScimKind::Group => Vec::new(),
        },
        version: row.integer("version")?,
        created: row.required_time("created")?,
        last_modified: row.required_time("last_modified")?,
    })
}

/// A user's groups from [`Dialect::SCIM_USER_GROUPS`], ordered by displayName (case-insensitively), then id.
fn decode_user_groups(row: &RowView<'_>) -> Result<Vec<ScimUserGroup>, Error> {
    #[derive(serde::Deserialize)]
    struct Group {
        id: String,
        display: String,
    }
    let Some(text) = row.optional_text("user_groups")? else { return Ok(Vec::new()) };
    let mut groups: Vec<Group> =
        serde_json::from_str(&text).map_err(|error| corrupt(row.table, "user_groups", error))?;
    groups.sort_by_cached_key(|group| (group.display.to_lowercase(), group.id.clone()));
    Ok(groups.into_iter().map(|group| ScimUserGroup { group_id: group.id, display: group.display }).collect())
}

/// Maps constraint violations of a write to the errors callers handle: a taken unique key, and a tenant whose
/// environment is not in the store (a foreign key on `environment`; SQLite names no constraint, and there a
/// record's or connection's own statement has no other foreign key).
pub(super) fn write_error(tenant: &ScimTenant) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |error| match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => Error::ScimUniqueness,
        sqlx::Error::Database(database)
            if database.is_foreign_key_violation()
                && database.constraint().is_none_or(|constraint| constraint.contains("environment")) =>
        {
            Error::UnknownEnvironment(tenant.environment.clone())
        }
        _ => Error::Database(error),
    }
}

/// The columns of `scim_request_log` a row sets.
pub(super) const LOG_COLUMNS: &str = "connection_id, at, method, path, status, latency_ms";

/// `(..), (..)`: the values of some request-log rows.
pub(super) fn push_log_rows<D: Dialect>(builder: &mut QueryBuilder<D>, entries: &[ScimRequestLogEntry]) {
    for (index, entry) in entries.iter().enumerate() {
        builder.push(if index == 0 { "(" } else { ", (" });
        let values = [
            SqlValue::text(entry.connection_id.as_str()),
            SqlValue::Time(Some(entry.at)),
            SqlValue::text(&entry.method),
            SqlValue::text(&entry.path),
            SqlValue::Integer(i64::from(entry.status)),
            SqlValue::Integer(i64::try_from(entry.latency_ms).unwrap_or(i64::MAX)),
        ];
        push_binds(builder, values);
        builder.push(")");
    }
}

/// The rows of `operations` in `tenant`, as `VALUES` tuples in [`OUTBOX_INSERT_COLUMNS`] order.
pub(crate) fn push_outbox_rows<D: Dialect>(
    builder: &mut QueryBuilder<D>,
    tenant: &ScimTenant,
    operations: &[NewProvisioningOperation],
) {
    for (index, operation) in operations.iter().enumerate() {
        builder.push(if index == 0 { "(" } else { ", (" });
        push_binds(
            builder,
            [
                SqlValue::text(operation.connection_id.as_str()),
                SqlValue::text(tenant.environment.as_str()),
                SqlValue::text(tenant.org_id.as_str()),
                SqlValue::text(&operation.scim_user_id),
                SqlValue::text(operation.kind.as_str()),
                SqlValue::Json(operation.payload.clone()),
                SqlValue::Time(Some(operation.enqueued_at)),
                SqlValue::Integer(0),
                SqlValue::Time(Some(operation.enqueued_at)),
            ],
        );
        builder.push(")");
    }
}
