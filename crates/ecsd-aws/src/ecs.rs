//! Amazon ECS: the [`EcsApi`] trait and its SDK implementation. AWS's status strings
//! become `ecsd_plan::state` enums here, at the boundary.

use std::future::Future;

use aws_sdk_ecs::types as sdk;
use ecsd_plan::ops::DeploymentInput;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::{
    AdvancedConfigState, AwsVpc, DeploymentConfigurationState, DeploymentController,
    DeploymentState, DeploymentStatus, HookDetail, HookStatus, NativeDeployment, RolloutState,
    ServiceDeploymentStatus, ServiceId, ServiceLoadBalancer, ServiceState, ServiceStatus,
    StabilityStatus, Tags, TaskDefinitionState, TaskSetState, TaskSetStatus,
};
use futures_util::future::try_join_all;

use aws_smithy_types::Document;
use ecsd_model::service::{
    Canary, CircuitBreaker, HookAction, HookKind, HookStage, LifecycleHook, Linear,
};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};
use crate::task_definition;

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

/// A service's registration with a target group, the target group resolved to its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedLoadBalancer {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u16,
    /// Native blue/green settings, every reference resolved.
    pub advanced: Option<AdvancedConfigState>,
}

/// A service to create, with every reference resolved to an ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateService {
    pub id: ServiceId,
    pub deployment_controller: DeploymentController,
    pub task_definition_arn: String,
    pub desired_count: u32,
    pub network: AwsVpc,
    pub load_balancers: Vec<ResolvedLoadBalancer>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment: DeploymentInput,
    pub tags: Tags,
}

/// Changes to a service, with every reference resolved to an ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateService {
    pub id: ServiceId,
    pub task_definition_arn: Option<String>,
    pub desired_count: Option<u32>,
    pub network: Option<AwsVpc>,
    pub load_balancers: Option<Vec<ResolvedLoadBalancer>>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment: Option<DeploymentInput>,
}

impl UpdateService {
    /// An update that changes nothing yet.
    pub fn of(id: ServiceId) -> Self {
        UpdateService {
            id,
            task_definition_arn: None,
            desired_count: None,
            network: None,
            load_balancers: None,
            health_check_grace_period_seconds: None,
            deployment: None,
        }
    }
}

/// The newest service deployment that ECS rolled back, when no deployment followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackFound {
    pub deployment_arn: String,
    pub status: ServiceDeploymentStatus,
    pub reason: String,
    /// The task definition the rolled-back deployment tried to deploy.
    pub task_definition_arn: String,
}

/// The ECS calls ecsd makes.
pub trait EcsApi: Send + Sync {
    /// Looks up clusters by name or ARN (100 per call).
    fn describe_clusters(
        &self,
        clusters: &[String],
    ) -> impl Future<Output = Result<ClusterLookup, AwsError>> + Send;
    /// Describes services of one cluster with their tags (10 per call); missing and
    /// INACTIVE services are left out, DRAINING ones are kept.
    fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<ServiceState>, AwsError>> + Send;
    /// The names of every cluster of the account and region.
    fn list_clusters(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The names of every ACTIVE service in a cluster (ListServices omits DRAINING ones).
    fn list_services(
        &self,
        cluster: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// One task definition revision, in the manifest's form.
    fn describe_task_definition(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<TaskDefinitionState, AwsError>> + Send;
    /// The newest ACTIVE revision of a family, if any (ListTaskDefinitions, then
    /// DescribeTaskDefinition).
    fn latest_task_definition(
        &self,
        family: &str,
    ) -> impl Future<Output = Result<Option<TaskDefinitionState>, AwsError>> + Send;
    /// Registers a Fargate task definition; returns its ARN.
    fn register_task_definition(
        &self,
        definition: &ecsd_model::service::TaskDefinition,
        tags: &Tags,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    fn create_service(
        &self,
        input: &CreateService,
    ) -> impl Future<Output = Result<ServiceState, AwsError>> + Send;
    fn update_service(
        &self,
        input: &UpdateService,
    ) -> impl Future<Output = Result<ServiceState, AwsError>> + Send;
    /// Deletes a service (forced: it need not be scaled to zero first). AWS keeps it
    /// DRAINING until its tasks have stopped.
    fn delete_service(&self, id: &ServiceId) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The newest rolled-back deployment of a service, if nothing was deployed after it
    /// (ListServiceDeployments, DescribeServiceRevisions).
    fn rolled_back_deployment(
        &self,
        id: &ServiceId,
    ) -> impl Future<Output = Result<Option<RollbackFound>, AwsError>> + Send;
    /// The newest unfinished deployment of a service (ListServiceDeployments with the
    /// statuses of one in flight, then DescribeServiceDeployments), if any.
    fn current_deployment(
        &self,
        id: &ServiceId,
    ) -> impl Future<Output = Result<Option<NativeDeployment>, AwsError>> + Send;
    /// Continues (or rolls back) a deployment paused at a PAUSE hook.
    fn continue_deployment(
        &self,
        deployment_arn: &str,
        hook_id: &str,
        action: HookAction,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The tags of an ECS resource (a task definition revision, a service).
    fn list_tags(&self, arn: &str) -> impl Future<Output = Result<Tags, AwsError>> + Send;
    fn tag_resource(
        &self,
        arn: &str,
        tags: &Tags,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn untag_resource(
        &self,
        arn: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

sdk_client!(
    /// [`EcsApi`] over the aws-sdk-ecs client.
    SdkEcs,
    aws_sdk_ecs
);

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
/// ListServiceDeployments returns at most 100 per page.
const SERVICE_DEPLOYMENTS_PAGE: i32 = 100;

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn to_u32(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

fn tags_of(tags: &[sdk::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn network(n: &AwsVpc) -> Result<sdk::NetworkConfiguration, AwsError> {
    let vpc = sdk::AwsVpcConfiguration::builder()
        .set_subnets(Some(n.subnets.clone()))
        .set_security_groups(Some(n.security_groups.clone()))
        .assign_public_ip(if n.assign_public_ip {
            sdk::AssignPublicIp::Enabled
        } else {
            sdk::AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| AwsError::invalid("ECS", "AwsVpcConfiguration", e))?;
    Ok(sdk::NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

fn load_balancers(lbs: &[ResolvedLoadBalancer]) -> Vec<sdk::LoadBalancer> {
    lbs.iter()
        .map(|lb| {
            let advanced = lb.advanced.as_ref().map(|a| {
                sdk::AdvancedConfiguration::builder()
                    .alternate_target_group_arn(&a.alternate_target_group_arn)
                    .set_production_listener_rule(a.production_listener_rule.clone())
                    .set_test_listener_rule(a.test_listener_rule.clone())
                    .set_role_arn(a.role_arn.clone())
                    .build()
            });
            sdk::LoadBalancer::builder()
                .target_group_arn(&lb.target_group_arn)
                .container_name(&lb.container_name)
                .container_port(i32::from(lb.container_port))
                .set_advanced_configuration(advanced)
                .build()
        })
        .collect()
}

fn deployment(d: &DeploymentInput) -> sdk::DeploymentConfiguration {
    let mut b = sdk::DeploymentConfiguration::builder()
        .minimum_healthy_percent(to_i32(d.minimum_healthy_percent))
        .maximum_percent(to_i32(d.maximum_percent));
    if let Some(cb) = d.circuit_breaker {
        b = b.deployment_circuit_breaker(
            sdk::DeploymentCircuitBreaker::builder()
                .enable(cb.enable)
                .rollback(cb.rollback)
                .build(),
        );
    }
    if let Some(strategy) = d.strategy {
        b = b
            .strategy(sdk::DeploymentStrategy::from(strategy.ecs_name()))
            .set_lifecycle_hooks(Some(d.lifecycle_hooks.iter().map(hook).collect()));
    }
    if let Some(n) = &d.native {
        b = b.bake_time_in_minutes(to_i32(n.bake_time_minutes));
        if let Some(l) = &n.linear {
            b = b.linear_configuration(
                sdk::LinearConfiguration::builder()
                    .step_percent(l.step_percent)
                    .step_bake_time_in_minutes(to_i32(l.step_bake_time_minutes))
                    .build(),
            );
        }
        if let Some(c) = &n.canary {
            b = b.canary_configuration(
                sdk::CanaryConfiguration::builder()
                    .canary_percent(c.canary_percent)
                    .canary_bake_time_in_minutes(to_i32(c.canary_bake_time_minutes))
                    .build(),
            );
        }
    }
    b.build()
}

fn hook(h: &LifecycleHook) -> sdk::DeploymentLifecycleHook {
    sdk::DeploymentLifecycleHook::builder()
        .target_type(sdk::DeploymentLifecycleHookTargetType::from(
            h.kind.ecs_name(),
        ))
        .set_hook_target_arn(h.function_arn.clone())
        .set_role_arn(h.role_arn.clone())
        .set_lifecycle_stages(Some(
            h.stages
                .iter()
                .map(|s| sdk::DeploymentLifecycleHookStage::from(s.ecs_name()))
                .collect(),
        ))
        .set_hook_details(
            h.details
                .as_ref()
                .map(|d| document(&serde_json::Value::Object(d.clone()))),
        )
        .timeout_configuration(
            sdk::DeploymentLifecycleHookTimeoutConfiguration::builder()
                .timeout_in_minutes(to_i32(h.timeout_minutes))
                .action(sdk::DeploymentLifecycleHookAction::from(
                    h.timeout_action.ecs_name(),
                ))
                .build(),
        )
        .build()
}

/// A lifecycle hook as AWS reports it, in the manifest's form with AWS's defaults
/// filled in (`AWS_LAMBDA`, 1440 minutes, `ROLLBACK`).
fn hook_of(h: &sdk::DeploymentLifecycleHook) -> LifecycleHook {
    let timeout = h.timeout_configuration();
    LifecycleHook {
        kind: match h.target_type().map(|t| t.as_str()) {
            Some("PAUSE") => HookKind::Pause,
            _ => HookKind::Lambda,
        },
        function_arn: h.hook_target_arn().map(str::to_owned),
        role_arn: h.role_arn().map(str::to_owned),
        stages: h
            .lifecycle_stages()
            .iter()
            .filter_map(|s| HookStage::from_ecs(s.as_str()))
            .collect(),
        details: h.hook_details().map(json).and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }),
        timeout_minutes: timeout
            .and_then(|t| t.timeout_in_minutes())
            .map_or(1440, to_u32),
        timeout_action: match timeout.and_then(|t| t.action()).map(|a| a.as_str()) {
            Some("CONTINUE") => HookAction::Continue,
            _ => HookAction::Rollback,
        },
    }
}

/// JSON as a Smithy document (`hookDetails`).
fn document(v: &serde_json::Value) -> Document {
    use aws_smithy_types::Number;
    match v {
        serde_json::Value::Null => Document::Null,
        serde_json::Value::Bool(b) => Document::Bool(*b),
        serde_json::Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap_or_default()),
        }),
        serde_json::Value::String(s) => Document::String(s.clone()),
        serde_json::Value::Array(a) => Document::Array(a.iter().map(document).collect()),
        serde_json::Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), document(v))).collect())
        }
    }
}

/// A Smithy document as JSON.
fn json(d: &Document) -> serde_json::Value {
    use aws_smithy_types::Number;
    match d {
        Document::Null => serde_json::Value::Null,
        Document::Bool(b) => serde_json::Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => serde_json::json!(u),
        Document::Number(Number::NegInt(i)) => serde_json::json!(i),
        Document::Number(Number::Float(f)) => serde_json::json!(f),
        Document::String(s) => serde_json::Value::String(s.clone()),
        Document::Array(a) => serde_json::Value::Array(a.iter().map(json).collect()),
        Document::Object(o) => {
            serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

fn native_deployment(d: &sdk::ServiceDeployment) -> NativeDeployment {
    let target = d.target_service_revision();
    NativeDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_owned(),
        status: ServiceDeploymentStatus::parse(d.status().map(|s| s.as_str()).unwrap_or_default()),
        status_reason: d.status_reason().map(str::to_owned),
        stage: d.lifecycle_stage().map(|s| s.as_str().to_owned()),
        target_revision_arn: target.and_then(|t| t.arn()).map(str::to_owned),
        production_weight: target.and_then(|t| t.requested_production_traffic_weight()),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .map(|h| HookDetail {
                hook_id: h.hook_id().unwrap_or_default().to_owned(),
                target_type: h
                    .target_type()
                    .map_or("AWS_LAMBDA", |t| t.as_str())
                    .to_owned(),
                status: HookStatus::parse(h.status().map(|s| s.as_str()).unwrap_or_default()),
                expires_at: h
                    .expires_at()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                timeout_action: h.timeout_action().map(|a| a.as_str().to_owned()),
            })
            .collect(),
        rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_owned),
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
                status: c.status().unwrap_or_default().to_owned(),
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
            .partition(|c| c.status != "INACTIVE");
        lookup.found = active;
        lookup.missing.extend(inactive.into_iter().map(|c| c.name));
        Ok(lookup)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<ServiceState>, AwsError> {
        // The batches at the same time: each is a round trip to AWS.
        let batches = try_join_all(names.chunks(DESCRIBE_SERVICES_BATCH).map(|batch| {
            self.client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .include(sdk::ServiceField::Tags)
                .send()
        }))
        .await
        .map_err(failed("ECS", "DescribeServices"))?;
        Ok(batches
            .iter()
            .flat_map(|out| out.services().iter().map(service_state))
            .filter(|s| s.status != ServiceStatus::Inactive)
            .collect())
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
            revision: to_u32(td.revision()),
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
        let controller = sdk::DeploymentController::builder()
            .r#type(sdk::DeploymentControllerType::from(
                input.deployment_controller.as_str(),
            ))
            .build()
            .map_err(|e| AwsError::invalid("ECS", "DeploymentController", e))?;
        let out = self
            .client
            .create_service()
            .cluster(&input.id.cluster)
            .service_name(&input.id.name)
            .task_definition(&input.task_definition_arn)
            .desired_count(to_i32(input.desired_count))
            .launch_type(sdk::LaunchType::Fargate)
            .network_configuration(network(&input.network)?)
            .set_load_balancers(Some(load_balancers(&input.load_balancers)))
            .set_health_check_grace_period_seconds(
                input.health_check_grace_period_seconds.map(to_i32),
            )
            .propagate_tags(sdk::PropagateTags::Service)
            .deployment_controller(controller)
            .deployment_configuration(deployment(&input.deployment))
            .set_tags(Some(sdk_tags(&input.tags)))
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
        let mut req = self
            .client
            .update_service()
            .cluster(&input.id.cluster)
            .service(&input.id.name)
            .set_task_definition(input.task_definition_arn.clone())
            .set_desired_count(input.desired_count.map(to_i32))
            .set_health_check_grace_period_seconds(
                input.health_check_grace_period_seconds.map(to_i32),
            );
        if let Some(n) = &input.network {
            req = req.network_configuration(network(n)?);
        }
        if let Some(lbs) = &input.load_balancers {
            req = req.set_load_balancers(Some(load_balancers(lbs)));
        }
        if let Some(d) = &input.deployment {
            req = req.deployment_configuration(deployment(d));
        }
        let out = req.send().await.map_err(failed("ECS", "UpdateService"))?;
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
        // Rollbacks are rare, so all of them fit in a page or two; the newest one counts
        // only if no deployment was created after it.
        let rollback_statuses = [
            sdk::ServiceDeploymentStatus::RollbackRequested,
            sdk::ServiceDeploymentStatus::RollbackInProgress,
            sdk::ServiceDeploymentStatus::RollbackSuccessful,
            sdk::ServiceDeploymentStatus::RollbackFailed,
        ];
        let mut newest: Option<sdk::ServiceDeploymentBrief> = None;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_service_deployments()
                .cluster(&id.cluster)
                .service(&id.name)
                .set_status(Some(rollback_statuses.to_vec()))
                .max_results(SERVICE_DEPLOYMENTS_PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(failed("ECS", "ListServiceDeployments"))?;
            for d in page.service_deployments() {
                if newest
                    .as_ref()
                    .is_none_or(|n| d.created_at() > n.created_at())
                {
                    newest = Some(d.clone());
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        let Some(rolled) = newest else {
            return Ok(None);
        };
        if let Some(created) = rolled.created_at() {
            let later = self
                .client
                .list_service_deployments()
                .cluster(&id.cluster)
                .service(&id.name)
                .created_at(sdk::CreatedAt::builder().after(*created).build())
                .max_results(SERVICE_DEPLOYMENTS_PAGE)
                .send()
                .await
                .map_err(failed("ECS", "ListServiceDeployments"))?;
            let followed = later.service_deployments().iter().any(|d| {
                d.service_deployment_arn() != rolled.service_deployment_arn()
                    && d.created_at() > Some(created)
            });
            if followed {
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
        let page = self
            .client
            .list_service_deployments()
            .cluster(&id.cluster)
            .service(&id.name)
            .set_status(Some(
                ServiceDeploymentStatus::IN_FLIGHT
                    .iter()
                    .map(|s| sdk::ServiceDeploymentStatus::from(s.as_str()))
                    .collect(),
            ))
            .max_results(SERVICE_DEPLOYMENTS_PAGE)
            .send()
            .await
            .map_err(failed("ECS", "ListServiceDeployments"))?;
        let Some(newest) = page
            .service_deployments()
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

fn service_state(s: &sdk::Service) -> ServiceState {
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let dc = s.deployment_configuration();
    let task_sets: Vec<TaskSetState> = s
        .task_sets()
        .iter()
        .map(|t| TaskSetState {
            id: t.id().unwrap_or_default().to_owned(),
            status: TaskSetStatus::parse(t.status().unwrap_or_default()),
            task_definition_arn: t.task_definition().unwrap_or_default().to_owned(),
            computed_desired_count: to_u32(t.computed_desired_count()),
            running_count: to_u32(t.running_count()),
            pending_count: to_u32(t.pending_count()),
            stability_status: StabilityStatus::parse(
                t.stability_status().map(|s| s.as_str()).unwrap_or_default(),
            ),
            external_id: t.external_id().map(str::to_owned),
        })
        .collect();
    // A CODE_DEPLOY service runs the definition of its PRIMARY task set.
    let task_definition_arn = s
        .task_definition()
        .map(str::to_owned)
        .or_else(|| {
            task_sets
                .iter()
                .find(|t| t.status == TaskSetStatus::Primary)
                .map(|t| t.task_definition_arn.clone())
        })
        .unwrap_or_default();
    ServiceState {
        arn: s.service_arn().unwrap_or_default().to_owned(),
        id: ServiceId::new(
            cluster_name(s.cluster_arn().unwrap_or_default()),
            s.service_name().unwrap_or_default(),
        ),
        status: ServiceStatus::parse(s.status().unwrap_or_default()),
        desired_count: to_u32(s.desired_count()),
        running_count: to_u32(s.running_count()),
        pending_count: to_u32(s.pending_count()),
        task_definition_arn,
        network: AwsVpc {
            subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
            security_groups: vpc
                .map(|v| v.security_groups().to_vec())
                .unwrap_or_default(),
            assign_public_ip: vpc.and_then(|v| v.assign_public_ip())
                == Some(&sdk::AssignPublicIp::Enabled),
        },
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| ServiceLoadBalancer {
                target_group_arn: lb.target_group_arn().unwrap_or_default().to_owned(),
                container_name: lb.container_name().unwrap_or_default().to_owned(),
                container_port: lb
                    .container_port()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0),
                advanced: lb.advanced_configuration().map(|a| AdvancedConfigState {
                    alternate_target_group_arn: a
                        .alternate_target_group_arn()
                        .unwrap_or_default()
                        .to_owned(),
                    production_listener_rule: a.production_listener_rule().map(str::to_owned),
                    test_listener_rule: a.test_listener_rule().map(str::to_owned),
                    role_arn: a.role_arn().map(str::to_owned),
                }),
            })
            .collect(),
        deployment_configuration: DeploymentConfigurationState {
            minimum_healthy_percent: dc.and_then(|d| d.minimum_healthy_percent()).map(to_u32),
            maximum_percent: dc.and_then(|d| d.maximum_percent()).map(to_u32),
            circuit_breaker: dc.and_then(|d| d.deployment_circuit_breaker()).map(|cb| {
                CircuitBreaker {
                    enable: cb.enable(),
                    rollback: cb.rollback(),
                }
            }),
            strategy: dc.and_then(|d| d.strategy()).map(|s| s.as_str().to_owned()),
            bake_time_minutes: dc.and_then(|d| d.bake_time_in_minutes()).map(to_u32),
            linear: dc.and_then(|d| d.linear_configuration()).map(|l| Linear {
                step_percent: l.step_percent().unwrap_or(10.0),
                step_bake_time_minutes: l.step_bake_time_in_minutes().map_or(6, to_u32),
            }),
            canary: dc.and_then(|d| d.canary_configuration()).map(|c| Canary {
                canary_percent: c.canary_percent().unwrap_or(5.0),
                canary_bake_time_minutes: c.canary_bake_time_in_minutes().map_or(10, to_u32),
            }),
            lifecycle_hooks: dc
                .map(|d| d.lifecycle_hooks().iter().map(hook_of).collect())
                .unwrap_or_default(),
        },
        health_check_grace_period_seconds: s.health_check_grace_period_seconds().map(to_u32),
        deployment_controller: s
            .deployment_controller()
            .map_or(DeploymentController::Ecs, |d| {
                DeploymentController::parse(d.r#type().as_str())
            }),
        deployments: s
            .deployments()
            .iter()
            .map(|d| DeploymentState {
                id: d.id().unwrap_or_default().to_owned(),
                status: DeploymentStatus::parse(d.status().unwrap_or_default()),
                rollout_state: d.rollout_state().map(|r| RolloutState::parse(r.as_str())),
                rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
                task_definition_arn: d.task_definition().unwrap_or_default().to_owned(),
                desired_count: to_u32(d.desired_count()),
                running_count: to_u32(d.running_count()),
                failed_tasks: to_u32(d.failed_tasks()),
            })
            .collect(),
        task_sets,
        unmodeled: unmodeled_service(s),
        tags: tags_of(s.tags()),
    }
}

/// Settings of a service the manifest format has no key for, as `key: value`; AWS's
/// own defaults (Fargate launch type, LATEST platform, REPLICA scheduling, propagating
/// the service's tags as ecsd creates it) are not reported.
fn unmodeled_service(s: &sdk::Service) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = s.platform_version().filter(|v| *v != "LATEST") {
        out.push(format!("platformVersion: {v}"));
    }
    if !s.capacity_provider_strategy().is_empty() {
        let providers: Vec<String> = s
            .capacity_provider_strategy()
            .iter()
            .map(|c| format!("{} (weight {})", c.capacity_provider(), c.weight()))
            .collect();
        out.push(format!(
            "capacityProviderStrategy: {}",
            providers.join(", ")
        ));
    }
    if !s.service_registries().is_empty() {
        out.push(format!(
            "serviceRegistries: {} registry(ies)",
            s.service_registries().len()
        ));
    }
    if !s.placement_constraints().is_empty() || !s.placement_strategy().is_empty() {
        out.push("placementConstraints / placementStrategy".to_owned());
    }
    if s.enable_execute_command() {
        out.push("enableExecuteCommand: true".to_owned());
    }
    if s.enable_ecs_managed_tags() {
        out.push("enableECSManagedTags: true".to_owned());
    }
    if let Some(p) = s
        .propagate_tags()
        .filter(|p| *p != &sdk::PropagateTags::Service)
    {
        out.push(format!("propagateTags: {}", p.as_str()));
    }
    if let Some(r) = s.role_arn() {
        out.push(format!("roleArn: {r}"));
    }
    if s.deployment_configuration()
        .and_then(|d| d.alarms())
        .is_some_and(|a| !a.alarm_names().is_empty())
    {
        out.push("deploymentConfiguration.alarms".to_owned());
    }
    // ECS turns rebalancing on for a service created without the setting, so only a
    // service that turned it off differs from what ecsd would create.
    if s.availability_zone_rebalancing() == Some(&sdk::AvailabilityZoneRebalancing::Disabled) {
        out.push("availabilityZoneRebalancing: DISABLED".to_owned());
    }
    // Service Connect, VPC Lattice and EBS volumes are settings of the deployment.
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    if let Some(d) = primary {
        if let Some(sc) = d.service_connect_configuration().filter(|sc| sc.enabled()) {
            out.push(format!(
                "serviceConnectConfiguration: enabled, namespace {}, {} service(s)",
                sc.namespace().unwrap_or("(the cluster's default)"),
                sc.services().len()
            ));
        }
        if !d.vpc_lattice_configurations().is_empty() {
            let groups: Vec<&str> = d
                .vpc_lattice_configurations()
                .iter()
                .map(|v| v.target_group_arn())
                .collect();
            out.push(format!(
                "vpcLatticeConfigurations: target group(s) {}",
                groups.join(", ")
            ));
        }
        if !d.volume_configurations().is_empty() {
            let names: Vec<&str> = d.volume_configurations().iter().map(|v| v.name()).collect();
            out.push(format!("volumeConfigurations: {}", names.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ecsd import` turns into comments: the deployment's Service Connect, VPC
    /// Lattice and EBS volumes, and rebalancing turned off; nothing for a plain service.
    #[test]
    fn settings_without_a_manifest_key_are_named() {
        let plain = sdk::Service::builder()
            .availability_zone_rebalancing(sdk::AvailabilityZoneRebalancing::Enabled)
            .build();
        assert!(unmodeled_service(&plain).is_empty());

        let deployment = sdk::Deployment::builder()
            .status("PRIMARY")
            .service_connect_configuration(
                sdk::ServiceConnectConfiguration::builder()
                    .enabled(true)
                    .namespace("internal")
                    .build(),
            )
            .vpc_lattice_configurations(
                sdk::VpcLatticeConfiguration::builder()
                    .role_arn("arn:aws:iam::1:role/lattice")
                    .target_group_arn("arn:aws:vpc-lattice:us-east-1:1:targetgroup/tg-1")
                    .port_name("http")
                    .build()
                    .expect("required fields are set"),
            )
            .volume_configurations(
                sdk::ServiceVolumeConfiguration::builder()
                    .name("data")
                    .build()
                    .expect("name is set"),
            )
            .build();
        let rich = sdk::Service::builder()
            .availability_zone_rebalancing(sdk::AvailabilityZoneRebalancing::Disabled)
            .deployments(deployment)
            .build();
        assert_eq!(
            unmodeled_service(&rich),
            vec![
                "availabilityZoneRebalancing: DISABLED",
                "serviceConnectConfiguration: enabled, namespace internal, 0 service(s)",
                "vpcLatticeConfigurations: target group(s) arn:aws:vpc-lattice:us-east-1:1:targetgroup/tg-1",
                "volumeConfigurations: data",
            ]
        );
    }
}
