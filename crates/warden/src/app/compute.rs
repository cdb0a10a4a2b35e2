//! CPU-heavy work off the async runtime's threads: normalizing a SCIM body, applying a PATCH, filtering and sorting
//! in memory. One request's worst work never starves the others, nor the timer of its own timeout.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinError;

/// Why work given to the pool produced no result.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    #[error("the compute pool is shut down")]
    Closed,
    #[error("the compute worker failed: {0}")]
    Worker(#[from] JoinError),
}

/// Runs work a few at a time on blocking threads: one fewer than the cores (at least one), so that a core stays
/// free for the runtime, which serves every other request and fires every timeout. Work waits its turn in arrival
/// order; the wait counts against the request's timeout.
pub struct ComputePool {
    permits: Arc<Semaphore>,
}

impl ComputePool {
    pub fn new(workers: usize) -> ComputePool {
        ComputePool { permits: Arc::new(Semaphore::new(workers.max(1))) }
    }

    /// One fewer than the cores this process may use, and at least one.
    pub fn for_this_machine() -> ComputePool {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        ComputePool::new(cores.saturating_sub(1))
    }

    /// Runs `work` on a blocking thread once a worker is free. If the caller is dropped meanwhile (its timeout),
    /// the work still finishes, but nobody receives the result; writes are never part of it.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ComputeError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| ComputeError::Closed)?;
        let handle = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        Ok(handle.await?)
    }
}
