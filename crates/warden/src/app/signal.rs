//! [`PushSignal`]: one environment's pushed events waiting for a sync, and the signal its sync loop waits on besides
//! its timer. Pushes coalesce: however many arrive while a run is in progress, they ask for one more run after it.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

/// What ZITADEL said happened, as far as a call says (an Actions v2 event execution's body omits empty fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushedEvent {
    /// `user.human.email.changed`, ...
    pub event_type: String,
    /// `user`, `usergrant`, `org`, `project`, `instance`, ...
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The organization (or instance) the aggregate belongs to.
    pub resource_owner: String,
    /// The event's sequence within its aggregate.
    pub sequence: Option<u64>,
}

impl fmt::Display for PushedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {} {}", self.event_type, self.aggregate_type, self.aggregate_id)?;
        if let Some(sequence) = self.sequence {
            write!(f, " (sequence {sequence})")?;
        }
        Ok(())
    }
}

/// The pushes since the environment's last pushed run began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPushes {
    /// The newest push.
    pub latest: PushedEvent,
    /// How many pushes asked for this run (the newest included).
    pub count: u64,
}

/// One environment's push signal, shared by the endpoint that receives pushes and the environment's sync loop.
#[derive(Debug, Default)]
pub struct PushSignal {
    notify: Notify,
    pending: Mutex<Option<PendingPushes>>,
}

impl PushSignal {
    /// Records a push and wakes the sync loop (or, while it runs a sync, makes it look again right after).
    pub fn push(&self, event: PushedEvent) {
        {
            let mut pending = self.lock();
            let count = pending.as_ref().map_or(0, |pending| pending.count);
            *pending = Some(PendingPushes { latest: event, count: count.saturating_add(1) });
        }
        self.notify.notify_one();
    }

    /// The pushes waiting, taken: the run about to start answers them all.
    pub fn take(&self) -> Option<PendingPushes> {
        self.lock().take()
    }

    /// Puts back pushes a run could not answer (another process was syncing), merged with any that came since;
    /// without waking the loop, which looks again when it retries.
    pub fn put_back(&self, pushes: PendingPushes) {
        let mut pending = self.lock();
        *pending = Some(match pending.take() {
            Some(newer) => PendingPushes { latest: newer.latest, count: newer.count.saturating_add(pushes.count) },
            None => pushes,
        });
    }

    /// Resolves at the next push (at once when one came since the last wait ended).
    pub async fn pushed(&self) {
        self.notify.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<PendingPushes>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> PushedEvent {
        PushedEvent {
            event_type: "user.human.email.changed".to_owned(),
            aggregate_id: id.to_owned(),
            ..PushedEvent::default()
        }
    }

    #[tokio::test]
    async fn pushes_coalesce_into_one_pending_run_and_wake_the_loop_once() {
        let signal = PushSignal::default();
        for id in ["1", "2", "3"] {
            signal.push(event(id));
        }
        // The stored wake-up resolves at once.
        tokio::time::timeout(std::time::Duration::from_secs(1), signal.pushed()).await.unwrap();
        let pending = signal.take().unwrap();
        assert_eq!((pending.latest.aggregate_id.as_str(), pending.count), ("3", 3));
        assert_eq!(signal.take(), None);

        signal.push(event("4"));
        signal.put_back(pending);
        let merged = signal.take().unwrap();
        assert_eq!((merged.latest.aggregate_id.as_str(), merged.count), ("4", 4));
    }
}
