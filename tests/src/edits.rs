//! Edits of a manifest set, for the whole-object property (manifest-v1, "What a
//! manifest means"): a generated stack (TargetGroup, Service, ScalingPolicy) with nearly
//! every optional field set to a value other than its default, and every way to edit
//! one of its nodes: delete it, change it, grow a map or list by one entry, or add it
//! (the stack without it comes first). The documents are JSON, which is YAML.
//!
//! Pure data: `crates/ecsd-runtime/tests/whole_object.rs` runs every edit against the
//! in-memory fake, `tests/cli/edits.rs` a sample through the binary against the
//! emulator.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The ids a stack refers to.
#[derive(Debug, Clone)]
pub struct Names {
    /// The TargetGroup, Service and ScalingPolicy name.
    pub name: String,
    pub cluster: String,
    pub vpc: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// The listener of the rule, and the one a changed `listenerArn` moves it to.
    pub listeners: [String; 2],
}

/// Paths (below a document) that name an object rather than describe it, or that AWS
/// cannot change in place (ecsd refuses those with a plan error, tested elsewhere).
pub const IDENTITY: [&str; 10] = [
    "apiVersion",
    "kind",
    "metadata.name",
    "spec.cluster",
    "spec.service",
    "spec.vpcId",
    "spec.port",
    "spec.protocol",
    "spec.targetType",
    "spec.deployment.strategy",
];

/// What a generated stack varies.
#[derive(Debug, Clone)]
pub struct Base {
    pub tag: u32,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub desired: u32,
    pub interval: u32,
    pub minimum_healthy: u32,
    pub sidecar: bool,
    pub host_header: bool,
    pub policy: bool,
    /// `strategy: blueGreen` with a second (green) TargetGroup, instead of rolling.
    pub blue_green: bool,
}

impl Default for Base {
    /// Everything on.
    fn default() -> Self {
        Base {
            tag: 1,
            env: [("LOG_LEVEL", "info"), ("FEATURE_X", "on")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            labels: [("team", "storefront"), ("tier", "web")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            desired: 3,
            interval: 15,
            minimum_healthy: 50,
            sidecar: true,
            host_header: true,
            policy: true,
            blue_green: false,
        }
    }
}

/// The stack as documents (JSON is YAML), with nearly every optional field set to a
/// value other than its default, so that deleting it is a change.
pub fn documents(b: &Base, n: &Names) -> Vec<Value> {
    let name = &n.name;
    let mut rule =
        json!({"listenerArn": n.listeners[0], "priority": 10, "pathPatterns": ["/api/*", "/v1/*"]});
    if b.host_header {
        rule["hostHeaders"] = json!(["shop.example.com"]);
    }
    let target_group = json!({
        "apiVersion": "ecsd/v1",
        "kind": "TargetGroup",
        "metadata": {"name": name, "labels": b.labels},
        "spec": {
            "vpcId": n.vpc,
            "port": 5001,
            "healthCheck": {
                "path": "/healthz",
                "intervalSeconds": b.interval,
                "timeoutSeconds": 4,
                "healthyThreshold": 3,
                "unhealthyThreshold": 4,
                "matcher": "200-299"
            },
            "deregistrationDelaySeconds": 30,
            "listenerRule": rule
        }
    });
    let mut app = json!({
        "name": "app",
        "image": format!("registry.example.com/web:{}", b.tag),
        "portMappings": [{"containerPort": 5001}, {"containerPort": 9001, "protocol": "udp"}],
        "environment": b.env,
        "secrets": {"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},
        "logging": {"driver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}},
        "healthCheck": {
            "command": ["CMD-SHELL", "curl -f http://localhost:5001/healthz"],
            "intervalSeconds": 10,
            "timeoutSeconds": 3,
            "retries": 2,
            "startPeriodSeconds": 20
        },
        "user": "1000",
        "readonlyRootFilesystem": true,
        "command": ["serve", "--port", "5001"],
        "entryPoint": ["/bin/sh", "-c"],
        "cpu": 256,
        "memory": 1024,
        "memoryReservation": 512,
        "workingDirectory": "/srv",
        "stopTimeoutSeconds": 20
    });
    let mut containers = vec![];
    if b.sidecar {
        app["dependsOn"] = json!([{"containerName": "sidecar", "condition": "START"}]);
        containers.push(app);
        containers.push(
            json!({"name": "sidecar", "image": "registry.example.com/side:1", "essential": false}),
        );
    } else {
        containers.push(app);
    }
    let service = json!({
        "apiVersion": "ecsd/v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": b.labels},
        "spec": {
            "cluster": n.cluster,
            "desiredCount": b.desired,
            "network": {
                "subnets": n.subnets,
                "securityGroups": n.security_groups,
                "assignPublicIp": true
            },
            "taskDefinition": {
                "family": "web-app",
                "cpu": 512,
                "memory": 2048,
                "executionRoleArn": "arn:aws:iam::123456789012:role/web-execution",
                "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
                "containers": containers
            },
            "loadBalancers": [{"targetGroup": name, "containerName": "app", "containerPort": 5001}],
            "healthCheckGracePeriodSeconds": 60,
            "deployment": {
                "minimumHealthyPercent": b.minimum_healthy,
                "maximumPercent": 150,
                "circuitBreaker": {
                    "enable": true,
                    "rollback": true,
                    "resetOnHealthyTask": false,
                    "thresholdConfiguration": {"type": "count", "value": 7}
                },
                "alarms": {"alarmNames": [format!("{name}-5xx"), format!("{name}-latency")], "rollback": true},
                "earlySuccessCriteria": {"healthyPercent": 90, "sourceServiceRevisionCleanup": "deferred"}
            }
        }
    });
    let mut docs = vec![target_group.clone()];
    let mut service = service;
    if b.blue_green {
        let green = format!("{name}-green");
        service["spec"]["deployment"] = json!({
            "strategy": "blueGreen",
            "minimumHealthyPercent": b.minimum_healthy,
            "maximumPercent": 150,
            "blueGreen": {
                "alternateTargetGroup": green,
                "prodListenerArn": n.listeners[0],
                "testListenerArn": n.listeners[1],
                "trafficShift": "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
                "terminateBlueAfterMinutes": 30,
                "autoRollback": false,
                "alarms": [format!("{name}-5xx"), format!("{name}-latency")],
                "serviceRoleArn": "arn:aws:iam::123456789012:role/codedeploy",
                "validationHooks": {"beforeInstall": format!("{name}-check"), "afterAllowTestTraffic": format!("{name}-smoke")}
            }
        });
        let mut green_tg = target_group;
        green_tg["metadata"]["name"] = json!(green);
        if let Some(spec) = green_tg["spec"].as_object_mut() {
            spec.remove("listenerRule");
        }
        docs.push(green_tg);
    }
    docs.push(service);
    if b.policy {
        docs.push(json!({
            "apiVersion": "ecsd/v1",
            "kind": "ScalingPolicy",
            "metadata": {"name": name, "labels": b.labels},
            "spec": {
                "service": name,
                "minCapacity": 2,
                "maxCapacity": 10,
                "targetTracking": [
                    {"metric": "cpu", "target": 60, "scaleInCooldownSeconds": 120, "scaleOutCooldownSeconds": 30, "disableScaleIn": true},
                    if b.blue_green {
                        // requestsPerTarget would follow the idle target group after a swap.
                        json!({"metric": "memory", "target": 70})
                    } else {
                        json!({"metric": "requestsPerTarget", "target": 500})
                    }
                ],
                "scheduled": [
                    {"name": "nightly", "schedule": "cron(0 22 * * ? *)", "timezone": "Europe/Berlin", "minCapacity": 2, "maxCapacity": 4},
                    {"name": "morning", "schedule": "cron(0 7 * * ? *)", "minCapacity": 4}
                ]
            }
        }));
    }
    docs
}

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A node: the document's index and the path inside it.
pub type Path = (usize, Vec<Seg>);

pub fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// One edit of a manifest set.
#[derive(Debug, Clone)]
pub enum Edit {
    /// The node goes.
    Delete(Path),
    /// A scalar takes another value.
    Change(Path),
    /// A map or list gets one more entry.
    Grow(Path),
    /// The node is added (M is the set without it).
    Add(Path),
}

impl Edit {
    fn parts(&self) -> (&'static str, &Path) {
        match self {
            Edit::Delete(p) => ("delete", p),
            Edit::Change(p) => ("change", p),
            Edit::Grow(p) => ("grow", p),
            Edit::Add(p) => ("add", p),
        }
    }

    pub fn path(&self) -> &Path {
        self.parts().1
    }

    pub fn describe(&self) -> String {
        let (what, (doc, path)) = self.parts();
        format!("{what} document {doc} {}", dotted(path))
    }

    /// (M, M') for the stack `docs` made with `names`; `None` when the edit does not
    /// apply to it.
    pub fn apply(&self, docs: &[Value], names: &Names) -> Option<(Vec<Value>, Vec<Value>)> {
        let mut edited = docs.to_vec();
        match self {
            Edit::Delete((d, p)) => {
                remove(&mut edited[*d], p)?;
                Some((docs.to_vec(), edited))
            }
            Edit::Add((d, p)) => {
                remove(&mut edited[*d], p)?;
                Some((edited, docs.to_vec()))
            }
            Edit::Change((d, p)) => {
                let node = node_mut(&mut edited[*d], p)?;
                *node = other(node, names)?;
                Some((docs.to_vec(), edited))
            }
            Edit::Grow((d, p)) => {
                match node_mut(&mut edited[*d], p)? {
                    Value::Object(map) => {
                        let value = map.values().next().cloned().unwrap_or(json!("added"));
                        map.insert("ADDED".to_owned(), vary(&value));
                    }
                    Value::Array(items) => {
                        let last = items.last()?.clone();
                        items.push(vary(&last));
                    }
                    _ => return None,
                }
                Some((docs.to_vec(), edited))
            }
        }
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k),
        Seg::Index(i) => v.get_mut(*i),
    })
}

fn remove(v: &mut Value, path: &[Seg]) -> Option<()> {
    let (last, parent) = path.split_last()?;
    match (node_mut(v, parent)?, last) {
        (Value::Object(map), Seg::Key(k)) => map.remove(k).map(|_| ()),
        (Value::Array(items), Seg::Index(i)) if *i < items.len() => {
            items.remove(*i);
            Some(())
        }
        _ => None,
    }
}

/// Another valid-looking value of the same type; the validator judges.
fn other(v: &Value, names: &Names) -> Option<Value> {
    if v.as_str() == Some(names.listeners[0].as_str()) {
        return Some(json!(names.listeners[1]));
    }
    let alternatives = [
        ("tcp", "udp"),
        ("udp", "tcp"),
        ("START", "HEALTHY"),
        ("cpu", "memory"),
        ("requestsPerTarget", "memory"),
        ("awslogs", "splunk"),
    ];
    match v {
        Value::String(s) => Some(json!(
            alternatives
                .iter()
                .find(|(a, _)| a == s)
                .map_or_else(|| format!("{s}2"), |(_, b)| (*b).to_owned())
        )),
        Value::Number(n) => n.as_u64().map(|n| json!(if n > 1 { n - 1 } else { n + 1 })),
        Value::Bool(b) => Some(json!(!b)),
        _ => None,
    }
}

/// A copy with every string changed, to be a new list entry.
fn vary(v: &Value) -> Value {
    match v {
        Value::String(s) => json!(format!("{s}2")),
        Value::Array(items) => Value::Array(items.iter().map(vary).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), vary(v))).collect())
        }
        other => other.clone(),
    }
}

/// Every edit of every node of `docs`, in document order.
pub fn edits(docs: &[Value]) -> Vec<Edit> {
    fn walk(doc: usize, v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Edit>) {
        let here = dotted(path);
        if IDENTITY.contains(&here.as_str()) {
            return;
        }
        let node = (doc, path.clone());
        // Every node but the document, its `spec` and its `metadata` can go.
        let top = match path.as_slice() {
            [] => true,
            [Seg::Key(k)] => k == "spec" || k == "metadata",
            _ => false,
        };
        if !top {
            out.push(Edit::Delete(node.clone()));
            out.push(Edit::Add(node.clone()));
        }
        match v {
            Value::Object(map) => {
                let is_map = !map.is_empty() && map.values().all(Value::is_string);
                if is_map {
                    out.push(Edit::Grow(node));
                }
                for (k, child) in map {
                    path.push(Seg::Key(k.clone()));
                    walk(doc, child, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                out.push(Edit::Grow(node));
                for (i, child) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(doc, child, path, out);
                    path.pop();
                }
            }
            _ => out.push(Edit::Change(node)),
        }
    }
    let mut out = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        walk(i, d, &mut Vec::new(), &mut out);
    }
    out
}

/// The documents as one YAML file.
pub fn text(docs: &[Value]) -> String {
    docs.iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n---\n")
}
