//! Planning a Service: its task definition revision and the ECS service.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use ecsd_model::service::{ServiceSpec, Strategy, TaskDefinition};
use ecsd_model::{Kind, Manifest, ObjectKey};

use crate::ops::{
    DeploymentInput, LoadBalancerInput, NetworkInput, Op, ServiceInput, ServiceUpdate,
    TargetGroupRef, TaskDefinitionRef,
};
use crate::ownership::{self, TASK_DEFINITION_TAG, cluster_name};
use crate::plan::{Change, Context, change};
use crate::state::ServiceState;

/// The task definition a Service asks for, with its family defaulted to the service name.
pub fn desired_task_definition(name: &str, spec: &ServiceSpec) -> TaskDefinition {
    let mut td = spec.task_definition.clone();
    td.family.get_or_insert_with(|| name.to_owned());
    td
}

/// A stable hash of a task definition's content (hex SHA-256 of its canonical JSON).
pub fn task_definition_hash(td: &TaskDefinition) -> String {
    let bytes = serde_json::to_vec(td).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of the task definition tag: `family:revision hash`.
pub fn task_definition_marker(task_definition_arn: &str, hash: &str) -> String {
    format!("{} {hash}", revision_of(task_definition_arn))
}

/// `family:revision` from a task definition ARN (or the input if it is not an ARN).
pub fn revision_of(task_definition_arn: &str) -> &str {
    task_definition_arn
        .rsplit_once(":task-definition/")
        .map_or(task_definition_arn, |(_, r)| r)
}

/// Whether the service's tag proves it runs a revision registered from `hash`.
pub fn marker_matches(service: &ServiceState, hash: &str) -> bool {
    service
        .tags
        .get(TASK_DEFINITION_TAG)
        .is_some_and(|v| *v == task_definition_marker(&service.task_definition_arn, hash))
}

pub(crate) fn plan(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &ServiceSpec,
) -> Result<Option<Change>, String> {
    let key = m.key();
    let name = &m.metadata.name;
    let owner = &ctx.opts.owner;
    let cluster = cluster_name(&spec.cluster).to_owned();
    let blue_green = spec
        .deployment
        .blue_green
        .as_ref()
        .filter(|_| spec.deployment.strategy == Strategy::BlueGreen);
    if ctx.observed.missing_clusters.contains(&cluster) {
        return Err(format!(
            "cluster {cluster:?} does not exist (ecsd does not create clusters)"
        ));
    }
    let td = desired_task_definition(name, spec);
    let hash = task_definition_hash(&td);
    let scaling = ctx.scaling_for(name).map(|(_, s)| s);
    let tags = ownership::owner_tags(owner, &key, &m.metadata.labels);
    let depends_on: Vec<ObjectKey> = spec
        .load_balancers
        .iter()
        .map(|lb| ObjectKey {
            kind: Kind::TargetGroup,
            name: lb.target_group.clone(),
        })
        .chain(blue_green.map(|bg| ObjectKey {
            kind: Kind::TargetGroup,
            name: bg.alternate_target_group.clone(),
        }))
        .collect();
    let desired = desired_value(spec, &td, &cluster, scaling.is_some());
    let bg_state = crate::blue_green::state(ctx, &cluster, name);
    let want_group =
        blue_green.map(|bg| crate::blue_green::desired_group(&cluster, name, spec, bg));
    let network = NetworkInput {
        subnets: spec.network.subnets.clone(),
        security_groups: spec.network.security_groups.clone(),
        assign_public_ip: spec.network.assign_public_ip,
    };
    let load_balancers: Vec<LoadBalancerInput> = spec
        .load_balancers
        .iter()
        .map(|lb| LoadBalancerInput {
            target_group: ctx
                .observed
                .target_groups
                .get(&lb.target_group)
                .map_or_else(
                    || TargetGroupRef::Name(lb.target_group.clone()),
                    |t| TargetGroupRef::Arn(t.arn.clone()),
                ),
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
        })
        .collect();
    let tags_for_setup = tags.clone();
    let wanted_controller = if blue_green.is_some() {
        "CODE_DEPLOY"
    } else {
        "ECS"
    };
    let existing = ctx.observed.services.get(&(cluster.clone(), name.clone()));
    // Switching between rolling and blueGreen needs a new service in AWS.
    let replacing = existing.filter(|svc| svc.deployment_controller != wanted_controller);
    if let Some(svc) = replacing {
        if !ownership::is_owned(&svc.tags, owner) {
            return Err(format!(
                "service {name:?} exists in cluster {cluster:?} but is not owned by ecsd (no {}={owner} tag); it is never replaced",
                ownership::OWNER_TAG
            ));
        }
        if !ctx.opts.recreate {
            return Err(format!(
                "service {name:?} uses the {} deployment controller but the manifest asks for {wanted_controller}: switching between rolling and blueGreen needs a new service in AWS, so its tasks are stopped and started again; rerun with --recreate to do that",
                svc.deployment_controller
            ));
        }
    }
    let Some(svc) = existing.filter(|_| replacing.is_none()) else {
        let desired_count = match scaling {
            Some(s) => spec
                .desired_count
                .clamp(s.min_capacity, s.max_capacity.max(s.min_capacity)),
            None => spec.desired_count,
        };
        let ops = vec![
            Op::RegisterTaskDefinition {
                definition: Box::new(td),
                tags: tags.clone(),
            },
            Op::CreateService(Box::new(ServiceInput {
                cluster: cluster.clone(),
                name: name.clone(),
                deployment_controller: blue_green.map(|_| "CODE_DEPLOY".to_owned()),
                task_definition: TaskDefinitionRef::Registered,
                desired_count,
                network,
                load_balancers,
                health_check_grace_period_seconds: spec.health_check_grace_period_seconds,
                deployment: deployment_input(spec, None),
                tags,
            })),
            Op::MarkTaskDefinition {
                cluster,
                service: name.clone(),
                task_definition: TaskDefinitionRef::Registered,
                hash,
            },
        ];
        let mut ops = ops;
        if let Some(want) = &want_group {
            ops.extend(crate::blue_green::setup_ops(
                bg_state,
                want,
                &tags_for_setup,
            ));
        }
        let mut desired = desired;
        if let (Some(obj), true) = (desired.as_object_mut(), scaling.is_some()) {
            obj.insert("desiredCount".into(), json!(desired_count));
        }
        let (observed, notes) = match replacing {
            Some(old) => {
                ops.insert(
                    0,
                    Op::DeleteService {
                        cluster: old_cluster(old),
                        name: name.clone(),
                    },
                );
                let from = if old.deployment_controller == "CODE_DEPLOY" {
                    "blueGreen"
                } else {
                    "rolling"
                };
                let note = format!(
                    "replaces the service: deletes {} ({} controller; its tasks stop) and creates it again with the {wanted_controller} controller",
                    old.arn, old.deployment_controller
                );
                (json!({"deployment": {"strategy": from}}), vec![note])
            }
            None => (json!({}), Vec::new()),
        };
        return Ok(change(
            key,
            replacing.is_some(),
            &desired,
            &observed,
            ops,
            notes,
            depends_on,
        ));
    };
    let mut ops = Vec::new();
    let mut notes = Vec::new();
    if !ownership::is_owned(&svc.tags, owner) {
        if !ctx.opts.adopt {
            return Err(format!(
                "service {name:?} exists in cluster {cluster:?} but is not owned by ecsd (no {}={owner} tag); use --adopt to take it over",
                ownership::OWNER_TAG
            ));
        }
        notes.push(format!("adopts the existing service {}", svc.arn));
        ops.push(Op::TagService {
            arn: svc.arn.clone(),
            tags,
        });
    }
    if let (Some(bg), Some(want)) = (blue_green, &want_group) {
        return blue_green_update(
            ctx,
            m,
            spec,
            bg,
            want,
            bg_state,
            svc,
            td,
            desired,
            network,
            tags_for_setup,
            notes,
            ops,
            depends_on,
        );
    }
    let running_td = running_task_definition(ctx, svc, &td, &hash)?;
    let observed = observed_value(ctx, svc, running_td);
    let d = crate::diff::diff(&desired, &observed);
    let mut update = ServiceUpdate {
        cluster: cluster.clone(),
        name: name.clone(),
        ..ServiceUpdate::default()
    };
    let touched = |prefix: &str| touches(&d, prefix);
    if touched("taskDefinition") {
        ops.push(Op::RegisterTaskDefinition {
            definition: Box::new(td),
            tags: ownership::owner_tags(owner, &key, &m.metadata.labels),
        });
        update.task_definition = Some(TaskDefinitionRef::Registered);
    }
    if touched("desiredCount") {
        update.desired_count = Some(spec.desired_count);
    }
    if touched("network") {
        update.network = Some(network);
    }
    if touched("loadBalancers") {
        update.load_balancers = Some(load_balancers);
    }
    if touched("healthCheckGracePeriodSeconds") {
        update.health_check_grace_period_seconds = spec.health_check_grace_period_seconds;
    }
    if touched("deployment") {
        update.deployment = Some(deployment_input(spec, Some(svc)));
    }
    if update
        != (ServiceUpdate {
            cluster: cluster.clone(),
            name: name.clone(),
            ..ServiceUpdate::default()
        })
    {
        ops.push(Op::UpdateService(Box::new(update)));
    }
    if touched("taskDefinition") {
        ops.push(Op::MarkTaskDefinition {
            cluster,
            service: name.clone(),
            task_definition: TaskDefinitionRef::Registered,
            hash,
        });
    } else if !marker_matches(svc, &hash) {
        notes
            .push("records the running task definition in the ecsd:task-definition tag".to_owned());
        ops.push(Op::MarkTaskDefinition {
            cluster,
            service: name.clone(),
            task_definition: TaskDefinitionRef::Arn(svc.task_definition_arn.clone()),
            hash,
        });
    }
    Ok(change(
        key, true, &desired, &observed, ops, notes, depends_on,
    ))
}

/// The running task definition in the manifest's shape: the desired one when the
/// service's tag vouches for it, else the one observe described.
fn running_task_definition(
    ctx: &Context<'_>,
    svc: &ServiceState,
    td: &TaskDefinition,
    hash: &str,
) -> Result<Value, String> {
    if marker_matches(svc, hash) {
        return Ok(serde_json::to_value(td).unwrap_or(Value::Null));
    }
    ctx.observed
        .task_definitions
        .get(&svc.task_definition_arn)
        .map(|t| serde_json::to_value(&t.definition).unwrap_or(Value::Null))
        .ok_or_else(|| {
            format!(
                "task definition {} of service {:?} could not be read",
                svc.task_definition_arn, svc.name
            )
        })
}

/// Whether a diff touches the field at `prefix` or anything under it.
fn touches(diff: &[crate::diff::FieldDiff], prefix: &str) -> bool {
    diff.iter().any(|f| {
        f.path == prefix
            || f.path.starts_with(&format!("{prefix}."))
            || f.path.starts_with(&format!("{prefix}["))
    })
}

/// The cluster name of an observed service.
fn old_cluster(svc: &ServiceState) -> String {
    cluster_name(&svc.cluster_arn).to_owned()
}

/// The manifest as compared: defaults applied, cluster as a name, id lists sorted, and
/// without desiredCount when a ScalingPolicy owns the count.
fn desired_value(spec: &ServiceSpec, td: &TaskDefinition, cluster: &str, scaled: bool) -> Value {
    let mut v = serde_json::to_value(spec).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("cluster".into(), json!(cluster));
        obj.insert(
            "taskDefinition".into(),
            serde_json::to_value(td).unwrap_or(Value::Null),
        );
        if scaled {
            obj.remove("desiredCount");
        }
        if let Some(net) = obj.get_mut("network").and_then(Value::as_object_mut) {
            for k in ["subnets", "securityGroups"] {
                if let Some(Value::Array(a)) = net.get_mut(k) {
                    a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                }
            }
        }
    }
    v
}

fn observed_value(ctx: &Context<'_>, svc: &ServiceState, task_definition: Value) -> Value {
    let mut subnets = svc.subnets.clone();
    subnets.sort();
    let mut security_groups = svc.security_groups.clone();
    security_groups.sort();
    let load_balancers: Vec<Value> = svc
        .load_balancers
        .iter()
        .map(|lb| {
            json!({
                "targetGroup": ctx.target_group_name(&lb.target_group_arn).unwrap_or(&lb.target_group_arn),
                "containerName": lb.container_name,
                "containerPort": lb.container_port,
            })
        })
        .collect();
    let mut deployment = json!({"strategy": if svc.deployment_controller == "CODE_DEPLOY" { "blueGreen" } else { "rolling" }});
    if let Some(obj) = deployment.as_object_mut() {
        if let Some(p) = svc.minimum_healthy_percent {
            obj.insert("minimumHealthyPercent".into(), json!(p));
        }
        if let Some(p) = svc.maximum_percent {
            obj.insert("maximumPercent".into(), json!(p));
        }
        if let Some((enable, rollback)) = svc.circuit_breaker {
            obj.insert(
                "circuitBreaker".into(),
                json!({"enable": enable, "rollback": rollback}),
            );
        }
    }
    let mut v = json!({
        "cluster": cluster_name(&svc.cluster_arn),
        "desiredCount": svc.desired_count,
        "network": {
            "subnets": subnets,
            "securityGroups": security_groups,
            "assignPublicIp": svc.assign_public_ip,
        },
        "taskDefinition": task_definition,
        "loadBalancers": load_balancers,
        "deployment": deployment,
    });
    if let (Some(g), Some(obj)) = (svc.health_check_grace_period_seconds, v.as_object_mut()) {
        obj.insert("healthCheckGracePeriodSeconds".into(), json!(g));
    }
    v
}

/// The deployment configuration to send: the manifest's values over what AWS has.
fn deployment_input(spec: &ServiceSpec, svc: Option<&ServiceState>) -> DeploymentInput {
    let d = &spec.deployment;
    DeploymentInput {
        minimum_healthy_percent: d
            .minimum_healthy_percent
            .or(svc.and_then(|s| s.minimum_healthy_percent)),
        maximum_percent: d.maximum_percent.or(svc.and_then(|s| s.maximum_percent)),
        circuit_breaker: d
            .circuit_breaker
            .map(|cb| (cb.enable, cb.rollback))
            .or(svc.and_then(|s| s.circuit_breaker)),
    }
}

/// An existing blue/green service: CodeDeploy setup kept in sync, and a task definition
/// or network change rolled out as exactly one CodeDeploy deployment.
#[allow(clippy::too_many_arguments)] // the shared state of `plan`, passed on rather than rebuilt
fn blue_green_update(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &ServiceSpec,
    bg: &ecsd_model::service::BlueGreen,
    want: &crate::state::DeploymentGroupState,
    bg_state: Option<&crate::state::BlueGreenState>,
    svc: &ServiceState,
    td: TaskDefinition,
    mut desired: Value,
    network: NetworkInput,
    tags: crate::state::Tags,
    mut notes: Vec<String>,
    mut ops: Vec<Op>,
    depends_on: Vec<ObjectKey>,
) -> Result<Option<Change>, String> {
    let key = m.key();
    let in_flight = bg_state.map(|s| s.in_flight.as_slice()).unwrap_or_default();
    crate::blue_green::comparable(&mut desired, !in_flight.is_empty());
    let hash = task_definition_hash(&td);
    let running_td = running_task_definition(ctx, svc, &td, &hash)?;
    let mut observed = observed_value(ctx, svc, running_td);
    if let (Some(group), Some(dep)) = (
        bg_state.and_then(|s| s.group.as_ref()),
        observed
            .get_mut("deployment")
            .and_then(Value::as_object_mut),
    ) {
        dep.insert("blueGreen".into(), crate::blue_green::group_value(group));
    }
    let d = crate::diff::diff(&desired, &observed);
    let touched = |prefix: &str| touches(&d, prefix);
    ops.extend(crate::blue_green::setup_ops(bg_state, want, &tags));
    if let Some(dep) = in_flight.first() {
        notes.push(format!(
            "CodeDeploy deployment {} ({}) is in flight; the task definition and network are CodeDeploy's until it ends",
            dep.id, dep.status
        ));
    } else if touched("taskDefinition") || touched("network") {
        ops.push(Op::RegisterTaskDefinition {
            definition: Box::new(td),
            tags: tags.clone(),
        });
        ops.push(crate::blue_green::deployment_op(want, spec, bg, network));
    } else if !marker_matches(svc, &hash) {
        // CodeDeploy finished a deployment of this definition: remember it, so the next
        // pass need not describe it.
        notes
            .push("records the running task definition in the ecsd:task-definition tag".to_owned());
        ops.push(Op::MarkTaskDefinition {
            cluster: want.cluster.clone(),
            service: key.name.clone(),
            task_definition: TaskDefinitionRef::Arn(svc.task_definition_arn.clone()),
            hash,
        });
    }
    let mut update = ServiceUpdate {
        cluster: want.cluster.clone(),
        name: key.name.clone(),
        ..ServiceUpdate::default()
    };
    if touched("desiredCount") {
        update.desired_count = Some(spec.desired_count);
    }
    if touched("healthCheckGracePeriodSeconds") {
        update.health_check_grace_period_seconds = spec.health_check_grace_period_seconds;
    }
    if touched("deployment.minimumHealthyPercent") || touched("deployment.maximumPercent") {
        update.deployment = Some(deployment_input(spec, Some(svc)));
    }
    if update.desired_count.is_some()
        || update.health_check_grace_period_seconds.is_some()
        || update.deployment.is_some()
    {
        ops.push(Op::UpdateService(Box::new(update)));
    }
    Ok(change(
        key, true, &desired, &observed, ops, notes, depends_on,
    ))
}
