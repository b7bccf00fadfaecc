//! `ecsd migrate`: the ScalingPolicy from the group's min/max and its target tracking
//! of CPU and requests per target.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use ecsd_aws::{Fleet, FleetPolicy};
use ecsd_model::scaling_policy::ScalingMetric;

use crate::generate::yaml::Document;

/// The ScalingPolicy of `service`, when the group scales (by policy or min/max).
pub(super) fn scaling_policy(
    fleet: &Fleet,
    service: &str,
    labels: BTreeMap<String, String>,
) -> Option<Document> {
    // The ScalingPolicy.
    let mut comments = vec![format!(
        "The group's min {} / max {} instances become tasks; target tracking keeps its targets.",
        fleet.min_size, fleet.max_size
    )];
    let mut tracking = Vec::new();
    for p in &fleet.policies {
        match p {
            FleetPolicy::TargetTracking {
                name,
                metric,
                target,
                disable_scale_in,
            } => {
                let ecs = match metric.as_str() {
                    "ASGAverageCPUUtilization" => Some(ScalingMetric::Cpu),
                    "ALBRequestCountPerTarget" => Some(ScalingMetric::RequestsPerTarget),
                    _ => None,
                };
                match ecs {
                    Some(m) if !tracking.iter().any(|t: &Value| t["metric"] == json!(m)) => {
                        comments.push(format!(
                            "{name:?} ({metric} at {target}) becomes {} at {target}",
                            m.predefined_metric_type()
                        ));
                        let mut t = json!({"metric": m, "target": target});
                        if *disable_scale_in {
                            t["disableScaleIn"] = json!(true);
                        }
                        tracking.push(t);
                    }
                    Some(_) => comments.push(format!(
                        "{name:?} tracks {metric} again: ECS takes one policy per metric, so it is left out"
                    )),
                    None => comments.push(format!(
                        "{name:?} tracks {metric}, which has no ECS service metric: left out (ECS tracks CPU, memory and requests per target)"
                    )),
                }
            }
            FleetPolicy::Other { name, kind } => comments.push(format!(
                "{name:?} is a {kind} policy, which a manifest cannot express: left out"
            )),
        }
    }
    for (name, recurrence) in &fleet.scheduled {
        comments.push(format!(
            "scheduled action {name:?} ({}) is not carried over: add it under scheduled (Application Auto Scaling takes cron(...) with six fields)",
            recurrence.as_deref().unwrap_or("once")
        ));
    }
    (!tracking.is_empty() || fleet.min_size != fleet.max_size).then(|| Document {
        kind: "ScalingPolicy",
        name: service.to_owned(),
        labels,
        spec: json!({
            "service": service,
            "minCapacity": fleet.min_size,
            "maxCapacity": fleet.max_size.max(fleet.min_size),
            "targetTracking": tracking,
        }),
        comments,
    })
}
