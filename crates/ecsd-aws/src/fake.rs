//! An in-memory AWS account implementing [`EcsApi`], [`Elbv2Api`], [`ScalingApi`] and
//! [`CodeDeployApi`], for tests of the code above them (built with the `fake` feature,
//! never into the binary). It records every call, can fail chosen operations or lose
//! their answers, and lets a test change its state as someone outside ecsd would.
//!
//! It models the AWS behaviours ecsd relies on that the local emulator lacks (see
//! `docs/aws-behaviours.md`): a deleted service stays DRAINING for a while and blocks a
//! same-named create; CreateService refuses a target group no load balancer uses; a
//! CODE_DEPLOY service has task sets instead of deployments and refuses task
//! definition, network, load balancer and circuit breaker changes through
//! UpdateService; ECS records service deployments (and rollbacks) that outlive the
//! `deployments` array; CodeDeploy rewrites listener rules into weighted forwards and
//! reports its newest deployment as `lastAttemptedDeployment`, and a finished one leaves
//! the service on the AppSpec's revision and network; PutScheduledAction keeps a
//! capacity an update leaves out; a target group's load balancers are those of the
//! listeners whose rules forward to it; every resource takes tags. ECS blue/green,
//! linear and canary deployments run their stages, bake times and lifecycle hooks on
//! tokio's clock (`fake/native.rs`), and ContinueServiceDeployment acts only on a pause that
//! awaits action.

mod native;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ecsd_model::arn::load_balancer_of_listener;
use ecsd_model::service::{HookAction, TaskDefinition};
use ecsd_plan::ops::{
    DeploymentInput, HealthCheckInput, RuleConditions, ScheduledActionInput, TargetGroupInput,
    TargetTrackingInput,
};
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::{
    AwsVpc, CodeDeployStatus, CodeDeployment, DeploymentConfigurationState, DeploymentController,
    DeploymentGroupState, DeploymentState, DeploymentStatus, ForwardTarget, HealthCheckState,
    LastDeployment, NativeDeployment, RolloutState, RuleState, ScalableTargetState,
    ScalingPolicyState, ScheduledActionState, ServiceDeploymentStatus, ServiceId,
    ServiceLoadBalancer, ServiceState, ServiceStatus, StabilityStatus, Tags, TargetGroupState,
    TaskDefinitionState, TaskSetState, TaskSetStatus,
};
use tokio::time::Instant;

pub use native::{NativeRun, Outcome, STAGE_TIME};

use crate::codedeploy::{CodeDeployApi, ObservedGroup, appspec_task_definition};
use crate::ecs::{
    Cluster, ClusterLookup, CreateService, EcsApi, ResolvedLoadBalancer, RollbackFound,
    UpdateService,
};
use crate::elbv2::Elbv2Api;
use crate::error::AwsError;
use crate::scaling::{ScalingApi, ServiceScaling};
use crate::stats::is_mutating;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// How long a deleted service stays DRAINING (tokio time).
const DRAIN: Duration = Duration::from_secs(30);

/// One ECS service deployment (what ListServiceDeployments reports).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeServiceDeployment {
    pub arn: String,
    pub service: ServiceId,
    pub status: ServiceDeploymentStatus,
    pub reason: Option<String>,
    pub task_definition_arn: String,
    /// Creation order (a clock for "newest").
    pub created: u64,
    /// For a blue/green, linear or canary deployment: how it runs.
    pub native: Option<NativeRun>,
}

/// A CodeDeploy deployment group as stored, with its newest deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeGroup {
    pub group: DeploymentGroupState,
    pub last_attempted: Option<LastDeployment>,
}

/// The fake account's state; tests may read and change it through [`FakeAws::edit`].
#[derive(Debug, Default)]
pub struct FakeState {
    pub clusters: BTreeSet<String>,
    pub services: BTreeMap<ServiceId, ServiceState>,
    /// When each DRAINING service becomes INACTIVE.
    pub draining_until: BTreeMap<ServiceId, Instant>,
    pub service_deployments: Vec<FakeServiceDeployment>,
    pub task_definitions: BTreeMap<String, TaskDefinitionState>,
    /// Tags of ECS resources other than services (task definitions), by ARN.
    pub ecs_tags: BTreeMap<String, Tags>,
    pub target_groups: BTreeMap<String, TargetGroupState>,
    pub deregistration_delays: BTreeMap<String, u32>,
    /// Listener ARN -> rules.
    pub rules: BTreeMap<String, Vec<RuleState>>,
    pub scaling: ServiceScaling,
    /// Tags of scalable targets, by ARN.
    pub scaling_tags: BTreeMap<String, Tags>,
    /// CodeDeploy applications.
    pub code_deploy_apps: BTreeSet<String>,
    /// CodeDeploy deployment groups by (application, group).
    pub deployment_groups: BTreeMap<(String, String), FakeGroup>,
    /// CodeDeploy deployments, oldest first, with their (application, group).
    pub code_deployments: Vec<((String, String), CodeDeployment)>,
    /// The AppSpec of each CodeDeploy deployment, by deployment id.
    pub appspecs: BTreeMap<String, String>,
    /// Tags of CodeDeploy resources, by ARN.
    pub code_deploy_tags: BTreeMap<String, Tags>,
    /// Every call, as `Service.Operation`.
    pub calls: Vec<String>,
    /// Operations that fail with this AWS error code.
    pub failures: BTreeMap<String, String>,
    /// Operations whose next answer is lost: they take effect, then fail like a
    /// dropped connection.
    pub lost_answers: BTreeSet<String>,
    /// `Service.Operation`s that never answer (a hung AWS), see [`FakeAws::stall`].
    pub stalled: BTreeSet<String>,
    /// Lambda functions whose deployment lifecycle hooks fail.
    pub failing_hooks: BTreeSet<String>,
    next_id: u64,
}

impl FakeState {
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("{:016x}", self.next_id)
    }

    fn tick(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// As DescribeTargetGroups reports it: a target group's load balancers are those of
    /// the listeners whose rules forward to it.
    fn relink(&mut self) {
        let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (listener, rules) in &self.rules {
            let Some(lb) = load_balancer_of_listener(listener) else {
                continue;
            };
            for target in rules.iter().flat_map(|r| &r.forward) {
                used.entry(target.target_group_arn.clone())
                    .or_default()
                    .insert(lb.clone());
            }
        }
        for tg in self.target_groups.values_mut() {
            tg.load_balancer_arns = used
                .get(&tg.arn)
                .map(|l| l.iter().cloned().collect())
                .unwrap_or_default();
        }
    }

    /// Native deployments move on to now: one that succeeds leaves its service steady,
    /// one ECS rolls back leaves it on the previous revision.
    fn run_deployments(&mut self) {
        let now = Instant::now();
        let mut ended = Vec::new();
        for d in &mut self.service_deployments {
            if d.status != ServiceDeploymentStatus::InProgress {
                continue;
            }
            if let Some(run) = &mut d.native {
                match run.advance(now, &self.failing_hooks) {
                    Outcome::Running => {}
                    other => ended.push((d.service.clone(), other)),
                }
            }
        }
        for (id, outcome) in ended {
            match outcome {
                Outcome::RolledBack(reason) => self.roll_back_newest(&id, &reason, false),
                _ => self.complete_newest(&id),
            }
        }
    }

    /// ECS completes the newest deployment of a service: its tasks run.
    pub fn complete_newest(&mut self, id: &ServiceId) {
        if let Some(svc) = self.services.get_mut(id) {
            svc.deployments
                .retain(|d| d.status == DeploymentStatus::Primary);
            for d in &mut svc.deployments {
                d.rollout_state = Some(RolloutState::Completed);
                d.running_count = d.desired_count;
            }
            svc.running_count = svc.desired_count;
            for t in &mut svc.task_sets {
                t.stability_status = StabilityStatus::SteadyState;
                t.running_count = t.computed_desired_count;
            }
        }
        if let Some(d) = self
            .service_deployments
            .iter_mut()
            .rev()
            .find(|d| d.service == *id)
        {
            d.status = ServiceDeploymentStatus::Successful;
        }
    }

    /// ECS rolls back the newest deployment of a service (see [`FakeAws::roll_back`]).
    pub fn roll_back_newest(&mut self, id: &ServiceId, reason: &str, keep_in_array: bool) {
        let previous = self
            .service_deployments
            .iter()
            .filter(|d| d.service == *id)
            .rev()
            .nth(1)
            .map(|d| d.task_definition_arn.clone());
        let Some(newest) = self
            .service_deployments
            .iter_mut()
            .rev()
            .find(|d| d.service == *id)
        else {
            return;
        };
        newest.status = ServiceDeploymentStatus::RollbackSuccessful;
        newest.reason = Some(reason.to_owned());
        let failed_td = newest.task_definition_arn.clone();
        let Some(svc) = self.services.get_mut(id) else {
            return;
        };
        let back_to = previous.unwrap_or_else(|| svc.task_definition_arn.clone());
        svc.task_definition_arn = back_to.clone();
        let mut deployments = vec![DeploymentState {
            id: format!("ecs-svc/rollback-{}", failed_td.len()),
            status: DeploymentStatus::Primary,
            rollout_state: Some(RolloutState::Completed),
            rollout_state_reason: Some(format!("rolled back: {reason}")),
            task_definition_arn: back_to,
            desired_count: svc.desired_count,
            running_count: svc.desired_count,
            failed_tasks: 0,
        }];
        if keep_in_array {
            deployments.push(DeploymentState {
                id: "ecs-svc/failed".into(),
                status: DeploymentStatus::Active,
                rollout_state: Some(RolloutState::Failed),
                rollout_state_reason: Some(format!(
                    "ECS deployment circuit breaker: {reason}; rolling back"
                )),
                task_definition_arn: failed_td,
                desired_count: 0,
                running_count: 0,
                failed_tasks: 3,
            });
        }
        svc.deployments = deployments;
        svc.running_count = svc.desired_count;
    }

    /// DRAINING services whose time is up become INACTIVE (and leave the map).
    fn settle(&mut self) {
        self.run_deployments();
        let now = Instant::now();
        let done: Vec<ServiceId> = self
            .draining_until
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in done {
            self.draining_until.remove(&id);
            self.services.remove(&id);
        }
    }

    /// Records a service deployment of `td` (the newest one).
    /// A service's first deployment (CreateService) starts its tasks without lifecycle
    /// stages; later ones of a blue/green, linear or canary service run them.
    fn record_deployment(&mut self, id: &ServiceId, td: &str, first: bool) {
        let created = self.tick();
        let arn = format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{}/{}/Dq{created:x}Vn",
            id.cluster, id.name
        );
        for d in self
            .service_deployments
            .iter_mut()
            .filter(|d| d.service == *id && d.status == ServiceDeploymentStatus::InProgress)
        {
            d.status = ServiceDeploymentStatus::Stopped;
        }
        let native = self
            .services
            .get(id)
            .filter(|_| !first)
            .and_then(|svc| NativeRun::plan(&svc.deployment_configuration, Instant::now()));
        self.service_deployments.push(FakeServiceDeployment {
            arn,
            service: id.clone(),
            status: ServiceDeploymentStatus::InProgress,
            reason: None,
            task_definition_arn: td.to_owned(),
            created,
            native,
        });
    }

    /// Whether a target group is used by a load balancer (a rule forwards to it).
    fn behind_load_balancer(&self, arn: &str) -> bool {
        self.target_groups
            .values()
            .any(|t| t.arn == arn && !t.load_balancer_arns.is_empty())
    }
}

/// An in-memory AWS account. Clones share the account, so one fake can serve as the
/// ECS, ELBv2, Application Auto Scaling and CodeDeploy client at once.
#[derive(Debug, Default, Clone)]
pub struct FakeAws {
    state: Arc<Mutex<FakeState>>,
}

impl FakeAws {
    /// An account with these (ACTIVE) clusters and listeners.
    pub fn with(clusters: &[&str], listeners: &[&str]) -> Self {
        let fake = FakeAws::default();
        fake.edit(|s| {
            s.clusters.extend(clusters.iter().map(|c| (*c).to_owned()));
            s.rules
                .extend(listeners.iter().map(|l| ((*l).to_owned(), Vec::new())));
        });
        fake
    }

    /// Adds an ACTIVE cluster.
    pub fn add_cluster(&self, name: &str) {
        self.edit(|s| {
            s.clusters.insert(name.to_owned());
        });
    }

    /// Reads or changes the state, as something outside ecsd would.
    pub fn edit<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        let mut s = self.lock();
        s.settle();
        f(&mut s)
    }

    /// Calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// How many calls of `call` (`Service.Operation`) were made so far.
    pub fn count(&self, call: &str) -> usize {
        self.lock().calls.iter().filter(|c| *c == call).count()
    }

    /// Calls made so far that change something.
    pub fn mutating_calls(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| is_mutating(c.rsplit('.').next().unwrap_or_default()))
            .collect()
    }

    /// Makes the next `Service.Operation` take effect but lose its answer.
    pub fn lose_next_answer(&self, call: &str) {
        self.lock().lost_answers.insert(call.to_owned());
    }

    /// Makes `Service.Operation` hang without answering from now on (only the reads a
    /// pass starts with: ECS.DescribeServices).
    pub fn stall(&self, call: &str) {
        self.lock().stalled.insert(call.to_owned());
    }

    /// Waits forever if `call` is stalled.
    async fn hang_if_stalled(&self, call: &str) {
        if self.lock().stalled.contains(call) {
            std::future::pending::<()>().await;
        }
    }

    /// Forgets the calls made so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Makes `Service.Operation` fail with an AWS error code from now on.
    pub fn fail(&self, call: &str, code: &str) {
        self.lock()
            .failures
            .insert(call.to_owned(), code.to_owned());
    }

    /// ECS completes the newest deployment of a rolling service: its tasks run.
    pub fn complete_deployment(&self, id: &ServiceId) {
        self.edit(|s| s.complete_newest(id));
    }

    /// The circuit breaker rolls back the newest deployment of a rolling service: the
    /// service runs the previous revision again. With `keep_in_array`, the failed
    /// deployment is still listed in `deployments` (as right after the rollback); without,
    /// it has left the array and only ListServiceDeployments remembers it.
    pub fn roll_back(&self, id: &ServiceId, reason: &str, keep_in_array: bool) {
        self.edit(|s| s.roll_back_newest(id, reason, keep_in_array));
    }

    /// The deployment lifecycle hooks of this Lambda function fail from now on.
    pub fn fail_hook(&self, function_arn: &str) {
        self.edit(|s| s.failing_hooks.insert(function_arn.to_owned()));
    }

    /// CodeDeploy ends a deployment with `status` (and `error` for a failure).
    /// On success, as ECS reports it afterwards: the service runs the AppSpec's task
    /// definition and network in a PRIMARY task set that is steady.
    pub fn finish_code_deployment(&self, id: &str, status: CodeDeployStatus, error: Option<&str>) {
        self.edit(|s| {
            let mut group = None;
            if let Some((key, d)) = s.code_deployments.iter_mut().find(|(_, d)| d.id == id) {
                d.status = status.clone();
                d.error = error.map(str::to_owned);
                group = Some(key.clone());
            }
            let Some(g) = group.and_then(|k| s.deployment_groups.get_mut(&k)) else {
                return;
            };
            if g.last_attempted.as_ref().is_some_and(|l| l.id == id) {
                g.last_attempted = Some(LastDeployment {
                    id: id.to_owned(),
                    status: status.clone(),
                });
            }
            let service = g.group.service.clone();
            let appspec = s.appspecs.get(id).cloned().unwrap_or_default();
            if status != CodeDeployStatus::Succeeded {
                return;
            }
            let Some(svc) = s.services.get_mut(&service) else {
                return;
            };
            if let Some(td) = appspec_task_definition(&appspec) {
                svc.task_definition_arn = td.clone();
                for t in &mut svc.task_sets {
                    t.task_definition_arn = td.clone();
                    t.stability_status = StabilityStatus::SteadyState;
                    t.running_count = t.computed_desired_count;
                }
            }
            if let Some(network) = appspec_network(&appspec) {
                svc.network = network;
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        // A panic in another test thread must not hide this test's result.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer to a call that took effect, unless it is to be lost.
    fn deliver<T>(
        &self,
        service: &'static str,
        operation: &'static str,
        value: T,
    ) -> Result<T, AwsError> {
        if self
            .lock()
            .lost_answers
            .remove(&format!("{service}.{operation}"))
        {
            return Err(AwsError::Transport {
                service,
                operation,
                message: "connection closed before the answer arrived (injected)".to_owned(),
            });
        }
        Ok(value)
    }

    /// Records a call and fails it if asked to; returns the locked, settled state.
    fn call(
        &self,
        service: &'static str,
        operation: &'static str,
    ) -> Result<MutexGuard<'_, FakeState>, AwsError> {
        let mut s = self.lock();
        s.settle();
        let name = format!("{service}.{operation}");
        s.calls.push(name.clone());
        if let Some(code) = s.failures.get(&name) {
            return Err(AwsError::Service {
                service,
                operation,
                code: code.clone(),
                message: format!("injected failure of {name}"),
            });
        }
        Ok(s)
    }
}

fn error(service: &'static str, operation: &'static str, code: &str, message: String) -> AwsError {
    AwsError::Service {
        service,
        operation,
        code: code.to_owned(),
        message,
    }
}

fn not_found(service: &'static str, operation: &'static str, code: &str, what: &str) -> AwsError {
    error(service, operation, code, format!("{what} not found"))
}

fn service_arn(id: &ServiceId) -> String {
    format!(
        "arn:aws:ecs:{REGION}:{ACCOUNT}:service/{}/{}",
        id.cluster, id.name
    )
}

/// The deployment configuration ECS stores for a request's (every field of it).
fn configuration(d: &DeploymentInput) -> DeploymentConfigurationState {
    DeploymentConfigurationState {
        minimum_healthy_percent: Some(d.minimum_healthy_percent),
        maximum_percent: Some(d.maximum_percent),
        circuit_breaker: d.circuit_breaker,
        strategy: d.strategy.map(|s| s.ecs_name().to_owned()),
        bake_time_minutes: d.native.as_ref().map(|n| n.bake_time_minutes),
        linear: d.native.as_ref().and_then(|n| n.linear),
        canary: d.native.as_ref().and_then(|n| n.canary),
        lifecycle_hooks: d.lifecycle_hooks.clone(),
    }
}

fn lbs(l: &[ResolvedLoadBalancer]) -> Vec<ServiceLoadBalancer> {
    l.iter()
        .map(|lb| ServiceLoadBalancer {
            advanced: lb.advanced.clone(),
            target_group_arn: lb.target_group_arn.clone(),
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
        })
        .collect()
}

fn deployment(id: &str, td: &str, desired: u32) -> DeploymentState {
    DeploymentState {
        id: format!("ecs-svc/{id}"),
        status: DeploymentStatus::Primary,
        rollout_state: Some(RolloutState::InProgress),
        rollout_state_reason: None,
        task_definition_arn: td.to_owned(),
        desired_count: desired,
        running_count: 0,
        failed_tasks: 0,
    }
}

fn task_set(id: &str, td: &str, desired: u32, external_id: Option<String>) -> TaskSetState {
    TaskSetState {
        id: format!("ecs-svc/{id}"),
        status: TaskSetStatus::Primary,
        task_definition_arn: td.to_owned(),
        computed_desired_count: desired,
        running_count: 0,
        pending_count: 0,
        stability_status: StabilityStatus::Stabilizing,
        external_id,
    }
}

impl EcsApi for FakeAws {
    async fn describe_clusters(&self, clusters: &[String]) -> Result<ClusterLookup, AwsError> {
        let s = self.call("ECS", "DescribeClusters")?;
        let mut lookup = ClusterLookup::default();
        for c in clusters {
            let name = cluster_name(c);
            if s.clusters.contains(name) {
                lookup.found.push(Cluster {
                    name: name.to_owned(),
                    arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"),
                    status: "ACTIVE".to_owned(),
                });
            } else {
                lookup.missing.push(name.to_owned());
            }
        }
        Ok(lookup)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<ServiceState>, AwsError> {
        self.hang_if_stalled("ECS.DescribeServices").await;
        let s = self.call("ECS", "DescribeServices")?;
        // AWS answers ClusterNotFoundException for a cluster that does not exist.
        if !s.clusters.iter().any(|c| c == cluster) {
            return Err(not_found(
                "ECS",
                "DescribeServices",
                "ClusterNotFoundException",
                cluster,
            ));
        }
        Ok(names
            .iter()
            .filter_map(|n| s.services.get(&ServiceId::new(cluster, n.clone())).cloned())
            .collect())
    }

    async fn list_clusters(&self) -> Result<Vec<String>, AwsError> {
        let s = self.call("ECS", "ListClusters")?;
        Ok(s.clusters.iter().cloned().collect())
    }

    async fn list_services(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let s = self.call("ECS", "ListServices")?;
        // ListServices leaves out DRAINING services.
        Ok(s.services
            .values()
            .filter(|svc| svc.id.cluster == cluster && svc.status == ServiceStatus::Active)
            .map(|svc| svc.id.name.clone())
            .collect())
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionState, AwsError> {
        let s = self.call("ECS", "DescribeTaskDefinition")?;
        s.task_definitions
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found("ECS", "DescribeTaskDefinition", "ClientException", arn))
    }

    async fn latest_task_definition(
        &self,
        family: &str,
    ) -> Result<Option<TaskDefinitionState>, AwsError> {
        let s = self.call("ECS", "ListTaskDefinitions")?;
        Ok(s.task_definitions
            .values()
            .filter(|t| t.family == family)
            .max_by_key(|t| t.revision)
            .cloned())
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut s = self.call("ECS", "RegisterTaskDefinition")?;
        let family = definition.family.clone().unwrap_or_default();
        let revision = 1 + s
            .task_definitions
            .values()
            .filter(|t| t.family == family)
            .count() as u32;
        let arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}");
        s.task_definitions.insert(
            arn.clone(),
            TaskDefinitionState {
                arn: arn.clone(),
                family,
                revision,
                definition: definition.clone(),
                unmodeled: Vec::new(),
            },
        );
        s.ecs_tags.insert(arn.clone(), tags.clone());
        drop(s);
        self.deliver("ECS", "RegisterTaskDefinition", arn)
    }

    async fn create_service(&self, input: &CreateService) -> Result<ServiceState, AwsError> {
        let mut s = self.call("ECS", "CreateService")?;
        let invalid = |m: String| error("ECS", "CreateService", "InvalidParameterException", m);
        if !s.clusters.contains(&input.id.cluster) {
            return Err(not_found(
                "ECS",
                "CreateService",
                "ClusterNotFoundException",
                &input.id.cluster,
            ));
        }
        match s.services.get(&input.id).map(|svc| &svc.status) {
            Some(ServiceStatus::Draining) => {
                return Err(invalid(
                    "Unable to Start a service that is still Draining.".to_owned(),
                ));
            }
            Some(_) => {
                return Err(invalid(
                    "Creation of service was not idempotent.".to_owned(),
                ));
            }
            None => {}
        }
        if let Some(lb) = input
            .load_balancers
            .iter()
            .find(|lb| !s.behind_load_balancer(&lb.target_group_arn))
        {
            return Err(invalid(format!(
                "The target group with targetGroupArn {} does not have an associated load balancer.",
                lb.target_group_arn
            )));
        }
        let code_deploy = input.deployment_controller == DeploymentController::CodeDeploy;
        if code_deploy && input.deployment.circuit_breaker.is_some() {
            return Err(invalid(
                "The deployment circuit breaker is only supported for services using the rolling update (ECS) deployment type.".to_owned(),
            ));
        }
        let dc = configuration(&input.deployment);
        native::check(
            &dc,
            input
                .load_balancers
                .first()
                .and_then(|lb| lb.advanced.as_ref()),
        )
        .map_err(invalid)?;
        let id = s.id();
        let td = input.task_definition_arn.clone();
        let svc = ServiceState {
            arn: service_arn(&input.id),
            id: input.id.clone(),
            status: ServiceStatus::Active,
            desired_count: input.desired_count,
            running_count: 0,
            pending_count: 0,
            task_definition_arn: td.clone(),
            network: input.network.clone(),
            load_balancers: lbs(&input.load_balancers),
            deployment_configuration: dc,
            health_check_grace_period_seconds: input.health_check_grace_period_seconds,
            deployment_controller: input.deployment_controller.clone(),
            deployments: (!code_deploy)
                .then(|| deployment(&id, &td, input.desired_count))
                .into_iter()
                .collect(),
            task_sets: code_deploy
                .then(|| task_set(&id, &td, input.desired_count, None))
                .into_iter()
                .collect(),
            unmodeled: Vec::new(),
            tags: input.tags.clone(),
        };
        s.services.insert(input.id.clone(), svc.clone());
        if !code_deploy {
            s.record_deployment(&input.id, &td, true);
        }
        drop(s);
        self.deliver("ECS", "CreateService", svc)
    }

    async fn update_service(&self, input: &UpdateService) -> Result<ServiceState, AwsError> {
        let mut s = self.call("ECS", "UpdateService")?;
        let invalid = |m: &str| {
            error(
                "ECS",
                "UpdateService",
                "InvalidParameterException",
                m.to_owned(),
            )
        };
        let id = s.id();
        let svc = s
            .services
            .get_mut(&input.id)
            .filter(|svc| svc.status == ServiceStatus::Active)
            .ok_or_else(|| {
                not_found(
                    "ECS",
                    "UpdateService",
                    "ServiceNotActiveException",
                    &input.id.name,
                )
            })?;
        if svc.deployment_controller == DeploymentController::CodeDeploy {
            if input.task_definition_arn.is_some()
                || input.network.is_some()
                || input.load_balancers.is_some()
            {
                return Err(invalid(
                    "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.",
                ));
            }
            if input
                .deployment
                .as_ref()
                .is_some_and(|d| d.circuit_breaker.is_some())
            {
                return Err(invalid(
                    "The deployment circuit breaker is only supported for services using the rolling update (ECS) deployment type.",
                ));
            }
        }
        // The new settings govern the deployment this update starts.
        if let Some(d) = &input.deployment {
            let mut dc = configuration(d);
            if d.circuit_breaker.is_none() {
                dc.circuit_breaker = svc.deployment_configuration.circuit_breaker;
            }
            let lbs_now = input
                .load_balancers
                .as_ref()
                .map_or(svc.load_balancers.clone(), |l| lbs(l));
            native::check(&dc, lbs_now.first().and_then(|lb| lb.advanced.as_ref()))
                .map_err(|m| invalid(&m))?;
            svc.deployment_configuration = dc;
        }
        let mut deployed = None;
        if let Some(td) = &input.task_definition_arn {
            svc.task_definition_arn = td.clone();
            // The running deployment becomes ACTIVE and drains; the new one is PRIMARY.
            svc.deployments
                .iter_mut()
                .for_each(|d| d.status = DeploymentStatus::Active);
            svc.deployments
                .insert(0, deployment(&id, td, svc.desired_count));
            deployed = Some(td.clone());
        }
        if let Some(n) = input.desired_count {
            svc.desired_count = n;
        }
        if let Some(n) = &input.network {
            svc.network = n.clone();
        }
        if let Some(l) = &input.load_balancers {
            svc.load_balancers = lbs(l);
        }
        if let Some(g) = input.health_check_grace_period_seconds {
            svc.health_check_grace_period_seconds = Some(g);
        }
        let updated = svc.clone();
        if let Some(td) = deployed {
            s.record_deployment(&input.id, &td, false);
        }
        Ok(updated)
    }

    async fn delete_service(&self, id: &ServiceId) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "DeleteService")?;
        let svc = s
            .services
            .get_mut(id)
            .filter(|svc| svc.status == ServiceStatus::Active)
            .ok_or_else(|| {
                not_found("ECS", "DeleteService", "ServiceNotFoundException", &id.name)
            })?;
        svc.status = ServiceStatus::Draining;
        svc.desired_count = 0;
        s.draining_until.insert(id.clone(), Instant::now() + DRAIN);
        Ok(())
    }

    async fn rolled_back_deployment(
        &self,
        id: &ServiceId,
    ) -> Result<Option<RollbackFound>, AwsError> {
        let s = self.call("ECS", "ListServiceDeployments")?;
        let mine: Vec<&FakeServiceDeployment> = s
            .service_deployments
            .iter()
            .filter(|d| d.service == *id)
            .collect();
        let Some(rolled) = mine
            .iter()
            .filter(|d| d.status.rolled_back())
            .max_by_key(|d| d.created)
        else {
            return Ok(None);
        };
        if mine.iter().any(|d| d.created > rolled.created) {
            return Ok(None);
        }
        Ok(Some(RollbackFound {
            deployment_arn: rolled.arn.clone(),
            status: rolled.status.clone(),
            reason: rolled
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".into()),
            task_definition_arn: rolled.task_definition_arn.clone(),
        }))
    }

    async fn current_deployment(
        &self,
        id: &ServiceId,
    ) -> Result<Option<NativeDeployment>, AwsError> {
        let mut s = self.call("ECS", "ListServiceDeployments")?;
        let Some(d) = s
            .service_deployments
            .iter()
            .filter(|d| d.service == *id && d.status.in_flight())
            .max_by_key(|d| d.created)
            .cloned()
        else {
            return Ok(None);
        };
        s.calls.push("ECS.DescribeServiceDeployments".to_owned());
        let run = d.native.as_ref();
        Ok(Some(NativeDeployment {
            arn: d.arn.clone(),
            status: d.status.clone(),
            status_reason: d.reason.clone(),
            stage: run.map(|r| r.stage().to_owned()),
            target_revision_arn: Some(d.arn.replace(":service-deployment/", ":service-revision/")),
            production_weight: run.map(|r| r.weight),
            hooks: run.map(NativeRun::hook_details).unwrap_or_default(),
            rollback_reason: None,
        }))
    }

    async fn continue_deployment(
        &self,
        deployment_arn: &str,
        hook_id: &str,
        action: HookAction,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "ContinueServiceDeployment")?;
        let invalid = |m: String| {
            error(
                "ECS",
                "ContinueServiceDeployment",
                "InvalidParameterException",
                m,
            )
        };
        let Some(d) = s
            .service_deployments
            .iter_mut()
            .find(|d| d.arn == deployment_arn)
        else {
            return Err(not_found(
                "ECS",
                "ContinueServiceDeployment",
                "ServiceDeploymentNotFoundException",
                deployment_arn,
            ));
        };
        if d.status != ServiceDeploymentStatus::InProgress {
            return Err(invalid(format!(
                "The service deployment {deployment_arn} is not IN_PROGRESS."
            )));
        }
        let service = d.service.clone();
        let run = d.native.as_mut().ok_or_else(|| {
            invalid(format!(
                "The lifecycle hook {hook_id} is not in AWAITING_ACTION status."
            ))
        })?;
        match run
            .resolve(hook_id, action, Instant::now())
            .map_err(invalid)?
        {
            Outcome::RolledBack(reason) => s.roll_back_newest(&service, &reason, false),
            Outcome::Succeeded => s.complete_newest(&service),
            Outcome::Running => s.run_deployments(),
        }
        drop(s);
        self.deliver("ECS", "ContinueServiceDeployment", ())
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let s = self.call("ECS", "ListTagsForResource")?;
        Ok(s.services
            .values()
            .find(|x| x.arn == arn)
            .map(|x| x.tags.clone())
            .or_else(|| s.ecs_tags.get(arn).cloned())
            .unwrap_or_default())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "TagResource")?;
        if let Some(svc) = s.services.values_mut().find(|x| x.arn == arn) {
            svc.tags.extend(tags.clone());
        } else {
            s.ecs_tags
                .entry(arn.to_owned())
                .or_default()
                .extend(tags.clone());
        }
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "UntagResource")?;
        let tags = match s.services.values_mut().find(|x| x.arn == arn) {
            Some(svc) => &mut svc.tags,
            None => s.ecs_tags.entry(arn.to_owned()).or_default(),
        };
        tags.retain(|k, _| !keys.contains(k));
        Ok(())
    }
}

/// A plain forward, or with an alternate a 100/0 weighted forward to both.
fn health(input: &HealthCheckInput) -> HealthCheckState {
    HealthCheckState {
        path: Some(input.path.clone()),
        interval_seconds: input.interval_seconds,
        timeout_seconds: input.timeout_seconds,
        healthy_threshold: input.healthy_threshold,
        unhealthy_threshold: input.unhealthy_threshold,
        matcher: input.matcher.clone(),
    }
}

impl Elbv2Api for FakeAws {
    async fn describe_target_groups(
        &self,
        names: &[String],
    ) -> Result<Vec<TargetGroupState>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroups")?;
        Ok(names
            .iter()
            .filter_map(|n| s.target_groups.get(n))
            .map(|t| TargetGroupState {
                tags: Tags::new(),
                ..t.clone()
            })
            .collect())
    }

    async fn list_target_groups(&self) -> Result<Vec<TargetGroupState>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroups")?;
        Ok(s.target_groups
            .values()
            .map(|t| TargetGroupState {
                tags: Tags::new(),
                ..t.clone()
            })
            .collect())
    }

    async fn describe_tags(&self, arns: &[String]) -> Result<BTreeMap<String, Tags>, AwsError> {
        let s = self.call("ELBv2", "DescribeTags")?;
        let mut out = BTreeMap::new();
        for arn in arns {
            let tags = s
                .target_groups
                .values()
                .find(|t| &t.arn == arn)
                .map(|t| t.tags.clone())
                .or_else(|| {
                    s.rules
                        .values()
                        .flatten()
                        .find(|r| &r.arn == arn)
                        .map(|r| r.tags.clone())
                });
            if let Some(tags) = tags {
                out.insert(arn.clone(), tags);
            }
        }
        Ok(out)
    }

    async fn deregistration_delay(&self, arn: &str) -> Result<Option<u32>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroupAttributes")?;
        Ok(Some(
            s.deregistration_delays.get(arn).copied().unwrap_or(300),
        ))
    }

    async fn create_target_group(
        &self,
        input: &TargetGroupInput,
    ) -> Result<TargetGroupState, AwsError> {
        let mut s = self.call("ELBv2", "CreateTargetGroup")?;
        if s.target_groups.contains_key(&input.name) {
            return Err(not_found(
                "ELBv2",
                "CreateTargetGroup",
                "DuplicateTargetGroupName",
                &input.name,
            ));
        }
        let id = s.id();
        let tg = TargetGroupState {
            arn: format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{}/{id}",
                input.name
            ),
            name: input.name.clone(),
            vpc_id: input.vpc_id.clone(),
            port: input.port,
            protocol: input.protocol.clone(),
            target_type: "ip".to_owned(),
            health_check: health(&input.health_check),
            load_balancer_arns: Vec::new(),
            tags: input.tags.clone(),
            deregistration_delay_seconds: None,
        };
        s.target_groups.insert(input.name.clone(), tg.clone());
        drop(s);
        self.deliver("ELBv2", "CreateTargetGroup", tg)
    }

    async fn modify_health_check(&self, arn: &str, hc: &HealthCheckInput) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyTargetGroup")?;
        let tg = s
            .target_groups
            .values_mut()
            .find(|t| t.arn == arn)
            .ok_or_else(|| not_found("ELBv2", "ModifyTargetGroup", "TargetGroupNotFound", arn))?;
        tg.health_check = health(hc);
        Ok(())
    }

    async fn set_deregistration_delay(&self, arn: &str, seconds: u32) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyTargetGroupAttributes")?;
        s.deregistration_delays.insert(arn.to_owned(), seconds);
        Ok(())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "AddTags")?;
        if let Some(t) = s.target_groups.values_mut().find(|t| t.arn == arn) {
            t.tags.extend(tags.clone());
        } else if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == arn) {
            r.tags.extend(tags.clone());
        }
        Ok(())
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "RemoveTags")?;
        if let Some(t) = s.target_groups.values_mut().find(|t| t.arn == arn) {
            t.tags.retain(|k, _| !keys.contains(k));
        } else if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == arn) {
            r.tags.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "DeleteTargetGroup")?;
        s.target_groups.retain(|_, t| t.arn != arn);
        Ok(())
    }

    async fn describe_rules(&self, listener_arn: &str) -> Result<Vec<RuleState>, AwsError> {
        let s = self.call("ELBv2", "DescribeRules")?;
        let rules = s
            .rules
            .get(listener_arn)
            .ok_or_else(|| not_found("ELBv2", "DescribeRules", "ListenerNotFound", listener_arn))?;
        Ok(rules
            .iter()
            .map(|r| RuleState {
                tags: Tags::new(),
                ..r.clone()
            })
            .collect())
    }

    async fn describe_listeners(&self, load_balancer_arn: &str) -> Result<Vec<String>, AwsError> {
        let s = self.call("ELBv2", "DescribeListeners")?;
        Ok(s.rules
            .keys()
            .filter(|l| load_balancer_of_listener(l).as_deref() == Some(load_balancer_arn))
            .cloned()
            .collect())
    }

    async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: &RuleConditions,
        forward: &[ForwardTarget],
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut s = self.call("ELBv2", "CreateRule")?;
        let id = s.id();
        let rules = s
            .rules
            .get_mut(listener_arn)
            .ok_or_else(|| not_found("ELBv2", "CreateRule", "ListenerNotFound", listener_arn))?;
        if rules.iter().any(|r| r.priority == Some(priority)) {
            return Err(not_found(
                "ELBv2",
                "CreateRule",
                "PriorityInUse",
                &priority.to_string(),
            ));
        }
        let arn = format!(
            "{}/{id}",
            listener_arn.replace(":listener/", ":listener-rule/")
        );
        rules.push(RuleState {
            arn: arn.clone(),
            listener_arn: listener_arn.to_owned(),
            priority: Some(priority),
            path_patterns: conditions.path_patterns.clone(),
            host_headers: conditions.host_headers.clone(),
            forward: forward.to_vec(),
            tags: tags.clone(),
        });
        s.relink();
        Ok(arn)
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: Option<&RuleConditions>,
        forward: Option<&[ForwardTarget]>,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyRule")?;
        let rule = s
            .rules
            .values_mut()
            .flatten()
            .find(|r| r.arn == rule_arn)
            .ok_or_else(|| not_found("ELBv2", "ModifyRule", "RuleNotFound", rule_arn))?;
        if let Some(c) = conditions {
            rule.path_patterns = c.path_patterns.clone();
            rule.host_headers = c.host_headers.clone();
        }
        if let Some(f) = forward {
            rule.forward = f.to_vec();
        }
        s.relink();
        Ok(())
    }

    async fn set_rule_priority(&self, rule_arn: &str, priority: u32) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "SetRulePriorities")?;
        if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == rule_arn) {
            r.priority = Some(priority);
        }
        Ok(())
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "DeleteRule")?;
        for rules in s.rules.values_mut() {
            rules.retain(|r| r.arn != rule_arn);
        }
        s.relink();
        Ok(())
    }
}

impl ScalingApi for FakeAws {
    async fn describe(&self, resource_ids: &[String]) -> Result<ServiceScaling, AwsError> {
        let s = self.call("ApplicationAutoScaling", "DescribeScalableTargets")?;
        let keep = |rid: &String| resource_ids.contains(rid);
        Ok(ServiceScaling {
            targets: s
                .scaling
                .targets
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            policies: s
                .scaling
                .policies
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            actions: s
                .scaling
                .actions
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    async fn register_scalable_target(
        &self,
        resource_id: &str,
        min: u32,
        max: u32,
        tags: Option<&Tags>,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "RegisterScalableTarget")?;
        let existing = s.scaling.targets.get(resource_id).map(|t| t.arn.clone());
        let arn = match existing {
            Some(arn) => arn,
            None => {
                let arn = format!(
                    "arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{}",
                    s.id()
                );
                // AWS applies tags only when the target is created.
                s.scaling_tags
                    .insert(arn.clone(), tags.cloned().unwrap_or_default());
                arn
            }
        };
        s.scaling.targets.insert(
            resource_id.to_owned(),
            ScalableTargetState {
                resource_id: resource_id.to_owned(),
                arn,
                min_capacity: min,
                max_capacity: max,
            },
        );
        Ok(())
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "DeregisterScalableTarget")?;
        if let Some(t) = s.scaling.targets.remove(resource_id) {
            s.scaling_tags.remove(&t.arn);
        }
        Ok(())
    }

    async fn put_target_tracking(
        &self,
        input: &TargetTrackingInput,
        _resource_label: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "PutScalingPolicy")?;
        let policies = s
            .scaling
            .policies
            .entry(input.resource_id.clone())
            .or_default();
        policies.retain(|p| p.name != input.name);
        policies.push(ScalingPolicyState {
            resource_id: input.resource_id.clone(),
            name: input.name.clone(),
            metric_type: input.metric.predefined_metric_type().to_owned(),
            target: input.target,
            scale_in_cooldown_seconds: Some(input.scale_in_cooldown_seconds),
            scale_out_cooldown_seconds: Some(input.scale_out_cooldown_seconds),
            disable_scale_in: Some(input.disable_scale_in),
        });
        Ok(())
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "DeleteScalingPolicy")?;
        if let Some(p) = s.scaling.policies.get_mut(resource_id) {
            p.retain(|p| p.name != name);
        }
        Ok(())
    }

    async fn put_scheduled_action(&self, a: &ScheduledActionInput) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "PutScheduledAction")?;
        let actions = s.scaling.actions.entry(a.resource_id.clone()).or_default();
        // As AWS: an update changes what the request names; a capacity it leaves out
        // stays as it was.
        let (old_min, old_max) = actions
            .iter()
            .find(|x| x.name == a.name)
            .map_or((None, None), |x| (x.min_capacity, x.max_capacity));
        actions.retain(|x| x.name != a.name);
        actions.push(ScheduledActionState {
            resource_id: a.resource_id.clone(),
            name: a.name.clone(),
            schedule: a.schedule.clone(),
            timezone: Some(a.timezone.clone()),
            min_capacity: a.min_capacity.or(old_min),
            max_capacity: a.max_capacity.or(old_max),
        });
        Ok(())
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "DeleteScheduledAction")?;
        if let Some(a) = s.scaling.actions.get_mut(resource_id) {
            a.retain(|x| x.name != name);
        }
        Ok(())
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let s = self.call("ApplicationAutoScaling", "ListTagsForResource")?;
        s.scaling_tags.get(arn).cloned().ok_or_else(|| {
            not_found(
                "ApplicationAutoScaling",
                "ListTagsForResource",
                "ResourceNotFoundException",
                arn,
            )
        })
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "TagResource")?;
        s.scaling_tags
            .entry(arn.to_owned())
            .or_default()
            .extend(tags.clone());
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "UntagResource")?;
        if let Some(t) = s.scaling_tags.get_mut(arn) {
            t.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }
}

/// The ARN of a CodeDeploy application.
pub fn application_arn(name: &str) -> String {
    format!("arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:{name}")
}

/// The ARN of a CodeDeploy deployment group.
pub fn deployment_group_arn(application: &str, group: &str) -> String {
    format!("arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:{application}/{group}")
}

impl CodeDeployApi for FakeAws {
    async fn application_exists(&self, name: &str) -> Result<bool, AwsError> {
        let s = self.call("CodeDeploy", "GetApplication")?;
        Ok(s.code_deploy_apps.contains(name))
    }

    async fn create_application(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "CreateApplication")?;
        s.code_deploy_apps.insert(name.to_owned());
        s.code_deploy_tags
            .insert(application_arn(name), tags.clone());
        Ok(())
    }

    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Option<ObservedGroup>, AwsError> {
        let s = self.call("CodeDeploy", "GetDeploymentGroup")?;
        Ok(s.deployment_groups
            .get(&(application.to_owned(), group.to_owned()))
            .map(|g| ObservedGroup {
                group: g.group.clone(),
                last_attempted: g.last_attempted.clone(),
            }))
    }

    async fn create_deployment_group(
        &self,
        input: &DeploymentGroupState,
        tags: &Tags,
    ) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "CreateDeploymentGroup")?;
        s.deployment_groups.insert(
            (input.application.clone(), input.name.clone()),
            FakeGroup {
                group: input.clone(),
                last_attempted: None,
            },
        );
        s.code_deploy_tags.insert(
            deployment_group_arn(&input.application, &input.name),
            tags.clone(),
        );
        Ok(())
    }

    async fn update_deployment_group(&self, input: &DeploymentGroupState) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "UpdateDeploymentGroup")?;
        let g = s
            .deployment_groups
            .get_mut(&(input.application.clone(), input.name.clone()))
            .ok_or_else(|| {
                not_found(
                    "CodeDeploy",
                    "UpdateDeploymentGroup",
                    "DeploymentGroupDoesNotExistException",
                    &input.name,
                )
            })?;
        g.group = input.clone();
        Ok(())
    }

    async fn get_deployment(&self, id: &str) -> Result<CodeDeployment, AwsError> {
        let s = self.call("CodeDeploy", "GetDeployment")?;
        s.code_deployments
            .iter()
            .find(|(_, d)| d.id == id)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| {
                not_found(
                    "CodeDeploy",
                    "GetDeployment",
                    "DeploymentDoesNotExistException",
                    id,
                )
            })
    }

    async fn create_deployment(
        &self,
        application: &str,
        group: &str,
        appspec: &str,
    ) -> Result<String, AwsError> {
        let mut s = self.call("CodeDeploy", "CreateDeployment")?;
        let key = (application.to_owned(), group.to_owned());
        let Some(g) = s.deployment_groups.get(&key).map(|g| g.group.clone()) else {
            return Err(not_found(
                "CodeDeploy",
                "CreateDeployment",
                "DeploymentGroupDoesNotExistException",
                group,
            ));
        };
        let id = format!("d-{}", s.id());
        let deployment = CodeDeployment {
            id: id.clone(),
            status: CodeDeployStatus::Created,
            task_definition_arn: appspec_task_definition(appspec),
            error: None,
        };
        s.code_deployments.push((key.clone(), deployment));
        s.appspecs.insert(id.clone(), appspec.to_owned());
        if let Some(fg) = s.deployment_groups.get_mut(&key) {
            fg.last_attempted = Some(LastDeployment {
                id: id.clone(),
                status: CodeDeployStatus::Created,
            });
        }
        shift_traffic(&mut s, &g);
        drop(s);
        self.deliver("CodeDeploy", "CreateDeployment", id)
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let s = self.call("CodeDeploy", "ListTagsForResource")?;
        Ok(s.code_deploy_tags.get(arn).cloned().unwrap_or_default())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "TagResource")?;
        s.code_deploy_tags
            .entry(arn.to_owned())
            .or_default()
            .extend(tags.clone());
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "UntagResource")?;
        if let Some(t) = s.code_deploy_tags.get_mut(arn) {
            t.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }
}

/// The network an ECS AppSpec (JSON) gives the new task set.
fn appspec_network(content: &str) -> Option<AwsVpc> {
    let v: serde_json::Value = serde_json::from_str(content).ok()?;
    let vpc = v.get("Resources")?.as_array()?.iter().find_map(|r| {
        r.pointer("/TargetService/Properties/NetworkConfiguration/AwsvpcConfiguration")
    })?;
    let list = |k: &str| -> Vec<String> {
        vpc.get(k)
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    Some(AwsVpc {
        subnets: list("Subnets"),
        security_groups: list("SecurityGroups"),
        assign_public_ip: vpc.get("AssignPublicIp").and_then(|x| x.as_str()) == Some("ENABLED"),
    })
}

/// What CodeDeploy does to the listeners of a deployment group: the rules of its
/// production and test listeners that forward to either target group of the pair
/// become a weighted forward that sends everything to the other one.
fn shift_traffic(s: &mut FakeState, g: &DeploymentGroupState) {
    let arns: Vec<String> = g
        .target_groups
        .iter()
        .filter_map(|n| s.target_groups.get(n).map(|t| t.arn.clone()))
        .collect();
    let [blue, green] = arns.as_slice() else {
        return;
    };
    let listeners: Vec<&String> = g
        .prod_listener_arns
        .iter()
        .chain(&g.test_listener_arns)
        .collect();
    for listener in listeners {
        for rule in s.rules.get_mut(listener).into_iter().flatten() {
            if !rule.forwards_to(blue) && !rule.forwards_to(green) {
                continue;
            }
            let serving_green = rule.forwards_only_to(green);
            let weight = |arn: &String, to: bool| ForwardTarget {
                target_group_arn: arn.clone(),
                weight: Some(if to { 100 } else { 0 }),
            };
            rule.forward = vec![weight(blue, serving_green), weight(green, !serving_green)];
        }
    }
    s.relink();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_ecs_reports_found_and_missing_clusters() {
        let aws = FakeAws::with(&["prod"], &[]);
        let lookup = aws
            .describe_clusters(&[
                "prod".to_owned(),
                "arn:aws:ecs:us-east-1:123456789012:cluster/gone".to_owned(),
            ])
            .await
            .expect("lookup");
        assert_eq!(lookup.found.len(), 1);
        assert_eq!(lookup.missing, vec!["gone".to_owned()]);
    }

    #[tokio::test]
    async fn injected_failures_carry_the_code_and_are_recorded() {
        let aws = FakeAws::with(&["prod"], &[]);
        aws.fail("ECS.DescribeServices", "ThrottlingException");
        let e = aws
            .describe_services("prod", &["web".to_owned()])
            .await
            .expect_err("fails");
        assert!(e.is_throttling());
        assert_eq!(aws.calls(), vec!["ECS.DescribeServices".to_owned()]);
        assert!(aws.mutating_calls().is_empty());
    }
}
