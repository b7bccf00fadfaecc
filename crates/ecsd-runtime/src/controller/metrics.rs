//! The controller's metrics in the Prometheus text format (`GET /metrics`). Every label
//! value comes from a stable name (`SyncStatus::as_str`, `Kind`'s manifest spelling),
//! never from `Debug` output.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ecsd_model::Kind;

use crate::events::EventKind;
use crate::status::{BUCKETS, FeedStatus, LeaseStatus, Status, SyncStatus};

impl Status {
    /// The controller's own metrics in the Prometheus text format; the AWS call
    /// counters come from the caller (`calls`: (service, operation, outcome) -> n).
    /// With deployment targets (`targets`, each one's status), the per-object families
    /// carry a `target` label, one series per target (*added*), and
    /// `ecsd_target_info{target,revision,promotion}` says which revision each has.
    pub fn metrics(
        &self,
        targets: &[Status],
        calls: &BTreeMap<(String, String, &'static str), u64>,
        attempts: &BTreeMap<(String, String), u64>,
        throttled: &BTreeMap<String, u64>,
    ) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "ecsd_reconcile_total",
            "Object reconciles by kind and result.",
            "counter",
        );
        let each: Vec<(String, &Status)> = if targets.is_empty() {
            vec![(String::new(), self)]
        } else {
            targets
                .iter()
                .map(|s| {
                    let label = s
                        .target
                        .as_ref()
                        .map_or_else(String::new, |t| format!("target=\"{}\",", escape(&t.name)));
                    (label, s)
                })
                .collect()
        };
        for (t, s) in &each {
            for ((kind, result), n) in &s.reconciles {
                let _ = writeln!(
                    out,
                    "ecsd_reconcile_total{{{t}kind=\"{kind}\",result=\"{}\"}} {n}",
                    result.as_str()
                );
            }
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
            "ecsd_aws_throttled_total",
            "Throttled AWS answers by action; each request was paced and sent again.",
            "counter",
        );
        for (action, n) in throttled {
            let _ = writeln!(
                out,
                "ecsd_aws_throttled_total{{action=\"{}\"}} {n}",
                escape(action)
            );
        }
        header(
            &mut out,
            "ecsd_objects",
            "Objects by kind and sync status.",
            "gauge",
        );
        for (t, s) in &each {
            let mut objects: BTreeMap<(Kind, SyncStatus), u64> = BTreeMap::new();
            for kind in Kind::ALL {
                for sync in SyncStatus::ALL {
                    objects.insert((kind, sync), 0);
                }
            }
            for (k, o) in &s.objects {
                *objects.entry((k.kind, o.sync)).or_default() += 1;
            }
            for ((kind, sync), n) in objects {
                let _ = writeln!(
                    out,
                    "ecsd_objects{{{t}kind=\"{kind}\",sync=\"{}\"}} {n}",
                    sync.as_str()
                );
            }
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
        if !targets.is_empty() {
            header(
                &mut out,
                "ecsd_target_info",
                "Each deployment target's revision, and where the newest one's promotion stands (promoted, waiting, held; none without after).",
                "gauge",
            );
            for s in targets {
                let Some(info) = &s.target else { continue };
                let promotion = info.promotion.as_ref().map_or("none", |p| p.state);
                let _ = writeln!(
                    out,
                    "ecsd_target_info{{target=\"{}\",revision=\"{}\",promotion=\"{promotion}\"}} 1",
                    escape(&info.name),
                    escape(&s.revision)
                );
            }
        }
        header(
            &mut out,
            "ecsd_reconcile_duration_seconds",
            "Time to reconcile one object.",
            "histogram",
        );
        for (t, s) in &each {
            for (kind, h) in &s.durations {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "ecsd_reconcile_duration_seconds_bucket{{{t}kind=\"{kind}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "ecsd_reconcile_duration_seconds_bucket{{{t}kind=\"{kind}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "ecsd_reconcile_duration_seconds_sum{{{t}kind=\"{kind}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "ecsd_reconcile_duration_seconds_count{{{t}kind=\"{kind}\"}} {}",
                    h.count
                );
            }
        }
        header(
            &mut out,
            "ecsd_backoff_seconds",
            "Seconds until a failing object is retried.",
            "gauge",
        );
        for (t, s) in &each {
            for (k, o) in s.objects.iter().filter(|(_, o)| o.failures > 0) {
                let _ = writeln!(
                    out,
                    "ecsd_backoff_seconds{{{t}kind=\"{}\",name=\"{}\"}} {}",
                    k.kind,
                    escape(&k.name),
                    o.backoff_seconds
                );
            }
        }
        header(
            &mut out,
            "ecsd_passes_total",
            "Full observe-and-plan passes, and how many failed.",
            "counter",
        );
        for (t, s) in &each {
            let _ = writeln!(
                out,
                "ecsd_passes_total{{{t}result=\"success\"}} {}",
                s.passes - s.failed_passes.min(s.passes)
            );
            let _ = writeln!(
                out,
                "ecsd_passes_total{{{t}result=\"error\"}} {}",
                s.failed_passes
            );
        }
        // One lease, or with shards one per target (labelled).
        let leases: Vec<(&String, &LeaseStatus)> = each
            .iter()
            .filter_map(|(t, s)| Some((t, s.lease.as_ref()?)))
            .collect();
        if !leases.is_empty() {
            header(
                &mut out,
                "ecsd_leader",
                "1 while this replica holds the leader lease (of the target), 0 on a standby.",
                "gauge",
            );
            for (t, lease) in &leases {
                let _ = writeln!(
                    out,
                    "ecsd_leader{{{t}replica=\"{}\"}} {}",
                    escape(&lease.replica),
                    u8::from(lease.leading)
                );
            }
            header(
                &mut out,
                "ecsd_lease_generation",
                "The generation of the leader lease as last seen (one more per change of leader).",
                "gauge",
            );
            for (t, lease) in &leases {
                let labels = t.trim_end_matches(',');
                let labels = if labels.is_empty() {
                    String::new()
                } else {
                    format!("{{{labels}}}")
                };
                let _ = writeln!(out, "ecsd_lease_generation{labels} {}", lease.generation);
            }
        }
        if let Some(shards) = &self.shards {
            header(
                &mut out,
                "ecsd_shard_targets",
                "Deployment targets this replica leads, and its fair share of them.",
                "gauge",
            );
            let replica = escape(&shards.replica);
            let _ = writeln!(
                out,
                "ecsd_shard_targets{{replica=\"{replica}\",kind=\"led\"}} {}",
                shards.leads.len()
            );
            let _ = writeln!(
                out,
                "ecsd_shard_targets{{replica=\"{replica}\",kind=\"share\"}} {}",
                shards.share
            );
            header(
                &mut out,
                "ecsd_shard_replicas",
                "Live replicas this replica counts (itself included) for the fair share.",
                "gauge",
            );
            let _ = writeln!(out, "ecsd_shard_replicas {}", shards.replicas);
        }
        if let Some(feed) = &self.event_feed {
            feed_metrics(&mut out, feed);
        }
        if !self.notifications.is_empty() {
            header(
                &mut out,
                "ecsd_notifications_total",
                "Notifications by target and outcome (sent, retried, rejected, dropped).",
                "counter",
            );
            for (target, stats) in &self.notifications {
                for outcome in ["sent", "retried", "rejected", "dropped"] {
                    let n = stats.outcomes.get(outcome).copied().unwrap_or(0);
                    let _ = writeln!(
                        out,
                        "ecsd_notifications_total{{target=\"{}\",outcome=\"{outcome}\"}} {n}",
                        escape(target)
                    );
                }
            }
            header(
                &mut out,
                "ecsd_notifications_queued",
                "Notifications waiting to be sent, by target.",
                "gauge",
            );
            for (target, stats) in &self.notifications {
                let _ = writeln!(
                    out,
                    "ecsd_notifications_queued{{target=\"{}\"}} {}",
                    escape(target),
                    stats.queued
                );
            }
        }
        out
    }
}

/// The event feed's metrics (`run --events`): events by type, the last one's age,
/// whether the queue can be read.
fn feed_metrics(out: &mut String, feed: &FeedStatus) {
    header(
        out,
        "ecsd_events_received_total",
        "Events received from the event queue, by type.",
        "counter",
    );
    for kind in EventKind::ALL {
        let n = feed.received.get(kind.as_str()).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "ecsd_events_received_total{{type=\"{}\"}} {n}",
            kind.as_str()
        );
    }
    header(
        out,
        "ecsd_events_deleted_total",
        "Event queue messages deleted after handling.",
        "counter",
    );
    let _ = writeln!(out, "ecsd_events_deleted_total {}", feed.deleted);
    header(
        out,
        "ecsd_events_queue_readable",
        "1 while the event queue can be read (or this replica is a standby), 0 while it cannot.",
        "gauge",
    );
    let _ = writeln!(
        out,
        "ecsd_events_queue_readable {}",
        u8::from(feed.error.is_none())
    );
    if let Some(age) = feed.last_event_age() {
        header(
            out,
            "ecsd_events_last_age_seconds",
            "Seconds since the last event arrived.",
            "gauge",
        );
        let _ = writeln!(out, "ecsd_events_last_age_seconds {age:.3}");
    }
    header(
        out,
        "ecsd_resync_seconds",
        "The full resync in force: the backstop while events arrive, the short resync while the queue cannot be read.",
        "gauge",
    );
    let _ = writeln!(out, "ecsd_resync_seconds {}", feed.resync.as_secs());
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

#[cfg(test)]
mod tests {
    use ecsd_model::ObjectKey;

    use super::*;
    use crate::status::{ObjectStatus, ReconcileResult};

    #[test]
    fn metrics_carry_the_contract_names() {
        let mut s = Status {
            revision: "abc".into(),
            ..Status::default()
        };
        s.reconciles
            .insert((Kind::Service, ReconcileResult::Success), 3);
        s.objects.insert(
            ObjectKey {
                kind: Kind::Service,
                name: "web".into(),
            },
            ObjectStatus {
                sync: SyncStatus::Synced,
                ..ObjectStatus::default()
            },
        );
        let calls = BTreeMap::from([(
            ("ECS".to_owned(), "DescribeServices".to_owned(), "success"),
            4,
        )]);
        let attempts = BTreeMap::from([(("ECS".to_owned(), "DescribeServices".to_owned()), 6)]);
        let text = s.metrics(&[], &calls, &attempts, &BTreeMap::new());
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
