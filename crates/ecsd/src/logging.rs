//! Logs go to stderr: JSON lines when stdout is not a terminal (a container), readable
//! text on a terminal, unless `--log-format` says otherwise. `RUST_LOG` filters them
//! (default `info`, with the AWS SDK's own logs at `error`; `RUST_LOG=debug` shows them and
//! the full form of every failed AWS call).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber.
pub(crate) fn init(format: Option<LogFormat>) {
    let format = format.unwrap_or(if std::io::stdout().is_terminal() {
        LogFormat::Text
    } else {
        LogFormat::Json
    });
    // The SDK's own chatter (its credential chain's warnings, connection retries) only
    // with RUST_LOG: what went wrong reaches the person as ecsd's own one-line error.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,aws_=error,hyper=error,rustls=error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
