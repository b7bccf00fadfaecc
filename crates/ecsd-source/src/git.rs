//! A git repository as a source: `git+URL` or `git+URL#REF` (a branch, tag or commit;
//! default the remote HEAD). The repository is initialised once in a cache directory,
//! then each fetch is a shallow `git fetch` of the ref and a checkout; the revision is
//! the commit id.
//!
//! It runs the `git` command line: https, ssh and file URLs all work, and credentials
//! come from git's own environment and configuration (credential helpers, `GIT_*`
//! variables, ssh keys); git is never allowed to prompt. Credentials embedded in the URL
//! are redacted from every message. (A pure-Rust client would still need
//! `git-upload-pack` for file URLs, so the container image must carry `git` either way.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::snapshot::{ManifestSource, Snapshot};
use crate::{SourceError, read_paths};

/// How long one git command may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(120);

/// `git+URL[#REF]`.
#[derive(Debug, Clone)]
pub struct GitSource {
    url: String,
    reference: Option<String>,
    cache: PathBuf,
}

impl GitSource {
    /// A source for `spec` (`git+URL[#REF]`), cloned under `cache_root`; `None` if `spec`
    /// is not a git source.
    pub fn new(spec: &str, cache_root: &Path) -> Option<Self> {
        let rest = spec.strip_prefix("git+")?;
        let (url, reference) = match rest.rsplit_once('#') {
            Some((u, r)) if !r.is_empty() => (u.to_owned(), Some(r.to_owned())),
            _ => (rest.trim_end_matches('#').to_owned(), None),
        };
        if url.is_empty() {
            return None;
        }
        let digest: String = Sha256::digest(url.as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(GitSource {
            url,
            reference,
            cache: cache_root.join(format!("ecsd-git-{digest}")),
        })
    }

    async fn git(&self, args: &[&str]) -> Result<String, SourceError> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.arg("-C").arg(&self.cache).args(args);
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
            .kill_on_drop(true);
        let out = tokio::time::timeout(GIT_TIMEOUT, cmd.output())
            .await
            .map_err(|_| {
                self.error(format!(
                    "git {} took longer than {}s",
                    args.first().unwrap_or(&""),
                    GIT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|source| SourceError::Spawn {
                source_url: self.describe(),
                program: "git",
                source,
            })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(self.error(format!(
                "git {} failed: {}",
                args.first().unwrap_or(&""),
                redact(stderr.trim())
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn error(&self, message: String) -> SourceError {
        SourceError::Remote {
            source_url: self.describe(),
            message,
        }
    }
}

/// `https://user:secret@host/x` -> `https://***@host/x`, anywhere in `text`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&after[at..end]);
            }
            None => out.push_str(&after[..end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

impl ManifestSource for GitSource {
    async fn fetch(&mut self) -> Result<Snapshot, SourceError> {
        if !self.cache.join(".git").is_dir() {
            tokio::fs::create_dir_all(&self.cache).await.map_err(|e| {
                self.error(format!(
                    "cannot create the cache {}: {e}",
                    self.cache.display()
                ))
            })?;
            self.git(&["init", "-q"]).await?;
            self.git(&["remote", "add", "origin", &self.url]).await?;
        }
        let reference = self.reference.clone().unwrap_or_else(|| "HEAD".to_owned());
        self.git(&[
            "fetch", "-q", "--depth", "1", "--force", "origin", &reference,
        ])
        .await?;
        let commit = self.git(&["rev-parse", "FETCH_HEAD"]).await?;
        self.git(&["checkout", "-q", "--force", "--detach", &commit])
            .await?;
        self.git(&["clean", "-q", "-d", "-f", "-x"]).await?;
        let root = self.cache.clone();
        let files = tokio::task::spawn_blocking(move || read_paths(std::slice::from_ref(&root)))
            .await
            .map_err(|e| self.error(e.to_string()))??;
        // Name files by their path in the repository, as the user knows them.
        let prefix = format!("{}/", self.cache.display());
        let files = files
            .into_iter()
            .map(|mut f| {
                f.name = f
                    .name
                    .strip_prefix(&prefix)
                    .map(str::to_owned)
                    .unwrap_or(f.name);
                f
            })
            .collect();
        Ok(Snapshot {
            revision: commit,
            files,
        })
    }

    fn describe(&self) -> String {
        let reference = self
            .reference
            .as_deref()
            .map(|r| format!("#{r}"))
            .unwrap_or_default();
        format!("git+{}{reference}", redact(&self.url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_into_url_and_ref() {
        let root = Path::new("/tmp");
        let s = GitSource::new("git+https://example.com/m.git#release", root).expect("git");
        assert_eq!(
            (s.url.as_str(), s.reference.as_deref()),
            ("https://example.com/m.git", Some("release"))
        );
        let s = GitSource::new("git+file:///srv/m.git", root).expect("git");
        assert_eq!(s.reference, None);
        assert!(GitSource::new("git+", root).is_none());
        assert!(GitSource::new("s3://b", root).is_none());
    }

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            redact("fatal: could not read from https://bot:s3cret@git.example.com/m.git (x)"),
            "fatal: could not read from https://***@git.example.com/m.git (x)"
        );
        assert_eq!(
            redact("https://git.example.com/m.git"),
            "https://git.example.com/m.git"
        );
        let s = GitSource::new(
            "git+https://bot:s3cret@git.example.com/m.git",
            Path::new("/tmp"),
        )
        .expect("git");
        assert!(!s.describe().contains("s3cret"), "{}", s.describe());
    }
}
