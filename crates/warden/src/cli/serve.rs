//! `warden serve`: the HTTP listener (SCIM, health) on `[server] listen`, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;

use crate::app::App;
use crate::server;

pub(super) async fn run(app: &App) -> anyhow::Result<ExitCode> {
    let listen = app.settings().listen;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr().context("the listener has no address")?;
    let database = &app.settings().database_url;
    tracing::info!(%address, %database, "serving SCIM at http://{address}/scim/v2/{{orgId}}");
    server::serve(listener, server::build(app), shutdown_signal()).await.context("the server failed")?;
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
