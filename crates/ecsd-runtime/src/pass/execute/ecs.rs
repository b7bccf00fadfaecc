//! ECS operations: task definitions, services, their deletion and drain, and paused deployments.

use ecsd_aws::{
    CloudWatchApi, CodeDeployApi, CreateService, EcsApi, Elbv2Api, ScalingApi, UpdateService,
};
use ecsd_model::service::HookAction;
use ecsd_plan::canonical::same_task_definition;
use ecsd_plan::ops::{Op, ServiceUpdate};
use ecsd_plan::ownership::{OWNER_TAG, TASK_DEFINITION_TAG, task_definition_marker};
use ecsd_plan::state::Tags;

use super::executor::{Executor, OpResult, Step, doing, lock, unresolved};
use super::outcome::RolledOut;

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>
    Executor<'_, E, L, S, D, W>
{
    pub(super) async fn ecs(&mut self, op: &Op) -> OpResult {
        let c = self.clients;
        match op {
            Op::RegisterTaskDefinition { definition, tags } => {
                // Registering is not idempotent: if the family's newest revision already
                // is this definition in every field (an earlier attempt whose answer was
                // lost, or an adopted service), use it instead of registering a duplicate.
                let family = definition.family.clone().unwrap_or_default();
                let latest = c
                    .ecs
                    .latest_task_definition(&family)
                    .await
                    .map_err(doing("looking up the newest task definition revision"))?;
                let reusable = latest.filter(|t| same_task_definition(&t.definition, definition));
                let arn = match reusable {
                    Some(t) => {
                        tracing::info!(task_definition = %t.arn, "reusing the identical newest revision");
                        t.arn
                    }
                    None => {
                        let arn = c
                            .ecs
                            .register_task_definition(definition, tags)
                            .await
                            .map_err(doing("registering the task definition"))?;
                        tracing::info!(task_definition = %arn, "registered task definition");
                        arn
                    }
                };
                self.registered = Some(arn);
            }
            Op::CreateService(input) => {
                let what = format!("creating service {}", input.id);
                let td = self.resolve_td(&input.task_definition, &what)?;
                let mut tags = input.tags.clone();
                tags.insert(
                    TASK_DEFINITION_TAG.to_owned(),
                    task_definition_marker(&td, &input.task_definition_hash),
                );
                let create = CreateService {
                    settings: (**input).clone(),
                    task_definition_arn: td.clone(),
                    load_balancers: self.resolve_lbs(&input.load_balancers, &what)?,
                    tags,
                };
                let created = c.ecs.create_service(&create).await.map_err(doing(what))?;
                // Read our writes: settings the answer lacks are set again by an update.
                let dc = &created.deployment_configuration;
                let d = &input.deployment;
                let lost_deployment = dc.minimum_healthy_percent != Some(d.minimum_healthy_percent)
                    || dc.maximum_percent != Some(d.maximum_percent)
                    || (d.circuit_breaker.is_some() && dc.circuit_breaker != d.circuit_breaker)
                    || d.strategy.is_some_and(|st| {
                        st.is_native() && dc.strategy.as_deref() != Some(st.ecs_name())
                    });
                let lost_grace = input.health_check_grace_period_seconds.is_some()
                    && created.health_check_grace_period_seconds
                        != input.health_check_grace_period_seconds;
                if lost_deployment || lost_grace {
                    let update = UpdateService::of(ServiceUpdate {
                        health_check_grace_period_seconds: input
                            .health_check_grace_period_seconds
                            .filter(|_| lost_grace),
                        deployment: lost_deployment.then(|| input.deployment.clone()),
                        ..ServiceUpdate::of(input.id.clone())
                    });
                    c.ecs
                        .update_service(&update)
                        .await
                        .map_err(doing("setting what the create did not keep"))?;
                }
                lock(&self.shared.services).insert(input.id.clone(), created.arn);
                lock(&self.shared.rolled_out).push(RolledOut {
                    service: input.id.clone(),
                    task_definition_arn: td,
                });
            }
            Op::UpdateService(u) => {
                let what = format!("updating service {}", u.id);
                let td = match &u.task_definition {
                    Some(r) => Some(self.resolve_td(r, &what)?),
                    None => None,
                };
                let load_balancers = match &u.load_balancers {
                    Some(l) => Some(self.resolve_lbs(l, &what)?),
                    None => None,
                };
                let update = UpdateService {
                    settings: (**u).clone(),
                    task_definition_arn: td,
                    load_balancers,
                };
                let updated = c.ecs.update_service(&update).await.map_err(doing(what))?;
                if u.starts_deployment() || u.desired_count.is_some() {
                    lock(&self.shared.rolled_out).push(RolledOut {
                        service: u.id.clone(),
                        task_definition_arn: updated.task_definition_arn,
                    });
                }
            }
            Op::MarkTaskDefinition {
                service,
                task_definition,
                hash,
                owner,
            } => {
                let what = "tagging the service with its task definition";
                let td = self.resolve_td(task_definition, what)?;
                let arn = self.resolve_service(service, what)?;
                let tags = Tags::from([
                    (
                        TASK_DEFINITION_TAG.to_owned(),
                        task_definition_marker(&td, hash),
                    ),
                    (OWNER_TAG.to_owned(), owner.clone()),
                ]);
                c.ecs.tag_resource(&arn, &tags).await.map_err(doing(what))?;
            }
            Op::DeleteService { service } => {
                c.ecs
                    .delete_service(service)
                    .await
                    .map_err(doing(format!("deleting service {service}")))?;
                lock(&self.shared.services).remove(service);
            }
            Op::AwaitServiceInactive { service } => return self.await_inactive(service).await,
            Op::ContinueServiceDeployment {
                service,
                deployment_arn,
                hook_id,
                action,
            } => {
                let what = format!(
                    "{} the paused deployment {deployment_arn} of {service}",
                    match action {
                        HookAction::Continue => "continuing",
                        HookAction::Rollback => "rolling back",
                    }
                );
                c.ecs
                    .continue_deployment(deployment_arn, hook_id, *action)
                    .await
                    .map_err(doing(what))?;
                tracing::info!(service = %service, deployment = %deployment_arn, hook = %hook_id, action = action.ecs_name(), "acted on a paused deployment as the manifest asks (its approve or rollback, or its canary analysis)");
            }
            other => {
                return Err(unresolved(
                    "executing",
                    &format!("{other:?} as an ecs operation"),
                ));
            }
        }
        Ok(Step::Next)
    }
}
