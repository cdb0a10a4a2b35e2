//! After a sync: the environment's findings evaluated on what the store now holds, their lifecycle and a trend
//! point recorded, its alerts opened and resolved, their notifications queued. One testable step, like
//! `sync_once`; `notify::deliver_due` sends what is queued.

pub mod connections;
pub mod notify;
pub mod reconcile;

use std::collections::BTreeSet;

use time::{Duration, OffsetDateTime};
use warden_core::governance::{Alert, plan_alerts};
use warden_core::health::{HealthPolicy, ProviderHealth, Target, TargetKind, evaluate_all};
use warden_core::id::{EnvironmentName, IdpId, SyncRunId};
use warden_core::model::{ObjectBatch, ResourceKind, Snapshot};
use warden_core::posture::{self, ConnectionHealthPolicy, Finding, Policy, Severity};
use warden_core::trend;

use crate::config::WebhookConfig;
use crate::store::{self, NewNotification, Store};

/// What governing needs besides the store.
#[derive(Debug, Clone)]
pub struct GovernanceSettings {
    pub policy: Policy,
    /// How provider probes are judged (`idp-unreachable`, `idp-certificate-expiring`).
    pub health: HealthPolicy,
    pub alert_min_severity: Severity,
    pub webhooks: Vec<WebhookConfig>,
    /// Every configured environment: `environment-role-drift` compares an environment with the others.
    pub environments: Vec<EnvironmentName>,
    /// How SCIM connections are judged (`scim-connection-degraded`, `scim-connection-stalled`).
    pub connection_health: ConnectionHealthPolicy,
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GovernOutcome {
    /// Findings open now.
    pub findings: usize,
    pub findings_opened: usize,
    pub findings_resolved: usize,
    pub alerts_opened: usize,
    pub alerts_resolved: usize,
    pub notifications_queued: usize,
}

/// Evaluates `environment` as stored at `now`: after sync run `run` (whose trend point it records), or after a round
/// of provider probes (`None`: no trend point, the state did not change).
pub async fn govern_once(
    environment: &EnvironmentName,
    run: Option<SyncRunId>,
    store: &dyn Store,
    settings: &GovernanceSettings,
    now: OffsetDateTime,
) -> Result<GovernOutcome, store::Error> {
    let policy = &settings.policy;
    let snapshot = store.load_kinds(environment, &posture::KINDS_READ).await?;
    let mut findings = snapshot_findings(environment, &snapshot, policy, now);
    if let Some(run) = run {
        store.insert_trend_points(run, &trend::trend_points(environment, &snapshot, &findings, now)).await?;
    }
    findings.extend(history_findings(environment, &snapshot, store, settings, now).await?);
    drop(snapshot);
    posture::sort_findings(&mut findings);

    let delta = store.record_findings(environment, &findings, now).await?;
    let suppressions = store.list_suppressions().await?;
    let active: Vec<Alert> =
        store.list_alerts(None).await?.into_iter().filter(|alert| alert.environment == *environment).collect();
    let plan = plan_alerts(&active, &findings, &suppressions, settings.alert_min_severity, now);
    let (opened, resolved) = store.apply_alert_plan(environment, &plan, now).await?;
    let mut notifications = Vec::new();
    for webhook in &settings.webhooks {
        let events =
            opened.iter().map(|alert| ("opened", alert)).chain(resolved.iter().map(|alert| ("resolved", alert)));
        for (event, alert) in events.filter(|(_, alert)| webhook.accepts(&alert.rule, alert.severity)) {
            notifications.push(NewNotification {
                alert_id: alert.id,
                webhook: webhook.name.clone(),
                event: event.to_owned(),
                payload: notify::payload(webhook.format, event, alert).to_string(),
            });
        }
    }
    store.enqueue_notifications(&notifications, now).await?;
    let outcome = GovernOutcome {
        findings: findings.len(),
        findings_opened: delta.opened.len(),
        findings_resolved: delta.resolved.len(),
        alerts_opened: opened.len(),
        alerts_resolved: resolved.len(),
        notifications_queued: notifications.len(),
    };
    tracing::info!(environment = %environment, ?outcome, "governed");
    Ok(outcome)
}

/// The findings one state yields on its own: the snapshot rules and role accumulation.
pub fn snapshot_findings(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let mut findings = posture::evaluate(environment, snapshot, policy, now);
    findings.extend(posture::machine_role_accumulation(environment, snapshot, policy));
    findings
}

/// The findings that need more than the state: growth over the recorded trend points, role drift against the
/// other configured environments (only their organizations, projects and roles are read), and the identity
/// providers' health from their stored probes.
pub async fn history_findings(
    environment: &EnvironmentName,
    snapshot: &Snapshot,
    store: &dyn Store,
    settings: &GovernanceSettings,
    now: OffsetDateTime,
) -> Result<Vec<Finding>, store::Error> {
    let (policy, environments) = (&settings.policy, &settings.environments);
    // Growth compares with the count at the window's start, so read a window's worth of history before it too.
    let since = now - Duration::days(2 * policy.growth_window_days.max(1));
    let history = store.list_trend_points(environment, Some(since)).await?;
    let mut findings = posture::service_account_growth(environment, snapshot, &history, policy, now);
    let mut peers = Vec::new();
    for peer in environments.iter().filter(|peer| *peer != environment) {
        peers.push((peer.clone(), load_roles(store, peer).await?));
    }
    if !peers.is_empty() {
        let mut compared: Vec<(EnvironmentName, &Snapshot)> =
            peers.iter().map(|(name, roles)| (name.clone(), roles)).collect();
        compared.push((environment.clone(), snapshot));
        findings.extend(
            posture::environment_role_drift(&compared)
                .into_iter()
                .filter(|finding| &finding.environment == environment),
        );
    }
    let health = provider_health(environment, store, &settings.health, now).await?;
    findings.extend(posture::idp_unreachable(environment, &health));
    findings.extend(posture::idp_certificate_expiring(environment, &health, policy, now));
    let connections =
        connections::judge_connections(Some(environment), store, &settings.connection_health, now).await?;
    findings.extend(connections::health_findings(environment, &connections));
    if let Some(synced_at) = reconcile::synced_at(environment, store).await? {
        let tenants: Vec<_> = reconcile::provisioned_tenants(environment, store, None)
            .await?
            .into_iter()
            .map(|(_, tenant)| tenant)
            .collect();
        if !tenants.is_empty() {
            findings.extend(posture::reconcile(environment, snapshot, synced_at, &tenants).findings);
        }
    }
    Ok(findings)
}

/// The health of every target of `environment` from its stored probes: ZITADEL itself and each identity provider
/// the store still holds (one removed from ZITADEL leaves its probes behind, and no longer counts).
pub async fn provider_health(
    environment: &EnvironmentName,
    store: &dyn Store,
    policy: &HealthPolicy,
    now: OffsetDateTime,
) -> Result<Vec<ProviderHealth>, store::Error> {
    let window = u32::try_from(policy.window).unwrap_or(u32::MAX);
    let history = store.latest_probes(environment, window).await?;
    if history.is_empty() {
        return Ok(Vec::new());
    }
    let ObjectBatch::IdentityProviders(providers) =
        store.list_objects(environment, ResourceKind::IdentityProvider).await?
    else {
        return Ok(Vec::new());
    };
    let current: BTreeSet<IdpId> = providers.into_iter().map(|provider| provider.id).collect();
    let mut targets: Vec<Target> = Vec::new();
    for probe in &history {
        let still_there = match &probe.target.kind {
            TargetKind::Zitadel => true,
            TargetKind::IdentityProvider { id, .. } => current.contains(id),
        };
        if still_there && !targets.iter().any(|target| target.key() == probe.target.key()) {
            targets.push(probe.target.clone());
        }
    }
    Ok(evaluate_all(&targets, &history, policy, now))
}

/// An environment's organizations, projects and roles as stored (what role drift compares), the other kinds left
/// empty.
pub async fn load_roles(store: &dyn Store, environment: &EnvironmentName) -> Result<Snapshot, store::Error> {
    let mut roles = Snapshot::default();
    for kind in [ResourceKind::Org, ResourceKind::Project, ResourceKind::ProjectRole] {
        roles.extend(store.list_objects(environment, kind).await?);
    }
    Ok(roles)
}
