//! A Service whose ECS service does not exist: register its task definition, create the
//! service, and set up CodeDeploy for `blueGreen`. When a deleted service of the same
//! name is still DRAINING, AWS refuses the create until it is INACTIVE, so the change
//! waits for that first (and never deletes it again).

use serde_json::{Value, json};

use super::{Svc, blue_green};
use crate::ops::{Op, ServiceInput, TaskDefinitionRef};
use crate::plan::{Change, Draft};
use crate::state::ServiceState;

pub(super) fn plan(s: &Svc<'_>, draining: Option<&ServiceState>) -> Option<Change> {
    let mut draft = Draft::new(s.key.clone(), false);
    draft.depends_on = s.depends_on.clone();
    if let Some(old) = draining {
        draft.notes.push(format!(
            "the deleted service {} is still DRAINING; the new one is created once AWS has finished deleting it",
            old.arn
        ));
        draft.ops.push(Op::AwaitServiceInactive {
            service: s.id.clone(),
        });
    }
    let (ops, desired_count) = ops(s);
    draft.ops.extend(ops);
    draft.compare(&desired_value(s, desired_count), &json!({}));
    draft.finish()
}

/// The manifest as shown for a creation: with the count the service is created with.
pub(super) fn desired_value(s: &Svc<'_>, desired_count: u32) -> Value {
    let mut desired = s.desired_value();
    if let Some(obj) = desired.as_object_mut() {
        obj.insert("desiredCount".into(), json!(desired_count));
    }
    desired
}

/// Register, create (with the running-revision marker), and the CodeDeploy setup; and the count the service starts
/// with (clamped into the ScalingPolicy's range when one owns the count).
pub(super) fn ops(s: &Svc<'_>) -> (Vec<Op>, u32) {
    let desired_count = match s.scaling {
        Some(sp) => s
            .spec
            .desired_count
            .clamp(sp.min_capacity, sp.max_capacity.max(sp.min_capacity)),
        None => s.spec.desired_count,
    };
    let mut ops = vec![Op::RegisterTaskDefinition {
        definition: Box::new(s.td.clone()),
        tags: s.tags.clone(),
    }];
    ops.extend([Op::CreateService(Box::new(ServiceInput {
        id: s.id.clone(),
        deployment_controller: s.controller.clone(),
        task_definition: TaskDefinitionRef::Registered,
        desired_count,
        network: s.network(),
        load_balancers: s.load_balancers(None),
        health_check_grace_period_seconds: s.grace_period(),
        deployment: s.deployment(),
        tags: s.tags.clone(),
        task_definition_hash: s.hash.clone(),
    }))]);
    if let Some(bg) = s.blue_green {
        let state = s.ctx.observed.blue_green.get(&s.id);
        ops.extend(blue_green::setup_ops(s, bg, state));
    }
    (ops, desired_count)
}
