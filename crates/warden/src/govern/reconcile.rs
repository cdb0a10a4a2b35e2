//! What reconciliation needs from the store: each provisioning tenant (its SCIM users with their links to ZITADEL
//! users and whether an operation of theirs is in the outbox, its groups, its mappings) and when the snapshot it is
//! judged against was synced. `warden_core::posture::reconcile` does the judging.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;
use warden_core::id::{EnvironmentName, GroupRoleMappingId, ScimGroupId};
use warden_core::model::SyncStatus;
use warden_core::posture::{MappingGroup, ProvisionedTenant, TenantGroup, TenantMapping, TenantUser};

use crate::store::{self, GroupSelector, ScimConnection, ScimKind, ScimQuery, ScimTenant, Store};

/// When the sync whose state the store holds began: the latest run that finished and stored something.
pub async fn synced_at(
    environment: &EnvironmentName,
    store: &dyn Store,
) -> Result<Option<OffsetDateTime>, store::Error> {
    let runs = store.list_sync_runs(environment, 20).await?;
    Ok(runs
        .iter()
        .filter(|run| run.finished_at.is_some() && matches!(run.status, SyncStatus::Ok | SyncStatus::Partial))
        .map(|run| run.started_at)
        .max())
}

/// Every tenant of `environment` that a connection provisions into ZITADEL (one per org, however many connections
/// reach it), with the connections that reach it; only `only`'s tenant when given.
pub async fn provisioned_tenants(
    environment: &EnvironmentName,
    store: &dyn Store,
    only: Option<&ScimConnection>,
) -> Result<Vec<(Vec<ScimConnection>, ProvisionedTenant)>, store::Error> {
    let mut by_tenant: BTreeMap<(String, String), (ScimTenant, Vec<ScimConnection>)> = BTreeMap::new();
    for connection in store.list_scim_connections().await? {
        let wanted = only.is_none_or(|only| only.tenant == connection.tenant);
        if connection.tenant.environment != *environment || !connection.settings.provisioning || !wanted {
            continue;
        }
        let key = (connection.tenant.environment.to_string(), connection.tenant.org_id.to_string());
        by_tenant.entry(key).or_insert_with(|| (connection.tenant.clone(), Vec::new())).1.push(connection);
    }
    let mut tenants = Vec::new();
    for (tenant, connections) in by_tenant.into_values() {
        let loaded = load_tenant(store, &tenant, &connections).await?;
        tenants.push((connections, loaded));
    }
    Ok(tenants)
}

async fn load_tenant(
    store: &dyn Store,
    tenant: &ScimTenant,
    connections: &[ScimConnection],
) -> Result<ProvisionedTenant, store::Error> {
    let all = ScimQuery::default();
    let links: BTreeMap<String, _> =
        store.provisioned_users(tenant).await?.into_iter().map(|link| (link.scim_user_id.clone(), link)).collect();
    let in_outbox: BTreeSet<String> = store.scim_users_in_outbox(tenant).await?.into_iter().collect();
    let mut mappings = Vec::new();
    for connection in connections {
        for mapping in store.list_group_role_mappings(Some(&connection.id)).await? {
            let Ok(id) = GroupRoleMappingId::parse(mapping.id.clone()) else { continue };
            mappings.push(TenantMapping {
                id,
                group: match mapping.group {
                    GroupSelector::DisplayName(name) => MappingGroup::DisplayName(name),
                    GroupSelector::ExternalId(id) => MappingGroup::ExternalId(id),
                },
                project_id: mapping.project_id,
                role_keys: mapping.role_keys,
            });
        }
    }
    let users = store
        .list_scim_records(ScimKind::User, tenant, &all)
        .await?
        .records
        .into_iter()
        .map(|record| {
            let link = links.get(&record.id);
            TenantUser {
                user_name: record
                    .resource
                    .get("userName")
                    .and_then(|name| name.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                active: record.resource.get("active").and_then(serde_json::Value::as_bool).unwrap_or(true),
                zitadel_user_id: link.map(|link| link.zitadel_user_id.clone()),
                since: link.map_or(record.created, |link| link.provisioned_at.max(record.created)),
                in_outbox: in_outbox.contains(&record.id),
                scim_user_id: record.id,
            }
        })
        .collect();
    let groups = store
        .list_scim_records(ScimKind::Group, tenant, &all)
        .await?
        .records
        .into_iter()
        .filter_map(|record| {
            Some(TenantGroup {
                id: ScimGroupId::parse(record.id.clone()).ok()?,
                display_name: record
                    .resource
                    .get("displayName")
                    .and_then(|name| name.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                external_id: record.resource.get("externalId").and_then(|id| id.as_str()).map(str::to_owned),
                members: record.members.into_iter().map(|member| member.value).collect(),
            })
        })
        .collect();
    Ok(ProvisionedTenant {
        connection_id: connections.first().map(|connection| connection.id.to_string()).unwrap_or_default(),
        org_id: tenant.org_id.clone(),
        users,
        groups,
        mappings,
    })
}
