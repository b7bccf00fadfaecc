//! `kind: ScalingPolicy`: Application Auto Scaling of one Service's DesiredCount.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The scalable target, target-tracking policies and scheduled actions of one Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingPolicySpec {
    /// The `metadata.name` of a Service manifest in the same source.
    pub service: String,
    /// The fewest tasks the autoscaler may run.
    #[schemars(range(min = 0, max = 5000))]
    pub min_capacity: u32,
    /// The most tasks the autoscaler may run; at least `minCapacity`.
    #[schemars(range(min = 0, max = 5000))]
    pub max_capacity: u32,
    /// Target-tracking policies, at most one per metric.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_tracking: Vec<TargetTracking>,
    /// Scheduled changes of the capacity range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<ScheduledAction>,
}

/// A target-tracking scaling policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetTracking {
    /// The metric tracked.
    pub metric: ScalingMetric,
    /// Percent for `cpu`/`memory` (1-100); requests per target per minute for `requestsPerTarget`.
    pub target: f64,
    /// Seconds after a scale-in before another (AWS default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub scale_in_cooldown_seconds: Option<u32>,
    /// Seconds after a scale-out before another (AWS default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub scale_out_cooldown_seconds: Option<u32>,
    /// When true the policy never removes tasks (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_scale_in: Option<bool>,
}

/// The predefined metrics a target-tracking policy can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScalingMetric {
    Cpu,
    Memory,
    RequestsPerTarget,
}

impl ScalingMetric {
    /// Every metric.
    pub const ALL: [ScalingMetric; 3] = [
        ScalingMetric::Cpu,
        ScalingMetric::Memory,
        ScalingMetric::RequestsPerTarget,
    ];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalingMetric::Cpu => "cpu",
            ScalingMetric::Memory => "memory",
            ScalingMetric::RequestsPerTarget => "requestsPerTarget",
        }
    }

    /// The Application Auto Scaling predefined metric type it tracks.
    pub fn predefined_metric_type(self) -> &'static str {
        match self {
            ScalingMetric::Cpu => "ECSServiceAverageCPUUtilization",
            ScalingMetric::Memory => "ECSServiceAverageMemoryUtilization",
            ScalingMetric::RequestsPerTarget => "ALBRequestCountPerTarget",
        }
    }

    /// The metric tracking the predefined metric type `aws`, if it is one of ecsd's.
    pub fn from_predefined_metric_type(aws: &str) -> Option<ScalingMetric> {
        Self::ALL
            .into_iter()
            .find(|m| m.predefined_metric_type() == aws)
    }
}

/// A scheduled action that changes the capacity range at given times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduledAction {
    /// A name unique within the policy.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// `cron(...)`, `rate(...)` or `at(...)` in Application Auto Scaling syntax.
    pub schedule: String,
    /// An IANA time zone such as `Europe/Berlin` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The new minimum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 5000))]
    pub min_capacity: Option<u32>,
    /// The new maximum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 5000))]
    pub max_capacity: Option<u32>,
}
