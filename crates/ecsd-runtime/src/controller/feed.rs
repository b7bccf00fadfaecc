//! Feeding the controller from a source: a fetch every `interval`, and at once when
//! the watched directory changes or `refresh` says so (a git host's push webhook, an
//! S3 object event of the source's prefix). Only a new revision is sent on; a failed
//! fetch sends an error and the controller keeps its last good snapshot.

use std::time::Duration;

use ecsd_source::ManifestSource;
use tokio::sync::{mpsc, watch};

use ecsd_source::Snapshot;

/// What drives the controller from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new snapshot of the source.
    Snapshot(Snapshot),
    /// The source could not be read; the last good snapshot stays in force.
    SourceError(String),
    /// Start a full pass now.
    Sync,
    /// Events from the event queue (`run --events`): look at what they name now.
    Notices(Vec<crate::events::Notice>),
    /// Whether the event queue can be read: while it can, the full resync is the
    /// backstop (`--events-resync`); while it cannot, the short `--resync`.
    Feed(bool),
}

/// Runs until `shutdown` turns true or the controller goes away.
pub async fn feed<Src: ManifestSource>(
    mut source: Src,
    interval: Duration,
    events: mpsc::Sender<Event>,
    mut refresh: mpsc::Receiver<()>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (wake_tx, mut wake) = mpsc::channel(1);
    let _watcher = match source.watch_path() {
        Some(path) => match ecsd_source::watch(&path, wake_tx) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the source for changes; polling every interval");
                None
            }
        },
        None => None,
    };
    let mut last: Option<String> = None;
    let mut last_error: Option<String> = None;
    loop {
        match source.fetch().await {
            Ok(snapshot) => {
                last_error = None;
                if last.as_ref() != Some(&snapshot.revision) {
                    last = Some(snapshot.revision.clone());
                    if events.send(Event::Snapshot(snapshot)).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let message = format!("{}: {e}", source.describe());
                if last_error.as_ref() != Some(&message) {
                    last_error = Some(message.clone());
                    if events.send(Event::SourceError(message)).await.is_err() {
                        return;
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            Some(()) = refresh.recv() => {}
            Some(()) = wake.recv() => {
                // Let a burst of writes (an editor saving, a checkout) finish.
                tokio::time::sleep(Duration::from_millis(100)).await;
                while wake.try_recv().is_ok() {}
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
