//! A manifest is the whole object: deleting an environment variable, a secret, a
//! command, a container, a target-tracking entry or a label reaches AWS exactly like
//! adding one, and afterwards there is nothing left to do. Through the binary against
//! the emulator, checked with boto3.

use ecsd_tests::aws;
use ecsd_tests::env::{Env, diff_paths};
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

type Edit = fn(&Env, String) -> String;

/// Applies `before`, then `after`: the plan shows `path`, apply makes `check` true, and
/// then nothing is left to change.
fn deletion(before: Edit, after: Edit, path: &str, check: fn(&Env)) {
    deletion_with(before, |_| {}, after, path, check);
}

/// [`deletion`], with `meanwhile` done to AWS between the two manifests.
fn deletion_with(before: Edit, meanwhile: fn(&Env), after: Edit, path: &str, check: fn(&Env)) {
    let env = fresh();
    let n = env.name.clone();
    let stack = env.stack(&n, "web:1", 2, true, 10);
    env.write("stack.yaml", &before(&env, stack.clone()));
    env.converge();
    meanwhile(&env);
    env.write("stack.yaml", &after(&env, stack));
    let (code, plan) = env.plan_json();
    assert_eq!(code, 2, "the deletion is a change: {plan}");
    let paths = diff_paths(&plan);
    assert!(
        paths.iter().any(|p| p == path),
        "no {path} in {paths:?}: {plan}"
    );
    env.apply_ok();
    check(&env);
    env.converge();
}

fn container(env: &Env) -> Value {
    env.task_definition(&env.name)["taskDefinition"]["containerDefinitions"][0].clone()
}

#[test]
fn deleting_an_environment_variable_registers_a_revision_without_it() {
    deletion(
        |_, s| s,
        |_, s| s.replace(", FEATURE_FLAGS: zebra-7f3a", ""),
        "taskDefinition.containers[0].environment.FEATURE_FLAGS",
        |env| {
            let names: Vec<Value> = container(env)["environment"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|kv| kv["name"].clone())
                .collect();
            assert_eq!(names, vec![json!("LOG_LEVEL")]);
        },
    );
}

#[test]
fn deleting_a_secret_registers_a_revision_without_it() {
    deletion(
        |_, s| s,
        |_, s| {
            s.replace(
                "        secrets: {DB_URL: \"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-Zebra9\"}\n",
                "",
            )
        },
        "taskDefinition.containers[0].secrets.DB_URL",
        |env| {
            let secrets = container(env)["secrets"].clone();
            assert!(secrets.as_array().is_none_or(Vec::is_empty), "{secrets}");
        },
    );
}

#[test]
fn deleting_the_command_goes_back_to_the_image_s_own() {
    deletion(
        |_, s| {
            s.replace(
                "        portMappings: [{containerPort: 5001}]\n",
                "        portMappings: [{containerPort: 5001}]\n        command: [gunicorn, \"app:app\"]\n",
            )
        },
        |_, s| s,
        "taskDefinition.containers[0].command",
        |env| {
            let command = container(env)["command"].clone();
            assert!(command.as_array().is_none_or(Vec::is_empty), "{command}");
        },
    );
}

#[test]
fn deleting_a_container_registers_a_revision_without_it() {
    deletion(
        |_, s| {
            s.replace(
                "  loadBalancers:",
                "      - {name: sidecar, image: \"busybox:1\", essential: false}\n  loadBalancers:",
            )
        },
        |_, s| s,
        "taskDefinition.containers[1]",
        |env| {
            let td = env.task_definition(&env.name);
            let names: Vec<Value> = td["taskDefinition"]["containerDefinitions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["name"].clone())
                .collect();
            assert_eq!(names, vec![json!("app")]);
        },
    );
}

#[test]
fn deleting_a_target_tracking_entry_deletes_its_policy() {
    deletion(
        |_, s| {
            s.replace(
                "targetTracking: [{metric: cpu, target: 60}]",
                "targetTracking: [{metric: cpu, target: 60}, {metric: memory, target: 70}]",
            )
        },
        |_, s| s,
        "targetTracking[1]",
        |env| {
            let names: Vec<Value> = env
                .policies(&env.name)
                .iter()
                .map(|p| p["PolicyName"].clone())
                .collect();
            assert_eq!(names, vec![json!(format!("ecsd-{}-cpu", env.name))]);
        },
    );
}

/// The rules that forward to the stack's target group, by listener.
fn rules_to_target_group(env: &Env) -> Vec<(String, Value)> {
    let tg = env.target_group(&env.name).expect("target group")["TargetGroupArn"].clone();
    env.rules_forwarding_to(tg.as_str().unwrap_or("-"))
}

#[test]
fn deleting_the_listener_rule_deletes_the_rule_and_keeps_the_service() {
    deletion(
        |_, s| s,
        |_, s| {
            let line = s
                .lines()
                .find(|l| l.contains("listenerRule:"))
                .unwrap_or_default()
                .to_owned();
            assert!(!line.is_empty(), "{s}");
            s.replace(&format!("{line}\n"), "")
        },
        "listenerRule.priority",
        |env| {
            assert_eq!(rules_to_target_group(env), vec![], "the rule is gone");
            assert_eq!(
                env.service(&env.name)["status"],
                "ACTIVE",
                "the service stays"
            );
        },
    );
}

#[test]
fn a_listener_rule_moved_to_another_listener_leaves_nothing_behind() {
    deletion(
        |_, s| s,
        |env, s| s.replace(&env.id("listener"), &env.id("test_listener")),
        "listenerRule.listenerArn",
        |env| {
            let rules: Vec<String> = rules_to_target_group(env)
                .into_iter()
                .map(|(l, _)| l)
                .collect();
            assert_eq!(rules, vec!["test_listener".to_owned()]);
        },
    );
}

/// `scheduled-update`: an update of a scheduled action keeps what it leaves out.
#[test]
fn deleting_a_scheduled_action_s_capacity_and_time_zone_reaches_aws() {
    deletion(
        |_, s| {
            s.replace(
                "targetTracking: [{metric: cpu, target: 60}]",
                "targetTracking: [{metric: cpu, target: 60}]\n  scheduled: [{name: nightly, schedule: \"cron(0 22 * * ? *)\", timezone: Europe/Berlin, minCapacity: 2, maxCapacity: 4}]",
            )
        },
        |_, s| {
            s.replace(
                "targetTracking: [{metric: cpu, target: 60}]",
                "targetTracking: [{metric: cpu, target: 60}]\n  scheduled: [{name: nightly, schedule: \"cron(0 22 * * ? *)\", maxCapacity: 4}]",
            )
        },
        "scheduled[0].minCapacity",
        |env| {
            let actions = aws(
                "application-autoscaling",
                "describe_scheduled_actions",
                &json!({"ServiceNamespace": "ecs", "ResourceId": format!("service/{}/{}", env.cluster, env.name)}),
            );
            let action = &actions["ScheduledActions"][0];
            assert_eq!(
                action["ScalableTargetAction"],
                json!({"MaxCapacity": 4}),
                "{actions}"
            );
            assert_eq!(action["Timezone"], "UTC", "{actions}");
        },
    );
}

#[test]
fn deleting_a_label_removes_its_tags_but_not_tags_added_outside_ecsd() {
    deletion_with(
        |_, s| s,
        |env| {
            // Someone tags the target group by hand.
            let tg = env.target_group(&env.name).expect("target group");
            aws(
                "elbv2",
                "add_tags",
                &json!({"ResourceArns": [tg["TargetGroupArn"]], "Tags": [{"Key": "by-hand", "Value": "yes"}]}),
            );
        },
        |env, s| {
            s.replace(
                &format!(
                    "metadata: {{name: {}, labels: {{team: storefront}}}}",
                    env.name
                ),
                &format!("metadata: {{name: {}}}", env.name),
            )
        },
        "metadata.labels.team",
        |env| {
            let tg = env.target_group(&env.name).expect("target group");
            let tags = env.elb_tags(tg["TargetGroupArn"].as_str().unwrap_or_default());
            assert_eq!(tags.get("team"), None, "{tags}");
            assert_eq!(tags["ecsd:owner"], "ecsd", "{tags}");
            assert_eq!(
                tags["by-hand"], "yes",
                "a tag ecsd did not set stays: {tags}"
            );
            let rule = env.rule("listener", 10);
            let rule_tags = env.elb_tags(rule["RuleArn"].as_str().unwrap_or_default());
            assert_eq!(
                rule_tags.get("team"),
                None,
                "the rule's label goes too: {rule_tags}"
            );
        },
    );
}
