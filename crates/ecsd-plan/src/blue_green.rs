//! The CodeDeploy side of a `strategy: blueGreen` Service: its application, its
//! deployment group, and the deployments that roll out a new task definition.
//!
//! While a CodeDeploy deployment is in flight, the task definition, the network and
//! which target group is live belong to CodeDeploy: ecsd neither "corrects" them nor
//! starts a second deployment.

use serde_json::{Value, json};

use ecsd_model::service::{BlueGreen, ServiceSpec};

use crate::ops::{CodeDeployDeploymentInput, NetworkInput, Op, TaskDefinitionRef};
use crate::plan::Context;
use crate::state::{BlueGreenState, DeploymentGroupState, Tags};

/// The CodeDeploy application of a service (application names are per region).
pub fn application_name(cluster: &str, service: &str) -> String {
    format!("ecsd-{cluster}-{service}")
}

/// The deployment group the manifest asks for.
pub(crate) fn desired_group(
    cluster: &str,
    service: &str,
    spec: &ServiceSpec,
    bg: &BlueGreen,
) -> DeploymentGroupState {
    let blue = spec
        .load_balancers
        .first()
        .map(|lb| lb.target_group.clone())
        .unwrap_or_default();
    DeploymentGroupState {
        application: application_name(cluster, service),
        name: service.to_owned(),
        service_role_arn: bg.service_role_arn.clone(),
        deployment_config: bg.traffic_shift.clone(),
        cluster: cluster.to_owned(),
        service: service.to_owned(),
        target_groups: vec![blue, bg.alternate_target_group.clone()],
        prod_listener_arns: vec![bg.prod_listener_arn.clone()],
        test_listener_arns: bg.test_listener_arn.iter().cloned().collect(),
        terminate_blue_after_minutes: bg.terminate_blue_after_minutes,
        auto_rollback: bg.auto_rollback,
        alarms: bg.alarms.clone(),
    }
}

/// A deployment group in the manifest's `deployment.blueGreen` shape.
pub(crate) fn group_value(g: &DeploymentGroupState) -> Value {
    let mut v = json!({
        "alternateTargetGroup": g.target_groups.get(1).cloned().unwrap_or_default(),
        "prodListenerArn": g.prod_listener_arns.first().cloned().unwrap_or_default(),
        "trafficShift": g.deployment_config,
        "terminateBlueAfterMinutes": g.terminate_blue_after_minutes,
        "autoRollback": g.auto_rollback,
        "alarms": g.alarms,
        "serviceRoleArn": g.service_role_arn,
    });
    if let (Some(t), Some(obj)) = (g.test_listener_arns.first(), v.as_object_mut()) {
        obj.insert("testListenerArn".into(), json!(t));
    }
    v
}

/// What of the manifest is compared for a blue/green service: not which target group
/// serves (CodeDeploy swaps them), not the hooks (they go into each AppSpec), and, while
/// a deployment is in flight, not the task definition or network (CodeDeploy's until done).
pub(crate) fn comparable(desired: &mut Value, in_flight: bool) {
    if let Some(obj) = desired.as_object_mut() {
        obj.remove("loadBalancers");
        if in_flight {
            obj.remove("taskDefinition");
            obj.remove("network");
        }
        if let Some(bg) = obj
            .get_mut("deployment")
            .and_then(|d| d.get_mut("blueGreen"))
            .and_then(Value::as_object_mut)
        {
            bg.remove("validationHooks");
        }
    }
}

/// Creates the application and the deployment group where missing, and updates the group
/// where it differs.
pub(crate) fn setup_ops(
    state: Option<&BlueGreenState>,
    want: &DeploymentGroupState,
    tags: &Tags,
) -> Vec<Op> {
    let mut ops = Vec::new();
    if !state.is_some_and(|s| s.application_exists) {
        ops.push(Op::CreateCodeDeployApplication {
            name: want.application.clone(),
            tags: tags.clone(),
        });
    }
    match state.and_then(|s| s.group.as_ref()) {
        None => ops.push(Op::CreateDeploymentGroup(Box::new(want.clone()))),
        Some(have) if have != want => ops.push(Op::UpdateDeploymentGroup(Box::new(want.clone()))),
        Some(_) => {}
    }
    ops
}

/// The deployment that rolls out the registered task definition.
pub(crate) fn deployment_op(
    want: &DeploymentGroupState,
    spec: &ServiceSpec,
    bg: &BlueGreen,
    network: NetworkInput,
) -> Op {
    let lb = spec.load_balancers.first();
    let hooks = bg
        .validation_hooks
        .as_ref()
        .map(|h| {
            h.iter()
                .map(|(k, f)| {
                    let mut name = k.to_owned();
                    if let Some(first) = name.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    (name, f.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    Op::CreateCodeDeployDeployment(Box::new(CodeDeployDeploymentInput {
        application: want.application.clone(),
        group: want.name.clone(),
        task_definition: TaskDefinitionRef::Registered,
        container_name: lb.map(|l| l.container_name.clone()).unwrap_or_default(),
        container_port: lb.map(|l| l.container_port).unwrap_or(0),
        network,
        hooks,
    }))
}

/// The CodeDeploy state observed for a service.
pub(crate) fn state<'a>(
    ctx: &Context<'a>,
    cluster: &str,
    service: &str,
) -> Option<&'a BlueGreenState> {
    ctx.observed
        .blue_green
        .get(&(cluster.to_owned(), service.to_owned()))
}
