//! Where ecsd reads manifests from. Every source yields [`SourceFile`]s (a name to report
//! errors against, and bytes) for `ecsd_model::parse_source`.
//!
//! # Layout
//! - [`any`]: the source `--source` names, parsed once ([`AnySource`]).
//! - [`dir`]: local files and directories ([`DirSource`]), read recursively (`*.yaml`,
//!   `*.yml`), with limits on file size, file count and total bytes.
//! - [`snapshot`]: the [`ManifestSource`] trait, [`Snapshot`]s, and the inotify watcher
//!   of a local directory.
//! - [`git`]: a git repository (`git+URL#REF`), through the `git` command line.
//! - [`s3`]: an S3 prefix, over the [`ObjectStore`] trait (implemented in `ecsd-aws`).
//! - [`content_revision`]: the revision of a snapshot without a commit id.

pub mod any;
pub mod dir;
pub mod git;
pub mod s3;
pub mod snapshot;

pub use any::{AnySource, SourceUrlError};
pub use dir::{DirSource, MAX_FILES, MAX_TOTAL_BYTES, read_paths};
pub use ecsd_model::SourceFile;
pub use git::GitSource;
pub use s3::{ObjectMeta, ObjectStore, S3Source, StoreError};
pub use snapshot::{ManifestSource, Snapshot, watch};

use sha2::{Digest, Sha256};

/// A source snapshot's revision when it has no commit id: a content hash over every
/// file's name and bytes, in order (the first 16 hex digits of a SHA-256).
pub fn content_revision(files: &[SourceFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update((f.name.len() as u64).to_le_bytes());
        h.update(f.name.as_bytes());
        h.update((f.bytes.len() as u64).to_le_bytes());
        h.update(&f.bytes);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

use std::path::PathBuf;

/// Why a source could not be read at all (as opposed to a file that is invalid YAML,
/// which is a diagnostic of the model).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: more than {limit} manifest files; split the source")]
    TooManyFiles { path: PathBuf, limit: usize },
    #[error("{path}: manifests add up to more than {limit} bytes; split the source")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{source_url}: {message}")]
    Remote { source_url: String, message: String },
    /// A program a source runs (git) could not be started.
    #[error("{source_url}: cannot run {program}: {source}")]
    Spawn {
        source_url: String,
        program: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The object store behind an S3 source failed.
    #[error("{source_url}: {source}")]
    Store {
        source_url: String,
        #[source]
        source: StoreError,
    },
}
