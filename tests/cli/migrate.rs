//! Moving an EC2 Auto Scaling group behind an ALB to Fargate with ecsd, through the
//! built binary against the emulator: the classic stack is made with boto3 (no ecsd),
//! and traffic moves to the Fargate service by weight, one commit at a time, without
//! ecsd ever touching the Auto Scaling group, its target group or its rule.

use ecsd_tests::env::Env;
use ecsd_tests::proxy::FaultProxy;
use ecsd_tests::{aws, emulator_endpoint};
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
    let (target_group, rule) = env.foreign_target_group(
        &json!({"Name": format!("{n}-asg"), "Protocol": "HTTP", "Port": 5001, "VpcId": env.id("vpc"), "TargetType": "instance",
                "HealthCheckPath": "/healthz", "HealthCheckIntervalSeconds": 15, "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 3, "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200-299"}}),
        50,
        n,
    );
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
        // The emulator keys scaling policies by name alone (AWS: per group), so each
        // test's policy has a name of its own.
        &json!({"AutoScalingGroupName": n, "PolicyName": format!("{n}-cpu65"), "PolicyType": "TargetTrackingScaling",
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

/// The target groups and weights of the rule at `priority`, by target group ARN.
fn weights(env: &Env, priority: u32) -> Vec<(String, u64)> {
    weights_on(&env.id("listener"), priority)
}

/// A weight commit already written: `plan` shows the weights, `apply` (through `via`
/// when given) makes exactly one change, a ModifyRule, after which the rule at
/// `priority` forwards `own.1` to `own.0` and `fleet.1` to `fleet.0`, and `plan` is empty.
fn applies_one_modify_rule(
    env: &Env,
    via: Option<&str>,
    priority: u32,
    own: (&str, u64),
    fleet: (&str, u64),
) {
    let plan = env.ecsd(&["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(
        plan.stdout.contains("listenerRule.weight")
            && plan.stdout.contains(&format!("-> {}", own.1)),
        "the plan shows the weights:\n{}",
        plan.stdout
    );
    let run = env.ecsd_via(via, &["apply"]);
    assert_eq!(run.code, 0, "{}", run.output());
    assert_eq!(run.count("ModifyRule"), 1, "{}", run.output());
    assert_eq!(run.calls().1, 1, "one mutating call: {}", run.output());
    assert_eq!(
        weights(env, priority),
        sorted(vec![
            (own.0.to_owned(), own.1),
            (fleet.0.to_owned(), fleet.1)
        ]),
        "{own:?} / {fleet:?}"
    );
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}");
}

/// `pairs`, sorted: what [`weights`] returns when the rule forwards so.
fn sorted(mut pairs: Vec<(String, u64)>) -> Vec<(String, u64)> {
    pairs.sort();
    pairs
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
    assert_eq!(
        weights(&env, 40),
        sorted(vec![(own.clone(), 0), (fleet.target_group.clone(), 100)])
    );

    for (share, rest) in [(10u64, 90u64), (50, 50), (100, 0)] {
        env.write(
            "stack.yaml",
            &fargate(&env, &n, &fleet, Some((share, rest))),
        );
        applies_one_modify_rule(&env, None, 40, (&own, share), (&fleet.target_group, rest));
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

/// `ecsd migrate --asg n` into `out`, with `extra` flags: exit code, stdout + stderr.
fn migrate(env: &Env, n: &str, out: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let run = std::process::Command::new(&env.bin)
        .args([
            "migrate",
            "--asg",
            n,
            "--cluster",
            &env.cluster,
            "--log-format",
            "json",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .output()
        .expect("run ecsd migrate");
    (
        run.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        ),
    )
}

/// `ecsd validate FILE`: exit code and stderr.
fn validate(env: &Env, file: &std::path::Path) -> (i32, String) {
    let run = std::process::Command::new(&env.bin)
        .arg("validate")
        .arg(file)
        .output()
        .expect("run ecsd validate");
    (
        run.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

#[test]
fn migrate_writes_a_fargate_stack_that_validates_once_the_image_is_set_and_cuts_over_by_commits() {
    let env = fresh();
    let n = env.name.clone();
    let fleet = ec2_fleet(&env, &n);
    let before = fleet_state(&n, &fleet);

    // Without --image: written, and validate points at the placeholder.
    let draft = env.dir.with_extension("draft");
    let (code, out) = migrate(&env, &n, &draft, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("\"mutating\":0"),
        "migrate changes nothing: {out}"
    );
    let file = draft.join(format!("{n}.yaml"));
    let text = std::fs::read_to_string(&file).expect("the migrated manifests");
    let (code, errors) = validate(&env, &file);
    assert_eq!(code, 1, "{errors}");
    let line = text
        .lines()
        .position(|l| l.contains("image: \"FILL-IN"))
        .map(|i| i + 1)
        .expect("the placeholder line");
    assert!(
        errors.contains(&format!("{}:{line}:", file.display()))
            && errors.contains("still the placeholder `ecsd migrate` wrote"),
        "{errors}\n{text}"
    );
    // Never overwritten.
    assert_eq!(migrate(&env, &n, &draft, &[]).0, 1);
    // Without --out, the same on stdout.
    let printed = std::process::Command::new(&env.bin)
        .args(["migrate", "--asg", &n, "--cluster", &env.cluster])
        .output()
        .expect("run ecsd migrate");
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(
        printed.status.success() && stdout.contains("kind: ScalingPolicy"),
        "{stdout}"
    );

    // With --image: valid, and what the fleet had.
    let (code, out) = migrate(&env, &n, &env.dir, &["--image", "ghcr.io/acme/web:1.0"]);
    assert_eq!(code, 0, "{out}");
    let file = env.dir.join(format!("{n}.yaml"));
    let text = std::fs::read_to_string(&file).expect("the migrated manifests");
    let (code, errors) = validate(&env, &file);
    assert_eq!(code, 0, "{errors}\n{text}");
    for expected in [
        "targetType: \"ip\"".to_owned(),
        "path: \"/healthz\"".to_owned(),
        "matcher: \"200-299\"".to_owned(),
        "priority: 49".to_owned(),
        format!("pathPatterns: [\"/{n}/*\"]"),
        format!("targetGroupArn: \"{}\"", fleet.target_group),
        "weight: 100".to_owned(),
        format!(
            "subnets: [\"{}\", \"{}\"]",
            env.id("subnet0"),
            env.id("subnet1")
        ),
        format!("securityGroups: [\"{}\"]", env.id("security_group")),
        "cpu: 1024".to_owned(),
        "memory: 4096".to_owned(),
        "t3.medium has 2 burstable vCPUs".to_owned(),
        "team: \"storefront\"".to_owned(),
        "metric: \"cpu\"".to_owned(),
        "target: 65".to_owned(),
        "minCapacity: 2".to_owned(),
        "maxCapacity: 10".to_owned(),
        "desiredCount: 2".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected} missing:\n{text}");
    }

    // The first commit: the Fargate stack, all traffic still on the fleet.
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 0, "{}\n{text}", run.output());
    let own = env.target_group(&n).expect("the Fargate target group")["TargetGroupArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rule_at = |env: &Env| env.rule("listener", 49);
    assert_eq!(
        weights(&env, 49),
        sorted(vec![(own.clone(), 0), (fleet.target_group.clone(), 100)])
    );
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}");

    // Weight commits: each exactly one ModifyRule, as ecsd counts its calls and as a
    // proxy in front of the emulator logs the requests.
    let proxy = FaultProxy::start(&emulator_endpoint());
    let via = Some(proxy.url());
    for (share, rest) in [(10u64, 90u64), (50, 50), (100, 0)] {
        std::fs::write(&file, set_weights(&text, share, rest)).expect("commit");
        applies_one_modify_rule(
            &env,
            via.as_deref(),
            49,
            (&own, share),
            (&fleet.target_group, rest),
        );
    }
    // The request log: three changes, each a ModifyRule of the Fargate rule; the
    // fleet's target group and rule are named only as the weighted forward's other
    // target; Auto Scaling is never called.
    let log = proxy.log();
    let changes: Vec<_> = log.iter().filter(|r| r.mutates_aws()).collect();
    assert_eq!(
        changes.len(),
        3,
        "{:?}",
        changes.iter().map(|r| &r.action).collect::<Vec<_>>()
    );
    let rule_arn = rule_at(&env)["RuleArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let encoded = |arn: &str| arn.replace(':', "%3A").replace('/', "%2F");
    for r in &changes {
        assert_eq!(r.action, "ModifyRule");
        assert!(r.body.contains(&encoded(&rule_arn)), "{}", r.body);
        assert!(!r.body.contains(&encoded(&fleet.rule)), "{}", r.body);
    }
    assert!(
        !log.iter().any(|r| r.action.contains("AutoScaling")),
        "{:?}",
        log.iter().map(|r| &r.action).collect::<Vec<_>>()
    );
    assert_eq!(fleet_state(&n, &fleet), before, "the fleet is untouched");
}

/// The migrated manifests with the Fargate target group's rule at `own` and the
/// fleet's at `fleet` (the rule's own `weight` sits at 4 spaces, the fleet's in the
/// `alsoForwardTo` item deeper).
fn set_weights(text: &str, own: u64, fleet: u64) -> String {
    text.lines()
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            match (l.trim_start().starts_with("weight:"), indent) {
                (true, 4) => format!("    weight: {own}"),
                (true, _) => format!("{}weight: {fleet}", " ".repeat(indent)),
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The target groups and weights of the rule at `priority` of `listener_arn`.
fn weights_on(listener_arn: &str, priority: u32) -> Vec<(String, u64)> {
    let rules = aws(
        "elbv2",
        "describe_rules",
        &json!({"ListenerArn": listener_arn}),
    );
    let wanted = priority.to_string();
    let rule = rules["Rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["Priority"] == wanted.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no rule at {priority}: {rules}"));
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

/// The seed's own topology: an ALB listener whose default action forwards to the
/// fleet's target group, and no rules. `migrate` writes a catch-all rule (`/*`) evaluated
/// after every other rule, which takes what the default action takes; it applies, and
/// traffic moves 10 / 50 / 100 a commit at a time, the default action untouched.
#[test]
fn a_fleet_behind_a_listener_default_action_moves_by_a_catch_all_rule_one_commit_at_a_time() {
    let env = fresh();
    let n = env.name.clone();
    let created = aws(
        "elbv2",
        "create_target_group",
        &json!({"Name": format!("{n}-asg"), "Protocol": "HTTP", "Port": 5001, "VpcId": env.id("vpc"),
                "TargetType": "instance", "HealthCheckPath": "/healthz"}),
    );
    let fleet_tg = created["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let listener = aws(
        "elbv2",
        "create_listener",
        &json!({"LoadBalancerArn": env.id("load_balancer"), "Protocol": "HTTP", "Port": 9090,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": fleet_tg}]}),
    )["Listeners"][0]["ListenerArn"]
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
                "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2,
                "VPCZoneIdentifier": format!("{},{}", env.id("subnet0"), env.id("subnet1")),
                "TargetGroupARNs": [fleet_tg]}),
    );
    let default_action = || {
        aws(
            "elbv2",
            "describe_listeners",
            &json!({"ListenerArns": [listener]}),
        )["Listeners"][0]["DefaultActions"]
            .clone()
    };
    let before = default_action();

    let (code, out) = migrate(&env, &n, &env.dir, &["--image", "ghcr.io/acme/web:1.0"]);
    assert_eq!(code, 0, "{out}");
    let file = env.dir.join(format!("{n}.yaml"));
    let text = std::fs::read_to_string(&file).expect("the migrated manifests");
    for expected in [
        format!("listenerArn: \"{listener}\""),
        "priority: 50000".to_owned(),
        "pathPatterns: [\"/*\"]".to_owned(),
        "weight: 0".to_owned(),
        format!("targetGroupArn: \"{fleet_tg}\""),
        "default action".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected} missing:\n{text}");
    }
    let (code, errors) = validate(&env, &file);
    assert_eq!(code, 0, "{errors}\n{text}");

    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 0, "{}\n{text}", run.output());
    let own = env.target_group(&n).expect("the Fargate target group")["TargetGroupArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        weights_on(&listener, 50000),
        sorted(vec![(own.clone(), 0), (fleet_tg.clone(), 100)])
    );
    for (share, rest) in [(10u64, 90u64), (50, 50), (100, 0)] {
        std::fs::write(&file, set_weights(&text, share, rest)).expect("commit");
        let run = env.ecsd(&["apply"]);
        assert_eq!(run.code, 0, "{}", run.output());
        assert_eq!(run.count("ModifyRule"), 1, "{}", run.output());
        assert_eq!(run.calls().1, 1, "one mutating call: {}", run.output());
        assert_eq!(
            weights_on(&listener, 50000),
            sorted(vec![(own.clone(), share), (fleet_tg.clone(), rest)])
        );
        let (code, plan) = env.plan_json();
        assert_eq!(code, 0, "{plan}");
    }
    assert_eq!(default_action(), before, "the default action is untouched");
}
