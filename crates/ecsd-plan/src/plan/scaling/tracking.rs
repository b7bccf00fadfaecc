//! A ScalingPolicy's target-tracking policies: one per metric, named
//! `ecsd-<ScalingPolicy>-<metric>` (or another tool's, adopted under its own name).

use serde_json::{Value, json};

use ecsd_model::scaling_policy::{ScalingMetric, ScalingPolicySpec, TargetTracking};
use ecsd_model::service::ServiceSpec;

use super::owned::Owned;
use crate::defaults;
use crate::ops::{Op, TargetTrackingInput};
use crate::ownership::policy_name;
use crate::plan::{Context, Draft};
use crate::state::ScalingPolicyState;

/// Another tool's policies for a metric the manifest lists, taken over with `--adopt`:
/// each with whether it keeps its name.
pub(super) fn adopt<'a>(
    spec: &ScalingPolicySpec,
    all: impl Iterator<Item = &'a ScalingPolicyState>,
    owned: &mut Owned,
    draft: &mut Draft,
) -> Vec<(&'a ScalingPolicyState, bool)> {
    let mut adopted: Vec<(&ScalingPolicyState, bool)> = Vec::new();
    for p in all.filter(|p| Owned::foreign(&p.name)) {
        let metric = ScalingMetric::from_predefined_metric_type(&p.metric_type);
        let listed = spec
            .target_tracking
            .iter()
            .any(|tt| Some(tt.metric) == metric);
        let taken = adopted
            .iter()
            .any(|(q, _)| ScalingMetric::from_predefined_metric_type(&q.metric_type) == metric);
        if listed && !taken {
            let delete = Op::DeleteScalingPolicy {
                resource_id: owned.rid.clone(),
                name: p.name.clone(),
            };
            let kept = owned.adopt_one("target-tracking policy", &p.name, delete, draft);
            adopted.push((p, kept));
        }
    }
    adopted
}

/// The policies the manifest wants and those observed (in the manifest's order, then
/// the owned ones it no longer has), with the operations between them in `draft`.
pub(super) fn plan(
    ctx: &Context<'_>,
    spec: &ScalingPolicySpec,
    service: &ServiceSpec,
    policies: &[&ScalingPolicyState],
    adopted: &[(&ScalingPolicyState, bool)],
    owned: &mut Owned,
    draft: &mut Draft,
) -> (Vec<Value>, Vec<Value>) {
    let rid = owned.rid.clone();
    let mut observed_tt = Vec::new();
    let mut matched: Vec<&str> = Vec::new();
    let desired_tt: Vec<Value> = spec.target_tracking.iter().map(tracking_value).collect();
    for (tt, want) in spec.target_tracking.iter().zip(&desired_tt) {
        let metric_of = |p: &ScalingPolicyState| {
            ScalingMetric::from_predefined_metric_type(&p.metric_type) == Some(tt.metric)
        };
        let pname = policy_name(&owned.name, tt.metric.as_str());
        // ecsd's own (by its name, or recorded), else another tool's being adopted.
        let own = policies
            .iter()
            .find(|p| p.name == pname)
            .or_else(|| {
                policies
                    .iter()
                    .find(|p| owned.recorded.contains(&p.name) && metric_of(p))
            })
            .copied();
        let adopted = own
            .is_none()
            .then(|| adopted.iter().find(|(p, _)| metric_of(p)))
            .flatten();
        let (have, put_as) = match (own, adopted) {
            (Some(p), _) => (Some(p), p.name.clone()),
            (None, Some((p, true))) => (Some(*p), p.name.clone()),
            (None, Some((p, false))) => (Some(*p), pname),
            (None, None) => (None, pname),
        };
        matched.extend(have.map(|p| p.name.as_str()));
        let have = have.map(policy_value);
        let renamed = matches!(adopted, Some((_, false)));
        if renamed
            || have
                .as_ref()
                .is_none_or(|h| !crate::diff::diff(want, h).is_empty())
        {
            let target_group = (tt.metric == ScalingMetric::RequestsPerTarget)
                .then(|| service.load_balancers.first())
                .flatten()
                .map(|lb| ctx.target_group_ref(&lb.target_group));
            draft
                .ops
                .push(Op::PutTargetTracking(Box::new(TargetTrackingInput {
                    resource_id: rid.clone(),
                    name: put_as,
                    metric: tt.metric,
                    target: tt.target,
                    scale_in_cooldown_seconds: tt
                        .scale_in_cooldown_seconds
                        .unwrap_or(defaults::SCALING_COOLDOWN),
                    scale_out_cooldown_seconds: tt
                        .scale_out_cooldown_seconds
                        .unwrap_or(defaults::SCALING_COOLDOWN),
                    disable_scale_in: tt.disable_scale_in.unwrap_or(defaults::DISABLE_SCALE_IN),
                    target_group,
                })));
        }
        observed_tt.push(have.unwrap_or_else(|| json!({})));
    }
    for p in policies {
        if !matched.contains(&p.name.as_str()) {
            observed_tt.push(policy_value(p));
            owned.record.remove(&p.name);
            draft.ops.push(Op::DeleteScalingPolicy {
                resource_id: rid.clone(),
                name: p.name.clone(),
            });
        }
    }
    (desired_tt, observed_tt)
}

/// A target-tracking entry of the manifest, defaults filled in.
fn tracking_value(tt: &TargetTracking) -> Value {
    json!({
        "metric": tt.metric,
        "target": tt.target,
        "scaleInCooldownSeconds": tt.scale_in_cooldown_seconds.unwrap_or(defaults::SCALING_COOLDOWN),
        "scaleOutCooldownSeconds": tt.scale_out_cooldown_seconds.unwrap_or(defaults::SCALING_COOLDOWN),
        "disableScaleIn": tt.disable_scale_in.unwrap_or(defaults::DISABLE_SCALE_IN),
    })
}

fn policy_value(p: &ScalingPolicyState) -> Value {
    let metric = ScalingMetric::from_predefined_metric_type(&p.metric_type)
        .map_or(p.metric_type.clone(), |m| m.as_str().to_owned());
    json!({
        "metric": metric,
        "target": p.target,
        "scaleInCooldownSeconds": p.scale_in_cooldown_seconds.unwrap_or(defaults::SCALING_COOLDOWN),
        "scaleOutCooldownSeconds": p.scale_out_cooldown_seconds.unwrap_or(defaults::SCALING_COOLDOWN),
        "disableScaleIn": p.disable_scale_in.unwrap_or(defaults::DISABLE_SCALE_IN),
    })
}
