//! `apply --wait`: following ECS deployments until they settle.
//!
//! A service has settled when its only deployment is the PRIMARY one, runs the task
//! definition ecsd put there, and its rollout state is COMPLETED. A FAILED rollout, or a
//! PRIMARY deployment that runs another task definition (the circuit breaker rolled
//! back), is a failure with the reason ECS gives.

use std::time::Duration;

use ecsd_aws::{CodeDeployApi, EcsApi};
use ecsd_plan::state::ServiceState;

/// How one service's deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    Completed,
    Failed(String),
    RolledBack(String),
    TimedOut(String),
}

/// Waits for each `(cluster, service, task definition ARN)`, polling every `interval`
/// until `timeout`.
pub async fn wait_for_services<E: EcsApi>(
    ecs: &E,
    services: &[(String, String, String)],
    interval: Duration,
    timeout: Duration,
) -> Vec<((String, String), WaitOutcome)> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pending: Vec<(String, String, String)> = services.to_vec();
    let mut done = Vec::new();
    loop {
        let mut still = Vec::new();
        for (cluster, name, td) in pending {
            let outcome = match ecs
                .describe_services(&cluster, std::slice::from_ref(&name))
                .await
            {
                Ok(found) => match found.first() {
                    Some(svc) => settle(svc, &td),
                    None => Some(WaitOutcome::Failed(
                        "the service no longer exists".to_owned(),
                    )),
                },
                Err(e) => {
                    tracing::warn!(cluster = %cluster, name = %name, error = %e, "describing the service while waiting");
                    None
                }
            };
            match outcome {
                Some(o) => done.push(((cluster, name), o)),
                None => still.push((cluster, name, td)),
            }
        }
        if still.is_empty() {
            return done;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            for (cluster, name, _) in still {
                let msg = format!(
                    "the deployment did not complete within {}s",
                    timeout.as_secs()
                );
                done.push(((cluster, name), WaitOutcome::TimedOut(msg)));
            }
            return done;
        }
        // The last look is at the deadline itself.
        tokio::time::sleep(interval.min(deadline - now)).await;
        pending = still;
    }
}

/// `Some` once the service's rollout has ended one way or the other.
pub fn settle(svc: &ServiceState, task_definition: &str) -> Option<WaitOutcome> {
    let primary = svc.deployments.iter().find(|d| d.status == "PRIMARY")?;
    let reason = || primary.rollout_state_reason.clone().unwrap_or_default();
    if primary.task_definition_arn != task_definition {
        let msg = format!(
            "the service now runs {} instead of {task_definition}: rolled back by the deployment circuit breaker. {}",
            primary.task_definition_arn,
            reason()
        );
        return Some(WaitOutcome::RolledBack(msg.trim().to_owned()));
    }
    match primary.rollout_state.as_deref() {
        Some("FAILED") => Some(WaitOutcome::Failed(format!(
            "the deployment failed: {}",
            reason()
        ))),
        Some("COMPLETED") if svc.deployments.len() == 1 => Some(WaitOutcome::Completed),
        // Older answers have no rollout state: settled when the counts match.
        None if svc.deployments.len() == 1 && primary.running_count == primary.desired_count => {
            Some(WaitOutcome::Completed)
        }
        _ => None,
    }
}

/// Waits for CodeDeploy deployments `(service, deployment id)` to end: Succeeded is
/// completion; Failed or Stopped (CodeDeploy rolled back) is a failure with its error.
pub async fn wait_for_code_deployments<D: CodeDeployApi>(
    deploy: &D,
    deployments: &[(String, String)],
    interval: Duration,
    timeout: Duration,
) -> Vec<(String, WaitOutcome)> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pending = deployments.to_vec();
    let mut done = Vec::new();
    loop {
        let mut still = Vec::new();
        for (service, id) in pending {
            match deploy.get_deployment(&id).await {
                Ok(d) if d.status == "Succeeded" => done.push((service, WaitOutcome::Completed)),
                Ok(d) if matches!(d.status.as_str(), "Failed" | "Stopped") => {
                    let error = d.error.unwrap_or_else(|| "no reason given".to_owned());
                    done.push((
                        service,
                        WaitOutcome::Failed(format!(
                            "CodeDeploy deployment {id} {}: {error}",
                            d.status
                        )),
                    ));
                }
                Ok(_) => still.push((service, id)),
                Err(e) => {
                    tracing::warn!(deployment = %id, error = %e, "reading the CodeDeploy deployment while waiting");
                    still.push((service, id));
                }
            }
        }
        if still.is_empty() {
            return done;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            for (service, id) in still {
                let msg = format!(
                    "CodeDeploy deployment {id} did not end within {}s",
                    timeout.as_secs()
                );
                done.push((service, WaitOutcome::TimedOut(msg)));
            }
            return done;
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        pending = still;
    }
}
