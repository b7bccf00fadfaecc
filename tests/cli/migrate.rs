//! Moving an EC2 Auto Scaling group behind an ALB to Fargate with ecsd, through the
//! built binary against the emulator: the classic stack is made with boto3 (no ecsd),
//! and traffic moves to the Fargate service by weight, one commit at a time, without
//! ecsd ever touching the Auto Scaling group, its target group or its rule.

use ecsd_tests::aws;
use ecsd_tests::env::Env;
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// What another tool made for the EC2 fleet `n`.
struct Fleet {
    /// The instance target group the Auto Scaling group registers into.
    target_group: String,
    /// Its rule on the test's listener (priority 50, `/n/*`).
    rule: String,
}

/// The classic EC2 stack, made with boto3: a launch template, an Auto Scaling group
/// (min 2, max 10) in the test's subnets behind an instance target group with a
/// health check, the rule forwarding `/n/*` to it, and CPU target tracking at 65%.
fn ec2_fleet(env: &Env, n: &str) -> Fleet {
    let target_group = aws(
        "elbv2",
        "create_target_group",
        &json!({"Name": format!("{n}-asg"), "Protocol": "HTTP", "Port": 5001, "VpcId": env.id("vpc"), "TargetType": "instance",
                "HealthCheckPath": "/healthz", "HealthCheckIntervalSeconds": 15, "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 3, "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200-299"}}),
    )["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rule = aws(
        "elbv2",
        "create_rule",
        &json!({"ListenerArn": env.id("listener"), "Priority": 50,
                "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": [format!("/{n}/*")]}}],
                "Actions": [{"Type": "forward", "TargetGroupArn": target_group}]}),
    )["Rules"][0]["RuleArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    aws(
        "ec2",
        "create_launch_template",
        &json!({"LaunchTemplateName": n, "LaunchTemplateData": {"ImageId": "ami-12c6146b", "InstanceType": "t3.medium",
                "SecurityGroupIds": [env.id("security_group")]}}),
    );
    aws(
        "autoscaling",
        "create_auto_scaling_group",
        &json!({"AutoScalingGroupName": n, "LaunchTemplate": {"LaunchTemplateName": n, "Version": "$Latest"},
                "MinSize": 2, "MaxSize": 10, "DesiredCapacity": 2,
                "VPCZoneIdentifier": format!("{},{}", env.id("subnet0"), env.id("subnet1")),
                "TargetGroupARNs": [target_group],
                "Tags": [{"Key": "team", "Value": "storefront", "PropagateAtLaunch": true}]}),
    );
    aws(
        "autoscaling",
        "put_scaling_policy",
        &json!({"AutoScalingGroupName": n, "PolicyName": "cpu65", "PolicyType": "TargetTrackingScaling",
                "TargetTrackingConfiguration": {"TargetValue": 65.0,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}}}),
    );
    Fleet { target_group, rule }
}

/// Everything AWS says about the fleet: the Auto Scaling group, its policies, its
/// target group with attributes, and its rule. Equal before and after means untouched.
fn fleet_state(n: &str, fleet: &Fleet) -> Value {
    let mut asg = aws(
        "autoscaling",
        "describe_auto_scaling_groups",
        &json!({"AutoScalingGroupNames": [n]}),
    );
    // Instances come and go on the emulator's own schedule; the group's settings do not.
    if let Some(groups) = asg["AutoScalingGroups"].as_array_mut() {
        for g in groups {
            if let Some(o) = g.as_object_mut() {
                o.remove("Instances");
            }
        }
    }
    let mut target_group = aws(
        "elbv2",
        "describe_target_groups",
        &json!({"TargetGroupArns": [fleet.target_group]}),
    );
    // The emulator lists the load balancer again for each rule that forwards to the
    // target group; AWS lists it once.
    if let Some(lbs) = target_group["TargetGroups"][0]["LoadBalancerArns"].as_array_mut() {
        lbs.dedup();
    }
    json!({
        "asg": asg,
        "policies": aws("autoscaling", "describe_policies", &json!({"AutoScalingGroupName": n})),
        "targetGroup": target_group,
        "attributes": aws("elbv2", "describe_target_group_attributes", &json!({"TargetGroupArn": fleet.target_group})),
        "tags": aws("elbv2", "describe_tags", &json!({"ResourceArns": [fleet.target_group, fleet.rule]})),
        "rule": aws("elbv2", "describe_rules", &json!({"RuleArns": [fleet.rule]})),
    })
}

/// The Fargate side of the migration: a TargetGroup whose rule (priority 40, ahead of
/// the fleet's 50, same path) gives `own` to it and `asg` to the fleet's target group,
/// and the Service behind it. `weights: None` is the last commit: no fleet any more.
fn fargate(env: &Env, n: &str, fleet: &Fleet, weights: Option<(u64, u64)>) -> String {
    let stack = env.stack(n, "web:1", 2, false, 40);
    let plain = format!(r#"pathPatterns: ["/{n}/*"]}}"#);
    match weights {
        Some((own, asg)) => stack.replace(
            &plain,
            &format!(
                r#"pathPatterns: ["/{n}/*"], weight: {own}, alsoForwardTo: [{{targetGroupArn: "{}", weight: {asg}}}]}}"#,
                fleet.target_group
            ),
        ),
        None => stack,
    }
}

/// The weights of the rule at priority 40, by target group ARN.
fn weights(env: &Env) -> Vec<(String, u64)> {
    let rule = env.rule("listener", 40);
    let mut out: Vec<(String, u64)> = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["TargetGroupArn"].as_str().unwrap_or_default().to_owned(),
                t["Weight"].as_u64().unwrap_or(1),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn traffic_moves_from_the_fleet_by_weight_one_modify_rule_per_commit_and_the_fleet_is_untouched() {
    let env = fresh();
    let n = env.name.clone();
    let fleet = ec2_fleet(&env, &n);
    let before = fleet_state(&n, &fleet);
    let tg_arn = |env: &Env| {
        env.target_group(&n).expect("the Fargate target group")["TargetGroupArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // The first commit: the Fargate stack, with none of the traffic yet.
    env.write("stack.yaml", &fargate(&env, &n, &fleet, Some((0, 100))));
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 0, "{}", run.output());
    let own = tg_arn(&env);
    let mut expected = vec![(own.clone(), 0), (fleet.target_group.clone(), 100)];
    expected.sort();
    assert_eq!(weights(&env), expected);

    for (share, rest) in [(10u64, 90u64), (50, 50), (100, 0)] {
        env.write(
            "stack.yaml",
            &fargate(&env, &n, &fleet, Some((share, rest))),
        );
        let plan = env.ecsd(&["plan"]);
        assert_eq!(plan.code, 2, "{}", plan.output());
        assert!(
            plan.stdout.contains("listenerRule.weight")
                && plan.stdout.contains(&format!("-> {share}")),
            "the plan shows the weights:\n{}",
            plan.stdout
        );
        let run = env.ecsd(&["apply"]);
        assert_eq!(run.code, 0, "{}", run.output());
        assert_eq!(run.count("ModifyRule"), 1, "{}", run.output());
        assert_eq!(run.calls().1, 1, "one mutating call: {}", run.output());
        let mut expected = vec![(own.clone(), share), (fleet.target_group.clone(), rest)];
        expected.sort();
        assert_eq!(weights(&env), expected, "{share}/{rest}");
        let (code, plan) = env.plan_json();
        assert_eq!(code, 0, "{plan}");
    }

    // The last commit removes the fleet from the rule: a plain forward to Fargate.
    env.write("stack.yaml", &fargate(&env, &n, &fleet, None));
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(run.calls().1, 1, "one mutating call: {}", run.output());
    let rule = env.rule("listener", 40);
    let targets = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(targets <= 1 && rule.to_string().contains(&own), "{rule:#}");
    assert_eq!(fleet_state(&n, &fleet), before, "the fleet is untouched");
}
