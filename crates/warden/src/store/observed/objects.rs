//! Observed objects in bulk: a batch of one kind upserted or deleted in statements as large as the dialect
//! allows, and read a keyset page at a time.

use std::collections::{BTreeMap, HashMap};

use sqlx::{Pool, QueryBuilder};
use warden_core::id::{EnvironmentName, OrgId, UserId};
use warden_core::model::{ObjectBatch, ObjectKey, ResourceKind, Snapshot};

use crate::store::observed::rows::{self, Record};
use crate::store::sql::{Dialect, SqlValue, execute, fetch_all, push_binds};
use crate::store::{Error, ObjectScope};

/// A keyset page: the objects after a key, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Page<'a> {
    pub(super) after: Option<&'a str>,
    pub(super) limit: u32,
}

/// A foreign-key violation of a write keyed by environment: the environment is not in the store.
pub(super) fn unknown_environment_on_foreign_key(environment: &EnvironmentName) -> impl Fn(Error) -> Error + '_ {
    move |error| match &error {
        Error::Database(sqlx::Error::Database(database)) if database.is_foreign_key_violation() => {
            Error::UnknownEnvironment(environment.clone())
        }
        _ => error,
    }
}

/// Upserts in statements as large as the dialect's parameter limit allows, on the caller's connection (usually
/// a transaction).
async fn upsert_records<D: Dialect, R: Record>(
    connection: &mut D::Connection,
    environment: &EnvironmentName,
    records: &[R],
) -> Result<(), Error> {
    // One statement may not touch the same row twice (PostgreSQL refuses), so the last occurrence of a key wins.
    let mut last_index_by_key: HashMap<ObjectKey, usize> = HashMap::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        last_index_by_key.insert(record.key(), index);
    }
    let mut unique: Vec<(usize, ObjectKey)> = last_index_by_key.into_iter().map(|(key, index)| (index, key)).collect();
    unique.sort_unstable_by_key(|(index, _)| *index);

    let columns_per_row = 2 + R::COLUMNS.len();
    let rows_per_statement = (D::MAX_PARAMETERS / columns_per_row).max(1);
    let insert = format!("INSERT INTO {} (environment, id, {}) VALUES ", R::TABLE, R::COLUMNS.join(", "));
    let update = R::COLUMNS.iter().map(|column| format!("{column} = excluded.{column}")).collect::<Vec<_>>();
    let on_conflict = format!(" ON CONFLICT (environment, id) DO UPDATE SET {}", update.join(", "));
    for chunk in unique.chunks(rows_per_statement) {
        let mut builder = QueryBuilder::<D>::new(&insert);
        for (row, (index, key)) in chunk.iter().enumerate() {
            builder.push(if row == 0 { "(" } else { ", (" });
            let identity = [SqlValue::text(environment.as_str()), SqlValue::text(key.as_str())];
            push_binds(&mut builder, identity.into_iter().chain(records[*index].values()));
            builder.push(")");
        }
        builder.push(&on_conflict);
        execute(&mut *connection, &mut builder).await.map_err(unknown_environment_on_foreign_key(environment))?;
    }
    Ok(())
}

pub(super) async fn upsert_batch<D: Dialect>(
    connection: &mut D::Connection,
    environment: &EnvironmentName,
    batch: &ObjectBatch,
) -> Result<(), Error> {
    match batch {
        ObjectBatch::Orgs(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::Projects(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::ProjectRoles(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::Users(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::MachineKeys(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::PersonalAccessTokens(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::UserGrants(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::Memberships(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::ProjectGrants(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::Applications(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::IdentityProviders(objects) => upsert_records::<D, _>(connection, environment, objects).await,
        ObjectBatch::UserMetadata(objects) => upsert_records::<D, _>(connection, environment, objects).await,
    }
}

pub(super) async fn upsert_snapshot<D: Dialect>(
    connection: &mut D::Connection,
    environment: &EnvironmentName,
    snapshot: &Snapshot,
) -> Result<(), Error> {
    let Snapshot {
        orgs,
        projects,
        project_roles,
        users,
        machine_keys,
        personal_access_tokens,
        user_grants,
        memberships,
        project_grants,
        applications,
        identity_providers,
        user_metadata,
    } = snapshot;
    upsert_records::<D, _>(connection, environment, orgs).await?;
    upsert_records::<D, _>(connection, environment, projects).await?;
    upsert_records::<D, _>(connection, environment, project_roles).await?;
    upsert_records::<D, _>(connection, environment, users).await?;
    upsert_records::<D, _>(connection, environment, machine_keys).await?;
    upsert_records::<D, _>(connection, environment, personal_access_tokens).await?;
    upsert_records::<D, _>(connection, environment, user_grants).await?;
    upsert_records::<D, _>(connection, environment, memberships).await?;
    upsert_records::<D, _>(connection, environment, project_grants).await?;
    upsert_records::<D, _>(connection, environment, applications).await?;
    upsert_records::<D, _>(connection, environment, identity_providers).await?;
    upsert_records::<D, _>(connection, environment, user_metadata).await
}

pub(super) async fn delete_keys<D: Dialect>(
    connection: &mut D::Connection,
    environment: &EnvironmentName,
    kind: ResourceKind,
    keys: &[&str],
) -> Result<u64, Error> {
    let table = rows::table_of(kind);
    let mut deleted = 0;
    for chunk in keys.chunks(D::MAX_PARAMETERS - 1) {
        let mut builder = QueryBuilder::<D>::new(format!("DELETE FROM {table} WHERE environment = "));
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        builder.push(" AND id IN (");
        push_binds(&mut builder, chunk.iter().map(|key| SqlValue::text(*key)));
        builder.push(")");
        deleted += execute(&mut *connection, &mut builder).await?;
    }
    Ok(deleted)
}

async fn list_records<D: Dialect, R: Record>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    page: Option<Page<'_>>,
) -> Result<Vec<R>, Error> {
    let mut builder =
        QueryBuilder::<D>::new(format!("SELECT id, {} FROM {} WHERE environment = ", R::COLUMNS.join(", "), R::TABLE));
    D::bind(&mut builder, SqlValue::text(environment.as_str()));
    if let Some(after) = page.and_then(|page| page.after) {
        builder.push(format!(" AND id{} > ", D::BINARY_ORDER));
        D::bind(&mut builder, SqlValue::text(after));
    }
    builder.push(format!(" ORDER BY id{}", D::BINARY_ORDER));
    if let Some(page) = page {
        builder.push(" LIMIT ");
        D::bind(&mut builder, SqlValue::Integer(i64::from(page.limit)));
    }
    fetch_all(pool, &mut builder, R::TABLE, R::decode).await
}

/// One object by id.
pub(super) async fn get_record<D: Dialect, R: Record>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    id: &str,
) -> Result<Option<R>, Error> {
    let mut builder =
        QueryBuilder::<D>::new(format!("SELECT id, {} FROM {} WHERE environment = ", R::COLUMNS.join(", "), R::TABLE));
    D::bind(&mut builder, SqlValue::text(environment.as_str()));
    builder.push(" AND id = ");
    D::bind(&mut builder, SqlValue::text(id));
    Ok(fetch_all(pool, &mut builder, R::TABLE, R::decode).await?.into_iter().next())
}

pub(super) async fn list_batch<D: Dialect>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    kind: ResourceKind,
    page: Option<Page<'_>>,
) -> Result<ObjectBatch, Error> {
    Ok(match kind {
        ResourceKind::Org => ObjectBatch::Orgs(list_records(pool, environment, page).await?),
        ResourceKind::Project => ObjectBatch::Projects(list_records(pool, environment, page).await?),
        ResourceKind::ProjectRole => ObjectBatch::ProjectRoles(list_records(pool, environment, page).await?),
        ResourceKind::User => ObjectBatch::Users(list_records(pool, environment, page).await?),
        ResourceKind::MachineKey => ObjectBatch::MachineKeys(list_records(pool, environment, page).await?),
        ResourceKind::PersonalAccessToken => {
            ObjectBatch::PersonalAccessTokens(list_records(pool, environment, page).await?)
        }
        ResourceKind::UserGrant => ObjectBatch::UserGrants(list_records(pool, environment, page).await?),
        ResourceKind::Membership => ObjectBatch::Memberships(list_records(pool, environment, page).await?),
        ResourceKind::ProjectGrant => ObjectBatch::ProjectGrants(list_records(pool, environment, page).await?),
        ResourceKind::Application => ObjectBatch::Applications(list_records(pool, environment, page).await?),
        ResourceKind::IdentityProvider => ObjectBatch::IdentityProviders(list_records(pool, environment, page).await?),
        ResourceKind::UserMetadata => ObjectBatch::UserMetadata(list_records(pool, environment, page).await?),
    })
}

/// The columns naming an object's organization and user, where its table has them.
fn scope_columns(kind: ResourceKind) -> (Option<&'static str>, Option<&'static str>) {
    match kind {
        ResourceKind::Org => (Some("id"), None),
        ResourceKind::User => (Some("org_id"), Some("id")),
        ResourceKind::MachineKey
        | ResourceKind::PersonalAccessToken
        | ResourceKind::UserGrant
        | ResourceKind::Membership
        | ResourceKind::UserMetadata => (Some("org_id"), Some("user_id")),
        ResourceKind::IdentityProvider => (Some("owner_org_id"), None),
        ResourceKind::Project | ResourceKind::ProjectRole | ResourceKind::ProjectGrant | ResourceKind::Application => {
            (Some("org_id"), None)
        }
    }
}

/// Objects whose `column` is one of `values` (or, with no values, NULL), a statement per chunk of values.
async fn list_records_where<D: Dialect, R: Record>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    column: &str,
    values: &[&str],
    found: &mut BTreeMap<ObjectKey, R>,
) -> Result<(), Error> {
    let select = format!("SELECT id, {} FROM {} WHERE environment = ", R::COLUMNS.join(", "), R::TABLE);
    let chunks: Vec<&[&str]> = if values.is_empty() { vec![&[]] } else { values.chunks(500).collect() };
    for chunk in chunks {
        let mut builder = QueryBuilder::<D>::new(&select);
        D::bind(&mut builder, SqlValue::text(environment.as_str()));
        if chunk.is_empty() {
            builder.push(format!(" AND {column} IS NULL"));
        } else {
            builder.push(format!(" AND {column} IN ("));
            push_binds(&mut builder, chunk.iter().map(|value| SqlValue::text(*value)));
            builder.push(")");
        }
        for record in fetch_all(pool, &mut builder, R::TABLE, R::decode).await? {
            found.insert(record.key(), record);
        }
    }
    Ok(())
}

async fn list_records_in<D: Dialect, R: Record>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    kind: ResourceKind,
    scope: &ObjectScope,
) -> Result<Vec<R>, Error> {
    let (org_column, user_column) = scope_columns(kind);
    let mut found: BTreeMap<ObjectKey, R> = BTreeMap::new();
    if let Some(column) = org_column {
        let orgs: Vec<&str> = scope.orgs.iter().map(OrgId::as_str).collect();
        if !orgs.is_empty() {
            list_records_where(pool, environment, column, &orgs, &mut found).await?;
        }
        if scope.instance && kind != ResourceKind::Org {
            list_records_where(pool, environment, column, &[], &mut found).await?;
        }
    }
    if let Some(column) = user_column {
        let users: Vec<&str> = scope.users.iter().map(UserId::as_str).collect();
        if !users.is_empty() {
            list_records_where(pool, environment, column, &users, &mut found).await?;
        }
    }
    Ok(found.into_values().collect())
}

pub(super) async fn list_batch_in<D: Dialect>(
    pool: &Pool<D>,
    environment: &EnvironmentName,
    kind: ResourceKind,
    scope: &ObjectScope,
) -> Result<ObjectBatch, Error> {
    Ok(match kind {
        ResourceKind::Org => ObjectBatch::Orgs(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::Project => ObjectBatch::Projects(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::ProjectRole => ObjectBatch::ProjectRoles(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::User => ObjectBatch::Users(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::MachineKey => ObjectBatch::MachineKeys(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::PersonalAccessToken => {
            ObjectBatch::PersonalAccessTokens(list_records_in(pool, environment, kind, scope).await?)
        }
        ResourceKind::UserGrant => ObjectBatch::UserGrants(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::Membership => ObjectBatch::Memberships(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::ProjectGrant => {
            ObjectBatch::ProjectGrants(list_records_in(pool, environment, kind, scope).await?)
        }
        ResourceKind::Application => ObjectBatch::Applications(list_records_in(pool, environment, kind, scope).await?),
        ResourceKind::IdentityProvider => {
            ObjectBatch::IdentityProviders(list_records_in(pool, environment, kind, scope).await?)
        }
        ResourceKind::UserMetadata => ObjectBatch::UserMetadata(list_records_in(pool, environment, kind, scope).await?),
    })
}
