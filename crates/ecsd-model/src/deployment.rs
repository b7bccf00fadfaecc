//! A Service's `deployment` block: the strategy (rolling, CodeDeploy's blueGreen, ECS's
//! own ecsBlueGreen, linear and canary) and its settings, the circuit breaker, deployment
//! alarms and early success criteria; its lifecycle hooks are [`crate::hook`], its canary
//! analysis [`crate::analysis`]. Re-exported by [`crate::service`], where `ServiceSpec`
//! holds it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hook::LifecycleHook;

/// How the service rolls out a new task definition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// `rolling` (default, the ECS deployment controller) or `blueGreen` (CodeDeploy).
    #[serde(default)]
    pub strategy: Strategy,
    /// The lower bound of running tasks during a deployment, in percent of desiredCount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub minimum_healthy_percent: Option<u32>,
    /// The upper bound of running tasks during a deployment, in percent of desiredCount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 200))]
    pub maximum_percent: Option<u32>,
    /// The ECS deployment circuit breaker (rolling only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// CloudWatch alarms that fail (and optionally roll back) a deployment: ECS's
    /// `deploymentConfiguration.alarms` (the ECS deployment controller only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<DeploymentAlarms>,
    /// When a rolling deployment counts as done before every old task is gone: ECS's
    /// `deploymentConfiguration.earlySuccessCriteria` (`rolling` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_success_criteria: Option<EarlySuccessCriteria>,
    /// CodeDeploy blue/green settings: required when `strategy` is `blueGreen`, forbidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreen>,
    /// Minutes both revisions keep running after production traffic moved (0-1440):
    /// required with `ecsBlueGreen`, `linear` and `canary`, forbidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1440))]
    pub bake_time_minutes: Option<u32>,
    /// The steps of a `linear` deployment (only with `strategy: linear`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Linear>,
    /// The canary step of a `canary` deployment (only with `strategy: canary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
    /// Where ECS shifts traffic in a native deployment: required with `ecsBlueGreen`,
    /// `linear` and `canary`, forbidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Traffic>,
    /// ECS lifecycle hooks of native deployments: Lambda functions and pauses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub lifecycle_hooks: Vec<LifecycleHook>,
    /// Continue the paused deployment this names (its id or ARN, its target service
    /// revision's id or ARN, or the paused hook's id), once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub approve: Option<String>,
    /// Roll back the paused deployment this names (as `approve`), once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub rollback: Option<String>,
    /// Canary analysis: at a pause, CloudWatch metrics decide whether the deployment
    /// continues, rolls back or waits for a person (ECS-native strategies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<crate::analysis::Analysis>,
}

impl Deployment {
    /// Whether ECS itself shifts traffic (`ecsBlueGreen`, `linear`, `canary`).
    pub fn is_native(&self) -> bool {
        self.strategy.is_native()
    }
}

/// The deployment strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Strategy {
    /// ECS replaces tasks in place (ECS `ROLLING`).
    #[default]
    Rolling,
    /// CodeDeploy blue/green (deployment controller `CODE_DEPLOY`).
    BlueGreen,
    /// ECS's own blue/green (ECS `BLUE_GREEN`).
    EcsBlueGreen,
    /// ECS shifts production traffic in equal steps (ECS `LINEAR`).
    Linear,
    /// ECS shifts a canary share, then the rest (ECS `CANARY`).
    Canary,
}

impl Strategy {
    /// Whether ECS itself shifts traffic between two target groups.
    pub fn is_native(self) -> bool {
        matches!(
            self,
            Strategy::EcsBlueGreen | Strategy::Linear | Strategy::Canary
        )
    }

    /// The manifest's name for it (`rolling`, `blueGreen`, `ecsBlueGreen`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Rolling => "rolling",
            Strategy::BlueGreen => "blueGreen",
            Strategy::EcsBlueGreen => "ecsBlueGreen",
            Strategy::Linear => "linear",
            Strategy::Canary => "canary",
        }
    }

    /// ECS's name for it (`deploymentConfiguration.strategy`); CodeDeploy's is `ROLLING`
    /// under the CODE_DEPLOY controller.
    pub fn ecs_name(self) -> &'static str {
        match self {
            Strategy::Rolling | Strategy::BlueGreen => "ROLLING",
            Strategy::EcsBlueGreen => "BLUE_GREEN",
            Strategy::Linear => "LINEAR",
            Strategy::Canary => "CANARY",
        }
    }

    /// The strategy ECS calls `name` (`None` for one ecsd does not know).
    pub fn from_ecs(name: &str) -> Option<Strategy> {
        match name {
            "ROLLING" => Some(Strategy::Rolling),
            "BLUE_GREEN" => Some(Strategy::EcsBlueGreen),
            "LINEAR" => Some(Strategy::Linear),
            "CANARY" => Some(Strategy::Canary),
            _ => None,
        }
    }
}

/// A `linear` deployment's steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Linear {
    /// Percent of production traffic moved per step: 3.0-100.0 in steps of 0.1 (default 10).
    #[serde(default = "default_step_percent")]
    #[schemars(range(min = 3.0, max = 100.0))]
    pub step_percent: f64,
    /// Minutes between steps, 0-1440 (default 6).
    #[serde(default = "default_step_bake")]
    #[schemars(range(min = 0, max = 1440))]
    pub step_bake_time_minutes: u32,
}

impl Default for Linear {
    fn default() -> Self {
        Linear {
            step_percent: default_step_percent(),
            step_bake_time_minutes: default_step_bake(),
        }
    }
}

fn default_step_percent() -> f64 {
    10.0
}

fn default_step_bake() -> u32 {
    6
}

/// A `canary` deployment's canary step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Canary {
    /// Percent of production traffic the canary gets: 0.1-100.0 in steps of 0.1 (default 5).
    #[serde(default = "default_canary_percent")]
    #[schemars(range(min = 0.1, max = 100.0))]
    pub canary_percent: f64,
    /// Minutes before the rest of the traffic moves, 0-1440 (default 10).
    #[serde(default = "default_canary_bake")]
    #[schemars(range(min = 0, max = 1440))]
    pub canary_bake_time_minutes: u32,
}

impl Default for Canary {
    fn default() -> Self {
        Canary {
            canary_percent: default_canary_percent(),
            canary_bake_time_minutes: default_canary_bake(),
        }
    }
}

fn default_canary_percent() -> f64 {
    5.0
}

fn default_canary_bake() -> u32 {
    10
}

/// Where ECS shifts traffic in a native deployment (ECS `loadBalancers[].advancedConfiguration`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Traffic {
    /// The second TargetGroup manifest, for the new revision's tasks.
    pub alternate_target_group: String,
    /// The TargetGroup manifest (the service's or the alternate) whose `listenerRule`
    /// carries production traffic.
    pub production_listener_rule: String,
    /// The TargetGroup manifest whose `listenerRule` carries test traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener_rule: Option<String>,
    /// The IAM role ECS uses to change the listener rules.
    pub role_arn: String,
}

/// The ECS deployment circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Stop a deployment whose tasks keep failing.
    pub enable: bool,
    /// Roll back to the last completed deployment when it stops.
    #[serde(default)]
    pub rollback: bool,
    /// Whether a task that becomes healthy resets the failure count (AWS's default:
    /// true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_on_healthy_task: Option<bool>,
    /// How many task failures stop the deployment (AWS's default: boundedPercent 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_configuration: Option<Threshold>,
}

impl CircuitBreaker {
    /// Enabled or not, with AWS's defaults for everything else.
    pub fn new(enable: bool, rollback: bool) -> Self {
        CircuitBreaker {
            enable,
            rollback,
            reset_on_healthy_task: None,
            threshold_configuration: None,
        }
    }

    /// The same breaker with a setting equal to AWS's default left out, so that a
    /// default written out and a default left out compare equal.
    pub fn normalized(self) -> Self {
        CircuitBreaker {
            reset_on_healthy_task: self.reset_on_healthy_task.filter(|r| !*r),
            threshold_configuration: self
                .threshold_configuration
                .filter(|t| *t != Threshold::DEFAULT),
            ..self
        }
    }
}

/// The circuit breaker's failure threshold: `value` times the desired count, clamped
/// to 3-200 (`boundedPercent`) or not (`unboundedPercent`), or `value` itself (`count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Threshold {
    #[serde(rename = "type")]
    pub kind: ThresholdKind,
    pub value: u32,
}

impl Threshold {
    /// AWS's default: `boundedPercent`, 50.
    pub const DEFAULT: Threshold = Threshold {
        kind: ThresholdKind::BoundedPercent,
        value: 50,
    };
}

/// How the circuit breaker's `value` becomes a failure count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ThresholdKind {
    BoundedPercent,
    UnboundedPercent,
    Count,
}

impl ThresholdKind {
    /// ECS's name (`BOUNDED_PERCENT`, `UNBOUNDED_PERCENT`, `COUNT`).
    pub fn ecs_name(self) -> &'static str {
        match self {
            ThresholdKind::BoundedPercent => "BOUNDED_PERCENT",
            ThresholdKind::UnboundedPercent => "UNBOUNDED_PERCENT",
            ThresholdKind::Count => "COUNT",
        }
    }

    /// The kind ECS calls `name`.
    pub fn from_ecs(name: &str) -> Option<ThresholdKind> {
        match name {
            "BOUNDED_PERCENT" => Some(ThresholdKind::BoundedPercent),
            "UNBOUNDED_PERCENT" => Some(ThresholdKind::UnboundedPercent),
            "COUNT" => Some(ThresholdKind::Count),
            _ => None,
        }
    }
}

/// CloudWatch alarms ECS watches during a deployment (ECS's `DeploymentAlarms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentAlarms {
    /// CloudWatch alarm names; an alarm going off fails the deployment.
    #[schemars(length(min = 1))]
    pub alarm_names: Vec<String>,
    /// Whether ECS watches them (default true).
    #[serde(default = "crate::defaults::on")]
    pub enable: bool,
    /// Roll back to the last completed deployment when one goes off (default false).
    #[serde(default)]
    pub rollback: bool,
}

impl DeploymentAlarms {
    /// What AWS has when a service has none.
    pub fn none() -> Self {
        DeploymentAlarms {
            alarm_names: Vec::new(),
            enable: false,
            rollback: false,
        }
    }

    /// Whether these are the same as having none (nothing watched).
    pub fn is_none(&self) -> bool {
        self.alarm_names.is_empty() && !self.enable && !self.rollback
    }
}

/// When a rolling deployment counts as successful (ECS's
/// `DeploymentEarlySuccessCriteria`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarlySuccessCriteria {
    /// Whether ECS uses these criteria (default true when the block is given).
    #[serde(default = "crate::defaults::on")]
    pub enable: bool,
    /// The share of healthy tasks of the new revision, in percent of desiredCount,
    /// at which the deployment counts as done (0-100, at least minimumHealthyPercent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub healthy_percent: Option<u32>,
    /// When the old revision's tasks are removed: before success is declared
    /// (`blocking`) or after it, in the background (`deferred`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_service_revision_cleanup: Option<RevisionCleanup>,
}

impl EarlySuccessCriteria {
    /// What AWS has when a service has none: ECS's default behaviour.
    pub fn off() -> Self {
        EarlySuccessCriteria {
            enable: false,
            healthy_percent: None,
            source_service_revision_cleanup: None,
        }
    }
}

/// When the old revision's tasks go (ECS's `ServiceRevisionCleanup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RevisionCleanup {
    Blocking,
    Deferred,
}

impl RevisionCleanup {
    /// ECS's name (`BLOCKING`, `DEFERRED`).
    pub fn ecs_name(self) -> &'static str {
        match self {
            RevisionCleanup::Blocking => "BLOCKING",
            RevisionCleanup::Deferred => "DEFERRED",
        }
    }

    /// The cleanup ECS calls `name`.
    pub fn from_ecs(name: &str) -> Option<RevisionCleanup> {
        match name {
            "BLOCKING" => Some(RevisionCleanup::Blocking),
            "DEFERRED" => Some(RevisionCleanup::Deferred),
            _ => None,
        }
    }
}

/// CodeDeploy blue/green deployment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlueGreen {
    /// The second TargetGroup manifest that receives the replacement tasks.
    pub alternate_target_group: String,
    /// The ARN of the listener that serves production traffic.
    pub prod_listener_arn: String,
    /// The ARN of a listener for test traffic to the replacement tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener_arn: Option<String>,
    /// A CodeDeploy ECS deployment configuration name (default `CodeDeployDefault.ECSAllAtOnce`).
    #[serde(default = "default_traffic_shift")]
    pub traffic_shift: String,
    /// Minutes the old (blue) tasks keep running after traffic moved (default 5).
    #[serde(default = "default_terminate_minutes")]
    #[schemars(range(min = 0, max = 2880))]
    pub terminate_blue_after_minutes: u32,
    /// Roll back automatically on failure or alarm (default true).
    #[serde(default = "crate::defaults::on")]
    pub auto_rollback: bool,
    /// CloudWatch alarm names that stop and roll back a deployment (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub alarms: Vec<String>,
    /// The IAM role CodeDeploy uses.
    pub service_role_arn: String,
    /// Lambda functions CodeDeploy runs at the AppSpec hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_hooks: Option<ValidationHooks>,
}

fn default_traffic_shift() -> String {
    "CodeDeployDefault.ECSAllAtOnce".to_owned()
}

fn default_terminate_minutes() -> u32 {
    5
}

/// Lambda functions (names or ARNs) for the CodeDeploy ECS AppSpec hooks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidationHooks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_install: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_install: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_allow_test_traffic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_allow_traffic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_allow_traffic: Option<String>,
}

impl ValidationHooks {
    /// Every hook that is set, with its manifest key.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("beforeInstall", &self.before_install),
            ("afterInstall", &self.after_install),
            ("afterAllowTestTraffic", &self.after_allow_test_traffic),
            ("beforeAllowTraffic", &self.before_allow_traffic),
            ("afterAllowTraffic", &self.after_allow_traffic),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    }
}
