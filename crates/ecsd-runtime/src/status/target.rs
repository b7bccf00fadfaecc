//! A deployment target as `/status` shows it (*added*): where it deploys, what it waits
//! for, and where its promotion stands.

use serde::Serialize;
use serde_json::{Value, json};

/// One target of a source that declares targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    pub name: String,
    /// The region it deploys to (`None`: ecsd's own).
    pub region: Option<String>,
    /// The role assumed for it (`None`: ecsd's own credentials).
    pub role_arn: Option<String>,
    /// The targets a revision must be Synced and Healthy in first.
    pub after: Vec<String>,
    /// The newest revision and whether it reached this target yet.
    pub promotion: Option<Promotion>,
}

/// Where the newest revision stands for a target that waits for others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// The newest revision of the source.
    pub revision: String,
    /// `promoted`, `waiting` or `held`.
    pub state: &'static str,
    /// Where it waits or stopped, and why (empty once promoted).
    pub reason: String,
}

impl TargetInfo {
    /// The target's entry in `/status`'s `targets`, with what its controller reports.
    pub fn to_json(&self, status: &super::Status) -> Value {
        let count = |f: &dyn Fn(&super::ObjectStatus) -> bool| {
            status.objects.values().filter(|o| f(o)).count()
        };
        json!({
            "name": self.name,
            "region": self.region,
            "roleArn": self.role_arn,
            "after": self.after,
            "revision": status.revision,
            "ready": status.ready,
            "objects": status.objects.len(),
            "synced": count(&|o| o.sync == super::SyncStatus::Synced),
            "healthy": count(&|o| o.health == super::Health::Healthy),
            "errors": status.errors,
            "promotion": self.promotion,
            // With shards: who leads this target, and whether this replica does.
            "leader": status.lease.as_ref().and_then(|l| l.leader.clone()),
            "role": status.lease.as_ref().map(|l| if l.leading { "leader" } else { "standby" }),
        })
    }
}

/// The `/status` document of a source that declares targets: the process's own parts
/// (source, revision, feed, lease, notifications) from `main`, and each target's
/// objects, applications and events marked with `"target"`, and its summary in
/// `targets`. A target's errors are its own (its role denied, its region down) and
/// show in its summary and in `errors` as `target NAME: ...`.
pub fn fleet_json(main: &super::Status, targets: &[super::Status]) -> Value {
    let mut doc = main.to_json();
    let mut objects = Vec::new();
    let mut applications = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    let mut errors: Vec<Value> = main.errors.iter().map(|e| json!(e)).collect();
    let mut summaries = Vec::new();
    for s in targets {
        let Some(info) = &s.target else { continue };
        let one = s.to_json();
        let mark = |v: &Value| {
            let mut v = v.clone();
            v["target"] = json!(info.name);
            v
        };
        for (list, key) in [
            (&mut objects, "objects"),
            (&mut applications, "applications"),
            (&mut events, "events"),
        ] {
            if let Some(items) = one.get(key).and_then(Value::as_array) {
                list.extend(items.iter().map(mark));
            }
        }
        for e in &s.errors {
            let e = format!("target {}: {e}", info.name);
            if !errors.contains(&json!(e)) {
                errors.push(json!(e));
            }
        }
        summaries.push(info.to_json(s));
    }
    events.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
    doc["objects"] = json!(objects);
    doc["applications"] = json!(applications);
    doc["events"] = json!(events);
    doc["errors"] = json!(errors);
    doc["targets"] = json!(summaries);
    doc
}
