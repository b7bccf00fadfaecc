//! Executing a plan: each change's operations in order, objects in the plan's
//! dependency order. An object whose operation fails stops there and is reported with
//! the AWS error; objects that depend on it are skipped; every other object carries on.

use std::collections::{BTreeMap, BTreeSet};

use ecsd_aws::ecs::{CreateService, UpdateService, resolved_load_balancers};
use ecsd_aws::scaling::TargetTrackingInput;
use ecsd_aws::{AwsError, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::ObjectKey;
use ecsd_plan::ops::{Op, TargetGroupRef, TaskDefinitionRef};
use ecsd_plan::ownership::{ATTRIBUTES_TAG, TASK_DEFINITION_TAG};
use ecsd_plan::service::task_definition_marker;
use ecsd_plan::state::{Observed, ScheduledActionState, Tags};
use ecsd_plan::target_group::attributes_marker;
use ecsd_plan::{Action, Plan};

use crate::Clients;

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectOutcome {
    /// Every operation succeeded.
    Done(Action),
    /// An operation failed; `doing` says which, `error` what AWS said.
    Failed {
        doing: String,
        error: String,
        code: Option<String>,
    },
    /// Not attempted because an object it depends on failed.
    Skipped { because: ObjectKey },
}

/// The outcome of an apply, per object, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub outcomes: Vec<(ObjectKey, ObjectOutcome)>,
    /// Services whose deployment changed: (cluster, name, task definition ARN they now run).
    pub rolled_out: Vec<(String, String, String)>,
    /// CodeDeploy deployments started: (deployment group, i.e. the service, deployment id).
    pub code_deployments: Vec<(String, String)>,
}

impl ApplyReport {
    /// True when every object's operations succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, o)| matches!(o, ObjectOutcome::Done(_)))
    }
}

/// Executes `plan` against AWS. `observed` is the state the plan was made from.
pub async fn apply<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
    plan: &Plan,
    observed: &Observed,
    clients: &Clients<E, L, S, D>,
) -> ApplyReport {
    let mut exec = Executor {
        clients,
        target_groups: observed
            .target_groups
            .values()
            .map(|t| (t.name.clone(), t.arn.clone()))
            .collect(),
        services: observed
            .services
            .iter()
            .map(|((c, n), s)| ((c.clone(), n.clone()), s.arn.clone()))
            .collect(),
        registered: None,
        report: ApplyReport::default(),
    };
    let mut failed: BTreeSet<ObjectKey> = BTreeSet::new();
    for change in &plan.changes {
        if let Some(dep) = change.depends_on.iter().find(|d| failed.contains(*d)) {
            tracing::warn!(kind = %change.key.kind, name = %change.key.name, depends_on = %dep, "skipped: a dependency failed");
            failed.insert(change.key.clone());
            exec.report.outcomes.push((
                change.key.clone(),
                ObjectOutcome::Skipped {
                    because: dep.clone(),
                },
            ));
            continue;
        }
        exec.registered = None;
        let mut outcome = ObjectOutcome::Done(change.action);
        for op in &change.ops {
            if let Err((doing, e)) = exec.run(op).await {
                tracing::error!(
                    kind = %change.key.kind, name = %change.key.name, doing = %doing,
                    aws_error_code = e.code().unwrap_or(""), error = %e, "failed"
                );
                outcome = ObjectOutcome::Failed {
                    doing,
                    code: e.code().map(str::to_owned),
                    error: e.to_string(),
                };
                failed.insert(change.key.clone());
                break;
            }
        }
        if let ObjectOutcome::Done(action) = outcome {
            let verb = match action {
                Action::Create => "created",
                Action::Update => "updated",
                Action::Delete => "deleted",
            };
            // The caller reports outcomes (apply prints them, the controller logs state
            // changes once); this is the detail.
            tracing::debug!(kind = %change.key.kind, name = %change.key.name, "{verb}");
        }
        exec.report.outcomes.push((change.key.clone(), outcome));
    }
    exec.report
}

type OpResult = Result<(), (String, AwsError)>;

struct Executor<'a, E, L, S, D> {
    clients: &'a Clients<E, L, S, D>,
    /// Target group ARNs by name, including those created during this apply.
    target_groups: BTreeMap<String, String>,
    /// Service ARNs by (cluster, name), including those created during this apply.
    services: BTreeMap<(String, String), String>,
    /// The task definition registered by the current change.
    registered: Option<String>,
    report: ApplyReport,
}

fn doing(what: impl Into<String>) -> impl FnOnce(AwsError) -> (String, AwsError) {
    let what = what.into();
    move |e| (what, e)
}

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi> Executor<'_, E, L, S, D> {
    fn tg_arn(&self, r: &TargetGroupRef) -> Option<String> {
        match r {
            TargetGroupRef::Arn(a) => Some(a.clone()),
            TargetGroupRef::Name(n) => self.target_groups.get(n).cloned(),
        }
    }

    fn resolve_tg(&self, r: &TargetGroupRef, what: &str) -> Result<String, (String, AwsError)> {
        self.tg_arn(r)
            .ok_or_else(|| unresolved(what, &format!("target group {r:?}")))
    }

    fn resolve_td(&self, r: &TaskDefinitionRef, what: &str) -> Result<String, (String, AwsError)> {
        match r {
            TaskDefinitionRef::Arn(a) => Ok(a.clone()),
            TaskDefinitionRef::Registered => self
                .registered
                .clone()
                .ok_or_else(|| unresolved(what, "the task definition this change registers")),
        }
    }

    async fn run(&mut self, op: &Op) -> OpResult {
        let c = self.clients;
        match op {
            Op::CreateTargetGroup(input) => {
                let what = format!("creating target group {}", input.name);
                let tg = c
                    .elb
                    .create_target_group(input)
                    .await
                    .map_err(doing(what))?;
                self.target_groups.insert(tg.name.clone(), tg.arn);
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
            } => {
                let what = "setting the deregistration delay";
                let arn = self.resolve_tg(target_group, what)?;
                c.elb
                    .set_deregistration_delay(&arn, *seconds)
                    .await
                    .map_err(doing(what))?;
                let tags = Tags::from([(ATTRIBUTES_TAG.to_owned(), attributes_marker(*seconds))]);
                c.elb
                    .add_tags(&arn, &tags)
                    .await
                    .map_err(doing("recording the attributes tag"))?;
            }
            Op::CreateRule {
                listener_arn,
                priority,
                path_patterns,
                host_headers,
                target_group,
                tags,
            } => {
                let what = format!("creating the listener rule at priority {priority}");
                let arn = self.resolve_tg(target_group, &what)?;
                c.elb
                    .create_rule(
                        listener_arn,
                        *priority,
                        path_patterns,
                        host_headers,
                        &arn,
                        tags,
                    )
                    .await
                    .map_err(doing(what))?;
            }
            Op::ModifyRule {
                rule_arn,
                path_patterns,
                host_headers,
                target_group,
            } => {
                let what = "modifying the listener rule";
                let arn = self.resolve_tg(target_group, what)?;
                c.elb
                    .modify_rule(rule_arn, path_patterns, host_headers, &arn)
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
            Op::TagElbResource { arn, tags } => {
                c.elb
                    .add_tags(arn, tags)
                    .await
                    .map_err(doing("tagging (adopting) the target group"))?;
            }
            Op::DeleteTargetGroup { arn } => {
                c.elb
                    .delete_target_group(arn)
                    .await
                    .map_err(doing("deleting the target group"))?;
            }
            Op::RegisterTaskDefinition { definition, tags } => {
                // Registering is not idempotent: if the family's newest revision already
                // is this definition (an earlier attempt whose answer was lost, or an
                // adopted service), use it instead of registering a duplicate.
                let family = definition.family.clone().unwrap_or_default();
                let latest = c
                    .ecs
                    .latest_task_definition(&family)
                    .await
                    .map_err(doing("looking up the newest task definition revision"))?;
                let want = serde_json::to_value(definition.as_ref()).unwrap_or_default();
                let reusable = latest.filter(|t| {
                    ecsd_plan::diff::diff(
                        &want,
                        &serde_json::to_value(&t.definition).unwrap_or_default(),
                    )
                    .is_empty()
                });
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
                let what = format!("creating service {}", input.name);
                let td = self.resolve_td(&input.task_definition, &what)?;
                let lbs = resolved_load_balancers(&input.load_balancers, |r| self.tg_arn(r))
                    .ok_or_else(|| unresolved(&what, "a target group of loadBalancers"))?;
                let create = CreateService {
                    cluster: input.cluster.clone(),
                    name: input.name.clone(),
                    deployment_controller: input.deployment_controller.clone(),
                    task_definition_arn: td.clone(),
                    desired_count: input.desired_count,
                    network: input.network.clone(),
                    load_balancers: lbs,
                    health_check_grace_period_seconds: input.health_check_grace_period_seconds,
                    deployment: input.deployment.clone(),
                    tags: input.tags.clone(),
                };
                let created = c.ecs.create_service(&create).await.map_err(doing(what))?;
                // Read our writes: settings the answer lacks are set again by an update.
                let d = &input.deployment;
                let lost_deployment =
                    !kept(d.minimum_healthy_percent, created.minimum_healthy_percent)
                        || !kept(d.maximum_percent, created.maximum_percent)
                        || !kept(d.circuit_breaker, created.circuit_breaker);
                let lost_grace = !kept(
                    input.health_check_grace_period_seconds,
                    created.health_check_grace_period_seconds,
                );
                if lost_deployment || lost_grace {
                    let update = UpdateService {
                        cluster: input.cluster.clone(),
                        name: input.name.clone(),
                        task_definition_arn: None,
                        desired_count: None,
                        network: None,
                        load_balancers: None,
                        health_check_grace_period_seconds: input
                            .health_check_grace_period_seconds
                            .filter(|_| lost_grace),
                        deployment: lost_deployment.then(|| input.deployment.clone()),
                    };
                    c.ecs
                        .update_service(&update)
                        .await
                        .map_err(doing("setting what the create did not keep"))?;
                }
                self.services
                    .insert((input.cluster.clone(), input.name.clone()), created.arn);
                self.report
                    .rolled_out
                    .push((input.cluster.clone(), input.name.clone(), td));
            }
            Op::UpdateService(u) => {
                let what = format!("updating service {}", u.name);
                let td = match &u.task_definition {
                    Some(r) => Some(self.resolve_td(r, &what)?),
                    None => None,
                };
                let lbs = match &u.load_balancers {
                    Some(l) => Some(
                        resolved_load_balancers(l, |r| self.tg_arn(r))
                            .ok_or_else(|| unresolved(&what, "a target group of loadBalancers"))?,
                    ),
                    None => None,
                };
                let update = UpdateService::from_plan(u, td.clone(), lbs);
                let updated = c.ecs.update_service(&update).await.map_err(doing(what))?;
                if td.is_some()
                    || u.desired_count.is_some()
                    || u.network.is_some()
                    || u.load_balancers.is_some()
                {
                    self.report.rolled_out.push((
                        u.cluster.clone(),
                        u.name.clone(),
                        updated.task_definition_arn,
                    ));
                }
            }
            Op::TagService { arn, tags } => {
                c.ecs
                    .tag_resource(arn, tags)
                    .await
                    .map_err(doing("tagging (adopting) the service"))?;
            }
            Op::MarkTaskDefinition {
                cluster,
                service,
                task_definition,
                hash,
            } => {
                let what = "tagging the service with its task definition";
                let td = self.resolve_td(task_definition, what)?;
                let arn = self
                    .services
                    .get(&(cluster.clone(), service.clone()))
                    .cloned()
                    .ok_or_else(|| unresolved(what, &format!("service {service}")))?;
                let tags = Tags::from([(
                    TASK_DEFINITION_TAG.to_owned(),
                    task_definition_marker(&td, hash),
                )]);
                c.ecs.tag_resource(&arn, &tags).await.map_err(doing(what))?;
            }
            Op::DeleteService { cluster, name } => {
                c.ecs
                    .delete_service(cluster, name)
                    .await
                    .map_err(doing(format!("deleting service {name}")))?;
            }
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
            Op::PutTargetTracking {
                resource_id,
                name,
                metric,
                target,
                scale_in_cooldown_seconds,
                scale_out_cooldown_seconds,
                disable_scale_in,
                target_group,
            } => {
                let what = format!("putting scaling policy {name}");
                let resource_label = match target_group {
                    Some(r) => Some(self.resource_label(r, &what).await?),
                    None => None,
                };
                let input = TargetTrackingInput {
                    resource_id: resource_id.clone(),
                    name: name.clone(),
                    metric: *metric,
                    target: *target,
                    scale_in_cooldown_seconds: *scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds: *scale_out_cooldown_seconds,
                    disable_scale_in: *disable_scale_in,
                    resource_label,
                };
                c.scaling
                    .put_target_tracking(&input)
                    .await
                    .map_err(doing(what))?;
            }
            Op::DeleteScalingPolicy { resource_id, name } => {
                c.scaling
                    .delete_scaling_policy(resource_id, name)
                    .await
                    .map_err(doing(format!("deleting scaling policy {name}")))?;
            }
            Op::PutScheduledAction {
                resource_id,
                name,
                schedule,
                timezone,
                min_capacity,
                max_capacity,
            } => {
                let action = ScheduledActionState {
                    resource_id: resource_id.clone(),
                    name: name.clone(),
                    schedule: schedule.clone(),
                    timezone: timezone.clone(),
                    min_capacity: *min_capacity,
                    max_capacity: *max_capacity,
                };
                c.scaling
                    .put_scheduled_action(&action)
                    .await
                    .map_err(doing(format!("putting scheduled action {name}")))?;
            }
            Op::DeleteScheduledAction { resource_id, name } => {
                c.scaling
                    .delete_scheduled_action(resource_id, name)
                    .await
                    .map_err(doing(format!("deleting scheduled action {name}")))?;
            }
            Op::CreateCodeDeployApplication { name, tags } => {
                c.deploy
                    .create_application(name, tags)
                    .await
                    .map_err(doing(format!("creating CodeDeploy application {name}")))?;
            }
            Op::CreateDeploymentGroup(g) => {
                c.deploy
                    .create_deployment_group(g)
                    .await
                    .map_err(doing(format!("creating deployment group {}", g.name)))?;
            }
            Op::UpdateDeploymentGroup(g) => {
                c.deploy
                    .update_deployment_group(g)
                    .await
                    .map_err(doing(format!("updating deployment group {}", g.name)))?;
            }
            Op::CreateCodeDeployDeployment(input) => {
                let what = format!("starting a CodeDeploy deployment of {}", input.group);
                let td = self.resolve_td(&input.task_definition, &what)?;
                let id = c
                    .deploy
                    .create_deployment(&input.application, &input.group, &input.appspec(&td))
                    .await
                    .map_err(doing(what))?;
                tracing::info!(deployment = %id, task_definition = %td, "started a CodeDeploy deployment");
                self.report.code_deployments.push((input.group.clone(), id));
            }
            Op::DeregisterScalableTarget { resource_id } => {
                c.scaling
                    .deregister_scalable_target(resource_id)
                    .await
                    .map_err(doing("deregistering the scalable target"))?;
            }
        }
        Ok(())
    }

    /// `app/LB/ID/targetgroup/TG/ID`, the label ALBRequestCountPerTarget needs.
    async fn resource_label(
        &self,
        r: &TargetGroupRef,
        what: &str,
    ) -> Result<String, (String, AwsError)> {
        let arn = self.resolve_tg(r, what)?;
        let name = arn.split('/').nth(1).unwrap_or_default().to_owned();
        let tgs = self
            .clients
            .elb
            .describe_target_groups(&[name])
            .await
            .map_err(doing(what.to_owned()))?;
        let lb = tgs
            .first()
            .and_then(|t| t.load_balancer_arns.first())
            .ok_or_else(|| unresolved(what, "a load balancer in front of the target group (requestsPerTarget needs a listenerRule)"))?;
        let lb_part = lb.split_once(":loadbalancer/").map_or("", |(_, p)| p);
        let tg_part = arn.split_once(":targetgroup/").map_or("", |(_, p)| p);
        Ok(format!("{lb_part}/targetgroup/{tg_part}"))
    }
}

/// Whether a setting asked for (`Some`) came back as asked.
fn kept<T: PartialEq>(wanted: Option<T>, got: Option<T>) -> bool {
    wanted.is_none() || wanted == got
}

fn unresolved(what: &str, missing: &str) -> (String, AwsError) {
    (
        what.to_owned(),
        AwsError::Transport {
            service: "ecsd",
            operation: "resolve",
            message: format!("{missing} is not known"),
        },
    )
}
