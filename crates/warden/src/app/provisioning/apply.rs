//! Applying one outbox operation to ZITADEL. Every operation converges: it compares what it wants with what warden
//! last wrote (or, where that is unknown, with what ZITADEL holds) and sends only the difference, so that applying
//! an operation twice (a retry after a lost answer, a replay after a crash) changes nothing the second time.
//!
//! - A user is looked up by userName before it is created: a create whose answer was lost, or a user who existed
//!   before provisioning began, is linked, never duplicated.
//! - Grants: only grants warden created are changed or removed. A grant is recorded as being added before it is
//!   sent, so a retry after a lost answer adopts the grant it finds instead of taking it for someone else's.

use std::collections::{BTreeMap, BTreeSet};

use warden_core::id::{MetadataKey, ProjectId, RoleKey, UserId};
use warden_zitadel::{NewHumanUser, ProfileUpdate, ZitadelClient};

use crate::app::App;
use crate::app::provisioning::plan::DesiredUser;
use crate::store::{DeletePolicy, ManagedGrant, ProvisionedUser, ProvisioningOperation, ProvisioningOperationKind};

/// The metadata key that keeps a provisioned user's externalId, as ZITADEL's own SCIM server names it.
pub const EXTERNAL_ID_METADATA_KEY: &str = "urn:zitadel:scim:externalId";

fn external_id_key() -> Result<MetadataKey, Failure> {
    MetadataKey::parse(EXTERNAL_ID_METADATA_KEY).map_err(|error| Failure::Refused(format!("metadata key: {error}")))
}

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug)]
pub(super) enum Failure {
    /// ZITADEL was away, slow or overloaded, or warden's store was: tried again later.
    Transient(String),
    /// ZITADEL refused the operation for a reason a retry does not change (a missing permission, an invalid value):
    /// parked with the reason.
    Refused(String),
}

impl From<warden_zitadel::Error> for Failure {
    fn from(error: warden_zitadel::Error) -> Failure {
        use warden_zitadel::Error;
        let message = error.to_string();
        match &error {
            Error::PermissionDenied { .. } => Failure::Refused(message),
            Error::Api { status, .. } if *status == 429 || *status >= 500 => Failure::Transient(message),
            Error::Api { .. } | Error::NotFound { .. } | Error::InvalidBaseUrl(_) | Error::V2Unavailable { .. } => {
                Failure::Refused(message)
            }
            _ => Failure::Transient(message),
        }
    }
}

impl From<crate::store::Error> for Failure {
    fn from(error: crate::store::Error) -> Failure {
        Failure::Transient(format!("warden's store: {error}"))
    }
}

/// A change ZITADEL refuses because it is already so counts as made.
fn already_so(result: Result<(), warden_zitadel::Error>) -> Result<(), Failure> {
    match result {
        Err(error) if error.is_failed_precondition() => Ok(()),
        other => Ok(other?),
    }
}

/// A removal or deactivation of what is gone (or already so) counts as made.
fn gone_is_fine(result: Result<(), warden_zitadel::Error>) -> Result<(), Failure> {
    match result {
        Err(error) if error.is_not_found() || error.is_failed_precondition() => Ok(()),
        other => Ok(other?),
    }
}

pub(super) async fn apply(app: &App, client: &ZitadelClient, operation: &ProvisioningOperation) -> Result<(), Failure> {
    match operation.kind {
        ProvisioningOperationKind::UpsertUser => {
            let desired = DesiredUser::from_payload(&operation.payload)
                .ok_or_else(|| Failure::Refused("the operation's payload is not a user".to_owned()))?;
            let user = upsert_user(app, client, operation, &desired).await?;
            converge_grants(app, client, operation, &user).await
        }
        ProvisioningOperationKind::DeleteUser => {
            let policy = operation
                .payload
                .get("delete_policy")
                .and_then(|policy| policy.as_str())
                .and_then(DeletePolicy::parse)
                .unwrap_or_default();
            delete_user(app, client, operation, policy).await
        }
        ProvisioningOperationKind::SyncGrants => {
            let store = app.store();
            match store.provisioned_user(&operation.tenant, &operation.scim_user_id).await? {
                // Not provisioned (yet): its upsert converges its grants once the user exists.
                None => Ok(()),
                Some(user) => converge_grants(app, client, operation, &user.zitadel_user_id).await,
            }
        }
    }
}

async fn upsert_user(
    app: &App,
    client: &ZitadelClient,
    operation: &ProvisioningOperation,
    desired: &DesiredUser,
) -> Result<UserId, Failure> {
    let store = app.store();
    let org = &operation.tenant.org_id;
    let link = store.provisioned_user(&operation.tenant, &operation.scim_user_id).await?;
    let (user, applied, linked) = match link {
        Some(link) => (link.zitadel_user_id, DesiredUser::from_payload(&link.applied), link.linked),
        None => match client.find_user_by_user_name(org, &desired.user_name).await? {
            Some(found) => (found.id, None, true),
            None => {
                if desired.email.is_empty() {
                    return Err(Failure::Refused(format!(
                        "ZITADEL needs an email address for user {:?}, and the SCIM user has none",
                        desired.user_name
                    )));
                }
                let new = NewHumanUser {
                    username: desired.user_name.clone(),
                    given_name: desired.given_name.clone(),
                    family_name: desired.family_name.clone(),
                    display_name: desired.display_name.clone(),
                    preferred_language: desired.preferred_language.clone(),
                    email: desired.email.clone(),
                    email_verified: true,
                    phone: desired.phone.clone(),
                };
                let metadata = match &desired.external_id {
                    Some(external_id) => vec![(external_id_key()?, external_id.as_bytes().to_vec())],
                    None => Vec::new(),
                };
                match client.add_human_user(org, &new, &metadata).await {
                    Ok(id) => {
                        let created = DesiredUser { active: true, ..desired.clone() };
                        (id, Some(created), false)
                    }
                    // Created by an attempt whose answer was lost (or by someone else just now): link it.
                    Err(error) if error.is_already_exists() => {
                        match client.find_user_by_user_name(org, &desired.user_name).await? {
                            Some(found) => (found.id, None, true),
                            None => return Err(error.into()),
                        }
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        },
    };
    // The link is kept before anything else is sent: a crash from here on finds the user again.
    let mut record = ProvisionedUser {
        tenant: operation.tenant.clone(),
        scim_user_id: operation.scim_user_id.clone(),
        zitadel_user_id: user.clone(),
        linked,
        applied: applied.as_ref().map_or(serde_json::Value::Null, DesiredUser::to_payload),
        provisioned_at: app.now(),
    };
    store.save_provisioned_user(&record).await?;

    let differs =
        |field: fn(&DesiredUser) -> &str| applied.as_ref().is_none_or(|applied| field(applied) != field(desired));
    let profile_fields: [fn(&DesiredUser) -> &str; 4] =
        [|user| &user.given_name, |user| &user.family_name, |user| &user.display_name, |user| &user.preferred_language];
    if profile_fields.into_iter().any(differs) {
        let profile = ProfileUpdate {
            given_name: desired.given_name.clone(),
            family_name: desired.family_name.clone(),
            nick_name: String::new(),
            display_name: desired.display_name.clone(),
            preferred_language: desired.preferred_language.clone(),
        };
        already_so(client.update_human_profile(org, &user, &profile).await)?;
    }
    if differs(|user| &user.email) && !desired.email.is_empty() {
        already_so(client.update_email(org, &user, &desired.email, true).await)?;
    }
    if applied.as_ref().is_none_or(|applied| applied.active != desired.active) {
        let result = if desired.active {
            client.reactivate_user(org, &user).await
        } else {
            client.deactivate_user(org, &user).await
        };
        already_so(result)?;
    }
    if let Some(external_id) = &desired.external_id
        && applied.as_ref().is_none_or(|applied| applied.external_id.as_ref() != Some(external_id))
    {
        client.set_user_metadata(org, &user, &external_id_key()?, external_id.as_bytes()).await?;
    }
    record.applied = desired.to_payload();
    store.save_provisioned_user(&record).await?;
    Ok(user)
}

async fn delete_user(
    app: &App,
    client: &ZitadelClient,
    operation: &ProvisioningOperation,
    policy: DeletePolicy,
) -> Result<(), Failure> {
    let store = app.store();
    let tenant = &operation.tenant;
    let Some(link) = store.provisioned_user(tenant, &operation.scim_user_id).await? else { return Ok(()) };
    let user = &link.zitadel_user_id;
    match policy {
        DeletePolicy::Deactivate => gone_is_fine(client.deactivate_user(&tenant.org_id, user).await)?,
        DeletePolicy::Remove => {
            gone_is_fine(client.remove_user(&tenant.org_id, user).await)?;
            // ZITADEL removed the user's grants with it.
            for grant in store.managed_grants(tenant, user).await? {
                store.delete_managed_grant(tenant, user, &grant.project_id).await?;
            }
        }
    }
    store.delete_provisioned_user(tenant, &operation.scim_user_id).await?;
    Ok(())
}

/// Makes the user's warden-managed grants the union of the mappings of its groups, as they are now.
async fn converge_grants(
    app: &App,
    client: &ZitadelClient,
    operation: &ProvisioningOperation,
    user: &UserId,
) -> Result<(), Failure> {
    let store = app.store();
    let tenant = &operation.tenant;
    let org = &tenant.org_id;
    let mut desired: BTreeMap<ProjectId, BTreeSet<RoleKey>> = BTreeMap::new();
    for mapping in store.mappings_of_scim_user(tenant, &operation.scim_user_id).await? {
        desired.entry(mapping.project_id).or_default().extend(mapping.role_keys);
    }
    let managed: BTreeMap<ProjectId, ManagedGrant> =
        store.managed_grants(tenant, user).await?.into_iter().map(|grant| (grant.project_id.clone(), grant)).collect();
    if desired.is_empty() && managed.is_empty() {
        return Ok(());
    }
    let projects: BTreeSet<&ProjectId> = desired.keys().chain(managed.keys()).collect();
    for project in projects {
        let roles: Option<Vec<RoleKey>> = desired.get(project).map(|roles| roles.iter().cloned().collect());
        let current = managed.get(project);
        // A grant whose add was sent but not answered: find what ZITADEL made of it.
        let grant_id = match current {
            Some(ManagedGrant { grant_id: Some(id), .. }) => Some(id.clone()),
            Some(ManagedGrant { grant_id: None, .. }) => client
                .list_user_grants_of_user(org, user)
                .await?
                .into_iter()
                .find(|grant| grant.project_id == *project && grant.project_grant_id.is_none())
                .map(|grant| grant.id),
            None => None,
        };
        let record = ManagedGrant {
            tenant: tenant.clone(),
            zitadel_user_id: user.clone(),
            project_id: project.clone(),
            grant_id: grant_id.clone(),
            role_keys: roles.clone().unwrap_or_default(),
            updated_at: app.now(),
        };
        match (roles, grant_id) {
            (None, Some(grant)) => {
                gone_is_fine(client.remove_user_grant(org, user, &grant).await)?;
                store.delete_managed_grant(tenant, user, project).await?;
            }
            (None, None) => store.delete_managed_grant(tenant, user, project).await?,
            (Some(roles), Some(grant)) => {
                let unchanged = current.is_some_and(|current| current.grant_id.is_some() && current.role_keys == roles);
                if unchanged {
                    continue;
                }
                match client.update_user_grant(org, user, &grant, &roles).await {
                    // Removed outside warden: added again.
                    Err(error) if error.is_not_found() => add_grant(app, client, operation, record).await?,
                    result => {
                        already_so(result)?;
                        store.save_managed_grant(&record).await?;
                    }
                }
            }
            (Some(_), None) => add_grant(app, client, operation, record).await?,
        }
    }
    Ok(())
}

/// Adds the grant `record` describes and records it as managed. It is recorded as being added (no grant id) before
/// it is sent, so that a retry after a lost answer adopts what ZITADEL made of it. When the user already holds a
/// grant on the project that warden did not create, that grant is left alone (logged: reconciliation reports it)
/// and nothing is recorded.
async fn add_grant(
    app: &App,
    client: &ZitadelClient,
    operation: &ProvisioningOperation,
    mut record: ManagedGrant,
) -> Result<(), Failure> {
    let store = app.store();
    let (tenant, user, project) = (&record.tenant, &record.zitadel_user_id, &record.project_id);
    record.grant_id = None;
    store.save_managed_grant(&record).await?;
    match client.add_user_grant(&tenant.org_id, user, project, None, &record.role_keys).await {
        Ok(id) => {
            record.grant_id = Some(id);
            store.save_managed_grant(&record).await?;
        }
        Err(error) if error.is_already_exists() => {
            tracing::warn!(
                user = %user, project = %project, connection = %operation.connection_id,
                "the user already holds a grant on the project that warden did not create; leaving it alone"
            );
            store.delete_managed_grant(tenant, user, project).await?;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(())
}
