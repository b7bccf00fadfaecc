//! The AWS operations a plan carries: plain data that the executor (in the runtime
//! crate) turns into calls. References to things created earlier in the same apply
//! (a new target group's ARN, a just-registered task definition, a new service) are
//! symbolic and resolved while executing.
//!
//! Inputs are complete: every setting the manifest format models is sent, with AWS's
//! documented default where the manifest leaves it out (see [`crate::defaults`]), so
//! what AWS stores never depends on what it held before.

use serde::Serialize;

use ecsd_model::scaling_policy::ScalingMetric;
use ecsd_model::service::{
    Canary, CircuitBreaker, DeploymentAlarms, EarlySuccessCriteria, HookAction, LifecycleHook,
    Linear, Strategy, TaskDefinition,
};

use crate::state::{AwsVpc, DeploymentController, DeploymentGroupState, ServiceId, Tags};

/// A target group, by ARN when it exists or by the name it is created under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetGroupRef {
    Arn(String),
    Name(String),
}

/// A task definition, by ARN, or the one the preceding `RegisterTaskDefinition` of the
/// same change registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskDefinitionRef {
    Arn(String),
    Registered,
}

/// A resource whose tags ecsd changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Tagged {
    /// An ECS service (its ARN may only be known once this apply created it).
    Service(ServiceId),
    /// Another ECS resource (a task definition revision), by ARN.
    Ecs(String),
    /// A target group or listener rule, by ARN.
    Elb(String),
    /// An Application Auto Scaling scalable target, by ARN.
    ScalableTarget(String),
    /// A CodeDeploy application or deployment group, by ARN.
    CodeDeploy(String),
}

/// The health check of a target group, every field set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckInput {
    pub path: String,
    pub interval_seconds: u32,
    pub timeout_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub matcher: String,
}

/// A target group to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupInput {
    pub name: String,
    pub vpc_id: String,
    pub port: u16,
    pub protocol: String,
    pub health_check: HealthCheckInput,
    pub tags: Tags,
}

/// The conditions of a listener rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleConditions {
    pub path_patterns: Vec<String>,
    pub host_headers: Vec<String>,
}

/// One target group of a listener rule's forward action: all traffic (`weight: None`,
/// the only target group) or its weight among several (0-999).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forward {
    pub target_group: TargetGroupRef,
    pub weight: Option<u32>,
}

impl Forward {
    /// Everything to one target group.
    pub fn all(target_group: TargetGroupRef) -> Vec<Forward> {
        vec![Forward {
            target_group,
            weight: None,
        }]
    }

    /// A forward of all traffic to `primary` that ECS can shift to `alternate`: both,
    /// weighted 100 and 0 (the form ECS blue/green, linear and canary deployments need).
    pub fn shiftable(primary: TargetGroupRef, alternate: TargetGroupRef) -> Vec<Forward> {
        vec![
            Forward {
                target_group: primary,
                weight: Some(100),
            },
            Forward {
                target_group: alternate,
                weight: Some(0),
            },
        ]
    }
}

/// A listener rule, by ARN when it exists or by where the rule a TargetGroup change of
/// the same apply creates will be (its listener and priority).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleRef {
    Arn(String),
    At { listener_arn: String, priority: u32 },
}

/// Where ECS shifts traffic in a native deployment (`advancedConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedInput {
    pub alternate_target_group: TargetGroupRef,
    pub production_listener_rule: RuleRef,
    pub test_listener_rule: Option<RuleRef>,
    pub role_arn: String,
}

/// A load balancer registration of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerInput {
    pub target_group: TargetGroupRef,
    pub container_name: String,
    pub container_port: u16,
    /// For ECS's own blue/green, linear and canary deployments.
    pub advanced: Option<AdvancedInput>,
}

/// ECS's own blue/green, linear or canary settings, every field set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeInput {
    pub bake_time_minutes: u32,
    pub linear: Option<Linear>,
    pub canary: Option<Canary>,
}

/// A service's deployment configuration, every field set. A CODE_DEPLOY service has no
/// circuit breaker (AWS refuses one), no strategy and no lifecycle hooks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Deployment alarms to send (`None` leaves AWS's as they are: sent when the
    /// manifest has them, or as "none" to remove AWS's).
    pub alarms: Option<DeploymentAlarms>,
    /// Early success criteria of a rolling deployment, sent like `alarms`.
    pub early_success_criteria: Option<EarlySuccessCriteria>,
    /// ECS's strategy; `None` for a CODE_DEPLOY service.
    pub strategy: Option<Strategy>,
    /// Sent whole for an ECS-controller service (an empty list removes every hook).
    pub lifecycle_hooks: Vec<LifecycleHook>,
    /// For `ecsBlueGreen`, `linear` and `canary`.
    pub native: Option<NativeInput>,
}

/// A service to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInput {
    pub id: ServiceId,
    pub deployment_controller: DeploymentController,
    pub task_definition: TaskDefinitionRef,
    pub desired_count: u32,
    pub network: AwsVpc,
    pub load_balancers: Vec<LoadBalancerInput>,
    /// Only for services with load balancers (AWS refuses it otherwise).
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment: DeploymentInput,
    pub tags: Tags,
    /// The desired definition's hash, for the `ecsd:task-definition` tag the service is
    /// created with: it runs exactly that revision from the start, so no separate
    /// tagging call is needed.
    pub task_definition_hash: String,
}

/// Changes to an existing service; `None` leaves a setting as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUpdate {
    pub id: ServiceId,
    pub task_definition: Option<TaskDefinitionRef>,
    pub desired_count: Option<u32>,
    pub network: Option<AwsVpc>,
    pub load_balancers: Option<Vec<LoadBalancerInput>>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment: Option<DeploymentInput>,
    /// Moves a CODE_DEPLOY service to the ECS deployment controller in place (sent with
    /// the native strategy and the load balancers' advanced configuration).
    pub to_ecs_controller: bool,
}

impl ServiceUpdate {
    /// An update that changes nothing yet.
    pub fn of(id: ServiceId) -> Self {
        ServiceUpdate {
            id,
            task_definition: None,
            desired_count: None,
            network: None,
            load_balancers: None,
            health_check_grace_period_seconds: None,
            deployment: None,
            to_ecs_controller: false,
        }
    }

    /// Whether it changes anything.
    pub fn is_empty(&self) -> bool {
        *self == ServiceUpdate::of(self.id.clone())
    }

    /// Whether ECS starts a new deployment for it.
    pub fn starts_deployment(&self) -> bool {
        self.task_definition.is_some() || self.network.is_some() || self.load_balancers.is_some()
    }
}

/// A target-tracking policy to put, every field set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTrackingInput {
    pub resource_id: String,
    pub name: String,
    pub metric: ScalingMetric,
    pub target: f64,
    pub scale_in_cooldown_seconds: u32,
    pub scale_out_cooldown_seconds: u32,
    pub disable_scale_in: bool,
    /// For `requestsPerTarget`: the target group whose request count is tracked.
    pub target_group: Option<TargetGroupRef>,
}

/// A scheduled action to put.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledActionInput {
    pub resource_id: String,
    pub name: String,
    pub schedule: String,
    /// Always sent: PutScheduledAction keeps the old time zone of an existing action
    /// when the request leaves it out.
    pub timezone: String,
    /// A capacity left out is kept by an update too, so an action that loses one is
    /// deleted and put again.
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
}

/// One AWS mutation (or, for `AwaitServiceInactive`, a wait a mutation needs first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Op {
    CreateTargetGroup(TargetGroupInput),
    ModifyTargetGroupHealthCheck {
        arn: String,
        health_check: HealthCheckInput,
    },
    /// Sets the deregistration delay and records it in the attributes tag.
    /// Sets the deregistration delay and records it in the attributes tag (with the
    /// owner tag, as every tagging request).
    SetDeregistrationDelay {
        target_group: TargetGroupRef,
        seconds: u32,
        owner: String,
    },
    CreateRule {
        listener_arn: String,
        priority: u32,
        conditions: RuleConditions,
        /// Where it forwards: one target group, or several by weight.
        forward: Vec<Forward>,
        tags: Tags,
    },
    /// Changes a rule's conditions and/or its forward action; `None` leaves either alone
    /// (a rule CodeDeploy shifts keeps CodeDeploy's action).
    ModifyRule {
        rule_arn: String,
        conditions: Option<RuleConditions>,
        forward: Option<Vec<Forward>>,
    },
    SetRulePriority {
        rule_arn: String,
        priority: u32,
    },
    DeleteRule {
        rule_arn: String,
    },
    DeleteTargetGroup {
        arn: String,
    },
    /// Adds or overwrites tags.
    TagResource {
        resource: Tagged,
        tags: Tags,
    },
    /// Removes tags.
    UntagResource {
        resource: Tagged,
        keys: Vec<String>,
    },
    RegisterTaskDefinition {
        definition: Box<TaskDefinition>,
        tags: Tags,
    },
    CreateService(Box<ServiceInput>),
    UpdateService(Box<ServiceUpdate>),
    /// Records on the service which task definition it runs and the hash of the desired
    /// definition (see [`crate::ownership::TASK_DEFINITION_TAG`]).
    MarkTaskDefinition {
        service: ServiceId,
        task_definition: TaskDefinitionRef,
        hash: String,
        /// The owner tag every tagging request carries.
        owner: String,
    },
    /// Scales a service to zero and deletes it.
    DeleteService {
        service: ServiceId,
    },
    /// Waits until a deleted (DRAINING) service is INACTIVE: AWS refuses to create a
    /// service under the name of one that is still draining.
    AwaitServiceInactive {
        service: ServiceId,
    },
    RegisterScalableTarget {
        resource_id: String,
        min_capacity: u32,
        max_capacity: u32,
        /// Tags for a target being created (AWS applies them only at creation).
        tags: Option<Tags>,
    },
    PutTargetTracking(Box<TargetTrackingInput>),
    DeleteScalingPolicy {
        resource_id: String,
        name: String,
    },
    PutScheduledAction(Box<ScheduledActionInput>),
    DeleteScheduledAction {
        resource_id: String,
        name: String,
    },
    DeregisterScalableTarget {
        resource_id: String,
    },
    CreateCodeDeployApplication {
        name: String,
        tags: Tags,
    },
    CreateDeploymentGroup {
        group: Box<DeploymentGroupState>,
        tags: Tags,
    },
    UpdateDeploymentGroup(Box<DeploymentGroupState>),
    /// Deletes a CodeDeploy deployment group ecsd made (after its service moved to ECS's
    /// own deployments).
    DeleteDeploymentGroup {
        application: String,
        group: String,
    },
    /// Deletes a CodeDeploy application ecsd made.
    DeleteCodeDeployApplication {
        name: String,
    },
    /// Starts a blue/green deployment of a task definition (and network) through CodeDeploy.
    CreateCodeDeployDeployment(Box<CodeDeployDeploymentInput>),
    /// Continues or rolls back a native deployment paused at a PAUSE hook (an approval
    /// from the manifest).
    ContinueServiceDeployment {
        service: ServiceId,
        deployment_arn: String,
        hook_id: String,
        action: HookAction,
    },
}

/// A Lambda function CodeDeploy runs at an AppSpec hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSpecHook {
    /// The AppSpec hook name, e.g. `AfterAllowTestTraffic`.
    pub hook: String,
    /// A function name or ARN.
    pub function: String,
}

/// A CodeDeploy deployment to start: the AppSpec's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeDeployDeploymentInput {
    pub application: String,
    pub group: String,
    pub service: ServiceId,
    pub task_definition: TaskDefinitionRef,
    pub container_name: String,
    pub container_port: u16,
    pub network: AwsVpc,
    pub hooks: Vec<AppSpecHook>,
}

impl CodeDeployDeploymentInput {
    /// The ECS AppSpec (JSON) for `task_definition_arn`.
    pub fn appspec(&self, task_definition_arn: &str) -> String {
        let hooks: Vec<serde_json::Value> = self
            .hooks
            .iter()
            .map(|h| serde_json::json!({ h.hook.as_str(): h.function }))
            .collect();
        serde_json::json!({
            "version": 0.0,
            "Resources": [{"TargetService": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "TaskDefinition": task_definition_arn,
                    "LoadBalancerInfo": {"ContainerName": self.container_name, "ContainerPort": self.container_port},
                    "NetworkConfiguration": {"AwsvpcConfiguration": {
                        "Subnets": self.network.subnets,
                        "SecurityGroups": self.network.security_groups,
                        "AssignPublicIp": if self.network.assign_public_ip { "ENABLED" } else { "DISABLED" },
                    }},
                },
            }}],
            "Hooks": hooks,
        })
        .to_string()
    }
}
