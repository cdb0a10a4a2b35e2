//! The read side of [`crate::store::ScimStore`]: a user or group by id, a page of a filtered list, a group's
//! members.
//!
//! Every read is one statement (a page of groups: two, the second for their members) on a connection of
//! `store::sql::kept_connections`, and the user's groups come in the same statement
//! ([`Dialect::SCIM_USER_GROUPS`], over the user row aliased `r`). A lookup by a key unique in the tenant (`id`,
//! a user's `userName`: what Okta and Entra ID send before every create) matches at most one row, so it reads
//! that row and nothing else: no count, no sort. A list pages in the database and counts its matches in the same
//! statement (`COUNT(*) OVER ()`); a user's groups are read only for the rows of the page.

use std::collections::HashMap;

use sqlx::QueryBuilder;

use crate::store::Error;
use crate::store::scim::rows::{IDS_PER_STATEMENT, RECORD_COLUMNS, decode_group_member, decode_record, push_tenant};
use crate::store::scim::{
    ScimCondition, ScimGroupMember, ScimKind, ScimPage, ScimQuery, ScimRecord, ScimSortKey, ScimTenant,
};
use crate::store::sql::{Dialect, KeptConnections, RowView, SqlValue, fetch_all, fetch_optional, push_binds};

/// The column a list is ordered by, before the tie-breakers (creation order, then id).
struct SortColumn {
    name: &'static str,
    /// Text, compared by bytes in both dialects.
    text: bool,
    /// May be NULL: resources without the attribute come last in both directions.
    nullable: bool,
}

impl SortColumn {
    fn of(kind: ScimKind, key: ScimSortKey) -> SortColumn {
        let column = |name, text, nullable| SortColumn { name, text, nullable };
        match (key, kind) {
            (ScimSortKey::Created, _) | (ScimSortKey::UserName, ScimKind::Group) => column("created", false, false),
            (ScimSortKey::LastModified, _) => column("last_modified", false, false),
            (ScimSortKey::Id, _) => column("id", true, false),
            (ScimSortKey::UserName, ScimKind::User) => column("user_name_lower", true, false),
            (ScimSortKey::DisplayName, _) => column("display_name_lower", true, kind == ScimKind::User),
            (ScimSortKey::ExternalId, _) => column("external_id", true, true),
        }
    }

    /// `ORDER BY ...` over columns named as in the table (and in a derived table that selects them).
    fn order_by<D: Dialect>(&self, descending: bool) -> String {
        let binary = D::BINARY_ORDER;
        let nulls_last = if self.nullable { format!("({} IS NULL), ", self.name) } else { String::new() };
        let collate = if self.text { binary } else { "" };
        let direction = if descending { "DESC" } else { "ASC" };
        format!(" ORDER BY {nulls_last}{}{collate} {direction}, created, id{binary}", self.name)
    }

    /// Whether [`RECORD_COLUMNS`] lacks it (a derived table must then select it to be ordered by it).
    fn extra(&self) -> bool {
        !RECORD_COLUMNS.split(", ").any(|column| column == self.name)
    }
}

pub(super) async fn get<D: Dialect>(
    connections: &KeptConnections<D>,
    kind: ScimKind,
    tenant: &ScimTenant,
    id: &str,
) -> Result<Option<ScimRecord>, Error> {
    let query = ScimQuery { conditions: vec![ScimCondition::Id(id.to_owned())], ..ScimQuery::default() };
    Ok(list(connections, kind, tenant, &query).await?.records.pop())
}

pub(super) async fn list<D: Dialect>(
    connections: &KeptConnections<D>,
    kind: ScimKind,
    tenant: &ScimTenant,
    query: &ScimQuery,
) -> Result<ScimPage, Error> {
    let mut kept = connections.take().await?;
    let connection = &mut *kept;
    let mut page = if query.limit == Some(0) {
        ScimPage { total: count::<D>(connection, kind, tenant, query).await?, records: Vec::new() }
    } else if at_most_one_match(kind, query) {
        read_unique::<D>(connection, kind, tenant, query).await?
    } else {
        read_page::<D>(connection, kind, tenant, query).await?
    };
    if kind == ScimKind::Group {
        attach_members::<D>(connection, tenant, &mut page.records).await?;
    }
    kept.done();
    Ok(page)
}

/// ` FROM {table} AS r WHERE` the tenant and every condition.
fn push_from_where<D: Dialect>(builder: &mut QueryBuilder<D>, kind: ScimKind, tenant: &ScimTenant, query: &ScimQuery) {
    builder.push(format!(" FROM {} AS r WHERE", kind.table()));
    push_tenant(builder, "r.", tenant);
    for condition in &query.conditions {
        let (sql, value) = match (condition, kind) {
            (ScimCondition::Id(id), _) => (" AND r.id = ", id.clone()),
            (ScimCondition::ExternalId(id), _) => (" AND r.external_id = ", id.clone()),
            (ScimCondition::DisplayName(name), _) => (" AND r.display_name_lower = ", name.to_lowercase()),
            (ScimCondition::UserName(name), ScimKind::User) => (" AND r.user_name_lower = ", name.to_lowercase()),
            (ScimCondition::Email(email), ScimKind::User) => (
                " AND EXISTS (SELECT 1 FROM scim_user_email AS e WHERE e.environment = r.environment \
                 AND e.org_id = r.org_id AND e.user_id = r.id AND e.value_lower = ",
                email.to_lowercase(),
            ),
            (ScimCondition::UserName(_) | ScimCondition::Email(_), ScimKind::Group) => {
                builder.push(" AND 1 = 0");
                continue;
            }
        };
        builder.push(sql);
        D::bind(builder, SqlValue::Text(value));
        if sql.contains("EXISTS") {
            builder.push(")");
        }
    }
}

async fn count<D: Dialect>(
    connection: &mut D::Connection,
    kind: ScimKind,
    tenant: &ScimTenant,
    query: &ScimQuery,
) -> Result<u64, Error> {
    let mut count = QueryBuilder::<D>::new("SELECT COUNT(*) AS total");
    push_from_where::<D>(&mut count, kind, tenant, query);
    let total = fetch_optional(connection, &mut count, kind.table(), |row| row.unsigned("total")).await?;
    Ok(total.unwrap_or(0))
}

/// The one row a unique key can match (or none), paged in memory.
async fn read_unique<D: Dialect>(
    connection: &mut D::Connection,
    kind: ScimKind,
    tenant: &ScimTenant,
    query: &ScimQuery,
) -> Result<ScimPage, Error> {
    let mut select = QueryBuilder::<D>::new(format!("SELECT {}", kind.select_columns::<D>()));
    push_from_where::<D>(&mut select, kind, tenant, query);
    let rows = D::fetch_all(connection, &mut select).await?;
    let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
    let limit = query.limit.map_or(usize::MAX, |limit| usize::try_from(limit).unwrap_or(usize::MAX));
    let records = rows
        .iter()
        .skip(offset)
        .take(limit)
        .map(|row| decode_record(kind, tenant, &RowView { table: kind.table(), row }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ScimPage { total: rows.len() as u64, records })
}

/// One statement for a page and its total (a window count over the matches), unless the page is empty: then
/// the total is counted on its own (it is zero when the page starts at the first match). A user's groups are
/// read over the page, not over every match before it.
async fn read_page<D: Dialect>(
    connection: &mut D::Connection,
    kind: ScimKind,
    tenant: &ScimTenant,
    query: &ScimQuery,
) -> Result<ScimPage, Error> {
    let sort = SortColumn::of(kind, query.sort);
    let order_by = sort.order_by::<D>(query.descending);
    let extra = if sort.extra() { format!(", r.{}", sort.name) } else { String::new() };
    let page_columns = RECORD_COLUMNS.split(", ").map(|column| format!("r.{column}")).collect::<Vec<_>>();
    let mut select = QueryBuilder::<D>::new(match kind {
        ScimKind::User => format!("SELECT r.*, {} AS user_groups FROM (SELECT ", D::SCIM_USER_GROUPS),
        ScimKind::Group => "SELECT ".to_owned(),
    });
    select.push(format!("{}{extra}, COUNT(*) OVER () AS total", page_columns.join(", ")));
    push_from_where::<D>(&mut select, kind, tenant, query);
    select.push(format!("{order_by} LIMIT "));
    let limit = query.limit.map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
    D::bind(&mut select, SqlValue::Integer(limit));
    select.push(" OFFSET ");
    D::bind(&mut select, SqlValue::Integer(i64::try_from(query.offset).unwrap_or(i64::MAX)));
    if kind == ScimKind::User {
        select.push(format!(") AS r{order_by}"));
    }
    let rows = D::fetch_all(connection, &mut select).await?;
    let total = match rows.first() {
        Some(row) => RowView { table: kind.table(), row }.unsigned("total")?,
        None if query.offset == 0 => 0,
        None => count::<D>(connection, kind, tenant, query).await?,
    };
    let records = rows
        .iter()
        .map(|row| decode_record(kind, tenant, &RowView { table: kind.table(), row }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ScimPage { total, records })
}

/// Fills each group's members, ordered by value: `display` and `type` as sent, else from the tenant's user (its
/// displayName, else its userName; and `User`). One statement per page (per thousand groups), never one per
/// group.
async fn attach_members<D: Dialect>(
    connection: &mut D::Connection,
    tenant: &ScimTenant,
    groups: &mut [ScimRecord],
) -> Result<(), Error> {
    if groups.is_empty() {
        return Ok(());
    }
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
        push_binds(&mut builder, chunk.iter().map(SqlValue::text));
        builder.push(format!(") ORDER BY m.group_id, m.member_id{}", D::BINARY_ORDER));
        for (group_id, member) in
            fetch_all(&mut *connection, &mut builder, "scim_group_member", decode_group_member).await?
        {
            members.entry(group_id).or_default().push(member);
        }
    }
    for group in groups {
        group.members = members.remove(&group.id).unwrap_or_default();
    }
    Ok(())
}

/// The conditions name a key unique in the tenant: an id, or a user's userName (compared case-insensitively, as
/// its unique index is).
fn at_most_one_match(kind: ScimKind, query: &ScimQuery) -> bool {
    query.conditions.iter().any(|condition| match condition {
        ScimCondition::Id(_) => true,
        ScimCondition::UserName(_) => kind == ScimKind::User,
        _ => false,
    })
}
