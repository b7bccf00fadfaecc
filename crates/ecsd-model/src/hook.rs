//! ECS deployment lifecycle hooks of a Service's `deployment` block: a Lambda function or
//! a pause at a stage, its timeout and what ECS does then, and the stages themselves.
//! Re-exported by [`crate::service`]; [`crate::deployment`] and [`crate::analysis`] use it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An ECS deployment lifecycle hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecycleHook {
    /// `lambda` (ECS invokes a function) or `pause` (ECS waits for an approval).
    #[serde(rename = "type")]
    pub kind: HookKind,
    /// The Lambda function's ARN (lambda hooks only, required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// The role ECS invokes the function with (lambda hooks only, required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The lifecycle stages the hook runs at, as ECS spells them.
    #[schemars(length(min = 1))]
    pub stages: Vec<HookStage>,
    /// Parameters ECS passes to the function (lambda hooks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
    /// Minutes ECS waits for the hook, 1-20160 (default 1440).
    #[serde(default = "default_hook_timeout")]
    #[schemars(range(min = 1, max = 20160))]
    pub timeout_minutes: u32,
    /// What ECS does when the hook times out: `rollback` (default) or `continue`.
    #[serde(default)]
    pub timeout_action: HookAction,
}

fn default_hook_timeout() -> u32 {
    1440
}

/// The kind of a lifecycle hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum HookKind {
    Lambda,
    Pause,
}

impl HookKind {
    /// ECS's `targetType`.
    pub fn ecs_name(self) -> &'static str {
        match self {
            HookKind::Lambda => "AWS_LAMBDA",
            HookKind::Pause => "PAUSE",
        }
    }
}

/// What ECS does at a hook's timeout (or what an approval asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum HookAction {
    #[default]
    Rollback,
    Continue,
}

impl HookAction {
    /// ECS's spelling.
    pub fn ecs_name(self) -> &'static str {
        match self {
            HookAction::Rollback => "ROLLBACK",
            HookAction::Continue => "CONTINUE",
        }
    }
}

/// ECS deployment lifecycle stages a hook can run at, as ECS spells them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HookStage {
    ReconcileService,
    PreScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    PreProductionTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
}

impl HookStage {
    /// Every stage, in the order a deployment passes them.
    pub const ALL: [HookStage; 8] = [
        HookStage::ReconcileService,
        HookStage::PreScaleUp,
        HookStage::PostScaleUp,
        HookStage::TestTrafficShift,
        HookStage::PostTestTrafficShift,
        HookStage::PreProductionTrafficShift,
        HookStage::ProductionTrafficShift,
        HookStage::PostProductionTrafficShift,
    ];

    /// ECS's spelling.
    pub fn ecs_name(self) -> &'static str {
        match self {
            HookStage::ReconcileService => "RECONCILE_SERVICE",
            HookStage::PreScaleUp => "PRE_SCALE_UP",
            HookStage::PostScaleUp => "POST_SCALE_UP",
            HookStage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            HookStage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            HookStage::PreProductionTrafficShift => "PRE_PRODUCTION_TRAFFIC_SHIFT",
            HookStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            HookStage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
        }
    }

    /// The stage ECS spells `name`.
    pub fn from_ecs(name: &str) -> Option<HookStage> {
        HookStage::ALL.into_iter().find(|s| s.ecs_name() == name)
    }

    /// Stages ECS runs while traffic moves; ECS allows only Lambda hooks there.
    pub fn shifts_traffic(self) -> bool {
        matches!(
            self,
            HookStage::TestTrafficShift | HookStage::ProductionTrafficShift
        )
    }
}
