//! `ecsd import`: a Service document from what was read: its running task definition,
//! network, load balancers and deployment settings.

use std::collections::BTreeMap;

use serde_json::Value;

use ecsd_model::service::{
    BlueGreen, CircuitBreaker, Deployment, LoadBalancer, Network, ServiceSpec, Strategy, Traffic,
};
use ecsd_plan::state::DeploymentController;

use super::read::ServiceRead;
use crate::generate::target_groups::target_group_name;
use crate::generate::yaml::{Document, labels};

/// The Service of `r`; `rule_owner` names the TargetGroup whose document carries each
/// listener rule (for a native deployment's production and test rules).
pub(super) fn service(r: &ServiceRead<'_>, rule_owner: &BTreeMap<String, String>) -> Document {
    let svc = r.svc;
    let name_of = |arn: &str| {
        r.tgs
            .iter()
            .find(|t| t.arn == arn)
            .map_or_else(|| target_group_name(arn), |t| t.name.clone())
    };
    let dc = &svc.deployment_configuration;
    let mut comments: Vec<String> = svc
        .unmodeled
        .iter()
        .map(|k| format!("the service's {k} has no manifest key: ecsd leaves it as it is"))
        .collect();
    comments.extend(r.td.unmodeled.iter().map(|k| {
        format!("the task definition's {k} has no manifest key: a new revision registered by ecsd would not have it")
    }));
    let native = svc
        .load_balancers
        .first()
        .and_then(|lb| lb.advanced.as_ref());
    let strategy = svc.strategy();
    let traffic = native.filter(|_| strategy.is_native()).map(|a| Traffic {
        alternate_target_group: name_of(&a.alternate_target_group_arn),
        production_listener_rule: a
            .production_listener_rule
            .as_ref()
            .and_then(|p| rule_owner.get(p).cloned())
            .unwrap_or_default(),
        test_listener_rule: a
            .test_listener_rule
            .as_ref()
            .and_then(|t| rule_owner.get(t).cloned()),
        role_arn: a.role_arn.clone().unwrap_or_default(),
    });
    if r.group.is_some() {
        comments.push("validationHooks (the Lambda functions CodeDeploy runs) live in each deployment's AppSpec and cannot be read back: add them to deployment.blueGreen if the service used any".to_owned());
    }
    let blue_green = r.group.map(|g| BlueGreen {
        alternate_target_group: g.target_groups.get(1).cloned().unwrap_or_default(),
        prod_listener_arn: g.prod_listener_arns.first().cloned().unwrap_or_default(),
        test_listener_arn: g.test_listener_arns.first().cloned(),
        traffic_shift: g.deployment_config.clone(),
        terminate_blue_after_minutes: g.terminate_blue_after_minutes,
        auto_rollback: g.auto_rollback,
        alarms: g.alarms.clone(),
        service_role_arn: g.service_role_arn.clone(),
        validation_hooks: None,
    });
    let ecs = svc.deployment_controller == DeploymentController::Ecs;
    let spec = ServiceSpec {
        cluster: svc.id.cluster.clone(),
        desired_count: svc.desired_count,
        network: Network {
            subnets: svc.network.subnets.clone(),
            security_groups: svc.network.security_groups.clone(),
            assign_public_ip: svc.network.assign_public_ip,
        },
        task_definition: r.td.definition.clone(),
        load_balancers: svc
            .load_balancers
            .iter()
            .map(|lb| LoadBalancer {
                target_group: name_of(&lb.target_group_arn),
                container_name: lb.container_name.clone(),
                container_port: lb.container_port,
            })
            .collect(),
        health_check_grace_period_seconds: (!svc.load_balancers.is_empty()).then_some(
            svc.health_check_grace_period_seconds
                .unwrap_or(ecsd_model::defaults::HEALTH_CHECK_GRACE_PERIOD),
        ),
        deployment: Deployment {
            strategy,
            minimum_healthy_percent: dc.minimum_healthy_percent,
            maximum_percent: dc.maximum_percent,
            circuit_breaker: ecs.then(|| {
                let (enable, rollback) = ecsd_model::defaults::CIRCUIT_BREAKER;
                dc.circuit_breaker
                    .unwrap_or(CircuitBreaker::new(enable, rollback))
                    .normalized()
            }),
            alarms: dc.alarms.clone().filter(|a| ecs && !a.is_none()),
            early_success_criteria: dc
                .early_success_criteria
                .filter(|e| e.enable && strategy == Strategy::Rolling),
            blue_green,
            bake_time_minutes: dc.bake_time_minutes.filter(|_| strategy.is_native()),
            linear: dc.linear.filter(|_| strategy == Strategy::Linear),
            canary: dc.canary.filter(|_| strategy == Strategy::Canary),
            traffic,
            lifecycle_hooks: if strategy.is_native() {
                dc.lifecycle_hooks.clone()
            } else {
                Vec::new()
            },
            approve: None,
            rollback: None,
            analysis: None,
        },
    };
    if svc.load_balancers.len() > 5 {
        comments.push("more than 5 load balancers: the manifest allows 5".to_owned());
    }
    Document {
        kind: "Service",
        name: svc.id.name.clone(),
        labels: labels(&svc.tags),
        spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
        comments,
    }
}
