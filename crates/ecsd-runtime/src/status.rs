//! What the controller knows about every object, shared with the HTTP endpoints: sync
//! and health per object, the source revision, counters, and the Prometheus rendering.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use ecsd_model::{Kind, Manifest, ObjectKey, Spec};
use ecsd_plan::Plan;
use ecsd_plan::state::{Observed, ServiceState};
use serde::Serialize;
use serde_json::{Value, json};

/// Whether AWS matches an object's manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Sync {
    Synced,
    OutOfSync,
    Error,
}

/// How an object is doing in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Health {
    Healthy,
    Progressing,
    Degraded,
    Unknown,
}

/// One object's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectStatus {
    pub sync: Sync,
    pub health: Health,
    pub message: String,
    /// The AWS error code of the last failure, if the object is in error because of AWS.
    pub error_code: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// Seconds until the next retry, while backing off.
    pub backoff_seconds: f64,
}

impl Default for ObjectStatus {
    fn default() -> Self {
        ObjectStatus {
            sync: Sync::OutOfSync,
            health: Health::Unknown,
            message: String::new(),
            error_code: None,
            failures: 0,
            backoff_seconds: 0.0,
        }
    }
}

/// Latency buckets of reconcile durations, in seconds.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A histogram with fixed buckets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }
}

/// Everything `/status` and `/metrics` show.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The revision of the snapshot being reconciled.
    pub revision: String,
    /// True after the first full reconcile (pass and the work it queued).
    pub ready: bool,
    pub objects: BTreeMap<ObjectKey, ObjectStatus>,
    /// Source errors not tied to one object (a file that is not YAML, a failed read).
    pub errors: Vec<String>,
    /// `ecsd_reconcile_total{kind,result}`.
    pub reconciles: BTreeMap<(Kind, &'static str), u64>,
    /// `ecsd_reconcile_duration_seconds{kind}`.
    pub durations: BTreeMap<Kind, Histogram>,
    /// Full passes (observe everything, plan) done, and how many failed.
    pub passes: u64,
    pub failed_passes: u64,
}

impl Status {
    /// The `/status` document (and `ecsd status --output json`).
    pub fn to_json(&self) -> Value {
        let objects: Vec<Value> = self
            .objects
            .iter()
            .map(|(k, o)| {
                json!({
                    "kind": k.kind.as_str(), "name": k.name, "sync": o.sync, "health": o.health,
                    "message": o.message,
                })
            })
            .collect();
        json!({"revision": self.revision, "objects": objects, "errors": self.errors})
    }

    /// The controller's own metrics in the Prometheus text format; the AWS call
    /// counters come from the caller (`calls`: (service, operation, outcome) -> n).
    pub fn metrics(
        &self,
        calls: &BTreeMap<(String, String, &'static str), u64>,
        attempts: &BTreeMap<(String, String), u64>,
    ) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "ecsd_reconcile_total",
            "Object reconciles by kind and result.",
            "counter",
        );
        for ((kind, result), n) in &self.reconciles {
            let _ = writeln!(
                out,
                "ecsd_reconcile_total{{kind=\"{kind}\",result=\"{result}\"}} {n}"
            );
        }
        header(
            &mut out,
            "ecsd_aws_requests_total",
            "AWS calls by service, operation and outcome.",
            "counter",
        );
        for ((service, op, outcome), n) in calls {
            let _ = writeln!(
                out,
                "ecsd_aws_requests_total{{service=\"{}\",operation=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(service),
                escape(op)
            );
        }
        header(
            &mut out,
            "ecsd_aws_retries_total",
            "AWS call attempts beyond the first, by service and operation.",
            "counter",
        );
        for ((service, op), n) in attempts {
            let calls_made: u64 = calls
                .iter()
                .filter(|((s, o, _), _)| s == service && o == op)
                .map(|(_, c)| c)
                .sum();
            let _ = writeln!(
                out,
                "ecsd_aws_retries_total{{service=\"{}\",operation=\"{}\"}} {}",
                escape(service),
                escape(op),
                n.saturating_sub(calls_made)
            );
        }
        header(
            &mut out,
            "ecsd_objects",
            "Objects by kind and sync status.",
            "gauge",
        );
        let mut objects: BTreeMap<(Kind, Sync), u64> = BTreeMap::new();
        for kind in Kind::ALL {
            for sync in [Sync::Synced, Sync::OutOfSync, Sync::Error] {
                objects.insert((kind, sync), 0);
            }
        }
        for (k, o) in &self.objects {
            *objects.entry((k.kind, o.sync)).or_default() += 1;
        }
        for ((kind, sync), n) in objects {
            let _ = writeln!(out, "ecsd_objects{{kind=\"{kind}\",sync=\"{sync:?}\"}} {n}");
        }
        header(
            &mut out,
            "ecsd_source_revision_info",
            "The source revision being reconciled.",
            "gauge",
        );
        let _ = writeln!(
            out,
            "ecsd_source_revision_info{{revision=\"{}\"}} 1",
            escape(&self.revision)
        );
        header(
            &mut out,
            "ecsd_reconcile_duration_seconds",
            "Time to reconcile one object.",
            "histogram",
        );
        for (kind, h) in &self.durations {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "ecsd_reconcile_duration_seconds_bucket{{kind=\"{kind}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "ecsd_reconcile_duration_seconds_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "ecsd_reconcile_duration_seconds_sum{{kind=\"{kind}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "ecsd_reconcile_duration_seconds_count{{kind=\"{kind}\"}} {}",
                h.count
            );
        }
        header(
            &mut out,
            "ecsd_backoff_seconds",
            "Seconds until a failing object is retried.",
            "gauge",
        );
        for (k, o) in self.objects.iter().filter(|(_, o)| o.failures > 0) {
            let _ = writeln!(
                out,
                "ecsd_backoff_seconds{{kind=\"{}\",name=\"{}\"}} {}",
                k.kind,
                escape(&k.name),
                o.backoff_seconds
            );
        }
        header(
            &mut out,
            "ecsd_passes_total",
            "Full observe-and-plan passes, and how many failed.",
            "counter",
        );
        let _ = writeln!(
            out,
            "ecsd_passes_total{{result=\"success\"}} {}",
            self.passes - self.failed_passes.min(self.passes)
        );
        let _ = writeln!(
            out,
            "ecsd_passes_total{{result=\"error\"}} {}",
            self.failed_passes
        );
        out
    }
}

/// The `# HELP` and `# TYPE` lines of a metric.
fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The health of any object from what was observed.
pub fn object_health(key: &ObjectKey, m: &Manifest, observed: &Observed) -> (Health, String) {
    match &m.spec {
        Spec::Service(svc) => {
            let cluster = ecsd_plan::ownership::cluster_name(&svc.cluster).to_owned();
            let key = (cluster, key.name.clone());
            let (health, message) = service_health(observed.services.get(&key));
            match observed.blue_green.get(&key).and_then(code_deploy_health) {
                Some((h, m)) => (h, format!("{message}; {m}")),
                None => (health, message),
            }
        }
        Spec::TargetGroup(_) => match observed.target_groups.get(&key.name) {
            Some(_) => (Health::Healthy, "target group exists".to_owned()),
            None => (
                Health::Unknown,
                "the target group does not exist yet".to_owned(),
            ),
        },
        Spec::ScalingPolicy(sp) => {
            let resource = scaling_resource_of(sp, observed);
            match resource {
                Some(rid) if observed.scalable_targets.contains_key(&rid) => {
                    (Health::Healthy, "scalable target registered".to_owned())
                }
                _ => (
                    Health::Unknown,
                    "the scalable target does not exist yet".to_owned(),
                ),
            }
        }
    }
}

/// The scalable target id of the service a ScalingPolicy scales, if that service exists.
fn scaling_resource_of(
    sp: &ecsd_model::scaling_policy::ScalingPolicySpec,
    observed: &Observed,
) -> Option<String> {
    observed
        .services
        .keys()
        .find(|(_, n)| *n == sp.service)
        .map(|(c, n)| ecsd_plan::ownership::scaling_resource_id(c, n))
}

/// The health a blue/green service's CodeDeploy deployments dictate, if any: one in
/// flight is Progressing; the last one Failed or Stopped is Degraded with CodeDeploy's
/// error. A Succeeded one leaves the verdict to the tasks.
pub fn code_deploy_health(state: &ecsd_plan::state::BlueGreenState) -> Option<(Health, String)> {
    if let Some(d) = state.in_flight.first() {
        return Some((
            Health::Progressing,
            format!("CodeDeploy deployment {} {}", d.id, d.status),
        ));
    }
    let last = state.last_finished.as_ref()?;
    matches!(last.status.as_str(), "Failed" | "Stopped").then(|| {
        let error = last
            .error
            .clone()
            .unwrap_or_else(|| "no reason given".to_owned());
        (
            Health::Degraded,
            format!("CodeDeploy deployment {} {}: {error}", last.id, last.status),
        )
    })
}

/// Sync, health and a message for every object of `manifests`, from one plan.
pub fn evaluate(
    manifests: &[Manifest],
    observed: &Observed,
    plan: &Plan,
) -> BTreeMap<ObjectKey, ObjectStatus> {
    let mut out = BTreeMap::new();
    for m in manifests {
        let key = m.key();
        let (health, health_message) = object_health(&key, m, observed);
        let error = plan.errors.iter().find(|e| e.key.as_ref() == Some(&key));
        let change = plan.changes.iter().find(|c| c.key == key);
        let (sync, message) = match (error, change) {
            (Some(e), _) => (Sync::Error, e.message.clone()),
            (None, Some(c)) => {
                let paths: Vec<&str> = c.diff.iter().map(|d| d.path.as_str()).collect();
                let message = if paths.is_empty() {
                    format!("to {}", format!("{:?}", c.action).to_lowercase())
                } else {
                    format!("differs at {}", paths.join(", "))
                };
                (Sync::OutOfSync, message)
            }
            (None, None) => (Sync::Synced, health_message),
        };
        out.insert(
            key,
            ObjectStatus {
                sync,
                health,
                message,
                ..ObjectStatus::default()
            },
        );
    }
    out
}

/// Why the service's last deployment was rolled back or failed, if it was: a deployment
/// whose rollout FAILED, or one the circuit breaker started to roll back.
pub fn rollback_reason(svc: &ServiceState) -> Option<String> {
    let failed = svc
        .deployments
        .iter()
        .find(|d| d.rollout_state.as_deref() == Some("FAILED"));
    let rolling_back = svc.deployments.iter().find(|d| {
        d.rollout_state_reason.as_deref().is_some_and(|r| {
            r.contains("rolled back") || r.contains("rolling back") || r.contains("circuit breaker")
        })
    });
    failed.or(rolling_back).map(|d| {
        let reason = d.rollout_state_reason.clone().unwrap_or_default();
        if reason.is_empty() {
            format!("deployment {} of {} failed", d.id, d.task_definition_arn)
        } else {
            reason
        }
    })
}

/// The health of a service from its deployments and task counts.
pub fn service_health(svc: Option<&ServiceState>) -> (Health, String) {
    let Some(svc) = svc else {
        return (Health::Unknown, "the service does not exist yet".to_owned());
    };
    let primary = svc.deployments.iter().find(|d| d.status == "PRIMARY");
    let rollout = primary
        .and_then(|d| d.rollout_state.as_deref())
        .unwrap_or("UNKNOWN");
    let message = format!(
        "{}/{} tasks running, deployment {rollout}",
        svc.running_count, svc.desired_count
    );
    if let Some(reason) = rollback_reason(svc) {
        return (Health::Degraded, format!("{message}: {reason}"));
    }
    let health = match rollout {
        "IN_PROGRESS" => Health::Progressing,
        _ if svc.deployments.len() > 1 => Health::Progressing,
        _ if svc.running_count >= svc.desired_count => Health::Healthy,
        _ if svc.pending_count > 0 => Health::Progressing,
        _ => Health::Degraded,
    };
    (health, message)
}

#[cfg(test)]
mod tests {
    use ecsd_plan::state::DeploymentState;

    use super::*;

    fn service(rollout: &str, running: u32, desired: u32, deployments: usize) -> ServiceState {
        let d = DeploymentState {
            id: "d".into(),
            status: "PRIMARY".into(),
            rollout_state: Some(rollout.into()),
            rollout_state_reason: None,
            task_definition_arn: "td".into(),
            desired_count: desired,
            running_count: running,
            failed_tasks: 0,
        };
        ServiceState {
            arn: String::new(),
            name: "web".into(),
            cluster_arn: String::new(),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            task_definition_arn: "td".into(),
            subnets: vec![],
            security_groups: vec![],
            assign_public_ip: false,
            load_balancers: vec![],
            minimum_healthy_percent: None,
            maximum_percent: None,
            circuit_breaker: None,
            health_check_grace_period_seconds: None,
            deployment_controller: "ECS".into(),
            deployments: vec![d; deployments],
            tags: Default::default(),
        }
    }

    #[test]
    fn health_follows_the_rollout_and_the_task_counts() {
        assert_eq!(service_health(None).0, Health::Unknown);
        let (h, m) = service_health(Some(&service("COMPLETED", 2, 2, 1)));
        assert_eq!(
            (h, m.as_str()),
            (Health::Healthy, "2/2 tasks running, deployment COMPLETED")
        );
        assert_eq!(
            service_health(Some(&service("IN_PROGRESS", 0, 2, 1))).0,
            Health::Progressing
        );
        assert_eq!(
            service_health(Some(&service("FAILED", 0, 2, 1))).0,
            Health::Degraded
        );
        assert_eq!(
            service_health(Some(&service("COMPLETED", 1, 2, 1))).0,
            Health::Degraded
        );
        let mut rolled = service("COMPLETED", 2, 2, 1);
        rolled.deployments[0].rollout_state_reason =
            Some("ECS deployment circuit breaker: rolled back".into());
        assert_eq!(service_health(Some(&rolled)).0, Health::Degraded);
    }

    #[test]
    fn metrics_carry_the_contract_names() {
        let mut s = Status {
            revision: "abc".into(),
            ..Status::default()
        };
        s.reconciles.insert((Kind::Service, "success"), 3);
        s.objects.insert(
            ObjectKey {
                kind: Kind::Service,
                name: "web".into(),
            },
            ObjectStatus {
                sync: Sync::Synced,
                ..ObjectStatus::default()
            },
        );
        let calls = BTreeMap::from([(
            ("ECS".to_owned(), "DescribeServices".to_owned(), "success"),
            4,
        )]);
        let attempts = BTreeMap::from([(("ECS".to_owned(), "DescribeServices".to_owned()), 6)]);
        let text = s.metrics(&calls, &attempts);
        for line in [
            "ecsd_reconcile_total{kind=\"Service\",result=\"success\"} 3",
            "ecsd_aws_requests_total{service=\"ECS\",operation=\"DescribeServices\",outcome=\"success\"} 4",
            "ecsd_aws_retries_total{service=\"ECS\",operation=\"DescribeServices\"} 2",
            "ecsd_objects{kind=\"Service\",sync=\"Synced\"} 1",
            "ecsd_objects{kind=\"TargetGroup\",sync=\"Error\"} 0",
            "ecsd_source_revision_info{revision=\"abc\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
    }
}
