//! What AWS fills in by itself when a request leaves a field out: the only values the
//! planner normalises. A field a manifest leaves out means this default, so deleting it
//! from a manifest sets AWS back to it (and the plan shows the change).
//!
//! Each entry names the AWS API reference it comes from; `docs/reconcile.md` prints the
//! same table for users. Both sides of a comparison (the manifest and what AWS reports)
//! are rendered with these defaults filled in, so "absent" and "the default" compare equal
//! and nothing else does.

use serde_json::{Value, json};

use crate::target_group::Protocol;

// --- ELBv2 target groups (CreateTargetGroup, ModifyTargetGroup; HTTP/HTTPS, target type ip)

/// `HealthCheckPath`: "The default is /."
pub const TARGET_GROUP_HEALTH_CHECK_PATH: &str = "/";
/// `HealthCheckIntervalSeconds`: "If the target group protocol is ... HTTP or HTTPS, the
/// default is 30 seconds."
pub const TARGET_GROUP_HEALTH_CHECK_INTERVAL: u32 = 30;
/// `HealthyThresholdCount`: "For target groups with a protocol of HTTP or HTTPS, the
/// default is 5."
pub const TARGET_GROUP_HEALTHY_THRESHOLD: u32 = 5;
/// `UnhealthyThresholdCount`: "For target groups with a protocol of HTTP or HTTPS, the
/// default is 2."
pub const TARGET_GROUP_UNHEALTHY_THRESHOLD: u32 = 2;
/// `Matcher.HttpCode`: "For Application Load Balancers ... The default value is 200."
pub const TARGET_GROUP_MATCHER: &str = "200";
/// `deregistration_delay.timeout_seconds` (target group attributes): "The default value
/// is 300 seconds."
pub const TARGET_GROUP_DEREGISTRATION_DELAY: u32 = 300;

/// `HealthCheckTimeoutSeconds`: "For target groups with a protocol of HTTP, the default is
/// 6 seconds. For target groups with a protocol of TCP, TLS or HTTPS, the default is 10
/// seconds."
pub fn target_group_health_check_timeout(protocol: Protocol) -> u32 {
    match protocol {
        Protocol::Http => 6,
        Protocol::Https => 10,
    }
}

// --- ECS services (CreateService, DeploymentConfiguration, DeploymentCircuitBreaker)

/// `DeploymentConfiguration.minimumHealthyPercent` of a REPLICA service: 100.
pub const MINIMUM_HEALTHY_PERCENT: u32 = 100;
/// `DeploymentConfiguration.maximumPercent` of a REPLICA service: 200.
pub const MAXIMUM_PERCENT: u32 = 200;
/// `DeploymentCircuitBreaker`: off unless turned on (`enable` and `rollback` false).
pub const CIRCUIT_BREAKER: (bool, bool) = (false, false);
/// `healthCheckGracePeriodSeconds`: "If you don't specify a health check grace period
/// value, the default value of 0 is used."
pub const HEALTH_CHECK_GRACE_PERIOD: u32 = 0;
/// `awsvpcConfiguration.assignPublicIp`: "The default value is DISABLED."
pub const ASSIGN_PUBLIC_IP: bool = false;

// --- ECS task definitions (RegisterTaskDefinition, ContainerDefinition, HealthCheck)

/// `ContainerDefinition.cpu`: DescribeTaskDefinition reports 0 for a container without
/// its own CPU units (they share the task's).
pub const CONTAINER_CPU: u32 = 0;
/// `ContainerDefinition.essential`: "If the essential parameter of a container is marked
/// as true ... All tasks must have at least one essential container." The default is true.
pub const CONTAINER_ESSENTIAL: bool = true;
/// `ContainerDefinition.readonlyRootFilesystem`: off unless set.
pub const READONLY_ROOT_FILESYSTEM: bool = false;
/// `HealthCheck.interval`: "The default value is 30 seconds."
pub const CONTAINER_HEALTH_CHECK_INTERVAL: u32 = 30;
/// `HealthCheck.timeout`: "The default value is 5."
pub const CONTAINER_HEALTH_CHECK_TIMEOUT: u32 = 5;
/// `HealthCheck.retries`: "The default value is 3."
pub const CONTAINER_HEALTH_CHECK_RETRIES: u32 = 3;
/// `HealthCheck.startPeriod`: optional; no grace period (0) when left out.
pub const CONTAINER_HEALTH_CHECK_START_PERIOD: u32 = 0;

// --- Application Auto Scaling (TargetTrackingScalingPolicyConfiguration, PutScheduledAction)

/// `ScaleInCooldown` and `ScaleOutCooldown` for ECS services: "Application Auto Scaling
/// provides a default value of 300 for ... ECS services."
pub const SCALING_COOLDOWN: u32 = 300;
/// `DisableScaleIn`: "The default value is false."
pub const DISABLE_SCALE_IN: bool = false;
/// `Timezone` of a scheduled action: "If a time zone is not provided, UTC is used by
/// default."
pub const SCHEDULE_TIMEZONE: &str = "UTC";

/// `true`, for `#[serde(default = ...)]` of a switch that is on unless the manifest
/// says otherwise (`essential`, `alarms.enable`, ...).
pub(crate) fn on() -> bool {
    true
}

/// Values that equal what ecsd assumes when a field is left out, by path in `spec`
/// (`[]` for any list item), as `ecsd import` marks them (`# the default`). A field
/// with a default gets its constant above and its line here, in this one file.
pub fn is_default(kind: &str, path: &str, value: &Value) -> bool {
    let expected = match (kind, path) {
        ("Service", "desiredCount") => json!(1),
        ("Service", "healthCheckGracePeriodSeconds") => json!(HEALTH_CHECK_GRACE_PERIOD),
        ("Service", "network.assignPublicIp") => json!(ASSIGN_PUBLIC_IP),
        ("Service", "deployment.strategy") => json!("rolling"),
        ("Service", "deployment.minimumHealthyPercent") => json!(MINIMUM_HEALTHY_PERCENT),
        ("Service", "deployment.maximumPercent") => json!(MAXIMUM_PERCENT),
        ("Service", "deployment.circuitBreaker.enable") => json!(CIRCUIT_BREAKER.0),
        ("Service", "deployment.circuitBreaker.rollback") => json!(CIRCUIT_BREAKER.1),
        ("Service", "deployment.circuitBreaker.resetOnHealthyTask") => json!(true),
        ("Service", "deployment.alarms.enable") => json!(true),
        ("Service", "deployment.alarms.rollback") => json!(false),
        ("Service", "deployment.earlySuccessCriteria.enable") => json!(true),
        ("Service", "deployment.lifecycleHooks[].timeoutMinutes") => json!(1440),
        ("Service", "deployment.lifecycleHooks[].timeoutAction") => json!("rollback"),
        ("Service", "taskDefinition.containers[].essential") => json!(CONTAINER_ESSENTIAL),
        ("Service", "taskDefinition.containers[].cpu") => json!(CONTAINER_CPU),
        ("Service", "taskDefinition.containers[].portMappings[].protocol") => json!("tcp"),
        ("TargetGroup", "protocol") => json!("HTTP"),
        ("TargetGroup", "targetType") => json!("ip"),
        ("TargetGroup", "deregistrationDelaySeconds") => {
            json!(TARGET_GROUP_DEREGISTRATION_DELAY)
        }
        ("TargetGroup", "healthCheck.path") => json!(TARGET_GROUP_HEALTH_CHECK_PATH),
        ("TargetGroup", "healthCheck.intervalSeconds") => {
            json!(TARGET_GROUP_HEALTH_CHECK_INTERVAL)
        }
        ("TargetGroup", "healthCheck.healthyThreshold") => json!(TARGET_GROUP_HEALTHY_THRESHOLD),
        ("TargetGroup", "healthCheck.unhealthyThreshold") => {
            json!(TARGET_GROUP_UNHEALTHY_THRESHOLD)
        }
        ("TargetGroup", "healthCheck.matcher") => json!(TARGET_GROUP_MATCHER),
        (
            "ScalingPolicy",
            "targetTracking[].scaleInCooldownSeconds" | "targetTracking[].scaleOutCooldownSeconds",
        ) => {
            json!(SCALING_COOLDOWN)
        }
        ("ScalingPolicy", "targetTracking[].disableScaleIn") => json!(DISABLE_SCALE_IN),
        ("ScalingPolicy", "scheduled[].timezone") => json!(SCHEDULE_TIMEZONE),
        _ => return false,
    };
    value == &expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_group_timeout_default_depends_on_the_protocol() {
        assert_eq!(target_group_health_check_timeout(Protocol::Http), 6);
        assert_eq!(target_group_health_check_timeout(Protocol::Https), 10);
        // A default timeout must stay below the default interval, as AWS requires.
        assert!(
            target_group_health_check_timeout(Protocol::Https) < TARGET_GROUP_HEALTH_CHECK_INTERVAL
        );
    }
}
