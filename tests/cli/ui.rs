//! `GET /ui`, the controller's status page, in a real browser: headless Chromium
//! (Debian's `chromium`, which scripts/test installs when it is missing) against `ecsd
//! run` on the emulator. The page must load without a console message, show every
//! object with its sync and health, filter, and show the diff of an object drift made
//! OutOfSync, group objects by application, show an object's page with its diff,
//! health details and history, and a paused canary's traffic bar and approve line; and
//! axe-core, run in the rendered pages, must find no accessibility violation. It writes
//! screenshots to `target/` (`ui.png`, `ui-phone.png`, `ui-object.png`, `ui-canary.png`,
//! `ui-canary-phone.png`).

use std::process::Command;
use std::time::Duration;

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::{Env, PAUSE_AFTER_TEST_TRAFFIC};
use ecsd_tests::{aws, eventually, http, repo_root};
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

/// The violations axe-core finds in the page at `url`: the page's HTML (without its
/// self-refresh) is rendered from a file with axe.min.js added (axe-core-python's copy,
/// which scripts/test installs into .venv), and axe's result read from the DOM.
fn axe_violations(url: &str) -> Vec<Value> {
    let python = repo_root().join(".venv/bin/python");
    let out = Command::new(&python)
        .args([
            "-c",
            "import axe_core_python, os; print(os.path.dirname(axe_core_python.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; scripts/test installs axe-core into .venv",
                python.display()
            )
        });
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let axe = std::fs::read_to_string(format!("{dir}/axe.min.js")).unwrap_or_else(|e| {
        panic!("axe.min.js in {dir:?}: {e}; scripts/test installs axe-core into .venv")
    });
    let page = dom(url).replace("<meta http-equiv=\"refresh\" content=\"5\">", "");
    let probe = format!(
        "<script>{axe}</script><script>axe.run(document, {{resultTypes: ['violations']}}).then(function (r) {{ var p = document.createElement('pre'); p.id = 'axe-result'; p.textContent = JSON.stringify(r.violations.map(function (v) {{ return {{id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {{ return n.html; }})}}; }})); document.body.appendChild(p); }});</script></body>"
    );
    let file = repo_root()
        .join("target")
        .join(format!("axe-{}.html", std::process::id()));
    std::fs::write(&file, page.replacen("</body>", &probe, 1)).expect("axe page");
    let (checked, _) = chromium(
        &format!("file://{}", file.display()),
        &[
            "--dump-dom",
            "--virtual-time-budget=20000",
            "--allow-file-access-from-files",
        ],
    );
    let _ = std::fs::remove_file(&file);
    let result = checked
        .split("<pre id=\"axe-result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_else(|| panic!("axe did not report on {url}"));
    let text = result
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("axe result {e}: {text}"))
}

/// Screenshots of `url` at desktop and phone widths into target/.
fn screenshots(url: &str, files: &[(&str, &str)]) {
    for (file, size) in files {
        let path = repo_root().join("target").join(file);
        let _ = std::fs::remove_file(&path);
        chromium(
            url,
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

    // Grouped by application: the stack's three objects under one heading with its line.
    let section = page
        .split(&format!("<section class=\"app\" data-application=\"{n}\""))
        .nth(1)
        .and_then(|r| r.split("</section>").next())
        .unwrap_or_else(|| panic!("no section for {n}:\n{page}"));
    for kind in ["Service", "TargetGroup", "ScalingPolicy"] {
        assert!(
            section.contains(&format!("data-kind=\"{kind}\" data-name=\"{n}\"")),
            "{kind} {n} in its application's section:\n{section}"
        );
    }
    assert!(
        section.contains(&format!("<h2 id=\"app-{n}\">{n}</h2>")),
        "{section}"
    );

    // The drifted target group's own page: its diff, its targets and its history.
    let object_url = format!("http://127.0.0.1:{}/ui/object/TargetGroup/{n}", daemon.port);
    let object = dom(&object_url);
    assert!(
        object.contains("healthCheck.path: \"/drifted\" → \"/healthz\""),
        "{object}"
    );
    assert!(object.contains("<h2>Targets</h2>"), "{object}");
    assert!(
        object.contains("<h2>History</h2>") && object.contains("<td>created</td><td>applied</td>"),
        "the history names the revision ecsd created it from:\n{object}"
    );
    assert!(object.contains(&format!(
        "<code>{}</code>",
        status["revision"].as_str().unwrap_or_default()
    )));
    let missing = http("GET", daemon.port, "/ui/object/TargetGroup/nope");
    assert_eq!(missing.map(|(code, _)| code), Some(404));

    for u in [&url, &object_url] {
        let violations = axe_violations(u);
        assert!(violations.is_empty(), "axe-core on {u}: {violations:#?}");
    }
    screenshots(&url, &[("ui.png", "1280,900"), ("ui-phone.png", "390,844")]);
    screenshots(&object_url, &[("ui-object.png", "1280,900")]);
}

#[test]
fn a_paused_canary_shows_its_traffic_bar_and_the_line_to_commit() {
    let env = Env::new(env!("CARGO_BIN_EXE_ecsd"));
    let n = env.name.clone();
    env.write(
        "canary.yaml",
        &env.native_stack(&n, "web:1", "canary", PAUSE_AFTER_TEST_TRAFFIC),
    );
    env.converge();
    env.complete_deployment(&n);
    let daemon = Daemon::start(&env, &["--resync", "2s"]);
    env.write(
        "canary.yaml",
        &env.native_stack(&n, "web:2", "canary", PAUSE_AFTER_TEST_TRAFFIC),
    );
    let paused = eventually(Duration::from_secs(60), || {
        let o = daemon.object("Service", &n);
        o["awaitingApproval"].is_object().then_some(o)
    })
    .unwrap_or_else(|| panic!("no pause: {:#}", daemon.status()));
    let approve = paused["awaitingApproval"]["approve"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = paused["awaitingApproval"]["deployment"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(approve, format!("approve: {id}"));
    let status = daemon.status();
    let app = status["applications"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == n.as_str()).cloned())
        .unwrap_or_default();
    assert_eq!(app["deployment"]["strategy"], "canary", "{app:#}");
    let share = app["deployment"]["productionPercent"]
        .as_f64()
        .unwrap_or_else(|| panic!("a production share: {app:#}"));

    let url = format!("http://127.0.0.1:{}/ui", daemon.port);
    let page = dom(&url);
    let section = page
        .split(&format!("<section class=\"app\" data-application=\"{n}\""))
        .nth(1)
        .and_then(|r| r.split("</section>").next())
        .unwrap_or_else(|| panic!("no section for {n}:\n{page}"));
    assert!(section.contains("deploying: canary"), "{section}");
    assert!(
        section.contains(&format!(
            "<progress class=\"traffic\" max=\"100\" value=\"{share}\""
        )) && section.contains(&format!(
            "{share}% of production traffic on the new revision"
        )),
        "the traffic bar at {share}%:\n{section}"
    );
    assert!(
        section.contains(&format!("<code class=\"commit approve\">{approve}</code>"))
            && section.contains(&format!(
                "<code class=\"commit rollback\">rollback: {id}</code>"
            )),
        "the exact lines to commit:\n{section}"
    );
    let violations = axe_violations(&url);
    assert!(violations.is_empty(), "axe-core on {url}: {violations:#?}");
    screenshots(
        &url,
        &[
            ("ui-canary.png", "1280,900"),
            ("ui-canary-phone.png", "390,844"),
        ],
    );
}
