//! What ecsd observed in AWS, as plain data. The AWS crate fills these in from the SDK,
//! turning AWS's status strings into the enums below at the boundary; the planner and
//! its tests only ever see these types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ecsd_model::service::{
    Canary, CircuitBreaker, DeploymentAlarms, EarlySuccessCriteria, LifecycleHook, Linear,
    Strategy, TaskDefinition,
};
use serde::Serialize;

/// AWS tags of a resource.
pub type Tags = BTreeMap<String, String>;

/// Declares an enum of the values AWS documents for a status field, with their AWS
/// spelling, plus `Unknown` for a value this version of ecsd does not know (AWS adds
/// values; an unknown one must not fail a pass).
macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $aws:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of ecsd does not know, as AWS spelt it.
            Unknown(String),
        }

        impl $name {
            /// The AWS spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $aws,)+
                    Self::Unknown(s) => s,
                }
            }

            /// The value AWS spells `s`.
            pub fn parse(s: &str) -> Self {
                match s {
                    $($aws => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

aws_enum! {
    /// The lifecycle of an ECS service (DeleteService moves it to DRAINING, then INACTIVE).
    ServiceStatus { Active => "ACTIVE", Draining => "DRAINING", Inactive => "INACTIVE" }
}

aws_enum! {
    /// The role of one entry in a service's `deployments`.
    DeploymentStatus { Primary => "PRIMARY", Active => "ACTIVE", Inactive => "INACTIVE" }
}

aws_enum! {
    /// How a rolling deployment is doing.
    RolloutState { InProgress => "IN_PROGRESS", Completed => "COMPLETED", Failed => "FAILED" }
}

aws_enum! {
    /// Who deploys a service: ECS itself (rolling), CodeDeploy (blue/green) or another tool.
    DeploymentController { Ecs => "ECS", CodeDeploy => "CODE_DEPLOY", External => "EXTERNAL" }
}

aws_enum! {
    /// The role of a task set of a CODE_DEPLOY or EXTERNAL service.
    TaskSetStatus { Primary => "PRIMARY", Active => "ACTIVE", Draining => "DRAINING" }
}

aws_enum! {
    /// Whether a task set has reached its desired count.
    StabilityStatus { SteadyState => "STEADY_STATE", Stabilizing => "STABILIZING" }
}

aws_enum! {
    /// The status of a CodeDeploy deployment.
    CodeDeployStatus {
        Created => "Created",
        Queued => "Queued",
        InProgress => "InProgress",
        Baking => "Baking",
        Ready => "Ready",
        Succeeded => "Succeeded",
        Failed => "Failed",
        Stopped => "Stopped",
    }
}

aws_enum! {
    /// The status of an ECS service deployment (ListServiceDeployments).
    ServiceDeploymentStatus {
        Pending => "PENDING",
        Successful => "SUCCESSFUL",
        Stopped => "STOPPED",
        StopRequested => "STOP_REQUESTED",
        InProgress => "IN_PROGRESS",
        RollbackRequested => "ROLLBACK_REQUESTED",
        RollbackInProgress => "ROLLBACK_IN_PROGRESS",
        RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
        RollbackFailed => "ROLLBACK_FAILED",
    }
}

impl CodeDeployStatus {
    /// The statuses of a deployment that has not finished.
    pub const IN_FLIGHT: [CodeDeployStatus; 5] = [
        CodeDeployStatus::Created,
        CodeDeployStatus::Queued,
        CodeDeployStatus::InProgress,
        CodeDeployStatus::Baking,
        CodeDeployStatus::Ready,
    ];

    /// Whether the deployment has not finished yet.
    pub fn in_flight(&self) -> bool {
        Self::IN_FLIGHT.contains(self)
    }

    /// Whether the deployment ended without succeeding (CodeDeploy rolled it back or it
    /// was stopped).
    pub fn unsuccessful(&self) -> bool {
        matches!(self, CodeDeployStatus::Failed | CodeDeployStatus::Stopped)
    }
}

impl ServiceDeploymentStatus {
    /// The statuses of a service deployment that has not finished.
    pub const IN_FLIGHT: [ServiceDeploymentStatus; 5] = [
        ServiceDeploymentStatus::Pending,
        ServiceDeploymentStatus::InProgress,
        ServiceDeploymentStatus::StopRequested,
        ServiceDeploymentStatus::RollbackRequested,
        ServiceDeploymentStatus::RollbackInProgress,
    ];

    /// Whether the deployment has not finished.
    pub fn in_flight(&self) -> bool {
        Self::IN_FLIGHT.contains(self)
    }

    /// Whether ECS rolled this deployment back (or is doing so).
    pub fn rolled_back(&self) -> bool {
        matches!(
            self,
            ServiceDeploymentStatus::RollbackRequested
                | ServiceDeploymentStatus::RollbackInProgress
                | ServiceDeploymentStatus::RollbackSuccessful
                | ServiceDeploymentStatus::RollbackFailed
        )
    }
}

/// An ECS service: the name of its cluster and its own name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ServiceId {
    pub cluster: String,
    pub name: String,
}

impl ServiceId {
    pub fn new(cluster: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceId {
            cluster: cluster.into(),
            name: name.into(),
        }
    }

    /// The Application Auto Scaling resource id of the service.
    pub fn scaling_resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.name)
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.name)
    }
}

/// An ELBv2 target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroupState {
    pub arn: String,
    pub name: String,
    pub vpc_id: String,
    pub port: u16,
    pub protocol: TargetGroupProtocol,
    pub target_type: TargetKind,
    pub health_check: HealthCheckState,
    /// Load balancers that route to it (via a listener rule or default action).
    pub load_balancer_arns: Vec<String>,
    pub tags: Tags,
    /// `deregistration_delay.timeout_seconds`, when it was read (only when needed).
    pub deregistration_delay_seconds: Option<u32>,
}

/// The health check of a target group, as AWS reports it (AWS fills in every field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheckState {
    pub path: Option<String>,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub matcher: String,
}

/// One target group of a listener rule's forward action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardTarget {
    pub target_group_arn: String,
    /// The weight of a weighted forward; `None` for a plain forward.
    pub weight: Option<u32>,
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
    /// The target groups of its forward action.
    pub forward: Vec<ForwardTarget>,
    pub tags: Tags,
}

impl RuleState {
    /// Whether the forward action names the target group at all (with any weight).
    pub fn forwards_to(&self, target_group_arn: &str) -> bool {
        self.forward
            .iter()
            .any(|f| f.target_group_arn == target_group_arn)
    }

    /// Whether the forward action names this target group and no other (a plain
    /// forward, or a weighted one with this target group alone).
    pub fn only_target_is(&self, target_group_arn: &str) -> bool {
        matches!(&self.forward[..], [only] if only.target_group_arn == target_group_arn)
    }

    /// Whether all traffic goes to exactly this target group.
    pub fn forwards_only_to(&self, target_group_arn: &str) -> bool {
        let receiving: Vec<&str> = self
            .forward
            .iter()
            .filter(|f| f.weight != Some(0))
            .map(|f| f.target_group_arn.as_str())
            .collect();
        receiving == [target_group_arn]
    }
}

/// The awsvpc network configuration of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsVpc {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

/// A service's deployment configuration, as far as AWS reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfigurationState {
    pub minimum_healthy_percent: Option<u32>,
    pub maximum_percent: Option<u32>,
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `None` when AWS reports none.
    pub alarms: Option<DeploymentAlarms>,
    pub early_success_criteria: Option<EarlySuccessCriteria>,
    /// ECS's `strategy` (`None` when AWS leaves it out, which means `ROLLING`).
    pub strategy: Option<String>,
    pub bake_time_minutes: Option<u32>,
    pub linear: Option<Linear>,
    pub canary: Option<Canary>,
    /// Lifecycle hooks, turned into the manifest's form at the AWS boundary (AWS's
    /// defaults filled in where it leaves a field out).
    pub lifecycle_hooks: Vec<LifecycleHook>,
}

/// A load balancer's `advancedConfiguration`: where ECS shifts traffic in a native
/// blue/green, linear or canary deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedConfigState {
    pub alternate_target_group_arn: String,
    pub production_listener_rule: Option<String>,
    pub test_listener_rule: Option<String>,
    pub role_arn: Option<String>,
}

aws_enum! {
    /// A target group's protocol.
    TargetGroupProtocol {
        Http => "HTTP",
        Https => "HTTPS",
        Tcp => "TCP",
        Tls => "TLS",
        Udp => "UDP",
        TcpUdp => "TCP_UDP",
        Geneve => "GENEVE",
    }
}

aws_enum! {
    /// How a target group's targets register: Fargate tasks register by IP.
    TargetKind { Ip => "ip", Instance => "instance", Lambda => "lambda", Alb => "alb" }
}

aws_enum! {
    /// The lifecycle of an ECS cluster (DescribeClusters' `status`).
    ClusterStatus {
        Active => "ACTIVE",
        Provisioning => "PROVISIONING",
        Deprovisioning => "DEPROVISIONING",
        Failed => "FAILED",
        Inactive => "INACTIVE",
    }
}

aws_enum! {
    /// What a lifecycle hook of a service deployment runs: a pause that waits for
    /// ContinueServiceDeployment, or a Lambda function.
    HookTarget { Pause => "PAUSE", Lambda => "AWS_LAMBDA" }
}

aws_enum! {
    /// The status of a lifecycle hook in a service deployment.
    HookStatus {
        AwaitingAction => "AWAITING_ACTION",
        InProgress => "IN_PROGRESS",
        Succeeded => "SUCCEEDED",
        Failed => "FAILED",
        TimedOut => "TIMED_OUT",
    }
}

/// A lifecycle hook at work in a service deployment (DescribeServiceDeployments'
/// `lifecycleHookDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDetail {
    pub hook_id: String,
    pub target_type: HookTarget,
    pub status: HookStatus,
    /// RFC 3339.
    pub expires_at: Option<String>,
    /// What ECS does when a pause expires.
    pub timeout_action: Option<ecsd_model::service::HookAction>,
}

/// The newest unfinished deployment of a service that ECS deploys blue/green, linear or
/// canary (ListServiceDeployments, DescribeServiceDeployments).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeDeployment {
    pub arn: String,
    pub status: ServiceDeploymentStatus,
    pub status_reason: Option<String>,
    /// ECS's lifecycle stage, e.g. `POST_TEST_TRAFFIC_SHIFT` or `BAKE_TIME`.
    pub stage: Option<String>,
    /// The service revision it deploys.
    pub target_revision_arn: Option<String>,
    /// The share of production traffic ECS asked for the new revision, in percent.
    pub production_weight: Option<f64>,
    pub hooks: Vec<HookDetail>,
    pub rollback_reason: Option<String>,
}

impl NativeDeployment {
    /// The deployment's id: the last segment of its ARN.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    /// The PAUSE hook that waits for an approval, if any.
    pub fn paused(&self) -> Option<&HookDetail> {
        self.hooks
            .iter()
            .find(|h| h.target_type == HookTarget::Pause && h.status == HookStatus::AwaitingAction)
    }

    /// Whether `name` (from `approve:` or `rollback:`) names this deployment: its ARN or
    /// id, its target service revision's ARN or id, or the id of its paused hook.
    pub fn is_named_by(&self, name: &str) -> bool {
        let last = |arn: &str| arn.rsplit('/').next().map(str::to_owned);
        let revision = self.target_revision_arn.as_deref();
        name == self.arn
            || name == self.id()
            || revision.is_some_and(|r| r == name || last(r).as_deref() == Some(name))
            || self.paused().is_some_and(|h| h.hook_id == name)
    }
}

/// An ECS service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceState {
    pub arn: String,
    pub id: ServiceId,
    pub status: ServiceStatus,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub task_definition_arn: String,
    pub network: AwsVpc,
    pub load_balancers: Vec<ServiceLoadBalancer>,
    pub deployment_configuration: DeploymentConfigurationState,
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment_controller: DeploymentController,
    /// Deployments of the ECS (rolling) controller.
    pub deployments: Vec<DeploymentState>,
    /// Task sets of a CODE_DEPLOY (or EXTERNAL) service, which has no `deployments`.
    pub task_sets: Vec<TaskSetState>,
    /// Settings it has that the manifest format has no key for, as `key: value`
    /// (`platformVersion: 1.4.0`, `enableExecuteCommand: true`, ...).
    pub unmodeled: Vec<String>,
    /// ECS's "task start impaired" condition: its service event message, while the
    /// newest event about starting tasks says they do not start.
    pub start_impaired: Option<String>,
    pub tags: Tags,
}

impl ServiceState {
    /// The PRIMARY deployment of a rolling service.
    pub fn primary_deployment(&self) -> Option<&DeploymentState> {
        self.deployments
            .iter()
            .find(|d| d.status == DeploymentStatus::Primary)
    }

    /// Whether DescribeServices shows a deployment under way (a paused one included):
    /// more than one deployment, or the PRIMARY one rolling out.
    pub fn deploying(&self) -> bool {
        self.deployments.len() > 1
            || self
                .primary_deployment()
                .is_some_and(|d| d.rollout_state == Some(RolloutState::InProgress))
    }

    /// The manifest's strategy the service deploys with: `blueGreen` under CodeDeploy,
    /// else ECS's `strategy` (`rolling` when AWS leaves it out or names one ecsd does
    /// not know).
    pub fn strategy(&self) -> Strategy {
        match self.deployment_controller {
            DeploymentController::CodeDeploy => Strategy::BlueGreen,
            _ => self
                .deployment_configuration
                .strategy
                .as_deref()
                .and_then(Strategy::from_ecs)
                .unwrap_or(Strategy::Rolling),
        }
    }

    /// The PRIMARY task set of a CODE_DEPLOY service.
    pub fn primary_task_set(&self) -> Option<&TaskSetState> {
        self.task_sets
            .iter()
            .find(|t| t.status == TaskSetStatus::Primary)
    }
}

/// A service's registration with a target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u16,
    /// Native blue/green settings, when the service has them.
    pub advanced: Option<AdvancedConfigState>,
}

/// One ECS deployment of a rolling service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentState {
    pub id: String,
    pub status: DeploymentStatus,
    /// Absent in older answers.
    pub rollout_state: Option<RolloutState>,
    pub rollout_state_reason: Option<String>,
    pub task_definition_arn: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub failed_tasks: u32,
}

/// One task set of a CODE_DEPLOY service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskSetState {
    pub id: String,
    pub status: TaskSetStatus,
    pub task_definition_arn: String,
    pub computed_desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub stability_status: StabilityStatus,
    /// The CodeDeploy deployment that created it, if any.
    pub external_id: Option<String>,
}

/// A task definition revision, as registered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDefinitionState {
    pub arn: String,
    pub family: String,
    pub revision: u32,
    /// The definition in the manifest's form.
    pub definition: TaskDefinition,
    /// Settings it has that the manifest format has no key for (`volumes`,
    /// `containers[app].mountPoints`, ...).
    pub unmodeled: Vec<String>,
}

/// The newest deployment of a rolling service that ECS rolled back (found with
/// ListServiceDeployments, so it is known after it left DescribeServices' `deployments`),
/// when no successful deployment followed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolledBack {
    pub deployment_arn: String,
    pub status: ServiceDeploymentStatus,
    /// Why, as ECS says (e.g. the circuit breaker's finding).
    pub reason: String,
    /// The revision it tried to deploy, and that revision's content.
    pub task_definition: TaskDefinitionState,
}

/// An Application Auto Scaling scalable target of an ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalableTargetState {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    pub arn: String,
    pub min_capacity: u32,
    pub max_capacity: u32,
    /// When it was registered (`CreationTime`), seconds since the Unix epoch.
    pub created_at: Option<u64>,
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
    /// Services that are ACTIVE or DRAINING (INACTIVE ones are as good as gone).
    pub services: BTreeMap<ServiceId, ServiceState>,
    /// Task definitions that had to be described, by ARN.
    pub task_definitions: BTreeMap<String, TaskDefinitionState>,
    /// Rolled-back deployments of services whose task definition differs from the
    /// manifest's (looked up only then).
    pub rollbacks: BTreeMap<ServiceId, RolledBack>,
    /// Scalable targets by resource id.
    pub scalable_targets: BTreeMap<String, ScalableTargetState>,
    /// Scaling policies by resource id.
    pub scaling_policies: BTreeMap<String, Vec<ScalingPolicyState>>,
    /// Scheduled actions by resource id.
    pub scheduled_actions: BTreeMap<String, Vec<ScheduledActionState>>,
    /// Clusters that do not exist (a Service in one of them is an error).
    pub missing_clusters: BTreeSet<String>,
    /// Everything ecsd may own, for pruning; observed only when pruning.
    pub inventory: Option<Inventory>,
    /// CodeDeploy state of blue/green services.
    pub blue_green: BTreeMap<ServiceId, BlueGreenState>,
    /// The unfinished deployment of a service ECS deploys blue/green, linear or canary
    /// (read only while DescribeServices shows one in progress).
    pub native_deployments: BTreeMap<ServiceId, NativeDeployment>,
    /// The canary analysis of a native deployment paused where its manifest's
    /// `deployment.analysis` runs (read only then).
    pub analyses: BTreeMap<ServiceId, crate::analysis::AnalysisState>,
    /// Tags read separately, by resource ARN: task definitions, scalable targets and
    /// CodeDeploy resources whose labels may be out of sync.
    pub tags: BTreeMap<String, Tags>,
}

/// Resources that may be ecsd's, beyond those the manifests name: for pruning.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// ACTIVE services of every cluster (owned or not; the planner filters).
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
    pub service: ServiceId,
    /// Target group names: blue, then green.
    pub target_groups: Vec<String>,
    pub prod_listener_arns: Vec<String>,
    pub test_listener_arns: Vec<String>,
    pub terminate_blue_after_minutes: u32,
    pub auto_rollback: bool,
    pub alarms: Vec<String>,
}

/// The most recent deployment CodeDeploy attempted for a group (`lastAttemptedDeployment`
/// of GetDeploymentGroup): the newest by create time, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastDeployment {
    pub id: String,
    pub status: CodeDeployStatus,
}

/// One CodeDeploy deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDeployment {
    pub id: String,
    pub status: CodeDeployStatus,
    /// The task definition its AppSpec deploys.
    pub task_definition_arn: Option<String>,
    pub error: Option<String>,
}

/// The CodeDeploy side of a blue/green service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlueGreenState {
    pub application_exists: bool,
    pub group: Option<DeploymentGroupState>,
    /// The newest deployment, when it has not finished.
    pub in_flight: Option<CodeDeployment>,
    /// The newest deployment, when it has finished.
    pub last_finished: Option<CodeDeployment>,
    /// ARNs of the application and the group (for tagging), when they exist.
    pub application_arn: Option<String>,
    pub group_arn: Option<String>,
}
