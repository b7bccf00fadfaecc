//! Shared helpers for ecsd's integration tests: where the repository's fixtures are,
//! how to reach the local AWS emulator that `scripts/test` starts, and scratch space.
//!
//! # Layout
//! - `cli/`: tests that run the built `ecsd` binary (declared in `crates/ecsd/Cargo.toml`
//!   so that Cargo builds the binary first).
//! - `emulator/`: tests of the AWS layer against the emulator (moto) over HTTP.
//! - `corpus/`: manifests used by the tests; `corpus/invalid/*.yaml` each hold one
//!   defect and name the expected `line:col: message` in their first line.

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

/// A fresh scratch directory under the system temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name(&format!("ecsd-test-{name}")));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Runs `tests/fixtures/emulator.py` with the venv's Python (boto3), checking it succeeds.
pub fn fixture(args: &[&str]) -> String {
    emulator_endpoint();
    let out = Command::new(repo_root().join(".venv/bin/python"))
        .arg(repo_root().join("tests/fixtures/emulator.py"))
        .args(args)
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
