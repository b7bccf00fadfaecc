//! Deployment targets through the built binary against the emulator (*added*): one
//! source with targets `staging` (its own role) and `prod` (another role with an
//! external ID, in another region, `after: [staging]`), and `broken`, whose role AWS
//! refuses to let ecsd assume. An image bump reaches staging first and prod only once
//! staging is Synced and Healthy on that revision; a failure in staging holds prod, and
//! `/status` says where and why; the denied target reports its error while the others
//! converge.

use std::time::Duration;

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::regions::{aws_in, image_in, network_in, service};
use ecsd_tests::{eventually, http, layer, unique_name};
use serde_json::{Value, json};

const PROD_REGION: &str = "eu-west-1";

fn fresh() -> Env {
    Env::new(env!("CARGO_BIN_EXE_ecsd"))
}

fn targets(denied_role: &str) -> String {
    format!(
        r#"apiVersion: ecsd/v1
kind: Target
metadata: {{name: staging}}
spec: {{folder: staging, roleArn: "arn:aws:iam::123456789012:role/ecsd-staging"}}
---
apiVersion: ecsd/v1
kind: Target
metadata: {{name: prod}}
spec:
  folder: prod
  region: {PROD_REGION}
  roleArn: arn:aws:iam::123456789012:role/ecsd-prod
  externalId: acme-prod
  after: [staging]
---
apiVersion: ecsd/v1
kind: Target
metadata: {{name: broken}}
spec: {{folder: broken, roleArn: "arn:aws:iam::123456789012:role/{denied_role}"}}
"#
    )
}

/// The Service `web` running `image` in every target; prod's in its own region's network.
fn write_images(env: &Env, prod: &(String, String), web: &str, image: &str) {
    let home = (env.id("subnet0"), env.id("security_group"));
    for (folder, net) in [("staging", &home), ("prod", prod), ("broken", &home)] {
        std::fs::create_dir_all(env.dir.join(folder)).expect("folder");
        env.write(
            &format!("{folder}/web.yaml"),
            &service(env, net, web, image),
        );
    }
}

/// `/status`'s entry of a target.
fn target(d: &Daemon, name: &str) -> Value {
    d.status_or_null()["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

/// A target's objects are all Synced and Healthy.
fn settled(t: &Value) -> bool {
    t["objects"].as_u64().is_some_and(|n| n > 0)
        && t["synced"] == t["objects"]
        && t["healthy"] == t["objects"]
}

#[test]
fn a_revision_reaches_prod_only_after_staging_is_healthy_a_staging_failure_holds_it_and_a_denied_role_blocks_only_its_target()
 {
    let env = fresh();
    let web = env.name.clone();
    let denied_role = unique_name("ecsd-denied");
    aws_in(
        PROD_REGION,
        "ecs",
        "create_cluster",
        &json!({"clusterName": env.cluster}),
    );
    let prod_net = network_in(PROD_REGION, &web);
    // AWS refuses AssumeRole when the role's trust policy does not name the caller.
    layer(
        "fault",
        &json!({"operation": "AssumeRole", "code": "AccessDenied", "status": 403,
                "message": format!("User: arn:aws:iam::123456789012:user/ecsd is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/{denied_role}"),
                "matching": denied_role}),
    );
    env.write("targets.yaml", &targets(&denied_role));
    write_images(&env, &prod_net, &web, "web:1");
    let d = Daemon::spawn(
        &env,
        env.dir.to_str().expect("utf-8"),
        &["--resync", "2s"],
        None,
    );

    // Staging creates its Service; prod waits while staging's rollout is under way.
    let image = |region: &str| image_in(&env, region, &web);
    let created = eventually(Duration::from_secs(60), || image("us-east-1"));
    assert_eq!(created.as_deref(), Some("web:1"), "{}", d.logs());
    hold_still(
        &d,
        &|| image(PROD_REGION).is_none(),
        "prod has no Service yet",
    );
    complete(&env, "us-east-1", &web);
    let up = eventually(Duration::from_secs(60), || image(PROD_REGION));
    assert_eq!(
        up.as_deref(),
        Some("web:1"),
        "prod follows once staging is Healthy:\n{}",
        d.logs()
    );
    complete(&env, PROD_REGION, &web);
    let up = eventually(Duration::from_secs(60), || {
        (settled(&target(&d, "staging")) && settled(&target(&d, "prod"))).then_some(())
    });
    assert!(
        up.is_some(),
        "staging and prod converge:\n{}\n{}",
        d.status_or_null(),
        d.logs()
    );

    // The page of prod's object says it is prod's (the same name lives in staging).
    let page = http(
        "GET",
        d.port,
        &format!("/ui/object/Service/{web}?target=prod"),
    )
    .expect("/ui answers");
    assert_eq!(page.0, 200, "{}", page.1);
    assert!(
        page.1.contains("target <code id=\"target\">prod</code>"),
        "{}",
        page.1
    );
    let overview = http("GET", d.port, "/ui").expect("/ui answers").1;
    assert!(overview.contains("?target=staging"), "{overview}");
    assert!(
        overview.contains(&format!(
            "<h2 id=\"app-prod-{web}\">{web} <span class=\"target\">(prod)</span></h2>"
        )),
        "each target's application is its own: {overview}"
    );

    // The denied target says why, and blocks no one.
    let broken = eventually(Duration::from_secs(30), || {
        let t = target(&d, "broken");
        t["errors"]
            .to_string()
            .contains("AccessDenied")
            .then_some(t)
    });
    assert!(
        broken.is_some(),
        "the denied target reports AccessDenied: {}",
        target(&d, "broken")
    );
    // Its failure is its own: the process is ready.
    d.wait_ready();
    assert!(
        d.status_or_null()["errors"]
            .to_string()
            .contains("target broken: "),
        "{}",
        d.status_or_null()["errors"]
    );

    // An image bump: staging first; prod only once staging is Synced and Healthy on it.
    write_images(&env, &prod_net, &web, "web:2");
    let bumped = eventually(Duration::from_secs(60), || {
        (image("us-east-1").as_deref() == Some("web:2")).then_some(())
    });
    assert!(bumped.is_some(), "staging gets web:2:\n{}", d.logs());
    hold_still(
        &d,
        &|| image(PROD_REGION).as_deref() == Some("web:1"),
        "prod keeps web:1 while staging rolls out",
    );
    let prod = target(&d, "prod");
    assert_eq!(prod["promotion"]["state"], "waiting", "{prod}");
    assert!(
        prod["promotion"]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("waiting for staging: Service/"),
        "{prod}"
    );
    complete(&env, "us-east-1", &web);
    let promoted = eventually(Duration::from_secs(60), || {
        (image(PROD_REGION).as_deref() == Some("web:2")).then_some(())
    });
    assert!(
        promoted.is_some(),
        "prod gets web:2:\n{}\n{}",
        d.status_or_null(),
        d.logs()
    );
    let prod = target(&d, "prod");
    assert_eq!(prod["promotion"]["state"], "promoted", "{prod}");
    assert_eq!(
        prod["revision"],
        target(&d, "staging")["revision"],
        "{prod}"
    );
    complete(&env, PROD_REGION, &web);

    // Staging fails on the next revision: prod holds it, and says where and why.
    layer(
        "fault",
        &json!({"operation": "RegisterTaskDefinition", "code": "ClientException",
                "message": "Too many concurrent attempts to create a new revision of the specified family.",
                "matching": format!("\"{web}\"")}),
    );
    write_images(&env, &prod_net, &web, "web:3");
    let held = eventually(Duration::from_secs(60), || {
        let t = target(&d, "prod");
        (t["promotion"]["state"] == "held").then_some(t)
    })
    .unwrap_or_else(|| {
        panic!(
            "prod's promotion is held:\n{}\n{}",
            d.status_or_null(),
            d.logs()
        )
    });
    let reason = held["promotion"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("held at staging: Service/") && reason.contains("failed"),
        "{held}"
    );
    hold_still(
        &d,
        &|| image(PROD_REGION).as_deref() == Some("web:2"),
        "prod keeps web:2 while staging fails",
    );

    // Staging recovers: the held revision goes on to prod once it is Healthy there.
    layer("fault", &json!({"operation": "RegisterTaskDefinition"}));
    let on = eventually(Duration::from_secs(60), || {
        (image("us-east-1").as_deref() == Some("web:3")).then_some(())
    });
    assert!(
        on.is_some(),
        "staging gets web:3 once it can:\n{}",
        d.logs()
    );
    complete(&env, "us-east-1", &web);
    let on = eventually(Duration::from_secs(60), || {
        (image(PROD_REGION).as_deref() == Some("web:3")).then_some(())
    });
    assert!(
        on.is_some(),
        "prod gets web:3 once staging recovers:\n{}",
        d.logs()
    );
    layer("fault", &json!({"operation": "AssumeRole"}));
}

/// Completes the Service's rollout in `region`, as ECS would once its tasks run.
fn complete(env: &Env, region: &str, service: &str) {
    layer(
        "ecs/complete",
        &json!({"cluster": env.cluster, "service": service, "region": region}),
    );
}

/// `check` holds for 4 s (several of the controller's passes at --resync 2s).
fn hold_still(d: &Daemon, check: &dyn Fn() -> bool, what: &str) {
    let until = std::time::Instant::now() + Duration::from_secs(4);
    while std::time::Instant::now() < until {
        assert!(check(), "{what}:\n{}\n{}", d.status_or_null(), d.logs());
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn plan_and_apply_act_on_the_target_they_are_given_and_need_one() {
    let env = fresh();
    let web = env.name.clone();
    aws_in(
        PROD_REGION,
        "ecs",
        "create_cluster",
        &json!({"clusterName": env.cluster}),
    );
    let prod_net = network_in(PROD_REGION, &web);
    env.write("targets.yaml", &targets(&unique_name("unused")));
    write_images(&env, &prod_net, &web, "web:1");

    let run = env.ecsd(&["plan", "--output", "json"]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(
        run.stderr.contains(
            "declares deployment targets (broken, prod, staging): name one with --target NAME"
        ),
        "{}",
        run.output()
    );
    let run = env.ecsd(&["plan", "--target", "prd"]);
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(
        run.stderr.contains("--target prd: no such target"),
        "{}",
        run.output()
    );

    // prod's plan and apply reach prod's region with prod's role, and nothing else.
    let plan = env.ecsd(&["plan", "--target", "prod", "--output", "json"]);
    assert_eq!(plan.code, 2, "{}", plan.output());
    let doc: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    let changes = doc["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1, "{doc}");
    assert_eq!(
        (&changes[0]["name"], &changes[0]["action"]),
        (&json!(web), &json!("create"))
    );
    let apply = env.ecsd(&["apply", "--target", "prod"]);
    assert_eq!(apply.code, 0, "{}", apply.output());
    assert!(
        apply
            .stderr
            .contains("arn:aws:ecs:eu-west-1:123456789012:task-definition/"),
        "prod's task definition is registered in prod's region:\n{}",
        apply.output()
    );
    assert_eq!(image_in(&env, PROD_REGION, &web).as_deref(), Some("web:1"));
    assert_eq!(
        image_in(&env, "us-east-1", &web),
        None,
        "staging is untouched"
    );
    let again = env.ecsd(&["plan", "--target", "prod", "--output", "json"]);
    assert_eq!(again.code, 0, "{}", again.output());
}

#[test]
fn the_targets_example_is_valid_and_says_which_objects_go_where() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecsd"))
        .args(["validate", "manifests/targets"])
        .current_dir(ecsd_tests::repo_root())
        .output()
        .expect("run ecsd validate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("valid: 2 Service in 3 file(s); targets: prod (1), staging (1)"),
        "{stderr}"
    );
}
