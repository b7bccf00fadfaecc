//! Pruning: deleting owned resources whose manifest is gone, behind a safety valve.
//!
//! An empty or half-uploaded source must never take production down, so nothing is
//! deleted when a pass would delete more than `--max-prune` objects or more than half
//! of the owned ones; the plan carries an error instead.

use std::collections::BTreeSet;

use ecsd_model::{Kind, ObjectKey};

use super::{Action, Change, Context, Plan, PlanError, PlanErrorKind};
use crate::ops::{Op, Tagged};
use crate::ownership;
use crate::state::{ServiceStatus, Tags};

pub(super) fn plan(ctx: &Context<'_>, plan: &mut Plan) {
    let Some(inv) = &ctx.observed.inventory else {
        plan.errors.push(PlanError::new(
            PlanErrorKind::Unobserved,
            "pruning needs the inventory of owned resources, which was not observed",
        ));
        return;
    };
    let owner = &ctx.opts.owner;
    let mut deletes: Vec<Change> = Vec::new();
    let mut owned = 0usize;
    for svc in inv
        .services
        .iter()
        .filter(|s| s.status == ServiceStatus::Active && ownership::is_owned(&s.tags, owner))
    {
        owned += 1;
        let rid = svc.id.scaling_resource_id();
        let adopted = ownership::scaling_adopted(&svc.tags);
        let scaling_ops = scaling_teardown(ctx, &rid, &adopted);
        if !scaling_ops.is_empty() {
            owned += 1;
        }
        if !ctx.is_desired(Kind::Service, &svc.id.name) {
            let mut ops = scaling_ops;
            ops.push(Op::DeleteService {
                service: svc.id.clone(),
            });
            deletes.push(delete(Kind::Service, &svc.id.name, ops));
        } else if ctx.scaling_for(&svc.id.name).is_none() && !scaling_ops.is_empty() {
            let name = inv
                .scaling_owners
                .get(&rid)
                .cloned()
                .unwrap_or_else(|| svc.id.name.clone());
            let mut ops = scaling_ops;
            if !adopted.is_empty() {
                // The service stays: its record of adopted names goes with them.
                ops.push(Op::TagResource {
                    resource: Tagged::Service(svc.id.clone()),
                    tags: Tags::from([(
                        ownership::SCALING_LABELS_TAG.to_owned(),
                        ownership::scaling_marker("-", &Default::default()),
                    )]),
                });
            }
            deletes.push(delete(Kind::ScalingPolicy, &name, ops));
        }
    }
    for tg in inv
        .target_groups
        .iter()
        .filter(|t| ownership::is_owned(&t.tags, owner))
    {
        owned += 1;
        if ctx.is_desired(Kind::TargetGroup, &tg.name) {
            continue;
        }
        let mut ops: Vec<Op> = inv
            .rules
            .iter()
            .filter(|r| ownership::is_owned(&r.tags, owner) && r.forwards_to(&tg.arn))
            .map(|r| Op::DeleteRule {
                rule_arn: r.arn.clone(),
            })
            .collect();
        ops.push(Op::DeleteTargetGroup {
            arn: tg.arn.clone(),
        });
        deletes.push(delete(Kind::TargetGroup, &tg.name, ops));
    }
    if deletes.is_empty() {
        return;
    }
    let n = deletes.len();
    if n > ctx.opts.max_prune || n * 2 > owned {
        let names: Vec<String> = deletes.iter().map(|c| c.key.to_string()).collect();
        plan.errors.push(PlanError::new(
            PlanErrorKind::PruneValve,
            format!(
                "refusing to prune {n} of {owned} owned objects ({}): the limit is --max-prune {} and at most half of the owned objects; nothing was deleted",
                names.join(", "),
                ctx.opts.max_prune
            ),
        ));
        return;
    }
    // Scaling first, then services, then target groups: the reverse of creation.
    deletes.sort_by_key(|c| std::cmp::Reverse(c.key.kind));
    plan.changes.extend(deletes);
}

/// Deleting an object's scaling: owned policies and actions (ecsd's names and those
/// `adopted` under their own), then the scalable target.
fn scaling_teardown(ctx: &Context<'_>, rid: &str, adopted: &BTreeSet<String>) -> Vec<Op> {
    let prefix = ownership::SCALING_NAME_PREFIX;
    let ours = |n: &str| n.starts_with(prefix) || adopted.contains(n);
    let mut ops: Vec<Op> = ctx
        .observed
        .scheduled_actions
        .get(rid)
        .into_iter()
        .flatten()
        .filter(|a| ours(&a.name))
        .map(|a| Op::DeleteScheduledAction {
            resource_id: rid.to_owned(),
            name: a.name.clone(),
        })
        .collect();
    ops.extend(
        ctx.observed
            .scaling_policies
            .get(rid)
            .into_iter()
            .flatten()
            .filter(|p| ours(&p.name))
            .map(|p| Op::DeleteScalingPolicy {
                resource_id: rid.to_owned(),
                name: p.name.clone(),
            }),
    );
    if !ops.is_empty() && ctx.observed.scalable_targets.contains_key(rid) {
        ops.push(Op::DeregisterScalableTarget {
            resource_id: rid.to_owned(),
        });
    }
    ops
}

fn delete(kind: Kind, name: &str, ops: Vec<Op>) -> Change {
    Change {
        key: ObjectKey {
            kind,
            name: name.to_owned(),
        },
        action: Action::Delete,
        diff: Vec::new(),
        notes: Vec::new(),
        ops,
        depends_on: Vec::new(),
    }
}
