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

//!
//! # Layout
//! - this file: the scalable target, its labels and the service's scaling marker;
//! - `tracking.rs`: the target-tracking policies, one per metric;
//! - `scheduled.rs`: the scheduled actions;
//! - `owned.rs`: which names are ecsd's, and adopting another tool's.
mod owned;
mod scheduled;
mod tracking;

use std::collections::BTreeMap;

use serde_json::json;

use ecsd_model::scaling_policy::ScalingPolicySpec;
use ecsd_model::{Kind, Manifest, ObjectKey};

use owned::Owned;

use super::{Context, Draft, PlanError, PlanErrorKind, Planned};
use crate::ops::{Op, Tagged};
use crate::ownership::{
    self, SCALING_LABELS_TAG, labels_hash, scaling_adopted, scaling_labels_vouched, scaling_marker,
};
use crate::state::{
    ScalableTargetState, ScalingPolicyState, ScheduledActionState, ServiceId, ServiceState, Tags,
};

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
    // Another tool's policies and actions adopted under their own names are ecsd's too.
    let recorded = svc.map(|s| scaling_adopted(&s.tags)).unwrap_or_default();
    let mut owned = Owned {
        name: name.clone(),
        rid: rid.clone(),
        service: id.clone(),
        prefix: format!("{}{name}-", ownership::SCALING_NAME_PREFIX),
        record: recorded.clone(),
        recorded,
        replaced: Vec::new(),
    };
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
    let policies: Vec<&ScalingPolicyState> = all_policies
        .clone()
        .filter(|p| owned.ours(&p.name))
        .collect();
    let actions: Vec<&ScheduledActionState> = all_actions
        .clone()
        .filter(|a| owned.ours(&a.name))
        .collect();
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
    let (adopted_policies, adopted_actions) = if adopting {
        if let Some(t) = target {
            draft.adopt(
                "scalable target",
                &t.arn,
                Tagged::ScalableTarget(t.arn.clone()),
                &ownership::owner_tags(&ctx.opts.owner, &m.key(), labels),
            );
        }
        (
            tracking::adopt(spec, all_policies, &mut owned, &mut draft),
            scheduled::adopt(spec, all_actions, &mut owned, &mut draft),
        )
    } else {
        (Vec::new(), Vec::new())
    };
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
    let (desired_tt, observed_tt) = tracking::plan(
        ctx,
        spec,
        service,
        &policies,
        &adopted_policies,
        &mut owned,
        &mut draft,
    );
    let (desired_sched, observed_sched) =
        scheduled::plan(spec, &actions, &adopted_actions, &mut owned, &mut draft);

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
    draft.ops.extend(std::mem::take(&mut owned.replaced));

    mark(ctx, &mut draft, target, svc, &id, labels, &owned);
    Ok(draft.finish().into())
}

/// Labels on the scalable target; the service's scaling marker vouches for them (and
/// records the adopted names).
fn mark(
    ctx: &Context<'_>,
    draft: &mut Draft,
    target: Option<&ScalableTargetState>,
    svc: Option<&ServiceState>,
    id: &ServiceId,
    labels: &BTreeMap<String, String>,
    owned: &Owned,
) {
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
                    scaling_marker(&hash, &owned.record),
                )]),
            });
            marked = true;
        }
    }
    if !marked && owned.record != owned.recorded {
        // The labels are vouched for (or still to be read): only the names change.
        let current = if vouched { hash.as_str() } else { "-" };
        draft.ops.push(Op::TagResource {
            resource: Tagged::Service(id.clone()),
            tags: Tags::from([(
                SCALING_LABELS_TAG.to_owned(),
                scaling_marker(current, &owned.record),
            )]),
        });
    }
}
