//! `kind: Service`: an ECS service on Fargate and the task definition it runs.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::analysis::{Analysis, AnalysisMetric, Builtin, MetricQuerySpec, Verdict};
pub use crate::deployment::{
    BlueGreen, Canary, CircuitBreaker, Deployment, DeploymentAlarms, EarlySuccessCriteria, Linear,
    RevisionCleanup, Strategy, Threshold, ThresholdKind, Traffic, ValidationHooks,
};
pub use crate::hook::{HookAction, HookKind, HookStage, LifecycleHook};

/// The start of the image `ecsd migrate` writes when it is not given one: validation
/// points at it until a real image replaces it.
pub const IMAGE_TO_FILL_IN: &str = "FILL-IN";

/// The desired state of one ECS service (`metadata.name` is its AWS name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    /// The name or ARN of the ECS cluster; it must exist (ecsd does not create clusters).
    #[schemars(length(min = 1))]
    pub cluster: String,
    /// Tasks to run (default 1). With a ScalingPolicy only used when the service is created.
    #[serde(default = "default_desired_count")]
    #[schemars(range(min = 0, max = 5000))]
    pub desired_count: u32,
    /// The awsvpc network configuration Fargate tasks need.
    pub network: Network,
    /// The task definition the service runs.
    pub task_definition: TaskDefinition,
    /// Target groups the service registers its tasks with (at most 5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub load_balancers: Vec<LoadBalancer>,
    /// Seconds ECS ignores failing load balancer health checks after a task starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub health_check_grace_period_seconds: Option<u32>,
    /// How new task definitions are rolled out.
    #[serde(default)]
    pub deployment: Deployment,
}

fn default_desired_count() -> u32 {
    1
}

/// The awsvpc network configuration of the service's tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// Subnet ids, 1 to 16.
    #[schemars(length(min = 1, max = 16))]
    pub subnets: Vec<String>,
    /// Security group ids, at most 5 (the VPC default group when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub security_groups: Vec<String>,
    /// Give tasks a public IP (default false).
    #[serde(default)]
    pub assign_public_ip: bool,
}

/// A Fargate task definition. ecsd registers a new revision only when this differs
/// from the revision the service runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskDefinition {
    /// The task definition family (default: the service's `metadata.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.
    pub cpu: u32,
    /// Task memory in MiB; must form a valid Fargate pair with `cpu`.
    pub memory: u32,
    /// The role ECS uses to pull images, read secrets and write logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// The role the application's code runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// The containers of the task, 1 to 10.
    #[schemars(length(min = 1, max = 10))]
    pub containers: Vec<Container>,
}

/// One container of a task definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    /// The container name, unique in the task.
    pub name: String,
    /// The image reference, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2`.
    pub image: String,
    /// Ports the container listens on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    /// Plain environment variables. Secrets go in `secrets`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Environment variables read from Secrets Manager or SSM Parameter Store, by ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
    /// The log configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// The container health check Docker runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<ContainerHealthCheck>,
    /// The user (name, uid, or uid:gid) the process runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Mount the root filesystem read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly_root_filesystem: Option<bool>,
    /// The command (overrides the image's CMD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// The entry point (overrides the image's ENTRYPOINT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<Vec<String>>,
    /// If an essential container stops, the whole task stops (default true).
    #[serde(default = "crate::defaults::on")]
    pub essential: bool,
    /// CPU units reserved for this container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 16384))]
    pub cpu: Option<u32>,
    /// Hard memory limit in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 6, max = 122880))]
    pub memory: Option<u32>,
    /// Soft memory limit in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 6, max = 122880))]
    pub memory_reservation: Option<u32>,
    /// The working directory of the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    /// Seconds between SIGTERM and SIGKILL when the task stops (Fargate: 2-120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 120))]
    pub stop_timeout_seconds: Option<u32>,
    /// Containers that must reach a condition before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<ContainerDependency>,
}

/// A port a container listens on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortMapping {
    /// The port inside the container (with awsvpc also the host port).
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: u16,
    /// `tcp` (default) or `udp`.
    #[serde(default)]
    pub protocol: PortProtocol,
}

/// The transport protocol of a port mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortProtocol {
    #[default]
    Tcp,
    Udp,
}

/// The log configuration of a container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Logging {
    /// A log driver Fargate supports.
    pub driver: LogDriver,
    /// Driver options, e.g. `awslogs-group`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// Log drivers Fargate supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogDriver {
    Awslogs,
    Awsfirelens,
    Splunk,
}

/// The Docker health check of a container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerHealthCheck {
    /// `["CMD", ...]` or `["CMD-SHELL", "..."]`.
    #[schemars(length(min = 1))]
    pub command: Vec<String>,
    /// Seconds between checks (ECS default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 300))]
    pub interval_seconds: Option<u32>,
    /// Seconds before a check fails (ECS default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 60))]
    pub timeout_seconds: Option<u32>,
    /// Consecutive failures before the container is unhealthy (ECS default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub retries: Option<u32>,
    /// Seconds of grace after start before failures count (ECS default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 300))]
    pub start_period_seconds: Option<u32>,
}

/// A container start-up dependency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerDependency {
    /// The name of another container in the same task.
    pub container_name: String,
    /// The condition that container must reach.
    pub condition: DependencyCondition,
}

/// Container dependency conditions, as ECS spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DependencyCondition {
    Start,
    Complete,
    Success,
    Healthy,
}

/// Registration of the service's tasks with a target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancer {
    /// The `metadata.name` of a TargetGroup manifest in the same source.
    pub target_group: String,
    /// The container that receives the traffic.
    pub container_name: String,
    /// Its port; a `portMappings[].containerPort` of that container.
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: u16,
}
