//! Planning a ScalingPolicy: the scalable target, target-tracking policies and scheduled
//! actions of one service, and the labels on the scalable target.
//!
//! Policies and scheduled actions carry no tags; ecsd names them
//! `ecsd-<ScalingPolicy>-<metric or action>` and owns those and the ones its service's
//! `ecsd:scaling-labels` marker records as adopted. The scalable target's tags are read
//! only when that marker says the labels changed. With `--adopt`, taking over the
//! service takes over its scaling: the scalable target is tagged and another tool's
//! policies and scheduled actions for what the manifest lists keep their names,
//! recorded in the marker (put again under ecsd's names only when a tag cannot hold
//! the name).

use serde_json::{Map, Value, json};

use ecsd_model::scaling_policy::{
    ScalingMetric, ScalingPolicySpec, ScheduledAction, TargetTracking,
};
use ecsd_model::{Kind, Manifest, ObjectKey};

use super::{Context, Draft, PlanError, PlanErrorKind, Planned};
use crate::defaults;
use crate::ops::{Op, ScheduledActionInput, Tagged, TargetTrackingInput};
use crate::ownership::{
    self, SCALING_LABELS_TAG, labels_hash, policy_name, recordable, scaling_adopted,
    scaling_labels_vouched, scaling_marker, scheduled_action_name,
};
use crate::state::{ScalingPolicyState, ScheduledActionState, Tags};

pub(super) fn plan(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &ScalingPolicySpec,
) -> Result<Planned, PlanError> {
    let name = &m.metadata.name;
    let Some((_, service)) = ctx.service(&spec.service) else {
        return Err(PlanError::new(
            PlanErrorKind::MissingReference,
            format!("Service {:?} is not in the source", spec.service),
        ));
    };
    let id = ctx.service_id(&spec.service, service);
    let svc = ctx.observed.services.get(&id);
    if let Some(svc) = svc
        && !ownership::is_owned(&svc.tags, &ctx.opts.owner)
        && !ctx.opts.adopt
    {
        return Err(PlanError::new(
            PlanErrorKind::NotOwned,
            format!(
                "service {:?} is not owned by ecsd, so its scaling is left alone; use --adopt to take it over",
                spec.service
            ),
        ));
    }
    let rid = id.scaling_resource_id();
    let target = ctx.observed.scalable_targets.get(&rid);
    let prefix = format!("{}{name}-", ownership::SCALING_NAME_PREFIX);
    // Another tool's policies and actions adopted under their own names are ecsd's too.
    let recorded = svc.map(|s| scaling_adopted(&s.tags)).unwrap_or_default();
    let ours = |n: &str| n.starts_with(&prefix) || recorded.contains(n);
    let all_policies = ctx
        .observed
        .scaling_policies
        .get(&rid)
        .into_iter()
        .flatten();
    let all_actions = ctx
        .observed
        .scheduled_actions
        .get(&rid)
        .into_iter()
        .flatten();
    let policies: Vec<&ScalingPolicyState> =
        all_policies.clone().filter(|p| ours(&p.name)).collect();
    let actions: Vec<&ScheduledActionState> =
        all_actions.clone().filter(|a| ours(&a.name)).collect();
    let exists = target.is_some() || !policies.is_empty() || !actions.is_empty();
    let mut draft = Draft::new(m.key(), exists);
    draft.depends_on = vec![ObjectKey {
        kind: Kind::Service,
        name: spec.service.clone(),
    }];
    let labels = &m.metadata.labels;
    // Taking over a service (--adopt) takes over its scaling: the scalable target is
    // tagged, and a policy or scheduled action made by another tool for what the
    // manifest lists (the same metric, the same action name) becomes ecsd's under its
    // own name, recorded in the service's scaling marker (they carry no tags). A name a
    // tag value cannot hold is put again under ecsd's name, then deleted under its own
    // (AWS cannot rename one).
    let adopting =
        ctx.opts.adopt && svc.is_some_and(|s| !ownership::is_owned(&s.tags, &ctx.opts.owner));
    let foreign = |n: &str| !n.starts_with(ownership::SCALING_NAME_PREFIX);
    let mut record = recorded.clone();
    let mut replaced: Vec<Op> = Vec::new();
    // Whether another tool's policy or action keeps its name `n`; if not, `delete`
    // removes it once ecsd's own is in place.
    let mut adopt_one = |what: &str, n: &str, delete: Op, draft: &mut Draft| -> bool {
        if recordable(n, &record) {
            draft.notes.push(format!(
                "adopts the {what} {n:?}: it keeps its name, recorded in the {SCALING_LABELS_TAG} tag of service {id}"
            ));
            record.insert(n.to_owned());
            return true;
        }
        draft.notes.push(format!(
            "adopts the {what} {n:?}: its name cannot be recorded in a tag, so it is put again as ecsd's and then deleted"
        ));
        replaced.push(delete);
        false
    };
    // Per metric and per action name: another tool's policy or action being adopted,
    // and whether it keeps its name.
    let mut adopted_policies: Vec<(&ScalingPolicyState, bool)> = Vec::new();
    let mut adopted_actions: Vec<(&ScheduledActionState, bool)> = Vec::new();
    if adopting {
        if let Some(t) = target {
            draft.adopt(
                "scalable target",
                &t.arn,
                Tagged::ScalableTarget(t.arn.clone()),
                &ownership::owner_tags(&ctx.opts.owner, &m.key(), labels),
            );
        }
        for p in all_policies.clone().filter(|p| foreign(&p.name)) {
            let metric = ScalingMetric::from_predefined_metric_type(&p.metric_type);
            let listed = spec
                .target_tracking
                .iter()
                .any(|tt| Some(tt.metric) == metric);
            let taken = adopted_policies
                .iter()
                .any(|(q, _)| ScalingMetric::from_predefined_metric_type(&q.metric_type) == metric);
            if listed && !taken {
                let delete = Op::DeleteScalingPolicy {
                    resource_id: rid.clone(),
                    name: p.name.clone(),
                };
                let kept = adopt_one("target-tracking policy", &p.name, delete, &mut draft);
                adopted_policies.push((p, kept));
            }
        }
        for a in all_actions.clone().filter(|a| foreign(&a.name)) {
            if spec.scheduled.iter().any(|s| s.name == a.name) {
                let delete = Op::DeleteScheduledAction {
                    resource_id: rid.clone(),
                    name: a.name.clone(),
                };
                let kept = adopt_one("scheduled action", &a.name, delete, &mut draft);
                adopted_actions.push((a, kept));
            }
        }
    }
    if target
        .is_none_or(|t| t.min_capacity != spec.min_capacity || t.max_capacity != spec.max_capacity)
    {
        draft.ops.push(Op::RegisterScalableTarget {
            resource_id: rid.clone(),
            min_capacity: spec.min_capacity,
            max_capacity: spec.max_capacity,
            tags: target
                .is_none()
                .then(|| ownership::owner_tags(&ctx.opts.owner, &m.key(), labels)),
        });
    }

    // Observed policies in the manifest's order, then the owned ones it no longer has.
    let mut observed_tt = Vec::new();
    let mut matched: Vec<&str> = Vec::new();
    let desired_tt: Vec<Value> = spec.target_tracking.iter().map(tracking_value).collect();
    for (tt, want) in spec.target_tracking.iter().zip(&desired_tt) {
        let metric_of = |p: &ScalingPolicyState| {
            ScalingMetric::from_predefined_metric_type(&p.metric_type) == Some(tt.metric)
        };
        let pname = policy_name(name, tt.metric.as_str());
        // ecsd's own (by its name, or recorded), else another tool's being adopted.
        let own = policies
            .iter()
            .find(|p| p.name == pname)
            .or_else(|| {
                policies
                    .iter()
                    .find(|p| recorded.contains(&p.name) && metric_of(p))
            })
            .copied();
        let adopted = own
            .is_none()
            .then(|| adopted_policies.iter().find(|(p, _)| metric_of(p)))
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
    for p in &policies {
        if !matched.contains(&p.name.as_str()) {
            observed_tt.push(policy_value(p));
            record.remove(&p.name);
            draft.ops.push(Op::DeleteScalingPolicy {
                resource_id: rid.clone(),
                name: p.name.clone(),
            });
        }
    }

    let mut observed_sched = Vec::new();
    let mut matched: Vec<&str> = Vec::new();
    let desired_sched: Vec<Value> = spec.scheduled.iter().map(action_value_of).collect();
    for (s, want) in spec.scheduled.iter().zip(&desired_sched) {
        let aname = scheduled_action_name(name, &s.name);
        let existing = actions
            .iter()
            .find(|a| a.name == aname || (recorded.contains(&a.name) && a.name == s.name))
            .copied();
        let adopted = existing
            .is_none()
            .then(|| adopted_actions.iter().find(|(a, _)| a.name == s.name))
            .flatten();
        let (current, put_as) = match (existing, adopted) {
            (Some(a), _) => (Some(a), a.name.clone()),
            (None, Some((a, true))) => (Some(*a), a.name.clone()),
            (None, Some((a, false))) => (Some(*a), aname),
            (None, None) => (None, aname),
        };
        matched.extend(current.map(|a| a.name.as_str()));
        let have = current.map(|a| action_value(a, &s.name));
        let renamed = matches!(adopted, Some((_, false)));
        if renamed
            || have
                .as_ref()
                .is_none_or(|h| !crate::diff::diff(want, h).is_empty())
        {
            // PutScheduledAction leaves a capacity the request omits as it was, so one
            // the manifest no longer sets can only go with the action itself.
            if !renamed
                && current.is_some_and(|a| {
                    (a.min_capacity.is_some() && s.min_capacity.is_none())
                        || (a.max_capacity.is_some() && s.max_capacity.is_none())
                })
            {
                draft.notes.push(format!(
                    "puts scheduled action {} again: AWS keeps a capacity an update leaves out",
                    s.name
                ));
                draft.ops.push(Op::DeleteScheduledAction {
                    resource_id: rid.clone(),
                    name: put_as.clone(),
                });
            }
            draft
                .ops
                .push(Op::PutScheduledAction(Box::new(ScheduledActionInput {
                    resource_id: rid.clone(),
                    name: put_as,
                    schedule: s.schedule.clone(),
                    timezone: s
                        .timezone
                        .clone()
                        .unwrap_or_else(|| defaults::SCHEDULE_TIMEZONE.to_owned()),
                    min_capacity: s.min_capacity,
                    max_capacity: s.max_capacity,
                })));
        }
        observed_sched.push(have.unwrap_or_else(|| json!({})));
    }
    for a in &actions {
        if !matched.contains(&a.name.as_str()) {
            let short = a.name.strip_prefix(&prefix).unwrap_or(&a.name);
            observed_sched.push(action_value(a, short));
            record.remove(&a.name);
            draft.ops.push(Op::DeleteScheduledAction {
                resource_id: rid.clone(),
                name: a.name.clone(),
            });
        }
    }

    let desired = json!({
        "service": spec.service,
        "minCapacity": spec.min_capacity,
        "maxCapacity": spec.max_capacity,
        "targetTracking": desired_tt,
        "scheduled": desired_sched,
    });
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
    draft.compare(&desired, &observed);
    // Only once ecsd's own are in place.
    draft.ops.extend(replaced);

    // Labels on the scalable target; the service's marker vouches for them (and
    // records the adopted names).
    let hash = labels_hash(labels);
    let vouched = svc.is_some_and(|s| scaling_labels_vouched(&s.tags, labels));
    let mut marked = false;
    if !vouched {
        if let Some(t) = target
            && let Some(tags) = ctx.observed.tags.get(&t.arn)
        {
            draft.sync_labels(Tagged::ScalableTarget(t.arn.clone()), tags, labels);
        }
        if target.is_none() || target.is_some_and(|t| ctx.observed.tags.contains_key(&t.arn)) {
            if target.is_some()
                && draft
                    .diff
                    .iter()
                    .all(|d| !d.path.starts_with("metadata.labels"))
            {
                draft.notes.push(format!(
                    "records the scalable target's labels in the {SCALING_LABELS_TAG} tag of service {id}"
                ));
            }
            draft.ops.push(Op::TagResource {
                resource: Tagged::Service(id.clone()),
                tags: Tags::from([(
                    SCALING_LABELS_TAG.to_owned(),
                    scaling_marker(&hash, &record),
                )]),
            });
            marked = true;
        }
    }
    if !marked && record != recorded {
        // The labels are vouched for (or still to be read): only the names change.
        let current = if vouched { hash.as_str() } else { "-" };
        draft.ops.push(Op::TagResource {
            resource: Tagged::Service(id),
            tags: Tags::from([(
                SCALING_LABELS_TAG.to_owned(),
                scaling_marker(current, &record),
            )]),
        });
    }
    Ok(draft.finish().into())
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

fn scheduled_value(
    name: &str,
    schedule: &str,
    timezone: Option<&str>,
    min: Option<u32>,
    max: Option<u32>,
) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(name));
    v.insert("schedule".into(), json!(schedule));
    v.insert(
        "timezone".into(),
        json!(timezone.unwrap_or(defaults::SCHEDULE_TIMEZONE)),
    );
    if let Some(c) = min {
        v.insert("minCapacity".into(), json!(c));
    }
    if let Some(c) = max {
        v.insert("maxCapacity".into(), json!(c));
    }
    Value::Object(v)
}

fn action_value_of(s: &ScheduledAction) -> Value {
    scheduled_value(
        &s.name,
        &s.schedule,
        s.timezone.as_deref(),
        s.min_capacity,
        s.max_capacity,
    )
}

fn action_value(a: &ScheduledActionState, short_name: &str) -> Value {
    scheduled_value(
        short_name,
        &a.schedule,
        a.timezone.as_deref(),
        a.min_capacity,
        a.max_capacity,
    )
}
