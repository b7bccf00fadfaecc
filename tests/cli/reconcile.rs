//! `ecsd plan` and `ecsd apply` through the built binary against the AWS emulator.
//! State is checked with boto3 (tests/fixtures/emulator.py), independently of ecsd's own
//! code. Every test works on its own load balancer, cluster and names, so tests can
//! share one emulator and run in parallel.

use ecsd_tests::env::{Env, diff_paths, tag_map};
use ecsd_tests::{aws, unique_name};
use serde_json::json;

/// A fresh emulator environment for the binary under test.
fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

#[test]
fn apply_from_empty_creates_everything_owned_and_a_second_apply_changes_nothing() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    assert_eq!(plan["changes"].as_array().map(Vec::len), Some(3), "{plan}");
    env.apply_ok();

    let tg = env.target_group(&n).expect("target group created");
    assert_eq!(tg["HealthCheckPath"], "/healthz");
    assert_eq!(tg["HealthCheckIntervalSeconds"], 15);
    assert_eq!(tg["Matcher"]["HttpCode"], "200-299");
    let arn = tg["TargetGroupArn"].as_str().unwrap_or_default().to_owned();
    let tags = env.elb_tags(&arn);
    assert_eq!(tags["ecsd:owner"], "ecsd");
    assert_eq!(tags["ecsd:manifest"], format!("TargetGroup/{n}"));
    assert_eq!(tags["team"], "storefront");
    let attrs = aws(
        "elbv2",
        "describe_target_group_attributes",
        &json!({"TargetGroupArn": arn}),
    );
    let delay = tag_map(&attrs["Attributes"], "Key", "Value");
    assert_eq!(delay["deregistration_delay.timeout_seconds"], "30");

    let rule = env.rule("listener", 10);
    assert_eq!(rule["Actions"][0]["TargetGroupArn"], arn.as_str());
    assert_eq!(
        rule["Conditions"][0]["PathPatternConfig"]["Values"][0],
        format!("/{n}/*")
    );
    assert_eq!(
        env.elb_tags(rule["RuleArn"].as_str().unwrap_or_default())["ecsd:owner"],
        "ecsd"
    );

    let svc = env.service(&n);
    assert_eq!(svc["status"], "ACTIVE");
    assert_eq!(svc["desiredCount"], 2);
    assert_eq!(svc["loadBalancers"][0]["targetGroupArn"], arn.as_str());
    assert_eq!(
        svc["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"],
        true
    );
    assert_eq!(svc["healthCheckGracePeriodSeconds"], 60);
    let svc_tags = tag_map(&svc["tags"], "key", "value");
    assert_eq!(svc_tags["ecsd:owner"], "ecsd");
    assert_eq!(svc_tags["ecsd:manifest"], format!("Service/{n}"));
    let td = aws(
        "ecs",
        "describe_task_definition",
        &json!({"taskDefinition": svc["taskDefinition"], "include": ["TAGS"]}),
    );
    assert_eq!(
        td["taskDefinition"]["containerDefinitions"][0]["image"],
        "web:1"
    );
    assert_eq!(
        td["taskDefinition"]["requiresCompatibilities"][0],
        "FARGATE"
    );
    assert_eq!(tag_map(&td["tags"], "key", "value")["ecsd:owner"], "ecsd");

    let targets = aws(
        "application-autoscaling",
        "describe_scalable_targets",
        &json!({"ServiceNamespace": "ecs", "ResourceIds": [env.resource_id(&n)]}),
    );
    assert_eq!(targets["ScalableTargets"][0]["MinCapacity"], 2);
    assert_eq!(targets["ScalableTargets"][0]["MaxCapacity"], 10);
    let policies = env.policies(&n);
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0]["PolicyName"], format!("ecsd-{n}-cpu"));
    assert_eq!(
        policies[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        60.0
    );

    let again = env.apply_ok();
    let (total, mutating) = again.calls();
    assert_eq!(
        mutating, 0,
        "a second apply must not change anything:\n{}",
        again.stderr
    );
    assert!(total > 0);
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["changes"], json!([]));
}

#[test]
fn an_image_change_is_planned_at_its_path_and_applied_as_exactly_one_new_revision() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1.4.1", 2, false, 10));
    env.apply_ok();
    env.write("stack.yaml", &env.stack(&n, "web:1.4.2", 2, false, 10));
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1, "{plan}");
    assert_eq!(changes[0]["kind"], "Service");
    assert_eq!(changes[0]["action"], "update");
    assert_eq!(
        changes[0]["diff"],
        json!([{"path": "taskDefinition.containers[0].image", "from": "web:1.4.1", "to": "web:1.4.2"}])
    );
    env.apply_ok();
    let family = aws("ecs", "list_task_definitions", &json!({"familyPrefix": n}));
    let revisions = family["taskDefinitionArns"].as_array().map(Vec::len);
    assert_eq!(revisions, Some(2), "exactly one new revision: {family}");
    let svc = env.service(&n);
    assert!(
        svc["taskDefinition"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("{n}:2")),
        "{svc}"
    );
    assert_eq!(env.plan_json().0, 0);
}

#[test]
fn drift_made_outside_ecsd_is_shown_and_corrected_but_an_autoscaled_count_is_left_alone() {
    let env = fresh();
    let plain = unique_name("p");
    let scaled = unique_name("s");
    env.write("plain.yaml", &env.stack(&plain, "web:1", 2, false, 10));
    env.write("scaled.yaml", &env.stack(&scaled, "web:1", 2, true, 11));
    env.apply_ok();

    aws(
        "ecs",
        "update_service",
        &json!({"cluster": env.cluster, "service": plain, "desiredCount": 5}),
    );
    let tg = env.target_group(&plain).expect("tg");
    aws(
        "elbv2",
        "modify_target_group",
        &json!({"TargetGroupArn": tg["TargetGroupArn"], "HealthCheckPath": "/other"}),
    );
    let rid = env.resource_id(&scaled);
    aws(
        "application-autoscaling",
        "put_scaling_policy",
        &json!({
            "PolicyName": format!("ecsd-{scaled}-cpu"), "ServiceNamespace": "ecs", "ResourceId": rid,
            "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 75.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
        }),
    );
    // Inside [min, max] of the ScalingPolicy: the autoscaler's business.
    aws(
        "ecs",
        "update_service",
        &json!({"cluster": env.cluster, "service": scaled, "desiredCount": 7}),
    );

    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    assert_eq!(
        diff_paths(&plan),
        vec![
            "desiredCount",
            "healthCheck.path",
            "targetTracking[0].target"
        ],
        "{plan}"
    );
    env.apply_ok();
    assert_eq!(env.service(&plain)["desiredCount"], 2);
    assert_eq!(
        env.target_group(&plain).expect("tg")["HealthCheckPath"],
        "/healthz"
    );
    assert_eq!(
        env.policies(&scaled)[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        60.0
    );
    assert_eq!(
        env.service(&scaled)["desiredCount"],
        7,
        "the autoscaled count is left alone"
    );
    assert_eq!(env.plan_json().0, 0);
}

#[test]
fn unowned_resources_with_the_same_names_are_never_modified() {
    let env = fresh();
    let n = env.name.clone();
    aws(
        "elbv2",
        "create_target_group",
        &json!({"Name": n, "Protocol": "HTTP", "Port": 8080, "VpcId": env.id("vpc"), "TargetType": "ip", "HealthCheckPath": "/theirs"}),
    );
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("--adopt"), "{}", run.stdout);
    let tg = env.target_group(&n).expect("still there");
    assert_eq!(tg["HealthCheckPath"], "/theirs");
    assert_eq!(tg["Port"], 8080);
    assert_eq!(
        env.elb_tags(tg["TargetGroupArn"].as_str().unwrap_or_default()),
        json!({})
    );
    let services = aws("ecs", "list_services", &json!({"cluster": env.cluster}));
    assert_eq!(
        services["serviceArns"],
        json!([]),
        "nothing is wired to a target group ecsd does not own"
    );
    assert_eq!(run.calls().1, 0, "no mutating call at all:\n{}", run.stderr);
}

#[test]
fn prune_deletes_only_owned_orphans_and_an_empty_source_deletes_nothing() {
    let mut env = fresh();
    env.owner = unique_name("owner");
    let keep = unique_name("k");
    let gone = unique_name("g");
    env.write("keep.yaml", &env.stack(&keep, "web:1", 2, true, 20));
    env.write("gone.yaml", &env.stack(&gone, "web:1", 2, true, 21));
    env.apply_ok();
    let foreign = unique_name("f");
    aws(
        "elbv2",
        "create_target_group",
        &json!({"Name": foreign, "Protocol": "HTTP", "Port": 80, "VpcId": env.id("vpc"), "TargetType": "ip"}),
    );

    std::fs::remove_file(env.dir.join("gone.yaml")).expect("remove");
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "without --prune nothing is deleted: {plan}");
    let run = env.ecsd(&["apply", "--prune"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        env.target_group(&gone).is_none(),
        "owned orphan target group deleted"
    );
    assert_ne!(
        env.service(&gone)["status"],
        "ACTIVE",
        "owned orphan service deleted"
    );
    assert!(env.policies(&gone).is_empty(), "its scaling policy deleted");
    assert!(env.target_group(&keep).is_some());
    assert_eq!(env.service(&keep)["status"], "ACTIVE");
    assert!(
        env.target_group(&foreign).is_some(),
        "unowned resources are never pruned"
    );

    std::fs::remove_file(env.dir.join("keep.yaml")).expect("remove");
    let run = env.ecsd(&["apply", "--prune"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("no manifests found"), "{}", run.stderr);
    assert!(
        env.target_group(&keep).is_some(),
        "an empty source deletes nothing"
    );
    assert_eq!(env.service(&keep)["status"], "ACTIVE");
}

#[test]
fn an_aws_error_is_reported_per_object_with_its_code_and_the_others_are_applied() {
    let env = fresh();
    let good = unique_name("ok");
    let bad = unique_name("bad");
    env.write(
        "tgs.yaml",
        &format!(
            "apiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: {good}}}\nspec: {{vpcId: {}, port: 80}}\n---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: {bad}}}\nspec: {{vpcId: vpc-0doesnotexist, port: 80}}\n",
            env.id("vpc")
        ),
    );
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "error: TargetGroup/{bad}: creating target group {bad}: "
            ))
        })
        .unwrap_or_else(|| panic!("no per-object error line:\n{}", run.stderr));
    assert!(line.contains("CreateTargetGroup failed: "), "{line}");
    assert!(
        run.stdout.contains(&format!("TargetGroup/{good}: created")),
        "{}",
        run.stdout
    );
    assert!(env.target_group(&good).is_some());
    assert!(env.target_group(&bad).is_none());
}

#[test]
fn apply_wait_fails_when_the_deployment_does_not_settle_in_time() {
    // The emulator never completes deployments: --wait must end in a failure, not hang
    // and not report success.
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 1, false, 10));
    let run = env.ecsd(&[
        "apply",
        "--wait",
        "--wait-timeout",
        "2s",
        "--wait-interval",
        "1s",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("Service/{n}: created")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!(
            "error: Service/{n} ({}): the deployment did not complete within 2s",
            env.cluster
        )),
        "{}",
        run.stderr
    );
}

fn blue_green_stack(env: &Env, name: &str, image: &str) -> String {
    env.blue_green_stack(name, image)
}

#[test]
fn blue_green_creates_the_codedeploy_setup_and_one_deployment_per_change() {
    let env = fresh();
    let n = env.name.clone();
    env.write("bg.yaml", &blue_green_stack(&env, &n, "web:1"));
    env.apply_ok();
    let app = format!("ecsd-{}-{n}", env.cluster);
    assert_eq!(
        aws(
            "codedeploy",
            "get_application",
            &json!({"applicationName": app})
        )["application"]["computePlatform"],
        "ECS"
    );
    let group = aws(
        "codedeploy",
        "get_deployment_group",
        &json!({"applicationName": app, "deploymentGroupName": n}),
    );
    let info = &group["deploymentGroupInfo"];
    let pair = &info["loadBalancerInfo"]["targetGroupPairInfoList"][0];
    assert_eq!(
        pair["targetGroups"],
        json!([{"name": format!("{n}-b")}, {"name": format!("{n}-g")}])
    );
    assert_eq!(
        pair["prodTrafficRoute"]["listenerArns"][0],
        env.id("listener").as_str()
    );
    assert_eq!(
        pair["testTrafficRoute"]["listenerArns"][0],
        env.id("test_listener").as_str()
    );
    assert_eq!(
        info["deploymentConfigName"],
        "CodeDeployDefault.ECSCanary10Percent5Minutes"
    );
    assert_eq!(info["ecsServices"][0]["serviceName"], n.as_str());
    assert_eq!(
        env.service(&n)["deploymentController"]["type"],
        "CODE_DEPLOY"
    );
    assert_eq!(env.plan_json().0, 0, "the setup is stable");

    env.write("bg.yaml", &blue_green_stack(&env, &n, "web:2"));
    let run = env.apply_ok();
    assert!(
        !run.stderr.contains("ECS.UpdateService"),
        "never UpdateService for a blue/green rollout:\n{}",
        run.stderr
    );
    let list = |statuses: &[&str]| {
        aws("codedeploy", "list_deployments", &json!({"applicationName": app, "deploymentGroupName": n, "includeOnlyStatuses": statuses}))["deployments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let deployments = list(&["Created", "Queued", "InProgress", "Ready"]);
    assert_eq!(deployments.len(), 1, "exactly one deployment per change");
    let dep = aws(
        "codedeploy",
        "get_deployment",
        &json!({"deploymentId": deployments[0]}),
    );
    let appspec: serde_json::Value = serde_json::from_str(
        dep["deploymentInfo"]["revision"]["appSpecContent"]["content"]
            .as_str()
            .unwrap_or_default(),
    )
    .expect("AppSpec JSON");
    let props = &appspec["Resources"][0]["TargetService"]["Properties"];
    let revision = props["TaskDefinition"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        revision.ends_with(&format!("{n}:2")),
        "the AppSpec names the new revision: {revision}"
    );
    assert_eq!(
        props["LoadBalancerInfo"],
        json!({"ContainerName": "app", "ContainerPort": 5001})
    );
    assert_eq!(
        appspec["Hooks"],
        json!([{"AfterAllowTestTraffic": "web-smoke-test"}])
    );
    let td = aws(
        "ecs",
        "describe_task_definition",
        &json!({"taskDefinition": revision}),
    );
    assert_eq!(
        td["taskDefinition"]["containerDefinitions"][0]["image"],
        "web:2"
    );
    assert!(
        env.service(&n)["taskDefinition"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("{n}:1")),
        "CodeDeploy, not ecsd, moves the service"
    );

    let again = env.apply_ok();
    assert_eq!(
        again.calls().1,
        0,
        "a second apply while the deployment is in flight changes nothing"
    );
    assert_eq!(list(&["Created", "Queued", "InProgress", "Ready"]).len(), 1);
}

#[test]
fn switching_strategy_is_refused_without_recreate_and_done_with_it() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    env.apply_ok();
    assert_eq!(env.service(&n)["deploymentController"]["type"], "ECS");

    std::fs::remove_file(env.dir.join("stack.yaml")).expect("remove");
    env.write("bg.yaml", &blue_green_stack(&env, &n, "web:1"));
    let plan = env.ecsd(&["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("switching between rolling and blueGreen needs a new service")
            && plan.stdout.contains("--recreate"),
        "{}",
        plan.stdout
    );
    let refused = env.ecsd(&["apply"]);
    assert_eq!(refused.code, 1);
    assert_eq!(
        env.service(&n)["deploymentController"]["type"],
        "ECS",
        "nothing replaced without --recreate"
    );

    let run = env.ecsd(&["apply", "--recreate"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("replaces the service"),
        "{}",
        run.stdout
    );
    assert_eq!(run.count("DeleteService"), 1, "{}", run.output());
    assert_eq!(
        run.count("CreateService"),
        1,
        "created once the old service finished draining: {}",
        run.output()
    );
    assert_eq!(
        env.service(&n)["deploymentController"]["type"],
        "CODE_DEPLOY"
    );
    assert_eq!(env.plan_json().0, 0);
}
