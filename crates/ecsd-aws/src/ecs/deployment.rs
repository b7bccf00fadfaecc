//! ECS deployments between ecsd's types and the SDK's: the deployment configuration
//! (rolling, blue/green, linear, canary), lifecycle hooks, and service deployments.

use aws_sdk_ecs::types as sdk;
use ecsd_plan::ops::DeploymentInput;
use ecsd_plan::state::{
    HookDetail, HookStatus, HookTarget, NativeDeployment, ServiceDeploymentStatus,
};

use aws_smithy_types::Document;
use ecsd_model::service::{
    CircuitBreaker, DeploymentAlarms, EarlySuccessCriteria, HookAction, HookKind, HookStage,
    LifecycleHook, RevisionCleanup, Threshold, ThresholdKind,
};

use crate::error::AwsError;
use crate::int::{i32_of, u32_of};

pub(super) fn deployment(d: &DeploymentInput) -> Result<sdk::DeploymentConfiguration, AwsError> {
    let mut b = sdk::DeploymentConfiguration::builder()
        .minimum_healthy_percent(i32_of(d.minimum_healthy_percent))
        .maximum_percent(i32_of(d.maximum_percent));
    if let Some(cb) = d.circuit_breaker {
        b = b.deployment_circuit_breaker(
            sdk::DeploymentCircuitBreaker::builder()
                .enable(cb.enable)
                .rollback(cb.rollback)
                .set_reset_on_healthy_task(cb.reset_on_healthy_task)
                .set_threshold_configuration(
                    cb.threshold_configuration
                        .map(|t| {
                            sdk::ThresholdConfiguration::builder()
                                .r#type(sdk::ThresholdType::from(t.kind.ecs_name()))
                                .value(i32_of(t.value))
                                .build()
                                .map_err(|e| AwsError::invalid("ECS", "ThresholdConfiguration", e))
                        })
                        .transpose()?,
                )
                .build(),
        );
    }
    if let Some(a) = &d.alarms {
        b = b.alarms(
            sdk::DeploymentAlarms::builder()
                .set_alarm_names(Some(a.alarm_names.clone()))
                .enable(a.enable)
                .rollback(a.rollback)
                .build()
                .map_err(|e| AwsError::invalid("ECS", "DeploymentAlarms", e))?,
        );
    }
    if let Some(e) = &d.early_success_criteria {
        b = b.early_success_criteria(
            sdk::DeploymentEarlySuccessCriteria::builder()
                .enable(e.enable)
                .set_healthy_percent(e.healthy_percent.map(i32_of))
                .set_source_service_revision_cleanup(
                    e.source_service_revision_cleanup
                        .map(|c| sdk::ServiceRevisionCleanup::from(c.ecs_name())),
                )
                .build(),
        );
    }
    if let Some(strategy) = d.strategy {
        b = b
            .strategy(sdk::DeploymentStrategy::from(strategy.ecs_name()))
            .set_lifecycle_hooks(Some(d.lifecycle_hooks.iter().map(hook).collect()));
    }
    if let Some(n) = &d.native {
        b = b.bake_time_in_minutes(i32_of(n.bake_time_minutes));
        if let Some(l) = &n.linear {
            b = b.linear_configuration(
                sdk::LinearConfiguration::builder()
                    .step_percent(l.step_percent)
                    .step_bake_time_in_minutes(i32_of(l.step_bake_time_minutes))
                    .build(),
            );
        }
        if let Some(c) = &n.canary {
            b = b.canary_configuration(
                sdk::CanaryConfiguration::builder()
                    .canary_percent(c.canary_percent)
                    .canary_bake_time_in_minutes(i32_of(c.canary_bake_time_minutes))
                    .build(),
            );
        }
    }
    Ok(b.build())
}

/// A circuit breaker as AWS reports it.
pub(super) fn circuit_breaker_of(cb: &sdk::DeploymentCircuitBreaker) -> CircuitBreaker {
    CircuitBreaker {
        enable: cb.enable(),
        rollback: cb.rollback(),
        reset_on_healthy_task: cb.reset_on_healthy_task(),
        threshold_configuration: cb.threshold_configuration().and_then(|t| {
            Some(Threshold {
                kind: ThresholdKind::from_ecs(t.r#type().as_str())?,
                value: u32_of(t.value()),
            })
        }),
    }
}

/// Deployment alarms as AWS reports them (`None` for none at all).
pub(super) fn alarms_of(a: &sdk::DeploymentAlarms) -> DeploymentAlarms {
    DeploymentAlarms {
        alarm_names: a.alarm_names().to_vec(),
        enable: a.enable(),
        rollback: a.rollback(),
    }
}

/// Early success criteria as AWS reports them.
pub(super) fn early_success_of(e: &sdk::DeploymentEarlySuccessCriteria) -> EarlySuccessCriteria {
    EarlySuccessCriteria {
        enable: e.enable(),
        healthy_percent: e.healthy_percent().map(u32_of),
        source_service_revision_cleanup: e
            .source_service_revision_cleanup()
            .and_then(|c| RevisionCleanup::from_ecs(c.as_str())),
    }
}

pub(super) fn hook(h: &LifecycleHook) -> sdk::DeploymentLifecycleHook {
    sdk::DeploymentLifecycleHook::builder()
        .target_type(sdk::DeploymentLifecycleHookTargetType::from(
            h.kind.ecs_name(),
        ))
        .set_hook_target_arn(h.function_arn.clone())
        .set_role_arn(h.role_arn.clone())
        .set_lifecycle_stages(Some(
            h.stages
                .iter()
                .map(|s| sdk::DeploymentLifecycleHookStage::from(s.ecs_name()))
                .collect(),
        ))
        .set_hook_details(
            h.details
                .as_ref()
                .map(|d| document(&serde_json::Value::Object(d.clone()))),
        )
        .timeout_configuration(
            sdk::DeploymentLifecycleHookTimeoutConfiguration::builder()
                .timeout_in_minutes(i32_of(h.timeout_minutes))
                .action(sdk::DeploymentLifecycleHookAction::from(
                    h.timeout_action.ecs_name(),
                ))
                .build(),
        )
        .build()
}

/// A lifecycle hook as AWS reports it, in the manifest's form with AWS's defaults
/// filled in (`AWS_LAMBDA`, 1440 minutes, `ROLLBACK`).
pub(super) fn hook_of(h: &sdk::DeploymentLifecycleHook) -> LifecycleHook {
    let timeout = h.timeout_configuration();
    LifecycleHook {
        kind: match h.target_type().map(|t| t.as_str()) {
            Some("PAUSE") => HookKind::Pause,
            _ => HookKind::Lambda,
        },
        function_arn: h.hook_target_arn().map(str::to_owned),
        role_arn: h.role_arn().map(str::to_owned),
        stages: h
            .lifecycle_stages()
            .iter()
            .filter_map(|s| HookStage::from_ecs(s.as_str()))
            .collect(),
        details: h.hook_details().map(json).and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }),
        timeout_minutes: timeout
            .and_then(|t| t.timeout_in_minutes())
            .map_or(1440, u32_of),
        timeout_action: match timeout.and_then(|t| t.action()).map(|a| a.as_str()) {
            Some("CONTINUE") => HookAction::Continue,
            _ => HookAction::Rollback,
        },
    }
}

/// JSON as a Smithy document (`hookDetails`).
pub(super) fn document(v: &serde_json::Value) -> Document {
    use aws_smithy_types::Number;
    match v {
        serde_json::Value::Null => Document::Null,
        serde_json::Value::Bool(b) => Document::Bool(*b),
        serde_json::Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap_or_default()),
        }),
        serde_json::Value::String(s) => Document::String(s.clone()),
        serde_json::Value::Array(a) => Document::Array(a.iter().map(document).collect()),
        serde_json::Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), document(v))).collect())
        }
    }
}

/// A Smithy document as JSON.
pub(super) fn json(d: &Document) -> serde_json::Value {
    use aws_smithy_types::Number;
    match d {
        Document::Null => serde_json::Value::Null,
        Document::Bool(b) => serde_json::Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => serde_json::json!(u),
        Document::Number(Number::NegInt(i)) => serde_json::json!(i),
        Document::Number(Number::Float(f)) => serde_json::json!(f),
        Document::String(s) => serde_json::Value::String(s.clone()),
        Document::Array(a) => serde_json::Value::Array(a.iter().map(json).collect()),
        Document::Object(o) => {
            serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
    }
}

pub(super) fn native_deployment(d: &sdk::ServiceDeployment) -> NativeDeployment {
    let target = d.target_service_revision();
    NativeDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_owned(),
        status: ServiceDeploymentStatus::parse(d.status().map(|s| s.as_str()).unwrap_or_default()),
        status_reason: d.status_reason().map(str::to_owned),
        stage: d.lifecycle_stage().map(|s| s.as_str().to_owned()),
        target_revision_arn: target.and_then(|t| t.arn()).map(str::to_owned),
        production_weight: target.and_then(|t| t.requested_production_traffic_weight()),
        hooks: d
            .lifecycle_hook_details()
            .iter()
            .map(|h| HookDetail {
                hook_id: h.hook_id().unwrap_or_default().to_owned(),
                target_type: h
                    .target_type()
                    .map_or(HookTarget::Lambda, |t| HookTarget::parse(t.as_str())),
                status: HookStatus::parse(h.status().map(|s| s.as_str()).unwrap_or_default()),
                expires_at: h
                    .expires_at()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                timeout_action: h.timeout_action().and_then(|a| match a.as_str() {
                    "CONTINUE" => Some(HookAction::Continue),
                    "ROLLBACK" => Some(HookAction::Rollback),
                    _ => None,
                }),
            })
            .collect(),
        rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_owned),
    }
}
