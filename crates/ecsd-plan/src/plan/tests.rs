//! Every plan error and decision, on plain values: manifests parsed from YAML, AWS
//! state built by hand, no fake and no emulator.

use std::collections::{BTreeMap, BTreeSet};

use ecsd_model::service::CircuitBreaker;
use ecsd_model::{Manifest, SourceFile, parse_source};

use crate::canonical::task_definition_hash;
use crate::ops::{Op, Tagged, TaskDefinitionRef};
use crate::ownership::{
    LABELS_TAG, MANIFEST_TAG, OWNER_TAG, TASK_DEFINITION_TAG, task_definition_marker,
};
use crate::state::*;
use crate::{Plan, PlanErrorKind, PlanOptions, desired_task_definition, plan};

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2";
const TEST_LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/0a1b2c3d4e5f6a7b";
const LB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188";
const TD1: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";

fn manifests(text: &str) -> Vec<Manifest> {
    let source = parse_source(&[SourceFile {
        name: "m.yaml".into(),
        bytes: text.as_bytes().to_vec(),
    }]);
    assert!(source.is_valid(), "{:?}", source.diagnostics);
    source.documents.into_iter().map(|d| d.manifest).collect()
}

/// A TargetGroup, a rolling Service and (optionally) a ScalingPolicy called web.
fn stack(extra_env: &str, labels: &str, policy: bool) -> String {
    let mut text = format!(
        r#"
apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: web{labels}}}
spec:
  vpcId: vpc-1
  port: 5001
  healthCheck: {{path: /healthz}}
  listenerRule: {{listenerArn: "{LISTENER}", priority: 10, pathPatterns: ["/api/*"]}}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: web{labels}}}
spec:
  cluster: prod
  desiredCount: 2
  network: {{subnets: [subnet-1]}}
  taskDefinition:
    cpu: 256
    memory: 512
    containers:
      - name: app
        image: web:1
        portMappings: [{{containerPort: 5001}}]
        environment: {{LOG_LEVEL: info{extra_env}}}
  loadBalancers: [{{targetGroup: web, containerName: app, containerPort: 5001}}]
"#
    );
    if policy {
        text.push_str(
            "---\napiVersion: ecsd/v1\nkind: ScalingPolicy\nmetadata: {name: web}\nspec: {service: web, minCapacity: 2, maxCapacity: 10, targetTracking: [{metric: cpu, target: 60}]}\n",
        );
    }
    text
}

fn owned(key: &str, labels: &[(&str, &str)]) -> Tags {
    let mut tags: Tags = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tags.insert(OWNER_TAG.into(), "ecsd".into());
    tags.insert(MANIFEST_TAG.into(), key.into());
    if !labels.is_empty() {
        let keys: Vec<&str> = labels.iter().map(|(k, _)| *k).collect();
        tags.insert(LABELS_TAG.into(), keys.join(" "));
    }
    tags
}

fn tg_arn() -> String {
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1".into()
}

/// AWS exactly as the stack (without extra env or labels) asks, everything owned.
fn in_sync(ms: &[Manifest]) -> Observed {
    let mut o = Observed::default();
    o.target_groups.insert(
        "web".into(),
        TargetGroupState {
            arn: tg_arn(),
            name: "web".into(),
            vpc_id: "vpc-1".into(),
            port: 5001,
            protocol: "HTTP".into(),
            target_type: "ip".into(),
            health_check: HealthCheckState {
                path: Some("/healthz".into()),
                interval_seconds: 30,
                timeout_seconds: 6,
                healthy_threshold: 5,
                unhealthy_threshold: 2,
                matcher: "200".into(),
            },
            load_balancer_arns: vec![LB.into()],
            tags: owned("TargetGroup/web", &[]),
            deregistration_delay_seconds: Some(300),
        },
    );
    o.rules.insert(
        LISTENER.into(),
        vec![RuleState {
            arn: format!("{LISTENER}/rule-1"),
            listener_arn: LISTENER.into(),
            priority: Some(10),
            path_patterns: vec!["/api/*".into()],
            host_headers: vec![],
            forward: vec![ForwardTarget {
                target_group_arn: tg_arn(),
                weight: None,
            }],
            tags: owned("TargetGroup/web", &[]),
        }],
    );
    let spec = ms
        .iter()
        .find_map(|m| match &m.spec {
            ecsd_model::Spec::Service(s) => Some(s.as_ref().clone()),
            _ => None,
        })
        .expect("a Service");
    let td = desired_task_definition("web", &spec);
    let mut tags = owned("Service/web", &[]);
    tags.insert(
        TASK_DEFINITION_TAG.into(),
        task_definition_marker(TD1, &task_definition_hash(&td)),
    );
    let id = ServiceId::new("prod", "web");
    o.services.insert(id.clone(), service(id, tags));
    o.task_definitions.insert(
        TD1.into(),
        TaskDefinitionState {
            arn: TD1.into(),
            family: "web".into(),
            revision: 1,
            definition: td,
            unmodeled: Vec::new(),
        },
    );
    o
}

fn service(id: ServiceId, tags: Tags) -> ServiceState {
    ServiceState {
        arn: format!(
            "arn:aws:ecs:us-east-1:123456789012:service/{}/{}",
            id.cluster, id.name
        ),
        id,
        status: ServiceStatus::Active,
        desired_count: 2,
        running_count: 2,
        pending_count: 0,
        task_definition_arn: TD1.into(),
        network: AwsVpc {
            subnets: vec!["subnet-1".into()],
            security_groups: vec![],
            assign_public_ip: false,
        },
        load_balancers: vec![ServiceLoadBalancer {
            target_group_arn: tg_arn(),
            container_name: "app".into(),
            container_port: 5001,
            advanced: None,
        }],
        deployment_configuration: DeploymentConfigurationState {
            minimum_healthy_percent: Some(100),
            maximum_percent: Some(200),
            circuit_breaker: Some(CircuitBreaker {
                enable: false,
                rollback: false,
            }),
            ..Default::default()
        },
        health_check_grace_period_seconds: Some(0),
        deployment_controller: DeploymentController::Ecs,
        deployments: vec![],
        task_sets: vec![],
        unmodeled: Vec::new(),
        tags,
    }
}

fn web(o: &mut Observed) -> &mut ServiceState {
    o.services
        .get_mut(&ServiceId::new("prod", "web"))
        .expect("web")
}

fn errors(p: &Plan) -> Vec<(String, PlanErrorKind)> {
    p.errors
        .iter()
        .map(|e| {
            (
                e.key.as_ref().map(ToString::to_string).unwrap_or_default(),
                e.kind,
            )
        })
        .collect()
}

fn paths(p: &Plan) -> Vec<String> {
    p.changes
        .iter()
        .flat_map(|c| c.diff.iter().map(|d| d.path.clone()))
        .collect()
}

fn ops(p: &Plan, key: &str) -> Vec<Op> {
    p.changes
        .iter()
        .filter(|c| c.key.to_string() == key)
        .flat_map(|c| c.ops.clone())
        .collect()
}

fn op_names(ops: &[Op]) -> Vec<String> {
    ops.iter()
        .map(|o| {
            serde_json::to_value(o).expect("op")["op"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn aws_exactly_as_the_manifests_ask_plans_nothing() {
    let ms = manifests(&stack("", "", false));
    let p = plan(&ms, &in_sync(&ms), &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn every_plan_error_has_its_kind_and_holds_back_what_depends_on_it() {
    type Case = (
        &'static str,
        fn(&mut Observed),
        PlanOptions,
        Vec<(&'static str, PlanErrorKind)>,
    );
    let table: Vec<Case> = vec![
        (
            "the cluster does not exist",
            |o| {
                o.missing_clusters.insert("prod".into());
            },
            PlanOptions::default(),
            vec![("Service/web", PlanErrorKind::MissingCluster)],
        ),
        (
            "the service is not ecsd's",
            |o| web(o).tags.clear(),
            PlanOptions::default(),
            vec![("Service/web", PlanErrorKind::NotOwned)],
        ),
        (
            "the target group is not ecsd's: its service's change is held back",
            |o| {
                if let Some(t) = o.target_groups.get_mut("web") {
                    t.tags.clear();
                }
                web(o).desired_count = 3;
            },
            PlanOptions::default(),
            vec![
                ("TargetGroup/web", PlanErrorKind::NotOwned),
                ("Service/web", PlanErrorKind::Dependency),
            ],
        ),
        (
            "the port of an existing target group cannot change",
            |o| {
                if let Some(t) = o.target_groups.get_mut("web") {
                    t.port = 8080;
                }
                web(o).desired_count = 3;
            },
            PlanOptions::default(),
            vec![
                ("TargetGroup/web", PlanErrorKind::Immutable),
                ("Service/web", PlanErrorKind::Dependency),
            ],
        ),
        (
            "another rule holds the priority",
            |o| {
                let r = &mut o.rules.get_mut(LISTENER).expect("listener")[0];
                r.tags.clear();
                web(o).desired_count = 3;
            },
            PlanOptions::default(),
            vec![
                ("TargetGroup/web", PlanErrorKind::PriorityTaken),
                ("Service/web", PlanErrorKind::Dependency),
            ],
        ),
        (
            "the running task definition could not be read",
            |o| {
                web(o).tags.remove(TASK_DEFINITION_TAG);
                o.task_definitions.clear();
            },
            PlanOptions::default(),
            vec![("Service/web", PlanErrorKind::Unobserved)],
        ),
        (
            "pruning without an inventory",
            |_| {},
            PlanOptions {
                prune: true,
                ..PlanOptions::default()
            },
            vec![("", PlanErrorKind::Unobserved)],
        ),
    ];
    let ms = manifests(&stack("", "", false));
    for (case, edit, opts, want) in table {
        let mut o = in_sync(&ms);
        edit(&mut o);
        let p = plan(&ms, &o, &opts);
        let want: Vec<(String, PlanErrorKind)> =
            want.into_iter().map(|(k, e)| (k.to_owned(), e)).collect();
        assert_eq!(errors(&p), want, "{case}: {p:#?}");
        assert!(
            p.changes
                .iter()
                .all(|c| want.iter().all(|(k, _)| *k != c.key.to_string())),
            "{case}: nothing is planned for an object in error: {p:#?}"
        );
    }
}

#[test]
fn a_target_group_no_load_balancer_uses_is_refused_naming_listener_rule() {
    let text = stack("", "", false).replace(
        &format!("  listenerRule: {{listenerArn: \"{LISTENER}\", priority: 10, pathPatterns: [\"/api/*\"]}}\n"),
        "",
    );
    let ms = manifests(&text);
    let mut o = in_sync(&ms);
    o.services.clear();
    o.rules.clear();
    if let Some(t) = o.target_groups.get_mut("web") {
        t.load_balancer_arns.clear();
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        errors(&p),
        vec![("Service/web".to_owned(), PlanErrorKind::NoLoadBalancer)]
    );
    assert!(p.errors[0].message.contains("listenerRule"), "{p:#?}");
    // Attached to a listener outside ecsd, it is fine.
    if let Some(t) = o.target_groups.get_mut("web") {
        t.load_balancer_arns.push(LB.into());
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.errors.is_empty(), "{p:#?}");
}

#[test]
fn an_unowned_service_is_adopted_only_when_asked() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    web(&mut o).tags.clear();
    let adopt = PlanOptions {
        adopt: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &adopt);
    assert!(p.errors.is_empty(), "{p:#?}");
    let service_ops = ops(&p, "Service/web");
    assert!(
        matches!(&service_ops[0], Op::TagResource { resource: Tagged::Service(_), tags } if tags.contains_key(OWNER_TAG)),
        "{service_ops:#?}"
    );
}

fn blue_green(o: &mut Observed) {
    let svc = web(o);
    svc.deployment_controller = DeploymentController::CodeDeploy;
}

#[test]
fn switching_strategy_needs_recreate_and_never_replaces_an_unowned_service() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    blue_green(&mut o);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        errors(&p),
        vec![("Service/web".to_owned(), PlanErrorKind::StrategySwitch)]
    );
    assert!(p.errors[0].message.contains("--recreate"));
    let recreate = PlanOptions {
        recreate: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &recreate);
    assert_eq!(
        op_names(&ops(&p, "Service/web"))[..4],
        [
            "deleteService",
            "awaitServiceInactive",
            "registerTaskDefinition",
            "createService"
        ]
    );
    web(&mut o).tags.clear();
    let p = plan(&ms, &o, &recreate);
    assert_eq!(
        errors(&p),
        vec![("Service/web".to_owned(), PlanErrorKind::NotOwned)]
    );
    assert!(p.errors[0].message.contains("never replaced"));
}

#[test]
fn a_service_still_draining_is_waited_for_and_never_deleted_again() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    web(&mut o).status = ServiceStatus::Draining;
    let p = plan(&ms, &o, &PlanOptions::default());
    let names = op_names(&ops(&p, "Service/web"));
    assert_eq!(names[0], "awaitServiceInactive", "{names:?}");
    assert!(names.contains(&"createService".to_owned()));
    assert!(!names.contains(&"deleteService".to_owned()));
    assert!(
        p.changes[0].notes.iter().any(|n| n.contains("DRAINING"))
            || p.changes
                .iter()
                .any(|c| c.notes.iter().any(|n| n.contains("DRAINING")))
    );
}

#[test]
fn a_rolled_back_definition_is_held_until_the_manifest_changes_or_a_retry() {
    let bad = stack(", FEATURE_X: \"on\"", "", false);
    let ms = manifests(&bad);
    let mut o = in_sync(&manifests(&stack("", "", false)));
    let spec = ms
        .iter()
        .find_map(|m| match &m.spec {
            ecsd_model::Spec::Service(s) => Some(s.as_ref().clone()),
            _ => None,
        })
        .expect("a Service");
    o.rollbacks.insert(
        ServiceId::new("prod", "web"),
        RolledBack {
            deployment_arn: "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/2".into(),
            status: ServiceDeploymentStatus::RollbackSuccessful,
            reason: "ECS deployment circuit breaker: tasks failed to start".into(),
            task_definition: TaskDefinitionState {
                arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into(),
                family: "web".into(),
                revision: 2,
                definition: desired_task_definition("web", &spec),
                unmodeled: Vec::new(),
            },
        },
    );
    // The marker names the hash of web:1's definition: observe described web:1.
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(p.holds.len(), 1, "{p:#?}");
    assert!(p.holds[0].reason.contains("circuit breaker"));
    assert!(!op_names(&ops(&p, "Service/web")).contains(&"registerTaskDefinition".to_owned()));

    let retry = PlanOptions {
        retry_rolled_back: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &retry);
    assert!(p.holds.is_empty());
    let retried = ops(&p, "Service/web");
    assert!(
        !op_names(&retried).contains(&"registerTaskDefinition".to_owned()),
        "the rolled-back revision is deployed again, not copied: {retried:#?}"
    );
    let web2 =
        TaskDefinitionRef::Arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into());
    assert!(
        retried.iter().any(
            |op| matches!(op, Op::UpdateService(u) if u.task_definition.as_ref() == Some(&web2))
        ),
        "{retried:#?}"
    );

    // Another definition (the manifest changed again) is deployed.
    let ms = manifests(&stack(", FEATURE_X: \"off\"", "", false));
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.holds.is_empty(), "{p:#?}");
}

#[test]
fn deleting_a_field_entry_or_label_is_a_change_back_to_the_default() {
    // (the manifest, how AWS differs from it, the diff path, an op the fix needs)
    type Edit = fn(&mut Observed);
    let table: [(&str, Edit, &str, &str); 5] = [
        (
            "an environment variable deleted from the manifest",
            |o| {
                web(o).tags.remove(TASK_DEFINITION_TAG);
                for t in o.task_definitions.values_mut() {
                    t.definition.containers[0]
                        .environment
                        .insert("FEATURE_X".into(), "on".into());
                }
            },
            "taskDefinition.containers[0].environment.FEATURE_X",
            "registerTaskDefinition",
        ),
        (
            "a command deleted from the manifest",
            |o| {
                web(o).tags.remove(TASK_DEFINITION_TAG);
                for t in o.task_definitions.values_mut() {
                    t.definition.containers[0].command = Some(vec!["gunicorn".into()]);
                }
            },
            "taskDefinition.containers[0].command",
            "registerTaskDefinition",
        ),
        (
            "healthCheck.matcher left out means AWS's 200",
            |o| {
                if let Some(t) = o.target_groups.get_mut("web") {
                    t.health_check.matcher = "200-299".into();
                }
            },
            "healthCheck.matcher",
            "modifyTargetGroupHealthCheck",
        ),
        (
            "a circuit breaker left out means off",
            |o| {
                web(o).deployment_configuration.circuit_breaker = Some(CircuitBreaker {
                    enable: true,
                    rollback: true,
                });
            },
            "deployment.circuitBreaker.enable",
            "updateService",
        ),
        (
            "a label deleted from the manifest",
            |o| {
                web(o).tags = {
                    let mut t = owned("Service/web", &[("team", "web")]);
                    t.extend(
                        web(o)
                            .tags
                            .clone()
                            .into_iter()
                            .filter(|(k, _)| k.starts_with("ecsd:task")),
                    );
                    t
                };
            },
            "metadata.labels.team",
            "untagResource",
        ),
    ];
    let ms = manifests(&stack("", "", false));
    for (case, edit, path, op) in table {
        let mut o = in_sync(&ms);
        edit(&mut o);
        let p = plan(&ms, &o, &PlanOptions::default());
        assert!(paths(&p).iter().any(|x| x == path), "{case}: {p:#?}");
        let all: Vec<String> = p.changes.iter().flat_map(|c| op_names(&c.ops)).collect();
        assert!(all.iter().any(|x| x == op), "{case}: {all:?}");
    }
}

#[test]
fn a_blue_green_rule_keeps_codedeploy_s_forward_and_a_rolling_one_is_pointed_back() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    let other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/2";
    o.rules.get_mut(LISTENER).expect("listener")[0].forward = vec![
        ForwardTarget {
            target_group_arn: tg_arn(),
            weight: Some(0),
        },
        ForwardTarget {
            target_group_arn: other.into(),
            weight: Some(100),
        },
    ];
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/web");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule {
                conditions: None,
                forward: Some(f),
                ..
            }] if f.len() == 1 && f[0].weight.is_none()
        ),
        "a rolling target group's rule forwarding elsewhere is drift: {modify:#?}"
    );

    // The same rule for a blue/green target group is CodeDeploy's: only conditions change.
    let bg = format!(
        "{}---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: green}}\nspec: {{vpcId: vpc-1, port: 5001, listenerRule: {{listenerArn: \"{TEST_LISTENER}\", priority: 1, pathPatterns: [\"/*\"]}}}}\n",
        stack("", "", false).replace(
            "  loadBalancers: [{targetGroup: web, containerName: app, containerPort: 5001}]\n",
            &format!("  loadBalancers: [{{targetGroup: web, containerName: app, containerPort: 5001}}]\n  deployment:\n    strategy: blueGreen\n    blueGreen: {{alternateTargetGroup: green, prodListenerArn: \"{LISTENER}\", serviceRoleArn: \"arn:aws:iam::123456789012:role/cd\"}}\n"),
        )
    )
    .replace("pathPatterns: [\"/api/*\"]", "pathPatterns: [\"/v2/*\"]");
    let ms = manifests(&bg);
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/web");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule {
                conditions: Some(_),
                forward: None,
                ..
            }]
        ),
        "{modify:#?}"
    );
}

#[test]
fn the_task_definition_marker_is_recorded_only_for_an_identical_running_definition() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    web(&mut o).tags.remove(TASK_DEFINITION_TAG);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(paths(&p).is_empty(), "{p:#?}");
    assert!(matches!(
        &ops(&p, "Service/web")[..],
        [Op::MarkTaskDefinition { task_definition: TaskDefinitionRef::Arn(a), .. }] if a == TD1
    ));
    // With one more variable in the running revision there is a diff, and no marker
    // that would vouch for it.
    o.task_definitions.values_mut().for_each(|t| {
        t.definition.containers[0]
            .environment
            .insert("EXTRA".into(), "1".into());
    });
    let p = plan(&ms, &o, &PlanOptions::default());
    let service_ops = ops(&p, "Service/web");
    assert!(service_ops.iter().any(|o| matches!(
        o,
        Op::MarkTaskDefinition {
            task_definition: TaskDefinitionRef::Registered,
            ..
        }
    )));
    assert!(!service_ops.iter().any(|o| matches!(
        o,
        Op::MarkTaskDefinition {
            task_definition: TaskDefinitionRef::Arn(_),
            ..
        }
    )));
}

#[test]
fn the_prune_valve_refuses_to_delete_too_much() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    let mut inventory = Inventory::default();
    for name in ["a", "b", "c", "d"] {
        let id = ServiceId::new("prod", name);
        inventory
            .services
            .push(service(id, owned(&format!("Service/{name}"), &[])));
    }
    inventory.services.push(service(
        ServiceId::new("prod", "web"),
        owned("Service/web", &[]),
    ));
    o.inventory = Some(inventory);
    let prune = |max_prune| PlanOptions {
        prune: true,
        max_prune,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &prune(3));
    assert_eq!(errors(&p), vec![(String::new(), PlanErrorKind::PruneValve)]);
    assert!(p.changes.iter().all(|c| c.action != crate::Action::Delete));
    // Within --max-prune but more than half of the owned objects: refused as well.
    let p = plan(&ms, &o, &prune(10));
    assert_eq!(errors(&p), vec![(String::new(), PlanErrorKind::PruneValve)]);
    // Fewer orphans: pruned, scaling first.
    if let Some(inv) = o.inventory.as_mut() {
        inv.services.truncate(1);
        inv.services.push(service(
            ServiceId::new("prod", "web"),
            owned("Service/web", &[]),
        ));
    }
    let p = plan(&ms, &o, &prune(3));
    assert!(p.errors.is_empty(), "{p:#?}");
    assert_eq!(
        p.changes
            .iter()
            .filter(|c| c.action == crate::Action::Delete)
            .map(|c| c.key.to_string())
            .collect::<Vec<_>>(),
        vec!["Service/a"]
    );
}

#[test]
fn labels_reach_every_resource_made_for_the_object() {
    let ms = manifests(&stack("", ", labels: {team: web}", false));
    let mut o = in_sync(&ms);
    // The running revision's tags were read because the service's labels differ.
    o.tags.insert(TD1.into(), owned("Service/web", &[]));
    let p = plan(&ms, &o, &PlanOptions::default());
    let tagged: BTreeMap<String, Vec<String>> = p
        .changes
        .iter()
        .map(|c| {
            let resources = c
                .ops
                .iter()
                .filter_map(|o| match o {
                    Op::TagResource { resource, tags } if tags.get("team").is_some() => {
                        Some(format!("{resource:?}"))
                    }
                    _ => None,
                })
                .collect();
            (c.key.to_string(), resources)
        })
        .collect();
    assert_eq!(
        tagged["TargetGroup/web"].len(),
        2,
        "target group and rule: {tagged:#?}"
    );
    assert_eq!(
        tagged["Service/web"].len(),
        2,
        "task definition and service: {tagged:#?}"
    );
    assert!(
        tagged["Service/web"]
            .last()
            .is_some_and(|r| r.starts_with("Service")),
        "the service is tagged last (its tags vouch for the others): {tagged:#?}"
    );
}

/// The shipped IAM policy lets ecsd tag only with `aws:RequestTag/ecsd:owner`: every
/// tagging request of a plan carries the owner tag, label syncs and markers included.
#[test]
fn every_tagging_request_carries_the_owner_tag() {
    let opts = PlanOptions {
        owner: "team-a".into(),
        ..PlanOptions::default()
    };
    let with_owner = |o: &Observed, ms: &[Manifest]| {
        let mut o = o.clone();
        for tags in o
            .services
            .values_mut()
            .map(|s| &mut s.tags)
            .chain(o.target_groups.values_mut().map(|t| &mut t.tags))
            .chain(o.rules.values_mut().flatten().map(|r| &mut r.tags))
            .chain(o.tags.values_mut())
        {
            if tags.contains_key(OWNER_TAG) {
                tags.insert(OWNER_TAG.into(), "team-a".into());
            }
        }
        plan(ms, &o, &opts)
    };
    // Labels changed on everything, a deregistration delay to record, a running
    // definition to record on the service.
    let ms = manifests(&stack("", ", labels: {team: web}", false).replace(
        "healthCheck: {path: /healthz}",
        "healthCheck: {path: /healthz}\n  deregistrationDelaySeconds: 30",
    ));
    let mut o = in_sync(&manifests(&stack("", "", false)));
    o.tags.insert(TD1.into(), owned("Service/web", &[]));
    web(&mut o).tags.remove(TASK_DEFINITION_TAG);
    let p = with_owner(&o, &ms);
    let mut seen = BTreeSet::new();
    for op in p.changes.iter().flat_map(|c| &c.ops) {
        match op {
            Op::TagResource { tags, .. } => {
                assert_eq!(
                    tags.get(OWNER_TAG).map(String::as_str),
                    Some("team-a"),
                    "{op:?}"
                );
                seen.insert("TagResource");
            }
            Op::SetDeregistrationDelay { owner, .. } | Op::MarkTaskDefinition { owner, .. } => {
                assert_eq!(owner, "team-a", "{op:?}");
                seen.insert(if matches!(op, Op::MarkTaskDefinition { .. }) {
                    "MarkTaskDefinition"
                } else {
                    "SetDeregistrationDelay"
                });
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from([
            "MarkTaskDefinition",
            "SetDeregistrationDelay",
            "TagResource"
        ]),
        "{p:#?}"
    );
}

/// The stack deployed canary by ECS: `green` (its rule on the test listener) is the
/// alternate; `extra` is appended to the deployment block.
fn native_stack(extra: &str) -> String {
    format!(
        "{}  deployment:\n    strategy: canary\n    bakeTimeMinutes: 5\n    traffic: {{alternateTargetGroup: green, productionListenerRule: web, testListenerRule: green, roleArn: \"arn:aws:iam::123456789012:role/elb\"}}\n    lifecycleHooks:\n      - {{type: pause, stages: [POST_TEST_TRAFFIC_SHIFT]}}\n{extra}---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: green}}\nspec: {{vpcId: vpc-1, port: 5001, healthCheck: {{path: /healthz}}, listenerRule: {{listenerArn: \"{TEST_LISTENER}\", priority: 10, pathPatterns: [\"/api/*\"]}}}}\n",
        stack("", "", false)
    )
}

fn green_arn() -> String {
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2".into()
}

/// AWS exactly as `native_stack("")` asks.
fn native_in_sync(ms: &[Manifest]) -> Observed {
    let mut o = in_sync(ms);
    let mut green = o.target_groups["web"].clone();
    green.arn = green_arn();
    green.name = "green".into();
    green.tags = owned("TargetGroup/green", &[]);
    o.target_groups.insert("green".into(), green);
    let pair = vec![
        ForwardTarget {
            target_group_arn: tg_arn(),
            weight: Some(100),
        },
        ForwardTarget {
            target_group_arn: green_arn(),
            weight: Some(0),
        },
    ];
    let mut test_rule = o.rules[LISTENER][0].clone();
    test_rule.arn = format!("{TEST_LISTENER}/rule-2");
    test_rule.listener_arn = TEST_LISTENER.into();
    test_rule.forward = pair.clone();
    test_rule.tags = owned("TargetGroup/green", &[]);
    o.rules.insert(TEST_LISTENER.into(), vec![test_rule]);
    o.rules.get_mut(LISTENER).expect("rules")[0].forward = pair;
    let svc = web(&mut o);
    let dc = &mut svc.deployment_configuration;
    dc.strategy = Some("CANARY".into());
    dc.bake_time_minutes = Some(5);
    dc.canary = Some(ecsd_model::service::Canary {
        canary_percent: 5.0,
        canary_bake_time_minutes: 10,
    });
    dc.lifecycle_hooks = vec![ecsd_model::service::LifecycleHook {
        kind: ecsd_model::service::HookKind::Pause,
        function_arn: None,
        role_arn: None,
        stages: vec![ecsd_model::service::HookStage::PostTestTrafficShift],
        details: None,
        timeout_minutes: 1440,
        timeout_action: ecsd_model::service::HookAction::Rollback,
    }];
    svc.load_balancers[0].advanced = Some(AdvancedConfigState {
        alternate_target_group_arn: green_arn(),
        production_listener_rule: Some(format!("{LISTENER}/rule-1")),
        test_listener_rule: Some(format!("{TEST_LISTENER}/rule-2")),
        role_arn: Some("arn:aws:iam::123456789012:role/elb".into()),
    });
    o
}

/// A deployment of web paused at its PAUSE hook.
fn paused(o: &mut Observed) -> NativeDeployment {
    let d = NativeDeployment {
        arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/Sd7Yq".into(),
        status: ServiceDeploymentStatus::InProgress,
        status_reason: None,
        stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
        target_revision_arn: Some(
            "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/Rv9".into(),
        ),
        production_weight: Some(0.0),
        hooks: vec![HookDetail {
            hook_id: "ecs-pause-H1".into(),
            target_type: crate::state::HookTarget::Pause,
            status: HookStatus::AwaitingAction,
            expires_at: None,
            timeout_action: Some(ecsd_model::service::HookAction::Rollback),
        }],
        rollback_reason: None,
    };
    o.native_deployments
        .insert(ServiceId::new("prod", "web"), d.clone());
    d
}

#[test]
fn a_native_service_as_the_manifest_asks_plans_nothing_whatever_ecs_did_to_the_weights() {
    let ms = manifests(&native_stack(""));
    let mut o = native_in_sync(&ms);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");

    // ECS shifted the weights, and serves from the alternate now: not drift.
    for rule in o.rules.values_mut().flatten() {
        for f in &mut rule.forward {
            f.weight = Some(if f.weight == Some(100) { 0 } else { 100 });
        }
    }
    let lb = &mut web(&mut o).load_balancers[0];
    lb.target_group_arn = green_arn();
    if let Some(a) = &mut lb.advanced {
        a.alternate_target_group_arn = tg_arn();
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn a_rule_missing_a_target_group_is_completed_only_outside_a_deployment() {
    let ms = manifests(&native_stack(""));
    let mut o = native_in_sync(&ms);
    o.rules.get_mut(TEST_LISTENER).expect("rules")[0].forward = vec![ForwardTarget {
        target_group_arn: green_arn(),
        weight: None,
    }];
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/green");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule {
                forward: Some(f),
                ..
            }] if *f == crate::ops::Forward::shiftable(
                crate::ops::TargetGroupRef::Arn(tg_arn()),
                crate::ops::TargetGroupRef::Arn(green_arn()),
            )
        ),
        "{modify:#?}"
    );
    paused(&mut o);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(
        ops(&p, "TargetGroup/green").is_empty(),
        "the rule is ECS's while a deployment runs"
    );
}

#[test]
fn an_approval_continues_only_the_paused_deployment_it_names() {
    let mut o = native_in_sync(&manifests(&native_stack("")));
    let d = paused(&mut o);
    let continues = |o: &Observed, extra: &str| -> Vec<Op> {
        let ms = manifests(&native_stack(extra));
        let p = plan(&ms, o, &PlanOptions::default());
        ops(&p, "Service/web")
    };
    assert!(
        continues(&o, "").is_empty(),
        "no approval, nothing continues"
    );
    assert!(
        continues(&o, "    approve: Sd0ther\n").is_empty(),
        "a stale approval is ignored"
    );
    for name in [d.id(), d.arn.as_str(), "Rv9", "ecs-pause-H1"] {
        let got = continues(&o, &format!("    approve: {name}\n"));
        assert_eq!(
            got,
            vec![Op::ContinueServiceDeployment {
                service: ServiceId::new("prod", "web"),
                deployment_arn: d.arn.clone(),
                hook_id: "ecs-pause-H1".into(),
                action: ecsd_model::service::HookAction::Continue,
            }],
            "approve: {name}"
        );
    }
    let got = continues(&o, &format!("    rollback: {}\n", d.id()));
    assert!(
        matches!(
            &got[..],
            [Op::ContinueServiceDeployment {
                action: ecsd_model::service::HookAction::Rollback,
                ..
            }]
        ),
        "{got:#?}"
    );
    // Once ECS acted on the hook it no longer awaits action: nothing is sent again.
    o.native_deployments
        .get_mut(&ServiceId::new("prod", "web"))
        .expect("deployment")
        .hooks[0]
        .status = HookStatus::Succeeded;
    assert!(continues(&o, &format!("    approve: {}\n", d.id())).is_empty());
}

#[test]
fn deleting_the_hooks_or_switching_to_rolling_is_sent_whole_in_place() {
    let o = native_in_sync(&manifests(&native_stack("")));
    let ms = manifests(&native_stack("").replace(
        "    lifecycleHooks:\n      - {type: pause, stages: [POST_TEST_TRAFFIC_SHIFT]}\n",
        "",
    ));
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(paths(&p), vec!["deployment.lifecycleHooks".to_owned()]);
    let update = ops(&p, "Service/web");
    assert!(
        matches!(&update[..], [Op::UpdateService(u)]
            if u.deployment.as_ref().is_some_and(|d| d.lifecycle_hooks.is_empty()
                && d.strategy == Some(ecsd_model::service::Strategy::Canary))),
        "{update:#?}"
    );
    let ms = manifests(&stack("", "", false));
    let p = plan(&ms, &o, &PlanOptions::default());
    let update = ops(&p, "Service/web");
    assert!(
        matches!(&update[..], [Op::UpdateService(u)]
            if u.deployment.as_ref().is_some_and(|d| d.strategy == Some(ecsd_model::service::Strategy::Rolling) && d.native.is_none())
            && u.load_balancers.as_ref().is_some_and(|l| l[0].advanced.is_none())),
        "{update:#?}"
    );
    assert!(
        errors(&p).is_empty(),
        "rolling <-> canary needs no --recreate"
    );
}

#[test]
fn adopting_takes_over_the_rule_that_forwards_to_the_adopted_target_group() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    // Made by another tool: nothing carries ecsd's tags.
    for tg in o.target_groups.values_mut() {
        tg.tags.clear();
    }
    for rule in o.rules.values_mut().flatten() {
        rule.tags.clear();
    }
    for svc in o.services.values_mut() {
        svc.tags.clear();
    }
    let refused = plan(&ms, &o, &PlanOptions::default());
    assert!(
        errors(&refused)
            .iter()
            .any(|(k, e)| k == "TargetGroup/web" && *e == PlanErrorKind::NotOwned),
        "{refused:#?}"
    );
    let adopt = PlanOptions {
        adopt: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &adopt);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let tg_ops = ops(&p, "TargetGroup/web");
    let tagged: Vec<&Tagged> = tg_ops
        .iter()
        .filter_map(|op| match op {
            Op::TagResource { resource, .. } => Some(resource),
            _ => None,
        })
        .collect();
    assert_eq!(
        tagged,
        vec![
            &Tagged::Elb(tg_arn()),
            &Tagged::Elb(format!("{LISTENER}/rule-1"))
        ],
        "{tg_ops:#?}"
    );
    assert!(
        !op_names(&tg_ops)
            .iter()
            .any(|n| n == "createRule" || n == "modifyRule"),
        "the rule is taken over as it is: {tg_ops:#?}"
    );
}

#[test]
fn a_native_setting_added_or_deleted_is_a_change_and_a_deleted_one_means_its_default() {
    let o = native_in_sync(&manifests(&native_stack("")));
    // Added: a canary share of its own, and no test listener rule.
    let ms = manifests(&native_stack(
        "    canary: {canaryPercent: 20, canaryBakeTimeMinutes: 10}\n",
    ));
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        paths(&p),
        vec!["deployment.canary.canaryPercent".to_owned()]
    );
    let ms = manifests(&native_stack("").replace(", testListenerRule: green", ""));
    let p = plan(&ms, &o, &PlanOptions::default());
    // The green rule is ECS's no more: its 100/0 forward to both is pointed back at
    // green alone, and the plan shows the weights going.
    assert_eq!(
        paths(&p),
        vec![
            "listenerRule.alsoForwardTo".to_owned(),
            "listenerRule.weight".to_owned(),
            "deployment.traffic.testListenerRule".to_owned()
        ]
    );
    let update = ops(&p, "Service/web");
    assert!(
        matches!(&update[..], [Op::UpdateService(u)]
            if u.load_balancers.as_ref().is_some_and(|l| l[0].advanced.as_ref().is_some_and(|a| a.test_listener_rule.is_none()))),
        "{update:#?}"
    );
    // Deleted: AWS at 20% while the manifest leaves the block out means back to 5%.
    let mut o = o;
    if let Some(c) = &mut web(&mut o).deployment_configuration.canary {
        c.canary_percent = 20.0;
    }
    let p = plan(&manifests(&native_stack("")), &o, &PlanOptions::default());
    assert_eq!(
        paths(&p),
        vec!["deployment.canary.canaryPercent".to_owned()]
    );
}

/// The ASG's target group in the weighted cutover tests.
const ASG_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-asg/9";

/// The stack with its rule forwarding `own` to web and `asg` to the ASG's target group.
fn weighted_stack(own: u32, asg: u32) -> String {
    stack("", "", false).replace(
        r#"pathPatterns: ["/api/*"]}"#,
        &format!(
            r#"pathPatterns: ["/api/*"], weight: {own}, alsoForwardTo: [{{targetGroupArn: "{ASG_TG}", weight: {asg}}}]}}"#
        ),
    )
}

/// The rule of `o` forwarding `own` to web and `asg` to the ASG's target group.
fn weigh(o: &mut Observed, own: u32, asg: u32) {
    o.rules.get_mut(LISTENER).expect("listener")[0].forward = vec![
        ForwardTarget {
            target_group_arn: tg_arn(),
            weight: Some(own),
        },
        ForwardTarget {
            target_group_arn: ASG_TG.into(),
            weight: Some(asg),
        },
    ];
}

#[test]
fn a_weight_commit_is_one_modify_rule_and_the_plan_shows_the_weights() {
    let ms = manifests(&weighted_stack(10, 90));
    let mut o = in_sync(&manifests(&stack("", "", false)));
    // From a plain rule: the weights are the change.
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        paths(&p),
        vec![
            "listenerRule.alsoForwardTo[0]".to_owned(),
            "listenerRule.weight".to_owned()
        ]
    );
    let want = |own: u32, asg: u32| {
        vec![
            crate::ops::Forward {
                target_group: crate::ops::TargetGroupRef::Arn(tg_arn()),
                weight: Some(own),
            },
            crate::ops::Forward {
                target_group: crate::ops::TargetGroupRef::Arn(ASG_TG.into()),
                weight: Some(asg),
            },
        ]
    };
    assert!(
        matches!(&ops(&p, "TargetGroup/web")[..],
            [Op::ModifyRule { conditions: None, forward: Some(f), .. }] if *f == want(10, 90)),
        "{:#?}",
        ops(&p, "TargetGroup/web")
    );
    // In place: nothing to do, in any order AWS lists the target groups.
    weigh(&mut o, 10, 90);
    assert!(plan(&ms, &o, &PlanOptions::default()).changes.is_empty());
    o.rules.get_mut(LISTENER).expect("listener")[0]
        .forward
        .reverse();
    assert!(plan(&ms, &o, &PlanOptions::default()).changes.is_empty());
    // The next commit: exactly the two weights, in one ModifyRule.
    weigh(&mut o, 10, 90);
    let p = plan(
        &manifests(&weighted_stack(50, 50)),
        &o,
        &PlanOptions::default(),
    );
    assert_eq!(
        paths(&p),
        vec![
            "listenerRule.alsoForwardTo[0].weight".to_owned(),
            "listenerRule.weight".to_owned()
        ]
    );
    assert!(
        matches!(&ops(&p, "TargetGroup/web")[..],
            [Op::ModifyRule { conditions: None, forward: Some(f), .. }] if *f == want(50, 50)),
        "{:#?}",
        ops(&p, "TargetGroup/web")
    );
    // The last commit drops the ASG: all traffic to web, a plain forward again.
    weigh(&mut o, 100, 0);
    let p = plan(
        &manifests(&stack("", "", false)),
        &o,
        &PlanOptions::default(),
    );
    assert!(
        matches!(&ops(&p, "TargetGroup/web")[..],
            [Op::ModifyRule { forward: Some(f), .. }] if f.len() == 1 && f[0].weight.is_none()),
        "{:#?}",
        ops(&p, "TargetGroup/web")
    );
}

#[test]
fn a_weighted_rule_is_created_with_its_weights() {
    let ms = manifests(&weighted_stack(0, 100));
    let mut o = in_sync(&ms);
    o.rules.clear();
    let p = plan(&ms, &o, &PlanOptions::default());
    let create = ops(&p, "TargetGroup/web");
    assert!(
        matches!(&create[..], [Op::CreateRule { forward, .. }]
            if forward.len() == 2 && forward[0].weight == Some(0) && forward[1].weight == Some(100)
                && forward[1].target_group == crate::ops::TargetGroupRef::Arn(ASG_TG.into())),
        "{create:#?}"
    );
}
