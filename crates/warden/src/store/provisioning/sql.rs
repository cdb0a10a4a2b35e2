//! The SQL of [`ProvisioningStore`], written once over [`Dialect`].
//!
//! The outbox is claimed like notifications are (a claim with an expiry, `SKIP LOCKED` on PostgreSQL), with one
//! more condition: an operation is claimable only while no earlier operation of its SCIM user is in the outbox, so
//! a user's operations apply one at a time and in order, whichever replica applies them.

use async_trait::async_trait;
use time::OffsetDateTime;
use warden_core::id::{ProjectId, UserId};

use crate::store::Error;
use crate::store::governance::audit;
use crate::store::provisioning::rows::{
    MANAGED_GRANT_COLUMNS, MAPPING_COLUMNS, OUTBOX_COLUMNS, PROVISIONED_USER_COLUMNS, decode_managed_grant,
    decode_mapping, decode_operation, decode_provisioned_user, mapping_values, tenant_values,
};
use crate::store::provisioning::{
    ConnectionBacklog, GroupRoleMapping, GroupSelector, ManagedGrant, ProvisionedUser, ProvisioningOperation,
    ProvisioningStore, RepairPlan,
};
use crate::store::scim::{
    OUTBOX_INSERT_COLUMNS, ProvisioningOperationKind, ScimConnectionId, ScimTenant, push_outbox_rows,
};
use crate::store::sql::{Dialect, SqlValue, begin_write, execute, fetch_all, fetch_optional, statement};
use crate::store::sql_store::SqlStore;

fn time(value: OffsetDateTime) -> SqlValue {
    SqlValue::Time(Some(value))
}

/// Enqueues a grants operation for every user of the mapping's tenant who is a member of a group it selects, if
/// its connection provisions; returns how many.
async fn enqueue_members<D: Dialect>(
    connection: &mut D::Connection,
    mapping: &GroupRoleMapping,
    now: OffsetDateTime,
) -> Result<u64, Error> {
    let (condition, group) = match &mapping.group {
        GroupSelector::DisplayName(name) => ("g.display_name_lower = ?", name.to_lowercase()),
        GroupSelector::ExternalId(id) => ("g.external_id = ?", id.clone()),
    };
    let [environment, org_id] = tenant_values(&mapping.tenant);
    let mut builder = statement::<D>(
        &format!(
            "INSERT INTO provisioning_outbox ({OUTBOX_INSERT_COLUMNS}) \
             SELECT DISTINCT ?, m.environment, m.org_id, m.member_id, ?, ?, ?, 0, ? \
             FROM scim_group_member m JOIN scim_group g \
             ON g.environment = m.environment AND g.org_id = m.org_id AND g.id = m.group_id \
             WHERE g.environment = ? AND g.org_id = ? AND {condition} \
             AND EXISTS (SELECT 1 FROM scim_user u \
                 WHERE u.environment = m.environment AND u.org_id = m.org_id AND u.id = m.member_id) \
             AND EXISTS (SELECT 1 FROM scim_connection c WHERE c.id = ? AND c.provisioning)"
        ),
        vec![
            SqlValue::text(mapping.connection_id.as_str()),
            SqlValue::text(ProvisioningOperationKind::SyncGrants.as_str()),
            SqlValue::Json(serde_json::json!({"mapping": mapping.id})),
            time(now),
            time(now),
            environment,
            org_id,
            SqlValue::text(group),
            SqlValue::text(mapping.connection_id.as_str()),
        ],
    );
    execute(connection, &mut builder).await
}

fn mapping_details(mapping: &GroupRoleMapping, enqueued: u64) -> serde_json::Value {
    let (by, group) = match &mapping.group {
        GroupSelector::DisplayName(name) => ("displayName", name),
        GroupSelector::ExternalId(id) => ("externalId", id),
    };
    serde_json::json!({
        "connection": mapping.connection_id.as_str(),
        "group": {by: group},
        "project": mapping.project_id.as_str(),
        "roles": mapping.role_keys.iter().map(|key| key.as_str()).collect::<Vec<_>>(),
        "grant_operations_enqueued": enqueued,
    })
}

#[async_trait]
impl<D: Dialect> ProvisioningStore for SqlStore<D> {
    async fn add_group_role_mapping(&self, mapping: &GroupRoleMapping) -> Result<u64, Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let mut builder = statement::<D>(
            &format!("INSERT INTO group_role_mapping ({MAPPING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            mapping_values(mapping),
        );
        execute(&mut *transaction, &mut builder).await?;
        let enqueued = enqueue_members::<D>(&mut transaction, mapping, mapping.created_at).await?;
        let target = format!("mapping/{}", mapping.id);
        let details = mapping_details(mapping, enqueued);
        audit::record::<D>(&mut transaction, &mapping.created_by, "mapping.add", &target, details, mapping.created_at)
            .await?;
        transaction.commit().await?;
        Ok(enqueued)
    }

    async fn remove_group_role_mapping(
        &self,
        id: &str,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(GroupRoleMapping, u64)>, Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let mut builder = statement::<D>(
            &format!("DELETE FROM group_role_mapping WHERE id = ? RETURNING {MAPPING_COLUMNS}"),
            vec![SqlValue::text(id)],
        );
        let Some(mapping) =
            fetch_optional(&mut *transaction, &mut builder, "group_role_mapping", decode_mapping).await?
        else {
            return Ok(None);
        };
        let enqueued = enqueue_members::<D>(&mut transaction, &mapping, now).await?;
        let details = mapping_details(&mapping, enqueued);
        audit::record::<D>(&mut transaction, operator, "mapping.remove", &format!("mapping/{id}"), details, now)
            .await?;
        transaction.commit().await?;
        Ok(Some((mapping, enqueued)))
    }

    async fn list_group_role_mappings(
        &self,
        connection: Option<&ScimConnectionId>,
    ) -> Result<Vec<GroupRoleMapping>, Error> {
        let mut builder = match connection {
            Some(connection) => statement::<D>(
                &format!(
                    "SELECT {MAPPING_COLUMNS} FROM group_role_mapping WHERE connection_id = ? ORDER BY created_at, id"
                ),
                vec![SqlValue::text(connection.as_str())],
            ),
            None => statement::<D>(
                &format!("SELECT {MAPPING_COLUMNS} FROM group_role_mapping ORDER BY created_at, id"),
                Vec::new(),
            ),
        };
        fetch_all(&self.pool, &mut builder, "group_role_mapping", decode_mapping).await
    }

    async fn mappings_of_scim_user(
        &self,
        tenant: &ScimTenant,
        scim_user_id: &str,
    ) -> Result<Vec<GroupRoleMapping>, Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {MAPPING_COLUMNS} FROM group_role_mapping r WHERE r.environment = ? AND r.org_id = ? \
                 AND EXISTS (SELECT 1 FROM scim_group_member m JOIN scim_group g \
                     ON g.environment = m.environment AND g.org_id = m.org_id AND g.id = m.group_id \
                     WHERE m.environment = r.environment AND m.org_id = r.org_id AND m.member_id = ? \
                     AND (g.display_name_lower = r.group_name_lower OR g.external_id = r.group_external_id)) \
                 ORDER BY created_at, id"
            ),
            vec![environment, org_id, SqlValue::text(scim_user_id)],
        );
        fetch_all(&self.pool, &mut builder, "group_role_mapping", decode_mapping).await
    }

    async fn due_provisioning_connections(&self, now: OffsetDateTime) -> Result<Vec<ScimConnectionId>, Error> {
        let mut builder = statement::<D>(
            "SELECT DISTINCT connection_id FROM provisioning_outbox WHERE parked_at IS NULL AND next_attempt_at <= ? \
             AND (claimed_until IS NULL OR claimed_until <= ?)",
            vec![time(now), time(now)],
        );
        fetch_all(&self.pool, &mut builder, "provisioning_outbox", |row| {
            Ok(ScimConnectionId::new(row.text("connection_id")?))
        })
        .await
    }

    async fn claim_provisioning_operations(
        &self,
        connection: &ScimConnectionId,
        holder: &str,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ProvisioningOperation>, Error> {
        let mut builder = statement::<D>(
            &format!(
                "UPDATE provisioning_outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (\
                 SELECT o.id FROM provisioning_outbox o WHERE o.connection_id = ? AND o.parked_at IS NULL \
                 AND o.next_attempt_at <= ? AND (o.claimed_until IS NULL OR o.claimed_until <= ?) \
                 AND NOT EXISTS (SELECT 1 FROM provisioning_outbox e WHERE e.environment = o.environment \
                     AND e.org_id = o.org_id AND e.scim_user_id = o.scim_user_id AND e.id < o.id) \
                 ORDER BY o.id LIMIT ?{}) RETURNING {OUTBOX_COLUMNS}",
                D::SKIP_LOCKED
            ),
            vec![
                SqlValue::text(holder),
                time(claimed_until),
                SqlValue::text(connection.as_str()),
                time(now),
                time(now),
                SqlValue::Integer(i64::from(limit)),
            ],
        );
        let mut claimed = fetch_all(&self.pool, &mut builder, "provisioning_outbox", decode_operation).await?;
        claimed.sort_by_key(|operation| operation.id);
        Ok(claimed)
    }

    async fn extend_provisioning_claims(
        &self,
        holder: &str,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
    ) -> Result<u64, Error> {
        let mut builder = statement::<D>(
            "UPDATE provisioning_outbox SET claimed_until = ? WHERE claimed_by = ? AND claimed_until > ?",
            vec![time(claimed_until), SqlValue::text(holder), time(now)],
        );
        execute(&self.pool, &mut builder).await
    }

    async fn complete_provisioning_operation(
        &self,
        operation: &ProvisioningOperation,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let mut builder =
            statement::<D>("DELETE FROM provisioning_outbox WHERE id = ?", vec![SqlValue::Integer(operation.id)]);
        execute(&mut *transaction, &mut builder).await?;
        let mut builder = statement::<D>(
            "INSERT INTO provisioning_progress (connection_id, applied, last_applied_at) \
             SELECT id, 1, ? FROM scim_connection WHERE id = ? \
             ON CONFLICT (connection_id) DO UPDATE SET applied = provisioning_progress.applied + 1, \
             last_applied_at = excluded.last_applied_at",
            vec![time(now), SqlValue::text(operation.connection_id.as_str())],
        );
        execute(&mut *transaction, &mut builder).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn fail_provisioning_operation(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let mut builder = statement::<D>(
            "UPDATE provisioning_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, \
             parked_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
            vec![
                SqlValue::text(error),
                time(retry_at.unwrap_or(now)),
                SqlValue::Time(if retry_at.is_none() { Some(now) } else { None }),
                SqlValue::Integer(id),
            ],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn list_provisioning_operations(
        &self,
        connection: Option<&ScimConnectionId>,
        parked_only: bool,
        limit: u32,
    ) -> Result<Vec<ProvisioningOperation>, Error> {
        let mut sql = format!("SELECT {OUTBOX_COLUMNS} FROM provisioning_outbox WHERE 1 = 1");
        let mut values = Vec::new();
        if let Some(connection) = connection {
            sql.push_str(" AND connection_id = ?");
            values.push(SqlValue::text(connection.as_str()));
        }
        if parked_only {
            sql.push_str(" AND parked_at IS NOT NULL");
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        values.push(SqlValue::Integer(i64::from(limit)));
        let mut builder = statement::<D>(&sql, values);
        fetch_all(&self.pool, &mut builder, "provisioning_outbox", decode_operation).await
    }

    async fn scim_users_in_outbox(&self, tenant: &ScimTenant) -> Result<Vec<String>, Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            "SELECT DISTINCT scim_user_id FROM provisioning_outbox WHERE environment = ? AND org_id = ?",
            vec![environment, org_id],
        );
        fetch_all(&self.pool, &mut builder, "provisioning_outbox", |row| row.text("scim_user_id")).await
    }

    async fn provisioning_backlogs(&self) -> Result<Vec<ConnectionBacklog>, Error> {
        let mut builder = statement::<D>(
            "SELECT c.id AS connection_id, \
             (SELECT COUNT(*) FROM provisioning_outbox o WHERE o.connection_id = c.id AND o.parked_at IS NULL) \
                 AS pending, \
             (SELECT COUNT(*) FROM provisioning_outbox o WHERE o.connection_id = c.id AND o.parked_at IS NOT NULL) \
                 AS parked, \
             (SELECT MIN(o.enqueued_at) FROM provisioning_outbox o WHERE o.connection_id = c.id \
                 AND o.parked_at IS NULL) AS oldest, \
             COALESCE(p.applied, 0) AS applied, p.last_applied_at \
             FROM scim_connection c LEFT JOIN provisioning_progress p ON p.connection_id = c.id \
             ORDER BY c.created_at, c.id",
            Vec::new(),
        );
        fetch_all(&self.pool, &mut builder, "provisioning_outbox", |row| {
            Ok(ConnectionBacklog {
                connection_id: ScimConnectionId::new(row.text("connection_id")?),
                pending: row.unsigned("pending")?,
                parked: row.unsigned("parked")?,
                oldest_enqueued_at: row.time("oldest")?,
                applied: row.unsigned("applied")?,
                last_applied_at: row.time("last_applied_at")?,
            })
        })
        .await
    }

    async fn enqueue_repair(
        &self,
        tenant: &ScimTenant,
        plan: &RepairPlan<'_>,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<u64, Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let [environment, org_id] = tenant_values(tenant);
        let of_user = "environment = ? AND org_id = ? AND zitadel_user_id IN (SELECT zitadel_user_id \
                       FROM provisioned_user WHERE environment = ? AND org_id = ? AND scim_user_id = ?)";
        let user_values = |scim_user_id: &str| {
            vec![environment.clone(), org_id.clone(), environment.clone(), org_id.clone(), SqlValue::text(scim_user_id)]
        };
        for scim_user_id in plan.forget {
            let mut grants =
                statement::<D>(&format!("DELETE FROM provisioned_grant WHERE {of_user}"), user_values(scim_user_id));
            execute(&mut *transaction, &mut grants).await?;
            let mut link = statement::<D>(
                "DELETE FROM provisioned_user WHERE environment = ? AND org_id = ? AND scim_user_id = ?",
                vec![environment.clone(), org_id.clone(), SqlValue::text(scim_user_id)],
            );
            execute(&mut *transaction, &mut link).await?;
        }
        for scim_user_id in plan.resend {
            let mut grants = statement::<D>(
                &format!("UPDATE provisioned_grant SET role_keys = ? WHERE {of_user}"),
                [vec![SqlValue::Json(serde_json::json!([]))], user_values(scim_user_id)].concat(),
            );
            execute(&mut *transaction, &mut grants).await?;
            let mut link = statement::<D>(
                "UPDATE provisioned_user SET applied = ? WHERE environment = ? AND org_id = ? AND scim_user_id = ?",
                vec![
                    SqlValue::Json(serde_json::Value::Null),
                    environment.clone(),
                    org_id.clone(),
                    SqlValue::text(scim_user_id),
                ],
            );
            execute(&mut *transaction, &mut link).await?;
        }
        let mut enqueued = 0;
        for chunk in plan.operations.chunks(500) {
            let mut builder = sqlx::QueryBuilder::<D>::new(format!(
                "INSERT INTO provisioning_outbox ({OUTBOX_INSERT_COLUMNS}) VALUES "
            ));
            push_outbox_rows(&mut builder, tenant, chunk);
            enqueued += execute(&mut *transaction, &mut builder).await?;
        }
        let details = serde_json::json!({
            "org_id": tenant.org_id.as_str(),
            "recreated": plan.forget,
            "resent": plan.resend,
            "operations": enqueued,
        });
        let target = format!("scim_tenant/{}/{}", tenant.environment, tenant.org_id);
        audit::record::<D>(&mut transaction, operator, "provisioning.repair", &target, details, now).await?;
        transaction.commit().await?;
        Ok(enqueued)
    }

    async fn retry_parked_operations(
        &self,
        id: Option<i64>,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<u64, Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let mut sql = "UPDATE provisioning_outbox SET parked_at = NULL, attempts = 0, next_attempt_at = ? \
                       WHERE parked_at IS NOT NULL"
            .to_owned();
        let mut values = vec![time(now)];
        if let Some(id) = id {
            sql.push_str(" AND id = ?");
            values.push(SqlValue::Integer(id));
        }
        let retried = execute(&mut *transaction, &mut statement::<D>(&sql, values)).await?;
        if retried > 0 {
            let target = id.map_or_else(|| "provisioning/parked".to_owned(), |id| format!("provisioning/{id}"));
            let details = serde_json::json!({"retried": retried});
            audit::record::<D>(&mut transaction, operator, "provisioning.retry", &target, details, now).await?;
        }
        transaction.commit().await?;
        Ok(retried)
    }

    async fn discard_provisioning_operation(
        &self,
        id: i64,
        reason: &str,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ProvisioningOperation>, Error> {
        let mut transaction = begin_write(&self.pool).await?;
        let mut builder = statement::<D>(
            &format!("DELETE FROM provisioning_outbox WHERE id = ? RETURNING {OUTBOX_COLUMNS}"),
            vec![SqlValue::Integer(id)],
        );
        let Some(operation) =
            fetch_optional(&mut *transaction, &mut builder, "provisioning_outbox", decode_operation).await?
        else {
            return Ok(None);
        };
        let details = serde_json::json!({
            "reason": reason,
            "connection": operation.connection_id.as_str(),
            "scim_user": operation.scim_user_id,
            "operation": operation.kind.as_str(),
            "attempts": operation.attempts,
            "last_error": operation.last_error,
        });
        audit::record::<D>(
            &mut transaction,
            operator,
            "provisioning.discard",
            &format!("provisioning/{id}"),
            details,
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(Some(operation))
    }

    async fn provisioned_user(
        &self,
        tenant: &ScimTenant,
        scim_user_id: &str,
    ) -> Result<Option<ProvisionedUser>, Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {PROVISIONED_USER_COLUMNS} FROM provisioned_user \
                 WHERE environment = ? AND org_id = ? AND scim_user_id = ?"
            ),
            vec![environment, org_id, SqlValue::text(scim_user_id)],
        );
        fetch_optional(&self.pool, &mut builder, "provisioned_user", decode_provisioned_user).await
    }

    async fn save_provisioned_user(&self, user: &ProvisionedUser) -> Result<(), Error> {
        let [environment, org_id] = tenant_values(&user.tenant);
        let mut builder = statement::<D>(
            &format!(
                "INSERT INTO provisioned_user ({PROVISIONED_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (environment, org_id, scim_user_id) DO UPDATE SET \
                 zitadel_user_id = excluded.zitadel_user_id, linked = excluded.linked, applied = excluded.applied"
            ),
            vec![
                environment,
                org_id,
                SqlValue::text(&user.scim_user_id),
                SqlValue::text(user.zitadel_user_id.as_str()),
                SqlValue::Boolean(user.linked),
                SqlValue::Json(user.applied.clone()),
                time(user.provisioned_at),
            ],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn delete_provisioned_user(&self, tenant: &ScimTenant, scim_user_id: &str) -> Result<(), Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            "DELETE FROM provisioned_user WHERE environment = ? AND org_id = ? AND scim_user_id = ?",
            vec![environment, org_id, SqlValue::text(scim_user_id)],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn provisioned_users(&self, tenant: &ScimTenant) -> Result<Vec<ProvisionedUser>, Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {PROVISIONED_USER_COLUMNS} FROM provisioned_user WHERE environment = ? AND org_id = ? \
                 ORDER BY scim_user_id"
            ),
            vec![environment, org_id],
        );
        fetch_all(&self.pool, &mut builder, "provisioned_user", decode_provisioned_user).await
    }

    async fn managed_grants(&self, tenant: &ScimTenant, user: &UserId) -> Result<Vec<ManagedGrant>, Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {MANAGED_GRANT_COLUMNS} FROM provisioned_grant \
                 WHERE environment = ? AND org_id = ? AND zitadel_user_id = ? ORDER BY project_id"
            ),
            vec![environment, org_id, SqlValue::text(user.as_str())],
        );
        fetch_all(&self.pool, &mut builder, "provisioned_grant", decode_managed_grant).await
    }

    async fn managed_grants_of_tenant(&self, tenant: &ScimTenant) -> Result<Vec<ManagedGrant>, Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            &format!(
                "SELECT {MANAGED_GRANT_COLUMNS} FROM provisioned_grant WHERE environment = ? AND org_id = ? \
                 ORDER BY zitadel_user_id, project_id"
            ),
            vec![environment, org_id],
        );
        fetch_all(&self.pool, &mut builder, "provisioned_grant", decode_managed_grant).await
    }

    async fn save_managed_grant(&self, grant: &ManagedGrant) -> Result<(), Error> {
        let [environment, org_id] = tenant_values(&grant.tenant);
        let mut builder = statement::<D>(
            &format!(
                "INSERT INTO provisioned_grant ({MANAGED_GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (environment, org_id, zitadel_user_id, project_id) DO UPDATE SET \
                 grant_id = excluded.grant_id, role_keys = excluded.role_keys, updated_at = excluded.updated_at"
            ),
            vec![
                environment,
                org_id,
                SqlValue::text(grant.zitadel_user_id.as_str()),
                SqlValue::text(grant.project_id.as_str()),
                SqlValue::NullableText(grant.grant_id.as_ref().map(ToString::to_string)),
                SqlValue::json_strings(grant.role_keys.iter().map(|key| key.as_str())),
                time(grant.updated_at),
            ],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }

    async fn delete_managed_grant(&self, tenant: &ScimTenant, user: &UserId, project: &ProjectId) -> Result<(), Error> {
        let [environment, org_id] = tenant_values(tenant);
        let mut builder = statement::<D>(
            "DELETE FROM provisioned_grant WHERE environment = ? AND org_id = ? AND zitadel_user_id = ? \
             AND project_id = ?",
            vec![environment, org_id, SqlValue::text(user.as_str()), SqlValue::text(project.as_str())],
        );
        execute(&self.pool, &mut builder).await?;
        Ok(())
    }
}
