//! Amazon ECS: the [`EcsApi`] trait and its SDK implementation. AWS's status strings
//! become `ecsd_plan::state` enums here, at the boundary.
//!
//! # Layout
//! - this file: the trait and the types it speaks in;
//! - `client.rs`: [`SdkEcs`], the trait over aws-sdk-ecs (batching, paging, one attempt for
//!   calls that are not idempotent);
//! - `service.rs`: a service to and from the SDK (the create and update requests, the
//!   service read back): where a Service setting is sent and read;
//! - `deployment.rs`: deployment configuration, lifecycle hooks, service deployments;
//! - `convert.rs`: tags.

mod client;
mod convert;
mod deployment;
mod service;

use std::future::Future;

use ecsd_plan::ops::{ServiceInput, ServiceUpdate};
use ecsd_plan::state::{
    AdvancedConfigState, ClusterStatus, NativeDeployment, ServiceDeploymentStatus, ServiceId,
    ServiceState, Tags, TaskDefinitionState,
};

use ecsd_model::service::HookAction;

use crate::config::sdk_client;
use crate::error::AwsError;

/// An ECS cluster as ecsd sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    pub status: ClusterStatus,
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

/// A service to create: the plan's settings, with every reference resolved to an ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateService {
    /// The settings as planned (their task definition and load balancers unresolved).
    pub settings: ServiceInput,
    pub task_definition_arn: String,
    pub load_balancers: Vec<ResolvedLoadBalancer>,
    /// The planned tags and the task definition marker.
    pub tags: Tags,
}

/// Changes to a service: the plan's, with every reference resolved to an ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateService {
    /// The settings as planned (`None` leaves one as it is).
    pub settings: ServiceUpdate,
    pub task_definition_arn: Option<String>,
    pub load_balancers: Option<Vec<ResolvedLoadBalancer>>,
}

impl UpdateService {
    /// An update of exactly `settings`, which refer to no task definition or target group.
    pub fn of(settings: ServiceUpdate) -> Self {
        UpdateService {
            settings,
            task_definition_arn: None,
            load_balancers: None,
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
