//! `ecsd apply --adopt` through the built binary against the AWS emulator: what another
//! tool made is taken over with nothing changed but ownership.

use ecsd_tests::env::Env;
use ecsd_tests::foreign::{foreign_stack, foreign_target_group};
use ecsd_tests::{aws, unique_name};
use serde_json::json;

/// A fresh emulator environment for the binary under test.
fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

#[test]
fn adopt_takes_over_a_target_group_and_the_listener_rule_that_forwards_to_it() {
    let env = fresh();
    let n = env.name.clone();
    // Made by another tool: a target group and its rule at the manifest's priority.
    let (_, rule) = foreign_target_group(&env, &n);
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let refused = env.ecsd(&["apply"]);
    assert_eq!(refused.code, 1, "{}", refused.output());

    let run = env.ecsd(&["apply", "--adopt"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(
        run.stdout.contains("adopts the existing listener rule"),
        "{}",
        run.stdout
    );
    let rules = env.rules("listener");
    let at_10: Vec<&serde_json::Value> = rules.iter().filter(|r| r["Priority"] == "10").collect();
    assert_eq!(at_10.len(), 1, "{rules:#?}");
    assert_eq!(
        at_10[0]["RuleArn"],
        rule.as_str(),
        "the same rule, not a new one"
    );
    assert_eq!(
        env.elb_tags(&rule)["ecsd:owner"],
        "ecsd",
        "the rule is ecsd's now"
    );
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}");
}

#[test]
fn adopting_a_service_takes_over_its_scaling_policies_under_their_own_names() {
    let mut env = fresh();
    // Its own owner, so that prune sees only this test's objects.
    env.owner = unique_name("owner");
    let n = env.name.clone();
    foreign_stack(&env, &n, "their-cpu");
    let rid = env.resource_id(&n);
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let run = env.ecsd(&["apply", "--adopt"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(
        run.stdout
            .contains("adopts the target-tracking policy \"their-cpu\": it keeps its name"),
        "{}",
        run.stdout
    );
    // Same target (60) as the manifest: nothing is put or deleted, only recorded.
    assert_eq!(run.count("PutScalingPolicy"), 0, "{}", run.output());
    assert_eq!(run.count("DeleteScalingPolicy"), 0, "{}", run.output());
    let names = |env: &Env| -> Vec<String> {
        env.policies(&n)
            .iter()
            .filter_map(|p| p["PolicyName"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names(&env), vec!["their-cpu".to_owned()]);
    let tags = env.ecs_tags(env.service(&n)["serviceArn"].as_str().unwrap_or_default());
    let marker = tags["ecsd:scaling-labels"].as_str().unwrap_or_default();
    assert!(marker.ends_with(" their-cpu"), "{tags}");
    let target = aws(
        "application-autoscaling",
        "describe_scalable_targets",
        &json!({"ServiceNamespace": "ecs", "ResourceIds": [rid]}),
    );
    let arn = target["ScalableTargets"][0]["ScalableTargetARN"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tags = aws(
        "application-autoscaling",
        "list_tags_for_resource",
        &json!({"ResourceARN": arn}),
    );
    assert_eq!(tags["Tags"]["ecsd:owner"], env.owner.as_str(), "{tags}");
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}");

    // The adopted policy is ecsd's now: a new target is put under its name ...
    env.write(
        "stack.yaml",
        &env.stack(&n, "web:1", 2, true, 10)
            .replace("target: 60", "target: 45"),
    );
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(run.count("PutScalingPolicy"), 1, "{}", run.output());
    assert_eq!(names(&env), vec!["their-cpu".to_owned()]);
    assert_eq!(
        env.policies(&n)[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        45.0
    );
    // ... and it goes when the ScalingPolicy does, with its record.
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let run = env.ecsd(&["apply", "--prune"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(names(&env).is_empty(), "{:?}", names(&env));
    let tags = env.ecs_tags(env.service(&n)["serviceArn"].as_str().unwrap_or_default());
    assert!(
        !tags["ecsd:scaling-labels"]
            .as_str()
            .unwrap_or_default()
            .contains("their-cpu"),
        "{tags}"
    );
}

#[test]
fn a_policy_name_no_tag_can_hold_is_adopted_by_putting_it_again_under_ecsd_s_name() {
    let env = fresh();
    let n = env.name.clone();
    foreign_stack(&env, &n, "their cpu (v2)");
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let run = env.ecsd(&["apply", "--adopt"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert!(
        run.stdout.contains("its name cannot be recorded in a tag"),
        "{}",
        run.stdout
    );
    let names: Vec<String> = env
        .policies(&n)
        .iter()
        .filter_map(|p| p["PolicyName"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        names,
        vec![format!("ecsd-{n}-cpu")],
        "one CPU policy, ecsd's"
    );
    let again = env.ecsd(&["apply"]);
    assert_eq!(again.code, 0, "{}", again.output());
    assert_eq!(again.count("PutScalingPolicy"), 0, "{}", again.output());
    assert_eq!(again.count("DeleteScalingPolicy"), 0);
}
