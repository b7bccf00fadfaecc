//! The whole-object property through the binary against the emulator: a sample of the
//! edits `crates/ecsd-runtime/tests/whole_object.rs` checks exhaustively against the
//! fake (`ecsd_tests::edits`). For each: apply M; `plan` of M' shows a change; apply M';
//! then nothing is left to change and AWS, read with boto3, holds what M' says.
//!
//! The sample is spread evenly over the edits the validator accepts; set
//! `ECSD_EDIT_SAMPLE` to check more per test (every edit takes a few seconds, so beyond
//! about 12 run it with `cargo test`, which has no per-test time limit).

use ecsd_model::{Manifest, SourceFile, parse_source};
use ecsd_tests::aws;
use ecsd_tests::edits::{Base, Edit, Names, Seg, documents, edits, text};
use ecsd_tests::env::{Env, tag_map};
use serde_json::{Value, json};

/// Edits per test; three tests share the sample.
const DEFAULT_SAMPLE: usize = 2;
const SHARDS: usize = 3;

fn names(env: &Env) -> Names {
    Names {
        name: env.name.clone(),
        cluster: env.cluster.clone(),
        vpc: env.id("vpc"),
        subnets: vec![env.id("subnet0"), env.id("subnet1")],
        security_groups: vec![env.id("security_group")],
        listeners: [env.id("listener"), env.id("test_listener")],
    }
}

fn manifests(docs: &[Value]) -> Option<Vec<Manifest>> {
    let source = parse_source(&[SourceFile {
        name: "stack.yaml".into(),
        bytes: text(docs).into_bytes(),
    }]);
    source
        .is_valid()
        .then(|| source.documents.into_iter().map(|d| d.manifest).collect())
}

/// The edits both sides of which are valid and differ, in generation order.
fn valid_edits(docs: &[Value], names: &Names) -> Vec<Edit> {
    edits(docs)
        .into_iter()
        .filter(|e| {
            e.apply(docs, names).is_some_and(
                |(m, m2)| matches!((manifests(&m), manifests(&m2)), (Some(a), Some(b)) if a != b),
            )
        })
        .collect()
}

/// Shard `shard` of an even spread of the valid edits.
fn sample(all: &[Edit], shard: usize) -> Vec<Edit> {
    let per_shard = std::env::var("ECSD_EDIT_SAMPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SAMPLE);
    let n = (per_shard * SHARDS).min(all.len());
    (0..n)
        .filter(|i| i % SHARDS == shard)
        .map(|i| all[i * all.len() / n].clone())
        .collect()
}

fn run_shard(shard: usize) {
    // The edits are found once with placeholder ids; each runs in a fresh environment.
    let placeholder = Names {
        name: "web".into(),
        cluster: "prod".into(),
        vpc: "vpc-0abc1234".into(),
        subnets: vec!["subnet-0a1b2c3d".into(), "subnet-4e5f6a7b".into()],
        security_groups: vec!["sg-0abc1234".into()],
        listeners: [
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2".into(),
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/0a1b2c3d4e5f6a7b".into(),
        ],
    };
    let base = Base::default();
    let all = valid_edits(&documents(&base, &placeholder), &placeholder);
    assert!(all.len() > 100, "only {} valid edits", all.len());
    for edit in sample(&all, shard) {
        let env = Env::new(env!("CARGO_BIN_EXE_ecsd"));
        let names = names(&env);
        let docs = documents(&base, &names);
        let Some((m, m2)) = edit.apply(&docs, &names) else {
            panic!("{} does not apply", edit.describe());
        };
        check(&env, &edit, &m, &m2);
    }
}

fn check(env: &Env, edit: &Edit, m: &[Value], m2: &[Value]) {
    let what = edit.describe();
    env.write("stack.yaml", &text(m));
    let (_, first) = env.plan_json();
    let refused = first["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["reason"] == "noLoadBalancer");
    if refused {
        // M itself is refused, as documented (no listener rule for a new service).
        return;
    }
    env.converge();
    env.write("stack.yaml", &text(m2));
    let (code, plan) = env.plan_json();
    let autoscaled = m2.iter().any(|d| d["kind"] == "ScalingPolicy")
        && edit.path().1 == [Seg::Key("spec".into()), Seg::Key("desiredCount".into())];
    if autoscaled {
        assert_eq!(code, 0, "{what}: an autoscaled count is not ecsd's: {plan}");
    } else {
        assert_eq!(code, 2, "{what}: the edit is a change: {plan}");
    }
    env.converge();
    holds(env, m2, &what);
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// `KEY: value` maps of a container definition's environment or secrets.
fn pairs(v: &Value, value_key: &str) -> Value {
    tag_map(v, "name", value_key)
}

/// What AWS holds is what the documents say (the fields a reader would check first).
fn holds(env: &Env, docs: &[Value], what: &str) {
    let name = &env.name;
    let labels = |d: &Value| d["metadata"]["labels"].clone();
    let user_tags = |tags: Value| -> Value {
        let map: serde_json::Map<String, Value> = tags
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !k.starts_with("ecsd:") && !k.starts_with("aws:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Value::Object(map)
    };
    let empty_as_object = |v: Value| if v.is_null() { json!({}) } else { v };
    for doc in docs {
        let spec = &doc["spec"];
        match doc["kind"].as_str() {
            Some("TargetGroup") => {
                let tg = env.target_group(name).expect("target group");
                let hc = &spec["healthCheck"];
                assert_eq!(
                    (
                        tg["HealthCheckPath"].clone(),
                        tg["HealthCheckIntervalSeconds"].clone(),
                        tg["Matcher"]["HttpCode"].clone()
                    ),
                    (
                        json!(hc["path"].as_str().unwrap_or("/")),
                        json!(hc["intervalSeconds"].as_u64().unwrap_or(30)),
                        json!(hc["matcher"].as_str().unwrap_or("200"))
                    ),
                    "{what}: health check"
                );
                let tg_arn = tg["TargetGroupArn"].as_str().unwrap_or_default().to_owned();
                assert_eq!(
                    user_tags(env.elb_tags(&tg_arn)),
                    empty_as_object(labels(doc)),
                    "{what}: target group labels"
                );
                let rules: Vec<Value> = env
                    .rules_forwarding_to(&tg_arn)
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect();
                match spec.get("listenerRule") {
                    None => assert_eq!(rules, Vec::<Value>::new(), "{what}: no rule"),
                    Some(want) => {
                        assert_eq!(rules.len(), 1, "{what}: one rule: {rules:?}");
                        assert_eq!(
                            rules[0]["Priority"],
                            want["priority"].to_string(),
                            "{what}: priority"
                        );
                        let paths = rules[0]["Conditions"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|c| c["Field"] == "path-pattern")
                            .map(|c| strings(&c["PathPatternConfig"]["Values"]))
                            .unwrap_or_default();
                        assert_eq!(paths, strings(&want["pathPatterns"]), "{what}: paths");
                    }
                }
            }
            Some("Service") => {
                let svc = env.service(name);
                if !docs.iter().any(|d| d["kind"] == "ScalingPolicy") {
                    assert_eq!(
                        svc["desiredCount"],
                        json!(spec["desiredCount"].as_u64().unwrap_or(1)),
                        "{what}: desiredCount"
                    );
                }
                let vpc = &svc["networkConfiguration"]["awsvpcConfiguration"];
                assert_eq!(
                    (strings(&vpc["subnets"]), strings(&vpc["securityGroups"])),
                    (
                        strings(&spec["network"]["subnets"]),
                        strings(&spec["network"]["securityGroups"])
                    ),
                    "{what}: network"
                );
                assert_eq!(
                    svc["deploymentConfiguration"]["minimumHealthyPercent"],
                    json!(
                        spec["deployment"]["minimumHealthyPercent"]
                            .as_u64()
                            .unwrap_or(100)
                    ),
                    "{what}: minimumHealthyPercent"
                );
                let tags = tag_map(&svc["tags"], "key", "value");
                assert_eq!(
                    user_tags(tags),
                    empty_as_object(labels(doc)),
                    "{what}: service labels"
                );
                let td = env.task_definition(name);
                let running = &td["taskDefinition"]["containerDefinitions"];
                let want = spec["taskDefinition"]["containers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(
                    running.as_array().map(Vec::len),
                    Some(want.len()),
                    "{what}: containers"
                );
                for c in &want {
                    let r = running
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|r| r["name"] == c["name"])
                        .unwrap_or_else(|| panic!("{what}: no container {}", c["name"]));
                    assert_eq!(r["image"], c["image"], "{what}: image");
                    assert_eq!(
                        pairs(&r["environment"], "value"),
                        empty_as_object(c["environment"].clone()),
                        "{what}: environment"
                    );
                    assert_eq!(
                        pairs(&r["secrets"], "valueFrom"),
                        empty_as_object(c["secrets"].clone()),
                        "{what}: secrets"
                    );
                    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
                    assert_eq!(list(&r["command"]), list(&c["command"]), "{what}: command");
                    assert_eq!(
                        list(&r["entryPoint"]),
                        list(&c["entryPoint"]),
                        "{what}: entryPoint"
                    );
                    assert_eq!(
                        r["essential"],
                        json!(c["essential"].as_bool().unwrap_or(true)),
                        "{what}: essential"
                    );
                }
            }
            Some("ScalingPolicy") => {
                let targets = aws(
                    "application-autoscaling",
                    "describe_scalable_targets",
                    &json!({"ServiceNamespace": "ecs", "ResourceIds": [env.resource_id(name)]}),
                );
                let t = &targets["ScalableTargets"][0];
                assert_eq!(
                    (t["MinCapacity"].clone(), t["MaxCapacity"].clone()),
                    (spec["minCapacity"].clone(), spec["maxCapacity"].clone()),
                    "{what}: capacity"
                );
                let mut policies: Vec<String> = env
                    .policies(name)
                    .iter()
                    .filter_map(|p| p["PolicyName"].as_str().map(str::to_owned))
                    .collect();
                policies.sort();
                let mut want: Vec<String> = spec["targetTracking"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["metric"].as_str().map(|m| format!("ecsd-{name}-{m}")))
                    .collect();
                want.sort();
                assert_eq!(policies, want, "{what}: target tracking");
            }
            other => panic!("{what}: unexpected kind {other:?}"),
        }
    }
}

#[test]
fn sampled_edits_reach_aws_and_settle_shard_0() {
    run_shard(0);
}

#[test]
fn sampled_edits_reach_aws_and_settle_shard_1() {
    run_shard(1);
}

#[test]
fn sampled_edits_reach_aws_and_settle_shard_2() {
    run_shard(2);
}
