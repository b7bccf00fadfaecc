//! `ecsd migrate`: the Fargate Service that replaces the fleet: its subnets, its launch
//! template's security groups, a Fargate size suggested from the instance type.

use std::collections::BTreeMap;

use serde_json::json;

use ecsd_aws::FleetHealthCheck;
use ecsd_model::service::IMAGE_TO_FILL_IN;

use super::names::fleet_labels;
use super::read::{FleetRead, Options};
use super::size::suggest_size;
use super::target_group::ForService;
use crate::generate::yaml::Document;

/// The Service `service`, with `service_comments` above it, and its labels (which the
/// ScalingPolicy takes too).
pub(super) fn service(
    r: &FleetRead,
    opts: &Options,
    service: &str,
    mut service_comments: Vec<String>,
    tgs: ForService,
) -> (Document, BTreeMap<String, String>) {
    let fleet = &r.fleet;
    let ForService {
        load_balancers,
        port,
    } = tgs;
    // The Service.
    let template = fleet.template.as_ref();
    let instance_type = template
        .and_then(|t| t.instance_type.as_deref())
        .or(fleet.override_types.first().map(String::as_str));
    let (cpu, memory, why) = suggest_size(instance_type);
    service_comments.push(format!("Fargate size: {why}"));
    if fleet.override_types.len() > 1 {
        service_comments.push(format!(
            "the group mixes instance types ({}); the size follows the first",
            fleet.override_types.join(", ")
        ));
    }
    if let Some(t) = template {
        service_comments.push(format!(
            "the instances booted {} from launch template {} (version {}){}: the container image replaces both. Build it from your app (logs to stdout, configuration from the environment, secrets from Secrets Manager): see docs/migrate-from-ec2.md",
            t.image_id.as_deref().unwrap_or("an AMI"),
            t.name,
            t.version,
            if t.has_user_data { " with user data" } else { "" }
        ));
    }
    if let Some(lc) = &fleet.launch_configuration {
        service_comments.push(format!(
            "the group uses launch configuration {lc:?}, which ecsd does not read: set securityGroups and the size by hand"
        ));
    }
    let security_groups: Vec<String> = template
        .map(|t| t.security_groups.clone())
        .unwrap_or_default();
    if security_groups.is_empty() {
        service_comments.push("no security groups found on the launch template: set network.securityGroups (they must let the load balancer reach the container port)".to_owned());
    } else {
        service_comments.push("network.securityGroups are the instances': they must let the load balancer reach the container port".to_owned());
    }
    let image = opts.image.clone().unwrap_or_else(|| {
        format!("{IMAGE_TO_FILL_IN}: the image of your containerised app, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/{service}:1.0")
    });
    if opts.image.is_none() {
        service_comments.push(
            "taskDefinition.containers[app].image is a placeholder: set your image (`ecsd validate` points at it until then)"
                .to_owned(),
        );
    }
    // Pulling a private ECR image needs the task execution role: the one ECS's console
    // creates in the image's account, which the user confirms or replaces.
    let execution_role = opts
        .image
        .as_deref()
        .and_then(ecsd_model::arn::ecr_registry)
        .map(|(account, partition)| {
            format!("arn:{partition}:iam::{account}:role/ecsTaskExecutionRole")
        });
    match &execution_role {
        Some(role) => service_comments.push(format!(
            "taskDefinition.executionRoleArn pulls the private ECR image: {role} is the role ECS's console creates; make sure it exists (with AmazonECSTaskExecutionRolePolicy) or name yours"
        )),
        None => service_comments.push("a private ECR image and awslogs need taskDefinition.executionRoleArn (a role with AmazonECSTaskExecutionRolePolicy)".to_owned()),
    }
    let mut container = json!({"name": "app", "image": image});
    if let Some(p) = port {
        container["portMappings"] = json!([{"containerPort": p}]);
    }
    let desired = fleet
        .desired_capacity
        .clamp(fleet.min_size, fleet.max_size.max(fleet.min_size));
    let mut spec = json!({
        "cluster": opts.cluster,
        "desiredCount": desired,
        "network": {"subnets": fleet.subnets, "securityGroups": security_groups, "assignPublicIp": false},
        "taskDefinition": {"cpu": cpu, "memory": memory, "containers": [container]},
        "deployment": {"strategy": "rolling", "circuitBreaker": {"enable": true, "rollback": true}},
    });
    if let Some(role) = execution_role {
        spec["taskDefinition"]["executionRoleArn"] = json!(role);
    }
    if !load_balancers.is_empty() {
        spec["loadBalancers"] = json!(load_balancers);
        if fleet.health_check_type == FleetHealthCheck::Elb && fleet.health_check_grace_period > 0 {
            spec["healthCheckGracePeriodSeconds"] = json!(fleet.health_check_grace_period);
            service_comments.push(format!(
                "healthCheckGracePeriodSeconds is the group's ELB health check grace period ({} s)",
                fleet.health_check_grace_period
            ));
        }
    }
    let (labels, dropped) = fleet_labels(&fleet.tags);
    if !dropped.is_empty() {
        service_comments.push(format!(
            "tags that cannot be labels are left out: {}",
            dropped.join(", ")
        ));
    }
    let document = Document {
        kind: "Service",
        name: service.to_owned(),
        labels: labels.clone(),
        spec,
        comments: service_comments,
    };
    (document, labels)
}
