//! Executing a plan: each change's operations in order; independent objects at the same
//! time (up to [`ApplyOptions::concurrency`]), each after what it depends on (a target
//! group before the service that uses it, a service before its scaling; deletions after
//! everything else, one kind after another in the plan's order). An object whose
//! operation fails stops there and is reported with the typed error (the AWS error
//! keeps its code, so backoff and metrics can read it); objects that depend on it are
//! skipped; every other object carries on.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use ecsd_aws::{
    AwsError, CodeDeployApi, CreateService, EcsApi, Elbv2Api, ResolvedLoadBalancer, ScalingApi,
    UpdateService,
};
use ecsd_model::ObjectKey;
use ecsd_model::service::HookAction;
use ecsd_plan::canonical::same_task_definition;
use ecsd_plan::ops::{
    Forward, LoadBalancerInput, Op, RuleRef, Tagged, TargetGroupRef, TaskDefinitionRef,
};
use ecsd_plan::ownership::{
    ATTRIBUTES_TAG, OWNER_TAG, TASK_DEFINITION_TAG, attributes_marker, task_definition_marker,
};
use ecsd_plan::state::{AdvancedConfigState, ForwardTarget, ServiceId, ServiceStatus, Tags};
use ecsd_plan::{Action, Change, Plan};

use super::Clients;
use super::schedule::Order;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// AWS refused or did not answer.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A reference the operation needs is not known (what an earlier operation of the
    /// same apply should have created).
    #[error("{0} is not known")]
    Unresolved(String),
    /// A deleted service did not finish draining in time.
    #[error(
        "service {service} was still DRAINING after {waited:?}; it is created once AWS has finished deleting it (run apply again)"
    )]
    StillDraining {
        service: ServiceId,
        waited: Duration,
    },
}

impl ApplyError {
    /// The AWS error code, if AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApplyError::Aws(e) => e.code(),
            _ => None,
        }
    }

    /// Whether AWS said it is throttling.
    pub fn is_throttling(&self) -> bool {
        matches!(self, ApplyError::Aws(e) if e.is_throttling())
    }

    /// Whether the fence refused the call: this replica does not lead.
    pub fn is_fenced(&self) -> bool {
        matches!(self, ApplyError::Aws(e) if e.is_fenced())
    }
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectOutcome {
    /// Every operation succeeded.
    Done(Action),
    /// An operation failed; `doing` says which.
    Failed { doing: String, error: ApplyError },
    /// Not attempted because an object it depends on failed.
    Skipped { because: ObjectKey },
    /// Stopped before an operation AWS cannot do yet (a deleted service still draining);
    /// nothing failed, and the rest follows once it can.
    Waiting { reason: String },
}

/// A service whose deployment changed, and the task definition it now runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledOut {
    pub service: ServiceId,
    pub task_definition_arn: String,
}

/// A CodeDeploy deployment that was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedDeployment {
    pub service: ServiceId,
    pub deployment_id: String,
}

/// The outcome of an apply, per object, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub outcomes: Vec<(ObjectKey, ObjectOutcome)>,
    /// Services whose deployment changed.
    pub rolled_out: Vec<RolledOut>,
    /// CodeDeploy deployments started.
    pub code_deployments: Vec<StartedDeployment>,
}

impl ApplyReport {
    /// True when every object's operations succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, o)| matches!(o, ObjectOutcome::Done(_)))
    }
}

/// What to do when a change must wait for a deleted service to finish draining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainWait {
    /// Poll until it is gone (one-shot `apply`), up to `timeout`.
    Poll {
        interval: Duration,
        timeout: Duration,
    },
    /// Stop the change with [`ObjectOutcome::Waiting`] (the controller comes back).
    Defer,
}

/// How to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOptions {
    pub drain: DrainWait,
    /// Objects whose changes run at the same time (at least 1).
    pub concurrency: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            drain: DrainWait::Poll {
                interval: Duration::from_secs(5),
                timeout: Duration::from_secs(15 * 60),
            },
            concurrency: 1,
        }
    }
}

/// Executes `plan` against AWS. `observed` is the state the plan was made from.
pub async fn apply<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
    plan: &Plan,
    observed: &ecsd_plan::Observed,
    clients: &Clients<E, L, S, D>,
    opts: ApplyOptions,
) -> ApplyReport {
    let shared = Shared {
        target_groups: Mutex::new(
            observed
                .target_groups
                .values()
                .map(|t| (t.name.clone(), t.arn.clone()))
                .collect(),
        ),
        services: Mutex::new(
            observed
                .services
                .iter()
                .map(|(id, s)| (id.clone(), s.arn.clone()))
                .collect(),
        ),
        rolled_out: Mutex::default(),
        code_deployments: Mutex::default(),
        rules: Mutex::default(),
    };
    let changes = &plan.changes;
    let order = Order::of(changes);
    let mut queue = order.queue(opts.concurrency, Instant::now());
    let mut outcomes: Vec<Option<ObjectOutcome>> = vec![None; changes.len()];
    let mut running = FuturesUnordered::new();
    loop {
        let mut skipped = false;
        for slot in queue.take_ready(Instant::now()) {
            let i = slot.index;
            if let Some(dep) =
                order.failed_dependency(i, |j| matches!(outcomes[j], Some(ObjectOutcome::Done(_))))
            {
                let change = &changes[i];
                tracing::warn!(kind = %change.key.kind, name = %change.key.name, depends_on = %dep, "skipped: a dependency failed");
                outcomes[i] = Some(ObjectOutcome::Skipped { because: dep });
                queue.done(&slot);
                skipped = true;
                continue;
            }
            let exec = Executor {
                clients,
                opts,
                shared: &shared,
                registered: None,
            };
            running.push(async move { (slot, exec.change(&changes[slot.index]).await) });
        }
        if running.is_empty() {
            // Everything ran, or nothing can start (never so for the planner's orders).
            if !skipped {
                break;
            }
            continue;
        }
        if let Some((slot, outcome)) = running.next().await {
            outcomes[slot.index] = Some(outcome);
            queue.done(&slot);
        }
    }
    drop(running);
    let mut rolled_out = take(shared.rolled_out);
    rolled_out.sort_by(|a, b| a.service.cmp(&b.service));
    let mut code_deployments = take(shared.code_deployments);
    code_deployments.sort_by(|a, b| a.service.cmp(&b.service));
    ApplyReport {
        outcomes: changes
            .iter()
            .zip(outcomes)
            .map(|(c, o)| {
                let outcome = o.unwrap_or_else(|| ObjectOutcome::Waiting {
                    reason: "not started".to_owned(),
                });
                (c.key.clone(), outcome)
            })
            .collect(),
        rolled_out,
        code_deployments,
    }
}

fn take<T>(m: Mutex<Vec<T>>) -> Vec<T> {
    m.into_inner().unwrap_or_else(PoisonError::into_inner)
}

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi> Executor<'_, E, L, S, D> {
    /// Runs one change's operations in order, stopping at the first that fails.
    async fn change(mut self, change: &Change) -> ObjectOutcome {
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
enum Step {
    Next,
    /// Stop this change for now (nothing failed).
    Wait(String),
}

type OpResult = Result<Step, (String, ApplyError)>;

/// What the changes of one apply share. Locks are held for a lookup or an insert only,
/// never across a call to AWS.
struct Shared {
    /// Target group ARNs by name, including those created during this apply.
    target_groups: Mutex<BTreeMap<String, String>>,
    /// Service ARNs, including those created during this apply.
    services: Mutex<BTreeMap<ServiceId, String>>,
    rolled_out: Mutex<Vec<RolledOut>>,
    code_deployments: Mutex<Vec<StartedDeployment>>,
    /// Listener rules created during this apply, by (listener, priority).
    rules: Mutex<BTreeMap<(String, u32), String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One change's execution.
struct Executor<'a, E, L, S, D> {
    clients: &'a Clients<E, L, S, D>,
    opts: ApplyOptions,
    shared: &'a Shared,
    /// The task definition registered by this change.
    registered: Option<String>,
}

/// Names what was being done when an error happened; for `map_err`.
fn doing<E: Into<ApplyError>>(what: impl Into<String>) -> impl FnOnce(E) -> (String, ApplyError) {
    let what = what.into();
    move |e| (what, e.into())
}

fn unresolved(what: &str, missing: &str) -> (String, ApplyError) {
    (what.to_owned(), ApplyError::Unresolved(missing.to_owned()))
}

impl<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi> Executor<'_, E, L, S, D> {
    fn tg_arn(&self, r: &TargetGroupRef) -> Option<String> {
        match r {
            TargetGroupRef::Arn(a) => Some(a.clone()),
            TargetGroupRef::Name(n) => lock(&self.shared.target_groups).get(n).cloned(),
        }
    }

    fn resolve_tg(&self, r: &TargetGroupRef, what: &str) -> Result<String, (String, ApplyError)> {
        self.tg_arn(r)
            .ok_or_else(|| unresolved(what, &format!("target group {r:?}")))
    }

    /// A forward action's target groups, as ARNs.
    fn resolve_forward(
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

    fn resolve_td(
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

    fn resolve_service(&self, id: &ServiceId, what: &str) -> Result<String, (String, ApplyError)> {
        lock(&self.shared.services)
            .get(id)
            .cloned()
            .ok_or_else(|| unresolved(what, &format!("service {id}")))
    }

    fn resolve_rule(&self, r: &RuleRef, what: &str) -> Result<String, (String, ApplyError)> {
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

    fn resolve_lbs(
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

    async fn tag(&self, resource: &Tagged, tags: &Tags) -> Result<(), (String, ApplyError)> {
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

    async fn untag(&self, resource: &Tagged, keys: &[String]) -> Result<(), (String, ApplyError)> {
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
    async fn await_inactive(&self, id: &ServiceId) -> OpResult {
        let what = format!("waiting for service {id} to finish draining");
        let draining = || async {
            self.clients
                .ecs
                .describe_services(&id.cluster, std::slice::from_ref(&id.name))
                .await
                .map(|found| found.iter().any(|s| s.status == ServiceStatus::Draining))
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
            Op::ShiftRule {
                rule,
                target_group,
                alternate,
            } => {
                let what = "making the listener rule a weighted forward to both target groups";
                let rule = self.resolve_rule(rule, what)?;
                let forward = self.resolve_forward(
                    &Forward::shiftable(target_group.clone(), alternate.clone()),
                    what,
                )?;
                c.elb
                    .modify_rule(&rule, None, Some(&forward))
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
            Op::TagResource { resource, tags } => self.tag(resource, tags).await?,
            Op::UntagResource { resource, keys } => self.untag(resource, keys).await?,
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
                    id: input.id.clone(),
                    deployment_controller: input.deployment_controller.clone(),
                    task_definition_arn: td.clone(),
                    desired_count: input.desired_count,
                    network: input.network.clone(),
                    load_balancers: self.resolve_lbs(&input.load_balancers, &what)?,
                    health_check_grace_period_seconds: input.health_check_grace_period_seconds,
                    deployment: input.deployment.clone(),
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
                    let update = UpdateService {
                        health_check_grace_period_seconds: input
                            .health_check_grace_period_seconds
                            .filter(|_| lost_grace),
                        deployment: lost_deployment.then(|| input.deployment.clone()),
                        ..UpdateService::of(input.id.clone())
                    };
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
                    id: u.id.clone(),
                    task_definition_arn: td,
                    desired_count: u.desired_count,
                    network: u.network.clone(),
                    load_balancers,
                    health_check_grace_period_seconds: u.health_check_grace_period_seconds,
                    deployment: u.deployment.clone(),
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
                tracing::info!(service = %service, deployment = %deployment_arn, hook = %hook_id, action = action.ecs_name(), "acted on a paused deployment as the manifest asks");
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
        }
        Ok(Step::Next)
    }

    /// `app/LB/ID/targetgroup/TG/ID`, the label ALBRequestCountPerTarget needs.
    async fn resource_label(
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
