//! Logging: human-readable on a terminal, JSON lines when `WARDEN_LOG_FORMAT=json`; always on stderr so that
//! stdout stays clean for reports and `--format json` output.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The log filter used when `WARDEN_LOG` is unset: warden at `info`, dependencies at `warn` (sqlx at `error`: its
/// slow-statement warnings fire on every large list and say nothing actionable).
pub const DEFAULT_FILTER: &str = "warn,sqlx=error,warden=info,warden_core=info,warden_zitadel=info";

/// For commands whose output is the story (`warden demo`): only warnings, unless `WARDEN_LOG` asks for more.
pub const QUIET_FILTER: &str = "warn,sqlx=error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl LogFormat {
    /// `WARDEN_LOG_FORMAT=json` selects JSON; anything else is human-readable.
    pub fn from_env() -> LogFormat {
        match std::env::var("WARDEN_LOG_FORMAT") {
            Ok(value) if value.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Human,
        }
    }
}

/// Installs the global subscriber. `WARDEN_LOG` takes `target=level` directives (`info,sqlx=debug`); an invalid
/// value falls back to `default_filter` and says so.
pub fn init(format: LogFormat, default_filter: &str) {
    let requested = std::env::var("WARDEN_LOG").ok();
    let (targets, invalid) = match requested.as_deref().map(str::parse::<Targets>) {
        Some(Ok(targets)) => (targets, None),
        Some(Err(error)) => (default_targets(default_filter), Some(error.to_string())),
        None => (default_targets(default_filter), None),
    };
    let registry = tracing_subscriber::registry().with(targets);
    let result = match format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().with_current_span(false).with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Human => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    if result.is_ok()
        && let Some(error) = invalid
    {
        tracing::warn!(%error, "WARDEN_LOG is not a valid filter; using the default");
    }
}

fn default_targets(filter: &str) -> Targets {
    filter.parse().unwrap_or_default()
}
