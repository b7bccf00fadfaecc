//! What the controller knows about every object, shared with the HTTP endpoints: sync
//! and health per object, the source revision and counters. [`crate::pass::health`] decides
//! sync and health from a plan; [`crate::controller::metrics`] renders the counters for Prometheus.
//! [`details`]: the signals behind an object's health, a deployment's progress, a
//! Service's tasks and an object's history; [`analysis`]: a canary analysis's verdict
//! and numbers; [`target`]: a deployment target and its promotion (*added*).

pub mod analysis;
pub mod details;
pub mod target;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use ecsd_model::{Kind, ObjectKey};

pub use details::{DeploymentProgress, HealthDetails, HistoryEntry, Tasks};
use serde::Serialize;
use serde_json::{Value, json};

/// Whether AWS matches an object's manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    Error,
}

impl SyncStatus {
    /// Every value, for gauges that list zero counts too.
    pub const ALL: [SyncStatus; 3] = [SyncStatus::Synced, SyncStatus::OutOfSync, SyncStatus::Error];

    /// The name in `/status` and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Synced => "Synced",
            SyncStatus::OutOfSync => "OutOfSync",
            SyncStatus::Error => "Error",
        }
    }
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an object is doing in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Health {
    Healthy,
    Progressing,
    Degraded,
    Unknown,
}

impl Health {
    /// The name in `/status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Progressing => "Progressing",
            Health::Degraded => "Degraded",
            Health::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectStatus {
    pub sync: SyncStatus,
    pub health: Health,
    pub message: String,
    /// The AWS error code of the last failure, if the object is in error because of AWS.
    pub error_code: Option<String>,
    /// Consecutive failures.
    pub failures: u32,
    /// Seconds until the next retry, while backing off.
    pub backoff_seconds: f64,
    /// A native deployment of this Service paused at a PAUSE hook, waiting for an
    /// `approve:` or `rollback:` in the manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awaiting_approval: Option<AwaitingApproval>,
    /// The last canary analysis of a paused deployment of this Service (kept after it
    /// acted, until the next one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<ecsd_plan::analysis::AnalysisState>,
    /// What differs while the object is OutOfSync (manifest paths, AWS's value, the
    /// manifest's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<ecsd_plan::FieldDiff>,
    /// When its sync or health last changed (RFC 3339, UTC).
    pub last_change: Option<String>,
    /// The Service this object serves (its own name for a Service), by which `/ui` and
    /// `ecsd status` group objects.
    pub application: String,
    /// What is not wrong enough to change its health but should be looked at.
    pub warnings: Vec<String>,
    /// The signals its health was decided from.
    pub details: HealthDetails,
    /// A Service's deployment under way.
    pub deployment: Option<DeploymentProgress>,
    /// A Service's tasks.
    pub tasks: Option<Tasks>,
    /// What ecsd applied to it, oldest first.
    pub history: std::collections::VecDeque<HistoryEntry>,
}

/// A pending diff as `/status` shows it: the values of environment variables and
/// secrets are hidden ("(hidden)"; whether one is set or removed still shows), since
/// `/status` needs no token to read.
pub fn shown_diff(diff: &[ecsd_plan::FieldDiff]) -> Vec<ecsd_plan::FieldDiff> {
    let hide = |v: &Value| {
        if v.is_null() {
            Value::Null
        } else {
            json!("(hidden)")
        }
    };
    diff.iter()
        .map(|d| {
            if d.path.contains(".environment") || d.path.contains(".secrets") {
                ecsd_plan::FieldDiff {
                    path: d.path.clone(),
                    from: hide(&d.from),
                    to: hide(&d.to),
                }
            } else {
                d.clone()
            }
        })
        .collect()
}

/// One change of an object's status, as the log line about it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEvent {
    /// RFC 3339, UTC.
    pub at: String,
    pub kind: String,
    pub name: String,
    /// e.g. `updated`, `out of sync`, `failed`, `awaiting approval`.
    pub what: String,
    pub detail: String,
}

/// How many status events `/status` keeps (the newest).
pub const EVENTS_KEPT: usize = 50;

/// Seconds since the Unix epoch now.
pub fn now_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The time now as RFC 3339 in UTC, to the second.
pub fn now_rfc3339() -> String {
    rfc3339(now_epoch())
}

/// Seconds since the Unix epoch as RFC 3339 in UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A deployment paused at a PAUSE hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwaitingApproval {
    /// The deployment's id (what `approve:` takes), and its ARN.
    pub deployment: String,
    pub deployment_arn: String,
    /// The paused hook's id (`approve:` takes it too).
    pub hook: String,
    /// The lifecycle stage it waits at.
    pub stage: Option<String>,
    /// When ECS takes the timeout action (RFC 3339), and which.
    pub expires_at: Option<String>,
    pub timeout_action: Option<String>,
    /// The exact lines to commit under `spec.deployment` to continue it or roll it back.
    pub approve_line: String,
    pub rollback_line: String,
}

impl Default for ObjectStatus {
    fn default() -> Self {
        ObjectStatus {
            sync: SyncStatus::OutOfSync,
            health: Health::Unknown,
            message: String::new(),
            error_code: None,
            failures: 0,
            backoff_seconds: 0.0,
            awaiting_approval: None,
            analysis: None,
            diff: Vec::new(),
            last_change: None,
            application: String::new(),
            warnings: Vec::new(),
            details: HealthDetails::default(),
            deployment: None,
            tasks: None,
            history: std::collections::VecDeque::new(),
        }
    }
}

/// Latency buckets of reconcile durations, in seconds.
pub(crate) const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A histogram with fixed buckets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    pub(crate) counts: [u64; BUCKETS.len()],
    pub(crate) count: u64,
    pub(crate) sum: f64,
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

/// The result label of a reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReconcileResult {
    Success,
    Error,
}

impl ReconcileResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::Success => "success",
            ReconcileResult::Error => "error",
        }
    }
}

/// Everything `/status` and `/metrics` show.
/// The state shared with the HTTP endpoints.
pub type SharedStatus = std::sync::Arc<std::sync::Mutex<Status>>;

#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The revision of the snapshot being reconciled.
    pub revision: String,
    /// The revision on which the last full pass found every object Synced and Healthy
    /// (`None` when it did not): what promotion to a later target waits for.
    pub settled: Option<String>,
    /// The deployment target these objects belong to, in a source that declares
    /// targets (each target's controller has a status of its own).
    pub target: Option<target::TargetInfo>,
    /// True after the first full reconcile (pass and the work it queued).
    pub ready: bool,
    pub objects: BTreeMap<ObjectKey, ObjectStatus>,
    /// Source errors not tied to one object (a file that is not YAML, a failed read).
    pub errors: Vec<String>,
    /// `ecsd_reconcile_total{kind,result}`.
    pub reconciles: BTreeMap<(Kind, ReconcileResult), u64>,
    /// `ecsd_reconcile_duration_seconds{kind}`.
    pub durations: BTreeMap<Kind, Histogram>,
    /// Full passes (observe everything, plan) done, and how many failed.
    pub passes: u64,
    pub failed_passes: u64,
    /// Leader election, when `--lease-table` is set.
    pub lease: Option<LeaseStatus>,
    /// The process's part of the targets' shards (`--lease-table` with targets).
    pub shards: Option<ShardStatus>,
    /// A requested sync (`POST /sync`) has not started yet.
    pub sync_pending: bool,
    /// A full pass is running.
    pub pass_running: bool,
    /// The source, as it may be shown (a git URL without credentials).
    pub source: String,
    /// The newest changes of objects' status, oldest first (at most [`EVENTS_KEPT`]).
    pub events: std::collections::VecDeque<StatusEvent>,
    /// The event feed of `run --events`, when one is set.
    pub event_feed: Option<FeedStatus>,
    /// Each notification target (`run --notify`) by its label, with its counters.
    pub notifications: BTreeMap<String, crate::notify::TargetStats>,
}

/// How bad a health is, for the worst of an application's objects.
fn health_rank(h: Health) -> u8 {
    match h {
        Health::Healthy => 0,
        Health::Unknown => 1,
        Health::Progressing => 2,
        Health::Degraded => 3,
    }
}

/// The event feed (`run --events`), as `/status` and `/metrics` show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedStatus {
    /// The queue URL.
    pub queue: String,
    /// Why the queue cannot be read now (`None`: it can, or was not tried yet).
    pub error: Option<String>,
    /// This replica is a standby: only the leader reads the queue.
    pub standby: bool,
    /// When the last event arrived (seconds since the Unix epoch).
    pub last_event_at: Option<f64>,
    /// Events received, by type (`EventKind::as_str`).
    pub received: BTreeMap<&'static str, u64>,
    /// Messages deleted after handling.
    pub deleted: u64,
    /// The full resync in force now: the backstop while the queue is read, the short
    /// resync while it cannot be.
    pub resync: Duration,
}

impl FeedStatus {
    /// Seconds since the last event, if one arrived.
    pub fn last_event_age(&self) -> Option<f64> {
        self.last_event_at.map(|at| (unix_now() - at).max(0.0))
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Who leads, as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseStatus {
    pub table: String,
    /// This replica.
    pub replica: String,
    /// The replica holding the lease, as last seen (`None`: nobody, or unknown).
    pub leader: Option<String>,
    pub generation: u64,
    /// Whether this replica leads.
    pub leading: bool,
}

/// This replica's part of the deployment targets' shards, as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardStatus {
    pub table: String,
    /// This replica.
    pub replica: String,
    /// The live replicas it counts, itself included.
    pub replicas: usize,
    /// How many targets it may lead: `ceil(targets / replicas)`.
    pub share: usize,
    /// The targets it leads.
    pub leads: Vec<String>,
}

impl Status {
    /// One summary per application (a Service and the objects that serve it), in name
    /// order: its worst sync and health, its Service's tasks and revision, its
    /// deployment under way and its objects (`Kind/name`).
    pub fn applications(&self) -> Vec<Value> {
        let mut apps: BTreeMap<&str, Vec<(&ObjectKey, &ObjectStatus)>> = BTreeMap::new();
        for (k, o) in &self.objects {
            let app = if o.application.is_empty() {
                k.name.as_str()
            } else {
                o.application.as_str()
            };
            apps.entry(app).or_default().push((k, o));
        }
        apps.into_iter()
            .map(|(name, members)| {
                let sync = members.iter().map(|(_, o)| o.sync).max();
                let health = members
                    .iter()
                    .map(|(_, o)| o.health)
                    .max_by_key(|h| health_rank(*h));
                let service = members
                    .iter()
                    .find(|(k, _)| k.kind == Kind::Service)
                    .map(|(_, o)| *o);
                let mut v = json!({
                    "name": name, "sync": sync, "health": health,
                    "objects": members.iter().map(|(k, _)| format!("{}/{}", k.kind, k.name)).collect::<Vec<_>>(),
                });
                if let Some(t) = service.and_then(|s| s.tasks.as_ref()) {
                    v["running"] = json!(t.running);
                    v["desired"] = json!(t.desired);
                    v["taskDefinition"] = json!(t.task_definition);
                }
                if let Some(d) = service.and_then(|s| s.deployment.as_ref()) {
                    v["deployment"] = json!(d);
                }
                let warnings: usize = members.iter().map(|(_, o)| o.warnings.len()).sum();
                if warnings > 0 {
                    v["warnings"] = json!(warnings);
                }
                v
            })
            .collect()
    }

    /// The `/status` document (and `ecsd status --output json`).
    pub fn to_json(&self) -> Value {
        let objects: Vec<Value> = self
            .objects
            .iter()
            .map(|(k, o)| {
                let mut v = json!({
                    "kind": k.kind.as_str(), "name": k.name, "sync": o.sync, "health": o.health,
                    "message": o.message,
                });
                if let Some(code) = &o.error_code {
                    v["errorCode"] = json!(code);
                }
                if let Some(at) = &o.last_change {
                    v["lastChange"] = json!(at);
                }
                if !o.diff.is_empty() {
                    v["diff"] = json!(o.diff);
                }
                if let Some(a) = &o.awaiting_approval {
                    v["awaitingApproval"] = json!({
                        "deployment": a.deployment, "deploymentArn": a.deployment_arn,
                        "hook": a.hook, "stage": a.stage, "expiresAt": a.expires_at,
                        "timeoutAction": a.timeout_action,
                        "approve": a.approve_line, "rollback": a.rollback_line,
                    });
                }
                if let Some(a) = &o.analysis {
                    v["analysis"] = analysis::to_json(a);
                }
                if !o.application.is_empty() {
                    v["application"] = json!(o.application);
                }
                if !o.warnings.is_empty() {
                    v["warnings"] = json!(o.warnings);
                }
                if !o.details.is_empty() {
                    v["details"] = json!(o.details);
                }
                if let Some(d) = &o.deployment {
                    v["deployment"] = json!(d);
                }
                if let Some(t) = &o.tasks {
                    v["tasks"] = json!(t);
                }
                if !o.history.is_empty() {
                    v["history"] = json!(o.history);
                }
                v
            })
            .collect();
        let mut doc = json!({
            "revision": self.revision, "applications": self.applications(),
            "objects": objects, "errors": self.errors,
        });
        if !self.source.is_empty() {
            doc["source"] = json!(self.source);
        }
        if !self.events.is_empty() {
            doc["events"] = json!(self.events);
        }
        if let Some(feed) = &self.event_feed {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let at = feed.last_event_at.map(|t| rfc3339(t as u64));
            doc["eventFeed"] = json!({
                "queue": feed.queue,
                "readable": feed.error.is_none(),
                "error": feed.error,
                "standby": feed.standby,
                "lastEventAt": at,
                "lastEventAgeSeconds": feed.last_event_age().map(f64::round),
                "received": feed.received,
                "deleted": feed.deleted,
                "resyncSeconds": feed.resync.as_secs(),
            });
        }
        if !self.notifications.is_empty() {
            doc["notifications"] = self
                .notifications
                .iter()
                .map(|(target, stats)| {
                    let mut v = json!(stats);
                    v["target"] = json!(target);
                    v
                })
                .collect();
        }
        if let Some(lease) = &self.lease {
            doc["leader"] = json!(lease.leader);
            doc["replica"] = json!(lease.replica);
            doc["lease"] = json!({
                "table": lease.table, "generation": lease.generation,
                "role": if lease.leading { "leader" } else { "standby" },
            });
        }
        if let Some(shards) = &self.shards {
            doc["replica"] = json!(shards.replica);
            doc["shards"] = json!(shards);
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_shown_diff_hides_environment_and_secret_values_but_not_that_they_change() {
        let d = |path: &str, from: Value, to: Value| ecsd_plan::FieldDiff {
            path: path.into(),
            from,
            to,
        };
        let shown = shown_diff(&[
            d("desiredCount", json!(3), json!(2)),
            d(
                "taskDefinition.containers[0].environment.FEATURE_FLAGS",
                json!("zebra-7f3a"),
                Value::Null,
            ),
            d(
                "taskDefinition.containers[0].secrets.DB",
                Value::Null,
                json!("arn:aws:secretsmanager:us-east-1:1:secret:db"),
            ),
        ]);
        assert_eq!(shown[0].from, json!(3));
        assert_eq!(
            (&shown[1].from, &shown[1].to),
            (&json!("(hidden)"), &Value::Null)
        );
        assert_eq!(
            (&shown[2].from, &shown[2].to),
            (&Value::Null, &json!("(hidden)"))
        );
        assert!(!json!(shown).to_string().contains("zebra"));
    }
}
