//! The IO of canary analysis: for a native deployment paused where its manifest's
//! `deployment.analysis` runs, the window from the hook's own expiry, and once it has
//! ended one GetMetricData call (paged) for every metric of the analysis. The window,
//! the queries and the judgement are `ecsd_plan::analysis`; the result goes into
//! [`Observed::analyses`], where the planner acts on it.

use ecsd_aws::CloudWatchApi;
use ecsd_model::service::{Analysis, HookKind, ServiceSpec};
use ecsd_plan::analysis::{
    self, AnalysisState, Progress, Subject, load_balancer_dimension, target_group_dimension,
};
use ecsd_plan::state::{NativeDeployment, Observed, ServiceId};

use crate::status::now_epoch;

/// Adds the analysis of every paused deployment `services` asks one of to `observed`.
pub(crate) async fn analyse<'a, W: CloudWatchApi>(
    cloudwatch: &W,
    services: impl Iterator<Item = (&'a ServiceId, &'a ServiceSpec)>,
    observed: &mut Observed,
) {
    let now = now_epoch();
    let mut found = Vec::new();
    for (id, spec) in services {
        let Some(d) = observed.native_deployments.get(id) else {
            continue;
        };
        if let (Some(a), Some(state)) = (&spec.deployment.analysis, start(spec, d)) {
            found.push((id.clone(), a, state));
        }
    }
    for (id, a, mut state) in found {
        if now >= state.window.end {
            state.progress = measure(cloudwatch, a, &id, observed, &state).await;
            // Every evaluation; the controller logs each change of verdict once.
            if let Progress::Judged(j) = &state.progress {
                tracing::debug!(service = %id, deployment = %state.deployment, outcome = j.outcome.as_str(),
                    action = j.action.as_str(), "canary analysis: {}", j.reason());
            }
        }
        observed.analyses.insert(id, state);
    }
}

/// The analysis a paused deployment is under, with its window, before any reading:
/// `None` when the manifest has none, the deployment is not paused at its stage, or
/// the pause's expiry is unknown.
pub(crate) fn start(spec: &ServiceSpec, d: &NativeDeployment) -> Option<AnalysisState> {
    let a = spec.deployment.analysis.as_ref()?;
    let hook = d.paused()?;
    let stage = d.stage.as_deref()?;
    if stage != a.stage.ecs_name() {
        return None;
    }
    let timeout = spec
        .deployment
        .lifecycle_hooks
        .iter()
        .find(|h| h.kind == HookKind::Pause && h.stages.contains(&a.stage))?
        .timeout_minutes;
    let expires = analysis::epoch_seconds(hook.expires_at.as_deref()?)?;
    Some(AnalysisState {
        deployment: d.id().to_owned(),
        deployment_arn: d.arn.clone(),
        hook: hook.hook_id.clone(),
        stage: stage.to_owned(),
        window: analysis::window(a, timeout, expires)?,
        progress: Progress::Observing,
    })
}

/// Reads the window's metrics and judges them.
async fn measure<W: CloudWatchApi>(
    cloudwatch: &W,
    a: &Analysis,
    id: &ServiceId,
    observed: &Observed,
    state: &AnalysisState,
) -> Progress {
    let subject = match subject(id, observed) {
        Ok(s) => s,
        Err(why) => return Progress::Unreadable(why),
    };
    let queries = analysis::queries(a, &subject);
    match cloudwatch
        .metric_data(&queries, state.window.start, state.window.end)
        .await
    {
        Ok(series) => Progress::Judged(analysis::judge(a, &series)),
        Err(e) => {
            tracing::warn!(service = %id, error = %e, "canary analysis: reading the metrics");
            Progress::Unreadable(format!("reading the metrics (GetMetricData): {e}"))
        }
    }
}

/// The dimensions of the target group receiving the new revision's traffic (ECS puts
/// the new tasks behind the alternate), of the one serving production (the service's
/// own), and of the load balancer in front of them.
fn subject(id: &ServiceId, observed: &Observed) -> Result<Subject, String> {
    let lb = observed
        .services
        .get(id)
        .and_then(|s| s.load_balancers.first())
        .ok_or_else(|| format!("service {id} has no load balancer to measure"))?;
    let alternate = lb
        .advanced
        .as_ref()
        .map(|a| a.alternate_target_group_arn.as_str())
        .ok_or_else(|| format!("service {id} has no alternate target group"))?;
    let load_balancer = observed
        .target_groups
        .values()
        .find(|t| t.arn == alternate || t.arn == lb.target_group_arn)
        .and_then(|t| t.load_balancer_arns.first())
        .and_then(|arn| load_balancer_dimension(arn))
        .ok_or_else(|| {
            format!("no load balancer routes to {alternate}: its ALB metrics cannot be read")
        })?;
    let dimension = |arn: &str| {
        target_group_dimension(arn).ok_or_else(|| format!("{arn} is not a target group ARN"))
    };
    Ok(Subject {
        canary: dimension(alternate)?,
        baseline: dimension(&lb.target_group_arn)?,
        load_balancer,
    })
}

#[cfg(test)]
mod tests {
    use ecsd_model::service::HookAction;
    use ecsd_plan::state::{HookDetail, HookStatus, HookTarget, ServiceDeploymentStatus};
    use serde_json::json;

    use super::*;

    fn spec(analysis: bool) -> ServiceSpec {
        let mut deployment = json!({
            "strategy": "canary",
            "lifecycleHooks": [{"type": "pause", "stages": ["POST_TEST_TRAFFIC_SHIFT"], "timeoutMinutes": 60}],
        });
        if analysis {
            deployment["analysis"] = json!({"stage": "POST_TEST_TRAFFIC_SHIFT", "window": "2m",
                "metrics": [{"name": "errors", "builtin": "errorRate", "max": 0.01}]});
        }
        serde_json::from_value(json!({
            "cluster": "prod",
            "network": {"subnets": ["subnet-1"]},
            "taskDefinition": {"cpu": 256, "memory": 512, "containers": [{"name": "app", "image": "web:1"}]},
            "deployment": deployment,
        }))
        .expect("service spec")
    }

    fn paused_at(stage: &str) -> NativeDeployment {
        NativeDeployment {
            arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/Sd7".into(),
            status: ServiceDeploymentStatus::InProgress,
            status_reason: None,
            stage: Some(stage.into()),
            target_revision_arn: None,
            production_weight: None,
            hooks: vec![HookDetail {
                hook_id: "h1".into(),
                target_type: HookTarget::Pause,
                status: HookStatus::AwaitingAction,
                // Paused at 2026-12-04T18:00:30Z, 60 minutes before it expires.
                expires_at: Some("2026-12-04T19:00:30Z".into()),
                timeout_action: Some(HookAction::Rollback),
            }],
            rollback_reason: None,
        }
    }

    #[test]
    fn the_window_comes_from_the_hook_and_needs_an_analysis_at_its_stage() {
        let state = start(&spec(true), &paused_at("POST_TEST_TRAFFIC_SHIFT")).expect("analysed");
        let paused = analysis::epoch_seconds("2026-12-04T18:00:30Z").expect("time");
        assert_eq!(state.window.paused_at, paused);
        // The first minute boundary after the pause, then two minutes.
        assert_eq!(state.window.start, paused + 30);
        assert_eq!(state.window.end, paused + 30 + 120);
        assert_eq!(
            (state.deployment.as_str(), state.hook.as_str()),
            ("Sd7", "h1")
        );
        // Without an analysis (one deleted from the manifest), or paused elsewhere: none.
        assert!(start(&spec(false), &paused_at("POST_TEST_TRAFFIC_SHIFT")).is_none());
        assert!(start(&spec(true), &paused_at("PRE_SCALE_UP")).is_none());
    }
}
