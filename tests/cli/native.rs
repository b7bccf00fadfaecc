//! ECS's own blue/green, linear and canary deployments through the built binary
//! against the emulator layer, which does what these strategies exist for: ECS rewrites
//! the production and test listener rules at every stage and step, and after a
//! deployment serves from the other target group and reports the pair swapped
//! (docs/aws-behaviours.md, `native-traffic`). The layer records every rule and load
//! balancer write with the target groups that had tasks at that moment, so a test can
//! check that no request ever sent production traffic where no task runs.

use ecsd_tests::env::{Env, forward_weights};
use ecsd_tests::{aws, layer, layer_answer};
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// A pause before every production traffic step (PRE_PRODUCTION_TRAFFIC_SHIFT runs once
/// per step of linear and canary).
const PAUSE_PER_STEP: &str = "    lifecycleHooks:\n      - {type: pause, stages: [PRE_PRODUCTION_TRAFFIC_SHIFT], timeoutMinutes: 60, timeoutAction: rollback}\n";

fn arn(v: &Value) -> String {
    v["TargetGroupArn"].as_str().unwrap_or_default().to_owned()
}

fn weight_of(rule: &Value, tg: &str) -> i64 {
    forward_weights(rule)
        .into_iter()
        .find(|(a, _)| a == tg)
        .map_or(-1, |(_, w)| w)
}

/// The recorded writes (rule and load balancer requests) that name either group.
fn pair_requests(blue: &str, green: &str) -> Vec<Value> {
    let answer = layer_answer("requests", &json!({}));
    answer["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            // What the request sends (not `withTasks`, which lists every test's groups).
            let sent = format!("{}{}", r["forward"], r["loadBalancers"]);
            sent.contains(blue) || sent.contains(green)
        })
        .cloned()
        .collect()
}

/// Every recorded write that concerns the pair (but the test's own, at `skip`): each
/// rule request carries the whole weighted forward (both groups), and none puts
/// production traffic on a group without tasks while the other has them; each load
/// balancer update names, as the service's own, a group with tasks. Returns how many
/// rule and load balancer writes were checked.
fn check_requests(blue: &str, green: &str, skip: usize) -> (usize, usize) {
    let pair = [blue, green];
    let (mut rules, mut lbs) = (0, 0);
    for (i, r) in pair_requests(blue, green).iter().enumerate() {
        if i == skip {
            continue;
        }
        let with_tasks: Vec<&str> = r["withTasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let serving: Vec<&str> = pair
            .iter()
            .copied()
            .filter(|t| with_tasks.contains(t))
            .collect();
        match r["op"].as_str() {
            Some("CreateRule" | "ModifyRule") => {
                let forward = r["forward"].as_array().cloned().unwrap_or_default();
                let named: Vec<&str> = forward
                    .iter()
                    .filter_map(|f| f["targetGroupArn"].as_str())
                    .collect();
                if !named.iter().any(|t| pair.contains(t)) {
                    continue;
                }
                rules += 1;
                assert!(
                    pair.iter().all(|t| named.contains(t)) && named.len() == 2,
                    "a rule ECS shifts must be sent as the whole weighted forward to both target groups: {r}"
                );
                for f in &forward {
                    let tg = f["targetGroupArn"].as_str().unwrap_or_default();
                    let gets_traffic = f["weight"].as_i64().is_none_or(|w| w > 0);
                    assert!(
                        !gets_traffic || serving.is_empty() || serving.contains(&tg),
                        "production traffic sent to {tg}, which has no tasks (tasks behind {serving:?}): {r}"
                    );
                }
            }
            Some("UpdateService" | "CreateService") => {
                let Some(lb) = r["loadBalancers"].as_array().and_then(|l| l.first()) else {
                    continue;
                };
                let own = lb["targetGroupArn"].as_str().unwrap_or_default();
                if !pair.contains(&own) {
                    continue;
                }
                lbs += 1;
                assert!(
                    serving.is_empty() || serving.contains(&own),
                    "loadBalancers name {own} as the service's target group, which has no tasks (tasks behind {serving:?}): {r}"
                );
            }
            _ => {}
        }
    }
    (rules, lbs)
}

/// Approves the deployment under way (by its id: each pause of it) until none waits.
fn approve_until_done(env: &Env, stack: &dyn Fn(&str) -> String) -> usize {
    let mut approvals = 0;
    for _ in 0..10 {
        let (_, status) = env.service_status();
        let Some(id) = status["awaitingApproval"]["deployment"].as_str() else {
            break;
        };
        env.write("nb.yaml", &stack(&format!("    approve: {id}\n")));
        let run = env.apply_ok();
        assert_eq!(
            run.count("ContinueServiceDeployment"),
            1,
            "{}",
            run.output()
        );
        approvals += 1;
    }
    approvals
}

/// Deploys a Service with `strategy` twice in a row (so ECS serves from the other
/// target group after each), with an edit of `traffic` (the role), of the production
/// rule's conditions and a production rule someone cut down to one target group in
/// between; then checks every write the layer saw.
fn deployed_twice_never_sends_traffic_where_no_task_runs(strategy: &str, extra: &str) {
    let env = fresh();
    let n = env.name.clone();
    let base = |image: &str, edited: bool, more: &str| {
        let mut text = env.native_stack(&n, image, strategy, &format!("{extra}{more}"));
        if edited {
            text = text
                .replace(
                    "role/ecs-infrastructure-elb",
                    "role/ecs-infrastructure-elb-v2",
                )
                .replacen(r#"pathPatterns: ["/*"]"#, r#"pathPatterns: ["/app/*"]"#, 1);
        }
        text
    };
    env.write("nb.yaml", &base("web:1", false, ""));
    let run = env.converge();
    assert_eq!(run.count("CreateRule"), 2, "{}", run.output());
    assert_eq!(run.count("ModifyRule"), 0, "{}", run.output());
    let blue = arn(&env.target_group(&format!("{n}-b")).expect("blue"));
    let green = arn(&env.target_group(&format!("{n}-g")).expect("green"));

    // The first deployment is a deployment like the others: once it completes, ECS
    // serves from the alternate and reports the pair swapped; nothing is drift.
    env.complete_deployment(&n);
    let svc = env.service(&n);
    assert_eq!(svc["loadBalancers"][0]["targetGroupArn"], green.as_str());
    assert_eq!(
        svc["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"],
        blue.as_str()
    );
    assert_eq!(weight_of(&env.rule("listener", 1), &green), 100);
    let settled = env.apply_ok();
    assert_eq!(settled.calls().1, 0, "{}", settled.output());

    // An edit of traffic and of the production rule's conditions: one UpdateService
    // (the pair in AWS's order) and one ModifyRule of the conditions only.
    env.write("nb.yaml", &base("web:1", true, ""));
    let run = env.apply_ok();
    assert_eq!(run.count("UpdateService"), 1, "{}", run.output());
    assert_eq!(run.count("ModifyRule"), 1, "{}", run.output());
    assert_eq!(
        env.service(&n)["loadBalancers"][0]["targetGroupArn"],
        green.as_str()
    );
    assert_eq!(weight_of(&env.rule("listener", 1), &green), 100);

    // Someone cuts the production rule down to the serving group alone: ecsd completes
    // it, the weight staying where the tasks are.
    let prod = env.rule("listener", 1);
    let drift = pair_requests(&blue, &green).len();
    aws(
        "elbv2",
        "modify_rule",
        &json!({"RuleArn": prod["RuleArn"], "Actions": [{"Type": "forward", "TargetGroupArn": green}]}),
    );
    let run = env.apply_ok();
    assert_eq!(run.count("ModifyRule"), 1, "{}", run.output());
    let prod = env.rule("listener", 1);
    assert_eq!(weight_of(&prod, &green), 100, "{prod}");
    assert_eq!(weight_of(&prod, &blue), 0, "{prod}");

    // The second deployment goes from green back to blue, pausing where the hooks say.
    env.write("nb.yaml", &base("web:2", true, ""));
    let run = env.apply_ok();
    assert_eq!(run.count("UpdateService"), 1, "{}", run.output());
    let stack = |more: &str| base("web:2", true, more);
    let approvals = approve_until_done(&env, &stack);
    let steps = match strategy {
        "canary" => 2,
        "linear" => 5,
        _ => 1,
    };
    if !extra.is_empty() {
        assert_eq!(approvals, steps, "a pause before every production step");
    }
    env.complete_deployment(&n);
    assert_eq!(
        env.service(&n)["loadBalancers"][0]["targetGroupArn"],
        blue.as_str()
    );
    assert_eq!(weight_of(&env.rule("listener", 1), &blue), 100);
    env.write("nb.yaml", &stack(""));
    let settled = env.apply_ok();
    assert_eq!(settled.calls().1, 0, "{}", settled.output());
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}");

    let (rules, lbs) = check_requests(&blue, &green, drift);
    assert!(rules >= 3, "rule writes checked: {rules}");
    assert!(lbs >= 2, "load balancer writes checked: {lbs}");
}

#[test]
fn a_canary_deployed_twice_never_sends_production_traffic_where_no_task_runs() {
    deployed_twice_never_sends_traffic_where_no_task_runs(
        "canary",
        &format!("{PAUSE_PER_STEP}    canary: {{canaryPercent: 10, canaryBakeTimeMinutes: 3}}\n"),
    );
}

#[test]
fn a_linear_deployment_twice_never_sends_production_traffic_where_no_task_runs() {
    deployed_twice_never_sends_traffic_where_no_task_runs(
        "linear",
        &format!("{PAUSE_PER_STEP}    linear: {{stepPercent: 20, stepBakeTimeMinutes: 2}}\n"),
    );
}

#[test]
fn a_blue_green_deployed_twice_never_sends_production_traffic_where_no_task_runs() {
    deployed_twice_never_sends_traffic_where_no_task_runs("ecsBlueGreen", "");
}

/// AWS's documented migration: a CodeDeploy (`blueGreen`) service becomes ECS's own
/// `ecsBlueGreen` with one UpdateService (the ECS deployment controller, the strategy,
/// the advanced configuration): no DeleteService, no CreateService, production traffic
/// on the group that serves it throughout, and the CodeDeploy group and application
/// ecsd made are gone afterwards.
#[test]
fn a_codedeploy_service_moves_to_ecs_blue_green_in_place_with_its_traffic_where_it_is() {
    let env = fresh();
    let n = env.name.clone();
    env.write("nb.yaml", &env.blue_green_stack(&n, "web:1"));
    env.apply_ok();
    // One CodeDeploy deployment: production traffic moves to the green group.
    env.write("nb.yaml", &env.blue_green_stack(&n, "web:2"));
    env.apply_ok();
    let app = format!("ecsd-{}-{n}", env.cluster);
    let listed = aws(
        "codedeploy",
        "list_deployments",
        &json!({"applicationName": app, "deploymentGroupName": n}),
    );
    let id = listed["deployments"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    layer(
        "codedeploy/finish",
        &json!({"deploymentId": id, "status": "Succeeded"}),
    );
    let blue = arn(&env.target_group(&format!("{n}-b")).expect("blue"));
    let green = arn(&env.target_group(&format!("{n}-g")).expect("green"));
    assert_eq!(weight_of(&env.rule("listener", 1), &green), 100);
    let before = pair_requests(&blue, &green).len();

    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:2", "ecsBlueGreen", ""),
    );
    let plan = env.ecsd(&["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.output());
    assert!(plan.stdout.contains("in place"), "{}", plan.stdout);
    let run = env.apply_ok();
    assert_eq!(
        run.count("DeleteService") + run.count("CreateService"),
        0,
        "{}",
        run.output()
    );
    assert_eq!(run.count("UpdateService"), 1, "{}", run.output());
    assert_eq!(run.count("DeleteDeploymentGroup"), 1, "{}", run.output());
    assert_eq!(run.count("DeleteApplication"), 1, "{}", run.output());
    let svc = env.service(&n);
    assert_eq!(svc["deploymentController"]["type"], "ECS", "{svc}");
    assert_eq!(svc["deploymentConfiguration"]["strategy"], "BLUE_GREEN");
    assert_eq!(
        svc["loadBalancers"][0]["targetGroupArn"],
        green.as_str(),
        "the service keeps serving from the group CodeDeploy left it on"
    );
    assert_eq!(
        svc["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"],
        blue.as_str()
    );
    assert_eq!(weight_of(&env.rule("listener", 1), &green), 100);
    let apps = aws("codedeploy", "list_applications", &json!({}));
    assert!(
        !apps["applications"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a == app.as_str()),
        "the CodeDeploy application is gone: {apps}"
    );
    // What ecsd sent since the switch began: one UpdateService naming the serving
    // group as the service's, and no rule write.
    let since: Vec<Value> = pair_requests(&blue, &green)
        .into_iter()
        .skip(before)
        .collect();
    assert!(
        since.iter().all(|r| r["op"] == "UpdateService"
            && r["loadBalancers"][0]["targetGroupArn"] == green.as_str()),
        "{since:?}"
    );
    assert_eq!(since.len(), 1, "{since:?}");
    env.converge();
}
