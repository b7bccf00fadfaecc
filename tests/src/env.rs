//! An emulator environment for tests of the `ecsd` binary: a network, an ALB with
//! listeners and a cluster of its own, manifests of TargetGroup + Service (+
//! ScalingPolicy) stacks, and boto3 checks of what AWS holds.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

/// A PAUSE hook after the test traffic shift, rolling back after an hour (the `extra` of
/// [`Env::native_stack`]).
pub const PAUSE_AFTER_TEST_TRAFFIC: &str = "    lifecycleHooks:\n      - {type: pause, stages: [POST_TEST_TRAFFIC_SHIFT], timeoutMinutes: 60, timeoutAction: rollback}\n";

use crate::{aws, eventually, layer, network, scratch_dir, unique_name};

/// An emulator environment of one test: its own load balancer, cluster and names.
pub struct Env {
    /// The binary under test.
    pub bin: PathBuf,
    /// A unique name for the test's first stack.
    pub name: String,
    pub cluster: String,
    /// The fixture ids: vpc, subnet0, subnet1, security_group, load_balancer, listener.
    pub ids: Value,
    /// The source directory.
    pub dir: PathBuf,
    /// The `--owner` ecsd runs with.
    pub owner: String,
}

/// What a run of the binary printed, and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn calls_line(&self) -> Value {
        self.stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["message"] == "aws calls")
            .unwrap_or_else(|| panic!("no 'aws calls' log line in:\n{}", self.stderr))
    }

    /// (total, mutating) AWS calls, from the JSON log line ecsd writes at the end.
    pub fn calls(&self) -> (u64, u64) {
        let line = self.calls_line();
        (
            line["total"].as_u64().unwrap_or(0),
            line["mutating"].as_u64().unwrap_or(u64::MAX),
        )
    }

    /// How often the run called `operation` (e.g. `UpdateService`), of any service.
    pub fn count(&self, operation: &str) -> u64 {
        let by_op: Value = self.calls_line()["calls"]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        by_op
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.rsplit('.').next() == Some(operation))
            .map(|(_, n)| n.as_u64().unwrap_or(0))
            .sum()
    }

    /// stdout and stderr, for assertion messages.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Env {
    /// A fresh environment for the binary at `bin`.
    pub fn new(bin: impl Into<PathBuf>) -> Env {
        let name = unique_name("e");
        let cluster = unique_name("c");
        let ids = network(&name, &[&cluster]);
        Env {
            bin: bin.into(),
            owner: "ecsd".to_owned(),
            dir: scratch_dir(&name),
            name,
            cluster,
            ids,
        }
    }

    pub fn id(&self, key: &str) -> String {
        self.ids[key].as_str().unwrap_or_default().to_owned()
    }

    /// A TargetGroup + Service (+ ScalingPolicy) stack called `name`.
    pub fn stack(
        &self,
        name: &str,
        image: &str,
        desired: u32,
        policy: bool,
        priority: u32,
    ) -> String {
        let (vpc, s0, s1, sg, listener) = (
            self.id("vpc"),
            self.id("subnet0"),
            self.id("subnet1"),
            self.id("security_group"),
            self.id("listener"),
        );
        let cluster = &self.cluster;
        let mut text = format!(
            r#"apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: {name}, labels: {{team: storefront}}}}
spec:
  vpcId: {vpc}
  port: 5001
  healthCheck: {{path: /healthz, intervalSeconds: 15, timeoutSeconds: 5, matcher: "200-299"}}
  deregistrationDelaySeconds: 30
  listenerRule: {{listenerArn: "{listener}", priority: {priority}, pathPatterns: ["/{name}/*"]}}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: {name}}}
spec:
  cluster: {cluster}
  desiredCount: {desired}
  network: {{subnets: [{s0}, {s1}], securityGroups: [{sg}]}}
  taskDefinition:
    cpu: 512
    memory: 1024
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    containers:
      - name: app
        image: {image}
        portMappings: [{{containerPort: 5001}}]
        environment: {{LOG_LEVEL: info, FEATURE_FLAGS: zebra-7f3a}}
        secrets: {{DB_URL: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-Zebra9"}}
  loadBalancers: [{{targetGroup: {name}, containerName: app, containerPort: 5001}}]
  healthCheckGracePeriodSeconds: 60
  deployment: {{minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: {{enable: true, rollback: true}}}}
"#
        );
        if policy {
            text.push_str(&format!(
                "---\napiVersion: ecsd/v1\nkind: ScalingPolicy\nmetadata: {{name: {name}}}\nspec:\n  service: {name}\n  minCapacity: 2\n  maxCapacity: 10\n  targetTracking: [{{metric: cpu, target: 60}}]\n"
            ));
        }
        text
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.join(file), text).expect("write manifest");
    }

    pub fn ecsd(&self, args: &[&str]) -> Run {
        self.ecsd_via(None, args)
    }

    /// `ecsd` with AWS at `endpoint` (a proxy in front of the emulator) when given.
    pub fn ecsd_via(&self, endpoint: Option<&str>, args: &[&str]) -> Run {
        let dir = self.dir.to_str().expect("utf-8").to_owned();
        let mut command = Command::new(&self.bin);
        if let Some(e) = endpoint {
            command.env("AWS_ENDPOINT_URL", e);
        }
        let out = command
            .args(args)
            .args([
                "--source",
                &dir,
                "--owner",
                &self.owner,
                "--log-format",
                "json",
            ])
            .output()
            .expect("run ecsd");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn apply_ok(&self) -> Run {
        let run = self.ecsd(&["apply"]);
        assert_eq!(run.code, 0, "apply failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    /// Applies, then checks that nothing is left to change: a second apply makes no
    /// mutating call and plan exits 0.
    pub fn converge(&self) -> Run {
        let run = self.apply_ok();
        let again = self.apply_ok();
        assert_eq!(
            again.calls().1,
            0,
            "a second apply must change nothing:\n{}",
            again.output()
        );
        let (code, plan) = self.plan_json();
        assert_eq!(code, 0, "{plan}");
        run
    }

    /// A blue/green Service behind two target groups, the blue one on the production
    /// listener and the green one on the test listener.
    pub fn blue_green_stack(&self, name: &str, image: &str) -> String {
        let (prod, test) = (self.id("listener"), self.id("test_listener"));
        self.two_group_stack(
            name,
            image,
            &format!(
                r#"    strategy: blueGreen
    blueGreen:
      alternateTargetGroup: {name}-g
      prodListenerArn: "{prod}"
      testListenerArn: "{test}"
      trafficShift: CodeDeployDefault.ECSCanary10Percent5Minutes
      alarms: [{name}-5xx]
      serviceRoleArn: arn:aws:iam::123456789012:role/codedeploy-ecs
      validationHooks: {{afterAllowTestTraffic: web-smoke-test}}
"#
            ),
        )
    }

    /// A Service ECS deploys with `strategy` (ecsBlueGreen, linear or canary) between
    /// `{name}-b` (its rule on the production listener) and `{name}-g` (its rule on the
    /// test listener); `extra` is appended to the `deployment` block.
    pub fn native_stack(&self, name: &str, image: &str, strategy: &str, extra: &str) -> String {
        self.two_group_stack(
            name,
            image,
            &format!(
                r#"    strategy: {strategy}
    bakeTimeMinutes: 5
    traffic:
      alternateTargetGroup: {name}-g
      productionListenerRule: {name}-b
      testListenerRule: {name}-g
      roleArn: arn:aws:iam::123456789012:role/ecs-infrastructure-elb
{extra}"#
            ),
        )
    }

    /// Target groups `{name}-b` (a rule on the production listener) and `{name}-g` (a
    /// rule on the test listener), and a Service behind `{name}-b` with `deployment`.
    fn two_group_stack(&self, name: &str, image: &str, deployment: &str) -> String {
        let (vpc, s0, sg, prod, test) = (
            self.id("vpc"),
            self.id("subnet0"),
            self.id("security_group"),
            self.id("listener"),
            self.id("test_listener"),
        );
        let cluster = &self.cluster;
        format!(
            r#"apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: {name}-b}}
spec:
  vpcId: {vpc}
  port: 5001
  listenerRule: {{listenerArn: "{prod}", priority: 1, pathPatterns: ["/*"]}}
---
apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: {name}-g}}
spec:
  vpcId: {vpc}
  port: 5001
  listenerRule: {{listenerArn: "{test}", priority: 1, pathPatterns: ["/*"]}}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: {name}}}
spec:
  cluster: {cluster}
  desiredCount: 2
  network: {{subnets: [{s0}], securityGroups: [{sg}]}}
  taskDefinition:
    cpu: 256
    memory: 512
    containers: [{{name: app, image: "{image}", portMappings: [{{containerPort: 5001}}]}}]
  loadBalancers: [{{targetGroup: {name}-b, containerName: app, containerPort: 5001}}]
  deployment:
{deployment}"#
        )
    }

    /// A target group made by another tool (boto3, no ecsd) with `params` for
    /// CreateTargetGroup, and its rule at `priority` of the test's listener forwarding
    /// `/{path}/*` to it: their ARNs.
    pub fn foreign_target_group(
        &self,
        params: &Value,
        priority: u32,
        path: &str,
    ) -> (String, String) {
        let arn = |v: &Value, list: &str, key: &str| {
            v[list][0][key].as_str().unwrap_or_default().to_owned()
        };
        let tg = arn(
            &aws("elbv2", "create_target_group", params),
            "TargetGroups",
            "TargetGroupArn",
        );
        let rule = aws(
            "elbv2",
            "create_rule",
            &json!({"ListenerArn": self.id("listener"), "Priority": priority,
                    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": [format!("/{path}/*")]}}],
                    "Actions": [{"Type": "forward", "TargetGroupArn": tg}]}),
        );
        (tg, arn(&rule, "Rules", "RuleArn"))
    }

    /// The running task definition of a service, as DescribeTaskDefinition has it.
    pub fn task_definition(&self, name: &str) -> Value {
        let svc = self.service(name);
        aws(
            "ecs",
            "describe_task_definition",
            &json!({"taskDefinition": svc["taskDefinition"], "include": ["TAGS"]}),
        )
    }

    /// The tags of an ECS resource.
    pub fn ecs_tags(&self, arn: &str) -> Value {
        let out = aws(
            "ecs",
            "list_tags_for_resource",
            &json!({"resourceArn": arn}),
        );
        tag_map(&out["tags"], "key", "value")
    }

    /// The rules of the listener `listener` (`"listener"` or `"test_listener"`), as
    /// DescribeRules has them.
    pub fn rules(&self, listener: &str) -> Vec<Value> {
        let out = aws(
            "elbv2",
            "describe_rules",
            &json!({"ListenerArn": self.id(listener)}),
        );
        out["Rules"].as_array().cloned().unwrap_or_default()
    }

    /// The rule with `priority` on the listener `listener`.
    pub fn rule(&self, listener: &str, priority: u32) -> Value {
        // DescribeRules gives priorities as strings.
        let wanted = priority.to_string();
        self.rules(listener)
            .into_iter()
            .find(|r| r["Priority"] == wanted.as_str())
            .unwrap_or_else(|| panic!("no rule with priority {priority} on {listener}"))
    }

    /// The rules on either listener whose actions name the target group `arn`, with
    /// the listener's key.
    pub fn rules_forwarding_to(&self, arn: &str) -> Vec<(String, Value)> {
        ["listener", "test_listener"]
            .into_iter()
            .flat_map(|l| {
                self.rules(l)
                    .into_iter()
                    .filter(|r| r["Actions"].to_string().contains(arn))
                    .map(move |r| (l.to_owned(), r))
            })
            .collect()
    }

    /// `ecsd status --output json`, and the first Service's entry of its JSON.
    pub fn service_status(&self) -> (Run, Value) {
        let run = self.ecsd(&["status", "--output", "json"]);
        let doc: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("status JSON: {e}:\n{}", run.output()));
        let service = doc["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["kind"] == "Service")
            .cloned()
            .unwrap_or_else(|| panic!("no Service in the status: {doc}"));
        (run, service)
    }

    pub fn plan_json(&self) -> (i32, Value) {
        let run = self.ecsd(&["plan", "--output", "json"]);
        let plan = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("plan JSON: {e}:\n{}\n{}", run.stdout, run.stderr));
        (run.code, plan)
    }

    /// Changes a service's desired count as another client would (drift).
    pub fn set_desired_count(&self, service: &str, count: u32) {
        aws(
            "ecs",
            "update_service",
            &json!({"cluster": self.cluster, "service": service, "desiredCount": count}),
        );
    }

    /// Whether the service's desired count becomes `count` within `limit`.
    pub fn desired_count_becomes(&self, service: &str, count: u32, limit: Duration) -> bool {
        eventually(limit, || {
            (self.service(service)["desiredCount"] == count).then_some(())
        })
        .is_some()
    }

    /// Completes the service's native deployment under way, as ECS would (the layer's
    /// `ecs/complete`).
    pub fn complete_deployment(&self, service: &str) {
        layer(
            "ecs/complete",
            &json!({"cluster": self.cluster, "service": service}),
        );
    }

    pub fn service(&self, name: &str) -> Value {
        let out = aws(
            "ecs",
            "describe_services",
            &json!({"cluster": self.cluster, "services": [name], "include": ["TAGS"]}),
        );
        out["services"][0].clone()
    }

    pub fn target_group(&self, name: &str) -> Option<Value> {
        let all = aws("elbv2", "describe_target_groups", &json!({}));
        all["TargetGroups"]
            .as_array()?
            .iter()
            .find(|t| t["TargetGroupName"] == name)
            .cloned()
    }

    pub fn elb_tags(&self, arn: &str) -> Value {
        let out = aws("elbv2", "describe_tags", &json!({"ResourceArns": [arn]}));
        tag_map(&out["TagDescriptions"][0]["Tags"], "Key", "Value")
    }

    pub fn resource_id(&self, name: &str) -> String {
        format!("service/{}/{name}", self.cluster)
    }

    /// The scaling policies of service `name` (filtered by AWS: a crowded emulator has
    /// more than one page of policies).
    pub fn policies(&self, name: &str) -> Vec<Value> {
        let rid = self.resource_id(name);
        let out = aws(
            "application-autoscaling",
            "describe_scaling_policies",
            &json!({"ServiceNamespace": "ecs", "ResourceId": rid}),
        );
        out["ScalingPolicies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["ResourceId"] == rid.as_str())
            .cloned()
            .collect()
    }
}

/// A list of AWS tags as a JSON object.
/// A rule's forward as DescribeRules has it: (target group ARN, weight) in the rule's
/// order, -1 for a target group without a weight.
pub fn forward_weights(rule: &Value) -> Vec<(String, i64)> {
    rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["TargetGroupArn"].as_str().unwrap_or_default().to_owned(),
                t["Weight"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

pub fn tag_map(tags: &Value, key: &str, value: &str) -> Value {
    let map: serde_json::Map<String, Value> = tags
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t[key].as_str().unwrap_or_default().to_owned(),
                t[value].clone(),
            )
        })
        .collect();
    Value::Object(map)
}

/// Every diff path of a plan document, sorted.
pub fn diff_paths(plan: &Value) -> Vec<String> {
    let mut paths: Vec<String> = plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["diff"].as_array().cloned().unwrap_or_default())
        .filter_map(|d| d["path"].as_str().map(str::to_owned))
        .collect();
    paths.sort();
    paths
}
