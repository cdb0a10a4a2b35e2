//! The request-log rows of requests that wrote nothing (reads, refused and failed requests), in batches.
//!
//! Each request still waits until its row is committed, so the log is complete when the response leaves; but the
//! requests that arrive while one batch is being written share the next INSERT and its commit, instead of paying
//! a commit each. (A write's row is not written here: it is committed in the write's own transaction.)

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{ScimRequestLogEntry, Store};

/// Rows per INSERT at most.
const MAX_BATCH: usize = 256;
/// Requests waiting for their row at most; beyond it, requests wait to enqueue.
const QUEUE: usize = 4_096;

type Pending = (ScimRequestLogEntry, oneshot::Sender<()>);

/// The handle requests use; the writer task stops when the last handle is dropped.
pub struct RequestLogWriter {
    sender: mpsc::Sender<Pending>,
    store: Arc<dyn Store>,
}

impl RequestLogWriter {
    /// Starts the writer task; call within a Tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> RequestLogWriter {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store.clone(), receiver));
        RequestLogWriter { sender, store }
    }

    /// Stores one row; returns once it is committed (or could not be: that is logged, never the request's failure).
    pub async fn record(&self, entry: ScimRequestLogEntry) {
        let (done, committed) = oneshot::channel();
        match self.sender.send((entry, done)).await {
            Ok(()) => {
                let _ = committed.await;
            }
            // The writer is gone (the runtime is shutting down): write directly.
            Err(mpsc::error::SendError((entry, _))) => insert(&*self.store, std::slice::from_ref(&entry)).await,
        }
    }
}

async fn write_batches(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (entries, waiting): (Vec<ScimRequestLogEntry>, Vec<oneshot::Sender<()>>) = batch.drain(..).unzip();
        insert(&*store, &entries).await;
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// One INSERT for the batch; if it fails, row by row, so that one bad row (its connection deleted meanwhile)
/// loses only itself.
async fn insert(store: &dyn Store, entries: &[ScimRequestLogEntry]) {
    if store.insert_scim_request_logs(entries).await.is_ok() {
        return;
    }
    for entry in entries {
        if let Err(error) = store.insert_scim_request_logs(std::slice::from_ref(entry)).await {
            tracing::warn!(error = %error, "cannot record a SCIM request in the request log");
        }
    }
}
