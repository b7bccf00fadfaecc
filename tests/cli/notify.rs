//! Notifications through the binary (`run --notify`): a local receiver started by the
//! test gets a scripted story — commit, apply, drift, a failed apply with an AWS error,
//! a canary pause, an approval commit — as signed JSON webhooks, Slack Block Kit
//! messages and GitHub commit statuses, each once and in order; a receiver that fails
//! for a minute still gets everything once; one that never answers costs a bounded
//! queue and counted drops, and nothing else.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::{Env, PAUSE_AFTER_TEST_TRAFFIC};
use ecsd_tests::git::GitRepo;
use ecsd_tests::receiver::{Answer, Received, Receiver, assert_documented};
use ecsd_tests::{aws, eventually, http, layer};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

const SECRET: &str = "notify-s3cret-Vb81";
const TOKEN: &str = "ghp_TestToken0123456789";
const ENV_VALUE: &str = "internal-api-7731.corp.example";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-Zq9Xy1";

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// The canary stack of `env` with `image`, an environment value and a secret (neither
/// may ever be sent), `health` as the blue group's health check path and `more` in
/// its deployment block.
fn stack(env: &Env, image: &str, health: &str, more: &str) -> String {
    env.native_stack(
        &env.name,
        image,
        "canary",
        &format!("{PAUSE_AFTER_TEST_TRAFFIC}    canary: {{canaryPercent: 10, canaryBakeTimeMinutes: 3}}\n{more}"),
    )
    .replacen(
        "  port: 5001\n",
        &format!("  port: 5001\n  healthCheck: {{path: {health}}}\n"),
        1,
    )
    .replace(
        "    memory: 512\n",
        "    memory: 512\n    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole\n",
    )
    .replace(
        "portMappings: [{containerPort: 5001}]}",
        &format!(
            "portMappings: [{{containerPort: 5001}}], environment: {{API_HOST: {ENV_VALUE}}}, secrets: {{DB_PASSWORD: \"{SECRET_ARN}\"}}}}"
        ),
    )
}

/// `sha256=<hex>` of HMAC-SHA256(SECRET, body), as a receiver checks it.
fn expected_signature(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The webhook bodies delivered so far: (event, revision).
fn told(receiver: &Receiver) -> Vec<(String, String)> {
    receiver
        .delivered("/hook")
        .iter()
        .map(|r| {
            let v = r.json();
            (
                v["event"].as_str().unwrap_or_default().to_owned(),
                v["revision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Waits until a webhook with `event` (and `revision`, when given) arrived.
fn wait_told(receiver: &Receiver, daemon: &Daemon, event: &str, revision: Option<&str>) {
    let found = eventually(Duration::from_secs(60), || {
        told(receiver)
            .iter()
            .any(|(e, r)| e == event && revision.is_none_or(|want| r == want))
            .then_some(())
    });
    assert!(
        found.is_some(),
        "no {event} ({revision:?}); told so far: {:?}\n{}\n{}",
        told(receiver),
        daemon.status(),
        daemon.logs()
    );
}

/// GitHub statuses received: commit id → states in order.
fn statuses(receiver: &Receiver) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in receiver.delivered("/gh/") {
        let sha = r.path.rsplit('/').next().unwrap_or_default().to_owned();
        out.entry(sha)
            .or_default()
            .push(r.json()["state"].as_str().unwrap_or_default().to_owned());
    }
    out
}

/// Checks a Slack body against Block Kit's documented shape (the "Blocks" reference):
/// a `text` fallback, at most 50 blocks, each of a known type with its required
/// fields and text limits.
fn assert_block_kit(r: &Received) {
    let v = r.json();
    let text = v["text"].as_str().expect("a text fallback");
    assert!(!text.is_empty() && text.chars().count() <= 3000, "{v}");
    let blocks = v["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50, "{v}");
    assert_eq!(blocks[0]["type"], "header", "{v}");
    for b in blocks {
        match b["type"].as_str() {
            Some("header") => {
                assert_eq!(b["text"]["type"], "plain_text", "{b}");
                let t = b["text"]["text"].as_str().expect("header text");
                assert!(!t.is_empty() && t.chars().count() <= 150, "{b}");
            }
            Some("section") => {
                assert!(
                    matches!(b["text"]["type"].as_str(), Some("mrkdwn" | "plain_text")),
                    "{b}"
                );
                let t = b["text"]["text"].as_str().expect("section text");
                assert!(!t.is_empty() && t.chars().count() <= 3000, "{b}");
            }
            Some("context") => {
                let elements = b["elements"].as_array().expect("context elements");
                assert!(!elements.is_empty() && elements.len() <= 10, "{b}");
                for e in elements {
                    assert!(
                        matches!(e["type"].as_str(), Some("mrkdwn" | "plain_text")),
                        "{b}"
                    );
                }
            }
            Some("actions") => {
                let elements = b["elements"].as_array().expect("action elements");
                assert!(!elements.is_empty() && elements.len() <= 25, "{b}");
                for e in elements {
                    assert_eq!(e["type"], "button", "{b}");
                    assert_eq!(e["text"]["type"], "plain_text", "{b}");
                    assert!(
                        e["text"]["text"]
                            .as_str()
                            .is_some_and(|t| t.chars().count() <= 75),
                        "{b}"
                    );
                    assert!(
                        e["url"]
                            .as_str()
                            .is_some_and(|u| u.starts_with("http") && u.len() <= 3000),
                        "{b}"
                    );
                }
            }
            other => panic!("a block type Slack does not have: {other:?} in {v}"),
        }
    }
}

/// Nothing secret in any body or header that left ecsd.
fn assert_nothing_secret(receiver: &Receiver) {
    for r in receiver.received() {
        for needle in [ENV_VALUE, SECRET_ARN, "db-Zq9Xy1", SECRET, TOKEN] {
            assert!(
                !r.body.contains(needle),
                "{needle} sent to {}: {}",
                r.path,
                r.body
            );
        }
        for (k, v) in &r.headers {
            if k != "authorization" {
                assert!(!v.contains(TOKEN) && !v.contains(SECRET), "{k}: {v}");
            }
        }
    }
}

fn metric(daemon: &Daemon, prefix: &str) -> f64 {
    let (_, text) = http("GET", daemon.port, "/metrics").expect("metrics");
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `ecsd run` (resync 2 s) on one TargetGroup + Service stack of `env`'s name, telling
/// `receiver`'s `/hook` as a webhook; `extra` flags, `vars` environment.
fn notifying_one_stack(
    env: &Env,
    receiver: &Receiver,
    extra: &[&str],
    vars: &[(&str, &str)],
) -> Daemon {
    env.write("stack.yaml", &env.stack(&env.name, "web:1", 2, false, 10));
    let hook = format!("webhook+{}", receiver.url("/hook"));
    let mut flags = vec!["--resync", "2s", "--notify", &hook];
    flags.extend_from_slice(extra);
    let daemon = Daemon::spawn_with(env, env.dir.to_str().expect("utf-8"), &flags, None, vars);
    daemon.wait_ready();
    daemon
}

#[test]
fn a_scripted_story_is_told_once_each_in_order_to_every_receiver() {
    let env = fresh();
    let n = env.name.clone();
    let receiver = Receiver::start();
    // The stack exists and its first deployment is done before ecsd runs.
    env.write("nb.yaml", &stack(&env, "web:1", "/healthz", ""));
    env.converge();
    env.complete_deployment(&n);
    std::fs::remove_file(env.dir.join("nb.yaml")).expect("rm");

    let repo = GitRepo::new(&env);
    let r1 = repo.commit(&stack(&env, "web:1", "/healthz", ""), "web:1");
    let hook = receiver.url("/hook");
    let slack = format!("slack+{}", receiver.url("/services/T0/B0/XXXX"));
    let gh_api = receiver.url("/gh");
    let daemon = Daemon::spawn_with(
        &env,
        &repo.source(),
        &[
            "--cache-dir",
            &repo.cache(),
            "--resync",
            "2s",
            "--notify",
            &format!("webhook+{hook}"),
            "--notify",
            &slack,
            "--notify",
            "github://acme/shop",
            "--public-url",
            "https://ecsd.example.com",
        ],
        None,
        &[
            ("ECSD_NOTIFY_SECRET", SECRET),
            ("ECSD_GITHUB_TOKEN", TOKEN),
            ("ECSD_GITHUB_API_URL", &gh_api),
        ],
    );
    daemon.wait_ready();
    wait_told(&receiver, &daemon, "revision.applied", Some(&r1));

    // Drift: another client changes the health check; ecsd puts it back.
    let blue = env.target_group(&format!("{n}-b")).expect("blue");
    aws(
        "elbv2",
        "modify_target_group",
        &json!({"TargetGroupArn": blue["TargetGroupArn"], "HealthCheckPath": "/by-hand"}),
    );
    wait_told(&receiver, &daemon, "drift.corrected", None);

    // A commit AWS refuses: AccessDenied on this group's ModifyTargetGroup.
    let blue_arn = blue["TargetGroupArn"].as_str().expect("arn").to_owned();
    layer(
        "fault",
        &json!({"operation": "ModifyTargetGroup", "code": "AccessDenied", "status": 403,
                "message": "User is not authorized to perform: elasticloadbalancing:ModifyTargetGroup",
                "matching": blue_arn}),
    );
    let r2 = repo.commit(&stack(&env, "web:1", "/ready", ""), "health check /ready");
    wait_told(&receiver, &daemon, "revision.failed", Some(&r2));
    // Failing again on every retry is not news.
    std::thread::sleep(Duration::from_secs(5));
    layer("fault", &json!({"operation": "ModifyTargetGroup"}));
    wait_told(&receiver, &daemon, "revision.applied", Some(&r2));

    // A new image: ECS's canary pauses after test traffic, awaiting approval.
    let r3 = repo.commit(&stack(&env, "web:2", "/ready", ""), "web:2");
    wait_told(&receiver, &daemon, "deployment.paused", Some(&r3));
    let paused = receiver
        .delivered("/hook")
        .into_iter()
        .map(|r| r.json())
        .find(|v| v["event"] == "deployment.paused")
        .expect("the pause");
    let id = paused["deployment"]["deployment"]
        .as_str()
        .expect("the deployment id")
        .to_owned();
    assert_eq!(
        paused["deployment"]["approve"],
        format!("approve: {id}"),
        "{paused}"
    );
    assert_eq!(
        paused["deployment"]["stage"], "POST_TEST_TRAFFIC_SHIFT",
        "{paused}"
    );
    assert_eq!(paused["object"]["kind"], "Service", "{paused}");
    assert_eq!(paused["object"]["name"], n.as_str(), "{paused}");
    assert_eq!(
        paused["url"],
        format!("https://ecsd.example.com/ui/object/Service/{n}"),
        "{paused}"
    );

    // The approval commit continues it; ECS completes it.
    let r4 = repo.commit(
        &stack(&env, "web:2", "/ready", &format!("    approve: {id}\n")),
        "approve",
    );
    wait_told(&receiver, &daemon, "deployment.approved", Some(&r4));
    env.complete_deployment(&n);
    wait_told(&receiver, &daemon, "revision.applied", Some(&r4));
    // A few quiet resyncs: nothing more is said.
    std::thread::sleep(Duration::from_secs(6));

    let got = told(&receiver);
    let expected: Vec<(String, String)> = [
        ("revision.applied", &r1),
        ("drift.corrected", &r1),
        ("revision.failed", &r2),
        ("revision.applied", &r2),
        ("deployment.paused", &r3),
        ("deployment.approved", &r4),
        ("revision.applied", &r4),
    ]
    .iter()
    .map(|(e, r)| ((*e).to_owned(), (*r).clone()))
    .collect();
    assert_eq!(got, expected, "\n{}", daemon.logs());

    // Every webhook signed over its exact body; each id once.
    let hooks = receiver.delivered("/hook");
    let mut ids = Vec::new();
    for r in &hooks {
        let v = r.json();
        assert_eq!(v["version"], "ecsd.notification/v1", "{v}");
        assert_eq!(v["owner"], env.owner.as_str(), "{v}");
        assert_eq!(
            r.headers.get("x-ecsd-event").map(String::as_str),
            v["event"].as_str()
        );
        assert_eq!(
            r.headers.get("x-ecsd-signature"),
            Some(&expected_signature(&r.body)),
            "{}",
            r.body
        );
        assert_eq!(
            r.headers.get("x-ecsd-delivery").map(String::as_str),
            v["id"].as_str()
        );
        ids.push(v["id"].as_str().unwrap_or_default().to_owned());
    }
    let failed = hooks
        .iter()
        .map(Received::json)
        .find(|v| v["event"] == "revision.failed")
        .expect("the failure");
    assert_eq!(failed["errorCode"], "AccessDenied", "{failed}");
    assert_eq!(failed["object"]["kind"], "TargetGroup", "{failed}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), hooks.len(), "a message sent twice");

    // Every body valid against the documented schema (python-jsonschema, Draft 2020-12).
    let bodies: Vec<serde_json::Value> = hooks.iter().map(Received::json).collect();
    assert_documented(&bodies);

    // Slack: the same story, in Block Kit; the pause carries the line to commit.
    let slack_bodies = receiver.delivered("/services/");
    assert_eq!(slack_bodies.len(), expected.len());
    for r in &slack_bodies {
        assert_block_kit(r);
    }
    assert!(
        slack_bodies
            .iter()
            .any(|r| r.body.contains(&format!("approve: {id}"))),
        "no approve line in Slack"
    );

    // GitHub: statuses on the commits ecsd applied, with the token and the context.
    let states = statuses(&receiver);
    assert_eq!(
        states.get(&r1).map(Vec::as_slice),
        Some(&["pending".to_owned(), "success".to_owned()][..]),
        "{states:?}"
    );
    assert_eq!(
        states.get(&r2).map(Vec::as_slice),
        Some(
            &[
                "pending".to_owned(),
                "failure".to_owned(),
                "success".to_owned()
            ][..]
        ),
        "{states:?}"
    );
    assert_eq!(
        states.get(&r3).map(|s| s[0].as_str()),
        Some("pending"),
        "{states:?}"
    );
    assert_eq!(
        states.get(&r4).map(|s| s.last().map(String::as_str)),
        Some(Some("success")),
        "{states:?}"
    );
    for r in receiver.delivered("/gh/") {
        assert!(
            r.path.starts_with("/gh/repos/acme/shop/statuses/"),
            "{}",
            r.path
        );
        assert_eq!(
            r.headers.get("authorization"),
            Some(&format!("Bearer {TOKEN}"))
        );
        assert_eq!(
            r.json()["context"],
            format!("ecsd/{}", env.owner),
            "{}",
            r.body
        );
    }

    assert_nothing_secret(&receiver);
    // The URLs' paths (Slack's is its secret) are not in /status nor the logs.
    let status = daemon.status().to_string();
    let logs = daemon.logs();
    for shown in [&status, &logs] {
        assert!(!shown.contains("XXXX") && !shown.contains(TOKEN) && !shown.contains(SECRET));
    }
    let targets = daemon.status()["notifications"].clone();
    assert_eq!(targets.as_array().map(Vec::len), Some(3), "{targets}");
    assert_eq!(
        metric(&daemon, "ecsd_notifications_total{target=\"webhook:"),
        expected.len() as f64
    );
    assert_eq!(metric(&daemon, "ecsd_notifications_queued{"), 0.0);
}

#[test]
fn a_receiver_down_for_a_minute_gets_every_message_once_and_reconciling_goes_on() {
    let env = fresh();
    let n = env.name.clone();
    let receiver = Receiver::start();
    receiver.set_answer(Answer::Status(500));
    let down_since = Instant::now();
    let daemon = notifying_one_stack(&env, &receiver, &[], &[("ECSD_NOTIFY_SECRET", SECRET)]);
    // While the receiver fails, ecsd corrects drift and applies an edit as usual.
    let tg = env.target_group(&n).expect("the target group");
    aws(
        "elbv2",
        "modify_target_group",
        &json!({"TargetGroupArn": tg["TargetGroupArn"], "HealthCheckPath": "/by-hand"}),
    );
    let corrected = eventually(Duration::from_secs(20), || {
        let tg = env.target_group(&n)?;
        (tg["HealthCheckPath"] != "/by-hand").then_some(())
    });
    assert!(corrected.is_some(), "{}", daemon.logs());
    let before = env.service(&n)["taskDefinition"].clone();
    let edited = Instant::now();
    env.write("stack.yaml", &env.stack(&n, "web:2", 2, false, 10));
    let applied = eventually(Duration::from_secs(20), || {
        (env.service(&n)["taskDefinition"] != before).then(Instant::now)
    });
    let applied = applied.unwrap_or_else(|| panic!("edit not applied:\n{}", daemon.logs()));
    assert!(
        down_since.elapsed() < Duration::from_secs(60),
        "the edit took {:?}: it must not wait for the receiver",
        applied - edited
    );
    let failing = receiver.received().len();
    assert!(failing > 0, "nothing tried while the receiver fails");
    assert!(
        metric(
            &daemon,
            "ecsd_notifications_total{target=\"webhook:http://127.0.0.1:"
        ) > 0.0
    );
    while down_since.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
    }
    receiver.set_answer(Answer::Status(200));
    // Retries back off to at most 30 s apart.
    let all = eventually(Duration::from_secs(60), || {
        let queued = daemon.status()["notifications"][0]["queued"].as_u64();
        (queued == Some(0) && !receiver.delivered("/hook").is_empty()).then_some(())
    });
    assert!(all.is_some(), "{}\n{}", daemon.status(), daemon.logs());
    let delivered = receiver.delivered("/hook");
    let mut ids: Vec<String> = delivered
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "a message delivered twice");
    // Every message tried while it failed was delivered after (none lost).
    let tried: std::collections::BTreeSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(tried.len(), count, "{tried:?}");
    let events: Vec<String> = delivered
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(events.contains(&"drift.corrected".to_owned()), "{events:?}");
    let stats = &daemon.status()["notifications"][0];
    assert_eq!(
        stats["outcomes"]["dropped"].as_u64().unwrap_or(0),
        0,
        "{stats}"
    );
    assert!(
        stats["outcomes"]["retried"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
    assert_eq!(
        metric(
            &daemon,
            "ecsd_notifications_total{target=\"webhook:http://127.0.0.1:"
        ) as usize,
        count + stats["outcomes"]["retried"].as_u64().unwrap_or(0) as usize,
        "sent + retried"
    );
}

#[test]
fn a_receiver_that_never_answers_costs_a_bounded_queue_and_counted_drops() {
    let env = fresh();
    let n = env.name.clone();
    let receiver = Receiver::start();
    receiver.set_answer(Answer::Never);
    let daemon = notifying_one_stack(&env, &receiver, &["--notify-queue", "2"], &[]);
    // Drift, corrected each time, told each time: more than the queue holds.
    for path in ["/one", "/two", "/three", "/four"] {
        let tg = env.target_group(&n).expect("the target group");
        aws(
            "elbv2",
            "modify_target_group",
            &json!({"TargetGroupArn": tg["TargetGroupArn"], "HealthCheckPath": path}),
        );
        let corrected = eventually(Duration::from_secs(20), || {
            let tg = env.target_group(&n)?;
            (tg["HealthCheckPath"] != path).then_some(())
        });
        assert!(
            corrected.is_some(),
            "drift {path} not corrected:\n{}",
            daemon.logs()
        );
    }
    let dropped = eventually(Duration::from_secs(20), || {
        let stats = daemon.status()["notifications"][0].clone();
        (stats["outcomes"]["dropped"].as_u64().unwrap_or(0) > 0).then_some(stats)
    });
    let stats = dropped.unwrap_or_else(|| panic!("nothing dropped:\n{}", daemon.status()));
    assert!(stats["queued"].as_u64().unwrap_or(99) <= 2, "{stats}");
    assert!(
        metric(
            &daemon,
            "ecsd_notifications_total{target=\"webhook:http://127.0.0.1:"
        ) >= 1.0
    );
    assert!(
        metric(&daemon, "ecsd_notifications_queued{") <= 2.0,
        "the queue is bounded"
    );
    // Nothing got through, and the controller is as ready as ever.
    assert!(receiver.delivered("/hook").is_empty());
    assert!(matches!(
        http("GET", daemon.port, "/readyz"),
        Some((200, _))
    ));
    let (code, _) = daemon.terminate();
    assert_eq!(
        code,
        Some(0),
        "a stuck receiver must not hold up the shutdown"
    );
}
