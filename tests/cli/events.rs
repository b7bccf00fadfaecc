//! `ecsd run --events` through the built binary against the AWS emulator: events sent
//! the way AWS sends them (EventBridge PutEvents to a rule whose target is the SQS queue,
//! S3's EventBridge notifications) in the shapes AWS documents (docs/aws-behaviours.md,
//! "event-feed"). The resync is 30 minutes in every test, so only an event can explain
//! a change acted on within seconds.

use std::time::Duration;

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::{Env, PAUSE_AFTER_TEST_TRAFFIC};
use ecsd_tests::proxy::{FaultProxy, Mode};
use ecsd_tests::{aws, emulator_endpoint, eventually, fixture, http, unique_name};
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// A new queue: (URL, ARN).
fn queue() -> (String, String) {
    let name = unique_name("events");
    let url = aws("sqs", "create_queue", &json!({"QueueName": name}))["QueueUrl"]
        .as_str()
        .expect("queue url")
        .to_owned();
    let arn = aws(
        "sqs",
        "get_queue_attributes",
        &json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
    )["Attributes"]["QueueArn"]
        .as_str()
        .expect("queue arn")
        .to_owned();
    (url, arn)
}

/// A queue, an event bus of the test's own and a rule on it sending `pattern`'s events
/// to the queue, as deploy/cloudformation/ecsd.yaml sets up on the default bus:
/// (queue URL, bus name).
fn feed(pattern: &Value) -> (String, String) {
    let (url, arn) = queue();
    let name = unique_name("bus");
    aws("events", "create_event_bus", &json!({"Name": name}));
    aws(
        "events",
        "put_rule",
        &json!({"Name": name, "EventBusName": name, "EventPattern": pattern.to_string()}),
    );
    aws(
        "events",
        "put_targets",
        &json!({"Rule": name, "EventBusName": name, "Targets": [{"Id": "ecsd", "Arn": arn}]}),
    );
    (url, name)
}

/// The rule of the CloudFormation template: ECS events and the API calls of the four
/// services ecsd manages.
fn aws_pattern() -> Value {
    json!({"source": ["aws.ecs", "aws.elasticloadbalancing", "aws.application-autoscaling", "aws.codedeploy"]})
}

/// Sends a CloudTrail "AWS API Call via CloudTrail" event (the EventBridge user guide's
/// shape) through the bus.
fn api_call(bus: &str, source: &str, event_source: &str, name: &str, request: &Value) {
    let detail = json!({
        "eventVersion": "1.08", "eventSource": event_source, "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "userAgent": "console.amazonaws.com",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/Admin/alice"},
        "requestParameters": request, "responseElements": null,
        "eventType": "AwsApiCall", "managementEvent": true, "eventCategory": "Management"
    });
    let answer = aws(
        "events",
        "put_events",
        &json!({"Entries": [{"Source": source, "DetailType": "AWS API Call via CloudTrail",
            "Detail": detail.to_string(), "EventBusName": bus}]}),
    );
    assert_eq!(answer["FailedEntryCount"], 0, "{answer}");
}

fn queue_depth(url: &str) -> (u64, u64) {
    let a = aws(
        "sqs",
        "get_queue_attributes",
        &json!({"QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
    );
    let n = |k: &str| {
        a["Attributes"][k]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX)
    };
    (
        n("ApproximateNumberOfMessages"),
        n("ApproximateNumberOfMessagesNotVisible"),
    )
}

#[test]
fn drift_with_its_cloudtrail_event_is_corrected_at_once_with_a_30_minute_resync() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let (queue, bus) = feed(&aws_pattern());
    let daemon = Daemon::start(
        &env,
        &[
            "--events",
            &queue,
            "--resync",
            "30m",
            "--events-resync",
            "30m",
        ],
    );
    let feed_status = daemon.status()["eventFeed"].clone();
    assert_eq!(feed_status["resyncSeconds"], 1800, "{feed_status}");

    // A desired count changed in the console, then its CloudTrail event.
    env.set_desired_count(&n, 5);
    api_call(
        &bus,
        "aws.ecs",
        "ecs.amazonaws.com",
        "UpdateService",
        &json!({"cluster": env.cluster, "service": n, "desiredCount": 5}),
    );
    assert!(
        env.desired_count_becomes(&n, 2, Duration::from_secs(10)),
        "the event did not bring a correction:\n{}",
        daemon.logs()
    );

    // A rule's condition changed, then ELBv2's CloudTrail event naming the rule.
    let rule = env.rule("listener", 10);
    let rule_arn = rule["RuleArn"].as_str().expect("rule arn").to_owned();
    aws(
        "elbv2",
        "modify_rule",
        &json!({"RuleArn": rule_arn, "Conditions": [{"Field": "path-pattern", "Values": ["/hijacked/*"]}]}),
    );
    api_call(
        &bus,
        "aws.elasticloadbalancing",
        "elasticloadbalancing.amazonaws.com",
        "ModifyRule",
        &json!({"ruleArn": rule_arn, "conditions": [{"field": "path-pattern", "values": ["/hijacked/*"]}]}),
    );
    let fixed = eventually(Duration::from_secs(10), || {
        let rule = env.rule("listener", 10);
        (!rule.to_string().contains("/hijacked/*")).then_some(())
    });
    assert!(
        fixed.is_some(),
        "the rule's event did not bring a correction:\n{}",
        daemon.logs()
    );

    let logs = daemon.logs();
    assert!(
        logs.contains("assumed-role/Admin/alice"),
        "who made the change is not logged:\n{logs}"
    );
    let feed_status = daemon.status()["eventFeed"].clone();
    assert_eq!(
        feed_status["received"]["cloudtrail_api_call"], 2,
        "{feed_status}"
    );
    assert_eq!(feed_status["readable"], true);
    assert!(
        feed_status["lastEventAgeSeconds"].as_f64().is_some(),
        "{feed_status}"
    );
    let metrics = http("GET", daemon.port, "/metrics").expect("metrics").1;
    assert!(
        metrics.contains("ecsd_events_received_total{type=\"cloudtrail_api_call\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ecsd_events_last_age_seconds"),
        "{metrics}"
    );
    let drained = eventually(Duration::from_secs(5), || {
        (queue_depth(&queue) == (0, 0)).then_some(())
    });
    assert!(
        drained.is_some(),
        "messages left: {:?}",
        queue_depth(&queue)
    );
}

#[test]
fn an_s3_upload_with_its_event_is_applied_at_once_at_a_5_minute_interval() {
    let env = fresh();
    let n = env.name.clone();
    let bucket = unique_name("manifests");
    aws("s3", "create_bucket", &json!({"Bucket": bucket}));
    aws(
        "s3",
        "put_bucket_notification_configuration",
        &json!({"Bucket": bucket, "NotificationConfiguration": {"EventBridgeConfiguration": {}}}),
    );
    let put = |image: &str| {
        aws(
            "s3",
            "put_object",
            &json!({"Bucket": bucket, "Key": "prod/stack.yaml", "Body": env.stack(&n, image, 2, false, 10)}),
        );
    };
    put("web:1");
    // S3 sends to the default bus; the rule takes this bucket's object events only.
    let (queue, queue_arn) = queue();
    let rule = unique_name("s3");
    aws(
        "events",
        "put_rule",
        &json!({"Name": rule, "EventPattern": json!({"source": ["aws.s3"],
            "detail-type": ["Object Created", "Object Deleted"],
            "detail": {"bucket": {"name": [bucket]}}}).to_string()}),
    );
    aws(
        "events",
        "put_targets",
        &json!({"Rule": rule, "Targets": [{"Id": "ecsd", "Arn": queue_arn}]}),
    );
    let source = format!("s3://{bucket}/prod/");
    let daemon = Daemon::start_on(
        &env,
        &source,
        &["--interval", "5m", "--events", &queue, "--resync", "30m"],
    );
    let before = env.service(&n)["taskDefinition"].clone();
    put("web:2");
    let applied = eventually(Duration::from_secs(10), || {
        (env.service(&n)["taskDefinition"] != before).then_some(())
    });
    assert!(
        applied.is_some(),
        "the upload's event did not fetch the source:\n{}",
        daemon.logs()
    );
    let received = daemon.status()["eventFeed"]["received"].clone();
    assert!(received["s3_object"].as_u64() >= Some(1), "{received}");
}

#[test]
fn a_thousand_duplicated_reordered_and_unknown_events_change_nothing_and_are_all_deleted() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let (queue, _bus) = feed(&aws_pattern());
    let proxy = FaultProxy::start(&emulator_endpoint());
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let daemon = Daemon::spawn(
        &env,
        &dir,
        &["--events", &queue, "--resync", "30m"],
        Some(&proxy.url()),
    );
    daemon.wait_ready();
    let settled = proxy.log().len();

    let service_arn = env.service(&n)["serviceArn"]
        .as_str()
        .expect("arn")
        .to_owned();
    let rule_arn = env.rule("listener", 10)["RuleArn"]
        .as_str()
        .expect("rule")
        .to_owned();
    let cloudtrail = |source: &str, event_source: &str, name: &str, request: Value| {
        json!({"version": "0", "id": unique_name("e"), "detail-type": "AWS API Call via CloudTrail",
            "source": source, "account": "123456789012", "time": "2026-12-03T10:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {"eventSource": event_source, "eventName": name,
                "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/ecsd/task"},
                "requestParameters": request}})
        .to_string()
    };
    let deployment = |state: &str, at: &str| {
        json!({"version": "0", "id": unique_name("e"), "detail-type": "ECS Deployment State Change",
            "source": "aws.ecs", "account": "123456789012", "time": at, "region": "us-east-1",
            "resources": [service_arn],
            "detail": {"eventType": "INFO", "eventName": state, "deploymentId": "ecs-svc/1", "updatedAt": at}})
        .to_string()
    };
    // Duplicates of events about its own objects (as ecsd's own calls come back),
    // deployment events out of order, unknown and broken messages.
    let mut bodies: Vec<String> = Vec::new();
    for i in 0..1000 {
        bodies.push(match i % 8 {
            0 => cloudtrail("aws.ecs", "ecs.amazonaws.com", "UpdateService",
                json!({"cluster": env.cluster, "service": n})),
            1 => cloudtrail("aws.elasticloadbalancing", "elasticloadbalancing.amazonaws.com", "ModifyRule",
                json!({"ruleArn": rule_arn})),
            2 => cloudtrail("aws.application-autoscaling", "application-autoscaling.amazonaws.com",
                "PutScalingPolicy", json!({"serviceNamespace": "ecs", "resourceId": format!("service/{}/{n}", env.cluster)})),
            3 => deployment("SERVICE_DEPLOYMENT_COMPLETED", "2026-12-03T10:05:00Z"),
            4 => deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", "2026-12-03T10:00:00Z"),
            5 => json!({"source": "acme.orders", "detail-type": "Order Placed", "detail": {"id": i}}).to_string(),
            6 => format!("{{not json {i}"),
            _ => cloudtrail("aws.iam", "iam.amazonaws.com", "CreateRole", json!({"roleName": "x"})),
        });
    }
    let file = env.dir.with_extension("bodies.json");
    std::fs::write(&file, serde_json::to_string(&bodies).expect("json")).expect("write");
    fixture(&["send-messages", &queue, file.to_str().expect("utf-8")]);

    let deleted = eventually(Duration::from_secs(60), || {
        let feed = daemon.status()["eventFeed"].clone();
        (feed["deleted"] == 1000).then_some(feed)
    });
    assert!(
        deleted.is_some(),
        "not every message was deleted: {}\n{}",
        daemon.status(),
        daemon.logs()
    );
    // Let the reconciles the events queued finish.
    std::thread::sleep(Duration::from_secs(3));
    let mutating: Vec<String> = proxy.log()[settled..]
        .iter()
        .filter(|r| r.mutates_aws())
        .map(|r| r.action.clone())
        .collect();
    assert!(mutating.is_empty(), "events changed AWS: {mutating:?}");
    assert_eq!(queue_depth(&queue), (0, 0));
    let feed_status = daemon.status()["eventFeed"].clone();
    assert_eq!(feed_status["received"]["unknown"], 250, "{feed_status}");
    assert_eq!(feed_status["received"]["ignored"], 125, "{feed_status}");
    assert_eq!(http("GET", daemon.port, "/healthz").map(|r| r.0), Some(200));
    let logs = daemon.logs();
    assert_eq!(
        logs.matches("event not understood").count(),
        2,
        "each unknown shape is logged once:\n{logs}"
    );
}

#[test]
fn a_stopped_queue_endpoint_falls_back_to_the_short_resync_and_says_why() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let (queue, _bus) = feed(&aws_pattern());
    let sqs = FaultProxy::start(&emulator_endpoint());
    sqs.set_mode(Mode::Down);
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let daemon = Daemon::spawn_with(
        &env,
        &dir,
        &[
            "--events",
            &queue,
            "--resync",
            "2s",
            "--events-resync",
            "30m",
        ],
        None,
        &[("AWS_ENDPOINT_URL_SQS", &sqs.url())],
    );
    let said = eventually(Duration::from_secs(60), || {
        let (_, body) = http("GET", daemon.port, "/status")?;
        let status: Value = serde_json::from_str(&body).ok()?;
        let errors = status["errors"].to_string();
        (errors.contains("cannot read the event queue") && status["eventFeed"]["readable"] == false)
            .then_some(status)
    });
    assert!(
        said.is_some(),
        "the outage is not named:\n{}",
        daemon.logs()
    );
    let ready = http("GET", daemon.port, "/readyz").expect("readyz");
    assert_eq!(ready.0, 503);
    assert!(ready.1.contains("event queue"), "{}", ready.1);
    assert_eq!(daemon.status()["eventFeed"]["resyncSeconds"], 2);

    // Drift is still corrected, by the short resync.
    let applied = eventually(Duration::from_secs(30), || {
        (env.service(&n)["status"] == "ACTIVE").then_some(())
    });
    assert!(applied.is_some(), "{}", daemon.logs());
    env.set_desired_count(&n, 5);
    assert!(
        env.desired_count_becomes(&n, 2, Duration::from_secs(15)),
        "no short resync while the queue is down:\n{}",
        daemon.logs()
    );

    // The queue back: the backstop again, and nothing left to say.
    sqs.set_mode(Mode::Pass);
    let back = eventually(Duration::from_secs(60), || {
        let status = daemon.status();
        (status["eventFeed"]["readable"] == true
            && status["eventFeed"]["resyncSeconds"] == 1800
            && !status["errors"].to_string().contains("event queue"))
        .then_some(())
    });
    assert!(back.is_some(), "{}\n{}", daemon.status(), daemon.logs());
    daemon.wait_ready();
}

#[test]
fn a_paused_hooks_event_shows_awaiting_approval_at_once() {
    let env = fresh();
    let n = env.name.clone();
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:1", "ecsBlueGreen", PAUSE_AFTER_TEST_TRAFFIC),
    );
    env.converge();
    env.complete_deployment(&n);
    let (queue, bus) = feed(&aws_pattern());
    let daemon = Daemon::start(&env, &["--events", &queue, "--resync", "30m"]);
    let before = env.service(&n)["taskDefinition"].clone();
    env.write(
        "nb.yaml",
        &env.native_stack(&n, "web:2", "ecsBlueGreen", PAUSE_AFTER_TEST_TRAFFIC),
    );
    let deployed = eventually(Duration::from_secs(10), || {
        (env.service(&n)["taskDefinition"] != before).then_some(())
    });
    assert!(deployed.is_some(), "{}", daemon.logs());
    // ECS pauses at once (the layer's deployment reaches the hook immediately); the
    // controller would look again 30 s after its update: the event must be faster.
    let service_arn = env.service(&n)["serviceArn"].clone();
    let answer = aws(
        "events",
        "put_events",
        &json!({"Entries": [{"Source": "aws.ecs", "DetailType": "ECS Hook State Change",
            "Resources": [service_arn], "EventBusName": bus,
            "Detail": json!({"eventType": "INFO", "eventName": "HOOK_AWAITING_ACTION"}).to_string()}]}),
    );
    assert_eq!(answer["FailedEntryCount"], 0, "{answer}");
    let shown = eventually(Duration::from_secs(10), || {
        let o = daemon.object("Service", &n);
        o["awaitingApproval"]["stage"].as_str().map(str::to_owned)
    });
    assert_eq!(
        shown.as_deref(),
        Some("POST_TEST_TRAFFIC_SHIFT"),
        "not shown at once: {}\n{}",
        daemon.status(),
        daemon.logs()
    );
    let received = daemon.status()["eventFeed"]["received"].clone();
    assert_eq!(received["ecs_hook_state_change"], 1, "{received}");
}
