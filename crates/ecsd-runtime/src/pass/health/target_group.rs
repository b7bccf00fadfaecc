//! A TargetGroup's health from its targets (ELBv2 DescribeTargetHealth): a group is
//! healthy when its targets are, not when it exists.
//!
//! - no target healthy while some are `initial` (registering, first checks not in):
//!   Progressing;
//! - no target healthy, some registered, and its Service runs tasks: Degraded, with
//!   AWS's reason codes;
//! - no targets at all while its Service runs tasks and routes only to this group:
//!   Degraded (the tasks are not registered); an idle alternate group of a blue/green
//!   deployment has no targets by design and is Healthy;
//! - otherwise Healthy; unhealthy targets beside healthy ones are warnings.

use std::collections::BTreeMap;

use ecsd_plan::signals::{TargetHealth, TargetState};

use super::Assessment;
use crate::status::Health;

/// What the TargetGroup's Service does, as far as its health needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceLoad {
    /// Tasks RUNNING.
    pub running: u32,
    /// Whether this is the only group the service routes to (no alternate).
    pub sole_group: bool,
}

/// Counts by state, in ELBv2's names, e.g. `2 healthy, 1 unhealthy`.
fn counts(targets: &[TargetHealth]) -> String {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for t in targets {
        *by.entry(t.state.as_str()).or_default() += 1;
    }
    by.iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct reasons AWS gives for targets in `state`, e.g.
/// `Target.ResponseCodeMismatch (Health checks failed with these codes: [502])`.
fn reasons(targets: &[TargetHealth], bad: impl Fn(&TargetState) -> bool) -> Vec<String> {
    let mut out: Vec<String> = targets
        .iter()
        .filter(|t| bad(&t.state))
        .map(|t| match (&t.reason, &t.description) {
            (Some(r), Some(d)) => format!("{r} ({d})"),
            (Some(r), None) => r.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => t.state.as_str().to_owned(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn unhealthy(s: &TargetState) -> bool {
    matches!(s, TargetState::Unhealthy | TargetState::UnhealthyDraining)
}

/// The health of a target group with these targets, routed to by a service with `load`
/// (None: no Service of the source routes to it).
pub fn assess(targets: &[TargetHealth], load: Option<ServiceLoad>) -> Assessment {
    let running = load.map_or(0, |l| l.running);
    let serving: Vec<&TargetHealth> = targets
        .iter()
        .filter(|t| !matches!(t.state, TargetState::Draining | TargetState::Unused))
        .collect();
    let healthy = serving
        .iter()
        .filter(|t| t.state == TargetState::Healthy)
        .count();
    let initial = serving
        .iter()
        .filter(|t| t.state == TargetState::Initial)
        .count();
    let mut a = Assessment::new(Health::Healthy, String::new());
    if targets.is_empty() {
        a.message = "no targets registered".to_owned();
        if running > 0 && load.is_some_and(|l| l.sole_group) {
            a.health = Health::Degraded;
            a.message = format!("no targets registered while its service runs {running} task(s)");
        }
        return a;
    }
    let summary = counts(targets);
    let bad = reasons(targets, unhealthy);
    if healthy == 0 && initial > 0 {
        a.health = Health::Progressing;
        a.message = format!("targets: {summary}; waiting for their first health checks");
    } else if healthy == 0 && running > 0 && !serving.is_empty() {
        a.health = Health::Degraded;
        let why = reasons(targets, |s| *s != TargetState::Healthy);
        a.message = format!("no healthy target (targets: {summary}): {}", why.join("; "));
    } else {
        a.message = format!("targets: {summary}");
        if initial > 0 {
            a.health = Health::Progressing;
        }
        if !bad.is_empty() {
            a.warnings
                .push(format!("unhealthy targets: {}", bad.join("; ")));
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(state: &str, reason: Option<&str>) -> TargetHealth {
        TargetHealth {
            id: "10.0.1.7".into(),
            port: Some(8080),
            state: TargetState::from_aws(state),
            reason: reason.map(str::to_owned),
            description: None,
        }
    }

    const RUNNING: Option<ServiceLoad> = Some(ServiceLoad {
        running: 2,
        sole_group: true,
    });

    #[test]
    fn a_group_whose_targets_all_fail_is_degraded_with_aws_reason() {
        let t = [
            target("unhealthy", Some("Target.ResponseCodeMismatch")),
            target("unhealthy", Some("Target.ResponseCodeMismatch")),
        ];
        let a = assess(&t, RUNNING);
        assert_eq!(a.health, Health::Degraded);
        assert!(
            a.message.contains("Target.ResponseCodeMismatch") && a.message.contains("2 unhealthy"),
            "{}",
            a.message
        );
    }

    #[test]
    fn registering_targets_are_progressing_and_healthy_ones_healthy() {
        let a = assess(
            &[target("initial", Some("Elb.RegistrationInProgress"))],
            RUNNING,
        );
        assert_eq!(a.health, Health::Progressing);
        let a = assess(&[target("healthy", None), target("healthy", None)], RUNNING);
        assert_eq!(
            (a.health, a.message.as_str()),
            (Health::Healthy, "targets: 2 healthy")
        );
        let a = assess(
            &[
                target("healthy", None),
                target("unhealthy", Some("Target.Timeout")),
            ],
            RUNNING,
        );
        assert_eq!(a.health, Health::Healthy);
        assert_eq!(a.warnings, ["unhealthy targets: Target.Timeout"]);
    }

    #[test]
    fn no_targets_is_degraded_only_where_tasks_should_be_registered() {
        assert_eq!(assess(&[], RUNNING).health, Health::Degraded);
        let alternate = Some(ServiceLoad {
            running: 2,
            sole_group: false,
        });
        assert_eq!(assess(&[], alternate).health, Health::Healthy);
        assert_eq!(assess(&[], None).health, Health::Healthy);
        // Only draining targets while the service runs nothing: not an outage.
        let idle = Some(ServiceLoad {
            running: 0,
            sole_group: true,
        });
        let a = assess(&[target("unhealthy", Some("Target.Timeout"))], idle);
        assert_eq!(a.health, Health::Healthy);
    }
}
