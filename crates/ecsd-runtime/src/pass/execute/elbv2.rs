//! ELBv2 operations: target groups, their attributes and listener rules.

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_plan::ops::Op;
use ecsd_plan::ownership::{ATTRIBUTES_TAG, OWNER_TAG, attributes_marker};
use ecsd_plan::state::Tags;

use super::executor::{Executor, OpResult, Step, doing, lock, unresolved};

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>
    Executor<'_, E, L, S, D, W>
{
    pub(super) async fn elbv2(&mut self, op: &Op) -> OpResult {
        let c = self.clients;
        match op {
            Op::CreateTargetGroup(input) => {
                let what = format!("creating target group {}", input.name);
                let tg = c
                    .elb
                    .create_target_group(input)
                    .await
                    .map_err(doing(what))?;
                lock(&self.shared.target_groups).insert(tg.name.clone(), tg.arn);
            }
            Op::ModifyTargetGroupHealthCheck { arn, health_check } => {
                c.elb
                    .modify_health_check(arn, health_check)
                    .await
                    .map_err(doing("modifying the health check"))?;
            }
            Op::SetDeregistrationDelay {
                target_group,
                seconds,
                owner,
            } => {
                let what = "setting the deregistration delay";
                let arn = self.resolve_tg(target_group, what)?;
                c.elb
                    .set_deregistration_delay(&arn, *seconds)
                    .await
                    .map_err(doing(what))?;
                let tags = Tags::from([
                    (ATTRIBUTES_TAG.to_owned(), attributes_marker(*seconds)),
                    (OWNER_TAG.to_owned(), owner.clone()),
                ]);
                c.elb
                    .add_tags(&arn, &tags)
                    .await
                    .map_err(doing("recording the attributes tag"))?;
            }
            Op::CreateRule {
                listener_arn,
                priority,
                conditions,
                forward,
                tags,
            } => {
                let what = format!("creating the listener rule at priority {priority}");
                let forward = self.resolve_forward(forward, &what)?;
                let rule = c
                    .elb
                    .create_rule(listener_arn, *priority, conditions, &forward, tags)
                    .await
                    .map_err(doing(what))?;
                lock(&self.shared.rules).insert((listener_arn.clone(), *priority), rule);
            }
            Op::ModifyRule {
                rule_arn,
                conditions,
                forward,
            } => {
                let what = "modifying the listener rule";
                let forward = match forward {
                    Some(f) => Some(self.resolve_forward(f, what)?),
                    None => None,
                };
                c.elb
                    .modify_rule(rule_arn, conditions.as_ref(), forward.as_deref())
                    .await
                    .map_err(doing(what))?;
            }
            Op::SetRulePriority { rule_arn, priority } => {
                c.elb
                    .set_rule_priority(rule_arn, *priority)
                    .await
                    .map_err(doing("setting the rule priority"))?;
            }
            Op::DeleteRule { rule_arn } => {
                c.elb
                    .delete_rule(rule_arn)
                    .await
                    .map_err(doing("deleting the listener rule"))?;
            }
            Op::DeleteTargetGroup { arn } => {
                c.elb
                    .delete_target_group(arn)
                    .await
                    .map_err(doing("deleting the target group"))?;
            }
            other => {
                return Err(unresolved(
                    "executing",
                    &format!("{other:?} as an elbv2 operation"),
                ));
            }
        }
        Ok(Step::Next)
    }
}
