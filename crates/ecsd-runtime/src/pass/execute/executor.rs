//! One change's execution: its operations in order, references resolved against what
//! earlier changes of the same apply created, each operation handed to the file of the
//! AWS service it goes to (`ecs.rs`, `elbv2.rs`, `scaling.rs`, `codedeploy.rs`).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ResolvedLoadBalancer, ScalingApi};
use ecsd_plan::Change;
use ecsd_plan::ops::{
    Forward, LoadBalancerInput, Op, RuleRef, Tagged, TargetGroupRef, TaskDefinitionRef,
};
use ecsd_plan::state::{AdvancedConfigState, ForwardTarget, ServiceId, ServiceStatus, Tags};

use super::outcome::{
    ApplyError, ApplyOptions, DrainWait, ObjectOutcome, RolledOut, StartedDeployment,
};
use crate::pass::clients::Clients;

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>
    Executor<'_, E, L, S, D, W>
{
    /// Runs one change's operations in order, stopping at the first that fails.
    pub(super) async fn change(mut self, change: &Change) -> ObjectOutcome {
        for op in &change.ops {
            match self.run(op).await {
                Ok(Step::Next) => {}
                Ok(Step::Wait(reason)) => {
                    tracing::info!(kind = %change.key.kind, name = %change.key.name, "{reason}");
                    return ObjectOutcome::Waiting { reason };
                }
                Err((doing, error)) => {
                    tracing::error!(
                        kind = %change.key.kind, name = %change.key.name, doing = %doing,
                        aws_error_code = error.code().unwrap_or(""), error = %error, "failed"
                    );
                    return ObjectOutcome::Failed { doing, error };
                }
            }
        }
        // The caller reports outcomes (apply prints them, the controller logs state
        // changes once); this is the detail.
        tracing::debug!(kind = %change.key.kind, name = %change.key.name, "{}", change.action.past_tense());
        ObjectOutcome::Done(change.action)
    }
}

/// What comes after an operation.
pub(super) enum Step {
    Next,
    /// Stop this change for now (nothing failed).
    Wait(String),
}

pub(super) type OpResult = Result<Step, (String, ApplyError)>;

/// What the changes of one apply share. Locks are held for a lookup or an insert only,
/// never across a call to AWS.
pub(super) struct Shared {
    /// Target group ARNs by name, including those created during this apply.
    pub(super) target_groups: Mutex<BTreeMap<String, String>>,
    /// Service ARNs, including those created during this apply.
    pub(super) services: Mutex<BTreeMap<ServiceId, String>>,
    pub(super) rolled_out: Mutex<Vec<RolledOut>>,
    pub(super) code_deployments: Mutex<Vec<StartedDeployment>>,
    /// Listener rules created during this apply, by (listener, priority).
    pub(super) rules: Mutex<BTreeMap<(String, u32), String>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One change's execution.
pub(super) struct Executor<'a, E, L, S, D, W> {
    pub(super) clients: &'a Clients<E, L, S, D, W>,
    pub(super) opts: ApplyOptions,
    pub(super) shared: &'a Shared,
    /// The task definition registered by this change.
    pub(super) registered: Option<String>,
}

/// Names what was being done when an error happened; for `map_err`.
pub(super) fn doing<E: Into<ApplyError>>(
    what: impl Into<String>,
) -> impl FnOnce(E) -> (String, ApplyError) {
    let what = what.into();
    move |e| (what, e.into())
}

pub(super) fn unresolved(what: &str, missing: &str) -> (String, ApplyError) {
    (what.to_owned(), ApplyError::Unresolved(missing.to_owned()))
}

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>
    Executor<'_, E, L, S, D, W>
{
    pub(super) fn tg_arn(&self, r: &TargetGroupRef) -> Option<String> {
        match r {
            TargetGroupRef::Arn(a) => Some(a.clone()),
            TargetGroupRef::Name(n) => lock(&self.shared.target_groups).get(n).cloned(),
        }
    }

    pub(super) fn resolve_tg(
        &self,
        r: &TargetGroupRef,
        what: &str,
    ) -> Result<String, (String, ApplyError)> {
        self.tg_arn(r)
            .ok_or_else(|| unresolved(what, &format!("target group {r:?}")))
    }

    /// A forward action's target groups, as ARNs.
    pub(super) fn resolve_forward(
        &self,
        forward: &[Forward],
        what: &str,
    ) -> Result<Vec<ForwardTarget>, (String, ApplyError)> {
        forward
            .iter()
            .map(|f| {
                Ok(ForwardTarget {
                    target_group_arn: self.resolve_tg(&f.target_group, what)?,
                    weight: f.weight,
                })
            })
            .collect()
    }

    pub(super) fn resolve_td(
        &self,
        r: &TaskDefinitionRef,
        what: &str,
    ) -> Result<String, (String, ApplyError)> {
        match r {
            TaskDefinitionRef::Arn(a) => Ok(a.clone()),
            TaskDefinitionRef::Registered => self
                .registered
                .clone()
                .ok_or_else(|| unresolved(what, "the task definition this change registers")),
        }
    }

    pub(super) fn resolve_service(
        &self,
        id: &ServiceId,
        what: &str,
    ) -> Result<String, (String, ApplyError)> {
        lock(&self.shared.services)
            .get(id)
            .cloned()
            .ok_or_else(|| unresolved(what, &format!("service {id}")))
    }

    pub(super) fn resolve_rule(
        &self,
        r: &RuleRef,
        what: &str,
    ) -> Result<String, (String, ApplyError)> {
        match r {
            RuleRef::Arn(a) if !a.is_empty() => Ok(a.clone()),
            RuleRef::Arn(_) => Err(unresolved(
                what,
                "a listener rule the manifests do not define",
            )),
            RuleRef::At {
                listener_arn,
                priority,
            } => lock(&self.shared.rules)
                .get(&(listener_arn.clone(), *priority))
                .cloned()
                .ok_or_else(|| {
                    unresolved(
                        what,
                        &format!("the listener rule at priority {priority} of {listener_arn}"),
                    )
                }),
        }
    }

    pub(super) fn resolve_lbs(
        &self,
        lbs: &[LoadBalancerInput],
        what: &str,
    ) -> Result<Vec<ResolvedLoadBalancer>, (String, ApplyError)> {
        lbs.iter()
            .map(|lb| {
                let advanced = match &lb.advanced {
                    Some(a) => Some(AdvancedConfigState {
                        alternate_target_group_arn: self
                            .resolve_tg(&a.alternate_target_group, what)?,
                        production_listener_rule: Some(
                            self.resolve_rule(&a.production_listener_rule, what)?,
                        ),
                        test_listener_rule: match &a.test_listener_rule {
                            Some(r) => Some(self.resolve_rule(r, what)?),
                            None => None,
                        },
                        role_arn: Some(a.role_arn.clone()),
                    }),
                    None => None,
                };
                Ok(ResolvedLoadBalancer {
                    target_group_arn: self.resolve_tg(&lb.target_group, what)?,
                    container_name: lb.container_name.clone(),
                    container_port: lb.container_port,
                    advanced,
                })
            })
            .collect()
    }

    pub(super) async fn tag(
        &self,
        resource: &Tagged,
        tags: &Tags,
    ) -> Result<(), (String, ApplyError)> {
        let what = "tagging";
        let c = self.clients;
        match resource {
            Tagged::Service(id) => {
                let arn = self.resolve_service(id, what)?;
                c.ecs
                    .tag_resource(&arn, tags)
                    .await
                    .map_err(doing(format!("tagging service {id}")))
            }
            Tagged::Ecs(arn) => c
                .ecs
                .tag_resource(arn, tags)
                .await
                .map_err(doing(format!("tagging {arn}"))),
            Tagged::Elb(arn) => c
                .elb
                .add_tags(arn, tags)
                .await
                .map_err(doing(format!("tagging {arn}"))),
            Tagged::ScalableTarget(arn) => c
                .scaling
                .tag_resource(arn, tags)
                .await
                .map_err(doing(format!("tagging {arn}"))),
            Tagged::CodeDeploy(arn) => c
                .deploy
                .tag_resource(arn, tags)
                .await
                .map_err(doing(format!("tagging {arn}"))),
        }
    }

    pub(super) async fn untag(
        &self,
        resource: &Tagged,
        keys: &[String],
    ) -> Result<(), (String, ApplyError)> {
        let c = self.clients;
        match resource {
            Tagged::Service(id) => {
                let arn = self.resolve_service(id, "untagging")?;
                c.ecs
                    .untag_resource(&arn, keys)
                    .await
                    .map_err(doing(format!("removing tags from service {id}")))
            }
            Tagged::Ecs(arn) => c
                .ecs
                .untag_resource(arn, keys)
                .await
                .map_err(doing(format!("removing tags from {arn}"))),
            Tagged::Elb(arn) => c
                .elb
                .remove_tags(arn, keys)
                .await
                .map_err(doing(format!("removing tags from {arn}"))),
            Tagged::ScalableTarget(arn) => c
                .scaling
                .untag_resource(arn, keys)
                .await
                .map_err(doing(format!("removing tags from {arn}"))),
            Tagged::CodeDeploy(arn) => c
                .deploy
                .untag_resource(arn, keys)
                .await
                .map_err(doing(format!("removing tags from {arn}"))),
        }
    }

    /// Waits until a deleted service is no longer DRAINING, or says to come back.
    pub(super) async fn await_inactive(&self, id: &ServiceId) -> OpResult {
        let what = format!("waiting for service {id} to finish draining");
        // A service AWS has purged after INACTIVE may be answered with
        // ServiceNotFoundException: it is gone, which is what this waits for.
        let draining = || async {
            match self
                .clients
                .ecs
                .describe_services(&id.cluster, std::slice::from_ref(&id.name))
                .await
            {
                Ok(found) => Ok(found.iter().any(|s| s.status == ServiceStatus::Draining)),
                Err(e) if e.code() == Some("ServiceNotFoundException") => Ok(false),
                Err(e) => Err(e),
            }
        };
        match self.opts.drain {
            DrainWait::Defer => {
                if draining().await.map_err(doing(what.clone()))? {
                    return Ok(Step::Wait(format!(
                        "service {id} is still DRAINING after its deletion; it is created again once AWS has finished deleting it"
                    )));
                }
                Ok(Step::Next)
            }
            DrainWait::Poll { interval, timeout } => {
                let start = tokio::time::Instant::now();
                let mut said = false;
                while draining().await.map_err(doing(what.clone()))? {
                    if start.elapsed() >= timeout {
                        return Err((
                            what,
                            ApplyError::StillDraining {
                                service: id.clone(),
                                waited: timeout,
                            },
                        ));
                    }
                    if !said {
                        tracing::info!(service = %id, "waiting for the deleted service to finish draining before creating it again");
                        said = true;
                    }
                    tokio::time::sleep(interval).await;
                }
                Ok(Step::Next)
            }
        }
    }

    /// Runs one operation, by the AWS service it goes to.
    pub(super) async fn run(&mut self, op: &Op) -> OpResult {
        match op {
            Op::CreateTargetGroup(..)
            | Op::ModifyTargetGroupHealthCheck { .. }
            | Op::SetDeregistrationDelay { .. }
            | Op::CreateRule { .. }
            | Op::ModifyRule { .. }
            | Op::SetRulePriority { .. }
            | Op::DeleteRule { .. }
            | Op::DeleteTargetGroup { .. } => self.elbv2(op).await,
            Op::TagResource { resource, tags } => {
                self.tag(resource, tags).await?;
                Ok(Step::Next)
            }
            Op::UntagResource { resource, keys } => {
                self.untag(resource, keys).await?;
                Ok(Step::Next)
            }
            Op::RegisterTaskDefinition { .. }
            | Op::CreateService(..)
            | Op::UpdateService(..)
            | Op::MarkTaskDefinition { .. }
            | Op::DeleteService { .. }
            | Op::AwaitServiceInactive { .. }
            | Op::ContinueServiceDeployment { .. } => self.ecs(op).await,
            Op::RegisterScalableTarget { .. }
            | Op::PutTargetTracking(..)
            | Op::DeleteScalingPolicy { .. }
            | Op::PutScheduledAction(..)
            | Op::DeleteScheduledAction { .. }
            | Op::DeregisterScalableTarget { .. } => self.scaling(op).await,
            Op::CreateCodeDeployApplication { .. }
            | Op::CreateDeploymentGroup { .. }
            | Op::UpdateDeploymentGroup(..)
            | Op::DeleteDeploymentGroup { .. }
            | Op::DeleteCodeDeployApplication { .. }
            | Op::CreateCodeDeployDeployment(..) => self.codedeploy(op).await,
        }
    }

    /// `app/LB/ID/targetgroup/TG/ID`, the label ALBRequestCountPerTarget needs.
    pub(super) async fn resource_label(
        &self,
        r: &TargetGroupRef,
        what: &str,
    ) -> Result<String, (String, ApplyError)> {
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
            .ok_or_else(|| {
                unresolved(
                    what,
                    "a load balancer in front of the target group (requestsPerTarget needs a listenerRule)",
                )
            })?;
        let lb_part = lb.split_once(":loadbalancer/").map_or("", |(_, p)| p);
        let tg_part = arn.split_once(":targetgroup/").map_or("", |(_, p)| p);
        Ok(format!("{lb_part}/targetgroup/{tg_part}"))
    }
}
