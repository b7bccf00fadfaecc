//! `GET /ui`, the controller's status page, in a real browser: headless Chromium
//! (Debian's `chromium`, which scripts/test installs when it is missing) against `ecsd
//! run` on the emulator. The page must load without a console message, show every
//! object with its sync and health, filter, and show the diff of an object drift made
//! OutOfSync. It writes a screenshot to `target/ui.png` (and `target/ui-phone.png`).

use std::process::Command;
use std::time::Duration;

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::{aws, eventually, repo_root};
use serde_json::{Value, json};

const CHROMIUM: &str = "chromium";

/// Chromium, headless, on `url` with `args`: (stdout, stderr).
fn chromium(url: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(args)
        .arg(url)
        .output()
        .unwrap_or_else(|e| {
            panic!("{CHROMIUM} could not be started ({e}); scripts/test installs Debian's chromium package")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The rendered page: its DOM, after asserting the browser logged no console message.
fn dom(url: &str) -> String {
    let (dom, log) = chromium(url, &["--dump-dom"]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console messages on {url}: {console:#?}"
    );
    dom
}

#[test]
fn the_status_page_shows_every_object_filters_and_shows_a_drifted_diff() {
    let env = Env::new(env!("CARGO_BIN_EXE_ecsd"));
    let n = env.name.clone();
    env.write("stack.yaml", &env.stack(&n, "web:1", 2, true, 10));
    let daemon = Daemon::start(&env, &["--drift", "report", "--resync", "2s"]);
    let synced = eventually(Duration::from_secs(60), || {
        let s = daemon.status();
        let objects = s["objects"].as_array()?.clone();
        (objects.len() == 3 && objects.iter().all(|o| o["sync"] == "Synced")).then_some(())
    });
    assert!(synced.is_some(), "{}", daemon.status());

    // Drift made outside ecsd: reported (not corrected) with its diff.
    let tg = env.target_group(&n).expect("target group");
    aws(
        "elbv2",
        "modify_target_group",
        &json!({"TargetGroupArn": tg["TargetGroupArn"], "HealthCheckPath": "/drifted"}),
    );
    let drifted = eventually(Duration::from_secs(30), || {
        (daemon.object("TargetGroup", &n)["sync"] == "OutOfSync").then_some(())
    });
    assert!(drifted.is_some(), "{}", daemon.status());

    let url = format!("http://127.0.0.1:{}/ui", daemon.port);
    let page = dom(&url);
    let status = daemon.status();
    let objects: Vec<Value> = status["objects"].as_array().cloned().unwrap_or_default();
    assert_eq!(objects.len(), 3);
    for o in &objects {
        let row_start = format!(
            "<tr data-kind=\"{}\" data-name=\"{}\">",
            o["kind"].as_str().unwrap_or_default(),
            o["name"].as_str().unwrap_or_default()
        );
        let row = page
            .split(&row_start)
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_else(|| panic!("no row for {o} in:\n{page}"));
        for (class, value) in [("sync", &o["sync"]), ("health", &o["health"])] {
            let cell = format!(
                "class=\"{class} {v}\">{v}</td>",
                v = value.as_str().unwrap_or_default()
            );
            assert!(
                row.contains(&cell),
                "{cell} missing in the row of {o}:\n{row}"
            );
        }
    }
    let tg_row = page
        .split(&format!("data-kind=\"TargetGroup\" data-name=\"{n}\""))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(
        tg_row.contains("pending diff")
            && tg_row.contains("healthCheck.path: \"/drifted\" → \"/healthz\""),
        "the drifted target group shows its diff:\n{tg_row}"
    );
    assert!(page.contains(&format!(
        "id=\"revision\">{}",
        status["revision"].as_str().unwrap_or_default()
    )));
    assert!(page.contains("3 of 3 objects"), "{page}");

    // The filter box: a GET form, so the filter survives the refresh.
    let filtered = dom(&format!("{url}?filter=targetgroup"));
    assert!(filtered.contains("1 of 3 objects"), "{filtered}");
    assert!(filtered.contains("data-kind=\"TargetGroup\""));
    assert!(!filtered.contains("data-kind=\"Service\""), "{filtered}");
    assert!(filtered.contains("value=\"targetgroup\""));

    // Screenshots, desktop and phone widths.
    for (file, size) in [("ui.png", "1280,900"), ("ui-phone.png", "390,844")] {
        let path = repo_root().join("target").join(file);
        let _ = std::fs::remove_file(&path);
        chromium(
            &url,
            &[
                &format!("--screenshot={}", path.display()),
                &format!("--window-size={size}"),
                "--hide-scrollbars",
            ],
        );
        let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{} is not a screenshot",
            path.display()
        );
    }
}
