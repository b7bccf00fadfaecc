//! In-memory implementations of the AWS traits, for unit tests of the code above them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::ecs::{Cluster, ClusterLookup, EcsApi, cluster_name};
use crate::error::AwsError;

/// An in-memory ECS account.
#[derive(Debug, Default)]
pub struct FakeEcs {
    clusters: Mutex<BTreeMap<String, Cluster>>,
}

impl FakeEcs {
    /// Adds an ACTIVE cluster.
    pub fn add_cluster(&self, name: &str) {
        let cluster = Cluster {
            name: name.to_owned(),
            arn: format!("arn:aws:ecs:us-east-1:123456789012:cluster/{name}"),
            status: "ACTIVE".to_owned(),
        };
        self.lock().insert(name.to_owned(), cluster);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Cluster>> {
        // A panic in another test thread must not hide this test's result.
        self.clusters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl EcsApi for FakeEcs {
    async fn describe_clusters(&self, clusters: &[String]) -> Result<ClusterLookup, AwsError> {
        let known = self.lock();
        let mut lookup = ClusterLookup::default();
        for c in clusters {
            let name = cluster_name(c);
            match known.get(name) {
                Some(found) => lookup.found.push(found.clone()),
                None => lookup.missing.push(name.to_owned()),
            }
        }
        Ok(lookup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_ecs_reports_found_and_missing_clusters() {
        let ecs = FakeEcs::default();
        ecs.add_cluster("prod");
        let lookup = ecs
            .describe_clusters(&[
                "prod".to_owned(),
                "arn:aws:ecs:us-east-1:123456789012:cluster/gone".to_owned(),
            ])
            .await
            .expect("lookup");
        assert_eq!(lookup.found.len(), 1);
        assert_eq!(lookup.found[0].status, "ACTIVE");
        assert_eq!(lookup.missing, vec!["gone".to_owned()]);
    }
}
