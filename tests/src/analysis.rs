//! Canary analysis in tests: the manifest lines of a pause and its analysis, the ALB
//! dimensions of a service's target groups, CloudWatch data points written for them
//! (boto3, independent of ecsd), and the ContinueServiceDeployment requests a
//! recording proxy saw.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::aws;
use crate::env::{Env, PAUSE_AFTER_TEST_TRAFFIC as PAUSE};
use crate::proxy::Logged;

/// `deployment` lines: the pause and an analysis at it over `window` (10 s intervals)
/// with `metrics` (YAML list items indented by 8) and `extra` analysis keys.
pub fn analysed(window: &str, extra: &str, metrics: &str) -> String {
    format!(
        "{PAUSE}    analysis:\n      stage: POST_TEST_TRAFFIC_SHIFT\n      window: {window}\n      interval: 10s\n{extra}      metrics:\n{metrics}"
    )
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The CloudWatch dimension values of a native service's pair as ECS has it now: the
/// group the new revision's tasks are behind (the alternate), the one serving
/// production, and their load balancer.
pub struct Pair {
    pub canary: String,
    pub baseline: String,
    pub load_balancer: String,
}

impl Pair {
    pub fn of(env: &Env, service: &str) -> Pair {
        let svc = env.service(service);
        let lb = &svc["loadBalancers"][0];
        let arn = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let canary = arn(&lb["advancedConfiguration"]["alternateTargetGroupArn"]);
        let baseline = arn(&lb["targetGroupArn"]);
        let described = aws(
            "elbv2",
            "describe_target_groups",
            &json!({"TargetGroupArns": [canary]}),
        );
        let balancer = arn(&described["TargetGroups"][0]["LoadBalancerArns"][0]);
        let after = |s: &str, marker: &str| {
            s.split_once(marker)
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_default()
        };
        Pair {
            canary: format!("targetgroup/{}", after(&canary, ":targetgroup/")),
            baseline: format!("targetgroup/{}", after(&baseline, ":targetgroup/")),
            load_balancer: after(&balancer, ":loadbalancer/"),
        }
    }

    /// Writes `values` of the ALB metric `name` for `group` (one of this pair's),
    /// every 2 seconds from 4 s ago on (one per value), in one PutMetricData call.
    pub fn put(&self, group: &str, name: &str, values: &[f64]) {
        let start = now() - 4;
        let data: Vec<Value> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                json!({
                    "MetricName": name, "Value": v, "Timestamp": start + 2 * i as u64,
                    "Dimensions": [
                        {"Name": "LoadBalancer", "Value": self.load_balancer},
                        {"Name": "TargetGroup", "Value": group},
                    ],
                })
            })
            .collect();
        aws(
            "cloudwatch",
            "put_metric_data",
            &json!({"Namespace": "AWS/ApplicationELB", "MetricData": data}),
        );
    }
}

/// The stage of the service's deployment `arn` and the status of its first hook.
pub fn deployment(arn: &Value) -> (String, String) {
    let d = aws(
        "ecs",
        "describe_service_deployments",
        &json!({"serviceDeploymentArns": [arn]}),
    );
    let d = &d["serviceDeployments"][0];
    (
        d["lifecycleStage"].as_str().unwrap_or_default().to_owned(),
        d["lifecycleHookDetails"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// The action (`CONTINUE`, `ROLLBACK`) of every ContinueServiceDeployment in `log`.
pub fn continues(log: &[Logged]) -> Vec<String> {
    log.iter()
        .filter(|l| l.action == "ContinueServiceDeployment")
        .map(|l| {
            serde_json::from_str::<Value>(&l.body)
                .ok()
                .and_then(|b| b["action"].as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect()
}
