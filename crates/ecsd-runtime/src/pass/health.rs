//! Sync and health of objects, from one plan and what was observed. Shared by the
//! controller, `ecsd status` and `/status`.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use ecsd_model::service::ServiceSpec;
use ecsd_model::{Manifest, ObjectKey, Spec};
use ecsd_plan::Plan;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::{
    BlueGreenState, DeploymentController, NativeDeployment, Observed, RolloutState, ServiceId,
    ServiceState, StabilityStatus,
};

use crate::status::{AwaitingApproval, Health, ObjectStatus, SyncStatus};

/// The health of any object from what was observed.
pub fn object_health(key: &ObjectKey, m: &Manifest, observed: &Observed) -> (Health, String) {
    match &m.spec {
        Spec::Service(svc) => {
            let id = ServiceId::new(cluster_name(&svc.cluster), &key.name);
            let (health, message) = service_health(observed.services.get(&id));
            let (health, message) = match observed.blue_green.get(&id).and_then(code_deploy_health)
            {
                Some((h, m)) => (h, format!("{message}; {m}")),
                None => (health, message),
            };
            let (health, message) = match observed.native_deployments.get(&id) {
                Some(d) => {
                    let (h, m) = native_health(d);
                    (h, format!("{message}; {m}"))
                }
                None => (health, message),
            };
            match stale_approval(svc, observed.native_deployments.get(&id)) {
                Some(note) => (health, format!("{message}; {note}")),
                None => (health, message),
            }
        }
        Spec::TargetGroup(_) => match observed.target_groups.get(&key.name) {
            Some(_) => (Health::Healthy, "target group exists".to_owned()),
            None => (
                Health::Unknown,
                "the target group does not exist yet".to_owned(),
            ),
        },
        Spec::ScalingPolicy(sp) => {
            let exists = observed
                .services
                .keys()
                .find(|id| id.name == sp.service)
                .is_some_and(|id| {
                    observed
                        .scalable_targets
                        .contains_key(&id.scaling_resource_id())
                });
            if exists {
                (Health::Healthy, "scalable target registered".to_owned())
            } else {
                (
                    Health::Unknown,
                    "the scalable target does not exist yet".to_owned(),
                )
            }
        }
    }
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
pub fn awaiting_approval(d: &NativeDeployment) -> Option<AwaitingApproval> {
    d.paused().map(|h| AwaitingApproval {
        deployment: d.id().to_owned(),
        deployment_arn: d.arn.clone(),
        hook: h.hook_id.clone(),
        stage: d.stage.clone(),
        expires_at: h.expires_at.clone(),
        timeout_action: h.timeout_action.map(|a| a.ecs_name().to_owned()),
    })
}

/// Sync, health and a message for every object of `manifests`, from one plan.
pub fn evaluate<M: Borrow<Manifest>>(
    manifests: &[M],
    observed: &Observed,
    plan: &Plan,
) -> BTreeMap<ObjectKey, ObjectStatus> {
    let mut out = BTreeMap::new();
    for m in manifests.iter().map(Borrow::borrow) {
        let key = m.key();
        let (health, health_message) = object_health(&key, m, observed);
        let error = plan.errors.iter().find(|e| e.key.as_ref() == Some(&key));
        let change = plan.changes.iter().find(|c| c.key == key);
        let hold = plan.holds.iter().find(|h| h.key == key);
        let (sync, health, message) = match (error, hold, change) {
            (Some(e), _, _) => (SyncStatus::Error, health, e.message.clone()),
            (None, Some(h), _) => (SyncStatus::OutOfSync, Health::Degraded, h.reason.clone()),
            (None, None, Some(c)) => {
                let paths: Vec<&str> = c.diff.iter().map(|d| d.path.as_str()).collect();
                let message = if paths.is_empty() {
                    format!("to {}", c.action)
                } else {
                    format!("differs at {}", paths.join(", "))
                };
                (SyncStatus::OutOfSync, health, message)
            }
            (None, None, None) => (SyncStatus::Synced, health, health_message),
        };
        let awaiting_approval = match &m.spec {
            Spec::Service(svc) => observed
                .native_deployments
                .get(&ServiceId::new(cluster_name(&svc.cluster), &key.name))
                .and_then(awaiting_approval),
            _ => None,
        };
        out.insert(
            key,
            ObjectStatus {
                sync,
                health,
                message,
                awaiting_approval,
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
