//! What the endpoint remembers per environment: the signatures it accepted (a replay of one is refused while its
//! timestamp is still within the tolerance; after that the timestamp refuses it), and its refusals in the current
//! minute (beyond a budget, every call is answered 429 unread, so a flood costs neither CPU nor log lines).
//! Both are bounded.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::actions::signature::{TOLERANCE_SECONDS, Verified};

/// Signatures remembered per environment at most: a push a second for the whole tolerance window, 600 times over.
const MAX_REMEMBERED: usize = 100_000;
/// Refused calls per environment and minute before the rest of the minute's calls are answered 429 unread.
pub const REFUSALS_PER_MINUTE: u32 = 60;
const WINDOW: Duration = Duration::from_secs(60);

/// One environment's memory.
#[derive(Debug, Default)]
pub struct Gate {
    /// Accepted signature -> the Unix second after which its timestamp alone refuses it.
    accepted: Mutex<HashMap<[u8; 32], i64>>,
    /// The current window's start and its refusals.
    refusals: Mutex<Option<(Instant, u32)>>,
}

/// What [`Gate::remember`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remembered {
    New,
    /// Accepted before.
    Replayed,
    /// Too many signatures still within the tolerance to remember another: the call is not taken.
    Full,
}

impl Gate {
    /// Remembers a verified call's signature, at `now` (Unix seconds).
    pub fn remember(&self, verified: &Verified, now: i64) -> Remembered {
        let mut accepted = self.accepted.lock().unwrap_or_else(PoisonError::into_inner);
        if accepted.contains_key(&verified.signature) {
            return Remembered::Replayed;
        }
        if accepted.len() >= MAX_REMEMBERED {
            accepted.retain(|_, expires| *expires >= now);
            if accepted.len() >= MAX_REMEMBERED {
                return Remembered::Full;
            }
        }
        accepted.insert(verified.signature, verified.timestamp.saturating_add(TOLERANCE_SECONDS));
        Remembered::New
    }

    /// How long until calls are read again, when this minute's refusals are used up.
    pub fn blocked_for(&self, at: Instant) -> Option<Duration> {
        let refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, count) = (*refusals)?;
        let elapsed = at.saturating_duration_since(start);
        (elapsed < WINDOW && count >= REFUSALS_PER_MINUTE).then(|| WINDOW - elapsed)
    }

    /// Counts a refusal; `true` when it used up the minute's budget (worth one log line).
    pub fn record_refusal(&self, at: Instant) -> bool {
        let mut refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, count) = refusals.get_or_insert((at, 0));
        if at.saturating_duration_since(*start) >= WINDOW {
            *start = at;
            *count = 0;
        }
        *count = count.saturating_add(1);
        *count == REFUSALS_PER_MINUTE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_taken_once_and_forgotten_only_when_its_timestamp_refuses_it() {
        let gate = Gate::default();
        let call = Verified { timestamp: 1_000, signature: [7; 32] };
        assert_eq!(gate.remember(&call, 1_000), Remembered::New);
        assert_eq!(gate.remember(&call, 1_200), Remembered::Replayed);
        assert_eq!(gate.remember(&Verified { signature: [8; 32], ..call }, 1_000), Remembered::New);
    }

    #[test]
    fn refusals_beyond_the_budget_block_the_rest_of_the_minute() {
        let gate = Gate::default();
        let start = Instant::now();
        for refusal in 1..=REFUSALS_PER_MINUTE {
            assert_eq!(gate.blocked_for(start), None);
            assert_eq!(gate.record_refusal(start), refusal == REFUSALS_PER_MINUTE);
        }
        assert!(gate.blocked_for(start + Duration::from_secs(59)).is_some());
        assert_eq!(gate.blocked_for(start + WINDOW), None);
    }
}
