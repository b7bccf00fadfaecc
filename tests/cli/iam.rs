//! What `deploy/` ships to run ecsd on AWS. The IAM policy in `deploy/iam-policy.json`
//! is enough for ecsd's work: a separate emulator enforces IAM, and ecsd runs as a user
//! with exactly its actions (its scoping to `ecsd:owner` is checked offline by
//! `tests/iam/check_policy.py`). The image's build context leaves out build outputs.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecsd_tests::{eventually, fixture_with, free_port, http, repo_root, scratch_dir};
use serde_json::Value;

/// An emulator with IAM enforcement, killed when dropped.
struct Enforcing(Child);

impl Drop for Enforcing {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The shipped policy as the emulator can judge it: its actions, each statement on
/// `Resource: "*"` (but DynamoDB's) and without the `ecsd:owner` conditions. The
/// emulator matches requests other than DynamoDB's against the resource `*` and has no
/// tags in its request context, so it can only tell whether the actions are enough; `tests/iam/check_policy.py` checks the
/// scoping offline against AWS's IAM data. Written to a scratch file: its path.
fn actions_only(shipped: &std::path::Path) -> std::path::PathBuf {
    let mut policy: Value =
        serde_json::from_str(&std::fs::read_to_string(shipped).expect("the shipped policy"))
            .expect("policy JSON");
    for st in policy["Statement"].as_array_mut().into_iter().flatten() {
        // DynamoDB requests are judged by their table's ARN: the lease keeps its scope.
        let dynamodb = st["Action"].as_array().is_some_and(|a| {
            a.iter()
                .all(|x| x.as_str().is_some_and(|x| x.starts_with("dynamodb:")))
        });
        if !dynamodb {
            st["Resource"] = Value::from("*");
        }
        if let Some(conditions) = st.get_mut("Condition").and_then(Value::as_object_mut) {
            for keys in conditions.values_mut().filter_map(Value::as_object_mut) {
                keys.retain(|k, _| !k.to_ascii_lowercase().ends_with("/ecsd:owner"));
            }
            conditions.retain(|_, keys| keys.as_object().is_some_and(|k| !k.is_empty()));
            if conditions.is_empty() {
                st.as_object_mut().map(|o| o.remove("Condition"));
            }
        }
    }
    let path = scratch_dir("iam-policy").join("actions-only.json");
    std::fs::write(&path, policy.to_string()).expect("write the policy");
    path
}

fn ecsd(endpoint: &str, key: &[String; 2], args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(args)
        .args(["--log-format", "json"])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", &key[0])
        .env("AWS_SECRET_ACCESS_KEY", &key[1])
        .output()
        .expect("run ecsd");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_shipped_iam_policy_is_enough_to_plan_apply_and_prune() {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    // The first 8 requests create the two users; every request after them is checked.
    let child = Command::new(repo_root().join(".venv/bin/python"))
        .arg(repo_root().join("tests/fixtures/aws_layer.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "8")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let _moto = Enforcing(child);
    let up = eventually(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    assert!(up.is_some(), "the enforcing emulator did not start");
    let policy = actions_only(&repo_root().join("deploy/iam-policy.json"));
    let env_for = |key: Option<&[String; 2]>| {
        let mut v = vec![("AWS_ENDPOINT_URL", endpoint.clone())];
        if let Some(k) = key {
            v.push(("AWS_ACCESS_KEY_ID", k[0].clone()));
            v.push(("AWS_SECRET_ACCESS_KEY", k[1].clone()));
        }
        v
    };
    let as_env = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, s)| (*k, s.clone())).collect::<Vec<_>>()
    };
    let run = |args: &[&str], key: Option<&[String; 2]>| {
        let envs = as_env(&env_for(key));
        let refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fixture_with(args, &refs)
    };
    let keys: Value =
        serde_json::from_str(&run(&["iam-users", policy.to_str().expect("utf-8")], None))
            .expect("keys");
    let key = |user: &str| -> [String; 2] {
        [
            keys[user][0].as_str().unwrap_or_default().to_owned(),
            keys[user][1].as_str().unwrap_or_default().to_owned(),
        ]
    };
    let (admin, ecsd_key) = (key("admin"), key("ecsd"));
    let ids = run(
        &["network", "--name", "iam", "--clusters", "prod"],
        Some(&admin),
    );
    let dir = scratch_dir("iam");
    let examples = repo_root().join("manifests/examples");
    run(
        &[
            "render",
            examples.to_str().expect("utf-8"),
            dir.to_str().expect("utf-8"),
            "--ids",
            ids.trim(),
        ],
        Some(&admin),
    );
    let (code, out) = ecsd(
        &endpoint,
        &admin,
        &["validate", dir.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{out}");
    let source = dir.to_str().expect("utf-8");
    let (code, out) = ecsd(
        &endpoint,
        &ecsd_key,
        &["apply", "--prune", "--source", source],
    );
    assert_eq!(code, 0, "apply as the ecsd user failed:\n{out}");
    assert!(!out.contains("AccessDenied"), "{out}");
    let (code, out) = ecsd(
        &endpoint,
        &ecsd_key,
        &["plan", "--prune", "--source", source],
    );
    assert_eq!(code, 0, "{out}");

    // A canary deployment that pauses, and its approval from the source: ContinueServiceDeployment
    // (and the pass of the load balancer and hook roles to ECS) under the policy.
    let canary = dir.join("web-canary/web-canary.yaml");
    let text = std::fs::read_to_string(&canary).expect("read the canary example");
    std::fs::write(&canary, text.replace("web:1.4.2", "web:1.4.3")).expect("write");
    let (code, out) = ecsd(&endpoint, &ecsd_key, &["apply", "--source", source]);
    assert_eq!(code, 0, "{out}");
    let (_, out) = ecsd(
        &endpoint,
        &ecsd_key,
        &["status", "--source", source, "--output", "json"],
    );
    let status: Value = out
        .lines()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .filter(|v| v["objects"].is_array())
        })
        .unwrap_or_else(|| panic!("no status document:\n{out}"));
    let id = status["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["name"] == "web-canary")
        .and_then(|o| o["awaitingApproval"]["deployment"].as_str())
        .unwrap_or_else(|| panic!("the canary deployment is not awaiting approval: {status}"))
        .to_owned();
    let text = std::fs::read_to_string(&canary).expect("read");
    std::fs::write(
        &canary,
        text.replace(
            "    # approve: <deployment id>",
            &format!("    approve: {id}  #"),
        ),
    )
    .expect("write");
    let (code, out) = ecsd(&endpoint, &ecsd_key, &["apply", "--source", source]);
    assert_eq!(code, 0, "approving as the ecsd user failed:\n{out}");
    assert!(!out.contains("AccessDenied"), "{out}");
    assert!(out.contains("ContinueServiceDeployment"), "{out}");

    // A user without the policy: one line that names what was refused and the
    // permission ecsd needs, nothing of the SDK's debug form.
    run(
        &["call", "iam", "create_user", r#"{"UserName": "nobody"}"#],
        Some(&admin),
    );
    let created: Value = serde_json::from_str(&run(
        &[
            "call",
            "iam",
            "create_access_key",
            r#"{"UserName": "nobody"}"#,
        ],
        Some(&admin),
    ))
    .expect("access key");
    let nobody = [
        created["AccessKey"]["AccessKeyId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        created["AccessKey"]["SecretAccessKey"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ];
    let (code, out) = ecsd(&endpoint, &nobody, &["plan", "--source", source]);
    assert_eq!(code, 1, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line:\n{out}");
    let line = errors[0];
    assert!(
        line.contains("is not authorized to perform")
            && line.contains("ecsd needs ")
            && line.contains("deploy/iam-policy.json"),
        "{line}"
    );
    for debug in ["DispatchFailure", "ConnectorError", "Some(", "source:"] {
        assert!(!out.contains(debug), "SDK debug text {debug:?} in:\n{out}");
    }

    // An S3 source, read as the ecsd user.
    run(
        &[
            "call",
            "s3",
            "create_bucket",
            r#"{"Bucket": "ecsd-iam-manifests"}"#,
        ],
        Some(&admin),
    );
    for file in ["target-group.yaml", "service.yaml", "scaling-policy.yaml"] {
        let body = std::fs::read_to_string(dir.join("web").join(file)).expect("read");
        let put = serde_json::json!({"Bucket": "ecsd-iam-manifests", "Key": format!("web/{file}"), "Body": body}).to_string();
        run(&["call", "s3", "put_object", &put], Some(&admin));
    }
    let s3_source = "s3://ecsd-iam-manifests/web/";
    let (code, out) = ecsd(&endpoint, &ecsd_key, &["plan", "--source", s3_source]);
    assert_eq!(code, 0, "the S3 source holds what is applied:\n{out}");

    // Leader election on the table the policy names: created, led, ready. The emulator
    // layer authorizes DynamoDB calls against the table's ARN, as AWS does, so a table
    // the policy does not name is refused.
    let replica = |table: &str| {
        let port = free_port();
        let log = dir.with_extension(format!("{table}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_ecsd"))
            .args(["run", "--source", source, "--lease-table", table])
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--log-format",
                "json",
            ])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", &ecsd_key[0])
            .env("AWS_SECRET_ACCESS_KEY", &ecsd_key[1])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start ecsd run");
        (Enforcing(child), port, log)
    };
    let (_leader, port, log) = replica("ecsd-leases");
    let ready = eventually(Duration::from_secs(60), || {
        (http("GET", port, "/readyz")?.0 == 200).then_some(())
    });
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        ready.is_some(),
        "the ecsd user cannot lead on ecsd-leases:\n{logs}"
    );
    assert!(!logs.contains("AccessDenied"), "{logs}");
    let (_refused, port, log) = replica("someone-elses-table");
    let denied = eventually(Duration::from_secs(30), || {
        let logs = std::fs::read_to_string(&log).ok()?;
        logs.contains("AccessDenied").then_some(logs)
    });
    assert!(
        denied.is_some(),
        "a table the policy does not name must be refused"
    );
    assert_eq!(http("GET", port, "/readyz").map(|r| r.0), Some(503));
}

#[test]
fn the_image_build_context_leaves_out_build_outputs_and_vcs_data() {
    let root = repo_root();
    let dockerfile = std::fs::read_to_string(root.join("deploy/Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains("COPY . ."),
        "the Dockerfile builds from the repository root, where .dockerignore applies"
    );
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    let lines: Vec<&str> = ignore.lines().map(str::trim).collect();
    for excluded in ["target/", ".git/", ".venv/"] {
        assert!(
            lines.contains(&excluded),
            "{excluded} is not in .dockerignore"
        );
    }
    for needed in ["crates", "Cargo.toml", "Cargo.lock", "tests"] {
        assert!(
            !lines.iter().any(|l| l.trim_end_matches('/') == needed),
            "{needed} is needed by cargo build and must not be ignored"
        );
    }
}
