//! The SQL of [`ScimStore`], written once over [`Dialect`].

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::time::Instant;

use async_trait::async_trait;
use sqlx::QueryBuilder;
use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, OrgId};
use warden_scim::resource;

use crate::store::Error;
use crate::store::scim::{
    ScimCondition, ScimConnection, ScimConnectionId, ScimConnectionKind, ScimGroupMember, ScimPage, ScimQuery,
    ScimRecord, ScimRequestLogEntry, ScimSortKey, ScimStore, ScimTenant, ScimUserGroup, TokenHash,
};
use crate::store::sql::{Dialect, RowView, SqlStore, SqlValue};

const CONNECTION_COLUMNS: &str = "id, environment, org_id, name, kind, token_hash, previous_token_hash, \
                                  previous_valid_until, disabled_at, created_at";
const RECORD_COLUMNS: &str = "environment, org_id, id, resource, version, created, last_modified";
/// Rows per statement when a list of ids is bound: far below both dialects' parameter limits.
const IDS_PER_STATEMENT: usize = 1_000;

/// Users or groups: the two tables share their shape and their SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::User => "scim_user",
            Kind::Group => "scim_group",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The columns a read selects: a user's carry its groups (`user_groups`), one statement for a page.
    fn select_columns<D: Dialect>(self) -> String {
        match self {
            Kind::User => format!("{RECORD_COLUMNS}, {} AS user_groups", D::SCIM_USER_GROUPS),
            Kind::Group => RECORD_COLUMNS.to_owned(),
        }
    }

    /// The derived columns a write sets besides `resource`, `version` and the times.
    fn derived_columns(self) -> &'static [&'static str] {
        match self {
            Kind::User => &[
                "user_name",
                "user_name_lower",
                "external_id",
                "display_name",
                "display_name_lower",
                "active",
                "primary_email_lower",
            ],
            Kind::Group => &["display_name", "display_name_lower", "external_id"],
        }
    }

    fn derived_values(self, record: &ScimRecord) -> Vec<SqlValue> {
        let resource = &record.resource;
        let display_name = resource::display_name(resource).map(str::to_owned);
        let display_name_lower = display_name.as_deref().map(str::to_lowercase);
        let external_id = SqlValue::NullableText(resource::external_id(resource).map(str::to_owned));
        match self {
            Kind::User => {
                let user_name = resource::user_name(resource).unwrap_or_default();
                vec![
                    SqlValue::text(user_name),
                    SqlValue::text(user_name.to_lowercase()),
                    external_id,
                    SqlValue::NullableText(display_name),
                    SqlValue::NullableText(display_name_lower),
                    SqlValue::Boolean(resource::active(resource).unwrap_or(true)),
                    SqlValue::NullableText(resource::primary_email(resource).map(str::to_lowercase)),
                ]
            }
            Kind::Group => vec![
                SqlValue::text(display_name.clone().unwrap_or_default()),
                SqlValue::text(display_name_lower.unwrap_or_default()),
                external_id,
            ],
        }
    }
}

fn push_list<D: Dialect>(builder: &mut QueryBuilder<D>, values: impl IntoIterator<Item = SqlValue>) {
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            builder.push(", ");
        }
        D::bind(builder, value);
    }
}

/// ` environment = $1 AND org_id = $2` (with a column prefix such as `m.`).
fn push_tenant<D: Dialect>(builder: &mut QueryBuilder<D>, prefix: &str, tenant: &ScimTenant) {
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

fn decode_connection(row: &RowView<'_>) -> Result<ScimConnection, Error> {
    let kind = row.text("kind")?;
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
    })
}

fn decode_record(kind: Kind, row: &RowView<'_>) -> Result<ScimRecord, Error> {
    Ok(ScimRecord {
        tenant: decode_tenant(row)?,
        id: row.text("id")?,
        resource: row.json("resource")?,
        members: Vec::new(),
        groups: match kind {
            Kind::User => decode_user_groups(row)?,
            Kind::Group => Vec::new(),
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

/// Maps constraint violations of a user or group write to the errors callers handle.
fn write_error(tenant: &ScimTenant) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |error| match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => Error::ScimUniqueness,
        sqlx::Error::Database(database) if database.is_foreign_key_violation() => {
            Error::UnknownEnvironment(tenant.environment.clone())
        }
        _ => Error::Database(error),
    }
}

impl<D: Dialect> SqlStore<D> {
    async fn insert_scim_record(
        &self,
        kind: Kind,
        record: &ScimRecord,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        let derived = kind.derived_columns().join(", ");
        let mut builder =
            QueryBuilder::<D>::new(format!("INSERT INTO {} ({RECORD_COLUMNS}, {derived}) VALUES (", kind.table()));
        let values = [
            SqlValue::text(record.tenant.environment.as_str()),
            SqlValue::text(record.tenant.org_id.as_str()),
            SqlValue::text(&record.id),
            SqlValue::Json(record.resource.clone()),
            SqlValue::Integer(record.version),
            SqlValue::Time(Some(record.created)),
            SqlValue::Time(Some(record.last_modified)),
        ];
        push_list(&mut builder, values.into_iter().chain(kind.derived_values(record)));
        builder.push(")");
        D::execute(&mut transaction, &mut builder).await.map_err(write_error(&record.tenant))?;
        Self::write_dependents(&mut transaction, kind, record).await?;
        Self::write_log(&mut transaction, log).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn update_scim_record(
        &self,
        kind: Kind,
        record: &ScimRecord,
        expected_version: i64,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        let mut builder = QueryBuilder::<D>::new(format!("UPDATE {} SET resource = ", kind.table()));
        D::bind(&mut builder, SqlValue::Json(record.resource.clone()));
        builder.push(", version = ");
        D::bind(&mut builder, SqlValue::Integer(record.version));
        builder.push(", last_modified = ");
        D::bind(&mut builder, SqlValue::Time(Some(record.last_modified)));
        for (column, value) in kind.derived_columns().iter().zip(kind.derived_values(record)) {
            builder.push(format!(", {column} = "));
            D::bind(&mut builder, value);
        }
        builder.push(" WHERE");
        push_tenant(&mut builder, "", &record.tenant);
        builder.push(" AND id = ");
        D::bind(&mut builder, SqlValue::text(&record.id));
        builder.push(" AND version = ");
        D::bind(&mut builder, SqlValue::Integer(expected_version));
        let updated = D::execute(&mut transaction, &mut builder).await.map_err(write_error(&record.tenant))?;
        if updated == 0 {
            return Err(Self::missing_or_changed(&mut transaction, kind, &record.tenant, &record.id).await);
        }
        let mut delete_emails = QueryBuilder::<D>::new(match kind {
            Kind::User => "DELETE FROM scim_user_email WHERE",
            Kind::Group => "DELETE FROM scim_group_member WHERE",
        });
        push_tenant(&mut delete_emails, "", &record.tenant);
        delete_emails.push(match kind {
            Kind::User => " AND user_id = ",
            Kind::Group => " AND group_id = ",
        });
        D::bind(&mut delete_emails, SqlValue::text(&record.id));
        D::execute(&mut transaction, &mut delete_emails).await?;
        Self::write_dependents(&mut transaction, kind, record).await?;
        Self::write_log(&mut transaction, log).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// After a conditional write touched nothing: was the row missing, or at another version?
    async fn missing_or_changed(connection: &mut D::Connection, kind: Kind, tenant: &ScimTenant, id: &str) -> Error {
        let mut builder = QueryBuilder::<D>::new(format!("SELECT version FROM {} WHERE", kind.table()));
        push_tenant(&mut builder, "", tenant);
        builder.push(" AND id = ");
        D::bind(&mut builder, SqlValue::text(id));
        match D::fetch_all(connection, &mut builder).await {
            Ok(rows) if rows.is_empty() => Error::ScimNotFound { kind: kind.name(), id: id.to_owned() },
            Ok(_) => Error::ScimVersionMismatch,
            Err(error) => Error::Database(error),
        }
    }

    /// A user's email index, or a group's member rows (each kept as sent, once per value).
    async fn write_dependents(connection: &mut D::Connection, kind: Kind, record: &ScimRecord) -> Result<(), Error> {
        let tenant = &record.tenant;
        let (table, columns, rows): (_, _, Vec<Vec<SqlValue>>) = match kind {
            Kind::User => {
                let values: BTreeSet<String> =
                    resource::email_values(&record.resource).into_iter().map(str::to_lowercase).collect();
                (
                    "scim_user_email",
                    "user_id, value_lower",
                    values.into_iter().map(|value| vec![SqlValue::Text(value)]).collect(),
                )
            }
            Kind::Group => {
                let mut seen = BTreeSet::new();
                let rows = record
                    .members
                    .iter()
                    .filter(|member| seen.insert(member.value.as_str()))
                    .map(|member| {
                        vec![
                            SqlValue::text(&member.value),
                            SqlValue::NullableText(member.display.clone()),
                            SqlValue::NullableText(member.member_type.clone()),
                        ]
                    })
                    .collect();
                ("scim_group_member", "group_id, member_id, display, member_type", rows)
            }
        };
        for chunk in rows.chunks(IDS_PER_STATEMENT) {
            let mut builder =
                QueryBuilder::<D>::new(format!("INSERT INTO {table} (environment, org_id, {columns}) VALUES "));
            for (index, values) in chunk.iter().enumerate() {
                builder.push(if index == 0 { "(" } else { ", (" });
                let row = [
                    SqlValue::text(tenant.environment.as_str()),
                    SqlValue::text(tenant.org_id.as_str()),
                    SqlValue::text(&record.id),
                ];
                push_list(&mut builder, row.into_iter().chain(values.iter().cloned()));
                builder.push(")");
            }
            D::execute(connection, &mut builder).await?;
        }
        Ok(())
    }

    /// The request-log row of the request that makes a write, in the write's transaction.
    async fn write_log(connection: &mut D::Connection, log: Option<&ScimRequestLogEntry>) -> Result<(), Error> {
        if let Some(entry) = log {
            D::execute(connection, &mut log_insert::<D>(std::slice::from_ref(entry))).await?;
        }
        Ok(())
    }

    async fn get_scim_record(&self, kind: Kind, tenant: &ScimTenant, id: &str) -> Result<Option<ScimRecord>, Error> {
        let mut builder =
            QueryBuilder::<D>::new(format!("SELECT {} FROM {} WHERE", kind.select_columns::<D>(), kind.table()));
        push_tenant(&mut builder, "", tenant);
        builder.push(" AND id = ");
        D::bind(&mut builder, SqlValue::text(id));
        let mut connection = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut connection, &mut builder).await?;
        let mut records = rows
            .iter()
            .map(|row| decode_record(kind, &RowView { table: kind.table(), row }))
            .collect::<Result<Vec<_>, _>>()?;
        Self::attach_dependents(&mut connection, kind, tenant, &mut records).await?;
        Ok(records.pop())
    }

    async fn delete_scim_record(
        &self,
        kind: Kind,
        tenant: &ScimTenant,
        id: &str,
        expected_version: Option<i64>,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        let mut builder = QueryBuilder::<D>::new(format!("DELETE FROM {} WHERE", kind.table()));
        push_tenant(&mut builder, "", tenant);
        builder.push(" AND id = ");
        D::bind(&mut builder, SqlValue::text(id));
        if let Some(version) = expected_version {
            builder.push(" AND version = ");
            D::bind(&mut builder, SqlValue::Integer(version));
        }
        if D::execute(&mut transaction, &mut builder).await? == 0 {
            return Err(Self::missing_or_changed(&mut transaction, kind, tenant, id).await);
        }
        if kind == Kind::User {
            // Memberships name users by id without a foreign key (members are kept as sent): removed here.
            let mut memberships = QueryBuilder::<D>::new("DELETE FROM scim_group_member WHERE");
            push_tenant(&mut memberships, "", tenant);
            memberships.push(" AND member_id = ");
            D::bind(&mut memberships, SqlValue::text(id));
            D::execute(&mut transaction, &mut memberships).await?;
        }
        Self::write_log(&mut transaction, log).await?;
        transaction.commit().await?;
        Ok(())
    }

    fn push_conditions(builder: &mut QueryBuilder<D>, kind: Kind, tenant: &ScimTenant, query: &ScimQuery) {
        let table = kind.table();
        builder.push(format!(" FROM {table} WHERE"));
        push_tenant(builder, "", tenant);
        for condition in &query.conditions {
            let (sql, value) = match (condition, kind) {
                (ScimCondition::Id(id), _) => (" AND id = ".to_owned(), id.clone()),
                (ScimCondition::ExternalId(id), _) => (" AND external_id = ".to_owned(), id.clone()),
                (ScimCondition::DisplayName(name), _) => (" AND display_name_lower = ".to_owned(), name.to_lowercase()),
                (ScimCondition::UserName(name), Kind::User) => {
                    (" AND user_name_lower = ".to_owned(), name.to_lowercase())
                }
                (ScimCondition::Email(email), Kind::User) => (
                    " AND EXISTS (SELECT 1 FROM scim_user_email AS e WHERE e.environment = scim_user.environment \
                     AND e.org_id = scim_user.org_id AND e.user_id = scim_user.id AND e.value_lower = "
                        .to_owned(),
                    email.to_lowercase(),
                ),
                (ScimCondition::UserName(_) | ScimCondition::Email(_), Kind::Group) => {
                    builder.push(" AND 1 = 0");
                    continue;
                }
            };
            let closes = sql.contains("EXISTS");
            builder.push(sql);
            D::bind(builder, SqlValue::Text(value));
            if closes {
                builder.push(")");
            }
        }
    }

    /// After a connection write (committed): this process's cache drops everything at once, and every listening
    /// process is notified.
    async fn connections_changed(&self, connection: &mut D::Connection) -> Result<(), Error> {
        self.scim_connections.clear();
        if let Some(notify) = D::NOTIFY_SCIM_CONNECTIONS {
            D::execute(connection, &mut QueryBuilder::<D>::new(notify)).await?;
        }
        Ok(())
    }

    async fn count_scim_records(
        connection: &mut D::Connection,
        kind: Kind,
        tenant: &ScimTenant,
        query: &ScimQuery,
    ) -> Result<u64, Error> {
        let mut count = QueryBuilder::<D>::new("SELECT COUNT(*) AS total");
        Self::push_conditions(&mut count, kind, tenant, query);
        let rows = D::fetch_all(connection, &mut count).await?;
        match rows.first() {
            Some(row) => RowView { table: kind.table(), row }.unsigned("total"),
            None => Ok(0),
        }
    }

    /// One statement for a page and its total (a window count over the matches), unless the page is empty: then
    /// the total is counted on its own (it is zero when the page starts at the first match).
    async fn list_scim_records(&self, kind: Kind, tenant: &ScimTenant, query: &ScimQuery) -> Result<ScimPage, Error> {
        let mut connection = self.pool.acquire().await?;
        if query.limit == Some(0) {
            let total = Self::count_scim_records(&mut connection, kind, tenant, query).await?;
            return Ok(ScimPage { total, records: Vec::new() });
        }
        let mut select =
            QueryBuilder::<D>::new(format!("SELECT {}, COUNT(*) OVER () AS total", kind.select_columns::<D>()));
        Self::push_conditions(&mut select, kind, tenant, query);
        let binary = D::BINARY_ORDER;
        let column = match (query.sort, kind) {
            (ScimSortKey::Created, _) | (ScimSortKey::UserName, Kind::Group) => "created".to_owned(),
            (ScimSortKey::LastModified, _) => "last_modified".to_owned(),
            (ScimSortKey::Id, _) => format!("id{binary}"),
            (ScimSortKey::UserName, Kind::User) => format!("user_name_lower{binary}"),
            (ScimSortKey::DisplayName, _) => format!("display_name_lower{binary}"),
            (ScimSortKey::ExternalId, _) => format!("external_id{binary}"),
        };
        let direction = if query.descending { "DESC" } else { "ASC" };
        let null_column = column.split(' ').next().unwrap_or("created");
        select.push(format!(" ORDER BY ({null_column} IS NULL), {column} {direction}, created, id{binary} LIMIT "));
        let limit = query.limit.map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        D::bind(&mut select, SqlValue::Integer(limit));
        select.push(" OFFSET ");
        D::bind(&mut select, SqlValue::Integer(i64::try_from(query.offset).unwrap_or(i64::MAX)));
        let rows = D::fetch_all(&mut connection, &mut select).await?;
        let total = match rows.first() {
            Some(row) => RowView { table: kind.table(), row }.unsigned("total")?,
            None if query.offset == 0 => 0,
            None => Self::count_scim_records(&mut connection, kind, tenant, query).await?,
        };
        let mut records = rows
            .iter()
            .map(|row| decode_record(kind, &RowView { table: kind.table(), row }))
            .collect::<Result<Vec<_>, _>>()?;
        Self::attach_dependents(&mut connection, kind, tenant, &mut records).await?;
        Ok(ScimPage { total, records })
    }

    /// Fills a page's groups' members: one statement per page (per thousand groups), never one per group. (A
    /// user's groups come with the user, from [`Dialect::SCIM_USER_GROUPS`].)
    async fn attach_dependents(
        connection: &mut D::Connection,
        kind: Kind,
        tenant: &ScimTenant,
        records: &mut [ScimRecord],
    ) -> Result<(), Error> {
        match kind {
            Kind::Group => Self::attach_members(connection, tenant, records).await,
            Kind::User => Ok(()),
        }
    }

    /// Fills each group's members, ordered by value: `display` and `type` as sent, else from the tenant's user (its
    /// displayName, else its userName; and `User`).
    async fn attach_members(
        connection: &mut D::Connection,
        tenant: &ScimTenant,
        groups: &mut [ScimRecord],
    ) -> Result<(), Error> {
        let ids: Vec<String> = groups.iter().map(|group| group.id.clone()).collect();
        let mut members: HashMap<String, Vec<ScimGroupMember>> = HashMap::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut builder = QueryBuilder::<D>::new(
                "SELECT m.group_id, m.member_id, m.display, m.member_type, u.display_name, u.user_name \
                 FROM scim_group_member AS m \
                 LEFT JOIN scim_user AS u ON u.environment = m.environment AND u.org_id = m.org_id \
                 AND u.id = m.member_id WHERE",
            );
            push_tenant(&mut builder, "m.", tenant);
            builder.push(" AND m.group_id IN (");
            push_list(&mut builder, chunk.iter().map(SqlValue::text));
            builder.push(format!(") ORDER BY m.group_id, m.member_id{}", D::BINARY_ORDER));
            for row in D::fetch_all(connection, &mut builder).await? {
                let view = RowView { table: "scim_group_member", row: &row };
                let user_name = view.optional_text("user_name")?;
                let member_type = match view.optional_text("member_type")? {
                    Some(sent) => Some(sent),
                    None => user_name.is_some().then(|| "User".to_owned()),
                };
                let display = match view.optional_text("display")? {
                    Some(sent) => Some(sent),
                    None => view.optional_text("display_name")?.or(user_name),
                };
                members.entry(view.text("group_id")?).or_default().push(ScimGroupMember {
                    value: view.text("member_id")?,
                    display,
                    member_type,
                });
            }
        }
        for group in groups {
            group.members = members.remove(&group.id).unwrap_or_default();
        }
        Ok(())
    }
}

/// `INSERT INTO scim_request_log ...` of some entries.
fn log_insert<D: Dialect>(entries: &[ScimRequestLogEntry]) -> QueryBuilder<D> {
    let mut builder = QueryBuilder::<D>::new(
        "INSERT INTO scim_request_log (connection_id, at, method, path, status, latency_ms) VALUES ",
    );
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
        push_list(&mut builder, values);
        builder.push(")");
    }
    builder
}

#[async_trait]
impl<D: Dialect> ScimStore for SqlStore<D> {
    async fn create_scim_connection(&self, connection: &ScimConnection) -> Result<(), Error> {
        let mut builder =
            QueryBuilder::<D>::new(format!("INSERT INTO scim_connection ({CONNECTION_COLUMNS}) VALUES ("));
        let values = [
            SqlValue::text(connection.id.as_str()),
            SqlValue::text(connection.tenant.environment.as_str()),
            SqlValue::text(connection.tenant.org_id.as_str()),
            SqlValue::text(&connection.name),
            SqlValue::text(connection.kind.as_str()),
            SqlValue::Bytes(connection.token_hash.0.to_vec()),
        ];
        push_list(&mut builder, values);
        // A new connection has no previous token; the NULL is written out because no bytes value is nullable.
        builder.push(", NULL, ");
        push_list(
            &mut builder,
            [
                SqlValue::Time(connection.previous_valid_until),
                SqlValue::Time(connection.disabled_at),
                SqlValue::Time(Some(connection.created_at)),
            ],
        );
        builder.push(")");
        let mut database = self.pool.acquire().await?;
        D::execute(&mut database, &mut builder).await.map_err(write_error(&connection.tenant))?;
        self.connections_changed(&mut database).await
    }

    async fn list_scim_connections(&self) -> Result<Vec<ScimConnection>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {CONNECTION_COLUMNS} FROM scim_connection ORDER BY created_at, id{}",
            D::BINARY_ORDER
        ));
        let mut database = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut database, &mut builder).await?;
        rows.iter().map(|row| decode_connection(&RowView { table: "scim_connection", row })).collect()
    }

    async fn scim_connection(&self, id: &ScimConnectionId) -> Result<Option<ScimConnection>, Error> {
        let mut builder =
            QueryBuilder::<D>::new(format!("SELECT {CONNECTION_COLUMNS} FROM scim_connection WHERE id = "));
        D::bind(&mut builder, SqlValue::text(id.as_str()));
        let mut database = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut database, &mut builder).await?;
        rows.first().map(|row| decode_connection(&RowView { table: "scim_connection", row })).transpose()
    }

    async fn scim_connection_by_token(&self, hash: &TokenHash) -> Result<Option<ScimConnection>, Error> {
        if D::NOTIFY_SCIM_CONNECTIONS.is_some() && !self.scim_watch_started.swap(true, Ordering::AcqRel) {
            D::watch_scim_connections(&self.pool, self.scim_connections.clone());
        }
        let generation = match self.scim_connections.get(hash, Instant::now()) {
            Ok(connection) => return Ok(Some(connection)),
            Err(generation) => generation,
        };
        let mut builder =
            QueryBuilder::<D>::new(format!("SELECT {CONNECTION_COLUMNS} FROM scim_connection WHERE token_hash = "));
        D::bind(&mut builder, SqlValue::Bytes(hash.0.to_vec()));
        builder.push(" OR previous_token_hash = ");
        D::bind(&mut builder, SqlValue::Bytes(hash.0.to_vec()));
        builder.push(" ORDER BY created_at LIMIT 1");
        let mut database = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut database, &mut builder).await?;
        let found =
            rows.first().map(|row| decode_connection(&RowView { table: "scim_connection", row })).transpose()?;
        if let Some(connection) = &found {
            self.scim_connections.put(hash, connection, Instant::now(), generation);
        }
        Ok(found)
    }

    async fn rotate_scim_connection_token(
        &self,
        id: &ScimConnectionId,
        new_hash: &TokenHash,
        previous_valid_until: OffsetDateTime,
    ) -> Result<bool, Error> {
        let mut builder = QueryBuilder::<D>::new(
            "UPDATE scim_connection SET previous_token_hash = token_hash, previous_valid_until = ",
        );
        D::bind(&mut builder, SqlValue::Time(Some(previous_valid_until)));
        builder.push(", token_hash = ");
        D::bind(&mut builder, SqlValue::Bytes(new_hash.0.to_vec()));
        builder.push(" WHERE id = ");
        D::bind(&mut builder, SqlValue::text(id.as_str()));
        let mut database = self.pool.acquire().await?;
        let rotated = D::execute(&mut database, &mut builder).await? > 0;
        self.connections_changed(&mut database).await?;
        Ok(rotated)
    }

    async fn disable_scim_connection(&self, id: &ScimConnectionId, at: OffsetDateTime) -> Result<bool, Error> {
        let mut builder = QueryBuilder::<D>::new("UPDATE scim_connection SET disabled_at = COALESCE(disabled_at, ");
        D::bind(&mut builder, SqlValue::Time(Some(at)));
        builder.push(") WHERE id = ");
        D::bind(&mut builder, SqlValue::text(id.as_str()));
        let mut database = self.pool.acquire().await?;
        let disabled = D::execute(&mut database, &mut builder).await? > 0;
        self.connections_changed(&mut database).await?;
        Ok(disabled)
    }

    async fn insert_scim_user(&self, user: &ScimRecord, log: Option<&ScimRequestLogEntry>) -> Result<(), Error> {
        self.insert_scim_record(Kind::User, user, log).await
    }

    async fn scim_user(&self, tenant: &ScimTenant, id: &str) -> Result<Option<ScimRecord>, Error> {
        self.get_scim_record(Kind::User, tenant, id).await
    }

    async fn update_scim_user(
        &self,
        user: &ScimRecord,
        expected_version: i64,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        self.update_scim_record(Kind::User, user, expected_version, log).await
    }

    async fn delete_scim_user(
        &self,
        tenant: &ScimTenant,
        id: &str,
        expected_version: Option<i64>,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        self.delete_scim_record(Kind::User, tenant, id, expected_version, log).await
    }

    async fn list_scim_users(&self, tenant: &ScimTenant, query: &ScimQuery) -> Result<ScimPage, Error> {
        self.list_scim_records(Kind::User, tenant, query).await
    }

    async fn insert_scim_group(&self, group: &ScimRecord, log: Option<&ScimRequestLogEntry>) -> Result<(), Error> {
        self.insert_scim_record(Kind::Group, group, log).await
    }

    async fn scim_group(&self, tenant: &ScimTenant, id: &str) -> Result<Option<ScimRecord>, Error> {
        self.get_scim_record(Kind::Group, tenant, id).await
    }

    async fn update_scim_group(
        &self,
        group: &ScimRecord,
        expected_version: i64,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        self.update_scim_record(Kind::Group, group, expected_version, log).await
    }

    async fn delete_scim_group(
        &self,
        tenant: &ScimTenant,
        id: &str,
        expected_version: Option<i64>,
        log: Option<&ScimRequestLogEntry>,
    ) -> Result<(), Error> {
        self.delete_scim_record(Kind::Group, tenant, id, expected_version, log).await
    }

    async fn list_scim_groups(&self, tenant: &ScimTenant, query: &ScimQuery) -> Result<ScimPage, Error> {
        self.list_scim_records(Kind::Group, tenant, query).await
    }

    async fn insert_scim_request_logs(&self, entries: &[ScimRequestLogEntry]) -> Result<(), Error> {
        let mut transaction = self.pool.begin().await?;
        if let Some(relaxed) = D::RELAXED_COMMIT {
            D::execute(&mut transaction, &mut QueryBuilder::<D>::new(relaxed)).await?;
        }
        // Six parameters a row: far below both dialects' limits per statement.
        for chunk in entries.chunks(IDS_PER_STATEMENT) {
            D::execute(&mut transaction, &mut log_insert::<D>(chunk)).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn list_scim_request_log(
        &self,
        connection_id: &ScimConnectionId,
        limit: u32,
    ) -> Result<Vec<ScimRequestLogEntry>, Error> {
        let mut builder = QueryBuilder::<D>::new(
            "SELECT connection_id, at, method, path, status, latency_ms FROM scim_request_log WHERE connection_id = ",
        );
        D::bind(&mut builder, SqlValue::text(connection_id.as_str()));
        builder.push(" ORDER BY at DESC, id DESC LIMIT ");
        D::bind(&mut builder, SqlValue::Integer(i64::from(limit)));
        let mut database = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut database, &mut builder).await?;
        rows.iter()
            .map(|row| {
                let view = RowView { table: "scim_request_log", row };
                let status = view.unsigned("status")?;
                Ok(ScimRequestLogEntry {
                    connection_id: ScimConnectionId::new(view.text("connection_id")?),
                    at: view.required_time("at")?,
                    method: view.text("method")?,
                    path: view.text("path")?,
                    status: u16::try_from(status).map_err(|error| corrupt("scim_request_log", "status", error))?,
                    latency_ms: view.unsigned("latency_ms")?,
                })
            })
            .collect()
    }
}
