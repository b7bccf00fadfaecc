//! `apply --wait`: following deployments until they settle.
//!
//! A rolling service has settled when its only deployment is the PRIMARY one, runs the
//! task definition ecsd put there, and its rollout state is COMPLETED. A FAILED
//! rollout, or a PRIMARY deployment that runs another task definition (the circuit
//! breaker rolled back), is a failure with the reason ECS gives. A CODE_DEPLOY service
//! has no deployments but task sets: a newly created one has settled when its PRIMARY
//! task set runs the definition and is in STEADY_STATE. A service ECS deploys
//! blue/green, linear or canary is followed through its service deployment too: its
//! stage and traffic share are logged, a rollback ends the wait with ECS's reason, and a
//! pause at a PAUSE hook ends it as awaiting approval.

use std::time::Duration;

use ecsd_aws::{CodeDeployApi, EcsApi};
use ecsd_plan::state::{
    CodeDeployStatus, DeploymentController, RolloutState, ServiceId, ServiceState, StabilityStatus,
};

use super::execute::{RolledOut, StartedDeployment};
use super::health::native_health;
use crate::status::Health;

/// How one deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    Completed,
    Failed(String),
    RolledBack(String),
    TimedOut(String),
    /// A native deployment waits at a PAUSE hook: only an approval moves it on.
    AwaitingApproval(String),
}

/// Polls `check` on every pending item every `interval` until each has an outcome or
/// `timeout` passes (the last look is at the deadline itself).
async fn poll<T: Clone, F, Fut>(
    items: &[T],
    interval: Duration,
    timeout: Duration,
    mut check: F,
    timed_out: impl Fn(&T) -> String,
) -> Vec<(T, WaitOutcome)>
where
    F: FnMut(T) -> Fut,
    Fut: std::future::Future<Output = Option<WaitOutcome>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pending = items.to_vec();
    let mut done = Vec::new();
    loop {
        let mut still = Vec::new();
        for item in pending {
            match check(item.clone()).await {
                Some(o) => done.push((item, o)),
                None => still.push(item),
            }
        }
        if still.is_empty() {
            return done;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            done.extend(still.into_iter().map(|item| {
                let msg = timed_out(&item);
                (item, WaitOutcome::TimedOut(msg))
            }));
            return done;
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        pending = still;
    }
}

/// How a deployment being waited for stands, at one look.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub service: ServiceId,
    /// Running and desired tasks (a CodeDeploy deployment has none to show).
    pub tasks: Option<(u32, u32)>,
    /// The rollout state, the native deployment's stage, the CodeDeploy status, or how
    /// the wait ended (`completed`, `failed`, `rolled back`, `awaiting approval`).
    pub state: String,
    /// Since the wait began.
    pub elapsed: Duration,
    /// Whether this is the last look at it.
    pub done: bool,
}

/// Told every look at every deployment being waited for.
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Sync);

impl WaitOutcome {
    /// A short name for how it ended.
    pub fn label(&self) -> &'static str {
        match self {
            WaitOutcome::Completed => "completed",
            WaitOutcome::Failed(_) => "failed",
            WaitOutcome::RolledBack(_) => "rolled back",
            WaitOutcome::TimedOut(_) => "timed out",
            WaitOutcome::AwaitingApproval(_) => "awaiting approval",
        }
    }
}

/// Where a service's rollout stands: the PRIMARY deployment's rollout state, or for a
/// CODE_DEPLOY service its PRIMARY task set's stability.
fn rollout_state(svc: &ServiceState) -> String {
    match svc.deployment_controller {
        DeploymentController::CodeDeploy => svc
            .primary_task_set()
            .map_or("no task set".to_owned(), |t| t.stability_status.to_string()),
        _ => svc
            .primary_deployment()
            .and_then(|d| d.rollout_state.as_ref())
            .map_or(RolloutState::InProgress.to_string(), ToString::to_string),
    }
}

/// Waits for each rolled-out service, polling every `interval` until `timeout`, and
/// tells `progress` what every look found.
pub async fn wait_for_services<E: EcsApi>(
    ecs: &E,
    services: &[RolledOut],
    interval: Duration,
    timeout: Duration,
    progress: OnProgress<'_>,
) -> Vec<(ServiceId, WaitOutcome)> {
    let started = tokio::time::Instant::now();
    let outcomes = poll(
        services,
        interval,
        timeout,
        |r: RolledOut| async move {
            match ecs
                .describe_services(&r.service.cluster, std::slice::from_ref(&r.service.name))
                .await
            {
                Ok(found) => match found.first() {
                    Some(svc) => {
                        let mut state = rollout_state(svc);
                        let outcome = match settle(svc, &r.task_definition_arn) {
                            Some(o) => Some(o),
                            None if svc.strategy().is_native() => {
                                let (outcome, stage) = follow(ecs, &r.service).await;
                                if let Some(stage) = stage {
                                    state = stage;
                                }
                                outcome
                            }
                            None => None,
                        };
                        progress(Progress {
                            service: r.service.clone(),
                            tasks: Some((svc.running_count, svc.desired_count)),
                            state: outcome
                                .as_ref()
                                .map_or(state, |o| o.label().to_owned()),
                            elapsed: started.elapsed(),
                            done: outcome.is_some(),
                        });
                        outcome
                    }
                    None => Some(WaitOutcome::Failed(
                        "the service no longer exists".to_owned(),
                    )),
                },
                Err(e) => {
                    tracing::warn!(service = %r.service, error = %e, "describing the service while waiting");
                    None
                }
            }
        },
        |_| format!("the deployment did not complete within {}s", timeout.as_secs()),
    )
    .await;
    outcomes.into_iter().map(|(r, o)| (r.service, o)).collect()
}

/// A native deployment's own progress (DescribeServiceDeployments): its stage (and
/// production traffic share) for the progress display and the log; a pause ends the
/// wait (only an approval moves it on), a rollback is reported with ECS's reason.
async fn follow<E: EcsApi>(ecs: &E, id: &ServiceId) -> (Option<WaitOutcome>, Option<String>) {
    let d = match ecs.current_deployment(id).await {
        Ok(Some(d)) => d,
        Ok(None) => return (None, None),
        Err(e) => {
            tracing::warn!(service = %id, error = %e, "reading the deployment while waiting");
            return (None, None);
        }
    };
    let (health, message) = native_health(&d);
    if d.paused().is_some() {
        return (Some(WaitOutcome::AwaitingApproval(message)), None);
    }
    if health == Health::Degraded {
        return (Some(WaitOutcome::RolledBack(message)), None);
    }
    tracing::debug!(service = %id, deployment = %d.id(), stage = d.stage.as_deref().unwrap_or_default(), "{message}");
    let stage = d.stage.clone().map(|s| match d.production_weight {
        Some(w) => format!("{s} {w}%"),
        None => s,
    });
    (None, stage)
}

/// `Some` once the service's rollout has ended one way or the other.
pub fn settle(svc: &ServiceState, task_definition: &str) -> Option<WaitOutcome> {
    if svc.deployment_controller == DeploymentController::CodeDeploy {
        let primary = svc.primary_task_set()?;
        return (primary.task_definition_arn == task_definition
            && primary.stability_status == StabilityStatus::SteadyState
            && primary.running_count >= primary.computed_desired_count)
            .then_some(WaitOutcome::Completed);
    }
    let primary = svc.primary_deployment()?;
    let reason = || primary.rollout_state_reason.clone().unwrap_or_default();
    if primary.task_definition_arn != task_definition {
        let msg = format!(
            "the service now runs {} instead of {task_definition}: rolled back by the deployment circuit breaker. {}",
            primary.task_definition_arn,
            reason()
        );
        return Some(WaitOutcome::RolledBack(msg.trim().to_owned()));
    }
    match &primary.rollout_state {
        Some(RolloutState::Failed) => Some(WaitOutcome::Failed(format!(
            "the deployment failed: {}",
            reason()
        ))),
        Some(RolloutState::Completed) if svc.deployments.len() == 1 => Some(WaitOutcome::Completed),
        // Older answers have no rollout state: settled when the counts match.
        None if svc.deployments.len() == 1 && primary.running_count == primary.desired_count => {
            Some(WaitOutcome::Completed)
        }
        _ => None,
    }
}

/// Waits for CodeDeploy deployments to end: Succeeded is completion; Failed or Stopped
/// (CodeDeploy rolled back) is a failure with its error.
pub async fn wait_for_code_deployments<D: CodeDeployApi>(
    deploy: &D,
    deployments: &[StartedDeployment],
    interval: Duration,
    timeout: Duration,
    progress: OnProgress<'_>,
) -> Vec<(ServiceId, WaitOutcome)> {
    let started = tokio::time::Instant::now();
    let outcomes = poll(
        deployments,
        interval,
        timeout,
        |d: StartedDeployment| async move {
            match deploy.get_deployment(&d.deployment_id).await {
                Ok(got) => {
                    let outcome = if got.status == CodeDeployStatus::Succeeded {
                        Some(WaitOutcome::Completed)
                    } else if got.status.unsuccessful() {
                        let error = got.error.clone().unwrap_or_else(|| "no reason given".to_owned());
                        Some(WaitOutcome::Failed(format!(
                            "CodeDeploy deployment {} {}: {error}",
                            d.deployment_id, got.status
                        )))
                    } else {
                        None
                    };
                    progress(Progress {
                        service: d.service.clone(),
                        tasks: None,
                        state: format!("CodeDeploy {} {}", d.deployment_id, got.status),
                        elapsed: started.elapsed(),
                        done: outcome.is_some(),
                    });
                    outcome
                }
                Err(e) => {
                    tracing::warn!(deployment = %d.deployment_id, error = %e, "reading the CodeDeploy deployment while waiting");
                    None
                }
            }
        },
        |d| {
            format!(
                "CodeDeploy deployment {} did not end within {}s",
                d.deployment_id,
                timeout.as_secs()
            )
        },
    )
    .await;
    outcomes.into_iter().map(|(d, o)| (d.service, o)).collect()
}
