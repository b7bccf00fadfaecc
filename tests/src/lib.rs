//! Shared helpers for ecsd's integration tests: where the repository's fixtures are,
//! how to reach the local AWS emulator that `scripts/test` starts, and scratch space.
//!
//! # Layout
//! - `cli/`: tests that run the built `ecsd` binary (declared in `crates/ecsd/Cargo.toml`
//!   so that Cargo builds the binary first).
//! - `emulator/`: tests of the AWS layer against the emulator (moto) over HTTP.
//! - `src/analysis.rs`: canary analysis's manifest lines, ALB data points written for a
//!   service's target groups, and the ContinueServiceDeployment requests a proxy saw.
//! - `src/daemon.rs`: a running `ecsd run` and its endpoints; `src/proxy.rs`: the
//!   fault-injecting, request-logging proxy between ecsd and the emulator.
//! - `src/edits.rs`: the generated stack and its edits for the whole-object property.
//! - `src/foreign.rs`: resources another tool made (boto3), for adopt and import tests.
//! - `src/git.rs`: a git repository a `git+file://` source reads, committed to by tests.
//! - `src/receiver.rs`: an HTTP receiver of notifications that records what it got.
//! - `corpus/`: manifests used by the tests; `corpus/invalid/*.yaml` each hold one
//!   defect and name the expected `line:col: message` in their first line.

pub mod analysis;
pub mod daemon;
pub mod edits;
pub mod env;
pub mod foreign;
pub mod git;
pub mod proxy;
pub mod receiver;
pub mod regions;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The test corpus folder.
pub fn corpus() -> PathBuf {
    repo_root().join("tests/corpus")
}

/// The emulator's endpoint. `scripts/test` starts moto and sets `AWS_ENDPOINT_URL`;
/// without it the emulator tests fail loudly rather than pass without checking anything.
pub fn emulator_endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: run the emulator tests through scripts/test, which starts moto"
        ),
    }
}

/// A name no other test in this run uses, for resources in the shared emulator.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, empty scratch directory under the system temp dir. Process ids come round
/// again across runs, so a directory left by an earlier run under the same name is
/// removed first: its manifests must never join this test's.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name(&format!("ecsd-test-{name}")));
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("remove the leftover {}: {e}", dir.display()),
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Runs `tests/fixtures/emulator.py` with the venv's Python (boto3), checking it succeeds.
pub fn fixture(args: &[&str]) -> String {
    emulator_endpoint();
    fixture_with(args, &[])
}

/// [`fixture`] with extra environment (another endpoint, other credentials).
pub fn fixture_with(args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(repo_root().join(".venv/bin/python"))
        .arg(repo_root().join("tests/fixtures/emulator.py"))
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("run emulator.py {args:?}: {e}"));
    assert!(
        out.status.success(),
        "emulator.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One boto3 call against the emulator, independent of ecsd's code: its JSON answer.
pub fn aws(service: &str, operation: &str, params: &Value) -> Value {
    let text = fixture(&["call", service, operation, &params.to_string()]);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{service}.{operation} answer: {e}: {text}"))
}

/// A VPC, subnets, security group, ALB with two listeners and the named ECS clusters in
/// the emulator, named after `name` so tests sharing the emulator do not collide.
pub fn network(name: &str, clusters: &[&str]) -> Value {
    let mut args = vec!["network", "--name", name, "--clusters"];
    args.extend_from_slice(clusters);
    let text = fixture(&args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("network answer: {e}: {text}"))
}

/// Drives the emulator layer (tests/fixtures/aws_layer.py) where AWS would act by
/// itself: `ecs/rollback`, `ecs/complete`, `codedeploy/finish`,
/// `ecs/forget-deployments`.
pub fn layer(control: &str, body: &Value) {
    layer_answer(control, body);
}

/// A layer control's JSON answer (`requests`: the rule and load balancer writes it
/// recorded, each with the target groups that had tasks at that moment).
pub fn layer_answer(control: &str, body: &Value) -> Value {
    let endpoint = emulator_endpoint();
    let port: u16 = endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {endpoint}"));
    let answer = http_with_body(
        "POST",
        port,
        &format!("/_layer/{control}"),
        &body.to_string(),
    );
    match answer {
        Some((200, text)) => serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("layer control {control}: {e}: {text}")),
        other => panic!("layer control {control} failed: {other:?}"),
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// A minimal HTTP/1.1 request to 127.0.0.1:`port`: (status code, body), or `None` if
/// nothing answers.
pub fn http(method: &str, port: u16, path: &str) -> Option<(u16, String)> {
    http_with_body(method, port, path, "")
}

/// [`http`] with a request body.
pub fn http_with_body(method: &str, port: u16, path: &str, body: &str) -> Option<(u16, String)> {
    http_with_headers(method, port, path, &[], body)
}

/// [`http_with_body`] with request headers.
pub fn http_with_headers(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let code = raw.split_whitespace().nth(1)?.parse().ok()?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((code, body))
}

/// Polls `check` every 100 ms until it returns `Some` or `limit` passes.
pub fn eventually<T>(
    limit: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Checks that the DynamoDB table `name` has the lease table's shape the command-line
/// contract pins (one string partition key `owner`, on-demand billing); its description.
pub fn assert_lease_table(name: &str) -> Value {
    let t = aws(
        "dynamodb",
        "describe_table",
        &serde_json::json!({"TableName": name}),
    )["Table"]
        .clone();
    assert_eq!(
        t["KeySchema"],
        serde_json::json!([{"AttributeName": "owner", "KeyType": "HASH"}]),
        "{t}"
    );
    assert_eq!(
        t["AttributeDefinitions"],
        serde_json::json!([{"AttributeName": "owner", "AttributeType": "S"}]),
        "{t}"
    );
    assert_eq!(
        t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST",
        "{t}"
    );
    t
}

/// Polls every 50 ms until `check` holds, for at most `limit`; how long it took.
pub fn within(
    limit: std::time::Duration,
    mut check: impl FnMut() -> bool,
) -> Option<std::time::Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check() {
            return Some(started.elapsed());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}
