//! The request-log rows of requests that wrote nothing (reads, refused and failed requests), in batches.
//!
//! A request hands its row to the writer task and goes on: it waits only while the queue is full (so a database
//! that cannot keep up slows the requests down instead of growing memory). The writer collects rows for up to
//! [`LINGER`] (or until [`MAX_BATCH`] are waiting) and commits them in one statement, so under load the log costs
//! a few statements a second instead of one or more per request. [`RequestLogWriter::flush`] waits until every row
//! handed over before it is committed; `server::serve` calls it after the last response, so a clean shutdown loses
//! no row. (A write's row is not written here: it is committed in the write's own transaction.) Old rows go by
//! `[retention] scim_request_log` (`app::maintenance`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::store::{ScimRequestLogEntry, Store};

/// Rows per INSERT at most.
const MAX_BATCH: usize = 512;
/// How long the first row of a batch waits for others.
const LINGER: Duration = Duration::from_millis(50);
/// Rows waiting to be written at most; beyond it, requests wait to hand theirs over.
const QUEUE: usize = 8_192;

enum Message {
    Entry(ScimRequestLogEntry),
    /// Answered once every row received before it is committed.
    Flush(oneshot::Sender<()>),
}

/// The handle requests use; the writer task stops when the last handle is dropped, after writing what it holds.
pub struct RequestLogWriter {
    sender: mpsc::Sender<Message>,
    store: Arc<dyn Store>,
}

impl RequestLogWriter {
    /// Starts the writer task; call within a Tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> RequestLogWriter {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store.clone(), receiver));
        RequestLogWriter { sender, store }
    }

    /// Hands one row to the writer; returns at once unless the queue is full. A row that cannot be stored is
    /// logged as a warning, never the request's failure.
    pub async fn record(&self, entry: ScimRequestLogEntry) {
        // The writer is gone (the runtime is shutting down): write directly.
        if let Err(mpsc::error::SendError(Message::Entry(entry))) = self.sender.send(Message::Entry(entry)).await {
            insert(&*self.store, std::slice::from_ref(&entry)).await;
        }
    }

    /// Returns once every row recorded before the call is committed (or could not be).
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

async fn write_batches(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Message>) {
    let mut messages: Vec<Message> = Vec::with_capacity(MAX_BATCH);
    let mut entries: Vec<ScimRequestLogEntry> = Vec::with_capacity(MAX_BATCH);
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    let mut open = true;
    while open {
        if receiver.recv_many(&mut messages, MAX_BATCH).await == 0 {
            break;
        }
        let deadline = Instant::now() + LINGER;
        loop {
            for message in messages.drain(..) {
                match message {
                    Message::Entry(entry) => entries.push(entry),
                    Message::Flush(done) => flushes.push(done),
                }
            }
            if entries.len() >= MAX_BATCH || !flushes.is_empty() {
                break;
            }
            let room = MAX_BATCH - entries.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut messages, room)).await {
                Ok(0) => {
                    open = false;
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if !entries.is_empty() {
            insert(&*store, &entries).await;
            entries.clear();
        }
        for done in flushes.drain(..) {
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
