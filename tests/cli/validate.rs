//! `ecsd validate` through the built binary: the example manifests, the corpus of invalid
//! manifests (one defect each, with the expected `line:col` and message), hostile input,
//! and the command-line contract (exit codes, stderr format, --version, --help).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ecsd_tests::{corpus, repo_root, scratch_dir};

fn ecsd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run ecsd")
}

fn validate(path: &Path) -> (i32, String) {
    let out = ecsd(&["validate", path.to_str().expect("utf-8 path")]);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(": error: ")).collect()
}

#[test]
fn the_examples_are_valid() {
    let out = ecsd(&["validate", "manifests/examples"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("valid: 6 TargetGroup, 4 Service, 3 ScalingPolicy"),
        "{stderr}"
    );
}

#[test]
fn the_valid_corpus_is_valid() {
    let (code, stderr) = validate(&corpus().join("valid"));
    assert_eq!(code, 0, "{stderr}");
}

/// One corpus case: the file and what its first line promises.
struct Case {
    path: PathBuf,
    line: u32,
    col: u32,
    fragment: String,
}

fn corpus_cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus().join("invalid"))
        .expect("corpus/invalid")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read case");
            let header = text.lines().next().unwrap_or_default();
            let rest = header.strip_prefix("# expect: ").unwrap_or_else(|| {
                panic!(
                    "{}: first line must be '# expect: L:C: text'",
                    path.display()
                )
            });
            let mut parts = rest.splitn(3, ':');
            let num = |p: Option<&str>| p.and_then(|s| s.trim().parse().ok()).expect("line:col");
            let line = num(parts.next());
            let col = num(parts.next());
            let fragment = parts.next().unwrap_or_default().trim().to_owned();
            Case {
                path,
                line,
                col,
                fragment,
            }
        })
        .collect()
}

#[test]
fn every_invalid_corpus_file_reports_its_one_defect_at_its_location() {
    let cases = corpus_cases();
    assert!(
        cases.len() >= 40,
        "the corpus holds {} cases, want at least 40",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let (code, stderr) = validate(&case.path);
        let errors = error_lines(&stderr);
        let want = format!(
            "{}:{}:{}: error: ",
            case.path.display(),
            case.line,
            case.col
        );
        let ok = code == 1
            && errors.len() == 1
            && errors[0].starts_with(&want)
            && errors[0].contains(&case.fragment);
        if !ok {
            failures.push(format!(
                "{}: want exit 1 and one error `{want}...{}`, got exit {code}:\n{stderr}",
                case.path.display(),
                case.fragment
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_whole_invalid_corpus_at_once_reports_every_error() {
    // All files as one source: every file's defect is reported in one run. Duplicate
    // names across files add errors of their own, so count files, not lines.
    let (code, stderr) = validate(&corpus().join("invalid"));
    assert_eq!(code, 1);
    for case in corpus_cases() {
        let want = format!("{}:", case.path.display());
        assert!(stderr.contains(&want), "no error for {want}\n{stderr}");
    }
}

fn hostile(name: &str, bytes: &[u8]) -> (i32, String, PathBuf) {
    let dir = scratch_dir("hostile");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    let (code, stderr) = validate(&path);
    (code, stderr, path)
}

fn assert_one_error(code: i32, stderr: &str, path: &Path, at: &str, fragment: &str) {
    assert_eq!(code, 1, "{stderr}");
    let errors = error_lines(stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    let want = format!("{}:{at}: error: ", path.display());
    assert!(
        errors[0].starts_with(&want),
        "want {want}, got {}",
        errors[0]
    );
    assert!(
        errors[0].contains(fragment),
        "want {fragment:?} in {}",
        errors[0]
    );
}

#[test]
fn an_alias_bomb_is_refused_at_the_node_limit() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let (code, stderr, path) = hostile("bomb.yaml", text.as_bytes());
    assert_one_error(code, &stderr, &path, "6:10", "more than 100000 YAML nodes");
}

#[test]
fn a_50_megabyte_file_is_refused_unread() {
    let dir = scratch_dir("huge");
    let path = dir.join("huge.yaml");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(50 * 1024 * 1024).expect("sparse file");
    let (code, stderr) = validate(&path);
    assert_one_error(
        code,
        &stderr,
        &path,
        "1:1",
        "larger than 4194304 bytes (4 MiB)",
    );
}

#[test]
fn deep_nesting_is_refused() {
    let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (code, stderr, path) = hostile("flow.yaml", flow.as_bytes());
    assert_one_error(
        code,
        &stderr,
        &path,
        "1:256",
        "nesting deeper than 32 levels",
    );
    let block: String = (0..100)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let (code, stderr, path) = hostile("block.yaml", block.as_bytes());
    assert_one_error(
        code,
        &stderr,
        &path,
        "32:63",
        "nesting deeper than 32 levels",
    );
}

#[test]
fn binary_garbage_is_refused() {
    // A fixed pseudo-random sequence (xorshift), so the test is repeatable.
    let mut x: u32 = 0x9E37_79B9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    let (code, stderr, path) = hostile("garbage.yaml", &bytes);
    assert_eq!(code, 1, "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(&format!("{}:1:", path.display())),
        "{stderr}"
    );
    let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00";
    let (code, stderr, path) = hostile("program.yaml", elf);
    assert_one_error(code, &stderr, &path, "1:1", "control character U+007F");
}

#[test]
fn a_non_utf8_file_is_refused_with_the_position_of_the_bad_byte() {
    let text = b"apiVersion: ecsd/v1\nkind: Service\nmetadata:\n  name: caf\xe9\n";
    let (code, stderr, path) = hostile("latin1.yaml", text);
    assert_one_error(code, &stderr, &path, "4:12", "not valid UTF-8 (byte 0xe9");
}

#[test]
fn a_nul_byte_marks_a_binary_file() {
    let (code, stderr, path) = hostile("nul.yaml", b"apiVersion: ecsd/v1\nkind: \0\n");
    assert_one_error(code, &stderr, &path, "2:7", "binary file");
}

#[test]
fn an_empty_source_is_an_error_not_a_success() {
    let dir = scratch_dir("empty");
    std::fs::write(dir.join("empty.yaml"), "# nothing here\n").expect("write");
    let (code, stderr) = validate(&dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no manifests found"), "{stderr}");
}

#[test]
fn a_missing_path_is_an_error_that_names_it() {
    let (code, stderr) = validate(Path::new("/nonexistent/manifests"));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("/nonexistent/manifests: no such file or directory"),
        "{stderr}"
    );
}

#[test]
fn one_broken_document_does_not_hide_errors_in_the_others() {
    let text = "apiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {name: a}\nspec: {vpcId: vpc-1, port: 0}\n---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {name: b}\nspec: {vpcId: vpc-1, port: 80, protocl: HTTP}\n";
    let (code, stderr, path) = hostile("two.yaml", text.as_bytes());
    assert_eq!(code, 1);
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with(&format!("{}:4:28: error: spec.port", path.display())),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with(&format!(
            "{}:9:32: error: unknown field \"protocl\"",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn version_and_help_describe_the_tool() {
    let out = ecsd(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ecsd {}", env!("CARGO_PKG_VERSION"))
    );
    let out = ecsd(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["validate", "schema", "ECS Fargate"] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
}

#[test]
fn a_usage_error_exits_1_not_2() {
    // 2 means "changes pending" for `ecsd plan`; a typo must never look like that.
    let out = ecsd(&["validate", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn schema_prints_a_draft7_json_schema_with_every_kind() {
    let out = ecsd(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "http://json-schema.org/draft-07/schema#",
        "\"ServiceSpec\"",
        "\"TargetGroupSpec\"",
        "\"ScalingPolicySpec\"",
        "\"healthCheck\"",
        "\"additionalProperties\": false",
    ] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
}

#[test]
fn the_committed_editor_schema_matches_ecsd_schema() {
    let out = ecsd(&["schema"]);
    let committed = std::fs::read_to_string(repo_root().join("docs/schema/manifest-v1.json"))
        .expect("docs/schema/manifest-v1.json");
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "docs/schema/manifest-v1.json is stale: run `cargo run -p ecsd -- schema > docs/schema/manifest-v1.json`"
    );
}

#[test]
fn the_examples_point_editors_at_the_committed_schema() {
    for dir in ["web", "web-bluegreen"] {
        for entry in
            std::fs::read_dir(repo_root().join("manifests/examples").join(dir)).expect("examples")
        {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let modeline = text.lines().next().unwrap_or_default();
            let rel = modeline
                .strip_prefix("# yaml-language-server: $schema=")
                .unwrap_or_else(|| panic!("{} lacks the schema modeline", path.display()));
            let target = path.parent().expect("parent").join(rel);
            assert!(
                target.is_file(),
                "{} points at missing {}",
                path.display(),
                target.display()
            );
        }
    }
}

/// `ecsd plan` of the examples in a bare environment: no AWS variables, no profile
/// files, no instance metadata; `set` adds some back.
fn plan_without_setup(set: &[(&str, &str)]) -> (i32, String) {
    let home = scratch_dir("no-aws-setup");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsd"));
    cmd.args([
        "plan",
        "--source",
        "manifests/examples/web",
        "--log-format",
        "text",
    ])
    .current_dir(repo_root());
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(set.iter().copied());
    let out = cmd.output().expect("run ecsd");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Exit 1 with exactly one line of output, an `error:` line holding `wanted`, and no
/// text from Rust's Debug form.
fn one_actionable_line(code: i32, out: &str, wanted: &[&str]) {
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, not:\n{out}");
    assert!(lines[0].starts_with("error: "), "{out}");
    for w in wanted {
        assert!(lines[0].contains(w), "{w:?} missing from: {out}");
    }
    for debug in [
        "DispatchFailure",
        "ConnectorError",
        "Some(",
        "{ ",
        "source:",
    ] {
        assert!(!out.contains(debug), "Rust debug text {debug:?} in: {out}");
    }
}

#[test]
fn no_credentials_is_one_line_saying_what_was_tried_and_what_to_set() {
    let (code, out) = plan_without_setup(&[("AWS_REGION", "us-east-1")]);
    one_actionable_line(
        code,
        &out,
        &[
            "no AWS credentials",
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "instance metadata",
        ],
    );
}

#[test]
fn no_region_is_one_line_saying_what_to_set() {
    let (code, out) = plan_without_setup(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ]);
    one_actionable_line(code, &out, &["no AWS region", "AWS_REGION"]);
}

#[test]
fn an_unreachable_endpoint_is_one_line_naming_the_cause() {
    let port = ecsd_tests::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, out) = plan_without_setup(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", &url),
    ]);
    one_actionable_line(
        code,
        &out,
        &[
            "cannot reach the AWS endpoint",
            "Connection refused",
            "AWS_ENDPOINT_URL",
        ],
    );
}
