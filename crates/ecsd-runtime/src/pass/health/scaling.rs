//! A ScalingPolicy's health from Application Auto Scaling's own signals: the scalable
//! target's bounds against the service's desired count, and its scaling activities
//! (DescribeScalingActivities, newest first).
//!
//! - the newest activity Failed (or Unfulfilled): Degraded with AWS's status message;
//! - the desired count at the minimum or the maximum for longer than the warning time
//!   (since the newest successful activity ended or, with none, since the target was
//!   registered): a warning on the object (a target pinned with min = max is not);
//! - otherwise Healthy.

use ecsd_plan::signals::ScalingActivity;
use ecsd_plan::state::ScalableTargetState;

use super::Assessment;
use crate::status::Health;
use crate::status::details::ScalingDetails;

/// `3h 5m`, `12m`, `40s`.
pub fn span(secs: u64) -> String {
    match secs {
        s if s >= 3_600 => format!("{}h {}m", s / 3_600, s % 3_600 / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The health of a scalable target whose service wants `desired` tasks, at `now` (Unix
/// seconds), warning after `warn_after` seconds at a bound.
pub fn assess(
    target: &ScalableTargetState,
    desired: u32,
    activities: &[ScalingActivity],
    now: u64,
    warn_after: u64,
) -> (Assessment, ScalingDetails) {
    let (min, max) = (target.min_capacity, target.max_capacity);
    let at_bound = match desired {
        _ if min == max => None,
        d if d >= max => Some("maximum"),
        d if d <= min => Some("minimum"),
        _ => None,
    };
    let since = at_bound.and(
        activities
            .iter()
            .find(|a| a.status == "Successful")
            .and_then(|a| a.end)
            .or(target.created_at),
    );
    let mut a = Assessment::new(
        Health::Healthy,
        format!("{desired} task(s) wanted, within {min}-{max}"),
    );
    if let (Some(bound), Some(since)) = (at_bound, since) {
        let held = now.saturating_sub(since);
        if held >= warn_after {
            let limit = if bound == "maximum" { max } else { min };
            a.warnings.push(format!(
                "at its {bound} of {limit} task(s) for {}: the autoscaler cannot go {} (raise {} if it needs to)",
                span(held),
                if bound == "maximum" { "higher" } else { "lower" },
                if bound == "maximum" { "maxCapacity" } else { "minCapacity" },
            ));
        }
    }
    if let Some(failed) = activities.first().filter(|x| x.failed()) {
        a.health = Health::Degraded;
        a.message = format!(
            "scaling activity {}: {} ({})",
            failed.status,
            failed
                .status_message
                .as_deref()
                .unwrap_or("no message given"),
            failed.description
        );
    }
    let details = ScalingDetails {
        min_capacity: min,
        max_capacity: max,
        desired_count: desired,
        at_bound,
        at_bound_since: since,
        activities: activities.to_vec(),
    };
    (a, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(min: u32, max: u32, created_at: u64) -> ScalableTargetState {
        ScalableTargetState {
            resource_id: "service/prod/web".into(),
            arn: "arn".into(),
            min_capacity: min,
            max_capacity: max,
            created_at: Some(created_at),
        }
    }

    fn activity(status: &str, end: u64) -> ScalingActivity {
        ScalingActivity {
            status: status.into(),
            status_message: (status == "Failed").then(|| {
                "Failed to set desired count to 12. Reason: service web is not ACTIVE".into()
            }),
            description: "Setting desired count to 12.".into(),
            cause: "monitor alarm TargetTracking-web-AlarmHigh in state ALARM".into(),
            start: end.saturating_sub(5),
            end: Some(end),
        }
    }

    #[test]
    fn at_its_maximum_longer_than_the_warning_time_is_a_warning() {
        let (a, d) = assess(&target(2, 10, 1_000), 10, &[], 1_000 + 3_600, 900);
        assert_eq!(a.health, Health::Healthy);
        assert_eq!(d.at_bound, Some("maximum"));
        assert!(
            a.warnings[0].starts_with("at its maximum of 10 task(s) for 1h 0m"),
            "{:?}",
            a.warnings
        );
        // Not yet: the newest successful activity moved it there 5 minutes ago.
        let (a, _) = assess(
            &target(2, 10, 1_000),
            10,
            &[activity("Successful", 4_300)],
            4_600,
            900,
        );
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        // Pinned by design.
        let (a, _) = assess(&target(3, 3, 1_000), 3, &[], 99_999, 900);
        assert!(a.warnings.is_empty());
    }

    #[test]
    fn a_failed_newest_activity_is_degraded_with_aws_message() {
        let (a, _) = assess(
            &target(2, 10, 1_000),
            4,
            &[activity("Failed", 2_000), activity("Successful", 1_500)],
            2_100,
            900,
        );
        assert_eq!(a.health, Health::Degraded);
        assert!(
            a.message.contains("service web is not ACTIVE"),
            "{}",
            a.message
        );
        // A failure followed by a success is over.
        let (a, _) = assess(
            &target(2, 10, 1_000),
            4,
            &[activity("Successful", 2_500), activity("Failed", 2_000)],
            2_600,
            900,
        );
        assert_eq!(a.health, Health::Healthy);
    }
}
