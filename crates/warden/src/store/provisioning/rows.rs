//! How the provisioning tables map onto the aggregate's types: column lists, bound values, decoding.

use warden_core::id::{EnvironmentName, OrgId};

use crate::store::Error;
use crate::store::provisioning::{
    GroupRoleMapping, GroupSelector, ManagedGrant, ProvisionedUser, ProvisioningOperation,
};
use crate::store::scim::{ProvisioningOperationKind, ScimConnectionId, ScimTenant};
use crate::store::sql::{RowView, SqlValue};

pub(super) const OUTBOX_COLUMNS: &str = "id, connection_id, environment, org_id, scim_user_id, operation, payload, \
     enqueued_at, attempts, next_attempt_at, last_error, parked_at";
pub(super) const MAPPING_COLUMNS: &str = "id, connection_id, environment, org_id, group_display_name, \
     group_name_lower, group_external_id, project_id, role_keys, created_by, created_at";
pub(super) const PROVISIONED_USER_COLUMNS: &str =
    "environment, org_id, scim_user_id, zitadel_user_id, linked, applied, provisioned_at";
pub(super) const MANAGED_GRANT_COLUMNS: &str =
    "environment, org_id, zitadel_user_id, project_id, grant_id, role_keys, updated_at";

pub(super) fn tenant_values(tenant: &ScimTenant) -> [SqlValue; 2] {
    [SqlValue::text(tenant.environment.as_str()), SqlValue::text(tenant.org_id.as_str())]
}

fn decode_tenant(row: &RowView<'_>) -> Result<ScimTenant, Error> {
    let environment = row.text("environment")?;
    let org_id = row.text("org_id")?;
    Ok(ScimTenant {
        environment: EnvironmentName::parse(environment).map_err(|error| row.corrupt("environment", &error))?,
        org_id: OrgId::parse(org_id).map_err(|error| row.corrupt("org_id", &error))?,
    })
}

pub(super) fn decode_operation(row: &RowView<'_>) -> Result<ProvisioningOperation, Error> {
    let kind = row.text("operation")?;
    Ok(ProvisioningOperation {
        id: row.integer("id")?,
        connection_id: ScimConnectionId::new(row.text("connection_id")?),
        tenant: decode_tenant(row)?,
        scim_user_id: row.text("scim_user_id")?,
        kind: ProvisioningOperationKind::parse(&kind).ok_or_else(|| row.corrupt("operation", &kind))?,
        payload: row.json("payload")?,
        enqueued_at: row.required_time("enqueued_at")?,
        attempts: u32::try_from(row.unsigned("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.required_time("next_attempt_at")?,
        last_error: row.optional_text("last_error")?,
        parked_at: row.time("parked_at")?,
    })
}

pub(super) fn mapping_values(mapping: &GroupRoleMapping) -> Vec<SqlValue> {
    let (display_name, external_id) = match &mapping.group {
        GroupSelector::DisplayName(name) => (Some(name.clone()), None),
        GroupSelector::ExternalId(id) => (None, Some(id.clone())),
    };
    vec![
        SqlValue::text(&mapping.id),
        SqlValue::text(mapping.connection_id.as_str()),
        SqlValue::text(mapping.tenant.environment.as_str()),
        SqlValue::text(mapping.tenant.org_id.as_str()),
        SqlValue::NullableText(display_name.clone()),
        SqlValue::NullableText(display_name.map(|name| name.to_lowercase())),
        SqlValue::NullableText(external_id),
        SqlValue::text(mapping.project_id.as_str()),
        SqlValue::json_strings(mapping.role_keys.iter().map(|key| key.as_str())),
        SqlValue::text(&mapping.created_by),
        SqlValue::Time(Some(mapping.created_at)),
    ]
}

pub(super) fn decode_mapping(row: &RowView<'_>) -> Result<GroupRoleMapping, Error> {
    let group = match (row.optional_text("group_display_name")?, row.optional_text("group_external_id")?) {
        (Some(name), _) => GroupSelector::DisplayName(name),
        (None, Some(id)) => GroupSelector::ExternalId(id),
        (None, None) => return Err(row.corrupt("group_display_name", &"neither a displayName nor an externalId")),
    };
    Ok(GroupRoleMapping {
        id: row.text("id")?,
        connection_id: ScimConnectionId::new(row.text("connection_id")?),
        tenant: decode_tenant(row)?,
        group,
        project_id: row.id("project_id")?,
        role_keys: row.ids("role_keys")?,
        created_by: row.text("created_by")?,
        created_at: row.required_time("created_at")?,
    })
}

pub(super) fn decode_provisioned_user(row: &RowView<'_>) -> Result<ProvisionedUser, Error> {
    Ok(ProvisionedUser {
        tenant: decode_tenant(row)?,
        scim_user_id: row.text("scim_user_id")?,
        zitadel_user_id: row.id("zitadel_user_id")?,
        linked: row.boolean("linked")?,
        applied: row.json("applied")?,
        provisioned_at: row.required_time("provisioned_at")?,
    })
}

pub(super) fn decode_managed_grant(row: &RowView<'_>) -> Result<ManagedGrant, Error> {
    Ok(ManagedGrant {
        tenant: decode_tenant(row)?,
        zitadel_user_id: row.id("zitadel_user_id")?,
        project_id: row.id("project_id")?,
        grant_id: row.optional_id("grant_id")?,
        role_keys: row.ids("role_keys")?,
        updated_at: row.required_time("updated_at")?,
    })
}
