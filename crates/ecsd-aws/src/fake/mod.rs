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
//! awaits action; ECS rewrites their listener rules at each stage and step and serves
//! from the other target group after each (`fake/traffic.rs`).
//!
//! # Layout
//! - this file: the account's state ([`FakeState`]), [`FakeAws`] (call recording,
//!   injected failures, lost answers) and the errors it answers with;
//! - `ecs.rs`, `elbv2.rs`, `scaling.rs`, `codedeploy.rs`: one trait implementation each;
//! - `native.rs`: ECS blue/green, linear and canary deployments on tokio's clock;
//! - `traffic.rs`: the listener rule weights ECS sets during those, and the swap after;
//! - `lease.rs`: the DynamoDB lease table ([`FakeLeaseTable`]) for leader election.

mod cloudwatch;
mod codedeploy;
mod ecs;
mod elbv2;
mod lease;
mod native;
mod scaling;
mod traffic;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ecsd_model::arn::load_balancer_of_listener;
use ecsd_plan::state::{
    CodeDeployStatus, CodeDeployment, DeploymentGroupState, DeploymentState, DeploymentStatus,
    LastDeployment, RolloutState, RuleState, ServiceDeploymentStatus, ServiceId, ServiceState,
    StabilityStatus, Tags, TargetGroupState, TaskDefinitionState,
};
use tokio::time::Instant;

pub use native::{NativeRun, Outcome, STAGE_TIME};
pub use traffic::{Shift, TrafficPair};

use crate::codedeploy::appspec_task_definition;
use crate::error::AwsError;
use crate::scaling::ServiceScaling;
use crate::stats::is_mutating;

use codedeploy::appspec_network;
pub use codedeploy::{application_arn, deployment_group_arn};
pub use lease::{FakeLease, FakeLeaseTable};

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
    /// For a blue/green, linear or canary deployment: how it runs, and the target
    /// groups and rules it shifts traffic between.
    pub native: Option<NativeRun>,
    pub pair: Option<TrafficPair>,
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
    /// How long every call takes to answer, see [`FakeAws::set_latency`].
    pub latency: Option<Duration>,
    waiting_calls: BTreeMap<String, usize>,
    peak_calls: BTreeMap<String, usize>,
    /// Lambda functions whose deployment lifecycle hooks fail.
    pub failing_hooks: BTreeSet<String>,
    /// Scaling activities by resource id, newest first.
    pub scaling_activities: BTreeMap<String, Vec<ecsd_plan::signals::ScalingActivity>>,
    /// Registered targets by target group ARN.
    pub targets: BTreeMap<String, Vec<ecsd_plan::signals::TargetHealth>>,
    /// CloudWatch alarms by name.
    pub alarms: BTreeMap<String, ecsd_plan::signals::AlarmState>,
    /// GetMetricData's answer by query id (data points outside a request's time range
    /// are left out).
    pub metrics: BTreeMap<String, ecsd_plan::signals::MetricSeries>,
    next_id: u64,
}

impl FakeState {
    /// Seconds since the Unix epoch, now.
    pub fn now_epoch(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

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
        let mut shifts = Vec::new();
        for d in &mut self.service_deployments {
            if d.status != ServiceDeploymentStatus::InProgress {
                continue;
            }
            if let Some(run) = &mut d.native {
                match run.advance(now, &self.failing_hooks) {
                    Outcome::Running => {
                        if let Some(pair) = &d.pair {
                            let at = Shift::At {
                                weight: run.weight,
                                tested: run.test_shifted(),
                            };
                            shifts.push((pair.clone(), at));
                        }
                    }
                    other => ended.push((d.service.clone(), other)),
                }
            }
        }
        for (pair, shift) in shifts {
            self.shift_rules(&pair, shift);
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
        let newest = self
            .service_deployments
            .iter()
            .rev()
            .find(|d| d.service == *id);
        if let Some(pair) = newest
            .filter(|d| d.status == ServiceDeploymentStatus::InProgress)
            .and_then(|d| d.pair.clone())
        {
            self.shift_rules(&pair, Shift::Complete);
            self.swap_pair(id, &pair);
        }
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
        let back = newest
            .pair
            .clone()
            .filter(|_| newest.status == ServiceDeploymentStatus::InProgress);
        newest.status = ServiceDeploymentStatus::RollbackSuccessful;
        newest.reason = Some(reason.to_owned());
        let failed_td = newest.task_definition_arn.clone();
        if let Some(pair) = back {
            self.shift_rules(&pair, Shift::RolledBack);
        }
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

    /// Records a service deployment of `td` (the newest one). Every deployment of a
    /// blue/green, linear or canary service runs its lifecycle stages, the first one
    /// (CreateService) included: it too shifts traffic to the alternate target group.
    fn record_deployment(&mut self, id: &ServiceId, td: &str) {
        let created = self.tick();
        let arn = format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{}/{}/Dq{created:x}Vn",
            id.cluster, id.name
        );
        // A deployment still under way is stopped; its revision stays ACTIVE beside the
        // new one, which then runs RECONCILE_SERVICE first.
        let mut reconcile = false;
        for d in self
            .service_deployments
            .iter_mut()
            .filter(|d| d.service == *id && d.status == ServiceDeploymentStatus::InProgress)
        {
            d.status = ServiceDeploymentStatus::Stopped;
            reconcile = true;
        }
        let svc = self.services.get(id);
        let native = svc.and_then(|svc| {
            NativeRun::plan(&svc.deployment_configuration, Instant::now(), reconcile)
        });
        let pair = svc
            .filter(|_| native.is_some())
            .and_then(|svc| TrafficPair::of(&svc.load_balancers));
        self.service_deployments.push(FakeServiceDeployment {
            arn,
            service: id.clone(),
            status: ServiceDeploymentStatus::InProgress,
            reason: None,
            task_definition_arn: td.to_owned(),
            created,
            native,
            pair,
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

    /// Makes every call take `latency` (tokio time) before it is answered, as a
    /// distant region would; calls waiting at once are counted per operation
    /// ([`FakeAws::peak_calls`]).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = Some(latency);
    }

    /// The most calls of `Service.Operation` that were waiting for their answer at the
    /// same time (counted while a latency is set).
    pub fn peak_calls(&self, call: &str) -> usize {
        self.lock().peak_calls.get(call).copied().unwrap_or(0)
    }

    async fn answer_after_latency(&self, call: String) {
        let latency = {
            let mut s = self.lock();
            let Some(latency) = s.latency else {
                return;
            };
            let waiting = s.waiting_calls.entry(call.clone()).or_default();
            *waiting += 1;
            let now = *waiting;
            let peak = s.peak_calls.entry(call.clone()).or_default();
            *peak = (*peak).max(now);
            latency
        };
        tokio::time::sleep(latency).await;
        if let Some(waiting) = self.lock().waiting_calls.get_mut(&call) {
            *waiting -= 1;
        }
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
    async fn call(
        &self,
        service: &'static str,
        operation: &'static str,
    ) -> Result<MutexGuard<'_, FakeState>, AwsError> {
        self.answer_after_latency(format!("{service}.{operation}"))
            .await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::EcsApi;

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
