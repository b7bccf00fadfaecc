//! `ecsd run` and `ecsd status` through the built binary against the AWS emulator: a
//! directory source edited while it runs, drift corrected within one resync (or only
//! reported), a broken document isolated, the HTTP endpoints, SIGTERM; and a bad day:
//! random faults and throttling, per-action buckets in front of a fleet-sized apply,
//! `kill -9` in the middle of a cold apply.

use std::process::Command;
use std::time::{Duration, Instant};

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::git::GitRepo;
use ecsd_tests::proxy::{FaultProxy, Mode};
use ecsd_tests::{aws, emulator_endpoint, eventually, http, unique_name};
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// An environment with one TargetGroup + Service stack named after it (and a
/// ScalingPolicy with `policy`), written to its source directory.
fn with_stack(policy: bool) -> (Env, String) {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, policy, 10));
    (env, n)
}

/// The sum of every sample of the metrics whose lines start with `prefix`.
fn metric_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits until `service` runs another task definition than `before`, or fails with
/// `context()`.
fn expect_new_task_definition(
    env: &Env,
    service: &str,
    before: &str,
    limit: Duration,
    context: impl Fn() -> String,
) {
    let moved = eventually(limit, || {
        (task_definition_of(env, service) != before).then_some(())
    });
    assert!(
        moved.is_some(),
        "{service} still runs {before}: {}",
        context()
    );
}

fn task_definition_of(env: &Env, service: &str) -> String {
    env.service(service)["taskDefinition"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn run_applies_the_source_serves_its_endpoints_and_picks_up_an_edit() {
    let (env, n) = with_stack(true);
    let daemon = Daemon::start(&env, &[]);
    assert_eq!(env.service(&n)["status"], "ACTIVE");
    let status = daemon.status();
    assert!(
        status["revision"].as_str().is_some_and(|r| !r.is_empty()),
        "{status}"
    );
    for kind in ["TargetGroup", "Service", "ScalingPolicy"] {
        assert_eq!(daemon.object(kind, &n)["sync"], "Synced", "{status}");
    }
    assert_eq!(http("GET", daemon.port, "/healthz").map(|r| r.0), Some(200));
    let (code, metrics) = http("GET", daemon.port, "/metrics").expect("/metrics");
    assert_eq!(code, 200);
    for name in [
        "ecsd_reconcile_total{",
        "ecsd_aws_requests_total{",
        "ecsd_objects{",
        "ecsd_source_revision_info{",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}:\n{metrics}");
    }

    let before = task_definition_of(&env, &n);
    env.write("stack.yaml", &env.stack(&n, "web:2", 2, true, 10));
    // The latency is measured by scripts/bench; here it only has to happen.
    let applied = eventually(Duration::from_secs(10), || {
        let td = task_definition_of(&env, &n);
        (td != before).then_some(td)
    });
    let td = applied.unwrap_or_else(|| panic!("the edit was not applied:\n{}", daemon.logs()));
    let image = aws(
        "ecs",
        "describe_task_definition",
        &json!({"taskDefinition": td}),
    );
    assert_eq!(
        image["taskDefinition"]["containerDefinitions"][0]["image"],
        "web:2"
    );
    let logs = daemon.logs();
    assert!(
        logs.lines().any(|l| l.contains("\"message\":\"updated\"")
            && l.contains(&format!("\"name\":\"{n}\""))
            && l.contains("\"revision\"")),
        "one log line for the update, with kind, name and revision:\n{logs}"
    );
    let (code, elapsed) = daemon.terminate();
    assert_eq!(code, Some(0));
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn drift_is_corrected_within_one_resync_and_post_sync_starts_a_pass_at_once() {
    let (env, n) = with_stack(false);
    let daemon = Daemon::start(&env, &["--resync", "2s"]);
    env.set_desired_count(&n, 5);
    assert!(
        env.desired_count_becomes(&n, 2, Duration::from_secs(10)),
        "drift not corrected within a resync:\n{}",
        daemon.logs()
    );
    drop(daemon);

    let daemon = Daemon::start(&env, &["--resync", "10m"]);
    env.set_desired_count(&n, 6);
    assert_eq!(http("POST", daemon.port, "/sync").map(|r| r.0), Some(202));
    assert!(
        env.desired_count_becomes(&n, 2, Duration::from_secs(10)),
        "POST /sync did not correct the drift:\n{}",
        daemon.logs()
    );
}

#[test]
fn drift_report_mode_reports_drift_without_correcting_it() {
    let (env, n) = with_stack(false);
    let daemon = Daemon::start(&env, &["--resync", "1s", "--drift", "report"]);
    env.set_desired_count(&n, 5);
    let reported = eventually(Duration::from_secs(10), || {
        (daemon.object("Service", &n)["sync"] == "OutOfSync").then_some(())
    });
    assert!(reported.is_some(), "drift not reported:\n{}", daemon.logs());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        env.service(&n)["desiredCount"],
        5,
        "only reported, not corrected"
    );
    assert!(
        daemon.object("Service", &n)["message"]
            .as_str()
            .unwrap_or_default()
            .contains("desiredCount")
    );
}

#[test]
fn a_broken_document_leaves_its_service_as_it_was_and_the_others_reconcile() {
    let env = fresh();
    let a = unique_name("a");
    let b = unique_name("b");
    env.write("a.yaml", &env.stack(&a, "a:1", 2, false, 10));
    env.write("b.yaml", &env.stack(&b, "b:1", 2, false, 11));
    let daemon = Daemon::start(&env, &["--prune"]);
    let a_td = task_definition_of(&env, &a);
    let b_td = task_definition_of(&env, &b);
    env.write(
        "a.yaml",
        &env.stack(&a, "a:2", 2, false, 10)
            .replace("desiredCount: 2", "desiredCount: two"),
    );
    env.write("b.yaml", &env.stack(&b, "b:2", 2, false, 11));
    expect_new_task_definition(&env, &b, &b_td, Duration::from_secs(10), || {
        format!("the valid object was not reconciled:\n{}", daemon.logs())
    });
    let broken = eventually(Duration::from_secs(10), || {
        let o = daemon.object("Service", &a);
        (o["sync"] == "Error").then_some(o)
    })
    .unwrap_or_else(|| panic!("no error status:\n{}", daemon.status()));
    let message = broken["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("a.yaml:16:17: error: spec.desiredCount must be an integer"),
        "{message}"
    );
    assert_eq!(
        task_definition_of(&env, &a),
        a_td,
        "the broken service is left exactly as it was"
    );
    assert_eq!(env.service(&a)["status"], "ACTIVE", "and never pruned");
    let logs = daemon.logs();
    assert!(
        logs.contains("a.yaml:16:17"),
        "the error is in the logs with its location:\n{logs}"
    );
}

#[test]
fn status_reports_sync_and_health_and_exits_by_the_contract() {
    let (env, _) = with_stack(false);
    // `ecsd status`: its exit code and the Service's entry of its JSON.
    let status = || {
        let (run, service) = env.service_status();
        (run.code, service)
    };
    let (code, service) = status();
    assert_eq!(code, 2);
    assert_eq!(service["sync"], "OutOfSync");
    assert_eq!(service["health"], "Unknown");
    env.apply_ok();
    let (code, service) = status();
    assert_eq!(service["sync"], "Synced");
    // The emulator never starts tasks: the rollout stays in progress.
    assert_eq!(service["health"], "Progressing");
    assert!(
        service["message"]
            .as_str()
            .unwrap_or_default()
            .contains("0/2 tasks running"),
        "{service}"
    );
    assert_eq!(code, 2, "synced but not healthy");
}

#[test]
fn an_s3_source_applies_an_uploaded_change_within_an_interval_and_survives_an_emptied_bucket() {
    let env = fresh();
    let n = env.name.clone();
    let bucket = unique_name("manifests");
    aws("s3", "create_bucket", &json!({"Bucket": bucket}));
    let put = |image: &str| {
        aws(
            "s3",
            "put_object",
            &json!({"Bucket": bucket, "Key": "prod/stack.yaml", "Body": env.stack(&n, image, 2, false, 10)}),
        );
    };
    put("web:1");
    aws(
        "s3",
        "put_object",
        &json!({"Bucket": bucket, "Key": "prod/notes.txt", "Body": "not a manifest"}),
    );
    let source = format!("s3://{bucket}/prod/");
    let daemon = Daemon::start_on(&env, &source, &[]);
    assert_eq!(env.service(&n)["status"], "ACTIVE");
    let revision = daemon.status()["revision"].clone();

    let before = task_definition_of(&env, &n);
    put("web:2");
    expect_new_task_definition(&env, &n, &before, Duration::from_secs(10), || {
        format!("the upload was not applied:\n{}", daemon.logs())
    });
    assert_ne!(daemon.status()["revision"], revision);

    // A plan reads the same source.
    let out = Command::new(&env.bin)
        .args([
            "plan",
            "--source",
            &source,
            "--owner",
            &env.owner,
            "--log-format",
            "json",
        ])
        .output()
        .expect("plan");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // An emptied bucket is not "delete everything": the last good state stays.
    aws(
        "s3",
        "delete_object",
        &json!({"Bucket": bucket, "Key": "prod/stack.yaml"}),
    );
    let reported = eventually(Duration::from_secs(10), || {
        let errors = daemon.status()["errors"].to_string();
        errors.contains("the source is empty").then_some(())
    });
    assert!(reported.is_some(), "{}", daemon.status());
    assert_eq!(daemon.object("Service", &n)["sync"], "Synced");
    assert_eq!(env.service(&n)["status"], "ACTIVE");
}

/// Whether every kind of `name` is Synced; false while the daemon does not answer yet.
fn all_synced(daemon: &Daemon, name: &str, kinds: &[&str]) -> bool {
    let Some((200, body)) = http("GET", daemon.port, "/status") else {
        return false;
    };
    let status: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    kinds.iter().all(|k| {
        status["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["kind"] == *k && o["name"] == name && o["sync"] == "Synced")
    })
}

#[test]
fn under_injected_faults_run_converges_without_duplicates_and_metrics_show_retries() {
    let env = fresh();
    let proxy = FaultProxy::start(&emulator_endpoint());
    proxy.set_mode(Mode::Faulty { every: 4 });
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let daemon = Daemon::spawn(&env, &dir, &["--resync", "3s"], Some(&proxy.url()));
    let kinds = ["TargetGroup", "Service", "ScalingPolicy"];
    let converged = eventually(Duration::from_secs(120), || {
        all_synced(&daemon, &n, &kinds).then_some(())
    });
    assert!(
        converged.is_some(),
        "not converged under faults:\n{}\n{}",
        daemon.status(),
        daemon.logs()
    );
    let before = task_definition_of(&env, &n);
    env.write("stack.yaml", &env.stack(&n, "web:2", 2, true, 10));
    expect_new_task_definition(&env, &n, &before, Duration::from_secs(120), || {
        format!("the edit was not applied under faults:\n{}", daemon.logs())
    });
    let settled = eventually(Duration::from_secs(60), || {
        all_synced(&daemon, &n, &kinds).then_some(())
    });
    assert!(settled.is_some(), "{}", daemon.status());

    // Checked on the emulator directly: nothing was created twice.
    let tgs = aws("elbv2", "describe_target_groups", &json!({"Names": [n]}));
    assert_eq!(tgs["TargetGroups"].as_array().map(Vec::len), Some(1));
    let services = aws("ecs", "list_services", &json!({"cluster": env.cluster}));
    assert_eq!(services["serviceArns"].as_array().map(Vec::len), Some(1));
    let family = aws("ecs", "list_task_definitions", &json!({"familyPrefix": n}));
    assert_eq!(
        family["taskDefinitionArns"].as_array().map(Vec::len),
        Some(2),
        "one revision per image: {family}"
    );
    assert_eq!(env.policies(&n).len(), 1);
    let ours = env
        .rules("listener")
        .iter()
        .filter(|r| r["Priority"] == "10")
        .count();
    assert_eq!(ours, 1);

    let faults = proxy.faults();
    for kind in ["throttled", "unavailable", "answer_lost"] {
        assert!(
            faults.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} fault was injected: {faults:?}"
        );
    }
    let (_, metrics) = http("GET", daemon.port, "/metrics").expect("/metrics");
    let retries = metric_sum(&metrics, "ecsd_aws_retries_total{");
    assert!(retries > 0.0, "no retries in /metrics:\n{metrics}");
}

#[test]
fn after_an_emulator_outage_run_recovers_by_itself() {
    let env = fresh();
    let proxy = FaultProxy::start(&emulator_endpoint());
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let daemon = Daemon::spawn(&env, &dir, &[], Some(&proxy.url()));
    daemon.wait_ready();
    let before = task_definition_of(&env, &n);

    proxy.set_mode(Mode::Down);
    env.write("stack.yaml", &env.stack(&n, "web:2", 2, false, 10));
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        task_definition_of(&env, &n),
        before,
        "nothing reaches AWS during the outage"
    );
    assert_eq!(
        http("GET", daemon.port, "/healthz").map(|r| r.0),
        Some(200),
        "the process still works"
    );

    proxy.set_mode(Mode::Pass);
    expect_new_task_definition(&env, &n, &before, Duration::from_secs(60), || {
        format!("did not recover after the outage:\n{}", daemon.logs())
    });
    let clean = eventually(Duration::from_secs(30), || {
        (daemon.status()["errors"] == json!([])).then_some(())
    });
    assert!(clean.is_some(), "{}", daemon.status());
}

#[test]
fn sigterm_during_a_pass_exits_0_within_the_shutdown_timeout() {
    let env = fresh();
    let proxy = FaultProxy::start(&emulator_endpoint());
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let daemon = Daemon::spawn(
        &env,
        &dir,
        &["--shutdown-timeout", "5s"],
        Some(&proxy.url()),
    );
    daemon.wait_ready();
    // AWS hangs: the pass POST /sync starts waits on it.
    proxy.set_mode(Mode::BlackHole);
    assert_eq!(http("POST", daemon.port, "/sync").map(|r| r.0), Some(202));
    std::thread::sleep(Duration::from_secs(1));
    let (code, elapsed) = daemon.terminate();
    assert_eq!(code, Some(0));
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn aws_rps_caps_the_request_rate() {
    let (env, _) = with_stack(false);
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let started = Instant::now();
    let daemon = Daemon::spawn(&env, &dir, &["--aws-rps", "8", "--resync", "1s"], None);
    daemon.wait_ready();
    std::thread::sleep(Duration::from_secs(3));
    let (_, metrics) = http("GET", daemon.port, "/metrics").expect("/metrics");
    let elapsed = started.elapsed().as_secs_f64();
    let calls = metric_sum(&metrics, "ecsd_aws_requests_total{");
    assert!(calls > 10.0, "enough calls to measure: {calls}");
    // At 8/s with a burst of 16, at most 8 * elapsed + 16 requests can have been made.
    assert!(
        calls <= 8.0 * elapsed + 16.0,
        "{calls} calls in {elapsed:.1} s exceed --aws-rps 8"
    );
}

#[test]
fn a_git_source_applies_a_new_commit_and_status_shows_its_id() {
    let env = fresh();
    let n = env.name.clone();
    let repo = GitRepo::new(&env);
    let commit =
        |image: &str, message: &str| repo.commit(&env.stack(&n, image, 2, false, 10), message);
    let first = commit("web:1", "first");
    let source = repo.source();
    let daemon = Daemon::start_on(&env, &source, &["--cache-dir", &repo.cache()]);
    assert_eq!(
        daemon.status()["revision"],
        first.as_str(),
        "the revision is the commit id"
    );
    assert_eq!(env.service(&n)["status"], "ACTIVE");

    let before = task_definition_of(&env, &n);
    let second = commit("web:2", "new image");
    expect_new_task_definition(&env, &n, &before, Duration::from_secs(15), || {
        format!("the new commit was not applied:\n{}", daemon.logs())
    });
    let shown = eventually(Duration::from_secs(5), || {
        (daemon.status()["revision"] == second.as_str()).then_some(())
    });
    assert!(shown.is_some(), "{}", daemon.status());

    // A ref pins what is applied; a plan reads the same source.
    let pinned = format!("{source}#{first}");
    let out = Command::new(&env.bin)
        .args([
            "plan",
            "--source",
            &pinned,
            "--owner",
            &env.owner,
            "--cache-dir",
            &repo.cache(),
        ])
        .args(["--output", "json", "--log-format", "json"])
        .output()
        .expect("plan");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(2), "{plan}");
    assert_eq!(plan["revision"], first.as_str());
    assert_eq!(plan["changes"][0]["diff"][0]["to"], "web:1");
}

/// GitHub's `X-Hub-Signature-256` of `body` under `secret` (computed by Python's hmac,
/// independently of ecsd's code).
fn github_signature(secret: &str, body: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; print('sha256=' + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
            secret,
            body,
        ])
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `POST /hooks/git`: a push announced by a signed webhook is fetched and applied at
/// once, with the fetch interval at 5 minutes; a forged signature gets 401 and nothing
/// is fetched.
#[test]
fn a_signed_push_webhook_applies_a_commit_at_once_and_a_forged_one_fetches_nothing() {
    let env = fresh();
    let n = env.name.clone();
    let repo = GitRepo::new(&env);
    let commit = |image: &str| repo.commit(&env.stack(&n, image, 2, false, 10), image);
    let first = commit("web:1");
    let secret = "hook-s3cret";
    let daemon = Daemon::spawn_with(
        &env,
        &repo.source(),
        &[
            "--cache-dir",
            &repo.cache(),
            "--interval",
            "300s",
            "--resync",
            "10m",
        ],
        None,
        &[("ECSD_WEBHOOK_SECRET", secret)],
    );
    daemon.wait_ready();
    assert_eq!(daemon.status()["revision"], first.as_str());

    let second = commit("web:2");
    let body = format!("{{\"ref\":\"refs/heads/main\",\"after\":\"{second}\"}}");
    let post = |signature: &str| {
        ecsd_tests::http_with_headers(
            "POST",
            daemon.port,
            "/hooks/git",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", signature),
                ("Content-Type", "application/json"),
            ],
            &body,
        )
    };
    // Forged: 401, and the commit is not fetched.
    let forged = post(&github_signature("not-the-secret", &body));
    assert_eq!(forged.map(|(code, _)| code), Some(401));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        daemon.status()["revision"],
        first.as_str(),
        "nothing fetched for a forged delivery"
    );

    // Signed: fetched and applied now, not at the 5-minute interval.
    let signed = post(&github_signature(secret, &body));
    assert_eq!(signed.map(|(code, _)| code), Some(202));
    let shown = eventually(Duration::from_secs(20), || {
        (daemon.status()["revision"] == second.as_str()).then_some(())
    });
    assert!(shown.is_some(), "{}\n{}", daemon.status(), daemon.logs());
    let applied = eventually(Duration::from_secs(20), || {
        env.task_definition(&n)["taskDefinition"]["containerDefinitions"][0]["image"]
            .as_str()
            .filter(|i| *i == "web:2")
            .map(|_| ())
    });
    assert!(applied.is_some(), "{}", daemon.logs());
}

#[test]
fn sighup_starts_a_pass_and_logs_never_carry_secrets_or_credentials() {
    let (env, n) = with_stack(false);
    let daemon = Daemon::start(&env, &["--resync", "10m"]);
    env.set_desired_count(&n, 4);
    let _ = Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status();
    assert!(
        env.desired_count_becomes(&n, 2, Duration::from_secs(10)),
        "SIGHUP did not start a pass:\n{}",
        daemon.logs()
    );
    let logs = daemon.logs();
    for secret in ["zebra-7f3a", "db-Zebra9", "AWS_SECRET_ACCESS_KEY"] {
        assert!(!logs.contains(secret), "{secret} is in the logs:\n{logs}");
    }
    if let Ok(key) = std::env::var("AWS_SECRET_ACCESS_KEY") {
        let quoted = format!("\"{key}\"");
        assert!(
            !logs.contains(&quoted),
            "the secret access key is in the logs"
        );
    }
}

/// `count` stacks named `{prefix}-{i}` in one file, listener rule priorities from 100.
fn fleet(env: &Env, prefix: &str, count: usize, policy: bool) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}-{i}")).collect();
    let text: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| env.stack(n, "web:1", 1, policy, 100 + i as u32))
        .collect();
    env.write("fleet.yaml", &text.join("---\n"));
    names
}

/// Whether every stack of `names` (TargetGroup, Service, ScalingPolicy) is Synced
/// within `limit`.
fn fleet_synced_within(daemon: &Daemon, names: &[String], limit: Duration) -> bool {
    let kinds = ["TargetGroup", "Service", "ScalingPolicy"];
    eventually(limit, || {
        names
            .iter()
            .all(|n| all_synced(daemon, n, &kinds))
            .then_some(())
    })
    .is_some()
}

/// Checked on the emulator directly, in a few bulk reads: each stack's target group,
/// listener rule, service, task definition revision and (with `policy`) scalable
/// target and policy exist exactly once.
fn assert_no_duplicates(env: &Env, names: &[String], policy: bool) {
    let services = aws("ecs", "list_services", &json!({"cluster": env.cluster}));
    assert_eq!(
        services["serviceArns"].as_array().map(Vec::len),
        Some(names.len()),
        "{services}"
    );
    let tgs = aws("elbv2", "describe_target_groups", &json!({"Names": names}));
    let tgs = tgs["TargetGroups"].as_array().cloned().unwrap_or_default();
    let revisions = aws("ecs", "list_task_definitions", &json!({"maxResults": 100}));
    let revisions: Vec<String> = revisions["taskDefinitionArns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    let rules = env.rules("listener");
    let rids: Vec<String> = names.iter().map(|n| env.resource_id(n)).collect();
    let targets = aws(
        "application-autoscaling",
        "describe_scalable_targets",
        &json!({"ServiceNamespace": "ecs", "ResourceIds": rids}),
    );
    let count = |list: &Value, key: &str, want: &str| {
        list[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["ResourceId"] == want)
            .count()
    };
    for n in names {
        let mine: Vec<&Value> = tgs.iter().filter(|t| t["TargetGroupName"] == *n).collect();
        assert_eq!(mine.len(), 1, "one target group {n}");
        let arn = &mine[0]["TargetGroupArn"];
        let forwarding = rules
            .iter()
            .filter(|r| r["Actions"][0]["TargetGroupArn"] == *arn)
            .count();
        assert_eq!(forwarding, 1, "one rule forwards to {n}");
        let family = format!("task-definition/{n}:");
        let revs = revisions.iter().filter(|a| a.contains(&family)).count();
        assert_eq!(
            revs, 1,
            "one revision of {n}, which never changed: {revisions:?}"
        );
        if policy {
            let rid = env.resource_id(n);
            assert_eq!(count(&targets, "ScalableTargets", &rid), 1, "{n}");
            assert_eq!(env.policies(n).len(), 1, "{n}");
        }
    }
}

#[test]
fn run_converges_behind_random_faults_and_throttling_without_duplicates() {
    let env = fresh();
    let proxy = FaultProxy::start(&emulator_endpoint());
    // Rates as seen on a bad day: 30% throttled, 10% 503, 5% answers lost.
    proxy.set_mode(Mode::Random {
        throttled: 0.30,
        unavailable: 0.10,
        answer_lost: 0.05,
    });
    let names = fleet(&env, &env.name.clone(), 2, true);
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let started = Instant::now();
    let daemon = Daemon::spawn(&env, &dir, &["--resync", "3s"], Some(&proxy.url()));
    assert!(
        fleet_synced_within(&daemon, &names, Duration::from_secs(60)),
        "not converged within 60 s under faults ({:?} injected):\n{}\n{}",
        proxy.faults(),
        daemon.status(),
        daemon.logs()
    );
    let took = started.elapsed();
    assert_no_duplicates(&env, &names, true);
    let faults = proxy.faults();
    assert!(
        faults.get("throttled").copied().unwrap_or(0) > 0,
        "{faults:?} in {took:?}"
    );
    let (_, metrics) = http("GET", daemon.port, "/metrics").expect("/metrics");
    assert!(
        metric_sum(&metrics, "ecsd_aws_throttled_total{") > 0.0,
        "throttles show in /metrics:\n{metrics}"
    );
}

#[test]
fn a_cold_apply_of_40_stacks_keeps_to_per_action_buckets_it_is_not_told() {
    let env = fresh();
    let proxy = FaultProxy::start(&emulator_endpoint());
    let (burst, rate) = (10.0, 2.0);
    for action in [
        "RegisterTaskDefinition",
        "CreateService",
        "CreateTargetGroup",
    ] {
        proxy.set_bucket(action, burst, rate);
    }
    let names = fleet(&env, &env.name.clone(), 40, false);
    let started = Instant::now();
    let run = Command::new(&env.bin)
        .args(["apply", "--source", env.dir.to_str().expect("utf-8")])
        .args(["--owner", &env.owner, "--log-format", "json"])
        .env("AWS_ENDPOINT_URL", proxy.url())
        .output()
        .expect("run ecsd apply");
    let took = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert_no_duplicates(&env, &names, false);
    // The buckets allow 40 calls of each action in (40 - burst) / rate seconds.
    let allowed = (40.0 - burst) / rate;
    assert!(
        took <= 2.0 * allowed,
        "took {took:.1} s; the buckets allow {allowed} s"
    );
    let by_action = proxy.requests_by_action();
    let writes: u64 = by_action
        .iter()
        .filter(|(a, _)| !["Describe", "List", "Get"].iter().any(|p| a.starts_with(p)))
        .map(|(_, n)| n)
        .sum();
    let throttled = proxy.faults().get("throttled").copied().unwrap_or(0);
    assert!(
        throttled * 4 <= writes,
        "{throttled} throttled answers for {writes} writes: {by_action:?}"
    );
}

/// Starts `ecsd run` on a cold fleet of 20 stacks, kills it with SIGKILL after
/// `base` plus up to `spread` ms, starts it again, and checks it converges with
/// nothing made twice; `ECSD_KILL_TRIALS` times (default once: scripts/bench runs more).
fn killed_mid_apply_converges(base: u64, spread: u64) {
    let trials: usize = std::env::var("ECSD_KILL_TRIALS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    for _ in 0..trials {
        kill_trial(Duration::from_millis(base + fastrand_ms(spread)));
    }
}

fn kill_trial(kill_after: Duration) {
    let env = fresh();
    let names = fleet(&env, &env.name.clone(), 20, true);
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let mut first = Daemon::spawn(&env, &dir, &[], None);
    std::thread::sleep(kill_after);
    let _ = first.child.kill();
    let _ = first.child.wait();
    let second = Daemon::spawn(&env, &dir, &[], None);
    assert!(
        fleet_synced_within(&second, &names, Duration::from_secs(90)),
        "not converged after a kill at {kill_after:?}:\n{}\nfirst run:\n{}\nsecond run:\n{}",
        second.status(),
        first.logs(),
        second.logs()
    );
    assert_no_duplicates(&env, &names, true);
}

#[test]
fn killed_early_in_a_cold_apply_run_converges_without_duplicates() {
    killed_mid_apply_converges(400, 400);
}

#[test]
fn killed_midway_through_a_cold_apply_run_converges_without_duplicates() {
    killed_mid_apply_converges(900, 600);
}

#[test]
fn killed_late_in_a_cold_apply_run_converges_without_duplicates() {
    killed_mid_apply_converges(1600, 1200);
}

/// A different moment each run, below `spread` ms (from the clock: tests need no better).
fn fastrand_ms(spread: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    nanos % spread.max(1)
}
