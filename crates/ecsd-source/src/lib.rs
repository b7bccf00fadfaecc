//! Where ecsd reads manifests from. Every source yields [`SourceFile`]s (a name to report
//! errors against, and bytes) for `ecsd_model::parse_source`.
//!
//! # Layout
//! - [`dir`]: local files and directories, read recursively (`*.yaml`, `*.yml`), with
//!   limits on file size, file count and total bytes.

pub mod dir;

pub use dir::{MAX_FILES, MAX_TOTAL_BYTES, read_paths};
pub use ecsd_model::SourceFile;

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
}
