//! `ecsd run` and `ecsd status` through the built binary against the AWS emulator: a
//! directory source edited while it runs, drift corrected within one resync (or only
//! reported), a broken document isolated, the HTTP endpoints, SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecsd_tests::env::Env;
use ecsd_tests::{aws, eventually, free_port, http, unique_name};
use serde_json::{Value, json};

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// A running `ecsd run`, killed when dropped.
struct Daemon {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Daemon {
    fn start(env: &Env, extra: &[&str]) -> Daemon {
        Daemon::start_on(env, env.dir.to_str().expect("utf-8"), extra)
    }

    fn start_on(env: &Env, source: &str, extra: &[&str]) -> Daemon {
        let port = free_port();
        let log = env.dir.with_extension("log");
        let stderr = std::fs::File::create(&log).expect("log file");
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(&env.bin)
            .args(["run", "--source", source, "--owner", &env.owner])
            .args([
                "--listen",
                &listen,
                "--log-format",
                "json",
                "--interval",
                "1s",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start ecsd run");
        let d = Daemon { child, port, log };
        let ready = eventually(Duration::from_secs(30), || {
            match http("GET", port, "/readyz") {
                Some((200, _)) => Some(()),
                _ => None,
            }
        });
        assert!(
            ready.is_some(),
            "ecsd run never became ready:\n{}",
            d.logs()
        );
        d
    }

    fn status(&self) -> Value {
        let (code, body) = http("GET", self.port, "/status").expect("/status answers");
        assert_eq!(code, 200);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/status JSON: {e}: {body}"))
    }

    fn object(&self, kind: &str, name: &str) -> Value {
        self.status()["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM; returns the exit code and how long the process took to stop.
    fn terminate(mut self) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let code = eventually(Duration::from_secs(30), || {
            self.child.try_wait().ok().flatten()
        })
        .and_then(|s| s.code());
        (code, started.elapsed())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn task_definition_of(env: &Env, service: &str) -> String {
    env.service(service)["taskDefinition"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn run_applies_the_source_serves_its_endpoints_and_picks_up_an_edit() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
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
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let daemon = Daemon::start(&env, &["--resync", "2s"]);
    aws(
        "ecs",
        "update_service",
        &json!({"cluster": env.cluster, "service": n, "desiredCount": 5}),
    );
    let fixed = eventually(Duration::from_secs(10), || {
        (env.service(&n)["desiredCount"] == 2).then_some(())
    });
    assert!(
        fixed.is_some(),
        "drift not corrected within a resync:\n{}",
        daemon.logs()
    );
    drop(daemon);

    let daemon = Daemon::start(&env, &["--resync", "10m"]);
    aws(
        "ecs",
        "update_service",
        &json!({"cluster": env.cluster, "service": n, "desiredCount": 6}),
    );
    assert_eq!(http("POST", daemon.port, "/sync").map(|r| r.0), Some(202));
    let fixed = eventually(Duration::from_secs(10), || {
        (env.service(&n)["desiredCount"] == 2).then_some(())
    });
    assert!(
        fixed.is_some(),
        "POST /sync did not correct the drift:\n{}",
        daemon.logs()
    );
}

#[test]
fn drift_report_mode_reports_drift_without_correcting_it() {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let daemon = Daemon::start(&env, &["--resync", "1s", "--drift", "report"]);
    aws(
        "ecs",
        "update_service",
        &json!({"cluster": env.cluster, "service": n, "desiredCount": 5}),
    );
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
    let moved = eventually(Duration::from_secs(10), || {
        (task_definition_of(&env, &b) != b_td).then_some(())
    });
    assert!(
        moved.is_some(),
        "the valid object was not reconciled:\n{}",
        daemon.logs()
    );
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
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    let run = env.ecsd(&["status", "--output", "json"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let service = doc["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["kind"] == "Service")
        .cloned()
        .expect("service");
    assert_eq!(service["sync"], "OutOfSync");
    assert_eq!(service["health"], "Unknown");
    env.apply_ok();
    let run = env.ecsd(&["status", "--output", "json"]);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let service = doc["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["kind"] == "Service")
        .cloned()
        .expect("service");
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
    assert_eq!(run.code, 2, "synced but not healthy");
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
    let applied = eventually(Duration::from_secs(10), || {
        (task_definition_of(&env, &n) != before).then_some(())
    });
    assert!(
        applied.is_some(),
        "the upload was not applied:\n{}",
        daemon.logs()
    );
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
