//! A Service whose deployment controller must change (CodeDeploy's blueGreen <-> one of
//! ECS's strategies: rolling, ecsBlueGreen, linear, canary): AWS
//! cannot change it in place, so with `--recreate` the service is deleted and created
//! again (its tasks stop and start); without it the plan refuses.

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
                "service {:?} uses the {} deployment controller but the manifest asks for {}: switching between rolling and blueGreen needs a new service (as between CodeDeploy's blueGreen and ECS's ecsBlueGreen, linear or canary) in AWS, so its tasks are stopped and started again; rerun with --recreate to do that",
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
