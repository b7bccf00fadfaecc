//! `kind: ScalingPolicy`: its Service, the capacity range, target tracking (one
//! policy per metric; request counts only for a Service with one fixed target group)
//! and scheduled actions.

use std::collections::HashSet;

use super::Validator;
use crate::document::Document;
use crate::limits::TIMEZONE_MAX;
use crate::manifest::{Kind, Spec};
use crate::scaling_policy::{ScalingMetric, ScalingPolicySpec};
use crate::service::Strategy;

impl Validator<'_> {
    pub(super) fn scaling_policy(
        &mut self,
        doc: &Document,
        docs: &[Document],
        sp: &ScalingPolicySpec,
    ) {
        let service = self.reference(doc, docs, "spec.service", Kind::Service, &sp.service);
        if sp.min_capacity > sp.max_capacity {
            self.err(
                doc,
                "spec.minCapacity",
                format!(
                    "spec.minCapacity ({}) must not exceed spec.maxCapacity ({})",
                    sp.min_capacity, sp.max_capacity
                ),
            );
        }
        let mut metrics = HashSet::new();
        for (i, t) in sp.target_tracking.iter().enumerate() {
            let base = format!("spec.targetTracking[{i}]");
            if !metrics.insert(t.metric) {
                self.err(
                    doc,
                    &format!("{base}.metric"),
                    format!(
                        "metric {} has two target-tracking policies; keep one",
                        t.metric.as_str()
                    ),
                );
            }
            let percent = matches!(t.metric, ScalingMetric::Cpu | ScalingMetric::Memory);
            if !(t.target > 0.0 && (!percent || t.target <= 100.0)) {
                let range = if percent {
                    "a percentage above 0 and at most 100"
                } else {
                    "above 0"
                };
                self.err(
                    doc,
                    &format!("{base}.target"),
                    format!("{base}.target must be {range}, found {}", t.target),
                );
            }
            if t.metric == ScalingMetric::RequestsPerTarget
                && let Some(Spec::Service(svc)) = service.map(|d| &d.manifest.spec)
            {
                if svc.load_balancers.is_empty() {
                    self.err(
                        doc,
                        &format!("{base}.metric"),
                        format!(
                            "metric requestsPerTarget needs Service {:?} to have a loadBalancers entry",
                            sp.service
                        ),
                    );
                } else if svc.deployment.strategy == Strategy::BlueGreen {
                    // The policy names one target group; after a blue/green swap it
                    // would track the idle one.
                    self.err(doc, &format!("{base}.metric"), format!(
                        "metric requestsPerTarget tracks one target group, but Service {:?} is blueGreen: after each deployment the other target group serves; use cpu or memory",
                        sp.service
                    ));
                }
            }
        }
        let mut names = HashSet::new();
        for (i, s) in sp.scheduled.iter().enumerate() {
            let base = format!("spec.scheduled[{i}]");
            if !names.insert(s.name.as_str()) {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!("scheduled action {:?} is defined twice", s.name),
                );
            }
            if s.name.contains([':', '/', '|']) {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!("{base}.name must not contain ':', '/' or '|'"),
                );
            }
            let sched = s.schedule.trim();
            let shaped = ["cron(", "rate(", "at("]
                .iter()
                .any(|p| sched.starts_with(p))
                && sched.ends_with(')');
            if !shaped {
                self.err(
                    doc,
                    &format!("{base}.schedule"),
                    format!(
                        "{base}.schedule must be cron(...), rate(...) or at(...), found {:?}",
                        s.schedule
                    ),
                );
            }
            if let Some(tz) = &s.timezone {
                let ok = !tz.is_empty()
                    && tz.len() <= TIMEZONE_MAX
                    && tz
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
                if !ok {
                    self.err(
                        doc,
                        &format!("{base}.timezone"),
                        format!("{base}.timezone {tz:?} is not an IANA time zone name"),
                    );
                }
            }
            match (s.min_capacity, s.max_capacity) {
                (None, None) => self.err(
                    doc,
                    &base,
                    format!("{base} needs minCapacity or maxCapacity"),
                ),
                (Some(lo), Some(hi)) if lo > hi => self.err(
                    doc,
                    &format!("{base}.minCapacity"),
                    format!("{base}.minCapacity ({lo}) must not exceed maxCapacity ({hi})"),
                ),
                _ => {}
            }
        }
    }
}
