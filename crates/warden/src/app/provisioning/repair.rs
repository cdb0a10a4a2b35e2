//! `warden provisioning repair`: reconciles a connection's tenant with the last sync (the same judgement as the
//! `provisioned-user-missing` and `provisioning-state-mismatch` findings) and queues what fixes each difference,
//! through the outbox like every other write: a user whose ZITADEL user is gone is provisioned again (linked by
//! userName, else created); a user whose state or mapped grants differ has everything sent again. Mapping problems
//! (`mapping-gap`, `unmapped-group`, `ungoverned-grant`) are decisions for people: they are listed, not changed.

use warden_core::operator::Operator;
use warden_core::posture::{self, Finding, Repair};

use crate::app::provisioning::plan::{DesiredUser, ProvisioningTarget};
use crate::app::scim_admin::find_connection;
use crate::app::{App, Error};
use crate::govern::reconcile::{provisioned_tenants, synced_at};
use crate::store::{NewProvisioningOperation, ProvisioningOperationKind, RepairPlan, ScimKind};

/// What a repair found and did.
#[derive(Debug, Clone)]
pub struct RepairOutcome {
    /// Every difference found, the mapping findings included.
    pub findings: Vec<Finding>,
    /// What was queued (or, with `dry_run`, would be).
    pub repairs: Vec<Repair>,
    /// Operations enqueued (0 on a dry run).
    pub enqueued: u64,
}

pub async fn repair(app: &App, operator: &Operator, connection: &str, dry_run: bool) -> Result<RepairOutcome, Error> {
    let connection = find_connection(app, connection).await?;
    if !connection.settings.provisioning {
        return Err(Error::Invalid(format!(
            "SCIM connection {} does not provision into ZITADEL: nothing to repair",
            connection.name
        )));
    }
    let store = app.store();
    let environment = &connection.tenant.environment;
    let Some(synced_at) = synced_at(environment, &**store).await? else {
        return Err(Error::Invalid(format!(
            "environment {environment} has not been synced: repair compares with the last sync (warden sync --env \
             {environment})"
        )));
    };
    let snapshot = store.load_kinds(environment, &posture::KINDS_READ).await?;
    let tenants: Vec<_> = provisioned_tenants(environment, &**store, Some(&connection))
        .await?
        .into_iter()
        .map(|(_, tenant)| tenant)
        .collect();
    let reconciliation = posture::reconcile(environment, &snapshot, synced_at, &tenants);
    drop(snapshot);
    let mut outcome = RepairOutcome { findings: reconciliation.findings, repairs: reconciliation.repairs, enqueued: 0 };
    if dry_run || outcome.repairs.is_empty() {
        return Ok(outcome);
    }
    let target =
        ProvisioningTarget { connection: connection.id.clone(), delete_policy: connection.settings.delete_policy };
    let now = app.now();
    let (mut forget, mut resend, mut operations) = (Vec::new(), Vec::new(), Vec::new());
    for repair in &outcome.repairs {
        let scim_user_id = match repair {
            Repair::Recreate { scim_user_id, .. } => {
                forget.push(scim_user_id.clone());
                scim_user_id
            }
            Repair::Resend { scim_user_id, .. } => {
                resend.push(scim_user_id.clone());
                scim_user_id
            }
        };
        // The user as SCIM holds it now (a user deleted meanwhile needs nothing).
        let Some(record) = store.scim_record(ScimKind::User, &connection.tenant, scim_user_id).await? else {
            continue;
        };
        operations.push(NewProvisioningOperation {
            connection_id: target.connection.clone(),
            scim_user_id: scim_user_id.clone(),
            kind: ProvisioningOperationKind::UpsertUser,
            payload: DesiredUser::from_resource(&record.resource).to_payload(),
            enqueued_at: now,
        });
    }
    let plan = RepairPlan { forget: &forget, resend: &resend, operations: &operations };
    outcome.enqueued = store.enqueue_repair(&connection.tenant, &plan, operator.recorded_name(), now).await?;
    tracing::info!(
        connection = %connection.id, recreated = forget.len(), resent = resend.len(), enqueued = outcome.enqueued,
        "provisioning repair queued"
    );
    Ok(outcome)
}
