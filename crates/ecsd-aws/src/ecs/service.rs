//! An ECS service between ecsd's types and the SDK's: the CreateService and
//! UpdateService requests, and the service (with its deployments, task sets and load
//! balancers) read back. A setting of a Service is sent and read here.

use aws_sdk_ecs::operation::create_service::builders::CreateServiceFluentBuilder;
use aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder;
use aws_sdk_ecs::types as sdk;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::{
    AdvancedConfigState, AwsVpc, DeploymentConfigurationState, DeploymentController,
    DeploymentState, DeploymentStatus, RolloutState, ServiceId, ServiceLoadBalancer, ServiceState,
    ServiceStatus, StabilityStatus, TaskSetState, TaskSetStatus,
};

use ecsd_model::service::{Canary, Linear};

use crate::error::AwsError;
use crate::int::{i32_of, u32_of};

use super::convert::*;
use super::deployment::*;
use super::*;

/// CreateService's request: every setting of the plan, references resolved.
pub(super) fn create(
    req: CreateServiceFluentBuilder,
    input: &CreateService,
) -> Result<CreateServiceFluentBuilder, AwsError> {
    let s = &input.settings;
    let controller = sdk::DeploymentController::builder()
        .r#type(sdk::DeploymentControllerType::from(
            s.deployment_controller.as_str(),
        ))
        .build()
        .map_err(|e| AwsError::invalid("ECS", "DeploymentController", e))?;
    Ok(req
        .cluster(&s.id.cluster)
        .service_name(&s.id.name)
        .task_definition(&input.task_definition_arn)
        .desired_count(i32_of(s.desired_count))
        .launch_type(sdk::LaunchType::Fargate)
        .network_configuration(network(&s.network)?)
        .set_load_balancers(Some(load_balancers(&input.load_balancers)))
        .set_health_check_grace_period_seconds(s.health_check_grace_period_seconds.map(i32_of))
        .propagate_tags(sdk::PropagateTags::Service)
        .deployment_controller(controller)
        .deployment_configuration(deployment(&s.deployment)?)
        .set_tags(Some(sdk_tags(&input.tags))))
}

/// UpdateService's request: the settings the plan changes, references resolved.
pub(super) fn update(
    req: UpdateServiceFluentBuilder,
    input: &UpdateService,
) -> Result<UpdateServiceFluentBuilder, AwsError> {
    let s = &input.settings;
    let mut req = req
        .cluster(&s.id.cluster)
        .service(&s.id.name)
        .set_task_definition(input.task_definition_arn.clone())
        .set_desired_count(s.desired_count.map(i32_of))
        .set_health_check_grace_period_seconds(s.health_check_grace_period_seconds.map(i32_of));
    if let Some(n) = &s.network {
        req = req.network_configuration(network(n)?);
    }
    if let Some(lbs) = &input.load_balancers {
        req = req.set_load_balancers(Some(load_balancers(lbs)));
    }
    if let Some(d) = &s.deployment {
        req = req.deployment_configuration(deployment(d)?);
    }
    if s.to_ecs_controller {
        req = req.deployment_controller(
            sdk::DeploymentController::builder()
                .r#type(sdk::DeploymentControllerType::Ecs)
                .build()
                .map_err(|e| AwsError::invalid("ECS", "DeploymentController", e))?,
        );
    }
    Ok(req)
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
            circuit_breaker: dc
                .and_then(|d| d.deployment_circuit_breaker())
                .map(circuit_breaker_of),
            alarms: dc.and_then(|d| d.alarms()).map(alarms_of),
            early_success_criteria: dc
                .and_then(|d| d.early_success_criteria())
                .map(early_success_of),
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
        start_impaired: start_impaired(s.events().iter().map(|e| e.message().unwrap_or_default())),
        tags: tags_of(s.tags()),
    }
}

/// ECS's "task start impaired" condition: the newest of the service's events (newest
/// first, as DescribeServices lists them) that says whether tasks start says they do
/// not ("(service web) is unable to consistently start tasks successfully."), and no
/// steady state was reached since.
pub(super) fn start_impaired<'a>(events: impl Iterator<Item = &'a str>) -> Option<String> {
    for message in events {
        if message.contains("unable to consistently start tasks successfully") {
            return Some(message.to_owned());
        }
        if message.contains("has reached a steady state")
            || message.contains("has started")
            || message.contains("deployment completed")
        {
            return None;
        }
    }
    None
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
        let impaired = "(service web) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section.";
        let steady = "(service web) has reached a steady state.";
        assert_eq!(
            start_impaired([impaired, steady].into_iter()).as_deref(),
            Some(impaired)
        );
        assert_eq!(start_impaired([steady, impaired].into_iter()), None);
        assert_eq!(start_impaired(std::iter::empty()), None);

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
