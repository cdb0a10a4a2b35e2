//! Pushed syncs: ZITADEL's Actions v2 calls warden when chosen events happen (the `actions` front end checks each
//! call's signature), and the environment is synced now instead of at its next `sync_interval`. Polling stays the
//! source of truth: ZITADEL does not retry a failed call, so a lost push only delays a change until the next
//! scheduled run.

use secrecy::SecretString;
use warden_core::id::EnvironmentName;

use crate::app::signal::PushedEvent;
use crate::app::sync::{ScheduledSync, SyncRequest, sync_environment, sync_if_due};
use crate::app::{App, Error};
use crate::config::CredentialError;

/// Why an environment takes no pushes.
#[derive(Debug, thiserror::Error)]
pub enum PushRefused {
    #[error("no environment of this name is configured")]
    UnknownEnvironment,
    #[error("the environment has no actions_signing_key")]
    NoSigningKey,
    /// The key's variable is missing or empty (the error names the variable, never a value).
    #[error(transparent)]
    UnreadableKey(#[from] CredentialError),
}

/// The environment's Actions signing key, read now from where `actions_signing_key` names.
pub fn signing_key(app: &App, environment: &str) -> Result<(EnvironmentName, SecretString), PushRefused> {
    let settings = app.settings().environment(environment).ok_or(PushRefused::UnknownEnvironment)?;
    let reference = settings.actions_signing_key.as_ref().ok_or(PushRefused::NoSigningKey)?;
    Ok((settings.name().clone(), reference.resolve("actions_signing_key")?))
}

/// Asks for a sync of `environment` now, for a verified push: its sync loop runs one as soon as it is free.
pub fn request_sync(app: &App, environment: &EnvironmentName, event: PushedEvent) {
    tracing::info!(
        %environment,
        event_type = %event.event_type,
        aggregate_type = %event.aggregate_type,
        aggregate_id = %event.aggregate_id,
        resource_owner = %event.resource_owner,
        sequence = event.sequence,
        "ZITADEL pushed an event: syncing now"
    );
    if let Some(signal) = app.push_signal(environment) {
        signal.push(event);
    }
}

/// The scheduler's sync step with pushes: when pushes wait, syncs now (however recently the last run started), else
/// what [`sync_if_due`] does. A push that finds another process syncing is kept for the next step, so the change it
/// announced is read by a run that starts after it.
pub async fn sync_if_due_or_pushed(app: &App, environment: &EnvironmentName) -> Result<ScheduledSync, Error> {
    let Some(signal) = app.push_signal(environment) else { return sync_if_due(app, environment).await };
    let Some(pushes) = signal.take() else { return sync_if_due(app, environment).await };
    tracing::info!(
        pushes = pushes.count,
        latest = %pushes.latest,
        "sync on ZITADEL's push"
    );
    match sync_environment(app, environment, SyncRequest::default()).await {
        Ok(synced) => Ok(ScheduledSync::Ran(Box::new(synced))),
        Err(Error::SyncRunning { holder, .. }) => {
            signal.put_back(pushes);
            Ok(ScheduledSync::Busy { holder })
        }
        Err(error) => Err(error),
    }
}
