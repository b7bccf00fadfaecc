//! One observe → plan → apply pass against the in-memory AWS fake: what users of
//! `ecsd plan` and `ecsd apply` rely on, without the emulator's limits (time passes,
//! deployments complete, scaling has tags-free ownership).

use std::time::Duration;

use ecsd_aws::fake::FakeAws;
use ecsd_model::{Manifest, SourceFile, parse_source};
use ecsd_plan::state::{CodeDeployStatus, RolloutState, ServiceId};
use ecsd_plan::{Action, Plan, PlanOptions, plan};
use ecsd_runtime::{
    ApplyOptions, Clients, ObjectOutcome, RolledOut, StartedDeployment, WaitOutcome, apply,
    observe, wait_for_services,
};

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2";

fn stack(image: &str, desired: u32, with_policy: bool) -> String {
    let mut text = format!(
        r#"
apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: web, labels: {{team: storefront}}}}
spec:
  vpcId: vpc-0abc1234
  port: 5001
  healthCheck: {{path: /healthz, intervalSeconds: 15, matcher: "200-299"}}
  deregistrationDelaySeconds: 30
  listenerRule: {{listenerArn: {LISTENER}, priority: 10, pathPatterns: ["/api/*"]}}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: web}}
spec:
  cluster: prod
  desiredCount: {desired}
  network: {{subnets: [subnet-0a1b2c3d], securityGroups: [sg-0abc1234]}}
  taskDefinition:
    cpu: 512
    memory: 1024
    containers:
      - name: app
        image: {image}
        portMappings: [{{containerPort: 5001}}]
        environment: {{LOG_LEVEL: info, A: b}}
  loadBalancers: [{{targetGroup: web, containerName: app, containerPort: 5001}}]
  healthCheckGracePeriodSeconds: 60
  deployment: {{minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: {{enable: true, rollback: true}}}}
"#
    );
    if with_policy {
        text.push_str(
            r#"---
apiVersion: ecsd/v1
kind: ScalingPolicy
metadata: {name: web}
spec:
  service: web
  minCapacity: 2
  maxCapacity: 10
  targetTracking: [{metric: cpu, target: 60, scaleInCooldownSeconds: 300}]
  scheduled: [{name: business-hours, schedule: "cron(0 8 ? * MON-FRI *)", timezone: Europe/Berlin, minCapacity: 4}]
"#,
        );
    }
    text
}

fn manifests(text: &str) -> Vec<Manifest> {
    let source = parse_source(&[SourceFile {
        name: "m.yaml".into(),
        bytes: text.as_bytes().to_vec(),
    }]);
    assert!(source.is_valid(), "{:?}", source.diagnostics);
    source.documents.into_iter().map(|d| d.manifest).collect()
}

fn clients(aws: &FakeAws) -> Clients<FakeAws, FakeAws, FakeAws, FakeAws, FakeAws> {
    Clients::all(aws)
}

async fn plan_for(
    aws: &FakeAws,
    ms: &[Manifest],
    opts: &PlanOptions,
) -> (Plan, ecsd_plan::Observed) {
    let observed = observe(ms, &clients(aws), opts.prune)
        .await
        .expect("observe");
    (plan(ms, &observed, opts), observed)
}

async fn converge(aws: &FakeAws, ms: &[Manifest], opts: &PlanOptions) -> Plan {
    let (p, observed) = plan_for(aws, ms, opts).await;
    let report = apply(&p, &observed, &clients(aws), ApplyOptions::default()).await;
    assert!(report.succeeded(), "{report:?}");
    p
}

fn web() -> ServiceId {
    ServiceId::new("prod", "web")
}

fn account() -> FakeAws {
    FakeAws::with(&["prod"], &[LISTENER])
}

#[tokio::test]
async fn from_empty_apply_creates_everything_tagged_and_a_second_pass_changes_nothing() {
    let aws = account();
    let ms = manifests(&stack("web:1", 2, true));
    let opts = PlanOptions::default();
    let first = converge(&aws, &ms, &opts).await;
    assert_eq!(first.changes.len(), 3);
    assert!(first.changes.iter().all(|c| c.action == Action::Create));
    aws.edit(|s| {
        let tg = &s.target_groups["web"];
        assert_eq!(tg.tags.get("ecsd:owner").map(String::as_str), Some("ecsd"));
        assert_eq!(
            tg.tags.get("ecsd:manifest").map(String::as_str),
            Some("TargetGroup/web")
        );
        assert_eq!(tg.tags.get("team").map(String::as_str), Some("storefront"));
        assert_eq!(tg.health_check.path.as_deref(), Some("/healthz"));
        assert_eq!(s.deregistration_delays.get(&tg.arn), Some(&30));
        let rule = &s.rules[LISTENER][0];
        assert!(rule.forwards_only_to(&tg.arn));
        let svc = &s.services[&web()];
        assert_eq!(svc.tags.get("ecsd:owner").map(String::as_str), Some("ecsd"));
        assert_eq!(svc.load_balancers[0].target_group_arn, tg.arn);
        assert_eq!(svc.desired_count, 2);
        assert_eq!(s.scaling.targets["service/prod/web"].max_capacity, 10);
        let target = &s.scaling.targets["service/prod/web"];
        let target_tags = &s.scaling_tags[&target.arn];
        assert_eq!(
            target_tags.get("ecsd:owner").map(String::as_str),
            Some("ecsd")
        );
        assert_eq!(
            target_tags.get("ecsd:manifest").map(String::as_str),
            Some("ScalingPolicy/web")
        );
        assert_eq!(
            s.scaling.policies["service/prod/web"][0].name,
            "ecsd-web-cpu"
        );
        assert_eq!(
            s.scaling.actions["service/prod/web"][0].name,
            "ecsd-web-business-hours"
        );
    });

    aws.clear_calls();
    let second = converge(&aws, &ms, &opts).await;
    assert!(second.is_empty(), "{second:#?}");
    assert_eq!(aws.mutating_calls(), Vec::<String>::new());
    let calls = aws.calls();
    assert!(
        !calls.iter().any(|c| c == "ECS.DescribeTaskDefinition"),
        "the tag vouches for it: {calls:?}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c == "ELBv2.DescribeTargetGroupAttributes"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn an_image_change_registers_exactly_one_revision_and_points_the_service_at_it() {
    let aws = account();
    let opts = PlanOptions::default();
    converge(&aws, &manifests(&stack("web:1", 2, false)), &opts).await;
    let ms = manifests(&stack("web:2", 2, false));
    let (p, _) = plan_for(&aws, &ms, &opts).await;
    assert_eq!(p.changes.len(), 1, "{p:#?}");
    let diff: Vec<&str> = p.changes[0].diff.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(diff, vec!["taskDefinition.containers[0].image"]);
    aws.clear_calls();
    converge(&aws, &ms, &opts).await;
    let registers = aws.count("ECS.RegisterTaskDefinition");
    assert_eq!(registers, 1);
    aws.edit(|s| {
        let svc = &s.services[&web()];
        assert!(
            svc.task_definition_arn.ends_with("task-definition/web:2"),
            "{}",
            svc.task_definition_arn
        );
    });
    let (again, _) = plan_for(&aws, &ms, &opts).await;
    assert!(again.is_empty(), "{again:#?}");
}

#[tokio::test]
async fn drift_is_shown_and_corrected_but_an_autoscaled_count_in_range_is_left_alone() {
    let aws = account();
    let opts = PlanOptions::default();
    let plain = manifests(&stack("web:1", 2, false));
    converge(&aws, &plain, &opts).await;
    aws.edit(|s| {
        s.services
            .values_mut()
            .for_each(|svc| svc.desired_count = 7);
        s.target_groups
            .values_mut()
            .for_each(|t| t.health_check.path = Some("/other".into()));
    });
    let (p, _) = plan_for(&aws, &plain, &opts).await;
    let mut paths: Vec<String> = p
        .changes
        .iter()
        .flat_map(|c| c.diff.iter().map(|d| d.path.clone()))
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["desiredCount", "healthCheck.path"]);
    converge(&aws, &plain, &opts).await;
    aws.edit(|s| {
        assert_eq!(s.services.values().next().map(|x| x.desired_count), Some(2));
        assert_eq!(
            s.target_groups["web"].health_check.path.as_deref(),
            Some("/healthz")
        );
    });

    let scaled = manifests(&stack("web:1", 2, true));
    converge(&aws, &scaled, &opts).await;
    aws.edit(|s| {
        s.services
            .values_mut()
            .for_each(|svc| svc.desired_count = 7)
    });
    let (p, _) = plan_for(&aws, &scaled, &opts).await;
    assert!(p.is_empty(), "the autoscaler owns the count: {p:#?}");
    aws.edit(|s| {
        s.scaling
            .policies
            .values_mut()
            .flatten()
            .for_each(|x| x.target = 75.0)
    });
    let (p, _) = plan_for(&aws, &scaled, &opts).await;
    let paths: Vec<&str> = p
        .changes
        .iter()
        .flat_map(|c| c.diff.iter().map(|d| d.path.as_str()))
        .collect();
    assert_eq!(paths, vec!["targetTracking[0].target"]);
}

#[tokio::test]
async fn unowned_resources_with_the_same_names_are_reported_and_never_touched() {
    let aws = account();
    let opts = PlanOptions::default();
    let ms = manifests(&stack("web:1", 2, false));
    converge(&aws, &ms, &opts).await;
    aws.edit(|s| {
        s.target_groups.values_mut().for_each(|t| t.tags.clear());
        s.services.values_mut().for_each(|x| x.tags.clear());
    });
    aws.clear_calls();
    let (p, observed) = plan_for(&aws, &ms, &opts).await;
    assert_eq!(p.errors.len(), 2, "{p:#?}");
    assert!(
        p.errors.iter().all(|e| e.message.contains("--adopt")),
        "{p:#?}"
    );
    let report = apply(&p, &observed, &clients(&aws), ApplyOptions::default()).await;
    assert!(report.outcomes.is_empty());
    assert_eq!(aws.mutating_calls(), Vec::<String>::new());

    let adopt = PlanOptions {
        adopt: true,
        ..PlanOptions::default()
    };
    converge(&aws, &ms, &adopt).await;
    let (p, _) = plan_for(&aws, &ms, &opts).await;
    assert!(p.is_empty(), "adopted objects are owned now: {p:#?}");
}

#[tokio::test]
async fn prune_deletes_only_owned_orphans_behind_the_safety_valve() {
    let aws = account();
    let opts = PlanOptions::default();
    let full = manifests(&stack("web:1", 2, true));
    converge(&aws, &full, &opts).await;
    // A second, unowned target group that no manifest names.
    aws.edit(|s| {
        let mut foreign = s.target_groups["web"].clone();
        foreign.name = "theirs".into();
        foreign.arn = foreign.arn.replace("/web/", "/theirs/");
        foreign.tags.clear();
        s.target_groups.insert("theirs".into(), foreign);
    });
    // Dropping the ScalingPolicy: without --prune nothing is deleted.
    let without_policy = manifests(&stack("web:1", 2, false));
    let (p, _) = plan_for(&aws, &without_policy, &opts).await;
    assert!(p.is_empty(), "{p:#?}");
    let prune = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    let (p, _) = plan_for(&aws, &without_policy, &prune).await;
    assert_eq!(p.changes.len(), 1, "{p:#?}");
    assert_eq!(p.changes[0].action, Action::Delete);
    assert_eq!(p.changes[0].key.to_string(), "ScalingPolicy/web");
    converge(&aws, &without_policy, &prune).await;
    aws.edit(|s| {
        assert!(s.scaling.targets.is_empty());
        assert!(
            s.target_groups.contains_key("theirs"),
            "unowned resources are never pruned"
        );
    });

    // Everything but the target group gone: 1 of 2 owned is allowed by the half rule...
    let tg_only: Vec<Manifest> = without_policy
        .iter()
        .filter(|m| m.kind() == ecsd_model::Kind::TargetGroup)
        .cloned()
        .collect();
    let (p, _) = plan_for(
        &aws,
        &tg_only,
        &PlanOptions {
            max_prune: 0,
            ..prune.clone()
        },
    )
    .await;
    assert!(
        p.changes.is_empty() && p.errors.len() == 1,
        "--max-prune 0 refuses: {p:#?}"
    );
    assert!(
        p.errors[0].message.contains("refusing to prune 1 of 2"),
        "{p:#?}"
    );
    // ...while a source that would delete more than half deletes nothing.
    let svc_only: Vec<Manifest> = Vec::new();
    let (p, _) = plan_for(&aws, &svc_only, &prune).await;
    assert!(p.changes.is_empty(), "{p:#?}");
    assert!(
        p.errors[0].message.contains("refusing to prune 2 of 2"),
        "{p:#?}"
    );
}

#[tokio::test]
async fn one_failing_object_does_not_stop_the_others_and_its_dependents_are_skipped() {
    for concurrency in [1, 8] {
        one_failure(concurrency).await;
    }
}

async fn one_failure(concurrency: usize) {
    let aws = account();
    aws.fail("ELBv2.CreateTargetGroup", "AccessDenied");
    let text = format!(
        "{}---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: other}}\nspec: {{vpcId: vpc-1, port: 80}}\n",
        stack("web:1", 2, true)
    );
    let ms = manifests(&text);
    let (p, observed) = plan_for(&aws, &ms, &PlanOptions::default()).await;
    aws.edit(|s| s.failures.clear());
    aws.fail("ELBv2.CreateRule", "PriorityInUse");
    let opts = ApplyOptions {
        concurrency,
        ..ApplyOptions::default()
    };
    let report = apply(&p, &observed, &clients(&aws), opts).await;
    let outcome = |name: &str, kind: &str| {
        report
            .outcomes
            .iter()
            .find(|(k, _)| k.name == name && k.kind.as_str() == kind)
            .map(|(_, o)| o.clone())
            .expect("outcome")
    };
    assert!(
        matches!(outcome("web", "TargetGroup"), ObjectOutcome::Failed { error, .. } if error.code() == Some("PriorityInUse"))
    );
    assert_eq!(
        outcome("other", "TargetGroup"),
        ObjectOutcome::Done(Action::Create)
    );
    assert!(matches!(
        outcome("web", "Service"),
        ObjectOutcome::Skipped { .. }
    ));
    assert!(matches!(
        outcome("web", "ScalingPolicy"),
        ObjectOutcome::Skipped { .. }
    ));
    assert!(!report.succeeded());
}

#[tokio::test(start_paused = true)]
async fn wait_reports_completion_failure_rollback_and_timeout() {
    let aws = account();
    let ms = manifests(&stack("web:1", 2, false));
    converge(&aws, &ms, &PlanOptions::default()).await;
    let td = aws.edit(|s| s.services[&web()].task_definition_arn.clone());
    let target = vec![RolledOut {
        service: web(),
        task_definition_arn: td.clone(),
    }];
    let wait = |t: u64| {
        wait_for_services(
            &aws,
            &target,
            Duration::from_secs(5),
            Duration::from_secs(t),
            &|_| {},
        )
    };

    // 12 s is not a multiple of the 5 s interval: the last look is at the deadline.
    let started = tokio::time::Instant::now();
    let outcome = wait(12).await;
    assert!(
        matches!(outcome[0].1, WaitOutcome::TimedOut(_)),
        "{outcome:?}"
    );
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(12),
        "waits the whole timeout, no less"
    );

    aws.edit(|s| {
        s.services
            .values_mut()
            .for_each(|x| x.deployments[0].rollout_state = Some(RolloutState::Completed))
    });
    assert_eq!(wait(60).await[0].1, WaitOutcome::Completed);

    aws.edit(|s| {
        s.services.values_mut().for_each(|x| {
            x.deployments[0].rollout_state = Some(RolloutState::Failed);
            x.deployments[0].rollout_state_reason = Some("tasks failed to start".into());
        })
    });
    assert!(
        matches!(&wait(60).await[0].1, WaitOutcome::Failed(m) if m.contains("tasks failed to start"))
    );

    aws.edit(|s| {
        s.services.values_mut().for_each(|x| {
            x.deployments[0].rollout_state = Some(RolloutState::Completed);
            x.deployments[0].task_definition_arn =
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:0".into();
        })
    });
    assert!(
        matches!(&wait(60).await[0].1, WaitOutcome::RolledBack(m) if m.contains("circuit breaker"))
    );
}

#[tokio::test(start_paused = true)]
async fn wait_follows_codedeploy_deployments_to_their_end() {
    use ecsd_aws::CodeDeployApi as _;
    use ecsd_plan::state::DeploymentGroupState;
    use ecsd_runtime::wait_for_code_deployments;
    let aws = account();
    for group in ["web", "api"] {
        let g = DeploymentGroupState {
            application: "app".into(),
            name: group.into(),
            service_role_arn: String::new(),
            deployment_config: String::new(),
            service: ServiceId::new("prod", group),
            target_groups: vec![],
            prod_listener_arns: vec![],
            test_listener_arns: vec![],
            terminate_blue_after_minutes: 5,
            auto_rollback: true,
            alarms: vec![],
        };
        aws.create_deployment_group(&g, &Default::default())
            .await
            .expect("group");
    }
    let ok = aws
        .create_deployment("app", "web", r#"{"Resources":[]}"#)
        .await
        .expect("create");
    let bad = aws
        .create_deployment("app", "api", r#"{"Resources":[]}"#)
        .await
        .expect("create");
    let targets = vec![
        StartedDeployment {
            service: ServiceId::new("prod", "web"),
            deployment_id: ok.clone(),
        },
        StartedDeployment {
            service: ServiceId::new("prod", "api"),
            deployment_id: bad.clone(),
        },
    ];
    let wait = |t: u64| {
        wait_for_code_deployments(
            &aws,
            &targets,
            Duration::from_secs(5),
            Duration::from_secs(t),
            &|_| {},
        )
    };
    assert!(
        wait(12)
            .await
            .iter()
            .all(|(_, o)| matches!(o, WaitOutcome::TimedOut(_)))
    );
    aws.finish_code_deployment(&ok, CodeDeployStatus::Succeeded, None);
    aws.finish_code_deployment(
        &bad,
        CodeDeployStatus::Failed,
        Some("alarm api-5xx went off; rolled back"),
    );
    let outcome = wait(60).await;
    assert!(
        outcome.contains(&(ServiceId::new("prod", "web"), WaitOutcome::Completed)),
        "{outcome:?}"
    );
    assert!(
        outcome.iter().any(|(s, o)| s.name == "api"
            && matches!(o, WaitOutcome::Failed(m) if m.contains("api-5xx"))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_service_in_a_missing_cluster_is_a_plan_error_and_the_rest_is_planned() {
    // DescribeServices for that cluster answers ClusterNotFoundException, as AWS does;
    // it is read at the same time as the cluster lookup, which says it is missing.
    let aws = FakeAws::with(&["other"], &[LISTENER]);
    let ms = manifests(&stack("web:1", 2, false));
    let (p, observed) = plan_for(&aws, &ms, &PlanOptions::default()).await;
    assert!(observed.missing_clusters.contains("prod"), "{observed:?}");
    assert!(
        p.errors
            .iter()
            .any(|e| e.kind == ecsd_plan::PlanErrorKind::MissingCluster
                && e.key
                    .as_ref()
                    .is_some_and(|k| k.to_string() == "Service/web")),
        "{p:#?}"
    );
    assert!(
        p.changes
            .iter()
            .any(|c| c.key.to_string() == "TargetGroup/web" && c.action == Action::Create),
        "{p:#?}"
    );
}

/// A deleted service that AWS has already purged (DescribeServices answers
/// ServiceNotFoundException, docs/aws-behaviours.md `draining`) is gone: the wait for
/// it to stop DRAINING ends, and the service is created again.
#[tokio::test(start_paused = true)]
async fn a_deleted_service_that_aws_purged_is_created_again_without_an_error() {
    let aws = account();
    let ms = manifests(&stack("web:1", 2, false));
    converge(&aws, &ms, &PlanOptions::default()).await;
    aws.edit(|s| {
        if let Some(svc) = s.services.get_mut(&web()) {
            svc.status = ecsd_plan::state::ServiceStatus::Draining;
        }
    });
    let (p, observed) = plan_for(&aws, &ms, &PlanOptions::default()).await;
    aws.edit(|s| {
        s.services.remove(&web());
        s.draining_until.remove(&web());
    });
    aws.fail("ECS.DescribeServices", "ServiceNotFoundException");
    aws.clear_calls();
    let report = apply(&p, &observed, &clients(&aws), ApplyOptions::default()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(aws.count("ECS.CreateService"), 1, "{:?}", aws.calls());
}
