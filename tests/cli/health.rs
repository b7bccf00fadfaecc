//! Health from AWS's own signals, through the binary against the emulator: a target
//! group is Degraded when its targets fail their health checks (with ELBv2's reason)
//! and Healthy again when they pass; a Service is Degraded while one of its deployment
//! alarms is in ALARM; a ScalingPolicy warns at its maximum and is Degraded after a
//! failed scaling activity. `ecsd status` groups the objects by application.

use std::time::Duration;

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::{aws, eventually, layer};
use serde_json::{Value, json};

/// The stack with a deployment alarm on its Service, and scaling pinned at a maximum
/// of 2 while the service wants 2.
fn stack(env: &Env, n: &str, alarm: &str) -> String {
    env.stack(n, "web:1", 2, true, 10)
        .replace(
            "circuitBreaker: {enable: true, rollback: true}}",
            &format!("circuitBreaker: {{enable: true, rollback: true}}, alarms: {{alarmNames: [{alarm}]}}}}"),
        )
        .replace("minCapacity: 2\n  maxCapacity: 10", "minCapacity: 1\n  maxCapacity: 2")
}

fn put_alarm(name: &str) {
    aws(
        "cloudwatch",
        "put_metric_alarm",
        &json!({
            "AlarmName": name, "Namespace": "AWS/ApplicationELB",
            "MetricName": "HTTPCode_Target_5XX_Count", "Statistic": "Sum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold",
        }),
    );
}

fn set_alarm(name: &str, state: &str, reason: &str) {
    aws(
        "cloudwatch",
        "set_alarm_state",
        &json!({"AlarmName": name, "StateValue": state, "StateReason": reason}),
    );
}

/// Waits until the object satisfies `ok`, failing with the status document.
fn until(
    daemon: &Daemon,
    kind: &str,
    name: &str,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    eventually(Duration::from_secs(60), || {
        let o = daemon.object(kind, name);
        ok(&o).then_some(o)
    })
    .unwrap_or_else(|| panic!("{kind} {name}: {what}:\n{:#}", daemon.status()))
}

#[test]
fn target_health_deployment_alarms_and_scaling_come_from_aws_signals() {
    let env = Env::new(env!("CARGO_BIN_EXE_ecsd"));
    let n = env.name.clone();
    let alarm = format!("{n}-5xx");
    put_alarm(&alarm);
    set_alarm(
        &alarm,
        "OK",
        "Threshold Crossed: no datapoints were breaching",
    );
    env.write("stack.yaml", &stack(&env, &n, &alarm));
    let daemon = Daemon::start(
        &env,
        &[
            "--resync",
            "2s",
            "--health-interval",
            "2s",
            "--scaling-bound-warning",
            "1s",
        ],
    );
    until(&daemon, "TargetGroup", &n, "Synced", |o| {
        o["sync"] == "Synced"
    });
    // The rollout finishes: ECS registers each running task with the target group.
    env.complete_deployment(&n);
    let tg = until(&daemon, "TargetGroup", &n, "two healthy targets", |o| {
        o["health"] == "Healthy"
            && o["details"]["targets"]
                .as_array()
                .is_some_and(|t| t.len() == 2)
    });
    let targets = tg["details"]["targets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(targets.len(), 2, "one target per running task: {tg:#}");
    assert!(targets.iter().all(|t| t["state"] == "healthy"), "{tg:#}");
    let service = until(&daemon, "Service", &n, "Healthy", |o| {
        o["health"] == "Healthy"
    });
    assert_eq!(
        service["details"]["alarms"][0]["state"], "OK",
        "{service:#}"
    );

    // The scaling policy sits at its maximum (2 of 1-2) past the warning time.
    let sp = until(
        &daemon,
        "ScalingPolicy",
        &n,
        "a warning at its maximum",
        |o| {
            o["warnings"].as_array().is_some_and(|w| {
                w.iter().any(|w| {
                    w.as_str()
                        .is_some_and(|w| w.starts_with("at its maximum of 2"))
                })
            })
        },
    );
    assert_eq!(sp["health"], "Healthy", "a warning, not a verdict: {sp:#}");
    assert_eq!(sp["details"]["scaling"]["atBound"], "maximum", "{sp:#}");

    // Every target fails its health check: Degraded, with ELBv2's reason.
    let arn = env.target_group(&n).expect("target group")["TargetGroupArn"].clone();
    layer(
        "elbv2/target-health",
        &json!({"targetGroupArn": arn, "state": "unhealthy", "reason": "Target.ResponseCodeMismatch",
                "description": "Health checks failed with these codes: [502]"}),
    );
    let tg = until(&daemon, "TargetGroup", &n, "Degraded", |o| {
        o["health"] == "Degraded"
    });
    let message = tg["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("no healthy target")
            && message.contains(
                "Target.ResponseCodeMismatch (Health checks failed with these codes: [502])"
            ),
        "{tg:#}"
    );
    assert_eq!(
        tg["details"]["targets"][0]["reason"],
        "Target.ResponseCodeMismatch"
    );
    // They pass again: Healthy.
    layer(
        "elbv2/target-health",
        &json!({"targetGroupArn": arn, "state": null}),
    );
    until(&daemon, "TargetGroup", &n, "Healthy again", |o| {
        o["health"] == "Healthy"
    });

    // A deployment alarm goes off: the Service is Degraded, and recovers with it.
    set_alarm(
        &alarm,
        "ALARM",
        "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0)",
    );
    let svc = until(&daemon, "Service", &n, "Degraded by its alarm", |o| {
        o["health"] == "Degraded"
    });
    assert!(
        svc["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!(
                "deployment alarm {alarm} is in ALARM: Threshold Crossed"
            )),
        "{svc:#}"
    );
    set_alarm(&alarm, "OK", "Threshold Crossed: back below");
    until(&daemon, "Service", &n, "Healthy again", |o| {
        o["health"] == "Healthy"
    });

    // A scaling activity fails: Degraded with Application Auto Scaling's message.
    layer(
        "scaling/activity",
        &json!({"resourceId": env.resource_id(&n), "statusCode": "Failed",
                "statusMessage": "Failed to set desired count to 3. Reason: service is not ACTIVE",
                "description": "Setting desired count to 3."}),
    );
    let sp = until(
        &daemon,
        "ScalingPolicy",
        &n,
        "Degraded by a failed activity",
        |o| o["health"] == "Degraded",
    );
    assert!(
        sp["message"]
            .as_str()
            .unwrap_or_default()
            .contains("service is not ACTIVE"),
        "{sp:#}"
    );

    // /status groups the stack as one application, with its Service's tasks.
    let status = daemon.status();
    let app = status["applications"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == n.as_str()).cloned())
        .unwrap_or_else(|| panic!("no application {n}: {status:#}"));
    assert_eq!(app["objects"].as_array().map(Vec::len), Some(3), "{app:#}");
    assert_eq!(
        (app["running"].as_u64(), app["desired"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        app["health"], "Degraded",
        "the worst of its objects: {app:#}"
    );
}

#[test]
fn ecsd_status_groups_objects_by_application_in_text_and_json() {
    let env = Env::new(env!("CARGO_BIN_EXE_ecsd"));
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    env.converge();
    env.complete_deployment(&n);
    let run = env.ecsd(&["status"]);
    let text = run.stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with(&n))
        .unwrap_or_else(|| panic!("no application line for {n}:\n{text}"));
    assert!(lines[head].contains("2/2 tasks"), "{text}");
    for kind in ["Service", "TargetGroup", "ScalingPolicy"] {
        assert!(
            lines[head + 1..=head + 3]
                .iter()
                .any(|l| l.starts_with(&format!("  {kind}/{n} "))),
            "{kind}/{n} under its application:\n{text}"
        );
    }
    assert_eq!(run.code, 0, "{}", run.output());
    let json_run = env.ecsd(&["status", "--output", "json"]);
    let status: Value = serde_json::from_str(&json_run.stdout)
        .unwrap_or_else(|e| panic!("status JSON: {e}:\n{}", json_run.output()));
    assert_eq!(status["applications"][0]["name"], n.as_str(), "{status:#}");
    let tg = status["objects"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["kind"] == "TargetGroup").cloned())
        .unwrap_or_default();
    assert_eq!(tg["application"], n.as_str(), "{tg:#}");
    assert_eq!(
        tg["details"]["targets"].as_array().map(Vec::len),
        Some(2),
        "{tg:#}"
    );
}
