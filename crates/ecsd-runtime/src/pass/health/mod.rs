//! Sync and health of objects, from one plan, what was observed and the health signals
//! read beside it. Shared by the controller, `ecsd status` and `/status`.
//!
//! # Layout
//! - this file: [`evaluate`] and a Service's health (its deployment, rollbacks, tasks,
//!   deployment alarms and ECS's task start impaired condition);
//! - [`target_group`]: a TargetGroup's health from its targets;
//! - [`scaling`]: a ScalingPolicy's health from its bounds and scaling activities.

pub mod scaling;
pub mod target_group;

use std::borrow::Borrow;
use std::collections::BTreeMap;

use ecsd_model::service::ServiceSpec;
use ecsd_model::{Manifest, ObjectKey, Spec};
use ecsd_plan::Plan;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::signals::{AlarmValue, Signals};
use ecsd_plan::state::{
    BlueGreenState, DeploymentController, NativeDeployment, Observed, RolloutState, ServiceId,
    ServiceState, StabilityStatus,
};

use super::signals::{service_of, service_target_groups};
use crate::status::details::short_task_definition;
use crate::status::{
    AwaitingApproval, DeploymentProgress, Health, HealthDetails, ObjectStatus, SyncStatus, Tasks,
};

/// How long a scalable target may sit at a bound before it is a warning, by default.
pub const SCALING_BOUND_WARNING_SECONDS: u64 = 3_600;

/// What health needs besides the observation: the signals read so far and the time.
#[derive(Debug, Clone, Copy)]
pub struct HealthInputs<'a> {
    pub signals: &'a Signals,
    /// Now, in seconds since the Unix epoch.
    pub now: u64,
    /// Seconds at a scaling bound before it is a warning.
    pub scaling_bound_warning: u64,
}

impl<'a> HealthInputs<'a> {
    /// These signals, now, with the default warning time.
    pub fn now(signals: &'a Signals) -> Self {
        HealthInputs {
            signals,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            scaling_bound_warning: SCALING_BOUND_WARNING_SECONDS,
        }
    }
}

/// An object's health, with what it was decided from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub health: Health,
    pub message: String,
    pub warnings: Vec<String>,
    pub details: HealthDetails,
}

impl Assessment {
    pub fn new(health: Health, message: String) -> Self {
        Assessment {
            health,
            message,
            warnings: Vec::new(),
            details: HealthDetails::default(),
        }
    }

    /// Makes it at least as bad as `health`, adding `why` to the message.
    fn worsen(&mut self, health: Health, why: &str) {
        if rank(health) > rank(self.health) {
            self.health = health;
        }
        self.message = format!("{}; {why}", self.message);
    }
}

fn rank(h: Health) -> u8 {
    match h {
        Health::Healthy => 0,
        Health::Unknown => 1,
        Health::Progressing => 2,
        Health::Degraded => 3,
    }
}

/// The health of any object from what was observed and the signals read.
pub fn object_health<M: Borrow<Manifest>>(
    manifests: &[M],
    m: &Manifest,
    observed: &Observed,
    inputs: HealthInputs<'_>,
) -> Assessment {
    let key = m.key();
    match &m.spec {
        Spec::Service(svc) => service_assessment(&key, svc, observed, inputs),
        Spec::TargetGroup(_) => {
            if !observed.target_groups.contains_key(&key.name) {
                return Assessment::new(
                    Health::Unknown,
                    "the target group does not exist yet".to_owned(),
                );
            }
            let Some(targets) = inputs.signals.targets.get(&key.name) else {
                return Assessment::new(
                    Health::Unknown,
                    "the target group exists; its targets' health was not read yet".to_owned(),
                );
            };
            let load = service_of(manifests, m).and_then(|id| {
                let running = observed.services.get(&id)?.running_count;
                let spec = manifests
                    .iter()
                    .map(Borrow::borrow)
                    .find_map(|s| match &s.spec {
                        Spec::Service(svc) if s.metadata.name == id.name => Some(svc),
                        _ => None,
                    })?;
                Some(target_group::ServiceLoad {
                    running,
                    sole_group: service_target_groups(spec).len() == 1,
                })
            });
            let mut a = target_group::assess(targets, load);
            a.details.targets = targets.clone();
            a
        }
        Spec::ScalingPolicy(sp) => {
            let found = observed
                .services
                .iter()
                .find(|(id, _)| id.name == sp.service)
                .and_then(|(id, s)| {
                    let rid = id.scaling_resource_id();
                    observed.scalable_targets.get(&rid).map(|t| (s, t, rid))
                });
            let Some((service, target, rid)) = found else {
                return Assessment::new(
                    Health::Unknown,
                    "the scalable target does not exist yet".to_owned(),
                );
            };
            let activities = inputs
                .signals
                .activities
                .get(&rid)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let (mut a, details) = scaling::assess(
                target,
                service.desired_count,
                activities,
                inputs.now,
                inputs.scaling_bound_warning,
            );
            a.details.scaling = Some(details);
            a
        }
    }
}

/// A Service's health: its tasks and deployment, CodeDeploy's or ECS's deployment under
/// way, a stale approval, its deployment alarms and ECS's task start impaired condition.
fn service_assessment(
    key: &ObjectKey,
    svc: &ServiceSpec,
    observed: &Observed,
    inputs: HealthInputs<'_>,
) -> Assessment {
    let id = ServiceId::new(cluster_name(&svc.cluster), &key.name);
    let state = observed.services.get(&id);
    let (health, message) = service_health(state);
    let mut a = Assessment::new(health, message);
    a.details.rollback = state.and_then(rollback_reason);
    if let Some((h, m)) = observed.blue_green.get(&id).and_then(code_deploy_health) {
        if h == Health::Degraded {
            a.details.rollback = Some(m.clone());
        }
        a.health = h;
        a.message = format!("{}; {m}", a.message);
    }
    if let Some(d) = observed.native_deployments.get(&id) {
        let (h, m) = native_health(d);
        if d.status.rolled_back() {
            a.details.rollback = Some(m.clone());
        }
        a.health = h;
        a.message = format!("{}; {m}", a.message);
    }
    if let Some(s) = observed.analyses.get(&id) {
        a.message = format!("{}; {}", a.message, crate::status::analysis::message(s));
    }
    if let Some(note) = stale_approval(svc, observed.native_deployments.get(&id)) {
        a.message = format!("{}; {note}", a.message);
    }
    if let Some(names) = svc.deployment.alarms.as_ref().map(|x| &x.alarm_names) {
        for name in names {
            if let Some(alarm) = inputs.signals.alarms.get(name) {
                a.details.alarms.push(alarm.clone());
                if alarm.state == AlarmValue::Alarm {
                    a.worsen(
                        Health::Degraded,
                        &format!("deployment alarm {name} is in ALARM: {}", alarm.reason),
                    );
                }
            } else if inputs.signals.missing_alarms.contains(name) {
                a.details.missing_alarms.push(name.clone());
                a.warnings.push(format!(
                    "deployment alarm {name} does not exist in CloudWatch: ECS cannot watch it"
                ));
            }
        }
    }
    if let Some(event) = state.and_then(|s| s.start_impaired.as_ref()) {
        a.details.start_impaired = Some(event.clone());
        a.worsen(Health::Degraded, &format!("ECS: {event}"));
    }
    a
}

/// A Service's deployment under way, for `/status`: ECS's native one, CodeDeploy's, or
/// a rolling one.
pub fn deployment_progress(
    svc: &ServiceSpec,
    state: Option<&ServiceState>,
    native: Option<&NativeDeployment>,
    blue_green: Option<&BlueGreenState>,
) -> Option<DeploymentProgress> {
    let strategy = svc.deployment.strategy.as_str().to_owned();
    if let Some(d) = native {
        return Some(DeploymentProgress {
            strategy,
            id: Some(d.id().to_owned()),
            status: d.status.to_string(),
            stage: d.stage.clone(),
            production_percent: d.production_weight,
        });
    }
    if let Some(d) = blue_green.and_then(|b| b.in_flight.as_ref()) {
        return Some(DeploymentProgress {
            strategy,
            id: Some(d.id.clone()),
            status: d.status.to_string(),
            stage: None,
            production_percent: None,
        });
    }
    let s = state.filter(|s| s.deploying())?;
    let primary = s.primary_deployment();
    Some(DeploymentProgress {
        strategy,
        id: primary.map(|d| d.id.clone()),
        status: primary
            .and_then(|d| d.rollout_state.as_ref())
            .map_or("IN_PROGRESS", |r| r.as_str())
            .to_owned(),
        stage: None,
        production_percent: None,
    })
}

/// The health a blue/green service's CodeDeploy deployments dictate, if any: one in
/// flight is Progressing; the last one Failed or Stopped is Degraded with CodeDeploy's
/// error. A Succeeded one leaves the verdict to the tasks.
pub fn code_deploy_health(state: &BlueGreenState) -> Option<(Health, String)> {
    if let Some(d) = &state.in_flight {
        return Some((
            Health::Progressing,
            format!("CodeDeploy deployment {} {}", d.id, d.status),
        ));
    }
    let last = state.last_finished.as_ref()?;
    last.status.unsuccessful().then(|| {
        let error = last
            .error
            .clone()
            .unwrap_or_else(|| "no reason given".to_owned());
        (
            Health::Degraded,
            format!("CodeDeploy deployment {} {}: {error}", last.id, last.status),
        )
    })
}

/// The health an unfinished ECS blue/green, linear or canary deployment dictates: a
/// rollback is Degraded with ECS's reason; a pause is Progressing and says how to
/// approve it; otherwise Progressing with its stage and production traffic share.
pub fn native_health(d: &NativeDeployment) -> (Health, String) {
    let stage = d.stage.as_deref().unwrap_or("its first stage");
    if d.status.rolled_back() {
        let reason = d
            .rollback_reason
            .as_deref()
            .or(d.status_reason.as_deref())
            .unwrap_or("no reason given");
        return (
            Health::Degraded,
            format!("deployment {} {}: {reason}", d.id(), d.status),
        );
    }
    if let Some(h) = d.paused() {
        let timeout = match (&h.expires_at, &h.timeout_action) {
            (Some(at), Some(action)) => format!("; at {at} ECS will {}", action.ecs_name()),
            _ => String::new(),
        };
        return (
            Health::Progressing,
            format!(
                "awaiting approval: deployment {id} paused at {stage} (hook {hook}{timeout}); commit spec.deployment.approve: {id} to continue it, or rollback: {id}",
                id = d.id(),
                hook = h.hook_id
            ),
        );
    }
    let weight = d
        .production_weight
        .map(|w| format!(", {w}% of production traffic on the new revision"))
        .unwrap_or_default();
    (
        Health::Progressing,
        format!("deployment {} {} at {stage}{weight}", d.id(), d.status),
    )
}

/// What to say about an `approve:` or `rollback:` that names no deployment paused now
/// (an old deployment's, or one that has moved on): it is ignored.
pub fn stale_approval(svc: &ServiceSpec, current: Option<&NativeDeployment>) -> Option<String> {
    let d = &svc.deployment;
    let (key, name) = match (&d.approve, &d.rollback) {
        (Some(a), _) => ("approve", a),
        (None, Some(r)) => ("rollback", r),
        (None, None) => return None,
    };
    match current {
        Some(c) if c.is_named_by(name) => None,
        Some(c) => Some(format!(
            "spec.deployment.{key} {name:?} is stale: it names no deployment under way (the current one is {}); ignored",
            c.id()
        )),
        None => Some(format!(
            "spec.deployment.{key} {name:?} names no deployment under way; ignored"
        )),
    }
}

/// The pause a Service's deployment waits at, for `/status`.
pub fn awaiting_approval_of(d: &NativeDeployment) -> Option<AwaitingApproval> {
    d.paused().map(|h| AwaitingApproval {
        deployment: d.id().to_owned(),
        deployment_arn: d.arn.clone(),
        hook: h.hook_id.clone(),
        stage: d.stage.clone(),
        expires_at: h.expires_at.clone(),
        timeout_action: h.timeout_action.map(|a| a.ecs_name().to_owned()),
        approve_line: format!("approve: {}", d.id()),
        rollback_line: format!("rollback: {}", d.id()),
    })
}

/// Sync, health and a message for every object of `manifests`, from one plan, with
/// the signals behind its health, its application, and a Service's tasks and
/// deployment under way.
pub fn evaluate<M: Borrow<Manifest>>(
    manifests: &[M],
    observed: &Observed,
    inputs: HealthInputs<'_>,
    plan: &Plan,
) -> BTreeMap<ObjectKey, ObjectStatus> {
    let mut out = BTreeMap::new();
    for m in manifests.iter().map(Borrow::borrow) {
        let key = m.key();
        let a = object_health(manifests, m, observed, inputs);
        let error = plan.errors.iter().find(|e| e.key.as_ref() == Some(&key));
        let change = plan.changes.iter().find(|c| c.key == key);
        let hold = plan.holds.iter().find(|h| h.key == key);
        let (sync, health, message) = match (error, hold, change) {
            (Some(e), _, _) => (SyncStatus::Error, a.health, e.message.clone()),
            (None, Some(h), _) => (SyncStatus::OutOfSync, Health::Degraded, h.reason.clone()),
            (None, None, Some(c)) => {
                let paths: Vec<&str> = c.diff.iter().map(|d| d.path.as_str()).collect();
                let message = if paths.is_empty() {
                    format!("to {}", c.action)
                } else {
                    format!("differs at {}", paths.join(", "))
                };
                (SyncStatus::OutOfSync, a.health, message)
            }
            (None, None, None) => (SyncStatus::Synced, a.health, a.message),
        };
        let application = service_of(manifests, m).map_or_else(|| key.name.clone(), |id| id.name);
        let (mut awaiting_approval, mut deployment, mut tasks) = (None, None, None);
        let mut analysis = None;
        if let Spec::Service(svc) = &m.spec {
            let id = ServiceId::new(cluster_name(&svc.cluster), &key.name);
            let native = observed.native_deployments.get(&id);
            let state = observed.services.get(&id);
            awaiting_approval = native.and_then(awaiting_approval_of);
            analysis = observed.analyses.get(&id).cloned();
            deployment = deployment_progress(svc, state, native, observed.blue_green.get(&id));
            tasks = state.map(|s| Tasks {
                running: s.running_count,
                desired: s.desired_count,
                task_definition: short_task_definition(&s.task_definition_arn),
            });
        }
        out.insert(
            key,
            ObjectStatus {
                sync,
                health,
                message,
                awaiting_approval,
                analysis,
                application,
                warnings: a.warnings,
                details: a.details,
                deployment,
                tasks,
                ..ObjectStatus::default()
            },
        );
    }
    out
}

/// Why the service's last deployment was rolled back or failed, if the `deployments`
/// array still shows it: a rollout that FAILED, or one the circuit breaker rolls back.
pub fn rollback_reason(svc: &ServiceState) -> Option<String> {
    let failed = svc
        .deployments
        .iter()
        .find(|d| d.rollout_state == Some(RolloutState::Failed));
    let rolling_back = svc.deployments.iter().find(|d| {
        d.rollout_state_reason.as_deref().is_some_and(|r| {
            r.contains("rolled back") || r.contains("rolling back") || r.contains("circuit breaker")
        })
    });
    failed.or(rolling_back).map(|d| {
        let reason = d.rollout_state_reason.clone().unwrap_or_default();
        if reason.is_empty() {
            format!("deployment {} of {} failed", d.id, d.task_definition_arn)
        } else {
            reason
        }
    })
}

/// The health of a service from its deployments (or, for CODE_DEPLOY, its task sets)
/// and task counts.
pub fn service_health(svc: Option<&ServiceState>) -> (Health, String) {
    let Some(svc) = svc else {
        return (Health::Unknown, "the service does not exist yet".to_owned());
    };
    if svc.deployment_controller == DeploymentController::CodeDeploy {
        let stability = svc
            .primary_task_set()
            .map_or("no task set".to_owned(), |t| t.stability_status.to_string());
        let message = format!(
            "{}/{} tasks running, primary task set {stability}",
            svc.running_count, svc.desired_count
        );
        let health = match svc.primary_task_set() {
            Some(t)
                if t.stability_status == StabilityStatus::SteadyState
                    && svc.task_sets.len() == 1 =>
            {
                Health::Healthy
            }
            Some(_) => Health::Progressing,
            None => Health::Unknown,
        };
        return (health, message);
    }
    let primary = svc.primary_deployment();
    let rollout = primary
        .and_then(|d| d.rollout_state.as_ref())
        .map_or("UNKNOWN", |r| r.as_str());
    let message = format!(
        "{}/{} tasks running, deployment {rollout}",
        svc.running_count, svc.desired_count
    );
    if let Some(reason) = rollback_reason(svc) {
        return (Health::Degraded, format!("{message}: {reason}"));
    }
    let health = match primary.and_then(|d| d.rollout_state.as_ref()) {
        Some(RolloutState::InProgress) => Health::Progressing,
        _ if svc.deployments.len() > 1 => Health::Progressing,
        _ if svc.running_count >= svc.desired_count => Health::Healthy,
        _ if svc.pending_count > 0 => Health::Progressing,
        _ => Health::Degraded,
    };
    (health, message)
}

#[cfg(test)]
mod tests {
    use ecsd_plan::state::{
        AwsVpc, DeploymentConfigurationState, DeploymentState, DeploymentStatus, HookDetail,
        HookStatus, ServiceDeploymentStatus, ServiceStatus,
    };

    use super::*;

    fn service(
        rollout: RolloutState,
        running: u32,
        desired: u32,
        deployments: usize,
    ) -> ServiceState {
        let d = DeploymentState {
            id: "d".into(),
            status: DeploymentStatus::Primary,
            rollout_state: Some(rollout),
            rollout_state_reason: None,
            task_definition_arn: "td".into(),
            desired_count: desired,
            running_count: running,
            failed_tasks: 0,
        };
        ServiceState {
            arn: String::new(),
            id: ServiceId::new("prod", "web"),
            status: ServiceStatus::Active,
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            task_definition_arn: "td".into(),
            network: AwsVpc::default(),
            load_balancers: vec![],
            deployment_configuration: DeploymentConfigurationState::default(),
            health_check_grace_period_seconds: None,
            deployment_controller: DeploymentController::Ecs,
            deployments: vec![d; deployments],
            task_sets: vec![],
            unmodeled: Vec::new(),
            start_impaired: None,
            tags: Default::default(),
        }
    }

    #[test]
    fn health_follows_the_rollout_and_the_task_counts() {
        assert_eq!(service_health(None).0, Health::Unknown);
        let (h, m) = service_health(Some(&service(RolloutState::Completed, 2, 2, 1)));
        assert_eq!(
            (h, m.as_str()),
            (Health::Healthy, "2/2 tasks running, deployment COMPLETED")
        );
        assert_eq!(
            service_health(Some(&service(RolloutState::InProgress, 0, 2, 1))).0,
            Health::Progressing
        );
        assert_eq!(
            service_health(Some(&service(RolloutState::Failed, 0, 2, 1))).0,
            Health::Degraded
        );
        assert_eq!(
            service_health(Some(&service(RolloutState::Completed, 1, 2, 1))).0,
            Health::Degraded
        );
        let mut rolled = service(RolloutState::Completed, 2, 2, 1);
        rolled.deployments[0].rollout_state_reason =
            Some("ECS deployment circuit breaker: rolled back".into());
        assert_eq!(service_health(Some(&rolled)).0, Health::Degraded);
    }

    fn deployment(status: ServiceDeploymentStatus, hook: Option<HookStatus>) -> NativeDeployment {
        NativeDeployment {
            arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/Sd7".into(),
            status,
            status_reason: Some("lifecycle hook smoke returned FAILED".into()),
            stage: Some("PRODUCTION_TRAFFIC_SHIFT".into()),
            target_revision_arn: None,
            production_weight: Some(10.0),
            hooks: hook
                .map(|status| HookDetail {
                    hook_id: "ecs-pause-1".into(),
                    target_type: ecsd_plan::state::HookTarget::Pause,
                    status,
                    expires_at: Some("2026-11-26T20:00:00Z".into()),
                    timeout_action: Some(ecsd_model::service::HookAction::Rollback),
                })
                .into_iter()
                .collect(),
            rollback_reason: None,
        }
    }

    #[test]
    fn a_native_deployment_is_progressing_paused_or_degraded_as_ecs_reports_it() {
        let (h, m) = native_health(&deployment(ServiceDeploymentStatus::InProgress, None));
        assert_eq!(h, Health::Progressing);
        assert!(
            m.contains("PRODUCTION_TRAFFIC_SHIFT") && m.contains("10% of production"),
            "{m}"
        );
        let (h, m) = native_health(&deployment(
            ServiceDeploymentStatus::InProgress,
            Some(HookStatus::AwaitingAction),
        ));
        assert_eq!(h, Health::Progressing);
        assert!(
            m.starts_with("awaiting approval: deployment Sd7 paused at")
                && m.contains("approve: Sd7")
                && m.contains("ECS will ROLLBACK"),
            "{m}"
        );
        let (h, m) = native_health(&deployment(
            ServiceDeploymentStatus::RollbackSuccessful,
            None,
        ));
        assert_eq!(h, Health::Degraded);
        assert!(m.contains("smoke returned FAILED"), "{m}");
    }
}
