//! What `/status` says about an object beyond sync and health: the signals behind its
//! health ([`HealthDetails`]), a Service's deployment under way ([`DeploymentProgress`]),
//! its tasks, and its history (each revision applied: when, which, the result).

use std::collections::VecDeque;

use ecsd_plan::signals::{AlarmState, ScalingActivity, TargetHealth};
use serde::Serialize;

/// A ScalingPolicy's bounds, count and activities, for `/status` (assessed by
/// `pass/health/scaling.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingDetails {
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub desired_count: u32,
    /// `minimum` or `maximum` while the count sits at that bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_bound: Option<&'static str>,
    /// Since when (Unix seconds), as far as AWS's records tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_bound_since: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<ScalingActivity>,
}

/// The signals an object's health was decided from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthDetails {
    /// A TargetGroup's targets by state, with AWS's reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetHealth>,
    /// A Service's deployment alarms and their CloudWatch state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<AlarmState>,
    /// Deployment alarms CloudWatch does not have.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_alarms: Vec<String>,
    /// A ScalingPolicy's bounds, count and newest activities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingDetails>,
    /// ECS's "task start impaired" service event, while it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_impaired: Option<String>,
    /// Why ECS (or CodeDeploy) rolled the Service's last deployment back, while its
    /// deployments still show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
}

impl HealthDetails {
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
            && self.alarms.is_empty()
            && self.missing_alarms.is_empty()
            && self.scaling.is_none()
            && self.start_impaired.is_none()
            && self.rollback.is_none()
    }
}

/// A Service's deployment under way.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentProgress {
    /// The manifest's strategy: `rolling`, `blueGreen`, `ecsBlueGreen`, `linear`, `canary`.
    pub strategy: String,
    /// The deployment's id, when ECS or CodeDeploy gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// AWS's status of it, e.g. `IN_PROGRESS`.
    pub status: String,
    /// The lifecycle stage, e.g. `PRODUCTION_TRAFFIC_SHIFT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The share of production traffic on the new revision, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_percent: Option<f64>,
}

/// A Service's tasks and the revision it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tasks {
    pub running: u32,
    pub desired: u32,
    /// `family:revision` of the task definition the service runs.
    pub task_definition: String,
}

/// One change ecsd applied to an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// RFC 3339, UTC.
    pub at: String,
    /// The source revision (a git commit, an S3 version) it applied.
    pub revision: String,
    /// `create`, `update`, `replace`, `delete`, or `correct drift`.
    pub action: String,
    /// `applied`, or `failed: <error>`.
    pub result: String,
}

/// How many history entries are kept per object (the newest).
pub const HISTORY_KEPT: usize = 20;

/// Adds an entry, dropping the oldest beyond [`HISTORY_KEPT`].
pub fn remember(history: &mut VecDeque<HistoryEntry>, entry: HistoryEntry) {
    history.push_back(entry);
    while history.len() > HISTORY_KEPT {
        history.pop_front();
    }
}

/// `family:revision` from a task definition ARN (the ARN itself if it has no `/`).
pub fn short_task_definition(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_and_task_definitions_read_short() {
        let mut h = VecDeque::new();
        for i in 0..25 {
            remember(
                &mut h,
                HistoryEntry {
                    at: String::new(),
                    revision: i.to_string(),
                    action: "update".into(),
                    result: "applied".into(),
                },
            );
        }
        assert_eq!(h.len(), HISTORY_KEPT);
        assert_eq!(h.front().map(|e| e.revision.as_str()), Some("5"));
        assert_eq!(
            short_task_definition("arn:aws:ecs:us-east-1:1:task-definition/web:7"),
            "web:7"
        );
    }
}
