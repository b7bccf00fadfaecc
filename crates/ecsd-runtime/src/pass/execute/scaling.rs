//! Application Auto Scaling operations: scalable targets, target tracking policies, scheduled actions.

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_plan::ops::Op;

use super::executor::{Executor, OpResult, Step, doing, unresolved};

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>
    Executor<'_, E, L, S, D, W>
{
    pub(super) async fn scaling(&mut self, op: &Op) -> OpResult {
        let c = self.clients;
        match op {
            Op::RegisterScalableTarget {
                resource_id,
                min_capacity,
                max_capacity,
                tags,
            } => {
                c.scaling
                    .register_scalable_target(
                        resource_id,
                        *min_capacity,
                        *max_capacity,
                        tags.as_ref(),
                    )
                    .await
                    .map_err(doing("registering the scalable target"))?;
            }
            Op::PutTargetTracking(input) => {
                let what = format!("putting scaling policy {}", input.name);
                let resource_label = match &input.target_group {
                    Some(r) => Some(self.resource_label(r, &what).await?),
                    None => None,
                };
                c.scaling
                    .put_target_tracking(input, resource_label.as_deref())
                    .await
                    .map_err(doing(what))?;
            }
            Op::DeleteScalingPolicy { resource_id, name } => {
                c.scaling
                    .delete_scaling_policy(resource_id, name)
                    .await
                    .map_err(doing(format!("deleting scaling policy {name}")))?;
            }
            Op::PutScheduledAction(action) => {
                c.scaling
                    .put_scheduled_action(action)
                    .await
                    .map_err(doing(format!("putting scheduled action {}", action.name)))?;
            }
            Op::DeleteScheduledAction { resource_id, name } => {
                c.scaling
                    .delete_scheduled_action(resource_id, name)
                    .await
                    .map_err(doing(format!("deleting scheduled action {name}")))?;
            }
            Op::DeregisterScalableTarget { resource_id } => {
                c.scaling
                    .deregister_scalable_target(resource_id)
                    .await
                    .map_err(doing("deregistering the scalable target"))?;
            }
            other => {
                return Err(unresolved(
                    "executing",
                    &format!("{other:?} as a scaling operation"),
                ));
            }
        }
        Ok(Step::Next)
    }
}
