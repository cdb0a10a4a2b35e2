//! Provider health: probing ZITADEL itself and every identity provider it federates (`crate::probe`), judging each
//! target's status from its recent probes (`warden_core::health`), recording the probes and every status change, and
//! governing what the status means (`idp-unreachable`, `idp-certificate-expiring` open and resolve alerts).

use time::OffsetDateTime;
use warden_core::health::{HealthStatus, ProviderHealth, StatusChange, status_change};
use warden_core::id::EnvironmentName;
use warden_core::model::{ObjectBatch, ResourceKind};

use crate::app::lease::{self, Acquired};
use crate::app::{App, Error};
use crate::govern::{GovernOutcome, govern_once, provider_health};
use crate::probe::{targets_from, zitadel_target};

/// What one round of probes of an environment found.
#[derive(Debug, Clone)]
pub struct HealthRound {
    pub environment: EnvironmentName,
    /// Every target probed (ZITADEL first), with its status from its recent probes, this round's included.
    pub providers: Vec<ProviderHealth>,
    /// The statuses that changed with this round.
    pub changes: Vec<StatusChange>,
    /// What governance did with the round; `None` when governing failed (logged).
    pub governed: Option<GovernOutcome>,
}

/// Probes `environment` now: ZITADEL itself (with warden's credential, for the token check) and every active
/// identity provider the store holds for it; records the probes and the status changes, then governs.
pub async fn probe_environment(app: &App, environment: &EnvironmentName) -> Result<HealthRound, Error> {
    let settings = app.environment(environment.as_str())?;
    let client = match app.zitadel(environment) {
        Ok(client) => Some((*client).clone()),
        Err(error) => {
            // ZITADEL is still probed; only the token check needs the credential.
            tracing::warn!(%environment, %error, "probing without warden's credential");
            None
        }
    };
    let store = app.store();
    let providers = match store.list_objects(environment, ResourceKind::IdentityProvider).await? {
        ObjectBatch::IdentityProviders(providers) => providers,
        _ => Vec::new(),
    };
    let mut targets = vec![zitadel_target(environment, &settings.environment.url, client)];
    targets.extend(targets_from(environment, &providers));
    let prober = app.prober()?;
    let probed = prober.probe_all(targets, app.now()).await;
    store.record_probes(&probed).await?;

    let now = app.now();
    let health_policy = &app.settings().governance.health;
    let mut health = provider_health(environment, &**store, health_policy, now).await?;
    // The targets of this round, in its order (ZITADEL first); an older target no longer probed is left out.
    health.retain(|provider| probed.iter().any(|probe| probe.target.key() == provider.target.key()));
    health.sort_by_key(|provider| probed.iter().position(|probe| probe.target.key() == provider.target.key()));
    let previous = store.current_statuses(environment).await?;
    let changes: Vec<StatusChange> = health
        .iter()
        .filter_map(|provider| status_change(previous.get(&provider.target.key()).copied(), provider, now))
        .collect();
    store.record_status_changes(&changes).await?;
    for change in &changes {
        tracing::info!(
            %environment, target = %change.target.name, from = change.from.as_str(), to = change.to.as_str(),
            reasons = ?change.reasons, "provider status changed"
        );
    }
    let governed = match govern_once(environment, None, &**store, &app.settings().governance, now).await {
        Ok(governed) => Some(governed),
        Err(error) => {
            tracing::error!(%environment, %error, "cannot evaluate findings after probing");
            None
        }
    };
    Ok(HealthRound { environment: environment.clone(), providers: health, changes, governed })
}

/// What the scheduler's probe step did.
#[derive(Debug)]
pub enum ScheduledProbe {
    /// The environment was probed less than its `probe_interval` ago (by any process).
    NotDue {
        next_at: OffsetDateTime,
    },
    /// Another process is probing it.
    Busy,
    Ran(Box<HealthRound>),
}

/// The scheduler's step: probes `environment` if its last round (by any process) is at least its `probe_interval`
/// old, under the environment's probe lease.
pub async fn probe_if_due(app: &App, environment: &EnvironmentName) -> Result<ScheduledProbe, Error> {
    if let Some(next_at) = next_probe(app, environment).await? {
        return Ok(ScheduledProbe::NotDue { next_at });
    }
    let lease = match lease::acquire(app, &format!("probe/{environment}")).await? {
        Acquired::Held(lease) => lease,
        Acquired::Busy(_) => return Ok(ScheduledProbe::Busy),
    };
    if let Some(next_at) = next_probe(app, environment).await? {
        lease.release().await;
        return Ok(ScheduledProbe::NotDue { next_at });
    }
    let round = tokio::select! {
        round = probe_environment(app, environment) => round,
        () = lease.lost() => Err(Error::LeaseLost { lease: format!("probe/{environment}") }),
    };
    lease.release().await;
    Ok(ScheduledProbe::Ran(Box::new(round?)))
}

/// When the environment is next due for probes, or `None` when it is due now.
async fn next_probe(app: &App, environment: &EnvironmentName) -> Result<Option<OffsetDateTime>, Error> {
    let interval = app.environment(environment.as_str())?.probe_interval;
    let latest = app.store().latest_probes(environment, 1).await?;
    let last = latest.iter().map(|probe| probe.probed_at).max();
    Ok(last.map(|last| last + interval).filter(|next_at| *next_at > app.now()))
}

/// The health of every target from the probes stored, without probing (what the report shows).
pub async fn stored_health(app: &App, environment: &EnvironmentName) -> Result<Vec<ProviderHealth>, Error> {
    Ok(provider_health(environment, &**app.store(), &app.settings().governance.health, app.now()).await?)
}

/// Whether a status is one an operator must look at.
pub fn needs_attention(status: HealthStatus) -> bool {
    matches!(status, HealthStatus::Degraded | HealthStatus::Down)
}
