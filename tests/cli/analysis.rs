//! Canary analysis through the built binary, against the emulator's CloudWatch with data
//! points the tests write (boto3) for the target groups' ALB dimensions: at a paused
//! ECS deployment ecsd waits out the window, reads the metrics with GetMetricData and
//! continues the deployment, rolls it back, or leaves it to a person, exactly once per
//! pause. (Two replicas and a restart during the window: `cli_replicas`.)

use std::time::Duration;

use ecsd_tests::analysis::{Pair, analysed, continues, deployment};
use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::proxy::FaultProxy;
use ecsd_tests::receiver::{Received, Receiver, assert_documented};
use ecsd_tests::{emulator_endpoint, eventually};
use serde_json::Value;

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

const ERRORS: &str = "        - {name: errors, builtin: errorRate, max: 0.05}\n";

/// Deploys `image` with the analysis and waits (through the daemon's `/status`) until
/// the deployment pauses and the analysis observes; the pause's `analysis` object.
fn paused_and_observing(
    env: &Env,
    daemon: &Daemon,
    stack: &dyn Fn(&str) -> String,
    image: &str,
) -> Value {
    env.write("nb.yaml", &stack(image));
    eventually(Duration::from_secs(40), || {
        let o = daemon.object("Service", &env.name);
        (o["analysis"]["state"] == "observing" && o["awaitingApproval"].is_object())
            .then(|| o["analysis"].clone())
    })
    .unwrap_or_else(|| {
        panic!(
            "the deployment of {image} pauses and its analysis observes: {}\n{}",
            daemon.object("Service", &env.name),
            daemon.logs()
        )
    })
}

#[test]
fn the_controller_continues_a_good_canary_and_rolls_back_a_bad_one_once_each_saying_why() {
    let env = fresh();
    let n = env.name.clone();
    let stack = |image: &str| env.native_stack(&n, image, "canary", &analysed("20s", "", ERRORS));
    env.write("nb.yaml", &stack("web:1"));
    env.converge();
    env.complete_deployment(&n);

    let proxy = FaultProxy::start(&emulator_endpoint());
    let receiver = Receiver::start();
    let hook = format!("webhook+{}", receiver.url("/hook"));
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let flags = ["--resync", "2s", "--notify", &hook];
    let daemon = Daemon::spawn(&env, &dir, &flags, Some(&proxy.url()));
    daemon.wait_ready();

    // A good canary: 1 error in 100 requests per data point.
    let observing = paused_and_observing(&env, &daemon, &stack, "web:2");
    let pair = Pair::of(&env, &n);
    pair.put(&pair.canary, "RequestCount", &[100.0; 20]);
    pair.put(&pair.canary, "HTTPCode_Target_5XX_Count", &[1.0; 20]);
    let arn = observing["deploymentArn"].clone();
    let continued = eventually(Duration::from_secs(60), || {
        (deployment(&arn).1 == "SUCCEEDED").then_some(())
    });
    assert!(
        continued.is_some(),
        "the analysis continued the deployment:\n{}",
        daemon.logs()
    );
    assert_eq!(deployment(&arn).0, "BAKE_TIME");
    let o = daemon.object("Service", &n);
    let a = &o["analysis"];
    assert_eq!(
        (a["outcome"].as_str(), a["action"].as_str()),
        (Some("pass"), Some("continue")),
        "{o}"
    );
    assert_eq!(a["metrics"][0]["value"], 0.01, "{a}");
    assert_eq!(a["metrics"][0]["bound"], "max 0.05");
    assert!(a["metrics"][0]["dataPoints"].as_u64() >= Some(1), "{a}");
    env.complete_deployment(&n);

    // A bad canary: 30 errors in 100 requests.
    let observing = paused_and_observing(&env, &daemon, &stack, "web:3");
    let pair = Pair::of(&env, &n);
    pair.put(&pair.canary, "RequestCount", &[100.0; 20]);
    pair.put(&pair.canary, "HTTPCode_Target_5XX_Count", &[30.0; 20]);
    let arn = observing["deploymentArn"].clone();
    let rolled = eventually(Duration::from_secs(60), || {
        let o = daemon.object("Service", &n);
        (o["health"] == "Degraded").then_some(o)
    })
    .unwrap_or_else(|| {
        panic!(
            "the analysis rolled the deployment back:\n{}",
            daemon.logs()
        )
    });
    let a = &rolled["analysis"];
    assert_eq!(
        (a["outcome"].as_str(), a["action"].as_str()),
        (Some("fail"), Some("rollback")),
        "{rolled}"
    );
    assert!(
        a["reason"]
            .as_str()
            .is_some_and(|r| r.contains("errors 0.3 > max 0.05")),
        "the verdict names the metric, its value and its bound: {a}"
    );
    assert_ne!(deployment(&arn).1, "AWAITING_ACTION");

    // Passes go on; nothing more is sent for either pause.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        continues(&proxy.log()),
        ["CONTINUE", "ROLLBACK"],
        "exactly once per pause"
    );
    let events = daemon.status()["events"].clone();
    let analysis_events: Vec<&Value> = events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["what"] == "canary analysis")
        .collect();
    assert!(
        analysis_events.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("fail (errors 0.3 > max 0.05"))),
        "the event log has the verdict: {events}"
    );
    // One notification per verdict, with every metric's numbers, as documented.
    let told: Vec<Value> = eventually(Duration::from_secs(10), || {
        let told: Vec<Value> = receiver
            .delivered("/hook")
            .iter()
            .map(Received::json)
            .filter(|b| b["event"] == "deployment.analysed")
            .collect();
        (told.len() >= 2).then_some(told)
    })
    .expect("two deployment.analysed notifications");
    let outcomes: Vec<&Value> = told.iter().map(|b| &b["analysis"]["outcome"]).collect();
    assert_eq!(outcomes, ["pass", "fail"], "{told:?}");
    assert_eq!(
        told[1]["analysis"]["metrics"][0]["value"], 0.3,
        "{}",
        told[1]
    );
    assert_documented(&told);

    let (code, page) = ecsd_tests::http("GET", daemon.port, &format!("/ui/object/Service/{n}"))
        .expect("the object page answers");
    assert_eq!(code, 200);
    assert!(
        page.contains("Canary analysis") && page.contains("max 0.05"),
        "{page}"
    );
}

#[test]
fn without_data_apply_wait_leaves_the_pause_to_a_person_and_an_approve_commit_continues_it() {
    let env = fresh();
    let n = env.name.clone();
    let stack = |image: &str, more: &str| {
        env.native_stack(
            &n,
            image,
            "ecsBlueGreen",
            &format!("{}{more}", analysed("20s", "", ERRORS)),
        )
    };
    env.write("nb.yaml", &stack("web:1", ""));
    env.converge();
    env.complete_deployment(&n);

    // apply --wait follows the deployment into the pause, waits out the window, judges
    // it (no data point was written) and stops there, saying so.
    env.write("nb.yaml", &stack("web:2", ""));
    let run = env.ecsd(&[
        "apply",
        "--wait",
        "--wait-timeout",
        "100",
        "--wait-interval",
        "1s",
    ]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(
        run.stdout.contains("observing the window"),
        "{}",
        run.output()
    );
    assert!(
        run.stdout.contains(
            "noData (errors has too few data points (0 of 1 needed)) -> wait for a person"
        ),
        "{}",
        run.output()
    );
    assert!(run.stderr.contains("awaiting approval"), "{}", run.output());
    assert_eq!(
        run.count("ContinueServiceDeployment"),
        0,
        "{}",
        run.output()
    );
    assert_eq!(
        run.count("GetMetricData"),
        1,
        "one call per evaluation: {}",
        run.output()
    );

    let (_, status) = env.service_status();
    assert_eq!(status["analysis"]["outcome"], "noData", "{status}");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("wait for a person")),
        "{status}"
    );
    let id = status["awaitingApproval"]["deployment"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let text = env.ecsd(&["status"]);
    assert!(
        text.stdout
            .contains("analysis: canary analysis of deployment"),
        "{}",
        text.output()
    );
    assert!(text.stdout.contains("errors"), "{}", text.output());

    // The commit wins: one ContinueServiceDeployment, then none.
    env.write("nb.yaml", &stack("web:2", &format!("    approve: {id}\n")));
    let run = env.apply_ok();
    assert_eq!(
        run.count("ContinueServiceDeployment"),
        1,
        "{}",
        run.output()
    );
    let again = env.apply_ok();
    assert_eq!(
        again.count("ContinueServiceDeployment"),
        0,
        "{}",
        again.output()
    );
}

/// Applies until one apply continues or rolls back the pause (the window ends in
/// between); that apply's output.
fn apply_until_acted(env: &Env) -> ecsd_tests::env::Run {
    eventually(Duration::from_secs(60), || {
        let run = env.apply_ok();
        (run.count("ContinueServiceDeployment") > 0).then_some(run)
    })
    .expect("an apply acts on the verdict once the window has ended")
}

#[test]
fn a_relative_latency_bound_passes_when_the_canary_matches_production_and_fails_at_twice() {
    let env = fresh();
    let n = env.name.clone();
    let p99 = "        - {name: p99, builtin: latencyP99, maxRatio: 1.5}\n";
    let stack = |image: &str| env.native_stack(&n, image, "linear", &analysed("20s", "", p99));
    env.write("nb.yaml", &stack("web:1"));
    env.converge();
    env.complete_deployment(&n);

    for (image, factor, action) in [("web:2", 1.0, "continue"), ("web:3", 2.0, "rollback")] {
        env.write("nb.yaml", &stack(image));
        env.apply_ok();
        let pair = Pair::of(&env, &n);
        let latencies: Vec<f64> = (0..20).map(|i| 0.1 + f64::from(i % 5) * 0.05).collect();
        let canary: Vec<f64> = latencies.iter().map(|l| l * factor).collect();
        pair.put(&pair.baseline, "TargetResponseTime", &latencies);
        pair.put(&pair.canary, "TargetResponseTime", &canary);
        let run = apply_until_acted(&env);
        assert_eq!(
            run.count("ContinueServiceDeployment"),
            1,
            "{}",
            run.output()
        );
        assert_eq!(run.count("GetMetricData"), 1, "{}", run.output());
        // The plan says why, with the canary's value, the baseline and the bound.
        let (outcome, cmp) = if action == "continue" {
            ("pass", "within")
        } else {
            ("fail", ">")
        };
        let why = format!("as its canary analysis decided ({outcome}: p99 ");
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(&why))
            .unwrap_or_default();
        assert!(
            line.contains(&format!(
                " {cmp} maxRatio 1.5 of the baseline, baseline 0.3 "
            )),
            "{}",
            run.output()
        );
        // (After the rollback the revision is held, so apply exits 1 saying so.)
        let again = env.ecsd(&["apply"]);
        assert_eq!(
            again.count("ContinueServiceDeployment"),
            0,
            "exactly once: {}",
            again.output()
        );
        if action == "continue" {
            env.complete_deployment(&n);
        }
    }
}
