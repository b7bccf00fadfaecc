//! ecsd's ECS types to the SDK's and back.

use aws_sdk_ecs::types as sdk;
use ecsd_plan::ops::DeploymentInput;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::{
    AdvancedConfigState, AwsVpc, DeploymentConfigurationState, DeploymentController,
    DeploymentState, DeploymentStatus, HookDetail, HookStatus, HookTarget, NativeDeployment,
    RolloutState, ServiceDeploymentStatus, ServiceId, ServiceLoadBalancer, ServiceState,
    ServiceStatus, StabilityStatus, Tags, TaskSetState, TaskSetStatus,
};

use aws_smithy_types::Document;
use ecsd_model::service::{
    Canary, CircuitBreaker, HookAction, HookKind, HookStage, LifecycleHook, Linear,
};

use crate::error::AwsError;
use crate::int::{i32_of, u32_of};

#[allow(unused_imports)]
use super::*;

pub(super) fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn tags_of(tags: &[sdk::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub(super) fn network(n: &AwsVpc) -> Result<sdk::NetworkConfiguration, AwsError> {
    let vpc = sdk::AwsVpcConfiguration::builder()
        .set_subnets(Some(n.subnets.clone()))
        .set_security_groups(Some(n.security_groups.clone()))
        .assign_public_ip(if n.assign_public_ip {
            sdk::AssignPublicIp::Enabled
        } else {
            sdk::AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| AwsError::invalid("ECS", "AwsVpcConfiguration", e))?;
    Ok(sdk::NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

pub(super) fn load_balancers(lbs: &[ResolvedLoadBalancer]) -> Vec<sdk::LoadBalancer> {
    lbs.iter()
        .map(|lb| {
            let advanced = lb.advanced.as_ref().map(|a| {
                sdk::AdvancedConfiguration::builder()
                    .alternate_target_group_arn(&a.alternate_target_group_arn)
                    .set_production_listener_rule(a.production_listener_rule.clone())
                    .set_test_listener_rule(a.test_listener_rule.clone())
                    .set_role_arn(a.role_arn.clone())
                    .build()
            });
            sdk::LoadBalancer::builder()
                .target_group_arn(&lb.target_group_arn)
                .container_name(&lb.container_name)
                .container_port(i32::from(lb.container_port))
                .set_advanced_configuration(advanced)
                .build()
        })
        .collect()
}

pub(super) fn deployment(d: &DeploymentInput) -> sdk::DeploymentConfiguration {
    let mut b = sdk::DeploymentConfiguration::builder()
        .minimum_healthy_percent(i32_of(d.minimum_healthy_percent))
        .maximum_percent(i32_of(d.maximum_percent));
    if let Some(cb) = d.circuit_breaker {
        b = b.deployment_circuit_breaker(
            sdk::DeploymentCircuitBreaker::builder()
                .enable(cb.enable)
                .rollback(cb.rollback)
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
    b.build()
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

pub(super) fn service_state(s: &sdk::Service) -> ServiceState {
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let dc = s.deployment_configuration();
    let task_sets: Vec<TaskSetState> = s
        .task_sets()
        .iter()
        .map(|t| TaskSetState {
            id: t.id().unwrap_or_default().to_owned(),
            status: TaskSetStatus::parse(t.status().unwrap_or_default()),
            task_definition_arn: t.task_definition().unwrap_or_default().to_owned(),
            computed_desired_count: u32_of(t.computed_desired_count()),
            running_count: u32_of(t.running_count()),
            pending_count: u32_of(t.pending_count()),
            stability_status: StabilityStatus::parse(
                t.stability_status().map(|s| s.as_str()).unwrap_or_default(),
            ),
            external_id: t.external_id().map(str::to_owned),
        })
        .collect();
    // A CODE_DEPLOY service runs the definition of its PRIMARY task set.
    let task_definition_arn = s
        .task_definition()
        .map(str::to_owned)
        .or_else(|| {
            task_sets
                .iter()
                .find(|t| t.status == TaskSetStatus::Primary)
                .map(|t| t.task_definition_arn.clone())
        })
        .unwrap_or_default();
    ServiceState {
        arn: s.service_arn().unwrap_or_default().to_owned(),
        id: ServiceId::new(
            cluster_name(s.cluster_arn().unwrap_or_default()),
            s.service_name().unwrap_or_default(),
        ),
        status: ServiceStatus::parse(s.status().unwrap_or_default()),
        desired_count: u32_of(s.desired_count()),
        running_count: u32_of(s.running_count()),
        pending_count: u32_of(s.pending_count()),
        task_definition_arn,
        network: AwsVpc {
            subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
            security_groups: vpc
                .map(|v| v.security_groups().to_vec())
                .unwrap_or_default(),
            assign_public_ip: vpc.and_then(|v| v.assign_public_ip())
                == Some(&sdk::AssignPublicIp::Enabled),
        },
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| ServiceLoadBalancer {
                target_group_arn: lb.target_group_arn().unwrap_or_default().to_owned(),
                container_name: lb.container_name().unwrap_or_default().to_owned(),
                container_port: lb
                    .container_port()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0),
                advanced: lb.advanced_configuration().map(|a| AdvancedConfigState {
                    alternate_target_group_arn: a
                        .alternate_target_group_arn()
                        .unwrap_or_default()
                        .to_owned(),
                    production_listener_rule: a.production_listener_rule().map(str::to_owned),
                    test_listener_rule: a.test_listener_rule().map(str::to_owned),
                    role_arn: a.role_arn().map(str::to_owned),
                }),
            })
            .collect(),
        deployment_configuration: DeploymentConfigurationState {
            minimum_healthy_percent: dc.and_then(|d| d.minimum_healthy_percent()).map(u32_of),
            maximum_percent: dc.and_then(|d| d.maximum_percent()).map(u32_of),
            circuit_breaker: dc.and_then(|d| d.deployment_circuit_breaker()).map(|cb| {
                CircuitBreaker {
                    enable: cb.enable(),
                    rollback: cb.rollback(),
                }
            }),
            strategy: dc.and_then(|d| d.strategy()).map(|s| s.as_str().to_owned()),
            bake_time_minutes: dc.and_then(|d| d.bake_time_in_minutes()).map(u32_of),
            linear: dc.and_then(|d| d.linear_configuration()).map(|l| Linear {
                step_percent: l.step_percent().unwrap_or(10.0),
                step_bake_time_minutes: l.step_bake_time_in_minutes().map_or(6, u32_of),
            }),
            canary: dc.and_then(|d| d.canary_configuration()).map(|c| Canary {
                canary_percent: c.canary_percent().unwrap_or(5.0),
                canary_bake_time_minutes: c.canary_bake_time_in_minutes().map_or(10, u32_of),
            }),
            lifecycle_hooks: dc
                .map(|d| d.lifecycle_hooks().iter().map(hook_of).collect())
                .unwrap_or_default(),
        },
        health_check_grace_period_seconds: s.health_check_grace_period_seconds().map(u32_of),
        deployment_controller: s
            .deployment_controller()
            .map_or(DeploymentController::Ecs, |d| {
                DeploymentController::parse(d.r#type().as_str())
            }),
        deployments: s
            .deployments()
            .iter()
            .map(|d| DeploymentState {
                id: d.id().unwrap_or_default().to_owned(),
                status: DeploymentStatus::parse(d.status().unwrap_or_default()),
                rollout_state: d.rollout_state().map(|r| RolloutState::parse(r.as_str())),
                rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
                task_definition_arn: d.task_definition().unwrap_or_default().to_owned(),
                desired_count: u32_of(d.desired_count()),
                running_count: u32_of(d.running_count()),
                failed_tasks: u32_of(d.failed_tasks()),
            })
            .collect(),
        task_sets,
        unmodeled: unmodeled_service(s),
        tags: tags_of(s.tags()),
    }
}

/// Settings of a service the manifest format has no key for, as `key: value`; AWS's
/// own defaults (Fargate launch type, LATEST platform, REPLICA scheduling, propagating
/// the service's tags as ecsd creates it) are not reported.
pub(super) fn unmodeled_service(s: &sdk::Service) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = s.platform_version().filter(|v| *v != "LATEST") {
        out.push(format!("platformVersion: {v}"));
    }
    if !s.capacity_provider_strategy().is_empty() {
        let providers: Vec<String> = s
            .capacity_provider_strategy()
            .iter()
            .map(|c| format!("{} (weight {})", c.capacity_provider(), c.weight()))
            .collect();
        out.push(format!(
            "capacityProviderStrategy: {}",
            providers.join(", ")
        ));
    }
    if !s.service_registries().is_empty() {
        out.push(format!(
            "serviceRegistries: {} registry(ies)",
            s.service_registries().len()
        ));
    }
    if !s.placement_constraints().is_empty() || !s.placement_strategy().is_empty() {
        out.push("placementConstraints / placementStrategy".to_owned());
    }
    if s.enable_execute_command() {
        out.push("enableExecuteCommand: true".to_owned());
    }
    if s.enable_ecs_managed_tags() {
        out.push("enableECSManagedTags: true".to_owned());
    }
    if let Some(p) = s
        .propagate_tags()
        .filter(|p| *p != &sdk::PropagateTags::Service)
    {
        out.push(format!("propagateTags: {}", p.as_str()));
    }
    if let Some(r) = s.role_arn() {
        out.push(format!("roleArn: {r}"));
    }
    if s.deployment_configuration()
        .and_then(|d| d.alarms())
        .is_some_and(|a| !a.alarm_names().is_empty())
    {
        out.push("deploymentConfiguration.alarms".to_owned());
    }
    // ECS turns rebalancing on for a service created without the setting, so only a
    // service that turned it off differs from what ecsd would create.
    if s.availability_zone_rebalancing() == Some(&sdk::AvailabilityZoneRebalancing::Disabled) {
        out.push("availabilityZoneRebalancing: DISABLED".to_owned());
    }
    // Service Connect, VPC Lattice and EBS volumes are settings of the deployment.
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status().map(DeploymentStatus::parse) == Some(DeploymentStatus::Primary));
    if let Some(d) = primary {
        if let Some(sc) = d.service_connect_configuration().filter(|sc| sc.enabled()) {
            out.push(format!(
                "serviceConnectConfiguration: enabled, namespace {}, {} service(s)",
                sc.namespace().unwrap_or("(the cluster's default)"),
                sc.services().len()
            ));
        }
        if !d.vpc_lattice_configurations().is_empty() {
            let groups: Vec<&str> = d
                .vpc_lattice_configurations()
                .iter()
                .map(|v| v.target_group_arn())
                .collect();
            out.push(format!(
                "vpcLatticeConfigurations: target group(s) {}",
                groups.join(", ")
            ));
        }
        if !d.volume_configurations().is_empty() {
            let names: Vec<&str> = d.volume_configurations().iter().map(|v| v.name()).collect();
            out.push(format!("volumeConfigurations: {}", names.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ecsd import` turns into comments: the deployment's Service Connect, VPC
    /// Lattice and EBS volumes, and rebalancing turned off; nothing for a plain service.
    #[test]
    fn settings_without_a_manifest_key_are_named() {
        let plain = sdk::Service::builder()
            .availability_zone_rebalancing(sdk::AvailabilityZoneRebalancing::Enabled)
            .build();
        assert!(unmodeled_service(&plain).is_empty());

        let deployment = sdk::Deployment::builder()
            .status("PRIMARY")
            .service_connect_configuration(
                sdk::ServiceConnectConfiguration::builder()
                    .enabled(true)
                    .namespace("internal")
                    .build(),
            )
            .vpc_lattice_configurations(
                sdk::VpcLatticeConfiguration::builder()
                    .role_arn("arn:aws:iam::1:role/lattice")
                    .target_group_arn("arn:aws:vpc-lattice:us-east-1:1:targetgroup/tg-1")
                    .port_name("http")
                    .build()
                    .expect("required fields are set"),
            )
            .volume_configurations(
                sdk::ServiceVolumeConfiguration::builder()
                    .name("data")
                    .build()
                    .expect("name is set"),
            )
            .build();
        let rich = sdk::Service::builder()
            .availability_zone_rebalancing(sdk::AvailabilityZoneRebalancing::Disabled)
            .deployments(deployment)
            .build();
        assert_eq!(
            unmodeled_service(&rich),
            vec![
                "availabilityZoneRebalancing: DISABLED",
                "serviceConnectConfiguration: enabled, namespace internal, 0 service(s)",
                "vpcLatticeConfigurations: target group(s) arn:aws:vpc-lattice:us-east-1:1:targetgroup/tg-1",
                "volumeConfigurations: data",
            ]
        );
    }
}
