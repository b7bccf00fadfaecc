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

mod native;
mod service;
mod target_group;
mod whole;

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
            protocol: TargetGroupProtocol::Http,
            target_type: TargetKind::Ip,
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
            circuit_breaker: Some(CircuitBreaker::new(false, false)),
            ..Default::default()
        },
        health_check_grace_period_seconds: Some(0),
        deployment_controller: DeploymentController::Ecs,
        deployments: vec![],
        task_sets: vec![],
        unmodeled: Vec::new(),
        start_impaired: None,
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
