//! Local files and directories.
//!
//! A named file is read whatever its extension; a directory is walked recursively for
//! `*.yaml` and `*.yml`, in sorted order, skipping hidden entries (`.git`, editor swap
//! files) and not following symbolic links to directories (no loops). Each file is read
//! only up to one byte past [`ecsd_model::MAX_FILE_BYTES`], so a huge file costs no memory
//! and is reported by the model as too large.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use ecsd_model::{MAX_FILE_BYTES, SourceFile};

use crate::snapshot::{ManifestSource, Snapshot};
use crate::{SourceError, content_revision};

/// A local directory or file.
#[derive(Debug, Clone)]
pub struct DirSource {
    path: PathBuf,
}

impl DirSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DirSource { path: path.into() }
    }
}

impl ManifestSource for DirSource {
    async fn fetch(&mut self) -> Result<Snapshot, SourceError> {
        let paths = vec![self.path.clone()];
        let files = tokio::task::spawn_blocking(move || read_paths(&paths))
            .await
            .map_err(|e| SourceError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(e.to_string()),
            })??;
        Ok(Snapshot {
            revision: content_revision(&files),
            files,
        })
    }

    fn describe(&self) -> String {
        format!("directory {}", self.path.display())
    }

    fn watch_path(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }
}

/// Most files one source may hold.
pub const MAX_FILES: usize = 10_000;

/// Most bytes all files of one source may add up to (256 MiB).
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// Reads every manifest file under `paths` (files or directories).
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<SourceFile>, SourceError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
        if meta.is_dir() {
            walk(path, path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    let mut files = Vec::with_capacity(found.len());
    let mut total = 0u64;
    for path in found {
        let bytes = read_capped(&path)?;
        total += bytes.len() as u64;
        if total > MAX_TOTAL_BYTES {
            return Err(SourceError::TooLarge {
                path,
                limit: MAX_TOTAL_BYTES,
            });
        }
        files.push(SourceFile {
            name: path.display().to_string(),
            bytes,
        });
    }
    Ok(files)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|err| io_error(dir, err)))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let link = fs::symlink_metadata(&path).map_err(|e| io_error(&path, e))?;
        if link.is_dir() {
            walk(root, &path, found)?;
        } else if is_manifest_name(&path) {
            // A symlink to a file is followed; a broken one is an error worth seeing.
            let meta = fs::metadata(&path).map_err(|e| io_error(&path, e))?;
            if meta.is_file() {
                found.push(path);
                if found.len() > MAX_FILES {
                    return Err(SourceError::TooManyFiles {
                        path: root.to_path_buf(),
                        limit: MAX_FILES,
                    });
                }
            }
        }
    }
    Ok(())
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn read_capped(path: &Path) -> Result<Vec<u8>, SourceError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    Ok(bytes)
}

fn io_error(path: &Path, e: std::io::Error) -> SourceError {
    if e.kind() == std::io::ErrorKind::NotFound {
        SourceError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ecsd-source-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn walks_yaml_files_sorted_and_skips_hidden_and_other_files() {
        let dir = scratch("walk");
        fs::create_dir_all(dir.join("b/.git")).expect("mkdir");
        fs::write(dir.join("b/z.yml"), "z").expect("write");
        fs::write(dir.join("a.yaml"), "a").expect("write");
        fs::write(dir.join("notes.txt"), "n").expect("write");
        fs::write(dir.join(".hidden.yaml"), "h").expect("write");
        fs::write(dir.join("b/.git/config.yaml"), "g").expect("write");
        let files = read_paths(std::slice::from_ref(&dir)).expect("read");
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                f.name
                    .trim_start_matches(&dir.display().to_string())
                    .to_owned()
            })
            .collect();
        assert_eq!(names, vec!["/a.yaml", "/b/z.yml"]);
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_missing_path_is_an_error_that_names_it() {
        let err = read_paths(&[PathBuf::from("/nonexistent/ecsd")]).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "/nonexistent/ecsd: no such file or directory"
        );
    }

    #[test]
    fn huge_files_are_read_only_up_to_the_limit() {
        let dir = scratch("huge");
        let path = dir.join("big.yaml");
        let f = File::create(&path).expect("create");
        f.set_len(50 * 1024 * 1024).expect("sparse 50 MB file");
        let files = read_paths(&[path]).expect("read");
        assert_eq!(files[0].bytes.len() as u64, MAX_FILE_BYTES + 1);
        fs::remove_dir_all(&dir).ok();
    }
}
