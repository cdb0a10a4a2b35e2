//! Leases: how one process at a time runs a job (a sync of one environment, retention, maintenance) across every
//! process that shares the store. A lease is a row (`store::LeaseStore`) naming its holder, renewed by a heartbeat
//! while the job runs and expiring on its own when the holder dies; a job whose lease expired is taken over.
//!
//! Why a table and not PostgreSQL advisory locks: an advisory lock lives as long as one database session, and
//! warden's statements run on pooled connections, so the lock would have to pin a connection for the job's whole
//! length and dies (silently) with it; a row with an expiry works the same on SQLite, shows who holds what and since
//! when (`warden sync` names the holder when it is refused), and lets a run be judged interrupted by its holder's
//! lease alone.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{App, Error};
use crate::store::{Lease, LeaseAcquisition};

/// What [`acquire`] found.
pub enum Acquired {
    /// This process holds the lease now; it is renewed until [`HeldLease::release`] (or dropped, when it expires).
    Held(HeldLease),
    /// Another holder's lease is live.
    Busy(Lease),
}

/// A lease this process holds, renewed every third of its time to live.
pub struct HeldLease {
    app: App,
    name: String,
    /// Turns `true` when a renewal found the lease taken by someone else: the job must stop.
    lost: watch::Receiver<bool>,
    heartbeat: JoinHandle<()>,
}

/// Takes the lease `name` for this process, or says who holds it. An expired lease is taken over (counted in
/// `warden_lease_takeovers_total`).
pub async fn acquire(app: &App, name: &str) -> Result<Acquired, Error> {
    let ttl = app.settings().lease_ttl;
    let acquisition = app.store().acquire_lease(name, app.holder(), app.now(), ttl).await?;
    match acquisition {
        LeaseAcquisition::Busy(lease) => Ok(Acquired::Busy(lease)),
        LeaseAcquisition::Acquired { taken_over_from } => {
            if let Some(previous) = taken_over_from {
                tracing::warn!(lease = name, %previous, "took over an expired lease");
                app.metrics().record_lease_takeover(job_label(name));
            }
            let (lost_sender, lost) = watch::channel(false);
            let heartbeat = tokio::spawn(renew(app.clone(), name.to_owned(), ttl, lost_sender));
            Ok(Acquired::Held(HeldLease { app: app.clone(), name: name.to_owned(), lost, heartbeat }))
        }
    }
}

/// The job a lease name stands for, without the environment (a bounded metric label).
fn job_label(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

async fn renew(app: App, name: String, ttl: Duration, lost: watch::Sender<bool>) {
    loop {
        tokio::time::sleep(ttl / 3).await;
        match app.store().renew_lease(&name, app.holder(), app.now(), ttl).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!(lease = %name, "the lease was taken by another holder; stopping the job");
                let _ = lost.send(true);
                return;
            }
            // A database hiccup: the next beat tries again; the lease lasts three beats.
            Err(error) => tracing::warn!(lease = %name, %error, "cannot renew the lease"),
        }
    }
}

impl HeldLease {
    /// Completes when the lease is lost to another holder (never while it is held).
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        if lost.wait_for(|lost| *lost).await.is_err() {
            // The heartbeat ended without losing the lease (it never does): stay pending.
            std::future::pending::<()>().await;
        }
    }

    /// Ends the heartbeat and gives the lease up.
    pub async fn release(self) {
        self.heartbeat.abort();
        if let Err(error) = self.app.store().release_lease(&self.name, self.app.holder()).await {
            tracing::warn!(lease = %self.name, %error, "cannot release the lease; it expires on its own");
        }
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        // Dropped without `release` (the job was cancelled): the lease expires after its time to live.
        self.heartbeat.abort();
    }
}
