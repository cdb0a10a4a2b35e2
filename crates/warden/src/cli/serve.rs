//! `warden serve`: the HTTP listener (SCIM, health) on `[server] listen`, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::{app, store};

pub(super) async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = store::open_and_migrate(&config.database.url).await?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr().context("the listener has no address")?;
    tracing::info!(%address, database = %config.database.url, "serving SCIM at http://{address}/scim/v2/{{orgId}}");
    app::serve(listener, app::build(config, store), shutdown_signal()).await.context("the server failed")?;
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
