//! ECS's own blue/green, linear and canary deployments in the fake account, on tokio's
//! clock (tests pause and advance it): the lifecycle stages a deployment passes, its
//! production traffic steps and bake times, Lambda hooks (which succeed unless told to
//! fail) and PAUSE hooks that wait for ContinueServiceDeployment or their timeout.
//!
//! Stage order and semantics follow the ECS developer guide (deployment-type-blue-green,
//! deployment-type-linear, canary-deployment, deployment-lifecycle-hooks,
//! pause-lifecycle-hooks); see docs/aws-behaviours.md, `native-deployments`.

use ecsd_plan::state::HookTarget;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use ecsd_model::service::{HookAction, HookKind, HookStage, LifecycleHook, Strategy};
use ecsd_plan::state::{AdvancedConfigState, DeploymentConfigurationState, HookDetail, HookStatus};
use tokio::time::Instant;

/// How long a stage that does work takes in the fake: scaling up, shifting test traffic,
/// one production traffic step, cleaning up.
pub const STAGE_TIME: Duration = Duration::from_secs(30);

/// One step of a deployment: an ECS lifecycle stage, how long it lasts once its hooks
/// are done, the production weight it sets, and the hook stage it runs hooks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub stage: &'static str,
    pub time: Duration,
    pub weight: Option<f64>,
    pub hooks: Option<HookStage>,
}

/// A PAUSE hook the current step waits at.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub hook_id: String,
    pub status: HookStatus,
    pub expires: Instant,
    pub timeout_action: HookAction,
}

/// How a deployment stands after [`NativeRun::advance`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Running,
    Succeeded,
    /// ECS rolls it back, for this reason.
    RolledBack(String),
}

/// A native deployment under way.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeRun {
    pub steps: Vec<Step>,
    pub at: usize,
    /// When the current step's own time started (after its hooks).
    pub entered: Instant,
    /// Whether the current step's hooks ran.
    pub hooks_done: bool,
    pub hooks: Vec<LifecycleHook>,
    pub waiting: Option<Waiting>,
    /// The production traffic share of the new revision, in percent.
    pub weight: f64,
    seq: u64,
}

fn minutes(m: u32) -> Duration {
    Duration::from_secs(u64::from(m) * 60)
}

impl NativeRun {
    /// The run of a new deployment under these settings, or `None` for a rolling one.
    /// `reconcile`: another revision is still ACTIVE (a deployment was under way), so
    /// the run starts with RECONCILE_SERVICE, as the lifecycle hooks page says.
    pub fn plan(
        dc: &DeploymentConfigurationState,
        now: Instant,
        reconcile: bool,
    ) -> Option<NativeRun> {
        let strategy = Strategy::from_ecs(dc.strategy.as_deref()?)?;
        if !strategy.is_native() {
            return None;
        }
        let step = |stage, time, weight, hooks| Step {
            stage,
            time,
            weight,
            hooks,
        };
        let mut steps: Vec<Step> = reconcile
            .then(|| {
                step(
                    "RECONCILE_SERVICE",
                    Duration::ZERO,
                    None,
                    Some(HookStage::ReconcileService),
                )
            })
            .into_iter()
            .collect();
        steps.extend([
            step(
                "PRE_SCALE_UP",
                Duration::ZERO,
                None,
                Some(HookStage::PreScaleUp),
            ),
            step("SCALE_UP", STAGE_TIME, None, None),
            step(
                "POST_SCALE_UP",
                Duration::ZERO,
                None,
                Some(HookStage::PostScaleUp),
            ),
            step(
                "TEST_TRAFFIC_SHIFT",
                STAGE_TIME,
                None,
                Some(HookStage::TestTrafficShift),
            ),
            step(
                "POST_TEST_TRAFFIC_SHIFT",
                Duration::ZERO,
                None,
                Some(HookStage::PostTestTrafficShift),
            ),
        ]);
        // (production weight, bake after it)
        let production: Vec<(f64, Duration)> = match strategy {
            Strategy::Linear => {
                let l = dc.linear.unwrap_or_default();
                let mut out = Vec::new();
                let mut w: f64 = 0.0;
                while w < 100.0 {
                    w = (w + l.step_percent).min(100.0);
                    let bake = if w < 100.0 {
                        minutes(l.step_bake_time_minutes)
                    } else {
                        Duration::ZERO
                    };
                    out.push((w, bake));
                }
                out
            }
            Strategy::Canary => {
                let c = dc.canary.unwrap_or_default();
                vec![
                    (c.canary_percent, minutes(c.canary_bake_time_minutes)),
                    (100.0, Duration::ZERO),
                ]
            }
            _ => vec![(100.0, Duration::ZERO)],
        };
        for (w, bake) in production {
            steps.push(step(
                "PRE_PRODUCTION_TRAFFIC_SHIFT",
                Duration::ZERO,
                None,
                Some(HookStage::PreProductionTrafficShift),
            ));
            steps.push(step(
                "PRODUCTION_TRAFFIC_SHIFT",
                STAGE_TIME + bake,
                Some(w),
                Some(HookStage::ProductionTrafficShift),
            ));
        }
        steps.push(step(
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            Duration::ZERO,
            None,
            Some(HookStage::PostProductionTrafficShift),
        ));
        steps.push(step(
            "BAKE_TIME",
            minutes(dc.bake_time_minutes.unwrap_or_default()),
            None,
            None,
        ));
        steps.push(step("CLEAN_UP", STAGE_TIME, None, None));
        Some(NativeRun {
            steps,
            at: 0,
            entered: now,
            hooks_done: false,
            hooks: dc.lifecycle_hooks.clone(),
            waiting: None,
            weight: 0.0,
            seq: 0,
        })
    }

    /// Whether test traffic moved to the new revision (TEST_TRAFFIC_SHIFT is done).
    pub fn test_shifted(&self) -> bool {
        self.steps
            .iter()
            .take(self.at)
            .any(|s| s.stage == "TEST_TRAFFIC_SHIFT")
    }

    /// The lifecycle stage the deployment is in.
    pub fn stage(&self) -> &'static str {
        self.steps.get(self.at).map_or("CLEAN_UP", |s| s.stage)
    }

    /// Moves the deployment on to `now`. Lambda functions in `failing` fail their hook.
    pub fn advance(&mut self, now: Instant, failing: &BTreeSet<String>) -> Outcome {
        loop {
            if let Some(w) = &mut self.waiting {
                if w.status != HookStatus::AwaitingAction {
                    self.waiting = None;
                    continue;
                }
                if now < w.expires {
                    return Outcome::Running;
                }
                w.status = HookStatus::TimedOut;
                let (expires, action) = (w.expires, w.timeout_action);
                match action {
                    HookAction::Continue => {
                        self.waiting = None;
                        self.entered = expires;
                    }
                    HookAction::Rollback => {
                        return Outcome::RolledBack(format!(
                            "the PAUSE hook at {} timed out (timeout action ROLLBACK)",
                            self.stage()
                        ));
                    }
                }
            }
            let Some(step) = self.steps.get(self.at).cloned() else {
                return Outcome::Succeeded;
            };
            if !self.hooks_done {
                self.hooks_done = true;
                if let Some(w) = step.weight {
                    self.weight = w;
                }
                if let Some(stage) = step.hooks {
                    if let Some(outcome) = self.run_hooks(stage, failing) {
                        return outcome;
                    }
                    if self.waiting.is_some() {
                        continue;
                    }
                }
            }
            let done = self.entered + step.time;
            if now < done {
                return Outcome::Running;
            }
            self.at += 1;
            self.entered = done;
            self.hooks_done = false;
        }
    }

    /// Runs the hooks of a stage: a failing Lambda rolls back; a PAUSE hook waits.
    fn run_hooks(&mut self, stage: HookStage, failing: &BTreeSet<String>) -> Option<Outcome> {
        for h in self.hooks.iter().filter(|h| h.stages.contains(&stage)) {
            match h.kind {
                HookKind::Lambda => {
                    let f = h.function_arn.clone().unwrap_or_default();
                    if failing.contains(&f) {
                        return Some(Outcome::RolledBack(format!(
                            "lifecycle hook {f} returned FAILED at {}",
                            stage.ecs_name()
                        )));
                    }
                }
                HookKind::Pause if self.waiting.is_none() => {
                    self.seq += 1;
                    self.waiting = Some(Waiting {
                        hook_id: format!("ecs-pause-{}-{}", stage.ecs_name(), self.seq),
                        status: HookStatus::AwaitingAction,
                        expires: self.entered + minutes(h.timeout_minutes),
                        timeout_action: h.timeout_action,
                    });
                }
                HookKind::Pause => {}
            }
        }
        None
    }

    /// ContinueServiceDeployment: only a PAUSE hook that awaits action can be acted on.
    pub fn resolve(
        &mut self,
        hook_id: &str,
        action: HookAction,
        now: Instant,
    ) -> Result<Outcome, String> {
        let Some(w) = self
            .waiting
            .as_mut()
            .filter(|w| w.hook_id == hook_id && w.status == HookStatus::AwaitingAction)
        else {
            return Err(format!(
                "The lifecycle hook {hook_id} is not in AWAITING_ACTION status."
            ));
        };
        w.status = HookStatus::Succeeded;
        Ok(match action {
            HookAction::Continue => {
                self.waiting = None;
                self.entered = now;
                Outcome::Running
            }
            HookAction::Rollback => Outcome::RolledBack(format!(
                "rolled back at {} by ContinueServiceDeployment (action ROLLBACK)",
                self.stage()
            )),
        })
    }

    /// The hooks at work, as DescribeServiceDeployments reports them.
    pub fn hook_details(&self) -> Vec<HookDetail> {
        self.waiting
            .iter()
            .map(|w| {
                let left = w.expires.saturating_duration_since(Instant::now());
                let at = aws_smithy_types::DateTime::from(SystemTime::now() + left);
                HookDetail {
                    hook_id: w.hook_id.clone(),
                    target_type: HookTarget::Pause,
                    status: w.status.clone(),
                    expires_at: at.fmt(aws_smithy_types::date_time::Format::DateTime).ok(),
                    timeout_action: Some(w.timeout_action),
                }
            })
            .collect()
    }
}

/// What ECS refuses in a native deployment configuration (API_DeploymentConfiguration,
/// API_DeploymentLifecycleHook, API_AdvancedConfiguration), as its error message.
pub(super) fn check(
    dc: &DeploymentConfigurationState,
    advanced: Option<&AdvancedConfigState>,
) -> Result<(), String> {
    let native = dc
        .strategy
        .as_deref()
        .and_then(Strategy::from_ecs)
        .is_some_and(Strategy::is_native);
    for h in &dc.lifecycle_hooks {
        if h.kind == HookKind::Pause && h.stages.iter().any(|s| s.shifts_traffic()) {
            return Err(
                "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages."
                    .to_owned(),
            );
        }
        if h.kind == HookKind::Lambda && h.function_arn.is_none() {
            return Err("hookTargetArn is required for AWS_LAMBDA lifecycle hooks.".to_owned());
        }
    }
    if !native {
        return Ok(());
    }
    if dc.strategy.as_deref() == Some("BLUE_GREEN") && dc.bake_time_minutes.is_none() {
        return Err(
            "bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy.".to_owned(),
        );
    }
    match advanced {
        Some(a) if a.production_listener_rule.is_some() && a.role_arn.is_some() => Ok(()),
        _ => Err(format!(
            "The {} deployment strategy requires a load balancer with advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn).",
            dc.strategy.as_deref().unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_pause_at(stage: HookStage) -> DeploymentConfigurationState {
        DeploymentConfigurationState {
            strategy: Some("BLUE_GREEN".into()),
            bake_time_minutes: Some(0),
            lifecycle_hooks: vec![LifecycleHook {
                kind: HookKind::Pause,
                function_arn: None,
                role_arn: None,
                stages: vec![stage],
                details: None,
                timeout_minutes: 60,
                timeout_action: HookAction::Rollback,
            }],
            ..DeploymentConfigurationState::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reconcile_service_runs_only_beside_another_active_revision() {
        let dc = with_pause_at(HookStage::ReconcileService);
        let now = Instant::now();
        let mut alone = NativeRun::plan(&dc, now, false).expect("native");
        assert!(alone.steps.iter().all(|s| s.stage != "RECONCILE_SERVICE"));
        assert_eq!(alone.advance(now, &BTreeSet::new()), Outcome::Running);
        assert!(
            alone.waiting.is_none(),
            "no pause without RECONCILE_SERVICE"
        );

        let mut beside = NativeRun::plan(&dc, now, true).expect("native");
        assert_eq!(beside.advance(now, &BTreeSet::new()), Outcome::Running);
        assert_eq!(beside.stage(), "RECONCILE_SERVICE");
        assert!(beside.waiting.is_some(), "the pause at RECONCILE_SERVICE");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_before_production_traffic_waits_before_every_step_of_a_canary() {
        let mut dc = with_pause_at(HookStage::PreProductionTrafficShift);
        dc.strategy = Some("CANARY".into());
        let now = Instant::now();
        let mut run = NativeRun::plan(&dc, now, false).expect("native");
        let mut pauses = 0;
        for _ in 0..10 {
            if run.advance(Instant::now(), &BTreeSet::new()) != Outcome::Running {
                break;
            }
            if let Some(w) = run.waiting.clone() {
                pauses += 1;
                run.resolve(&w.hook_id, HookAction::Continue, Instant::now())
                    .expect("continue");
            }
            tokio::time::advance(Duration::from_secs(3600)).await;
        }
        assert_eq!(pauses, 2, "before the canary step and before the rest");
    }
}
