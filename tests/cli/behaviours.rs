//! The AWS behaviours ecsd relies on that the plain emulator lacks (docs/aws-behaviours.md),
//! through the binary against the emulator layer (tests/fixtures/aws_layer.py), which
//! models them. Each test fails when ecsd's handling of its behaviour is removed.

use std::time::Duration;

use ecsd_tests::env::{Env, diff_paths, tag_map};
use ecsd_tests::{aws, layer, unique_name};
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// A TargetGroup and a Service (no ScalingPolicy) called `name`.
fn plain(env: &Env, name: &str, image: &str, priority: u32) -> String {
    env.stack(name, image, 2, false, priority)
}

/// `draining`: a pruned service drains before AWS lets its name be used again.
#[test]
fn a_pruned_service_added_back_waits_for_the_drain_and_is_never_deleted_again() {
    let mut env = fresh();
    // Its own owner, so that prune sees only this test's objects.
    env.owner = unique_name("owner");
    let keep = unique_name("k");
    let back = unique_name("b");
    env.write("keep.yaml", &plain(&env, &keep, "web:1", 20));
    env.write("back.yaml", &plain(&env, &back, "web:1", 21));
    env.converge();
    std::fs::remove_file(env.dir.join("back.yaml")).expect("remove");
    let pruned = env.ecsd(&["apply", "--prune"]);
    assert_eq!(pruned.code, 0, "{}", pruned.output());
    assert_eq!(env.service(&back)["status"], "DRAINING");

    env.write("back.yaml", &plain(&env, &back, "web:1", 21));
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan["errors"].as_array().is_some_and(Vec::is_empty),
        "{plan}"
    );
    let note = plan["changes"].to_string();
    assert!(
        note.contains("still DRAINING"),
        "the plan says why it waits: {plan}"
    );
    let run = env.ecsd(&["apply", "--wait-interval", "1s"]);
    assert_eq!(
        run.code,
        0,
        "apply waits for the drain and succeeds:\n{}",
        run.output()
    );
    assert_eq!(run.count("DeleteService"), 0, "never deleted again");
    assert_eq!(run.count("CreateService"), 1);
    assert_eq!(env.service(&back)["status"], "ACTIVE");
    env.converge();
}

/// `codedeploy-traffic`: CodeDeploy rewrites the listener rules of a blue/green pair;
/// that is not drift, and ecsd changes only their conditions.
#[test]
fn rules_codedeploy_shifted_are_not_drift_and_condition_edits_keep_its_forward() {
    let env = fresh();
    let n = env.name.clone();
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:1"));
    env.converge();
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:2"));
    env.apply_ok();
    let rule = |listener: &str| env.rule(listener, 1);
    let green = env.target_group(&format!("{n}-g")).expect("green")["TargetGroupArn"].clone();
    let weight_of_green = |r: &Value| -> Value {
        r["Actions"][0]["ForwardConfig"]["TargetGroups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["TargetGroupArn"] == green)
            .map(|t| t["Weight"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        weight_of_green(&rule("listener")),
        100,
        "CodeDeploy shifted production traffic"
    );
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "a shifted rule is not drift: {plan}");

    let edited = env.blue_green_stack(&n, "web:2").replacen(
        "pathPatterns: [\"/*\"]",
        "pathPatterns: [\"/v2/*\"]",
        1,
    );
    env.write("bg.yaml", &edited);
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    assert_eq!(
        diff_paths(&plan),
        vec!["listenerRule.pathPatterns"],
        "{plan}"
    );
    env.apply_ok();
    let prod = rule("listener");
    assert_eq!(
        prod["Conditions"][0]["PathPatternConfig"]["Values"][0], "/v2/*",
        "{prod}"
    );
    assert_eq!(
        weight_of_green(&prod),
        100,
        "the condition edit kept CodeDeploy's weighted forward: {prod}"
    );
}

/// `service-deployments`: a circuit-breaker rollback is found from ListServiceDeployments
/// even after the failed deployment left DescribeServices' `deployments`.
#[test]
fn a_rolled_back_revision_is_not_deployed_again_until_asked() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &plain(&env, &n, "web:1", 10));
    env.converge();
    env.write("stack.yaml", &plain(&env, &n, "web:2", 10));
    env.apply_ok();
    layer(
        "ecs/rollback",
        &json!({"cluster": env.cluster, "service": n, "reason": "ECS deployment circuit breaker: tasks failed to start"}),
    );
    assert!(
        env.service(&n)["taskDefinition"]
            .as_str()
            .is_some_and(|t| t.ends_with(&format!("{n}:1"))),
        "ECS runs the old revision again"
    );
    assert_eq!(
        env.service(&n)["deployments"].as_array().map(Vec::len),
        Some(1),
        "and the failed deployment has left the array"
    );

    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    let held = plan["held"].to_string();
    assert!(held.contains("circuit breaker"), "{plan}");
    let (_, service) = env.service_status();
    assert_eq!(service["health"], "Degraded", "{service}");

    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 1, "not converged: {}", run.output());
    assert!(run.stderr.contains("not deployed"), "{}", run.stderr);
    assert_eq!(run.count("UpdateService"), 0, "{}", run.output());
    assert_eq!(run.count("RegisterTaskDefinition"), 0);

    // AWS keeps a service's deployment history 90 days: the hold outlives it.
    layer(
        "ecs/forget-deployments",
        &json!({"cluster": env.cluster, "service": n}),
    );
    for _ in 0..2 {
        let run = env.ecsd(&["apply"]);
        assert_eq!(run.code, 1, "still held: {}", run.output());
        assert!(run.stderr.contains("not deployed"), "{}", run.stderr);
        assert_eq!(run.count("UpdateService"), 0, "{}", run.output());
        assert_eq!(run.count("RegisterTaskDefinition"), 0);
        assert_eq!(run.calls().1, 0, "nothing written: {}", run.output());
    }
    let (_, service) = env.service_status();
    assert_eq!(service["health"], "Degraded", "{service}");

    let retry = env.ecsd(&["apply", "--retry-rolled-back"]);
    assert_eq!(retry.code, 0, "{}", retry.output());
    assert_eq!(retry.count("UpdateService"), 1);
    assert_eq!(
        retry.count("RegisterTaskDefinition"),
        0,
        "the rolled-back revision is reused"
    );
}

/// `code-deploy-service`: a new CODE_DEPLOY service reports its PRIMARY task set, not
/// deployments; `apply --wait` follows it.
#[test]
fn apply_wait_follows_a_new_blue_green_service_to_a_steady_task_set() {
    let env = fresh();
    let n = env.name.clone();
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:1"));
    let run = env.ecsd(&[
        "apply",
        "--wait",
        "--wait-timeout",
        "30s",
        "--wait-interval",
        "1s",
    ]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(
        run.stdout.contains(&format!(
            "Service/{n} ({}): deployment completed",
            env.cluster
        )),
        "{}",
        run.stdout
    );
    let svc = env.service(&n);
    assert_eq!(svc["deployments"], json!([]), "{svc}");
    assert_eq!(svc["taskSets"][0]["stabilityStatus"], "STEADY_STATE");
}

/// `code-deploy-service`: AWS refuses a circuit breaker for a CODE_DEPLOY service, so a
/// deployment setting changes without one.
#[test]
fn a_blue_green_service_s_deployment_settings_change_without_a_circuit_breaker() {
    let env = fresh();
    let n = env.name.clone();
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:1"));
    env.converge();
    let changed = env.blue_green_stack(&n, "web:1").replace(
        "    strategy: blueGreen\n",
        "    strategy: blueGreen\n    minimumHealthyPercent: 50\n",
    );
    env.write("bg.yaml", &changed);
    let run = env.apply_ok();
    assert_eq!(run.count("UpdateService"), 1);
    let dc = env.service(&n)["deploymentConfiguration"].clone();
    assert_eq!(dc["minimumHealthyPercent"], 50, "{dc}");
    env.converge();
}

/// `codedeploy-traffic`: the newest deployment comes from lastAttemptedDeployment, not
/// from the order ListDeployments returns (oldest first in the emulator).
#[test]
fn the_newest_codedeploy_deployment_decides_the_health() {
    let env = fresh();
    let n = env.name.clone();
    let app = format!("ecsd-{}-{n}", env.cluster);
    let newest = || -> String {
        let group = aws(
            "codedeploy",
            "get_deployment_group",
            &json!({"applicationName": app, "deploymentGroupName": n}),
        );
        group["deploymentGroupInfo"]["lastAttemptedDeployment"]["deploymentId"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:1"));
    env.converge();
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:2"));
    env.apply_ok();
    layer(
        "codedeploy/finish",
        &json!({"deploymentId": newest(), "status": "Failed", "error": "alarm went off"}),
    );
    env.write("bg.yaml", &env.blue_green_stack(&n, "web:3"));
    env.apply_ok();
    layer(
        "codedeploy/finish",
        &json!({"deploymentId": newest(), "status": "Succeeded"}),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let (status, service) = env.service_status();
    assert_eq!(
        service["health"], "Healthy",
        "the failed deployment is not the newest: {service}"
    );
    assert_eq!(
        status.count("ListDeployments"),
        0,
        "no paging through the history"
    );
}

/// `lb-association`: CreateService fails for a target group no load balancer uses, so
/// the plan refuses the Service (naming the fix) and applies everything else.
#[test]
fn a_service_behind_a_target_group_without_a_listener_rule_is_refused_and_the_rest_applies() {
    let env = fresh();
    let n = env.name.clone();
    let lonely = plain(&env, &n, "web:1", 10).replace(
        &format!(
            "  listenerRule: {{listenerArn: \"{}\", priority: 10, pathPatterns: [\"/{n}/*\"]}}\n",
            env.id("listener")
        ),
        "",
    );
    let other = unique_name("o");
    env.write("lonely.yaml", &lonely);
    env.write(
        "other.yaml",
        &format!(
            "apiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: {other}}}\nspec: {{vpcId: {}, port: 80}}\n",
            env.id("vpc")
        ),
    );
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(run.stdout.contains("listenerRule"), "{}", run.stdout);
    assert_eq!(
        run.count("CreateService"),
        0,
        "ECS is not asked: {}",
        run.output()
    );
    assert!(
        env.target_group(&other).is_some(),
        "other objects still apply"
    );
    assert!(env.target_group(&n).is_some());
}

/// Labels are tags on every resource made for the object, kept in sync both ways.
#[test]
fn labels_follow_the_manifest_on_the_service_its_revision_and_its_scalable_target() {
    let env = fresh();
    let n = env.name.clone();
    let with_labels = |service: &str, policy: &str| {
        env.stack(&n, "web:1", 2, true, 10)
            .replace(
                &format!("kind: Service\nmetadata: {{name: {n}}}"),
                &format!("kind: Service\nmetadata: {{name: {n}{service}}}"),
            )
            .replace(
                &format!("kind: ScalingPolicy\nmetadata: {{name: {n}}}"),
                &format!("kind: ScalingPolicy\nmetadata: {{name: {n}{policy}}}"),
            )
    };
    let target_tags = || -> Value {
        let targets = aws(
            "application-autoscaling",
            "describe_scalable_targets",
            &json!({"ServiceNamespace": "ecs", "ResourceIds": [env.resource_id(&n)]}),
        );
        let arn = targets["ScalableTargets"][0]["ScalableTargetARN"].clone();
        aws(
            "application-autoscaling",
            "list_tags_for_resource",
            &json!({"ResourceARN": arn}),
        )["Tags"]
            .clone()
    };
    let service_tags = || tag_map(&env.service(&n)["tags"], "key", "value");
    let revision_tags = || tag_map(&env.task_definition(&n)["tags"], "key", "value");

    env.write(
        "stack.yaml",
        &with_labels(", labels: {team: a}", ", labels: {team: b}"),
    );
    env.converge();
    assert_eq!(service_tags()["team"], "a");
    assert_eq!(revision_tags()["team"], "a");
    assert_eq!(target_tags()["team"], "b");

    env.write(
        "stack.yaml",
        &with_labels(", labels: {team: x, tier: web}", ", labels: {team: y}"),
    );
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    let paths = diff_paths(&plan);
    assert!(
        paths.contains(&"metadata.labels.tier".to_owned()),
        "{paths:?}"
    );
    env.converge();
    assert_eq!(service_tags()["team"], "x");
    assert_eq!(service_tags()["tier"], "web");
    assert_eq!(revision_tags()["team"], "x", "the running revision follows");
    assert_eq!(target_tags()["team"], "y");

    env.write("stack.yaml", &with_labels("", ""));
    env.converge();
    for tags in [service_tags(), revision_tags(), target_tags()] {
        assert_eq!(tags.get("team"), None, "{tags}");
        assert_eq!(tags.get("tier"), None, "{tags}");
        assert_eq!(tags.get("ecsd:labels"), None, "{tags}");
    }
    assert_eq!(service_tags()["ecsd:owner"], "ecsd");
}

/// Labels of a blue/green Service reach its CodeDeploy application and deployment group.
#[test]
fn blue_green_labels_reach_the_codedeploy_application_and_group() {
    let env = fresh();
    let n = env.name.clone();
    let app = format!("ecsd-{}-{n}", env.cluster);
    let labelled = |labels: &str| {
        env.blue_green_stack(&n, "web:1").replace(
            &format!("kind: Service\nmetadata: {{name: {n}}}"),
            &format!("kind: Service\nmetadata: {{name: {n}{labels}}}"),
        )
    };
    let tags_of = |arn: String| -> Value {
        let out = aws(
            "codedeploy",
            "list_tags_for_resource",
            &json!({"ResourceArn": arn}),
        );
        tag_map(&out["Tags"], "Key", "Value")
    };
    let arn = |what: &str| format!("arn:aws:codedeploy:us-east-1:123456789012:{what}");
    env.write("bg.yaml", &labelled(", labels: {team: a}"));
    env.converge();
    assert_eq!(tags_of(arn(&format!("application:{app}")))["team"], "a");
    assert_eq!(
        tags_of(arn(&format!("deploymentgroup:{app}/{n}")))["team"],
        "a"
    );
    env.write("bg.yaml", &labelled(", labels: {team: b}"));
    env.converge();
    assert_eq!(tags_of(arn(&format!("application:{app}")))["team"], "b");
    assert_eq!(
        tags_of(arn(&format!("deploymentgroup:{app}/{n}")))["team"],
        "b"
    );
    env.write("bg.yaml", &labelled(""));
    env.converge();
    assert_eq!(
        tags_of(arn(&format!("application:{app}"))).get("team"),
        None
    );
    assert_eq!(
        tags_of(arn(&format!("deploymentgroup:{app}/{n}"))).get("team"),
        None
    );
}

/// `deployment-settings`: deployment alarms, the circuit breaker's threshold and early
/// success criteria reach ECS as the manifest says; set by someone else they are drift
/// that is corrected, and deleted from the manifest they are removed from ECS.
#[test]
fn deployment_alarms_threshold_and_early_success_reach_ecs_and_deletions_remove_them() {
    let env = fresh();
    let n = env.name.clone();
    let plain_text = plain(&env, &n, "web:1", 12);
    let with = plain_text.replace(
        "circuitBreaker: {enable: true, rollback: true}}",
        &format!(
            "circuitBreaker: {{enable: true, rollback: true, thresholdConfiguration: {{type: count, value: 4}}}}, alarms: {{alarmNames: [{n}-5xx], rollback: true}}, earlySuccessCriteria: {{healthyPercent: 100, sourceServiceRevisionCleanup: deferred}}}}"
        ),
    );
    assert_ne!(with, plain_text, "the stack's deployment line changed");
    env.write("stack.yaml", &with);
    env.converge();
    let dc = env.service(&n)["deploymentConfiguration"].clone();
    assert_eq!(
        dc["alarms"],
        json!({"alarmNames": [format!("{n}-5xx")], "enable": true, "rollback": true}),
        "{dc}"
    );
    assert_eq!(
        dc["deploymentCircuitBreaker"]["thresholdConfiguration"],
        json!({"type": "COUNT", "value": 4}),
        "{dc}"
    );
    assert_eq!(
        dc["earlySuccessCriteria"],
        json!({"enable": true, "healthyPercent": 100, "sourceServiceRevisionCleanup": "DEFERRED"}),
        "{dc}"
    );

    // Deleted from the manifest: removed from ECS, and then nothing is left to change.
    env.write("stack.yaml", &plain_text);
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    let paths = diff_paths(&plan);
    for field in [
        "deployment.alarms",
        "deployment.circuitBreaker.thresholdConfiguration",
        "deployment.earlySuccessCriteria",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(field)),
            "{field} in {paths:?}"
        );
    }
    env.converge();
    let dc = env.service(&n)["deploymentConfiguration"].clone();
    assert_eq!(
        dc["alarms"],
        json!({"alarmNames": [], "enable": false, "rollback": false}),
        "{dc}"
    );
    assert_eq!(
        dc["deploymentCircuitBreaker"]["thresholdConfiguration"],
        json!({"type": "BOUNDED_PERCENT", "value": 50}),
        "{dc}"
    );
    assert_eq!(dc["earlySuccessCriteria"]["enable"], false, "{dc}");

    // Alarms someone else sets are drift: shown and removed.
    let mut drifted = dc.clone();
    drifted["alarms"] = json!({"alarmNames": ["theirs"], "enable": true, "rollback": false});
    aws(
        "ecs",
        "update_service",
        &json!({"cluster": env.cluster, "service": n, "deploymentConfiguration": drifted}),
    );
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "{plan}");
    assert!(
        diff_paths(&plan)
            .iter()
            .any(|p| p.starts_with("deployment.alarms")),
        "{plan}"
    );
    env.converge();
    assert_eq!(
        env.service(&n)["deploymentConfiguration"]["alarms"]["alarmNames"],
        json!([])
    );
}

/// `service-deployments`: ListServiceDeployments is read to its last page (the layer's
/// pages hold two, as AWS may answer short pages): the newest of three rollbacks, on the
/// second page, is the one that holds the manifest's revision back.
#[test]
fn the_newest_of_several_rollbacks_is_found_on_a_later_page_and_holds() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &plain(&env, &n, "web:1", 14));
    env.converge();
    for image in ["web:2", "web:3", "web:4"] {
        env.write("stack.yaml", &plain(&env, &n, image, 14));
        env.apply_ok();
        layer(
            "ecs/rollback",
            &json!({"cluster": env.cluster, "service": n, "reason": format!("circuit breaker: {image} failed")}),
        );
    }
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 1, "held: {}", run.output());
    assert_eq!(run.count("UpdateService"), 0, "{}", run.output());
    assert_eq!(run.count("RegisterTaskDefinition"), 0, "{}", run.output());
    assert!(
        run.stderr.contains("web:4 failed"),
        "the newest rollback's reason: {}",
        run.output()
    );
    assert!(
        run.count("ListServiceDeployments") >= 2,
        "more than one page read: {}",
        run.output()
    );
}
