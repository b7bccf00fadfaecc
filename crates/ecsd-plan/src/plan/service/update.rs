//! An existing rolling (ECS controller) service: every field the manifest models is
//! compared with what AWS has, and what differs is sent in one UpdateService; a changed
//! task definition is registered first. A definition that ECS rolled back is held
//! back instead of being deployed again. A native deployment paused at a PAUSE hook is
//! continued or rolled back when the manifest's `approve` or `rollback` names it.

use super::{Redeploy, Svc, mark_running, update_draft};
use crate::ops::{Op, ServiceUpdate, Tagged, TaskDefinitionRef};
use crate::ownership;
use crate::plan::{PlanError, Planned};
use crate::state::ServiceState;

pub(super) fn plan(s: &Svc<'_>, svc: &ServiceState) -> Result<Planned, PlanError> {
    let (mut draft, owned) = update_draft(s, svc)?;
    let running = s.running_task_definition(svc)?;
    draft.compare(&s.desired_value(), &s.observed_value(svc, running));
    let mut update = ServiceUpdate::of(s.id.clone());
    let mut hold = None;
    if draft.touches("taskDefinition") {
        let found = s.ctx.observed.rollbacks.get(&s.id);
        let rolled = found.map(|r| (&r.task_definition, r.reason.clone()));
        let redeploy = match s.after_rollback(rolled) {
            Redeploy::Register => s.recorded_rollback(svc),
            other => other,
        };
        match redeploy {
            Redeploy::Hold(h) => {
                // Shown as the hold, not as a change that would be made.
                draft.diff.retain(|f| !f.path.starts_with("taskDefinition"));
                // ECS's history of the rollback is kept 90 days; the service's own tag
                // keeps the hold after that.
                if let Some(r) = found
                    && ownership::rolled_back_recorded(&svc.tags, &s.hash).is_none()
                {
                    draft.notes.push(
                        "records in the service's ecsd:task-definition tag that ECS rolled this revision back, so the hold outlives AWS's deployment history"
                            .to_owned(),
                    );
                    draft.ops.push(Op::TagResource {
                        resource: Tagged::Service(s.id.clone()),
                        tags: [(
                            ownership::TASK_DEFINITION_TAG.to_owned(),
                            ownership::rolled_back_marker(&r.task_definition.arn, &s.hash),
                        )]
                        .into_iter()
                        .collect(),
                    });
                }
                hold = Some(h);
            }
            Redeploy::Register => {
                draft.ops.push(Op::RegisterTaskDefinition {
                    definition: Box::new(s.td.clone()),
                    tags: s.tags.clone(),
                });
                update.task_definition = Some(TaskDefinitionRef::Registered);
            }
            Redeploy::Reuse(arn) => {
                draft.notes.push(format!(
                    "retries the rolled-back revision {}",
                    ownership::revision_of(&arn)
                ));
                update.task_definition = Some(TaskDefinitionRef::Arn(arn));
            }
        }
    }
    if draft.touches("desiredCount") {
        update.desired_count = Some(s.spec.desired_count);
    }
    if draft.touches("network") {
        update.network = Some(s.network());
    }
    if draft.touches("loadBalancers") || draft.touches("deployment.traffic") {
        s.check_load_balanced()?;
        update.load_balancers = Some(s.load_balancers(Some(svc)));
    }
    if draft.touches("healthCheckGracePeriodSeconds") {
        update.health_check_grace_period_seconds = s.grace_period();
    }
    if draft.touches("deployment") {
        update.deployment = Some(s.deployment_update(&draft));
    }
    s.approval(&mut draft);
    let deploying = update.task_definition.clone();
    let registering = deploying == Some(TaskDefinitionRef::Registered);
    if !update.is_empty() {
        draft.ops.push(Op::UpdateService(Box::new(update)));
    }
    if let Some(task_definition) = deploying {
        draft.ops.push(Op::MarkTaskDefinition {
            service: s.id.clone(),
            task_definition,
            hash: s.hash.clone(),
            owner: s.ctx.opts.owner.clone(),
        });
    } else if hold.is_none()
        && !ownership::task_definition_vouched(&svc.tags, &svc.task_definition_arn, &s.hash)
    {
        // The running revision was described and is the desired one in every field.
        mark_running(s, svc, &mut draft);
    }
    if owned {
        // A new revision is registered with the current labels; otherwise the running
        // one is kept in line.
        let also: Vec<Tagged> = (!registering)
            .then(|| Tagged::Ecs(svc.task_definition_arn.clone()))
            .into_iter()
            .collect();
        s.sync_labels(&mut draft, svc, &also);
    }
    Ok(Planned {
        change: draft.finish(),
        hold,
    })
}
