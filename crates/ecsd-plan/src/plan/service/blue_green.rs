//! The CodeDeploy side of a `strategy: blueGreen` Service: its application, its
//! deployment group, and the deployments that roll out a new task definition.
//!
//! While a CodeDeploy deployment is in flight, the task definition, the network and
//! which target group is live belong to CodeDeploy: ecsd neither "corrects" them nor
//! starts a second deployment. A CODE_DEPLOY service only takes the desired count, the
//! deployment configuration (never a circuit breaker) and the grace period from
//! UpdateService; everything else goes through a deployment.

use serde_json::{Value, json};

use ecsd_model::service::BlueGreen;

use super::{Redeploy, Svc, mark_running, update_draft};
use crate::ops::{
    AppSpecHook, CodeDeployDeploymentInput, Op, ServiceUpdate, Tagged, TaskDefinitionRef,
};
use crate::ownership;
use crate::plan::{PlanError, PlanErrorKind, Planned};
use crate::state::{BlueGreenState, DeploymentGroupState, ServiceState};

/// The CodeDeploy application of a service (application names are per region).
pub fn application_name(cluster: &str, service: &str) -> String {
    format!("ecsd-{cluster}-{service}")
}

/// The deployment group the manifest asks for.
fn desired_group(s: &Svc<'_>, bg: &BlueGreen) -> DeploymentGroupState {
    let blue = s
        .spec
        .load_balancers
        .first()
        .map(|lb| lb.target_group.clone())
        .unwrap_or_default();
    DeploymentGroupState {
        application: application_name(&s.id.cluster, &s.id.name),
        name: s.id.name.clone(),
        service_role_arn: bg.service_role_arn.clone(),
        deployment_config: bg.traffic_shift.clone(),
        service: s.id.clone(),
        target_groups: vec![blue, bg.alternate_target_group.clone()],
        prod_listener_arns: vec![bg.prod_listener_arn.clone()],
        test_listener_arns: bg.test_listener_arn.iter().cloned().collect(),
        terminate_blue_after_minutes: bg.terminate_blue_after_minutes,
        auto_rollback: bg.auto_rollback,
        alarms: bg.alarms.clone(),
    }
}

/// A deployment group in the manifest's `deployment.blueGreen` shape.
fn group_value(g: &DeploymentGroupState) -> Value {
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

/// What is compared for a blue/green service (on both sides): not which target group
/// serves (CodeDeploy swaps them), and, while a deployment is in flight, not the task
/// definition or network (CodeDeploy's until done).
fn comparable(desired: &mut Value, in_flight: bool) {
    if let Some(obj) = desired.as_object_mut() {
        obj.remove("loadBalancers");
        if in_flight {
            obj.remove("taskDefinition");
            obj.remove("network");
        }
    }
}

/// Creates the application and the deployment group where missing, and updates the group
/// where it differs.
pub(super) fn setup_ops(s: &Svc<'_>, bg: &BlueGreen, state: Option<&BlueGreenState>) -> Vec<Op> {
    let want = desired_group(s, bg);
    let mut ops = Vec::new();
    if !state.is_some_and(|s| s.application_exists) {
        ops.push(Op::CreateCodeDeployApplication {
            name: want.application.clone(),
            tags: s.tags.clone(),
        });
    }
    match state.and_then(|s| s.group.as_ref()) {
        None => ops.push(Op::CreateDeploymentGroup {
            group: Box::new(want),
            tags: s.tags.clone(),
        }),
        Some(have) if *have != want => ops.push(Op::UpdateDeploymentGroup(Box::new(want))),
        Some(_) => {}
    }
    ops
}

/// The deployment that rolls out the registered task definition.
fn deployment_op(s: &Svc<'_>, bg: &BlueGreen, task_definition: TaskDefinitionRef) -> Op {
    let lb = s.spec.load_balancers.first();
    let hooks = bg
        .validation_hooks
        .as_ref()
        .map(|h| {
            h.iter()
                .map(|(k, f)| {
                    let mut hook = k.to_owned();
                    if let Some(first) = hook.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    AppSpecHook {
                        hook,
                        function: f.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Op::CreateCodeDeployDeployment(Box::new(CodeDeployDeploymentInput {
        application: application_name(&s.id.cluster, &s.id.name),
        group: s.id.name.clone(),
        service: s.id.clone(),
        task_definition,
        container_name: lb.map(|l| l.container_name.clone()).unwrap_or_default(),
        container_port: lb.map(|l| l.container_port).unwrap_or(0),
        network: s.network(),
        hooks,
    }))
}

/// A load balancer of a service as compared: the target group (of a blue/green pair,
/// the blue one), the container and its port.
#[derive(Debug, PartialEq)]
struct LoadBalancerKey {
    target_group: String,
    container_name: String,
    container_port: u16,
}

/// A CODE_DEPLOY service's load balancer (container, port, target group pair) is fixed
/// at creation: UpdateService refuses to change it, and CodeDeploy deploys into it.
/// Which of the pair it names is CodeDeploy's business.
fn check_load_balancers(s: &Svc<'_>, bg: &BlueGreen, svc: &ServiceState) -> Result<(), PlanError> {
    let pair = |name: &str| {
        if name == bg.alternate_target_group {
            s.spec
                .load_balancers
                .first()
                .map_or(name.to_owned(), |lb| lb.target_group.clone())
        } else {
            name.to_owned()
        }
    };
    let have: Vec<LoadBalancerKey> = svc
        .load_balancers
        .iter()
        .map(|lb| LoadBalancerKey {
            target_group: pair(
                s.ctx
                    .target_group_name(&lb.target_group_arn)
                    .unwrap_or(&lb.target_group_arn),
            ),
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
        })
        .collect();
    let want: Vec<LoadBalancerKey> = s
        .spec
        .load_balancers
        .iter()
        .map(|lb| LoadBalancerKey {
            target_group: pair(&lb.target_group),
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
        })
        .collect();
    if have == want {
        return Ok(());
    }
    Err(PlanError::new(
        PlanErrorKind::Immutable,
        format!(
            "loadBalancers cannot change on an existing blueGreen service (AWS has {have:?}): CodeDeploy deploys into the load balancer the service was created with; give the Service a new name to create a new one"
        ),
    ))
}

/// An existing blue/green service: CodeDeploy setup kept in sync, and a task definition
/// or network change rolled out as exactly one CodeDeploy deployment.
pub(super) fn update(
    s: &Svc<'_>,
    bg: &BlueGreen,
    svc: &ServiceState,
) -> Result<Planned, PlanError> {
    let (mut draft, owned) = update_draft(s, svc)?;
    check_load_balancers(s, bg, svc)?;
    let state = s.ctx.observed.blue_green.get(&s.id);
    let in_flight = state.and_then(|st| st.in_flight.as_ref());
    let mut desired = s.desired_value();
    comparable(&mut desired, in_flight.is_some());
    let running = s.running_task_definition(svc)?;
    let mut observed = s.observed_value(svc, running);
    comparable(&mut observed, in_flight.is_some());
    if let (Some(group), Some(dep)) = (
        state.and_then(|st| st.group.as_ref()),
        observed
            .get_mut("deployment")
            .and_then(Value::as_object_mut),
    ) {
        dep.insert("blueGreen".into(), group_value(group));
    }
    draft.compare(&desired, &observed);
    draft.ops.extend(setup_ops(s, bg, state));
    let mut hold = None;
    if let Some(dep) = in_flight {
        draft.notes.push(format!(
            "CodeDeploy deployment {} ({}) is in flight; the task definition and network are CodeDeploy's until it ends",
            dep.id, dep.status
        ));
    } else if draft.touches("taskDefinition") || draft.touches("network") {
        match s.after_rollback(failed_deployment(s, state)) {
            Redeploy::Hold(h) => {
                draft.diff.retain(|f| {
                    !f.path.starts_with("taskDefinition") && !f.path.starts_with("network")
                });
                hold = Some(h);
            }
            Redeploy::Register => {
                draft.ops.push(Op::RegisterTaskDefinition {
                    definition: Box::new(s.td.clone()),
                    tags: s.tags.clone(),
                });
                draft
                    .ops
                    .push(deployment_op(s, bg, TaskDefinitionRef::Registered));
            }
            Redeploy::Reuse(arn) => {
                draft.notes.push(format!(
                    "retries the rolled-back revision {}",
                    ownership::revision_of(&arn)
                ));
                draft
                    .ops
                    .push(deployment_op(s, bg, TaskDefinitionRef::Arn(arn)));
            }
        }
    } else if !ownership::task_definition_vouched(&svc.tags, &svc.task_definition_arn, &s.hash) {
        // CodeDeploy finished a deployment of this definition.
        mark_running(s, svc, &mut draft);
    }
    let mut update = ServiceUpdate::of(s.id.clone());
    if draft.touches("desiredCount") {
        update.desired_count = Some(s.spec.desired_count);
    }
    if draft.touches("healthCheckGracePeriodSeconds") {
        update.health_check_grace_period_seconds = s.grace_period();
    }
    if draft.touches("deployment.minimumHealthyPercent")
        || draft.touches("deployment.maximumPercent")
    {
        update.deployment = Some(s.deployment());
    }
    if !update.is_empty() {
        draft.ops.push(Op::UpdateService(Box::new(update)));
    }
    if owned {
        let mut also = vec![Tagged::Ecs(svc.task_definition_arn.clone())];
        also.extend(
            state
                .into_iter()
                .flat_map(|st| [st.application_arn.clone(), st.group_arn.clone()])
                .flatten()
                .map(Tagged::CodeDeploy),
        );
        s.sync_labels(&mut draft, svc, &also);
    }
    Ok(Planned {
        change: draft.finish(),
        hold,
    })
}

/// The last CodeDeploy deployment when it failed or was stopped (CodeDeploy rolled it
/// back), with the definition it tried to deploy.
fn failed_deployment<'a>(
    s: &Svc<'a>,
    state: Option<&'a BlueGreenState>,
) -> Option<(&'a crate::state::TaskDefinitionState, String)> {
    let last = state?.last_finished.as_ref()?;
    if !last.status.unsuccessful() {
        return None;
    }
    let td = s
        .ctx
        .observed
        .task_definitions
        .get(last.task_definition_arn.as_deref()?)?;
    let error = last
        .error
        .clone()
        .unwrap_or_else(|| "no reason given".to_owned());
    Some((
        td,
        format!("CodeDeploy deployment {} {}: {error}", last.id, last.status),
    ))
}
