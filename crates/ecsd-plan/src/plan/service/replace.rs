//! A Service whose deployment controller must change where AWS documents no in-place
//! path: to CodeDeploy's blueGreen from any of ECS's strategies, and from blueGreen to
//! rolling (AWS documents only CodeDeploy -> ECS's own blue/green in place, which
//! `switch` does; rolling is one in-place switch further). With `--recreate` the service
//! is deleted and created again (its tasks stop and start); without it the plan refuses.

use serde_json::json;

use super::{Svc, create, not_owned};
use crate::ops::Op;
use crate::ownership;
use crate::plan::{Change, Draft, PlanError, PlanErrorKind};
use crate::state::ServiceState;

pub(super) fn plan(s: &Svc<'_>, old: &ServiceState) -> Result<Option<Change>, PlanError> {
    if !ownership::is_owned(&old.tags, &s.ctx.opts.owner) {
        return Err(not_owned(s, "it is never replaced"));
    }
    if !s.ctx.opts.recreate {
        return Err(PlanError::new(
            PlanErrorKind::StrategySwitch,
            format!(
                "service {:?} uses the {} deployment controller but the manifest asks for {}: AWS has no in-place path for this switch (it documents one only from CodeDeploy's blueGreen to ECS's ecsBlueGreen, linear or canary; from there rolling is an in-place switch too), so it needs a new service and its tasks are stopped and started again; rerun with --recreate to do that",
                s.id.name, old.deployment_controller, s.controller
            ),
        ));
    }
    let mut draft = Draft::new(s.key.clone(), true);
    draft.depends_on = s.depends_on.clone();
    draft.notes.push(format!(
        "replaces the service: deletes {} ({} controller; its tasks stop) and creates it again with the {} controller once the old one has drained",
        old.arn, old.deployment_controller, s.controller
    ));
    draft.ops.push(Op::DeleteService {
        service: s.id.clone(),
    });
    draft.ops.push(Op::AwaitServiceInactive {
        service: s.id.clone(),
    });
    let (ops, desired_count) = create::ops(s);
    draft.ops.extend(ops);
    draft.compare(
        &create::desired_value(s, desired_count),
        &json!({"deployment": {"strategy": old.strategy()}}),
    );
    Ok(draft.finish())
}
