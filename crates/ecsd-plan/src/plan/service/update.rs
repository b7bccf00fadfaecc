//! An existing rolling (ECS controller) service: every field the manifest models is
//! compared with what AWS has, and what differs is sent in one UpdateService; a changed
//! task definition is registered first. A definition that ECS rolled back is held
//! back instead of being deployed again.

use super::{Redeploy, Svc, adopt, not_owned};
use crate::ops::{Op, ServiceUpdate, Tagged, TaskDefinitionRef};
use crate::ownership;
use crate::plan::{Draft, PlanError, Planned};
use crate::state::ServiceState;

pub(super) fn plan(s: &Svc<'_>, svc: &ServiceState) -> Result<Planned, PlanError> {
    let mut draft = Draft::new(s.key.clone(), true);
    draft.depends_on = s.depends_on.clone();
    let owned = ownership::is_owned(&svc.tags, &s.ctx.opts.owner);
    if !owned {
        if !s.ctx.opts.adopt {
            return Err(not_owned(s, "use --adopt to take it over"));
        }
        adopt(s, svc, &mut draft);
    }
    let running = s.running_task_definition(svc)?;
    draft.compare(&s.desired_value(), &s.observed_value(svc, running));
    let mut update = ServiceUpdate::of(s.id.clone());
    let mut hold = None;
    if draft.touches("taskDefinition") {
        let rolled = s
            .ctx
            .observed
            .rollbacks
            .get(&s.id)
            .map(|r| (&r.task_definition, r.reason.clone()));
        match s.after_rollback(rolled) {
            Redeploy::Hold(h) => {
                // Shown as the hold, not as a change that would be made.
                draft.diff.retain(|f| !f.path.starts_with("taskDefinition"));
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
    if draft.touches("loadBalancers") {
        s.check_load_balanced()?;
        update.load_balancers = Some(s.load_balancers());
    }
    if draft.touches("healthCheckGracePeriodSeconds") {
        update.health_check_grace_period_seconds = s.grace_period();
    }
    if draft.touches("deployment") {
        update.deployment = Some(s.deployment());
    }
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
        });
    } else if hold.is_none()
        && !ownership::task_definition_vouched(&svc.tags, &svc.task_definition_arn, &s.hash)
    {
        // The running revision was described and is the desired one in every field:
        // remember it, so the next pass need not describe it.
        draft
            .notes
            .push("records the running task definition in the ecsd:task-definition tag".to_owned());
        draft.ops.push(Op::MarkTaskDefinition {
            service: s.id.clone(),
            task_definition: TaskDefinitionRef::Arn(svc.task_definition_arn.clone()),
            hash: s.hash.clone(),
        });
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
