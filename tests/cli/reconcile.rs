//! `ecsd plan` and `ecsd apply` through the built binary against the AWS emulator.
//! State is checked with boto3 (tests/fixtures/emulator.py), independently of ecsd's own
//! code. Every test works on its own load balancer, cluster and names, so tests can
//! share one emulator and run in parallel.

use ecsd_tests::env::{Env, PAUSE_AFTER_TEST_TRAFFIC, diff_paths, forward_weights, tag_map};
use ecsd_tests::{aws, layer, unique_name};
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

    env.set_desired_count(&plain, 5);
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
    env.set_desired_count(&scaled, 7);

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
            .contains("AWS has no in-place path for this switch")
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

#[test]
fn native_strategies_are_created_and_switched_in_place_and_every_setting_reaches_ecs() {
    let env = fresh();
    let n = env.name.clone();
    let canary = format!(
        "{PAUSE_AFTER_TEST_TRAFFIC}    canary: {{canaryPercent: 10, canaryBakeTimeMinutes: 3}}\n"
    );
    env.write("nb.yaml", &env.native_stack(&n, "web:1", "canary", &canary));
    env.converge();
    let svc = env.service(&n);
    let dc = &svc["deploymentConfiguration"];
    assert_eq!(dc["strategy"], "CANARY", "{dc}");
    assert_eq!(dc["bakeTimeInMinutes"], 5);
    assert_eq!(
        dc["canaryConfiguration"],
        json!({"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3})
    );
    assert_eq!(
        dc["lifecycleHooks"],
        json!([{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}])
    );
    // ECS shifts the production and test rules: both forward to both target groups.
    // The first deployment waits at its pause after the test traffic shift: production
    // all on the service's own group, test traffic on the alternate (native-traffic).
    let prod = env.rule("listener", 1);
    let test = env.rule("test_listener", 1);
    let advanced = &svc["loadBalancers"][0]["advancedConfiguration"];
    assert_eq!(
        advanced["productionListenerRule"], prod["RuleArn"],
        "{advanced}"
    );
    assert_eq!(advanced["testListenerRule"], test["RuleArn"]);
    assert_eq!(
        advanced["roleArn"],
        "arn:aws:iam::123456789012:role/ecs-infrastructure-elb"
    );
    let blue = env.target_group(&format!("{n}-b")).expect("blue");
    let green = env.target_group(&format!("{n}-g")).expect("green");
    assert_eq!(advanced["alternateTargetGroupArn"], green["TargetGroupArn"]);
    let arn = |tg: &serde_json::Value| tg["TargetGroupArn"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        forward_weights(&prod),
        vec![(arn(&blue), 100), (arn(&green), 0)],
        "{prod}"
    );
    assert_eq!(
        forward_weights(&test),
        vec![(arn(&blue), 0), (arn(&green), 100)],
        "{test}"
    );

    // To linear, in place: one UpdateService, no new service.
    let linear = format!(
        "{PAUSE_AFTER_TEST_TRAFFIC}    linear: {{stepPercent: 20, stepBakeTimeMinutes: 2}}\n"
    );
    env.write("nb.yaml", &env.native_stack(&n, "web:1", "linear", &linear));
    let run = env.converge();
    assert_eq!(run.count("UpdateService"), 1, "{}", run.output());
    assert_eq!(run.count("CreateService") + run.count("DeleteService"), 0);
    let dc = env.service(&n)["deploymentConfiguration"].clone();
    assert_eq!(dc["strategy"], "LINEAR");
    assert_eq!(
        dc["linearConfiguration"],
        json!({"stepPercent": 20.0, "stepBakeTimeInMinutes": 2})
    );

    // Deleting the hooks is a change like adding them.
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:1", "ecsBlueGreen", ""),
    );
    env.converge();
    let dc = env.service(&n)["deploymentConfiguration"].clone();
    assert_eq!(dc["strategy"], "BLUE_GREEN");
    assert_eq!(dc["lifecycleHooks"], json!([]), "{dc}");

    // Back to rolling, in place: the advanced configuration goes too.
    let rolling = env
        .native_stack(&n, "web:1", "rolling", "")
        .replace("    bakeTimeMinutes: 5\n", "")
        .replace(
            &format!("    traffic:\n      alternateTargetGroup: {n}-g\n      productionListenerRule: {n}-b\n      testListenerRule: {n}-g\n      roleArn: arn:aws:iam::123456789012:role/ecs-infrastructure-elb\n"),
            "",
        );
    env.write("nb.yaml", &rolling);
    let run = env.converge();
    assert_eq!(run.count("CreateService") + run.count("DeleteService"), 0);
    let svc = env.service(&n);
    assert_eq!(svc["deploymentConfiguration"]["strategy"], "ROLLING");
    assert!(
        svc["loadBalancers"][0]["advancedConfiguration"].is_null(),
        "{svc}"
    );
}

#[test]
fn a_paused_deployment_is_approved_by_a_commit_exactly_once() {
    let env = fresh();
    let n = env.name.clone();
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:1", "ecsBlueGreen", PAUSE_AFTER_TEST_TRAFFIC),
    );
    env.converge();
    env.complete_deployment(&n);

    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:2", "ecsBlueGreen", PAUSE_AFTER_TEST_TRAFFIC),
    );
    // apply --wait follows the deployment it started, and does not sit out the pause:
    // only an approval moves it on.
    let run = env.ecsd(&["apply", "--wait", "--wait-timeout", "60"]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(run.stderr.contains("awaiting approval"), "{}", run.output());
    assert_eq!(run.count("UpdateService"), 1, "one deployment per change");
    let (_, status) = env.service_status();
    let waiting = status["awaitingApproval"].clone();
    assert_eq!(waiting["stage"], "POST_TEST_TRAFFIC_SHIFT", "{status}");
    assert_eq!(waiting["timeoutAction"], "ROLLBACK");
    assert_eq!(status["health"], "Progressing");
    let id = waiting["deployment"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("awaiting approval: deployment {id}")),
        "{status}"
    );
    // An approval of another deployment is reported and ignored.
    env.write(
        "nb.yaml",
        &env.native_stack(
            &n,
            "web:2",
            "ecsBlueGreen",
            &format!("{PAUSE_AFTER_TEST_TRAFFIC}    approve: Sd0notthisone\n"),
        ),
    );
    let run = env.apply_ok();
    assert_eq!(run.count("ContinueServiceDeployment"), 0);
    let (_, status) = env.service_status();
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("stale"),
        "{status}"
    );

    // The approval: one ContinueServiceDeployment, and none on later applies.
    let approved = format!("{PAUSE_AFTER_TEST_TRAFFIC}    approve: {id}\n");
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:2", "ecsBlueGreen", &approved),
    );
    let run = env.apply_ok();
    assert_eq!(
        run.count("ContinueServiceDeployment"),
        1,
        "{}",
        run.output()
    );
    let arn = waiting["deploymentArn"].clone();
    let described = aws(
        "ecs",
        "describe_service_deployments",
        &json!({"serviceDeploymentArns": [arn]}),
    );
    let d = &described["serviceDeployments"][0];
    assert_eq!(d["lifecycleStage"], "BAKE_TIME", "{d}");
    assert_eq!(d["lifecycleHookDetails"][0]["status"], "SUCCEEDED");
    let again = env.apply_ok();
    assert_eq!(again.count("ContinueServiceDeployment"), 0, "exactly once");
    assert_eq!(again.calls().1, 0, "{}", again.output());

    env.complete_deployment(&n);
    let (_, status) = env.service_status();
    assert_eq!(status["health"], "Healthy", "{status}");
    assert!(status["awaitingApproval"].is_null());
}

#[test]
fn a_rollback_commit_rolls_the_paused_deployment_back_and_it_is_not_pushed_again() {
    let env = fresh();
    let n = env.name.clone();
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:1", "linear", PAUSE_AFTER_TEST_TRAFFIC),
    );
    env.converge();
    env.complete_deployment(&n);
    let first = env.service(&n)["taskDefinition"].clone();
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:2", "linear", PAUSE_AFTER_TEST_TRAFFIC),
    );
    env.apply_ok();
    let (_, status) = env.service_status();
    let hook = status["awaitingApproval"]["hook"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    env.write(
        "nb.yaml",
        &env.native_stack(
            &n,
            "web:2",
            "linear",
            &format!("{PAUSE_AFTER_TEST_TRAFFIC}    rollback: {hook}\n"),
        ),
    );
    let run = env.apply_ok();
    assert_eq!(
        run.count("ContinueServiceDeployment"),
        1,
        "{}",
        run.output()
    );
    assert_eq!(env.service(&n)["taskDefinition"], first, "ECS rolled back");
    let again = env.ecsd(&["apply"]);
    assert_eq!(again.count("UpdateService"), 0, "{}", again.output());
    assert_eq!(again.count("RegisterTaskDefinition"), 0);
    let (_, status) = env.service_status();
    assert_eq!(status["health"], "Degraded", "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ContinueServiceDeployment"),
        "{status}"
    );
}

/// Completes the newest deployment of `service` in a second, as ECS would once its
/// tasks are up, while the caller waits for it.
fn complete_soon(cluster: &str, service: &str) -> std::thread::JoinHandle<()> {
    let body = json!({"cluster": cluster, "service": service});
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        layer("ecs/complete", &body);
    })
}

#[test]
fn apply_wait_shows_live_progress_in_place_on_a_terminal_and_json_lines_otherwise() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    env.apply_ok();
    env.complete_deployment(&n);

    // Off a terminal: one JSON line per change of state.
    env.write("stack.yaml", &env.stack(&n, "web:2", 2, false, 10));
    let done = complete_soon(&env.cluster, &n);
    let run = env.ecsd(&["apply", "--wait", "--wait-interval", "1s"]);
    done.join().expect("completed");
    assert_eq!(run.code, 0, "{}", run.output());
    let states: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["service"] == n.as_str())
        .collect();
    let names: Vec<&str> = states.iter().filter_map(|v| v["state"].as_str()).collect();
    assert_eq!(names, vec!["IN_PROGRESS", "completed"], "{}", run.stdout);
    assert_eq!(states[1]["done"], true);
    assert_eq!(states[1]["runningCount"], 2);
    assert_eq!(states[1]["desiredCount"], 2);

    // On a terminal (a pseudo-terminal from `script`): one line, redrawn in place.
    env.write("stack.yaml", &env.stack(&n, "web:3", 2, false, 10));
    let done = complete_soon(&env.cluster, &n);
    let command = format!(
        "{} apply --wait --wait-interval 1s --source {} --owner {} --log-format json",
        env.bin.display(),
        env.dir.display(),
        env.owner
    );
    let out = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .output()
        .expect("run script");
    done.join().expect("completed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let who = format!("Service/{n} ({}): 2/2 tasks, ", env.cluster);
    assert!(text.contains(&format!("{who}IN_PROGRESS, ")), "{text:?}");
    assert!(text.contains(&format!("{who}completed, ")), "{text:?}");
    assert!(
        text.contains("\u{1b}[1A\r\u{1b}[2K"),
        "the line is redrawn in place: {text:?}"
    );
    assert!(
        !text.contains("\"state\":"),
        "no JSON lines on a terminal: {text:?}"
    );
}
