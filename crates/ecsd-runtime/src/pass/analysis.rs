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
