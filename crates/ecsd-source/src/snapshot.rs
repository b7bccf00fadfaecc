//! Sources behind one trait, each producing snapshots with a revision, and the watcher
//! that wakes the controller when a local directory changes.

use std::future::Future;
use std::path::PathBuf;

use ecsd_model::SourceFile;

use crate::SourceError;

/// Everything a source held at one moment, and its revision (a commit id for git, a
/// content hash otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub revision: String,
    pub files: Vec<SourceFile>,
}

/// A place manifests are read from.
pub trait ManifestSource: Send + 'static {
    /// Reads the whole source now. An error means the source could not be read; the
    /// caller keeps its last good snapshot (an unreadable source never looks like an
    /// empty one).
    fn fetch(&mut self) -> impl Future<Output = Result<Snapshot, SourceError>> + Send;
    /// What the source is, for logs.
    fn describe(&self) -> String;
    /// A local directory to watch for changes, if the source is one.
    fn watch_path(&self) -> Option<PathBuf> {
        None
    }
}

/// Watches `path` recursively (inotify on Linux) and signals on `tx` after changes.
/// Keep the returned watcher alive for as long as signals are wanted.
pub fn watch(
    path: &std::path::Path,
    tx: tokio::sync::mpsc::Sender<()>,
) -> Result<notify::RecommendedWatcher, notify::Error> {
    use notify::Watcher as _;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            // A full channel already carries a wake-up.
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(path, notify::RecursiveMode::Recursive)?;
    Ok(watcher)
}
