//! The AWS operations a plan carries: plain data that the executor (in the runtime
//! crate) turns into calls. References to things created earlier in the same apply
//! (a new target group's ARN, a just-registered task definition) are symbolic and
//! resolved while executing.

use serde::Serialize;

use ecsd_model::scaling_policy::ScalingMetric;
use ecsd_model::service::TaskDefinition;

use crate::state::Tags;

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

/// Health check settings to set; `None` keeps what AWS has (or its default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckInput {
    pub path: Option<String>,
    pub interval_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub matcher: Option<String>,
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

/// A load balancer registration of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerInput {
    pub target_group: TargetGroupRef,
    pub container_name: String,
    pub container_port: u16,
}

/// The awsvpc network of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInput {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

/// The deployment configuration of a rolling service; `None` fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    pub minimum_healthy_percent: Option<u32>,
    pub maximum_percent: Option<u32>,
    /// `(enable, rollback)`.
    pub circuit_breaker: Option<(bool, bool)>,
}

impl DeploymentInput {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &DeploymentInput::default()
    }
}

/// A service to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInput {
    pub cluster: String,
    pub name: String,
    /// `CODE_DEPLOY` for blue/green services; `None` for the ECS (rolling) controller.
    pub deployment_controller: Option<String>,
    pub task_definition: TaskDefinitionRef,
    pub desired_count: u32,
    pub network: NetworkInput,
    pub load_balancers: Vec<LoadBalancerInput>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment: DeploymentInput,
    pub tags: Tags,
}

/// Changes to an existing service; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUpdate {
    pub cluster: String,
    pub name: String,
    pub task_definition: Option<TaskDefinitionRef>,
    pub desired_count: Option<u32>,
    pub network: Option<NetworkInput>,
    pub load_balancers: Option<Vec<LoadBalancerInput>>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub deployment: Option<DeploymentInput>,
}

/// One AWS mutation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Op {
    CreateTargetGroup(TargetGroupInput),
    ModifyTargetGroupHealthCheck {
        arn: String,
        health_check: HealthCheckInput,
    },
    /// Sets the deregistration delay and records it in the attributes tag.
    SetDeregistrationDelay {
        target_group: TargetGroupRef,
        seconds: u32,
    },
    CreateRule {
        listener_arn: String,
        priority: u32,
        path_patterns: Vec<String>,
        host_headers: Vec<String>,
        target_group: TargetGroupRef,
        tags: Tags,
    },
    ModifyRule {
        rule_arn: String,
        path_patterns: Vec<String>,
        host_headers: Vec<String>,
        target_group: TargetGroupRef,
    },
    SetRulePriority {
        rule_arn: String,
        priority: u32,
    },
    DeleteRule {
        rule_arn: String,
    },
    /// Adds tags to an ELB resource (adopting it).
    TagElbResource {
        arn: String,
        tags: Tags,
    },
    DeleteTargetGroup {
        arn: String,
    },
    RegisterTaskDefinition {
        definition: Box<TaskDefinition>,
        tags: Tags,
    },
    CreateService(Box<ServiceInput>),
    UpdateService(Box<ServiceUpdate>),
    /// Tags an existing service (adopting it).
    TagService {
        arn: String,
        tags: Tags,
    },
    /// Records on the service which task definition it runs and the hash of the desired
    /// definition (see [`crate::ownership::TASK_DEFINITION_TAG`]).
    MarkTaskDefinition {
        cluster: String,
        service: String,
        task_definition: TaskDefinitionRef,
        hash: String,
    },
    /// Scales a service to zero and deletes it.
    DeleteService {
        cluster: String,
        name: String,
    },
    RegisterScalableTarget {
        resource_id: String,
        min_capacity: u32,
        max_capacity: u32,
        /// Tags for a target being created (AWS applies them only at creation).
        tags: Option<Tags>,
    },
    PutTargetTracking {
        resource_id: String,
        name: String,
        metric: ScalingMetric,
        target: f64,
        scale_in_cooldown_seconds: Option<u32>,
        scale_out_cooldown_seconds: Option<u32>,
        disable_scale_in: Option<bool>,
        /// For `requestsPerTarget`: the target group whose request count is tracked.
        target_group: Option<TargetGroupRef>,
    },
    DeleteScalingPolicy {
        resource_id: String,
        name: String,
    },
    PutScheduledAction {
        resource_id: String,
        name: String,
        schedule: String,
        timezone: Option<String>,
        min_capacity: Option<u32>,
        max_capacity: Option<u32>,
    },
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
    CreateDeploymentGroup(Box<crate::state::DeploymentGroupState>),
    UpdateDeploymentGroup(Box<crate::state::DeploymentGroupState>),
    /// Starts a blue/green deployment of a task definition (and network) through CodeDeploy.
    CreateCodeDeployDeployment(Box<CodeDeployDeploymentInput>),
}

/// A CodeDeploy deployment to start: the AppSpec's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeDeployDeploymentInput {
    pub application: String,
    pub group: String,
    pub task_definition: TaskDefinitionRef,
    pub container_name: String,
    pub container_port: u16,
    pub network: NetworkInput,
    /// AppSpec hook name (e.g. `AfterAllowTestTraffic`) and Lambda function.
    pub hooks: Vec<(String, String)>,
}

impl CodeDeployDeploymentInput {
    /// The ECS AppSpec (JSON) for `task_definition_arn`.
    pub fn appspec(&self, task_definition_arn: &str) -> String {
        let hooks: Vec<serde_json::Value> = self
            .hooks
            .iter()
            .map(|(k, v)| serde_json::json!({ k.as_str(): v }))
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
