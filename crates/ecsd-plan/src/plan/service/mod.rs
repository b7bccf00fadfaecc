//! Planning a Service: its task definition revision, the ECS service, the labels on
//! both, for `blueGreen` the CodeDeploy application, deployment group and deployments,
//! and for `ecsBlueGreen`, `linear` and `canary` ECS's strategy, hooks and traffic
//! settings and the approval of a paused deployment.
//!
//! # Layout
//! - this module: what every path shares ([`Svc`]), the manifest and AWS rendered in
//!   the manifest's shape with AWS's defaults filled in, the checks that come first,
//!   and `approval` (ContinueServiceDeployment for the paused deployment the manifest
//!   names);
//! - `create`: a service that does not exist (or whose old one is still draining);
//! - `replace`: a service whose deployment controller must change (`--recreate`);
//! - `switch`: a CodeDeploy service moving to ECS's own blue/green, linear or canary,
//!   in place;
//! - `update`: an existing service of the ECS controller (rolling or native);
//! - `blue_green`: an existing CodeDeploy service, and the CodeDeploy setup.

mod blue_green;
mod create;
mod replace;
mod switch;
mod update;

use serde_json::{Map, Value, json};

use ecsd_model::scaling_policy::ScalingPolicySpec;
use ecsd_model::service::{
    BlueGreen, CircuitBreaker, DeploymentAlarms, EarlySuccessCriteria, HookAction, ServiceSpec,
    Strategy, TaskDefinition, Threshold, Traffic, Verdict,
};
use ecsd_model::{Kind, Manifest, ObjectKey, Spec};

use super::{Context, Hold, PlanError, PlanErrorKind, Planned};
use crate::canonical::{self, same_task_definition, task_definition_hash};
use crate::defaults;
use crate::ops::{
    AdvancedInput, DeploymentInput, LoadBalancerInput, NativeInput, Op, Tagged, TaskDefinitionRef,
};
use crate::ownership::{self, label_sync};
use crate::state::{
    AdvancedConfigState, AwsVpc, DeploymentController, ServiceId, ServiceState, ServiceStatus,
    Tags, TaskDefinitionState,
};

pub use blue_green::application_name;

/// The task definition a Service asks for, with its family defaulted to the service name.
pub fn desired_task_definition(name: &str, spec: &ServiceSpec) -> TaskDefinition {
    let mut td = spec.task_definition.clone();
    td.family.get_or_insert_with(|| name.to_owned());
    td
}

pub(super) fn plan(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &ServiceSpec,
) -> Result<Planned, PlanError> {
    let s = Svc::new(ctx, m, spec)?;
    match ctx.observed.services.get(&s.id) {
        None => {
            s.check_load_balanced()?;
            Ok(create::plan(&s, None).into())
        }
        Some(old) if old.status == ServiceStatus::Draining => {
            s.check_load_balanced()?;
            Ok(create::plan(&s, Some(old)).into())
        }
        // AWS documents an in-place move from CodeDeploy to ECS's own blue/green (and
        // so to linear and canary, the same controller); every other switch of
        // controller needs a new service.
        Some(old)
            if old.deployment_controller == DeploymentController::CodeDeploy
                && s.spec.deployment.is_native() =>
        {
            switch::plan(&s, old)
        }
        Some(old) if old.deployment_controller != s.controller => {
            s.check_load_balanced()?;
            replace::plan(&s, old).map(Into::into)
        }
        Some(svc) => {
            let planned = match s.blue_green {
                Some(bg) => blue_green::update(&s, bg, svc)?,
                None => update::plan(&s, svc)?,
            };
            Ok(planned)
        }
    }
}

/// What every path of a Service's planning shares.
pub(super) struct Svc<'a> {
    pub(super) ctx: &'a Context<'a>,
    pub(super) m: &'a Manifest,
    pub(super) spec: &'a ServiceSpec,
    pub(super) key: ObjectKey,
    pub(super) id: ServiceId,
    /// The desired task definition (family filled in) and its complete hash.
    pub(super) td: TaskDefinition,
    pub(super) hash: String,
    /// Ownership tags plus labels, for what is created.
    pub(super) tags: Tags,
    pub(super) scaling: Option<&'a ScalingPolicySpec>,
    pub(super) blue_green: Option<&'a BlueGreen>,
    /// Where ECS shifts traffic, for `ecsBlueGreen`, `linear` and `canary`.
    pub(super) traffic: Option<&'a Traffic>,
    pub(super) controller: DeploymentController,
    pub(super) depends_on: Vec<ObjectKey>,
}

impl<'a> Svc<'a> {
    fn new(
        ctx: &'a Context<'a>,
        m: &'a Manifest,
        spec: &'a ServiceSpec,
    ) -> Result<Self, PlanError> {
        let id = ctx.service_id(&m.metadata.name, spec);
        if ctx.observed.missing_clusters.contains(&id.cluster) {
            return Err(PlanError::new(
                PlanErrorKind::MissingCluster,
                format!(
                    "cluster {:?} does not exist (ecsd does not create clusters)",
                    id.cluster
                ),
            ));
        }
        let blue_green = spec
            .deployment
            .blue_green
            .as_ref()
            .filter(|_| spec.deployment.strategy == Strategy::BlueGreen);
        let traffic = spec
            .deployment
            .traffic
            .as_ref()
            .filter(|_| spec.deployment.is_native());
        let depends_on = spec
            .load_balancers
            .iter()
            .map(|lb| lb.target_group.as_str())
            .chain(blue_green.map(|bg| bg.alternate_target_group.as_str()))
            .chain(traffic.map(|t| t.alternate_target_group.as_str()))
            .map(|name| ObjectKey {
                kind: Kind::TargetGroup,
                name: name.to_owned(),
            })
            .collect();
        let td = desired_task_definition(&m.metadata.name, spec);
        let s = Svc {
            ctx,
            m,
            spec,
            key: m.key(),
            hash: task_definition_hash(&td),
            td,
            tags: ownership::owner_tags(&ctx.opts.owner, &m.key(), &m.metadata.labels),
            scaling: ctx.scaling_for(&m.metadata.name).map(|(_, s)| s),
            blue_green,
            traffic,
            controller: if blue_green.is_some() {
                DeploymentController::CodeDeploy
            } else {
                DeploymentController::Ecs
            },
            depends_on,
            id,
        };
        Ok(s)
    }

    /// CreateService (and an UpdateService that changes `loadBalancers`) fails on AWS
    /// when a target group of `loadBalancers` is not used by any load balancer: refuse
    /// to plan such a change, naming the fix. A running service is not affected by a
    /// rule deleted later.
    pub(super) fn check_load_balanced(&self) -> Result<(), PlanError> {
        for lb in &self.spec.load_balancers {
            let has_rule = self.ctx.manifests.iter().any(|m| match &m.spec {
                Spec::TargetGroup(tg) => {
                    m.metadata.name == lb.target_group && tg.listener_rule.is_some()
                }
                _ => false,
            });
            let behind_a_load_balancer = self
                .ctx
                .observed
                .target_groups
                .get(&lb.target_group)
                .is_some_and(|t| !t.load_balancer_arns.is_empty());
            if !has_rule && !behind_a_load_balancer {
                return Err(PlanError::new(
                    PlanErrorKind::NoLoadBalancer,
                    format!(
                        "target group {:?} is not used by any load balancer, so ECS would refuse the service; give the TargetGroup a listenerRule (or attach it to a listener) first",
                        lb.target_group
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn network(&self) -> AwsVpc {
        AwsVpc {
            subnets: self.spec.network.subnets.clone(),
            security_groups: self.spec.network.security_groups.clone(),
            assign_public_ip: self.spec.network.assign_public_ip,
        }
    }

    /// The load balancers to send. With a native strategy the pair of target groups
    /// follows what AWS reports for `svc` while it is the manifest's pair: after a
    /// deployment ECS serves from the alternate and reports the two swapped, and sending
    /// the manifest's order would start a deployment onto the idle group.
    pub(super) fn load_balancers(&self, svc: Option<&ServiceState>) -> Vec<LoadBalancerInput> {
        self.spec
            .load_balancers
            .iter()
            .enumerate()
            .map(|(i, lb)| {
                let native = self.traffic.filter(|_| i == 0);
                // A CODE_DEPLOY service (moving to ECS's own deployments) reports the
                // target group it was created with; CodeDeploy's rule weights say which
                // one serves.
                let swapped = native.is_some_and(|t| {
                    svc.is_some_and(|svc| {
                        self.ctx
                            .swapped(svc, &lb.target_group, &t.alternate_target_group)
                            || (svc.deployment_controller == DeploymentController::CodeDeploy
                                && self.ctx.serving_by_rule(
                                    &t.production_listener_rule,
                                    &lb.target_group,
                                    &t.alternate_target_group,
                                ) == Some(t.alternate_target_group.as_str()))
                    })
                });
                let (own, alternate) = match native {
                    Some(t) if swapped => {
                        (t.alternate_target_group.as_str(), lb.target_group.as_str())
                    }
                    Some(t) => (lb.target_group.as_str(), t.alternate_target_group.as_str()),
                    None => (lb.target_group.as_str(), ""),
                };
                LoadBalancerInput {
                    target_group: self.ctx.target_group_ref(own),
                    container_name: lb.container_name.clone(),
                    container_port: lb.container_port,
                    // Validation allows exactly one load balancer with a native strategy.
                    advanced: native.map(|t| AdvancedInput {
                        alternate_target_group: self.ctx.target_group_ref(alternate),
                        production_listener_rule: self.ctx.rule_ref(&t.production_listener_rule),
                        test_listener_rule: t
                            .test_listener_rule
                            .as_deref()
                            .map(|n| self.ctx.rule_ref(n)),
                        role_arn: t.role_arn.clone(),
                    }),
                }
            })
            .collect()
    }

    /// The health check grace period to send: only for a load-balanced service (AWS
    /// refuses one otherwise), and AWS's default when the manifest leaves it out.
    pub(super) fn grace_period(&self) -> Option<u32> {
        (!self.spec.load_balancers.is_empty()).then(|| {
            self.spec
                .health_check_grace_period_seconds
                .unwrap_or(defaults::HEALTH_CHECK_GRACE_PERIOD)
        })
    }

    /// The complete deployment configuration to send. A CODE_DEPLOY service gets no
    /// circuit breaker: AWS allows it only for rolling (ECS) deployments.
    pub(super) fn deployment(&self) -> DeploymentInput {
        let d = &self.spec.deployment;
        let (enable, rollback) = defaults::CIRCUIT_BREAKER;
        let ecs = self.blue_green.is_none();
        DeploymentInput {
            minimum_healthy_percent: d
                .minimum_healthy_percent
                .unwrap_or(defaults::MINIMUM_HEALTHY_PERCENT),
            maximum_percent: d.maximum_percent.unwrap_or(defaults::MAXIMUM_PERCENT),
            circuit_breaker: ecs.then(|| {
                d.circuit_breaker
                    .unwrap_or(CircuitBreaker::new(enable, rollback))
            }),
            alarms: d.alarms.clone().filter(|_| ecs),
            early_success_criteria: d
                .early_success_criteria
                .filter(|_| d.strategy == Strategy::Rolling),
            strategy: ecs.then_some(d.strategy),
            lifecycle_hooks: if d.is_native() {
                d.lifecycle_hooks.clone()
            } else {
                Vec::new()
            },
            native: d.is_native().then(|| NativeInput {
                bake_time_minutes: d.bake_time_minutes.unwrap_or_default(),
                linear: (d.strategy == Strategy::Linear).then(|| d.linear.unwrap_or_default()),
                canary: (d.strategy == Strategy::Canary).then(|| d.canary.unwrap_or_default()),
            }),
        }
    }

    /// The deployment configuration an update sends: [`Self::deployment`], with AWS's
    /// defaults written out for what the manifest leaves out but AWS has otherwise
    /// (a request that leaves a setting out keeps AWS's): a deleted setting reaches AWS.
    pub(super) fn deployment_update(&self, draft: &super::Draft) -> DeploymentInput {
        let mut d = self.deployment();
        if let Some(cb) = &mut d.circuit_breaker {
            if cb.reset_on_healthy_task.is_none()
                && draft.touches("deployment.circuitBreaker.resetOnHealthyTask")
            {
                cb.reset_on_healthy_task = Some(true);
            }
            if cb.threshold_configuration.is_none()
                && draft.touches("deployment.circuitBreaker.thresholdConfiguration")
            {
                cb.threshold_configuration = Some(Threshold::DEFAULT);
            }
        }
        if d.strategy.is_some() && d.alarms.is_none() && draft.touches("deployment.alarms") {
            d.alarms = Some(DeploymentAlarms::none());
        }
        if d.strategy == Some(Strategy::Rolling)
            && d.early_success_criteria.is_none()
            && draft.touches("deployment.earlySuccessCriteria")
        {
            d.early_success_criteria = Some(EarlySuccessCriteria::off());
        }
        d
    }

    /// The manifest as compared: every field it models, defaults filled in, the cluster
    /// as a name, id lists sorted, and without desiredCount when a ScalingPolicy owns it.
    pub(super) fn desired_value(&self) -> Value {
        let mut v = Map::new();
        v.insert("cluster".into(), json!(self.id.cluster));
        if self.scaling.is_none() {
            v.insert("desiredCount".into(), json!(self.spec.desired_count));
        }
        v.insert("network".into(), network_value(&self.network()));
        v.insert("taskDefinition".into(), task_definition_value(&self.td));
        v.insert("loadBalancers".into(), json!(self.spec.load_balancers));
        if let Some(g) = self.grace_period() {
            v.insert("healthCheckGracePeriodSeconds".into(), json!(g));
        }
        let mut deployment = deployment_value(&self.deployment());
        if let (Some(t), Some(obj)) = (self.traffic, deployment.as_object_mut()) {
            obj.insert("traffic".into(), json!(t));
        }
        if let (Some(bg), Some(obj)) = (self.blue_green, deployment.as_object_mut()) {
            let mut bg = serde_json::to_value(bg).unwrap_or(Value::Null);
            if let Some(bg) = bg.as_object_mut() {
                // Hooks go into each deployment's AppSpec; they are not a setting of AWS.
                bg.remove("validationHooks");
            }
            obj.insert("blueGreen".into(), bg);
        }
        v.insert("deployment".into(), deployment);
        Value::Object(v)
    }

    /// What AWS has, in the manifest's shape (`task_definition` is the running one,
    /// already rendered).
    pub(super) fn observed_value(&self, svc: &ServiceState, task_definition: Value) -> Value {
        let traffic = svc
            .load_balancers
            .first()
            .and_then(|lb| lb.advanced.as_ref().map(|a| (lb, a)))
            .map(|(lb, a)| self.traffic_value(svc, &lb.target_group_arn, a));
        let load_balancers: Vec<Value> = svc
            .load_balancers
            .iter()
            .enumerate()
            .map(|(i, lb)| {
                let name = match (&traffic, i) {
                    // ECS may have swapped the two target groups; the pair is what counts.
                    (Some((_, primary)), 0) => primary.clone(),
                    _ => self
                        .ctx
                        .target_group_name(&lb.target_group_arn)
                        .unwrap_or(&lb.target_group_arn)
                        .to_owned(),
                };
                json!({
                    "targetGroup": name,
                    "containerName": lb.container_name,
                    "containerPort": lb.container_port,
                })
            })
            .collect();
        let dc = &svc.deployment_configuration;
        let (enable, rollback) = defaults::CIRCUIT_BREAKER;
        let ecs = svc.deployment_controller == DeploymentController::Ecs;
        let strategy = match &svc.deployment_controller {
            DeploymentController::CodeDeploy => Ok(Strategy::BlueGreen),
            _ => {
                let name = dc.strategy.as_deref().unwrap_or("ROLLING");
                Strategy::from_ecs(name).ok_or(name)
            }
        };
        let native = strategy.is_ok_and(Strategy::is_native);
        let observed_deployment = DeploymentInput {
            minimum_healthy_percent: dc
                .minimum_healthy_percent
                .unwrap_or(defaults::MINIMUM_HEALTHY_PERCENT),
            maximum_percent: dc.maximum_percent.unwrap_or(defaults::MAXIMUM_PERCENT),
            circuit_breaker: ecs.then(|| {
                dc.circuit_breaker
                    .unwrap_or(CircuitBreaker::new(enable, rollback))
            }),
            alarms: dc.alarms.clone().filter(|_| ecs),
            early_success_criteria: dc.early_success_criteria,
            strategy: strategy.ok().filter(|_| ecs),
            lifecycle_hooks: dc.lifecycle_hooks.clone(),
            native: native.then(|| NativeInput {
                bake_time_minutes: dc.bake_time_minutes.unwrap_or_default(),
                linear: (strategy == Ok(Strategy::Linear)).then(|| dc.linear.unwrap_or_default()),
                canary: (strategy == Ok(Strategy::Canary)).then(|| dc.canary.unwrap_or_default()),
            }),
        };
        let mut deployment = deployment_value(&observed_deployment);
        if let Some(obj) = deployment.as_object_mut() {
            match strategy {
                Ok(s) => obj.insert("strategy".into(), json!(s)),
                Err(unknown) => obj.insert("strategy".into(), json!(unknown)),
            };
            if native && dc.bake_time_minutes.is_none() {
                obj.insert("bakeTimeMinutes".into(), Value::Null);
            }
            if let Some((t, _)) = traffic {
                obj.insert("traffic".into(), t);
            }
        }
        let mut v = Map::new();
        v.insert("cluster".into(), json!(svc.id.cluster));
        if self.scaling.is_none() {
            v.insert("desiredCount".into(), json!(svc.desired_count));
        }
        v.insert("network".into(), network_value(&svc.network));
        v.insert("taskDefinition".into(), task_definition);
        v.insert("loadBalancers".into(), json!(load_balancers));
        if !svc.load_balancers.is_empty() || self.grace_period().is_some() {
            v.insert(
                "healthCheckGracePeriodSeconds".into(),
                json!(
                    svc.health_check_grace_period_seconds
                        .unwrap_or(defaults::HEALTH_CHECK_GRACE_PERIOD)
                ),
            );
        }
        v.insert("deployment".into(), deployment);
        Value::Object(v)
    }

    /// The running task definition in the manifest's shape: the desired one when the
    /// service's tag vouches for it (its hash covers the whole definition), else the
    /// one observe described.
    pub(super) fn running_task_definition(&self, svc: &ServiceState) -> Result<Value, PlanError> {
        if ownership::task_definition_vouched(&svc.tags, &svc.task_definition_arn, &self.hash) {
            return Ok(task_definition_value(&self.td));
        }
        self.ctx
            .observed
            .task_definitions
            .get(&svc.task_definition_arn)
            .map(|t| task_definition_value(&t.definition))
            .ok_or_else(|| {
                PlanError::new(
                    PlanErrorKind::Unobserved,
                    format!(
                        "task definition {} of service {} could not be read",
                        svc.task_definition_arn, self.id
                    ),
                )
            })
    }

    /// What to do with a changed task definition, given the last deployment ECS (or
    /// CodeDeploy) rolled back: register the desired one; hold it back when the
    /// rolled-back definition is exactly the desired one; or, when a retry was asked
    /// for, deploy that rolled-back revision again rather than register a copy.
    pub(super) fn after_rollback(
        &self,
        rolled: Option<(&TaskDefinitionState, String)>,
    ) -> Redeploy {
        let Some((td, reason)) = rolled else {
            return Redeploy::Register;
        };
        if !same_task_definition(&td.definition, &self.td) {
            return Redeploy::Register;
        }
        if self.ctx.opts.retry_rolled_back {
            return Redeploy::Reuse(td.arn.clone());
        }
        Redeploy::Hold(Hold {
            key: self.key.clone(),
            reason: format!(
                "the last deployment of {} was rolled back ({reason}); it is not deployed again until the manifest changes or a retry is asked for (apply --retry-rolled-back, or POST /sync to the controller)",
                ownership::revision_of(&td.arn)
            ),
        })
    }

    /// The hold ecsd recorded on the service itself (its task definition tag marks the
    /// desired definition's revision as rolled back by ECS), for when AWS's deployment
    /// history no longer shows the rollback; a retry deploys that recorded revision.
    pub(super) fn recorded_rollback(&self, svc: &ServiceState) -> Redeploy {
        let Some(revision) = ownership::rolled_back_recorded(&svc.tags, &self.hash) else {
            return Redeploy::Register;
        };
        if self.ctx.opts.retry_rolled_back {
            return Redeploy::Reuse(revision.to_owned());
        }
        Redeploy::Hold(Hold {
            key: self.key.clone(),
            reason: format!(
                "the last deployment of {revision} was rolled back by ECS (recorded by ecsd on the service; AWS's deployment history no longer shows it); it is not deployed again until the manifest changes or a retry is asked for (apply --retry-rolled-back, or POST /sync to the controller)"
            ),
        })
    }

    /// Tag operations that bring the service and the resources made for it (its task
    /// definition revision, CodeDeploy application and group) in line with the labels;
    /// the service last, since its tags vouch for the others.
    pub(super) fn sync_labels(
        &self,
        draft: &mut super::Draft,
        svc: &ServiceState,
        also: &[Tagged],
    ) {
        let labels = &self.m.metadata.labels;
        let (_, service_sync) = label_sync(&svc.tags, labels);
        if !service_sync.is_empty() {
            for resource in also {
                let arn = match resource {
                    Tagged::Ecs(a)
                    | Tagged::Elb(a)
                    | Tagged::ScalableTarget(a)
                    | Tagged::CodeDeploy(a) => a,
                    Tagged::Service(_) => continue,
                };
                // Read by observe when the service's labels were out of sync.
                if let Some(tags) = self.ctx.observed.tags.get(arn) {
                    draft.sync_tags(resource.clone(), label_sync(tags, labels).1);
                }
            }
        }
        draft.sync_labels(Tagged::Service(self.id.clone()), &svc.tags, labels);
    }
}

impl Svc<'_> {
    /// ContinueServiceDeployment for the paused deployment the manifest's `approve` (or
    /// `rollback`) names, else for the one its canary analysis decided. Nothing when no
    /// deployment waits at a PAUSE hook, the name is another deployment's (the health
    /// message reports that) or the analysis waits: once ECS has moved on, the hook no
    /// longer awaits action, so an approval or a verdict acts exactly once.
    pub(super) fn approval(&self, draft: &mut super::Draft) {
        let Some(dep) = self.ctx.observed.native_deployments.get(&self.id) else {
            return;
        };
        let Some(hook) = dep.paused() else {
            return;
        };
        let d = &self.spec.deployment;
        let named = match (&d.approve, &d.rollback) {
            (Some(a), _) => Some(("approve", a, HookAction::Continue)),
            (None, Some(r)) => Some(("rollback", r, HookAction::Rollback)),
            (None, None) => None,
        };
        let (action, why) = match named {
            // A commit that names this deployment always wins over the analysis.
            Some((key, name, action)) if dep.is_named_by(name) => {
                (action, format!("as spec.deployment.{key} asks"))
            }
            _ => {
                let Some(state) = self.ctx.observed.analyses.get(&self.id) else {
                    return;
                };
                let Some(j) = state.judgement().filter(|_| state.hook == hook.hook_id) else {
                    return;
                };
                let action = match j.action {
                    Verdict::Continue => HookAction::Continue,
                    Verdict::Rollback => HookAction::Rollback,
                    Verdict::Wait => return,
                };
                (
                    action,
                    format!(
                        "as its canary analysis decided ({}: {})",
                        j.outcome.as_str(),
                        j.reason()
                    ),
                )
            }
        };
        let verb = match action {
            HookAction::Continue => "continues",
            HookAction::Rollback => "rolls back",
        };
        draft.notes.push(format!(
            "{verb} deployment {} paused at {} (hook {}), {why}",
            dep.id(),
            dep.stage.as_deref().unwrap_or("its pause"),
            hook.hook_id
        ));
        draft.ops.push(Op::ContinueServiceDeployment {
            service: self.id.clone(),
            deployment_arn: dep.arn.clone(),
            hook_id: hook.hook_id.clone(),
            action,
        });
    }

    /// A load balancer's `advancedConfiguration` in the manifest's shape (`traffic`),
    /// and the name to show for the service's own target group: when ECS has swapped
    /// the two target groups after a deployment, the manifest's order is kept.
    fn traffic_value(
        &self,
        svc: &ServiceState,
        primary_arn: &str,
        a: &AdvancedConfigState,
    ) -> (Value, String) {
        let tg = |arn: &str| self.ctx.target_group_name(arn).unwrap_or(arn).to_owned();
        let rule = |arn: &str| self.ctx.rule_owner(arn).unwrap_or(arn).to_owned();
        let (mut primary, mut alternate) = (tg(primary_arn), tg(&a.alternate_target_group_arn));
        let swapped = match (self.spec.load_balancers.first(), self.traffic) {
            (Some(lb), Some(t)) => {
                self.ctx
                    .swapped(svc, &lb.target_group, &t.alternate_target_group)
            }
            _ => false,
        };
        if swapped {
            std::mem::swap(&mut primary, &mut alternate);
        }
        let mut v = Map::new();
        v.insert("alternateTargetGroup".into(), json!(alternate));
        v.insert(
            "productionListenerRule".into(),
            json!(a.production_listener_rule.as_deref().map(rule)),
        );
        if let Some(t) = &a.test_listener_rule {
            v.insert("testListenerRule".into(), json!(rule(t)));
        }
        v.insert("roleArn".into(), json!(a.role_arn));
        (Value::Object(v), primary)
    }
}

fn network_value(n: &AwsVpc) -> Value {
    let mut subnets = n.subnets.clone();
    subnets.sort();
    let mut security_groups = n.security_groups.clone();
    security_groups.sort();
    json!({
        "subnets": subnets,
        "securityGroups": security_groups,
        "assignPublicIp": n.assign_public_ip,
    })
}

fn deployment_value(d: &DeploymentInput) -> Value {
    let mut v = Map::new();
    v.insert(
        "strategy".into(),
        json!(d.strategy.unwrap_or(Strategy::BlueGreen)),
    );
    v.insert(
        "minimumHealthyPercent".into(),
        json!(d.minimum_healthy_percent),
    );
    v.insert("maximumPercent".into(), json!(d.maximum_percent));
    if let Some(cb) = d.circuit_breaker {
        v.insert("circuitBreaker".into(), json!(cb.normalized()));
    }
    // Settings AWS has as "none" are left out, like hooks: present on either side only
    // when they do something.
    if let Some(a) = d.alarms.as_ref().filter(|a| !a.is_none()) {
        v.insert("alarms".into(), json!(a));
    }
    if let Some(e) = d.early_success_criteria.filter(|e| e.enable) {
        v.insert("earlySuccessCriteria".into(), json!(e));
    }
    // Left out when there are none, so that a rolling service's plan does not list an
    // empty field; hooks only AWS has still show (the diff covers keys of either side).
    if d.strategy.is_some() && !d.lifecycle_hooks.is_empty() {
        v.insert("lifecycleHooks".into(), json!(d.lifecycle_hooks));
    }
    if let Some(n) = &d.native {
        v.insert("bakeTimeMinutes".into(), json!(n.bake_time_minutes));
        if let Some(l) = &n.linear {
            v.insert("linear".into(), json!(l));
        }
        if let Some(c) = &n.canary {
            v.insert("canary".into(), json!(c));
        }
    }
    Value::Object(v)
}

/// A task definition in the manifest's shape, defaults filled in.
fn task_definition_value(td: &TaskDefinition) -> Value {
    serde_json::to_value(canonical::task_definition(td)).unwrap_or(Value::Null)
}

/// The error for a same-named service that ecsd does not own.
pub(super) fn not_owned(s: &Svc<'_>, hint: &str) -> PlanError {
    PlanError::new(
        PlanErrorKind::NotOwned,
        format!(
            "service {:?} exists in cluster {:?} but is not owned by ecsd (no {}={} tag); {hint}",
            s.id.name,
            s.id.cluster,
            ownership::OWNER_TAG,
            s.ctx.opts.owner
        ),
    )
}

/// The draft of an update of an existing service, and whether ecsd owns it: an
/// unowned service is an error unless `--adopt` asks to take it over (tag it, and say
/// so).
pub(super) fn update_draft(
    s: &Svc<'_>,
    svc: &ServiceState,
) -> Result<(super::Draft, bool), PlanError> {
    let mut draft = super::Draft::new(s.key.clone(), true);
    draft.depends_on = s.depends_on.clone();
    let owned = ownership::is_owned(&svc.tags, &s.ctx.opts.owner);
    if !owned {
        if !s.ctx.opts.adopt {
            return Err(not_owned(s, "use --adopt to take it over"));
        }
        draft.adopt("service", &svc.arn, Tagged::Service(s.id.clone()), &s.tags);
    }
    Ok((draft, owned))
}

/// Records in the service's `ecsd:task-definition` tag that the revision it runs is the
/// desired definition (a described one that matched, or one CodeDeploy finished
/// deploying), so the next pass need not describe it.
pub(super) fn mark_running(s: &Svc<'_>, svc: &ServiceState, draft: &mut super::Draft) {
    draft
        .notes
        .push("records the running task definition in the ecsd:task-definition tag".to_owned());
    draft.ops.push(Op::MarkTaskDefinition {
        service: s.id.clone(),
        task_definition: TaskDefinitionRef::Arn(svc.task_definition_arn.clone()),
        hash: s.hash.clone(),
        owner: s.ctx.opts.owner.clone(),
    });
}

/// How a changed task definition reaches the service (see `Svc::after_rollback`).
pub(super) enum Redeploy {
    /// Register the desired definition as a new revision.
    Register,
    /// Deploy this existing revision, which is the desired definition.
    Reuse(String),
    /// Deploy nothing: ECS rolled this definition back.
    Hold(Hold),
}
