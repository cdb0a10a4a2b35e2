//! The SQL of [`ScimStore`], written once over [`Dialect`]: connections and the request log here, records in
//! `read` and `write`.

use std::time::Instant;

use async_trait::async_trait;
use sqlx::QueryBuilder;
use time::OffsetDateTime;

use crate::store::Error;
use crate::store::governance::audit;
use crate::store::scim::ConnectionSettings;
use crate::store::scim::cache::CacheKey;
use crate::store::scim::rows::{
    CONNECTION_COLUMNS, IDS_PER_STATEMENT, LOG_COLUMNS, decode_connection, decode_connection_activity,
    decode_request_log_entry, push_log_rows, write_error,
};
use crate::store::scim::{
    ScimConnection, ScimConnectionActivity, ScimConnectionId, ScimKind, ScimPage, ScimQuery, ScimRecord,
    ScimRequestLogEntry, ScimStore, ScimTenant, TokenHash, WriteEffects,
};
use crate::store::scim::{read, write};
use crate::store::sql::{Dialect, SqlValue, begin_write, execute, fetch_all, fetch_optional, push_binds};
use crate::store::sql_store::SqlStore;

/// After a connection write (committed): this process's cache drops everything at once, and every listening
/// process is notified.
async fn connections_changed<D: Dialect>(store: &SqlStore<D>, connection: &mut D::Connection) -> Result<(), Error> {
    store.scim_connections.clear();
    if let Some(notify) = D::NOTIFY_SCIM_CONNECTIONS {
        D::execute(connection, &mut QueryBuilder::<D>::new(notify)).await?;
    }
    Ok(())
}

/// The connection `key` names, from this process's cache while it is fresh, else read with the `query` it builds (on
/// a kept connection: every SCIM request authenticates) and cached unless a connection changed meanwhile.
async fn cached_connection<D: Dialect>(
    store: &SqlStore<D>,
    key: CacheKey,
    query: impl FnOnce() -> QueryBuilder<D>,
) -> Result<Option<ScimConnection>, Error> {
    store.scim_watch.get_or_init(|| D::watch_scim_connections(&store.pool, store.scim_connections.clone()));
    let generation = match store.scim_connections.get(&key, Instant::now()) {
        Ok(connection) => return Ok(Some(connection)),
        Err(generation) => generation,
    };
    let mut query = query();
    let mut kept = store.kept_connections.take().await?;
    let found = fetch_optional(&mut *kept, &mut query, "scim_connection", decode_connection).await?;
    kept.done();
    if let Some(connection) = &found {
        store.scim_connections.put(key, connection, Instant::now(), generation);
    }
    Ok(found)
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
            SqlValue::Boolean(connection.settings.provisioning),
            SqlValue::text(connection.settings.delete_policy.as_str()),
            SqlValue::Boolean(connection.settings.zitadel_tokens),
            SqlValue::NullableInteger(connection.settings.expect_activity_within.map(|within| within.whole_seconds())),
        ];
        push_binds(&mut builder, values);
        // A new connection has no previous token; the NULL is written out because no bytes value is nullable.
        builder.push(", NULL, ");
        push_binds(
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
        connections_changed(self, &mut database).await
    }

    async fn list_scim_connections(&self) -> Result<Vec<ScimConnection>, Error> {
        let mut builder = QueryBuilder::<D>::new(format!(
            "SELECT {CONNECTION_COLUMNS} FROM scim_connection ORDER BY created_at, id{}",
            D::BINARY_ORDER
        ));
        fetch_all(&self.pool, &mut builder, "scim_connection", decode_connection).await
    }

    async fn scim_connection(&self, id: &ScimConnectionId) -> Result<Option<ScimConnection>, Error> {
        let mut builder =
            QueryBuilder::<D>::new(format!("SELECT {CONNECTION_COLUMNS} FROM scim_connection WHERE id = "));
        D::bind(&mut builder, SqlValue::text(id.as_str()));
        fetch_optional(&self.pool, &mut builder, "scim_connection", decode_connection).await
    }

    async fn scim_connection_by_token(&self, hash: &TokenHash) -> Result<Option<ScimConnection>, Error> {
        cached_connection(self, CacheKey::Token(hash.0), || {
            let mut builder =
                QueryBuilder::<D>::new(format!("SELECT {CONNECTION_COLUMNS} FROM scim_connection WHERE token_hash = "));
            D::bind(&mut builder, SqlValue::Bytes(hash.0.to_vec()));
            builder.push(" OR previous_token_hash = ");
            D::bind(&mut builder, SqlValue::Bytes(hash.0.to_vec()));
            builder.push(" ORDER BY created_at LIMIT 1");
            builder
        })
        .await
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
        connections_changed(self, &mut database).await?;
        Ok(rotated)
    }

    async fn disable_scim_connection(&self, id: &ScimConnectionId, at: OffsetDateTime) -> Result<bool, Error> {
        let mut builder = QueryBuilder::<D>::new("UPDATE scim_connection SET disabled_at = COALESCE(disabled_at, ");
        D::bind(&mut builder, SqlValue::Time(Some(at)));
        builder.push(") WHERE id = ");
        D::bind(&mut builder, SqlValue::text(id.as_str()));
        let mut database = self.pool.acquire().await?;
        let disabled = D::execute(&mut database, &mut builder).await? > 0;
        connections_changed(self, &mut database).await?;
        Ok(disabled)
    }

    async fn configure_scim_connection(
        &self,
        id: &ScimConnectionId,
        settings: &ConnectionSettings,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let within = settings.expect_activity_within.map(|within| within.whole_seconds());
        let mut builder = crate::store::sql::statement::<D>(
            "UPDATE scim_connection SET provisioning = ?, delete_policy = ?, zitadel_tokens = ?, \
             expect_activity_within_seconds = ? WHERE id = ?",
            vec![
                SqlValue::Boolean(settings.provisioning),
                SqlValue::text(settings.delete_policy.as_str()),
                SqlValue::Boolean(settings.zitadel_tokens),
                SqlValue::NullableInteger(within),
                SqlValue::text(id.as_str()),
            ],
        );
        let found = D::execute(&mut transaction, &mut builder).await? > 0;
        if found {
            let details = serde_json::json!({
                "provisioning": settings.provisioning,
                "delete_policy": settings.delete_policy.as_str(),
                "zitadel_tokens": settings.zitadel_tokens,
                "expect_activity_within_seconds": within,
            });
            let target = format!("scim_connection/{id}");
            audit::record::<D>(&mut transaction, operator, "scim_connection.configure", &target, details, now).await?;
        }
        transaction.commit().await?;
        let mut database = self.pool.acquire().await?;
        connections_changed(self, &mut database).await?;
        Ok(found)
    }

    async fn scim_connection_accepting_zitadel_tokens(&self, org: &str) -> Result<Option<ScimConnection>, Error> {
        cached_connection(self, CacheKey::ZitadelTokens(org.to_owned()), || {
            crate::store::sql::statement::<D>(
                &format!(
                    "SELECT {CONNECTION_COLUMNS} FROM scim_connection WHERE org_id = ? AND zitadel_tokens = ? \
                     AND disabled_at IS NULL ORDER BY created_at LIMIT 1"
                ),
                vec![SqlValue::text(org), SqlValue::Boolean(true)],
            )
        })
        .await
    }

    async fn insert_scim_record(
        &self,
        kind: ScimKind,
        record: &ScimRecord,
        effects: &WriteEffects<'_>,
    ) -> Result<(), Error> {
        write::insert(&self.kept_connections, kind, record, effects).await
    }

    async fn scim_record(&self, kind: ScimKind, tenant: &ScimTenant, id: &str) -> Result<Option<ScimRecord>, Error> {
        read::get(&self.kept_connections, kind, tenant, id).await
    }

    async fn update_scim_record(
        &self,
        kind: ScimKind,
        record: &ScimRecord,
        previous: &ScimRecord,
        effects: &WriteEffects<'_>,
    ) -> Result<(), Error> {
        write::update(&self.kept_connections, kind, record, previous, effects).await
    }

    async fn delete_scim_record(
        &self,
        kind: ScimKind,
        tenant: &ScimTenant,
        id: &str,
        expected_version: Option<i64>,
        effects: &WriteEffects<'_>,
    ) -> Result<(), Error> {
        write::delete(&self.kept_connections, kind, tenant, id, expected_version, effects).await
    }

    async fn list_scim_records(
        &self,
        kind: ScimKind,
        tenant: &ScimTenant,
        query: &ScimQuery,
    ) -> Result<ScimPage, Error> {
        read::list(&self.kept_connections, kind, tenant, query).await
    }

    async fn insert_scim_request_logs(&self, entries: &[ScimRequestLogEntry]) -> Result<(), Error> {
        let mut transaction = begin_write(&self.pool).await?;
        if let Some(relaxed) = D::RELAXED_COMMIT {
            D::execute(&mut transaction, &mut QueryBuilder::<D>::new(relaxed)).await?;
        }
        // Six parameters a row: far below both dialects' limits per statement.
        for chunk in entries.chunks(IDS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<D>::new(format!("INSERT INTO scim_request_log ({LOG_COLUMNS}) VALUES "));
            push_log_rows(&mut insert, chunk);
            D::execute(&mut transaction, &mut insert).await?;
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
        fetch_all(&self.pool, &mut builder, "scim_request_log", decode_request_log_entry).await
    }

    async fn scim_connection_activity(&self, since: OffsetDateTime) -> Result<Vec<ScimConnectionActivity>, Error> {
        // The last request per connection is a backward step on (connection_id, at); the window's counts one range
        // of the log.
        let mut builder = QueryBuilder::<D>::new(
            "SELECT c.id, \
                    (SELECT MAX(l.at) FROM scim_request_log l WHERE l.connection_id = c.id) AS last_request_at, \
                    COALESCE(w.requests, 0) AS requests, COALESCE(w.client_errors, 0) AS client_errors, \
                    COALESCE(w.server_errors, 0) AS server_errors \
             FROM scim_connection c LEFT JOIN ( \
                 SELECT connection_id, COUNT(*) AS requests, \
                        SUM(CASE WHEN status >= 400 AND status < 500 THEN 1 ELSE 0 END) AS client_errors, \
                        SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS server_errors \
                 FROM scim_request_log WHERE at >= ",
        );
        D::bind(&mut builder, SqlValue::Time(Some(since)));
        builder.push(format!(
            " GROUP BY connection_id) w ON w.connection_id = c.id ORDER BY c.created_at, c.id{}",
            D::BINARY_ORDER
        ));
        fetch_all(&self.pool, &mut builder, "scim_request_log", decode_connection_activity).await
    }

    async fn delete_scim_request_logs_before(&self, before: OffsetDateTime, limit: u32) -> Result<u64, Error> {
        let mut builder = QueryBuilder::<D>::new(
            "DELETE FROM scim_request_log WHERE id IN (SELECT id FROM scim_request_log WHERE at < ",
        );
        D::bind(&mut builder, SqlValue::Time(Some(before)));
        builder.push(" ORDER BY at, id LIMIT ");
        D::bind(&mut builder, SqlValue::Integer(i64::from(limit)));
        builder.push(")");
        execute(&self.pool, &mut builder).await
    }
}
