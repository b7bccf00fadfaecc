//! Delivers what ecsd tells people (`ecsd run --notify URL`): Slack messages in Block
//! Kit, a versioned JSON webhook signed with HMAC-SHA256, and GitHub commit statuses.
//! What is said, and when, is decided by `ecsd_runtime::notify`; this crate only
//! carries it, without ever slowing reconciling down.
//!
//! # Layout
//! - [`target`]: a `--notify` URL → its kind and the label shown for it (URLs are
//!   secrets: never logged);
//! - [`slack`], [`webhook`], [`github`]: the body (and signature) each kind receives;
//! - [`deliver`]: the [`Dispatcher`] (the runtime's `Notifier`): a bounded queue and
//!   one sender per target, retries with backoff and jitter, counters in `/status`;
//! - [`client`]: one HTTPS POST behind the [`client::Post`] trait.

pub mod client;
pub mod deliver;
pub mod github;
pub mod slack;
pub mod target;
pub mod webhook;

pub use deliver::{Dispatcher, QUEUE_MAX, RETRY_WINDOW, Settings};
pub use target::{GITHUB_API, Kind, Target};

/// What can go wrong before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A `--notify` value is not a usable URL (`shown` never includes its path).
    #[error("--notify {shown}: {why}")]
    Url { shown: String, why: String },
    /// A GitHub target without `ECSD_GITHUB_TOKEN`.
    #[error(
        "--notify {0}: ECSD_GITHUB_TOKEN is not set (a token with the repo:status scope, or a fine-grained token with commit statuses: write)"
    )]
    NoToken(String),
    #[error("cannot set up TLS for notifications: {0}")]
    Tls(String),
}
