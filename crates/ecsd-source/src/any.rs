//! The source `--source` names, parsed once: `git+URL[#REF]`, `s3://BUCKET/PREFIX` or
//! a local path. [`AnySource`] is itself a [`ManifestSource`], so the commands and the
//! controller's feed use it without asking which kind it is.

use std::path::{Path, PathBuf};

use crate::SourceError;
use crate::dir::DirSource;
use crate::git::{GitSource, redact};
use crate::s3::{ObjectStore, S3Source};
use crate::snapshot::{ManifestSource, Snapshot};

/// A `--source` that names no source ecsd can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceUrlError {
    /// Credentials in the URL are redacted.
    #[error("{0}: not a git source of the form git+URL[#REF]")]
    Git(String),
    #[error("{0}: not an S3 URL of the form s3://BUCKET/PREFIX")]
    S3(String),
}

/// One of the sources, chosen by the URL's form.
#[derive(Debug)]
pub enum AnySource<O> {
    Dir(DirSource),
    S3(S3Source<O>),
    Git(GitSource),
}

impl<O: ObjectStore> AnySource<O> {
    /// The source `url` names: `git+` is a git repository (cloned under `cache_root`),
    /// `s3://` an S3 prefix (read through the store `store` makes), anything else a
    /// local path.
    pub fn open(
        url: &str,
        cache_root: &Path,
        store: impl FnOnce() -> O,
    ) -> Result<Self, SourceUrlError> {
        if url.starts_with("git+") {
            return GitSource::new(url, cache_root)
                .map(AnySource::Git)
                .ok_or_else(|| SourceUrlError::Git(redact(url)));
        }
        if url.starts_with("s3://") {
            return S3Source::new(store(), url)
                .map(AnySource::S3)
                .ok_or_else(|| SourceUrlError::S3(url.to_owned()));
        }
        Ok(AnySource::Dir(DirSource::new(url)))
    }
}

impl<O: ObjectStore> ManifestSource for AnySource<O> {
    async fn fetch(&mut self) -> Result<Snapshot, SourceError> {
        match self {
            AnySource::Dir(s) => s.fetch().await,
            AnySource::S3(s) => s.fetch().await,
            AnySource::Git(s) => s.fetch().await,
        }
    }

    fn describe(&self) -> String {
        match self {
            AnySource::Dir(s) => s.describe(),
            AnySource::S3(s) => s.describe(),
            AnySource::Git(s) => s.describe(),
        }
    }

    fn watch_path(&self) -> Option<PathBuf> {
        match self {
            AnySource::Dir(s) => s.watch_path(),
            AnySource::S3(s) => s.watch_path(),
            AnySource::Git(s) => s.watch_path(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::{ObjectMeta, StoreError};

    struct NoStore;

    impl ObjectStore for NoStore {
        async fn list(&self, _: &str, _: &str) -> Result<Vec<ObjectMeta>, StoreError> {
            Err(StoreError::new("unused"))
        }
        async fn get(&self, _: &str, _: &str, _: u64) -> Result<Vec<u8>, StoreError> {
            Err(StoreError::new("unused"))
        }
    }

    fn open(url: &str) -> Result<AnySource<NoStore>, SourceUrlError> {
        AnySource::open(url, Path::new("/tmp"), || NoStore)
    }

    #[test]
    fn the_url_form_chooses_the_source_once() {
        assert!(matches!(
            open("git+https://example.com/r.git#main"),
            Ok(AnySource::Git(_))
        ));
        assert!(matches!(open("s3://bucket/prod/"), Ok(AnySource::S3(_))));
        assert!(matches!(open("manifests/"), Ok(AnySource::Dir(_))));
        assert_eq!(
            open("s3:///prefix").err().map(|e| e.to_string()),
            Some("s3:///prefix: not an S3 URL of the form s3://BUCKET/PREFIX".to_owned())
        );
        assert_eq!(
            open("git+#main").err().map(|e| e.to_string()),
            Some("git+#main: not a git source of the form git+URL[#REF]".to_owned())
        );
    }
}
