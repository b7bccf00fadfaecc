//! CodeDeploy operations: applications, deployment groups and blue/green deployments,
//! and deleting what ecsd made once a service moved to ECS's own deployments.

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_plan::ops::Op;

use super::executor::{Executor, OpResult, Step, doing, lock, unresolved};
use super::outcome::StartedDeployment;

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>
    Executor<'_, E, L, S, D, W>
{
    pub(super) async fn codedeploy(&mut self, op: &Op) -> OpResult {
        let c = self.clients;
        match op {
            Op::CreateCodeDeployApplication { name, tags } => {
                c.deploy
                    .create_application(name, tags)
                    .await
                    .map_err(doing(format!("creating CodeDeploy application {name}")))?;
            }
            Op::CreateDeploymentGroup { group, tags } => {
                c.deploy
                    .create_deployment_group(group, tags)
                    .await
                    .map_err(doing(format!("creating deployment group {}", group.name)))?;
            }
            Op::UpdateDeploymentGroup(g) => {
                c.deploy
                    .update_deployment_group(g)
                    .await
                    .map_err(doing(format!("updating deployment group {}", g.name)))?;
            }
            Op::DeleteDeploymentGroup { application, group } => {
                c.deploy
                    .delete_deployment_group(application, group)
                    .await
                    .map_err(doing(format!(
                        "deleting deployment group {group} of {application}"
                    )))?;
            }
            Op::DeleteCodeDeployApplication { name } => {
                c.deploy
                    .delete_application(name)
                    .await
                    .map_err(doing(format!("deleting CodeDeploy application {name}")))?;
            }
            Op::CreateCodeDeployDeployment(input) => {
                let what = format!("starting a CodeDeploy deployment of {}", input.service);
                let td = self.resolve_td(&input.task_definition, &what)?;
                let id = c
                    .deploy
                    .create_deployment(&input.application, &input.group, &input.appspec(&td))
                    .await
                    .map_err(doing(what))?;
                tracing::info!(deployment = %id, task_definition = %td, "started a CodeDeploy deployment");
                lock(&self.shared.code_deployments).push(StartedDeployment {
                    service: input.service.clone(),
                    deployment_id: id,
                });
            }
            other => {
                return Err(unresolved(
                    "executing",
                    &format!("{other:?} as a codedeploy operation"),
                ));
            }
        }
        Ok(Step::Next)
    }
}
