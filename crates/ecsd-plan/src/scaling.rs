//! Planning a ScalingPolicy: the scalable target, target-tracking policies and scheduled
//! actions of one service.

use serde_json::{Map, Value, json};

use ecsd_model::scaling_policy::{ScalingMetric, ScalingPolicySpec};
use ecsd_model::{Kind, Manifest, ObjectKey};

use crate::ops::{Op, TargetGroupRef};
use crate::ownership::{
    self, cluster_name, policy_name, scaling_resource_id, scheduled_action_name,
};
use crate::plan::{Change, Context, change};
use crate::state::{ScalingPolicyState, ScheduledActionState};

/// The Application Auto Scaling predefined metric for a manifest metric.
pub fn metric_type(metric: ScalingMetric) -> &'static str {
    match metric {
        ScalingMetric::Cpu => "ECSServiceAverageCPUUtilization",
        ScalingMetric::Memory => "ECSServiceAverageMemoryUtilization",
        ScalingMetric::RequestsPerTarget => "ALBRequestCountPerTarget",
    }
}

fn metric_of(metric_type: &str) -> Option<ScalingMetric> {
    [
        ScalingMetric::Cpu,
        ScalingMetric::Memory,
        ScalingMetric::RequestsPerTarget,
    ]
    .into_iter()
    .find(|m| self::metric_type(*m) == metric_type)
}

pub(crate) fn plan(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &ScalingPolicySpec,
) -> Result<Option<Change>, String> {
    let key = m.key();
    let name = &m.metadata.name;
    let Some((_, service)) = ctx.service(&spec.service) else {
        return Err(format!("Service {:?} is not in the source", spec.service));
    };
    let cluster = cluster_name(&service.cluster).to_owned();
    if let Some(svc) = ctx
        .observed
        .services
        .get(&(cluster.clone(), spec.service.clone()))
        && !ownership::is_owned(&svc.tags, &ctx.opts.owner)
        && !ctx.opts.adopt
    {
        return Err(format!(
            "service {:?} is not owned by ecsd, so its scaling is left alone; use --adopt to take it over",
            spec.service
        ));
    }
    let rid = scaling_resource_id(&cluster, &spec.service);
    let desired = serde_json::to_value(spec).unwrap_or(Value::Null);
    let target = ctx.observed.scalable_targets.get(&rid);
    let prefix = format!("{}{name}-", ownership::SCALING_NAME_PREFIX);
    let policies: Vec<&ScalingPolicyState> = ctx
        .observed
        .scaling_policies
        .get(&rid)
        .into_iter()
        .flatten()
        .filter(|p| p.name.starts_with(&prefix))
        .collect();
    let actions: Vec<&ScheduledActionState> = ctx
        .observed
        .scheduled_actions
        .get(&rid)
        .into_iter()
        .flatten()
        .filter(|a| a.name.starts_with(&prefix))
        .collect();
    let mut ops = Vec::new();
    if target
        .is_none_or(|t| t.min_capacity != spec.min_capacity || t.max_capacity != spec.max_capacity)
    {
        ops.push(Op::RegisterScalableTarget {
            resource_id: rid.clone(),
            min_capacity: spec.min_capacity,
            max_capacity: spec.max_capacity,
            tags: target
                .is_none()
                .then(|| ownership::owner_tags(&ctx.opts.owner, &key, &m.metadata.labels)),
        });
    }
    // Observed policies in the manifest's order, then the owned ones it no longer has.
    let mut observed_tt = Vec::new();
    for (i, tt) in spec.target_tracking.iter().enumerate() {
        let pname = policy_name(name, tt.metric.as_str());
        let found = policies.iter().find(|p| p.name == pname);
        let want = desired
            .pointer(&format!("/targetTracking/{i}"))
            .cloned()
            .unwrap_or(Value::Null);
        let have = found.map_or(Value::Null, |p| policy_value(p));
        if found.is_none() || !crate::diff::diff(&want, &have).is_empty() {
            let target_group = (tt.metric == ScalingMetric::RequestsPerTarget)
                .then(|| service.load_balancers.first())
                .flatten()
                .map(|lb| {
                    ctx.observed
                        .target_groups
                        .get(&lb.target_group)
                        .map_or_else(
                            || TargetGroupRef::Name(lb.target_group.clone()),
                            |t| TargetGroupRef::Arn(t.arn.clone()),
                        )
                });
            ops.push(Op::PutTargetTracking {
                resource_id: rid.clone(),
                name: pname,
                metric: tt.metric,
                target: tt.target,
                scale_in_cooldown_seconds: tt.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds: tt.scale_out_cooldown_seconds,
                disable_scale_in: tt.disable_scale_in,
                target_group,
            });
        }
        if found.is_some() {
            observed_tt.push(have);
        } else {
            observed_tt.push(json!({}));
        }
    }
    for p in &policies {
        if !spec
            .target_tracking
            .iter()
            .any(|tt| policy_name(name, tt.metric.as_str()) == p.name)
        {
            observed_tt.push(policy_value(p));
            ops.push(Op::DeleteScalingPolicy {
                resource_id: rid.clone(),
                name: p.name.clone(),
            });
        }
    }
    let mut observed_sched = Vec::new();
    for (i, s) in spec.scheduled.iter().enumerate() {
        let aname = scheduled_action_name(name, &s.name);
        let found = actions.iter().find(|a| a.name == aname);
        let want = desired
            .pointer(&format!("/scheduled/{i}"))
            .cloned()
            .unwrap_or(Value::Null);
        let have = found.map_or(json!({}), |a| action_value(a, &s.name));
        if found.is_none() || !crate::diff::diff(&want, &have).is_empty() {
            ops.push(Op::PutScheduledAction {
                resource_id: rid.clone(),
                name: aname,
                schedule: s.schedule.clone(),
                timezone: s.timezone.clone(),
                min_capacity: s.min_capacity,
                max_capacity: s.max_capacity,
            });
        }
        observed_sched.push(have);
    }
    for a in &actions {
        if !spec
            .scheduled
            .iter()
            .any(|s| scheduled_action_name(name, &s.name) == a.name)
        {
            let short = a.name.strip_prefix(&prefix).unwrap_or(&a.name);
            observed_sched.push(action_value(a, short));
            ops.push(Op::DeleteScheduledAction {
                resource_id: rid.clone(),
                name: a.name.clone(),
            });
        }
    }
    let exists = target.is_some() || !policies.is_empty() || !actions.is_empty();
    let observed = if exists {
        json!({
            "service": spec.service,
            "minCapacity": target.map(|t| t.min_capacity),
            "maxCapacity": target.map(|t| t.max_capacity),
            "targetTracking": observed_tt,
            "scheduled": observed_sched,
        })
    } else {
        json!({})
    };
    let depends_on = vec![ObjectKey {
        kind: Kind::Service,
        name: spec.service.clone(),
    }];
    Ok(change(
        key,
        exists,
        &desired,
        &observed,
        ops,
        Vec::new(),
        depends_on,
    ))
}

fn policy_value(p: &ScalingPolicyState) -> Value {
    let mut v = Map::new();
    let metric = metric_of(&p.metric_type).map_or(p.metric_type.clone(), |m| m.as_str().to_owned());
    v.insert("metric".into(), json!(metric));
    v.insert("target".into(), json!(p.target));
    if let Some(c) = p.scale_in_cooldown_seconds {
        v.insert("scaleInCooldownSeconds".into(), json!(c));
    }
    if let Some(c) = p.scale_out_cooldown_seconds {
        v.insert("scaleOutCooldownSeconds".into(), json!(c));
    }
    if let Some(d) = p.disable_scale_in {
        v.insert("disableScaleIn".into(), json!(d));
    }
    Value::Object(v)
}

fn action_value(a: &ScheduledActionState, short_name: &str) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(short_name));
    v.insert("schedule".into(), json!(a.schedule));
    if let Some(t) = &a.timezone {
        v.insert("timezone".into(), json!(t));
    }
    if let Some(c) = a.min_capacity {
        v.insert("minCapacity".into(), json!(c));
    }
    if let Some(c) = a.max_capacity {
        v.insert("maxCapacity".into(), json!(c));
    }
    Value::Object(v)
}
