//! `warden serve`: the HTTP listener (SCIM, health, metrics) on `[server] listen` and the scheduler (syncs,
//! notifications, retention, planner statistics), until Ctrl-C or SIGTERM.
//!
//! On the signal the scheduler stops starting work and gives a running sync `[server] shutdown_grace` to finish
//! (then abandons it: its run marked interrupted, its lease released); meanwhile the listener stops accepting and
//! finishes the requests in flight. Then the request log is flushed, the store closed, and the process exits 0.

use std::process::ExitCode;

use anyhow::Context;
use tokio::sync::watch;

use crate::app::App;
use crate::scheduler::Scheduler;
use crate::{server, store};

pub(super) async fn run(app: &App) -> anyhow::Result<ExitCode> {
    let _single_server = store::claim_single_server(&app.settings().database_url)?;
    let listen = app.settings().listen;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr().context("the listener has no address")?;
    let database = &app.settings().database_url;
    tracing::info!(%address, %database, holder = app.holder(), "serving SCIM at http://{address}/scim/v2/{{orgId}}");

    let (stop, stopping) = watch::channel(false);
    let drained = async move {
        let mut stopping = stopping;
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let mut http = tokio::spawn(server::serve(listener, server::build(app), drained));
    let scheduler = Scheduler::start(app);
    let served_early = tokio::select! {
        () = shutdown_signal() => None,
        served = &mut http => Some(served),
    };
    tracing::info!("shutting down");
    let _ = stop.send(true);
    scheduler.shutdown(app.settings().shutdown_grace).await;
    let served = match served_early {
        Some(served) => served,
        None => http.await,
    };
    served.context("the server task failed")?.context("the server failed")?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
