//! A CodeDeploy (`blueGreen`) service that the manifest moves to ECS's own
//! `ecsBlueGreen`, `linear` or `canary`: in place, as AWS documents the migration
//! ("Migrating from a CodeDeploy blue/green to an Amazon ECS blue/green service
//! deployment"): one UpdateService with the ECS deployment controller, the native
//! strategy and the load balancer's advanced configuration. No service is deleted or
//! created, and production traffic stays on the target group that serves it now.
//!
//! The CodeDeploy deployment group and application ecsd made for the service are
//! deleted first (CodeDeploy must not deploy it any more; AWS's first step is to turn
//! its automation off), so that a failed switch is simply planned again: the service is
//! still CODE_DEPLOY, and what is left to do is the UpdateService. A CodeDeploy
//! deployment in flight is waited for, as AWS requires no deployment in progress.

use super::{Svc, update_draft};
use crate::ops::{Op, ServiceUpdate};
use crate::ownership;
use crate::plan::{Hold, PlanError, Planned};
use crate::state::ServiceState;

pub(super) fn plan(s: &Svc<'_>, svc: &ServiceState) -> Result<Planned, PlanError> {
    let (mut draft, _) = update_draft(s, svc)?;
    s.check_load_balanced()?;
    let state = s.ctx.observed.blue_green.get(&s.id);
    if let Some(d) = state.and_then(|b| b.in_flight.as_ref()) {
        draft.notes.push(format!(
            "waits for CodeDeploy deployment {} to finish before moving the service to ECS's own deployments",
            d.id
        ));
        return Ok(Planned {
            change: None,
            hold: Some(Hold {
                key: s.key.clone(),
                reason: format!(
                    "CodeDeploy deployment {} is in flight; the service moves to ECS's {} once it has finished",
                    d.id,
                    s.spec.deployment.strategy.as_str()
                ),
            }),
        });
    }
    let owned = |arn: &Option<String>| {
        arn.as_ref()
            .and_then(|a| s.ctx.observed.tags.get(a))
            .is_some_and(|t| ownership::is_owned(t, &s.ctx.opts.owner))
    };
    if let Some(b) = state {
        let app = super::application_name(&s.id.cluster, &s.id.name);
        if b.group.is_some() && owned(&b.group_arn) {
            draft.ops.push(Op::DeleteDeploymentGroup {
                application: app.clone(),
                group: s.id.name.clone(),
            });
        }
        if b.application_exists && owned(&b.application_arn) {
            draft
                .ops
                .push(Op::DeleteCodeDeployApplication { name: app });
        }
    }
    draft.notes.push(format!(
        "moves the service from CodeDeploy to ECS's own {} in place (UpdateService with the ECS deployment controller; no service is deleted or created, traffic stays where it is served now){}",
        s.spec.deployment.strategy.as_str(),
        if draft.ops.is_empty() {
            String::new()
        } else {
            "; the CodeDeploy deployment group and application ecsd made for it are deleted first"
                .to_owned()
        }
    ));
    let running = s.running_task_definition(svc)?;
    let mut observed = s.observed_value(svc, running);
    // The comparison shows the switch; which of the two target groups serves is ECS's
    // from now on.
    if let Some(obj) = observed.as_object_mut() {
        obj.remove("loadBalancers");
    }
    let mut desired = s.desired_value();
    if let Some(obj) = desired.as_object_mut() {
        obj.remove("loadBalancers");
    }
    draft.compare(&desired, &observed);
    let mut update = ServiceUpdate::of(s.id.clone());
    update.to_ecs_controller = true;
    update.deployment = Some(s.deployment_update(&draft));
    update.load_balancers = Some(s.load_balancers(Some(svc)));
    if draft.touches("desiredCount") {
        update.desired_count = Some(s.spec.desired_count);
    }
    if draft.touches("healthCheckGracePeriodSeconds") {
        update.health_check_grace_period_seconds = s.grace_period();
    }
    draft.ops.push(Op::UpdateService(Box::new(update)));
    Ok(Planned {
        change: draft.finish(),
        hold: None,
    })
}
