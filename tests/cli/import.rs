//! `ecsd import` through the built binary against the AWS emulator: manifests for what
//! already runs, which `apply --adopt` then takes over with nothing but ownership.

use ecsd_tests::aws;
use ecsd_tests::env::Env;
use ecsd_tests::foreign::{foreign_pair, foreign_stack, foreign_task_definition};
use serde_json::json;

/// A fresh emulator environment for the binary under test.
fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

#[test]
fn an_imported_service_is_adopted_with_nothing_but_ownership_and_then_plans_empty() {
    let env = fresh();
    let n = env.name.clone();
    foreign_stack(&env, &n, "their-cpu");
    let yaml = adopt_imported(&env, &n, &["kind: ScalingPolicy", "name: \"nightly\""]);
    // What ecsd would assume anyway is marked; what it has no key for is a comment.
    assert!(
        yaml.contains("minimumHealthyPercent: 100  # the default"),
        "{yaml}"
    );
    assert!(
        yaml.contains("# the task definition's volumes has no manifest key")
            && yaml.contains(
                "# the task definition's containers[app].mountPoints has no manifest key"
            ),
        "{yaml}"
    );
}

#[test]
fn an_imported_codedeploy_service_is_adopted_with_nothing_but_ownership() {
    let env = fresh();
    let n = env.name.clone();
    let (blue, _) = foreign_pair(&env, &n, false);
    let td = foreign_task_definition(&n);
    aws(
        "ecs",
        "create_service",
        &json!({"cluster": env.cluster, "serviceName": n, "taskDefinition": td, "desiredCount": 2, "launchType": "FARGATE",
                "deploymentController": {"type": "CODE_DEPLOY"},
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": [env.id("subnet0")], "securityGroups": [env.id("security_group")]}},
                "loadBalancers": [{"targetGroupArn": blue, "containerName": "app", "containerPort": 5001}]}),
    );
    // CodeDeploy's application and deployment group under the names ecsd gives them.
    let application = format!("ecsd-{}-{n}", env.cluster);
    aws(
        "codedeploy",
        "create_application",
        &json!({"applicationName": application, "computePlatform": "ECS"}),
    );
    aws(
        "codedeploy",
        "create_deployment_group",
        &json!({"applicationName": application, "deploymentGroupName": n,
                "serviceRoleArn": "arn:aws:iam::123456789012:role/codedeploy-ecs",
                "deploymentConfigName": "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
                "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                "blueGreenDeploymentConfiguration": {
                    "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 15},
                    "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}},
                "autoRollbackConfiguration": {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]},
                "ecsServices": [{"serviceName": n, "clusterName": env.cluster}],
                "loadBalancerInfo": {"targetGroupPairInfoList": [{
                    "targetGroups": [{"name": format!("{n}-b")}, {"name": format!("{n}-g")}],
                    "prodTrafficRoute": {"listenerArns": [env.id("listener")]},
                    "testTrafficRoute": {"listenerArns": [env.id("test_listener")]}}]}}),
    );
    let yaml = adopt_imported(
        &env,
        &n,
        &[
            "strategy: \"blueGreen\"",
            &format!("alternateTargetGroup: \"{n}-g\""),
        ],
    );
    assert!(
        yaml.contains("trafficShift: \"CodeDeployDefault.ECSLinear10PercentEvery1Minutes\"")
            && yaml.contains("terminateBlueAfterMinutes: 15"),
        "{yaml}"
    );
}

#[test]
fn an_imported_canary_service_with_hooks_is_adopted_with_nothing_but_ownership() {
    let env = fresh();
    let n = env.name.clone();
    let (blue, green) = foreign_pair(&env, &n, true);
    let td = foreign_task_definition(&n);
    let rule = |listener: &str| {
        env.rules(listener)
            .into_iter()
            .find(|r| r["Priority"] == "1")
            .and_then(|r| r["RuleArn"].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    aws(
        "ecs",
        "create_service",
        &json!({"cluster": env.cluster, "serviceName": n, "taskDefinition": td, "desiredCount": 2, "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": [env.id("subnet0")], "securityGroups": [env.id("security_group")]}},
                "loadBalancers": [{"targetGroupArn": blue, "containerName": "app", "containerPort": 5001,
                    "advancedConfiguration": {"alternateTargetGroupArn": green,
                        "productionListenerRule": rule("listener"), "testListenerRule": rule("test_listener"),
                        "roleArn": "arn:aws:iam::123456789012:role/ecs-infrastructure-elb"}}],
                "deploymentConfiguration": {"strategy": "CANARY", "bakeTimeInMinutes": 10,
                    "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
                    "deploymentCircuitBreaker": {"enable": true, "rollback": true},
                    "lifecycleHooks": [
                        {"hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
                         "roleArn": "arn:aws:iam::123456789012:role/ecs-hook", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                         "hookDetails": {"suite": "smoke"}},
                        {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"], "timeoutConfiguration": {"timeoutInMinutes": 240, "action": "ROLLBACK"}}]}}),
    );
    let yaml = adopt_imported(
        &env,
        &n,
        &[
            "strategy: \"canary\"",
            "type: \"pause\"",
            "type: \"lambda\"",
        ],
    );
    assert!(yaml.contains("canaryPercent: 10"), "{yaml}");
}

/// Imports service `n`, checks the manifests hold `expect` and validate, that import
/// never overwrites them, that `apply --adopt` changes nothing but ownership and that
/// `plan` is then empty: the manifests' text.
fn adopt_imported(env: &Env, n: &str, expect: &[&str]) -> String {
    let out = import(env, n);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    let file = env.dir.join(format!("{n}.yaml"));
    let yaml = std::fs::read_to_string(&file).expect("the imported manifests");
    for kind in ["kind: TargetGroup", "kind: Service"].iter().chain(expect) {
        assert!(yaml.contains(kind), "{kind} missing:\n{yaml}");
    }
    let valid = std::process::Command::new(&env.bin)
        .args(["validate"])
        .arg(&file)
        .output()
        .expect("run ecsd validate");
    assert!(
        valid.status.success(),
        "{}\n{yaml}",
        String::from_utf8_lossy(&valid.stderr)
    );
    // An existing file is never overwritten.
    let again = import(env, n);
    assert_eq!(again.status.code(), Some(1));

    // The plan of the adoption names no field: taking ownership is all it does.
    let plan = env.ecsd(&["plan", "--adopt"]);
    let fields: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with(' ')
                && ["+ ", "- ", "~ "]
                    .iter()
                    .any(|m| l.trim_start().starts_with(m))
        })
        .collect();
    assert!(
        fields.is_empty() && plan.stdout.contains("adopts the existing service"),
        "{}\n{yaml}",
        plan.output()
    );
    let run = env.ecsd(&["apply", "--adopt"]);
    assert_eq!(run.code, 0, "{}\n{yaml}", run.output());
    for changed in [
        "RegisterTaskDefinition",
        "CreateService",
        "UpdateService",
        "CreateTargetGroup",
        "ModifyTargetGroup",
        "ModifyTargetGroupAttributes",
        "CreateRule",
        "ModifyRule",
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "DeleteScalingPolicy",
        "PutScheduledAction",
        "DeleteScheduledAction",
        "CreateApplication",
        "CreateDeploymentGroup",
        "UpdateDeploymentGroup",
        "CreateDeployment",
    ] {
        assert_eq!(
            run.count(changed),
            0,
            "{changed}:\n{}\n{yaml}",
            run.output()
        );
    }
    let (code, plan) = env.plan_json();
    assert_eq!(code, 0, "{plan}\n{yaml}");
    yaml
}

#[test]
fn importing_what_the_examples_made_gives_manifests_that_plan_no_change() {
    let env = fresh();
    let rendered = env.dir.clone();
    ecsd_tests::fixture(&[
        "render",
        ecsd_tests::repo_root()
            .join("manifests/examples")
            .to_str()
            .expect("utf-8"),
        rendered.to_str().expect("utf-8"),
        "--ids",
        &env.ids.to_string(),
    ]);
    // The examples' cluster is this test's; their names are its own too.
    for entry in walk(&rendered) {
        let text = std::fs::read_to_string(&entry).expect("read");
        let text = text
            .replace("cluster: prod", &format!("cluster: {}", env.cluster))
            .replace("web", &env.name);
        std::fs::write(&entry, text).expect("write");
    }
    let run = env.ecsd(&["apply"]);
    assert_eq!(run.code, 0, "{}", run.output());

    let imported = env.dir.with_extension("imported");
    let out = std::process::Command::new(&env.bin)
        .args(["import", "--cluster", &env.cluster, "--out"])
        .arg(&imported)
        .output()
        .expect("run ecsd import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = walk(&imported);
    assert_eq!(files.len(), 4, "one file per service: {files:?}");
    // Without --out: the same manifests as one YAML stream on stdout.
    let streamed = std::process::Command::new(&env.bin)
        .args(["import", "--cluster", &env.cluster])
        .output()
        .expect("run ecsd import");
    assert!(streamed.status.success());
    let stream = String::from_utf8_lossy(&streamed.stdout).into_owned();
    assert_eq!(stream.matches("\nkind: Service\n").count(), 4, "{stream}");
    let one = env.dir.with_extension("stream.yaml");
    std::fs::write(&one, &stream).expect("write the stream");
    let valid = std::process::Command::new(&env.bin)
        .arg("validate")
        .arg(&one)
        .output()
        .expect("run ecsd validate");
    assert!(
        valid.status.success(),
        "{}\n{stream}",
        String::from_utf8_lossy(&valid.stderr)
    );
    let plan = std::process::Command::new(&env.bin)
        .args(["plan", "--log-format", "json", "--source"])
        .arg(&imported)
        .output()
        .expect("run ecsd plan");
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&plan.stdout),
        texts.join("\n")
    );
}

/// `ecsd import` of service `n` of the test's cluster into the test's source directory.
fn import(env: &Env, n: &str) -> std::process::Output {
    std::process::Command::new(&env.bin)
        .args(["import", "--cluster", &env.cluster, "--service", n, "--out"])
        .arg(&env.dir)
        .output()
        .expect("run ecsd import")
}

/// The files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
