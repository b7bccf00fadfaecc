//! The planner against hand-made observations: what AWS reports in its own way (defaults
//! filled in, lists reordered, names as ARNs, numbers as floats) is not a change; what
//! the manifest really changed is, at exactly its path.

use std::collections::BTreeMap;

use ecsd_model::service::CircuitBreaker;
use ecsd_model::{Manifest, SourceFile, parse_source};
use ecsd_plan::ownership::{MANIFEST_TAG, OWNER_TAG};
use ecsd_plan::state::{
    AwsVpc, DeploymentConfigurationState, DeploymentController, HealthCheckState, Observed,
    ScalableTargetState, ScalingPolicyState, ServiceId, ServiceLoadBalancer, ServiceState,
    ServiceStatus, Tags, TargetGroupProtocol, TargetGroupState, TargetKind, TaskDefinitionState,
};
use ecsd_plan::{PlanOptions, desired_task_definition, plan};

const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";
const TD_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3";

fn manifests(cluster: &str) -> Vec<Manifest> {
    let text = format!(
        r#"
apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: web}}
spec: {{vpcId: vpc-1, port: 5001, healthCheck: {{path: /healthz}}}}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: web}}
spec:
  cluster: {cluster}
  desiredCount: 2
  network: {{subnets: [subnet-b, subnet-a], securityGroups: [sg-1]}}
  taskDefinition:
    cpu: 512
    memory: 1024
    containers:
      - name: app
        image: web:1
        portMappings: [{{containerPort: 5001}}]
        environment: {{Z: "1", A: "2"}}
        healthCheck: {{command: [CMD-SHELL, "true"]}}
  loadBalancers: [{{targetGroup: web, containerName: app, containerPort: 5001}}]
---
apiVersion: ecsd/v1
kind: ScalingPolicy
metadata: {{name: web}}
spec:
  service: web
  minCapacity: 2
  maxCapacity: 10
  targetTracking: [{{metric: cpu, target: 60}}]
"#
    );
    let source = parse_source(&[SourceFile {
        name: "m.yaml".into(),
        bytes: text.into_bytes(),
    }]);
    assert!(source.is_valid(), "{:?}", source.diagnostics);
    source.documents.into_iter().map(|d| d.manifest).collect()
}

fn owned(key: &str) -> Tags {
    Tags::from([
        (OWNER_TAG.to_owned(), "ecsd".to_owned()),
        (MANIFEST_TAG.to_owned(), key.to_owned()),
    ])
}

/// What AWS reports for the manifests, in AWS's own way: every default filled in.
fn observed(ms: &[Manifest]) -> Observed {
    let mut o = Observed::default();
    o.target_groups.insert(
        "web".into(),
        TargetGroupState {
            arn: TG_ARN.into(),
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
            load_balancer_arns: vec![
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/edge/1"
                    .into(),
            ],
            tags: owned("TargetGroup/web"),
            deregistration_delay_seconds: Some(300),
        },
    );
    // The task definition as DescribeTaskDefinition returns it: defaults filled in.
    let ecsd_model::Spec::Service(spec) = &ms[1].spec else {
        panic!("a Service")
    };
    let mut td = desired_task_definition("web", spec);
    let c = &mut td.containers[0];
    c.cpu = Some(0);
    c.readonly_root_filesystem = Some(false);
    if let Some(hc) = c.health_check.as_mut() {
        hc.interval_seconds = Some(30);
        hc.timeout_seconds = Some(5);
        hc.retries = Some(3);
    }
    o.task_definitions.insert(
        TD_ARN.into(),
        TaskDefinitionState {
            arn: TD_ARN.into(),
            family: "web".into(),
            revision: 3,
            definition: td,
            unmodeled: Vec::new(),
        },
    );
    let id = ServiceId::new("prod", "web");
    o.services.insert(
        id.clone(),
        ServiceState {
            arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
            id,
            status: ServiceStatus::Active,
            desired_count: 5,
            running_count: 5,
            pending_count: 0,
            task_definition_arn: TD_ARN.into(),
            network: AwsVpc {
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                security_groups: vec!["sg-1".into()],
                assign_public_ip: false,
            },
            load_balancers: vec![ServiceLoadBalancer {
                target_group_arn: TG_ARN.into(),
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
            tags: owned("Service/web"),
        },
    );
    let rid = "service/prod/web".to_owned();
    o.scalable_targets.insert(
        rid.clone(),
        ScalableTargetState {
            resource_id: rid.clone(),
            arn: "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/1".into(),
            min_capacity: 2,
            max_capacity: 10,
            created_at: None,
        },
    );
    o.scaling_policies.insert(
        rid.clone(),
        vec![ScalingPolicyState {
            resource_id: rid,
            name: "ecsd-web-cpu".into(),
            metric_type: "ECSServiceAverageCPUUtilization".into(),
            target: 60.0,
            scale_in_cooldown_seconds: Some(300),
            scale_out_cooldown_seconds: Some(300),
            disable_scale_in: Some(false),
        }],
    );
    o
}

fn only_marker_ops(p: &ecsd_plan::Plan) -> bool {
    p.errors.is_empty()
        && p.changes.iter().all(|c| {
            c.diff.is_empty()
                && c.ops
                    .iter()
                    .all(|op| matches!(op, ecsd_plan::Op::MarkTaskDefinition { .. }))
        })
}

#[test]
fn aws_representations_and_defaults_are_not_changes() {
    // (cluster as written in the manifest, what it is about)
    let table = [
        ("prod", "cluster by name"),
        (
            "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
            "cluster by ARN",
        ),
    ];
    for (cluster, case) in table {
        let ms = manifests(cluster);
        let p = plan(&ms, &observed(&ms), &PlanOptions::default());
        // Reordered subnets, env order, cpu 0, filled-in health check and cooldowns,
        // 60 vs 60.0, an autoscaled count of 5: all the same thing.
        assert!(only_marker_ops(&p), "{case}: {p:#?}");
    }
}

#[test]
fn the_task_definition_tag_spares_describing_and_marks_nothing() {
    let ms = manifests("prod");
    let mut o = observed(&ms);
    o.task_definitions.clear();
    let ecsd_model::Spec::Service(spec) = &ms[1].spec else {
        panic!("a Service")
    };
    let hash = ecsd_plan::canonical::task_definition_hash(&desired_task_definition("web", spec));
    if let Some(svc) = o.services.values_mut().next() {
        svc.tags.insert(
            ecsd_plan::ownership::TASK_DEFINITION_TAG.into(),
            ecsd_plan::ownership::task_definition_marker(TD_ARN, &hash),
        );
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn real_changes_are_reported_at_exactly_their_paths() {
    // (edit of the observed state, the path the plan must report)
    type Edit = fn(&mut Observed);
    let table: [(Edit, &str); 5] = [
        (
            |o| {
                o.task_definitions
                    .values_mut()
                    .for_each(|t| t.definition.containers[0].image = "web:0".into())
            },
            "taskDefinition.containers[0].image",
        ),
        (
            |o| {
                o.task_definitions.values_mut().for_each(|t| {
                    t.definition.containers[0].environment =
                        BTreeMap::from([("A".into(), "2".into())]);
                })
            },
            "taskDefinition.containers[0].environment.Z",
        ),
        (
            |o| {
                o.services
                    .values_mut()
                    .for_each(|s| s.network.subnets.pop().map(drop).unwrap_or_default())
            },
            "network.subnets",
        ),
        (
            |o| {
                o.target_groups
                    .values_mut()
                    .for_each(|t| t.health_check.path = Some("/".into()))
            },
            "healthCheck.path",
        ),
        (
            |o| {
                o.scalable_targets
                    .values_mut()
                    .for_each(|t| t.max_capacity = 4)
            },
            "maxCapacity",
        ),
    ];
    for (edit, path) in table {
        let ms = manifests("prod");
        let mut o = observed(&ms);
        edit(&mut o);
        let p = plan(&ms, &o, &PlanOptions::default());
        let paths: Vec<&str> = p
            .changes
            .iter()
            .flat_map(|c| c.diff.iter().map(|d| d.path.as_str()))
            .collect();
        assert_eq!(paths, vec![path], "{p:#?}");
    }
}

#[test]
fn without_a_scaling_policy_the_desired_count_is_enforced() {
    let ms: Vec<Manifest> = manifests("prod").into_iter().take(2).collect();
    let p = plan(&ms, &observed(&manifests("prod")), &PlanOptions::default());
    let paths: Vec<&str> = p
        .changes
        .iter()
        .flat_map(|c| c.diff.iter().map(|d| d.path.as_str()))
        .collect();
    assert_eq!(paths, vec!["desiredCount"], "{p:#?}");
}
