//! `ecsd run` as a replicated service, through the built binary against the emulator:
//! two or three replicas elect one writer on a DynamoDB lease (each behind a recording
//! proxy, so every mutating request is seen with its timing), a killed leader is
//! replaced, a leader cut off from its lease table stops changing AWS before its lease
//! expires, SIGTERM hands over at once, a canary analysis acts once across a leader
//! change and a restart in its window; and the HTTP endpoints hold up in a shared VPC
//! (sync token, 429, limits, slow clients, no secrets, no spinning on a failed accept).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::proxy::{FaultProxy, Logged, overlapping, writes};
use ecsd_tests::{aws, emulator_endpoint, eventually, http, unique_name, within};
use serde_json::{Value, json};

/// The lease timings the tests run with (the defaults are 15 s and 5 s).
const DURATION: Duration = Duration::from_secs(3);
const RENEW: Duration = Duration::from_secs(1);

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

/// An environment with one stack, written to its source directory.
fn with_stack() -> (Env, String) {
    let env = fresh();
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, false, 10));
    (env, n)
}

/// A replica on `table` whose AWS requests go through `proxy`.
fn replica(env: &Env, table: &str, proxy: &FaultProxy, extra: &[&str]) -> Daemon {
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let mut args = vec![
        "--lease-table",
        table,
        "--lease-duration",
        "3s",
        "--lease-renew",
        "1s",
    ];
    args.extend_from_slice(extra);
    Daemon::spawn(env, &dir, &args, Some(&proxy.url()))
}

/// `count` replicas on a new lease table, each behind its own proxy, with `--resync`;
/// returns them once one leads and is ready, with the leader's index.
fn replicas(env: &Env, count: usize, resync: &str) -> Replicas {
    let table = unique_name("leases");
    let proxies: Vec<FaultProxy> = (0..count)
        .map(|_| FaultProxy::start(&emulator_endpoint()))
        .collect();
    let daemons: Vec<Option<Daemon>> = proxies
        .iter()
        .map(|p| Some(replica(env, &table, p, &["--resync", resync])))
        .collect();
    let first = eventually(Duration::from_secs(30), || leader_of(&daemons))
        .expect("a replica leads within 30 s");
    daemons[first].as_ref().expect("running").wait_ready();
    (table, proxies, daemons, first)
}

/// The lease table, each replica's proxy, the replicas, and the leader's index.
type Replicas = (String, Vec<FaultProxy>, Vec<Option<Daemon>>, usize);

/// `/status` of a replica, if it answers.
fn status_of(d: &Daemon) -> Option<Value> {
    let (code, body) = http("GET", d.port, "/status")?;
    (code == 200).then(|| serde_json::from_str(&body).ok())?
}

/// The index of the one replica whose `/status` says it leads; `None` while none (or,
/// a failure, more than one) does.
fn leader_of(daemons: &[Option<Daemon>]) -> Option<usize> {
    let leading: Vec<usize> = daemons
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let s = status_of(d.as_ref()?)?;
            (s["lease"]["role"] == "leader").then_some(i)
        })
        .collect();
    assert!(
        leading.len() <= 1,
        "two replicas say they lead: {leading:?}"
    );
    leading.first().copied()
}

fn image_of(env: &Env, service: &str) -> String {
    env.task_definition(service)["taskDefinition"]["containerDefinitions"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The replica `new` made changes, and never while another replica did.
fn assert_took_over(writes: &[Vec<Logged>], new: usize) {
    assert!(
        !writes[new].is_empty(),
        "the new leader corrected the drift"
    );
    assert_eq!(
        overlapping(writes),
        0,
        "two replicas were changing AWS at once"
    );
}

fn sigterm(d: &Daemon) {
    let _ = Command::new("kill")
        .args(["-TERM", &d.child.id().to_string()])
        .status();
}

#[test]
fn three_replicas_elect_one_writer_and_sigterm_hands_over_within_2s() {
    let (env, n) = with_stack();
    let (table, proxies, mut daemons, first) = replicas(&env, 3, "2s");
    let leader = daemons[first].as_ref().expect("running");
    let leader_id = status_of(leader).expect("status")["replica"].clone();
    for (i, d) in daemons.iter().enumerate().filter(|(i, _)| *i != first) {
        let d = d.as_ref().expect("running");
        let (code, body) = http("GET", d.port, "/readyz").expect("readyz answers");
        assert_eq!(code, 503, "standby {i} is not ready: {body}");
        // A standby names the leader once it has read the lease (at most a poll later).
        let named = within(Duration::from_secs(5), || {
            status_of(d).is_some_and(|s| s["leader"] == leader_id)
        });
        assert!(named.is_some(), "standby {i} names the leader {leader_id}");
    }
    // Every replica waited for the table to be ACTIVE before using it: no lease call
    // was refused for a table not yet active (the emulator layer keeps a new table
    // CREATING for 2 s, as AWS does).
    for d in daemons.iter().flatten() {
        let logs = d.logs();
        let failed = logs.lines().find(|l| {
            l.contains("ecsd_runtime::controller::lease") && l.contains("ResourceNotFoundException")
        });
        assert!(
            failed.is_none(),
            "the lease table was used before it was active: {failed:?}"
        );
    }
    // The table was created as the contract says: on demand, partition key `owner`.
    ecsd_tests::assert_lease_table(&table);
    assert_eq!(image_of(&env, &n), "web:1");

    env.write("stack.yaml", &env.stack(&n, "web:2", 2, false, 10));
    assert!(
        within(Duration::from_secs(30), || image_of(&env, &n) == "web:2").is_some(),
        "the leader applies an edit"
    );

    // SIGTERM: the leader finishes, releases, and a standby leads at its next poll.
    let old = daemons[first].take().expect("running");
    sigterm(&old);
    let handover = within(Duration::from_secs(10), || leader_of(&daemons).is_some())
        .expect("another replica leads after SIGTERM");
    assert!(
        handover <= Duration::from_secs(2),
        "handover took {handover:?}:\n{}",
        old.logs()
    );
    let (code, _) = old.terminate();
    assert_eq!(code, Some(0));
    let second = leader_of(&daemons).expect("a leader");
    env.write("stack.yaml", &env.stack(&n, "web:3", 2, false, 10));
    assert!(
        within(Duration::from_secs(30), || image_of(&env, &n) == "web:3").is_some(),
        "the new leader applies an edit"
    );

    let writes = writes(&proxies);
    for (i, w) in writes.iter().enumerate() {
        if i != first && i != second {
            assert!(w.is_empty(), "replica {i} never led but sent {w:?}");
        }
    }
    assert!(!writes[first].is_empty() && !writes[second].is_empty());
    assert_eq!(
        overlapping(&writes),
        0,
        "two replicas were changing AWS at once"
    );
    let last_old = writes[first].iter().map(|w| w.ended).max();
    let first_new = writes[second].iter().map(|w| w.started).min();
    assert!(
        last_old < first_new,
        "the old leader's last change came after the new leader's first"
    );
}

#[test]
fn a_killed_leader_is_replaced_within_lease_duration_and_renew_period() {
    let (env, n) = with_stack();
    let (_, proxies, mut daemons, first) = replicas(&env, 2, "2s");
    // kill -9 just after a renewal would be the worst case; any moment is valid.
    std::thread::sleep(Duration::from_millis(1300));
    let mut killed = daemons[first].take().expect("running");
    let _ = killed.child.kill();
    let _ = killed.child.wait();
    let took = within(Duration::from_secs(20), || leader_of(&daemons).is_some())
        .expect("the other replica leads");
    // The bound is the lease duration plus a renew period; /status is polled every 50 ms
    // and the emulator answers one request at a time to every test running at once.
    assert!(
        took <= DURATION + RENEW + Duration::from_millis(500),
        "the standby led {took:?} after the kill"
    );
    env.write("stack.yaml", &env.stack(&n, "web:2", 2, false, 10));
    let second = leader_of(&daemons).expect("a leader");
    assert!(
        within(Duration::from_secs(30), || image_of(&env, &n) == "web:2").is_some(),
        "the new leader converges:\n{}",
        daemons[second]
            .as_ref()
            .map(Daemon::logs)
            .unwrap_or_default()
    );
    let services = aws("ecs", "list_services", &json!({"cluster": env.cluster}));
    assert_eq!(
        services["serviceArns"].as_array().map(Vec::len),
        Some(1),
        "{services}"
    );
    let family = aws("ecs", "list_task_definitions", &json!({"familyPrefix": n}));
    assert_eq!(
        family["taskDefinitionArns"].as_array().map(Vec::len),
        Some(2),
        "one revision per image: {family}"
    );
    assert_eq!(overlapping(&writes(&proxies)), 0);
}

#[test]
fn a_canary_analysis_acts_once_across_a_leader_change_and_a_restart_in_its_window() {
    use ecsd_tests::analysis::{Pair, analysed, continues, deployment};
    let env = fresh();
    let n = env.name.clone();
    let metrics = "        - {name: errors, builtin: errorRate, max: 0.05}\n";
    let stack = |image: &str| env.native_stack(&n, image, "canary", &analysed("30s", "", metrics));
    env.write("nb.yaml", &stack("web:1"));
    env.converge();
    env.complete_deployment(&n);
    let (table, proxies, mut daemons, first) = replicas(&env, 2, "2s");

    env.write("nb.yaml", &stack("web:2"));
    let leader = daemons[first].as_ref().expect("running");
    let analysis = eventually(Duration::from_secs(40), || {
        let o = status_of(leader)?["objects"]
            .as_array()?
            .iter()
            .find(|o| o["kind"] == "Service" && o["name"] == n.as_str())?
            .clone();
        (o["analysis"]["state"] == "observing").then(|| o["analysis"].clone())
    })
    .unwrap_or_else(|| panic!("the leader observes the pause:\n{}", leader.logs()));
    let pair = Pair::of(&env, &n);
    pair.put(&pair.canary, "RequestCount", &[100.0; 25]);
    pair.put(&pair.canary, "HTTPCode_Target_5XX_Count", &[1.0; 25]);

    // Inside the window: the leader dies (kill -9) and the standby takes over; the
    // dead replica comes back as a new process behind its proxy.
    let mut killed = daemons[first].take().expect("running");
    let _ = killed.child.kill();
    let _ = killed.child.wait();
    let second = eventually(Duration::from_secs(20), || leader_of(&daemons))
        .expect("the other replica leads");
    daemons[first] = Some(replica(&env, &table, &proxies[first], &["--resync", "2s"]));
    let arn = analysis["deploymentArn"].clone();
    let hook_done = || (deployment(&arn).1 == "SUCCEEDED").then_some(());
    assert!(
        eventually(Duration::from_secs(60), hook_done).is_some(),
        "the new leader continues the deployment after the window:\n{}",
        daemons[second]
            .as_ref()
            .map(Daemon::logs)
            .unwrap_or_default()
    );
    std::thread::sleep(Duration::from_secs(5));
    let sent: Vec<String> = proxies.iter().flat_map(|p| continues(&p.log())).collect();
    assert_eq!(sent, ["CONTINUE"], "exactly one ContinueServiceDeployment");
    assert_eq!(overlapping(&writes(&proxies)), 0);
}

#[test]
fn a_leader_cut_off_from_its_lease_table_stops_changing_aws_before_its_lease_expires() {
    let (env, n) = with_stack();
    let (_, proxies, daemons, first) = replicas(&env, 2, "1s");
    // Someone keeps changing the service's count: the leader keeps correcting it.
    let (stop, drifter) = drift(&env, &n);
    let corrections = || {
        proxies[first]
            .log()
            .iter()
            .filter(|l| l.action == "UpdateService")
            .count()
    };
    assert!(
        within(Duration::from_secs(20), || corrections() >= 2).is_some(),
        "the leader corrects the drift"
    );
    let cut = Instant::now();
    proxies[first].drop_target(Some("DynamoDB"));
    let other = 1 - first;
    let took = within(Duration::from_secs(20), || {
        status_of(daemons[other].as_ref().expect("running"))
            .is_some_and(|s| s["lease"]["role"] == "leader")
    })
    .expect("the other replica takes over");
    // The new leader corrects drift for a while, then the drift stops.
    let _ = within(Duration::from_secs(20), || {
        proxies[other]
            .log()
            .iter()
            .any(|l| l.action == "UpdateService")
    });
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let _ = drifter.join();

    let old = daemons[first].as_ref().expect("running");
    let status = status_of(old).expect("the old leader still serves /status");
    assert_eq!(status["lease"]["role"], "standby", "{status}");
    assert_eq!(http("GET", old.port, "/readyz").map(|r| r.0), Some(503));
    // Its last renewal the lease table saw, and its last change of AWS.
    let log = proxies[first].log();
    let last_renewal = log
        .iter()
        .filter(|l| l.service.starts_with("DynamoDB") && l.action == "PutItem" && l.answered)
        .map(|l| l.started)
        .max()
        .expect("the leader renewed");
    assert!(last_renewal <= cut);
    let writes = writes(&proxies);
    let last_change = writes[first]
        .iter()
        .map(|w| w.started)
        .max()
        .expect("it changed AWS");
    assert!(
        last_change < last_renewal + DURATION,
        "a change {:?} after the last renewal: past the lease's expiry",
        last_change.duration_since(last_renewal)
    );
    assert!(
        took <= DURATION + RENEW + Duration::from_secs(1),
        "takeover after {took:?}"
    );
    assert_took_over(&writes, other);
    let logs = old.logs();
    assert!(
        logs.contains("could not be renewed in time") || logs.contains("lost the lease"),
        "the old leader says it stopped:\n{logs}"
    );
}

#[test]
fn a_lease_table_with_another_key_is_refused_with_a_clear_error() {
    let (env, _) = with_stack();
    let table = unique_name("not-a-lease-table");
    aws(
        "dynamodb",
        "create_table",
        &json!({
            "TableName": table,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        }),
    );
    let proxy = FaultProxy::start(&emulator_endpoint());
    let d = replica(&env, &table, &proxy, &[]);
    let said = eventually(Duration::from_secs(30), || {
        let logs = d.logs();
        logs.contains("the lease table's key is id (HASH, N)")
            .then_some(logs)
    });
    assert!(said.is_some(), "the error names the key:\n{}", d.logs());
    assert_eq!(http("GET", d.port, "/readyz").map(|r| r.0), Some(503));
    let writes: Vec<Logged> = proxy
        .log()
        .into_iter()
        .filter(|l| l.service.starts_with("DynamoDB") && l.action == "PutItem")
        .collect();
    assert!(
        writes.is_empty(),
        "nothing written to someone else's table: {writes:?}"
    );
}

/// Someone who keeps setting the service's count to 5 (drift the leader corrects on
/// every resync) until the returned flag is set.
fn drift(env: &Env, name: &str) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (flag, cluster, name) = (stop.clone(), env.cluster.clone(), name.to_owned());
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            aws(
                "ecs",
                "update_service",
                &json!({"cluster": cluster, "service": name, "desiredCount": 5}),
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    (stop, thread)
}

#[test]
fn a_leader_whose_process_stalls_past_its_lease_changes_nothing_when_it_resumes() {
    let (env, n) = with_stack();
    let (_, proxies, daemons, first) = replicas(&env, 2, "1s");
    let old = daemons[first].as_ref().expect("running");
    // Its lease table answers slowly (still in time to renew), so after the stall the
    // table cannot tell it quickly that it lost the lease: its own clock must.
    proxies[first].set_target_latency("DynamoDB", Duration::from_millis(700));
    let (stop, drifter) = drift(&env, &n);
    assert!(
        within(Duration::from_secs(20), || {
            proxies[first]
                .log()
                .iter()
                .filter(|l| l.action == "UpdateService")
                .count()
                >= 2
        })
        .is_some(),
        "the leader corrects the drift"
    );
    // The whole process stops (a stalled scheduler, a paused VM) with work in hand.
    let pid = old.child.id().to_string();
    let _ = Command::new("kill").args(["-STOP", &pid]).status();
    let stopped = Instant::now();
    let other = 1 - first;
    let took = within(Duration::from_secs(20), || {
        status_of(daemons[other].as_ref().expect("running"))
            .is_some_and(|s| s["lease"]["role"] == "leader")
    });
    assert!(took.is_some(), "the other replica takes over");
    std::thread::sleep(Duration::from_secs(1));
    let resumed = Instant::now();
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let _ = drifter.join();

    let writes = writes(&proxies);
    let late: Vec<&Logged> = writes[first]
        .iter()
        .filter(|w| w.started > stopped + Duration::from_millis(100))
        .collect();
    assert!(late.is_empty(), "the resumed leader changed AWS: {late:?}");
    assert!(resumed > stopped);
    assert_took_over(&writes, other);
    let standby = within(Duration::from_secs(10), || {
        status_of(old).is_some_and(|s| s["lease"]["role"] == "standby")
    });
    assert!(
        standby.is_some(),
        "the resumed replica knows it no longer leads"
    );
}

/// A raw HTTP exchange: the whole response, or what came before the server closed.
fn raw(port: u16, request: &[u8]) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn post_sync(port: u16, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    raw(
        port,
        format!(
            "POST /sync HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

fn code(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn post_sync_needs_the_token_one_sync_at_a_time_and_status_shows_no_secret() {
    let (env, _) = with_stack();
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    // A slow AWS, so a pass lasts long enough to see a second request refused.
    let proxy = FaultProxy::start(&emulator_endpoint());
    proxy.set_latency(Duration::from_millis(300));
    let daemon = Daemon::spawn_with(
        &env,
        &dir,
        &["--resync", "10m"],
        Some(&proxy.url()),
        &[
            ("ECSD_SYNC_TOKEN", "tok-Quux42"),
            ("AWS_SECRET_ACCESS_KEY", "sk-Zq8Wv3"),
        ],
    );
    daemon.wait_ready();
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("tok-Quux42"),
        Some("Basic tok-Quux42"),
    ] {
        let r = post_sync(daemon.port, auth);
        assert_eq!(code(&r), 401, "{auth:?}: {r}");
        assert!(
            r.to_ascii_lowercase().contains("www-authenticate: bearer"),
            "{r}"
        );
    }
    let accepted = post_sync(daemon.port, Some("Bearer tok-Quux42"));
    assert_eq!(code(&accepted), 202, "{accepted}");
    let refused = post_sync(daemon.port, Some("Bearer tok-Quux42"));
    assert_eq!(code(&refused), 429, "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    // Once the pass is over, a sync is accepted again.
    assert!(
        within(Duration::from_secs(30), || code(&post_sync(
            daemon.port,
            Some("Bearer tok-Quux42")
        )) == 202)
        .is_some(),
        "a later sync is accepted"
    );
    for path in ["/status", "/metrics"] {
        let (_, body) = http("GET", daemon.port, path).expect("answers");
        for secret in ["tok-Quux42", "sk-Zq8Wv3"] {
            assert!(!body.contains(secret), "{secret} is in {path}");
        }
    }

    // A git source whose URL carries a token: /status shows the error, not the token.
    let git = Daemon::spawn_with(
        &env,
        "git+https://ecsd:ghp-Secret77@127.0.0.1:9/org/repo.git",
        &[],
        None,
        &[],
    );
    let shown = eventually(Duration::from_secs(30), || {
        let s = status_of(&git)?;
        (!s["errors"].as_array()?.is_empty()).then_some(s)
    })
    .unwrap_or_else(|| panic!("the source error is shown:\n{}", git.logs()));
    let text = shown.to_string();
    assert!(!text.contains("ghp-Secret77"), "{text}");
    assert!(
        text.contains("127.0.0.1:9"),
        "the error names the source: {text}"
    );
}

#[test]
fn slow_or_oversized_requests_cannot_hold_the_server() {
    let (env, _) = with_stack();
    let daemon = Daemon::start(&env, &[]);
    let port = daemon.port;
    // Clients that never finish their headers.
    let slow: Vec<TcpStream> = (0..3)
        .filter_map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n").ok()?;
            Some(s)
        })
        .collect();
    assert_eq!(slow.len(), 3);
    assert_eq!(
        http("GET", port, "/healthz").map(|r| r.0),
        Some(200),
        "others are served meanwhile"
    );
    let started = Instant::now();
    for mut s in slow {
        let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    }
    let held = started.elapsed();
    assert!(
        held <= Duration::from_secs(7),
        "slow clients were held {held:?}"
    );

    let many_headers: String = (0..40).map(|i| format!("X-H{i}: v\r\n")).collect();
    let r = raw(
        port,
        format!("GET /status HTTP/1.1\r\nHost: x\r\n{many_headers}Connection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(code(&r), 431, "{r}");
    let huge = "a".repeat(10_000);
    let r = raw(
        port,
        format!("GET /status HTTP/1.1\r\nHost: x\r\nX-Big: {huge}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert!(
        code(&r) == 431 || r.is_empty(),
        "a 10 kB header is refused: {r}"
    );
    let r = raw(
        port,
        b"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(code(&r), 413, "{r}");
    assert_eq!(http("GET", port, "/healthz").map(|r| r.0), Some(200));

    // The container health check asks the same endpoint.
    let check = |listen: &str| {
        let flag = if listen.starts_with("http") {
            "--url"
        } else {
            "--listen"
        };
        Command::new(&env.bin)
            .args(["healthcheck", flag, listen])
            .output()
            .map(|o| o.status.code())
            .ok()
            .flatten()
    };
    assert_eq!(check(&format!("http://127.0.0.1:{port}/healthz")), Some(0));
    assert_eq!(
        check(&format!("http://127.0.0.1:{port}/nowhere")),
        Some(1),
        "a 404 is unhealthy"
    );
    assert_eq!(check(&format!("0.0.0.0:{port}")), Some(0));
    let closed = ecsd_tests::free_port();
    assert_eq!(
        check(&format!("0.0.0.0:{closed}")),
        Some(1),
        "nothing listens there"
    );
}

/// CPU time (user + system) of a process so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime) are 12 and 13 after the name.
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    tick(11) + tick(12)
}

#[test]
fn running_out_of_file_descriptors_does_not_make_the_server_spin() {
    let (env, _) = with_stack();
    let dir = env.dir.to_str().expect("utf-8").to_owned();
    let port = ecsd_tests::free_port();
    let log = env.dir.with_extension("fd.log");
    let stderr = std::fs::File::create(&log).expect("log file");
    let script = format!(
        "ulimit -n 64; exec '{}' run --source '{dir}' --owner '{}' --listen 127.0.0.1:{port} --log-format json",
        env.bin.display(),
        env.owner
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start ecsd");
    let up = eventually(Duration::from_secs(60), || {
        (http("GET", port, "/readyz")?.0 == 200).then_some(())
    });
    assert!(
        up.is_some(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Idle connections until ecsd has no descriptor left to accept with.
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let spent = cpu_ticks(child.id()) - before;
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logs.contains("accepting an HTTP connection failed"),
        "the limit was reached:\n{logs}"
    );
    // A spinning accept loop burns a whole core: about 200 ticks in 2 s.
    assert!(
        spent < 40,
        "{spent} ticks of CPU in 2 s while out of descriptors"
    );
    drop(held);
    let back = eventually(Duration::from_secs(15), || {
        (http("GET", port, "/healthz")?.0 == 200).then_some(())
    });
    assert!(
        back.is_some(),
        "the server recovers once descriptors are free"
    );
    let _ = child.kill();
    let _ = child.wait();
}
