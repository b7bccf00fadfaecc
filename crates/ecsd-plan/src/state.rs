//! What ecsd observed in AWS, as plain data. The AWS crate fills these in from the SDK;
//! the planner and its tests only ever see these types.

use std::collections::BTreeMap;

use serde::Serialize;

/// AWS tags of a resource.
pub type Tags = BTreeMap<String, String>;

/// An ELBv2 target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroupState {
    pub arn: String,
    pub name: String,
    pub vpc_id: String,
    pub port: u16,
    pub protocol: String,
    pub target_type: String,
    pub health_check: HealthCheckState,
    /// Load balancers that route to it (via a listener rule or default action).
    pub load_balancer_arns: Vec<String>,
    pub tags: Tags,
    /// `deregistration_delay.timeout_seconds`, when it was read (only when needed).
    pub deregistration_delay_seconds: Option<u32>,
}

/// The health check of a target group, as AWS reports it (all fields are always set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheckState {
    pub path: Option<String>,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub matcher: String,
}

/// A listener rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleState {
    pub arn: String,
    pub listener_arn: String,
    /// `None` for the listener's default rule.
    pub priority: Option<u32>,
    pub path_patterns: Vec<String>,
    pub host_headers: Vec<String>,
    /// Target groups of its forward action.
    pub forward_to: Vec<String>,
    pub tags: Tags,
}

/// An ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceState {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub task_definition_arn: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    pub minimum_healthy_percent: Option<u32>,
    pub maximum_percent: Option<u32>,
    /// `(enable, rollback)`.
    pub circuit_breaker: Option<(bool, bool)>,
    pub health_check_grace_period_seconds: Option<u32>,
    /// `ECS`, `CODE_DEPLOY` or `EXTERNAL`.
    pub deployment_controller: String,
    pub deployments: Vec<DeploymentState>,
    pub tags: Tags,
}

/// A service's registration with a target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u16,
}

/// One ECS deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentState {
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED` (absent in older answers).
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub task_definition_arn: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub failed_tasks: u32,
}

/// A task definition revision, as registered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDefinitionState {
    pub arn: String,
    pub family: String,
    pub revision: u32,
    /// The definition in the manifest's form (AWS defaults removed).
    pub definition: ecsd_model::service::TaskDefinition,
}

/// An Application Auto Scaling scalable target of an ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalableTargetState {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    pub min_capacity: u32,
    pub max_capacity: u32,
}

/// A target-tracking scaling policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingPolicyState {
    pub resource_id: String,
    pub name: String,
    /// The predefined metric type, e.g. `ECSServiceAverageCPUUtilization`.
    pub metric_type: String,
    pub target: f64,
    pub scale_in_cooldown_seconds: Option<u32>,
    pub scale_out_cooldown_seconds: Option<u32>,
    pub disable_scale_in: Option<bool>,
}

/// A scheduled scaling action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledActionState {
    pub resource_id: String,
    pub name: String,
    pub schedule: String,
    pub timezone: Option<String>,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
}

/// Everything one pass observed, keyed for lookup by the planner.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Target groups by name (only those the manifests name, unless pruning).
    pub target_groups: BTreeMap<String, TargetGroupState>,
    /// Listener rules by listener ARN.
    pub rules: BTreeMap<String, Vec<RuleState>>,
    /// Services by (cluster name, service name); INACTIVE services are left out.
    pub services: BTreeMap<(String, String), ServiceState>,
    /// Task definitions that had to be described, by ARN.
    pub task_definitions: BTreeMap<String, TaskDefinitionState>,
    /// Scalable targets by resource id.
    pub scalable_targets: BTreeMap<String, ScalableTargetState>,
    /// Scaling policies by resource id.
    pub scaling_policies: BTreeMap<String, Vec<ScalingPolicyState>>,
    /// Scheduled actions by resource id.
    pub scheduled_actions: BTreeMap<String, Vec<ScheduledActionState>>,
    /// Clusters that do not exist (a Service in one of them is an error).
    pub missing_clusters: Vec<String>,
    /// Everything ecsd may own, for pruning; observed only when pruning.
    pub inventory: Option<Inventory>,
    /// CodeDeploy state of blue/green services by (cluster, service).
    pub blue_green: BTreeMap<(String, String), BlueGreenState>,
}

/// Resources that may be ecsd's, beyond those the manifests name: for pruning.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Services of the clusters the manifests use (owned or not; the planner filters).
    pub services: Vec<ServiceState>,
    /// Every target group of the account and region.
    pub target_groups: Vec<TargetGroupState>,
    /// Rules of the listeners those target groups are reachable from.
    pub rules: Vec<RuleState>,
    /// The ScalingPolicy that created a scalable target, by resource id, when known.
    pub scaling_owners: BTreeMap<String, String>,
}

/// A CodeDeploy ECS deployment group, as far as ecsd manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentGroupState {
    pub application: String,
    pub name: String,
    pub service_role_arn: String,
    /// The traffic-shift configuration, e.g. `CodeDeployDefault.ECSCanary10Percent5Minutes`.
    pub deployment_config: String,
    pub cluster: String,
    pub service: String,
    /// Target group names: blue, then green.
    pub target_groups: Vec<String>,
    pub prod_listener_arns: Vec<String>,
    pub test_listener_arns: Vec<String>,
    pub terminate_blue_after_minutes: u32,
    pub auto_rollback: bool,
    pub alarms: Vec<String>,
}

/// One CodeDeploy deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDeployment {
    pub id: String,
    /// Created, Queued, InProgress, Baking, Ready, Succeeded, Failed or Stopped.
    pub status: String,
    /// The task definition its AppSpec deploys.
    pub task_definition_arn: Option<String>,
    pub error: Option<String>,
}

impl CodeDeployment {
    /// Whether the deployment has not finished yet.
    pub fn in_flight(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Created" | "Queued" | "InProgress" | "Baking" | "Ready"
        )
    }
}

/// The CodeDeploy side of a blue/green service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlueGreenState {
    pub application_exists: bool,
    pub group: Option<DeploymentGroupState>,
    /// Deployments not finished yet.
    pub in_flight: Vec<CodeDeployment>,
    /// The most recent finished deployment, if any.
    pub last_finished: Option<CodeDeployment>,
}
