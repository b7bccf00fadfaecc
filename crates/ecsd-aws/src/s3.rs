//! Amazon S3 for the S3 manifest source: [`ecsd_source::ObjectStore`] over the SDK.

use aws_sdk_s3 as s3;
use ecsd_source::{ObjectMeta, ObjectStore, StoreError};

use crate::config::sdk_client;
use crate::error::AwsError;

sdk_client!(
    /// [`ObjectStore`] over the aws-sdk-s3 client (path-style addressing, so a local
    /// endpoint works without wildcard DNS).
    SdkS3,
    s3, force_path_style(true)
);

impl ObjectStore for SdkS3 {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| StoreError::new(AwsError::from_sdk("S3", "ListObjectsV2", e)))?;
            out.extend(page.contents().iter().filter_map(|o| {
                Some(ObjectMeta {
                    key: o.key()?.to_owned(),
                    etag: o.e_tag().unwrap_or_default().to_owned(),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                })
            }));
        }
        Ok(out)
    }

    async fn get(&self, bucket: &str, key: &str, limit: u64) -> Result<Vec<u8>, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes=0-{}", limit.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| StoreError::new(AwsError::from_sdk("S3", "GetObject", e)))?;
        let body =
            out.body.collect().await.map_err(|e| {
                StoreError::new(format!("S3 GetObject {key}: reading the body: {e}"))
            })?;
        Ok(body.into_bytes().to_vec())
    }
}
