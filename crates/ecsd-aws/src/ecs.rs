//! Amazon ECS: the [`EcsApi`] trait and its SDK implementation.

use std::future::Future;

use crate::config::AwsConfig;
use crate::error::AwsError;

/// An ECS cluster as ecsd sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    /// `ACTIVE`, `PROVISIONING`, `INACTIVE`, ...
    pub status: String,
}

/// The result of looking clusters up: those found, and the names AWS did not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterLookup {
    pub found: Vec<Cluster>,
    pub missing: Vec<String>,
}

/// The ECS calls ecsd makes.
pub trait EcsApi: Send + Sync {
    /// Looks up clusters by name or ARN, at most 100 per call (the AWS limit); more are
    /// split into several calls.
    fn describe_clusters(
        &self,
        clusters: &[String],
    ) -> impl Future<Output = Result<ClusterLookup, AwsError>> + Send;
}

/// [`EcsApi`] over the aws-sdk-ecs client.
#[derive(Debug, Clone)]
pub struct SdkEcs {
    client: aws_sdk_ecs::Client,
}

impl SdkEcs {
    /// A client from the shared configuration.
    pub fn new(config: &AwsConfig) -> Self {
        SdkEcs {
            client: aws_sdk_ecs::Client::new(&config.sdk),
        }
    }
}

/// DescribeClusters accepts at most 100 clusters per call.
const DESCRIBE_CLUSTERS_BATCH: usize = 100;

impl EcsApi for SdkEcs {
    async fn describe_clusters(&self, clusters: &[String]) -> Result<ClusterLookup, AwsError> {
        let mut lookup = ClusterLookup::default();
        for batch in clusters.chunks(DESCRIBE_CLUSTERS_BATCH) {
            let out = self
                .client
                .describe_clusters()
                .set_clusters(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ECS", "DescribeClusters", e))?;
            lookup.found.extend(out.clusters().iter().map(|c| Cluster {
                name: c.cluster_name().unwrap_or_default().to_owned(),
                arn: c.cluster_arn().unwrap_or_default().to_owned(),
                status: c.status().unwrap_or_default().to_owned(),
            }));
            lookup.missing.extend(
                out.failures()
                    .iter()
                    .filter_map(|f| f.arn().map(|a| cluster_name(a).to_owned())),
            );
        }
        Ok(lookup)
    }
}

/// The name in a cluster ARN (`arn:...:cluster/NAME`), or the input if it is a name.
pub(crate) fn cluster_name(arn_or_name: &str) -> &str {
    arn_or_name
        .rsplit_once("cluster/")
        .map_or(arn_or_name, |(_, n)| n)
}
