//! `ecsd import`: a ScalingPolicy document from the service's scalable target, its
//! target tracking policies and scheduled actions.

use serde_json::Value;

use ecsd_model::scaling_policy::{
    ScalingMetric, ScalingPolicySpec, ScheduledAction, TargetTracking,
};
use ecsd_plan::ownership::scheduled_action_name;

use super::read::ServiceRead;
use crate::generate::yaml::{Document, labels};

/// The ScalingPolicy of `r`'s service, if it has a scalable target.
pub(super) fn scaling_policy(r: &ServiceRead<'_>) -> Option<Document> {
    let svc = r.svc;
    let rid = svc.id.scaling_resource_id();
    let target = r.scaling.targets.get(&rid)?;
    let mut comments = Vec::new();
    let mut tracking = Vec::new();
    for p in r.scaling.policies.get(&rid).into_iter().flatten() {
        match ScalingMetric::from_predefined_metric_type(&p.metric_type) {
            Some(metric) => tracking.push(TargetTracking {
                metric,
                target: p.target,
                scale_in_cooldown_seconds: p.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds: p.scale_out_cooldown_seconds,
                disable_scale_in: p.disable_scale_in,
            }),
            None => comments.push(format!(
                "the policy {:?} ({}) has no manifest form: only target tracking of CPU, memory and requests per target is managed",
                p.name, p.metric_type
            )),
        }
    }
    let scheduled = r
        .scaling
        .actions
        .get(&rid)
        .into_iter()
        .flatten()
        .map(|a| ScheduledAction {
            // One ecsd made is named after its ScalingPolicy (the service's name here).
            name: a
                .name
                .strip_prefix(&scheduled_action_name(&svc.id.name, ""))
                .unwrap_or(&a.name)
                .to_owned(),
            schedule: a.schedule.clone(),
            timezone: a.timezone.clone(),
            min_capacity: a.min_capacity,
            max_capacity: a.max_capacity,
        })
        .collect();
    let spec = ScalingPolicySpec {
        service: svc.id.name.clone(),
        min_capacity: target.min_capacity,
        max_capacity: target.max_capacity,
        target_tracking: tracking,
        scheduled,
    };
    Some(Document {
        kind: "ScalingPolicy",
        name: svc.id.name.clone(),
        labels: labels(r.scaling_tags),
        spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
        comments,
    })
}
