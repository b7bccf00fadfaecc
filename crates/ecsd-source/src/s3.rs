//! An S3 prefix as a source: one listing per fetch, and a download only for objects
//! whose ETag changed since the last fetch. The revision is a digest of the (key, ETag)
//! pairs. The S3 calls sit behind [`ObjectStore`] (implemented over the AWS SDK in
//! `ecsd-aws`), so this crate needs no SDK.

use std::collections::BTreeMap;
use std::future::Future;

use ecsd_model::{MAX_FILE_BYTES, SourceFile};
use sha2::{Digest, Sha256};

use crate::snapshot::{ManifestSource, Snapshot};
use crate::{MAX_FILES, MAX_TOTAL_BYTES, SourceError};

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub etag: String,
    pub size: u64,
}

/// An object store call that failed, with the store's own error as its source (for the
/// SDK store, the `AwsError` with its code).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps the store's error (or a message).
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(e.into())
    }
}

/// The object store calls an S3 source makes.
pub trait ObjectStore: Send + Sync + 'static {
    /// Every object under `prefix` of `bucket` (all pages).
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ObjectMeta>, StoreError>> + Send;
    /// The first `limit` bytes of an object.
    fn get(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
}

/// `s3://BUCKET/PREFIX`.
#[derive(Debug)]
pub struct S3Source<O> {
    store: O,
    bucket: String,
    prefix: String,
    /// Key -> (ETag, bytes) of the last fetch.
    cache: BTreeMap<String, (String, Vec<u8>)>,
}

impl<O: ObjectStore> S3Source<O> {
    /// A source for `url` (`s3://BUCKET/PREFIX`); `None` if it is not such a URL.
    pub fn new(store: O, url: &str) -> Option<Self> {
        let (bucket, prefix) = location(url)?;
        Some(S3Source {
            store,
            bucket,
            prefix,
            cache: BTreeMap::new(),
        })
    }
}

/// The bucket and key prefix of `s3://BUCKET/PREFIX`; `None` if it is not such a URL.
pub fn location(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.to_owned()))
}

fn is_manifest_key(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

impl<O: ObjectStore> ManifestSource for S3Source<O> {
    async fn fetch(&mut self) -> Result<Snapshot, SourceError> {
        let url = self.describe();
        let remote = |message: String| SourceError::Remote {
            source_url: url.clone(),
            message,
        };
        let store = |source: StoreError| SourceError::Store {
            source_url: url.clone(),
            source,
        };
        let mut listing = self
            .store
            .list(&self.bucket, &self.prefix)
            .await
            .map_err(store)?;
        listing.retain(|o| is_manifest_key(&o.key));
        listing.sort_by(|a, b| a.key.cmp(&b.key));
        if listing.len() > MAX_FILES {
            return Err(remote(format!("more than {MAX_FILES} manifest objects")));
        }
        let total: u64 = listing.iter().map(|o| o.size.min(MAX_FILE_BYTES + 1)).sum();
        if total > MAX_TOTAL_BYTES {
            return Err(remote(format!(
                "manifests add up to more than {MAX_TOTAL_BYTES} bytes"
            )));
        }
        let mut next = BTreeMap::new();
        for o in &listing {
            let bytes = match self.cache.remove(&o.key) {
                Some((etag, bytes)) if etag == o.etag => bytes,
                _ => self
                    .store
                    .get(&self.bucket, &o.key, MAX_FILE_BYTES + 1)
                    .await
                    .map_err(store)?,
            };
            next.insert(o.key.clone(), (o.etag.clone(), bytes));
        }
        let mut h = Sha256::new();
        for (key, (etag, _)) in &next {
            h.update(key.as_bytes());
            h.update([0]);
            h.update(etag.as_bytes());
            h.update([0]);
        }
        let revision: String = h
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let files = next
            .iter()
            .map(|(key, (_, bytes))| SourceFile {
                name: format!("s3://{}/{key}", self.bucket),
                bytes: bytes.clone(),
            })
            .collect();
        self.cache = next;
        Ok(Snapshot { revision, files })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Key -> (ETag, body).
    type Objects = BTreeMap<String, (String, Vec<u8>)>;

    #[derive(Clone, Default)]
    struct Fake {
        objects: Arc<Mutex<Objects>>,
        gets: Arc<Mutex<Vec<String>>>,
        fail: Arc<Mutex<bool>>,
    }

    impl ObjectStore for Fake {
        async fn list(&self, _bucket: &str, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
            if *self
                .fail
                .lock()
                .map_err(|e| StoreError::new(e.to_string()))?
            {
                return Err(StoreError::new("NoSuchBucket: the bucket does not exist"));
            }
            let objects = self
                .objects
                .lock()
                .map_err(|e| StoreError::new(e.to_string()))?;
            Ok(objects
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, (etag, b))| ObjectMeta {
                    key: k.clone(),
                    etag: etag.clone(),
                    size: b.len() as u64,
                })
                .collect())
        }

        async fn get(&self, _bucket: &str, key: &str, _limit: u64) -> Result<Vec<u8>, StoreError> {
            self.gets
                .lock()
                .map_err(|e| StoreError::new(e.to_string()))?
                .push(key.to_owned());
            let objects = self
                .objects
                .lock()
                .map_err(|e| StoreError::new(e.to_string()))?;
            objects
                .get(key)
                .map(|(_, b)| b.clone())
                .ok_or_else(|| StoreError::new("NoSuchKey"))
        }
    }

    impl Fake {
        fn put(&self, key: &str, etag: &str, body: &str) {
            if let Ok(mut o) = self.objects.lock() {
                o.insert(key.to_owned(), (etag.to_owned(), body.as_bytes().to_vec()));
            }
        }

        fn gets(&self) -> Vec<String> {
            self.gets.lock().map(|g| g.clone()).unwrap_or_default()
        }
    }

    #[tokio::test]
    async fn only_changed_objects_are_downloaded_and_the_revision_follows_the_etags() {
        let store = Fake::default();
        store.put("prod/a.yaml", "e1", "a: 1");
        store.put("prod/b.yml", "e2", "b: 1");
        store.put("prod/readme.md", "e3", "ignored");
        store.put("other/c.yaml", "e4", "not under the prefix");
        let mut source = S3Source::new(store.clone(), "s3://bucket/prod/").expect("url");
        let first = source.fetch().await.expect("fetch");
        assert_eq!(first.files.len(), 2);
        assert_eq!(first.files[0].name, "s3://bucket/prod/a.yaml");
        assert_eq!(store.gets(), vec!["prod/a.yaml", "prod/b.yml"]);
        let again = source.fetch().await.expect("fetch");
        assert_eq!(again.revision, first.revision);
        assert_eq!(store.gets().len(), 2, "nothing changed: nothing downloaded");
        store.put("prod/b.yml", "e5", "b: 2");
        let changed = source.fetch().await.expect("fetch");
        assert_ne!(changed.revision, first.revision);
        assert_eq!(
            store.gets(),
            vec!["prod/a.yaml", "prod/b.yml", "prod/b.yml"]
        );
        assert_eq!(changed.files[1].bytes, b"b: 2");
    }

    #[tokio::test]
    async fn an_unreadable_bucket_is_an_error_not_an_empty_source() {
        let store = Fake::default();
        store.put("a.yaml", "e1", "a: 1");
        let mut source = S3Source::new(store.clone(), "s3://bucket").expect("url");
        source.fetch().await.expect("fetch");
        if let Ok(mut f) = store.fail.lock() {
            *f = true;
        }
        let err = source.fetch().await.expect_err("unreadable");
        assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    }

    #[test]
    fn urls_name_a_bucket() {
        assert!(S3Source::new(Fake::default(), "s3://").is_none());
        assert!(S3Source::new(Fake::default(), "file:///x").is_none());
        let s = S3Source::new(Fake::default(), "s3://b/p/q").expect("url");
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("b", "p/q"));
    }
}
