//! [`EcsApi`] over the aws-sdk-ecs client.

use aws_sdk_ecs::types as sdk;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::{
    ClusterStatus, NativeDeployment, ServiceDeploymentStatus, ServiceId, ServiceState,
    ServiceStatus, Tags, TaskDefinitionState,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use ecsd_model::service::HookAction;

use crate::error::{AwsError, failed};
use crate::task_definition;

use super::convert::{sdk_tags, tags_of};
use super::deployment::*;
use super::service::{self, service_state};
use super::*;
use crate::int::u32_of;

/// Calls that are not idempotent (a retry after a lost answer would register a second
/// revision or service) get one attempt; the controller retries them only after
/// observing whether the first attempt took effect.
fn single_attempt() -> aws_sdk_ecs::config::Builder {
    aws_sdk_ecs::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

/// DescribeClusters accepts at most 100 clusters per call.
const DESCRIBE_CLUSTERS_BATCH: usize = 100;
/// DescribeServices accepts at most 10 services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeServices calls in flight at once (the pacer keeps them to AWS's rate).
const DESCRIBE_SERVICES_AT_ONCE: usize = 16;
/// ListServiceDeployments returns at most 100 per page.
const SERVICE_DEPLOYMENTS_PAGE: i32 = 100;

impl SdkEcs {
    /// One DescribeServices call: the services of `batch` that are not INACTIVE.
    async fn describe_batch(
        &self,
        cluster: &str,
        batch: &[String],
    ) -> Result<Vec<ServiceState>, AwsError> {
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .set_services(Some(batch.to_vec()))
            .include(sdk::ServiceField::Tags)
            .send()
            .await
            .map_err(failed("ECS", "DescribeServices"))?;
        Ok(out
            .services()
            .iter()
            .map(service_state)
            .filter(|s| s.status != ServiceStatus::Inactive)
            .collect())
    }
}

impl SdkEcs {
    /// The service deployments of `id` that ListServiceDeployments gives for these
    /// filters, page after page: a page may hold fewer than maxResults (none, even)
    /// with more to come. Stops early once a page holds one that `enough` accepts.
    async fn service_deployments(
        &self,
        id: &ServiceId,
        status: Option<Vec<sdk::ServiceDeploymentStatus>>,
        created_after: Option<aws_smithy_types::DateTime>,
        enough: impl Fn(&sdk::ServiceDeploymentBrief) -> bool,
    ) -> Result<Vec<sdk::ServiceDeploymentBrief>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_service_deployments()
                .cluster(&id.cluster)
                .service(&id.name)
                .set_status(status.clone())
                .set_created_at(created_after.map(|t| sdk::CreatedAt::builder().after(t).build()))
                .max_results(SERVICE_DEPLOYMENTS_PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(failed("ECS", "ListServiceDeployments"))?;
            let found = page.service_deployments().iter().any(&enough);
            out.extend(page.service_deployments().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() && !found => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }
}

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
                .map_err(failed("ECS", "DescribeClusters"))?;
            lookup.found.extend(out.clusters().iter().map(|c| Cluster {
                name: c.cluster_name().unwrap_or_default().to_owned(),
                arn: c.cluster_arn().unwrap_or_default().to_owned(),
                status: ClusterStatus::parse(c.status().unwrap_or_default()),
            }));
            lookup.missing.extend(
                out.failures()
                    .iter()
                    .filter_map(|f| f.arn().map(|a| cluster_name(a).to_owned())),
            );
        }
        // An INACTIVE (deleted) cluster is as good as missing.
        let (active, inactive): (Vec<Cluster>, Vec<Cluster>) = lookup
            .found
            .into_iter()
            .partition(|c| c.status != ClusterStatus::Inactive);
        lookup.found = active;
        lookup.missing.extend(inactive.into_iter().map(|c| c.name));
        Ok(lookup)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<ServiceState>, AwsError> {
        // Several batches at once (each is a round trip to AWS), each answer turned into
        // ecsd's types as it comes: a fleet's raw answers (with each service's last 100
        // events) are never all held at the same time.
        let batches: Vec<&[String]> = names.chunks(DESCRIBE_SERVICES_BATCH).collect();
        let mut next = 0;
        let mut running = FuturesUnordered::new();
        let mut found = Vec::new();
        loop {
            while running.len() < DESCRIBE_SERVICES_AT_ONCE && next < batches.len() {
                running.push(self.describe_batch(cluster, batches[next]));
                next += 1;
            }
            match running.next().await {
                Some(services) => found.extend(services?),
                None => break,
            }
        }
        Ok(found)
    }

    async fn list_clusters(&self) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self.client.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ECS", "ListClusters"))?;
            names.extend(
                page.cluster_arns()
                    .iter()
                    .map(|a| cluster_name(a).to_owned()),
            );
        }
        Ok(names)
    }

    async fn list_services(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self
            .client
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ECS", "ListServices"))?;
            names.extend(
                page.service_arns()
                    .iter()
                    .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned()),
            );
        }
        Ok(names)
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionState, AwsError> {
        let out = self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(failed("ECS", "DescribeTaskDefinition"))?;
        let td = out
            .task_definition()
            .ok_or_else(|| AwsError::missing("ECS", "DescribeTaskDefinition", "taskDefinition"))?;
        Ok(TaskDefinitionState {
            arn: td.task_definition_arn().unwrap_or(arn).to_owned(),
            family: td.family().unwrap_or_default().to_owned(),
            revision: u32_of(td.revision()),
            definition: task_definition::from_sdk(td),
            unmodeled: task_definition::unmodeled(td),
        })
    }

    async fn latest_task_definition(
        &self,
        family: &str,
    ) -> Result<Option<TaskDefinitionState>, AwsError> {
        let out = self
            .client
            .list_task_definitions()
            .family_prefix(family)
            .status(sdk::TaskDefinitionStatus::Active)
            .sort(sdk::SortOrder::Desc)
            .max_results(10)
            .send()
            .await
            .map_err(failed("ECS", "ListTaskDefinitions"))?;
        // The filter may match by prefix: keep the exact family, and take its highest
        // revision rather than trusting the order (moto ignores `sort` and answers
        // oldest first, which made a retry register a duplicate of a lost revision).
        let exact = out
            .task_definition_arns()
            .iter()
            .filter_map(|a| {
                let (f, revision) = a
                    .rsplit_once(":task-definition/")
                    .and_then(|(_, r)| r.rsplit_once(':'))?;
                (f == family).then_some((revision.parse::<u64>().ok()?, a))
            })
            .max_by_key(|(revision, _)| *revision)
            .map(|(_, a)| a);
        match exact {
            Some(arn) => Ok(Some(self.describe_task_definition(arn).await?)),
            None => Ok(None),
        }
    }

    async fn register_task_definition(
        &self,
        definition: &ecsd_model::service::TaskDefinition,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let out = self
            .client
            .register_task_definition()
            .family(definition.family.clone().unwrap_or_default())
            .requires_compatibilities(sdk::Compatibility::Fargate)
            .network_mode(sdk::NetworkMode::Awsvpc)
            .cpu(definition.cpu.to_string())
            .memory(definition.memory.to_string())
            .set_execution_role_arn(definition.execution_role_arn.clone())
            .set_task_role_arn(definition.task_role_arn.clone())
            .set_container_definitions(Some(task_definition::to_sdk(definition)?))
            .set_tags(Some(sdk_tags(tags)))
            .customize()
            .config_override(single_attempt())
            .send()
            .await
            .map_err(failed("ECS", "RegisterTaskDefinition"))?;
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(str::to_owned)
            .ok_or_else(|| AwsError::missing("ECS", "RegisterTaskDefinition", "taskDefinitionArn"))
    }

    async fn create_service(&self, input: &CreateService) -> Result<ServiceState, AwsError> {
        let out = service::create(self.client.create_service(), input)?
            .customize()
            .config_override(single_attempt())
            .send()
            .await
            .map_err(failed("ECS", "CreateService"))?;
        out.service()
            .map(service_state)
            .ok_or_else(|| AwsError::missing("ECS", "CreateService", "service"))
    }

    async fn update_service(&self, input: &UpdateService) -> Result<ServiceState, AwsError> {
        let out = service::update(self.client.update_service(), input)?
            .send()
            .await
            .map_err(failed("ECS", "UpdateService"))?;
        out.service()
            .map(service_state)
            .ok_or_else(|| AwsError::missing("ECS", "UpdateService", "service"))
    }

    async fn delete_service(&self, id: &ServiceId) -> Result<(), AwsError> {
        self.client
            .delete_service()
            .cluster(&id.cluster)
            .service(&id.name)
            .force(true)
            .send()
            .await
            .map_err(failed("ECS", "DeleteService"))?;
        Ok(())
    }

    async fn rolled_back_deployment(
        &self,
        id: &ServiceId,
    ) -> Result<Option<RollbackFound>, AwsError> {
        // The newest rollback counts only if no deployment was created after it.
        let rollback_statuses = [
            sdk::ServiceDeploymentStatus::RollbackRequested,
            sdk::ServiceDeploymentStatus::RollbackInProgress,
            sdk::ServiceDeploymentStatus::RollbackSuccessful,
            sdk::ServiceDeploymentStatus::RollbackFailed,
        ];
        let rollbacks = self
            .service_deployments(id, Some(rollback_statuses.to_vec()), None, |_| false)
            .await?;
        let Some(rolled) = rollbacks
            .into_iter()
            .max_by_key(|d| d.created_at().map(|t| (t.secs(), t.subsec_nanos())))
        else {
            return Ok(None);
        };
        if let Some(created) = rolled.created_at() {
            let later = |d: &sdk::ServiceDeploymentBrief| {
                d.service_deployment_arn() != rolled.service_deployment_arn()
                    && d.created_at() > Some(created)
            };
            let after = self
                .service_deployments(id, None, Some(*created), later)
                .await?;
            if after.iter().any(later) {
                return Ok(None);
            }
        }
        let Some(revision) = rolled.target_service_revision_arn() else {
            return Ok(None);
        };
        let revisions = self
            .client
            .describe_service_revisions()
            .service_revision_arns(revision)
            .send()
            .await
            .map_err(failed("ECS", "DescribeServiceRevisions"))?;
        let Some(td) = revisions
            .service_revisions()
            .first()
            .and_then(|r| r.task_definition())
        else {
            return Ok(None);
        };
        Ok(Some(RollbackFound {
            deployment_arn: rolled
                .service_deployment_arn()
                .unwrap_or_default()
                .to_owned(),
            status: ServiceDeploymentStatus::parse(
                rolled.status().map(|s| s.as_str()).unwrap_or_default(),
            ),
            reason: rolled
                .status_reason()
                .unwrap_or("no reason given")
                .to_owned(),
            task_definition_arn: td.to_owned(),
        }))
    }

    async fn current_deployment(
        &self,
        id: &ServiceId,
    ) -> Result<Option<NativeDeployment>, AwsError> {
        // At most a few are unfinished at once (a new deployment stops the old one).
        let in_flight = ServiceDeploymentStatus::IN_FLIGHT
            .iter()
            .map(|s| sdk::ServiceDeploymentStatus::from(s.as_str()))
            .collect();
        let unfinished = self
            .service_deployments(id, Some(in_flight), None, |_| false)
            .await?;
        let Some(newest) = unfinished
            .iter()
            .max_by_key(|d| d.created_at().map(|t| (t.secs(), t.subsec_nanos())))
            .and_then(|d| d.service_deployment_arn())
        else {
            return Ok(None);
        };
        let out = self
            .client
            .describe_service_deployments()
            .service_deployment_arns(newest)
            .send()
            .await
            .map_err(failed("ECS", "DescribeServiceDeployments"))?;
        Ok(out.service_deployments().first().map(native_deployment))
    }

    async fn continue_deployment(
        &self,
        deployment_arn: &str,
        hook_id: &str,
        action: HookAction,
    ) -> Result<(), AwsError> {
        self.client
            .continue_service_deployment()
            .service_deployment_arn(deployment_arn)
            .hook_id(hook_id)
            .action(sdk::DeploymentLifecycleHookAction::from(action.ecs_name()))
            .send()
            .await
            .map_err(failed("ECS", "ContinueServiceDeployment"))?;
        Ok(())
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(failed("ECS", "ListTagsForResource"))?;
        Ok(tags_of(out.tags()))
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(failed("ECS", "TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(failed("ECS", "UntagResource"))?;
        Ok(())
    }
}
