//! What AWS says about how objects are doing, beyond what planning needs: the health
//! of each target in a target group (ELBv2 DescribeTargetHealth), the state of
//! CloudWatch alarms (DescribeAlarms) and an Application Auto Scaling target's scaling
//! activities (DescribeScalingActivities), and CloudWatch metric data (GetMetricData:
//! [`MetricQuery`] in, [`MetricSeries`] out). Health reads them; the planner never does.

use std::collections::BTreeMap;

use serde::Serialize;

/// A target's state, as ELBv2 reports it (`TargetHealth.State`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetState {
    /// Registering, or its first health checks are not in yet.
    Initial,
    Healthy,
    Unhealthy,
    /// Failing its health check and being deregistered.
    UnhealthyDraining,
    /// Not registered, or in an Availability Zone the load balancer does not use.
    Unused,
    /// Being deregistered (connection draining).
    Draining,
    /// Health checks are off for the group.
    Unavailable,
    /// A state this version of ecsd does not know, as AWS wrote it.
    Other(String),
}

impl TargetState {
    /// From ELBv2's `TargetHealthStateEnum` value.
    pub fn from_aws(s: &str) -> Self {
        match s {
            "initial" => TargetState::Initial,
            "healthy" => TargetState::Healthy,
            "unhealthy" => TargetState::Unhealthy,
            "unhealthy.draining" => TargetState::UnhealthyDraining,
            "unused" => TargetState::Unused,
            "draining" => TargetState::Draining,
            "unavailable" => TargetState::Unavailable,
            other => TargetState::Other(other.to_owned()),
        }
    }

    /// ELBv2's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            TargetState::Initial => "initial",
            TargetState::Healthy => "healthy",
            TargetState::Unhealthy => "unhealthy",
            TargetState::UnhealthyDraining => "unhealthy.draining",
            TargetState::Unused => "unused",
            TargetState::Draining => "draining",
            TargetState::Unavailable => "unavailable",
            TargetState::Other(s) => s,
        }
    }
}

/// One registered target and its health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetHealth {
    /// The IP address (Fargate's `ip` targets) or instance id.
    pub id: String,
    pub port: Option<u32>,
    pub state: TargetState,
    /// AWS's reason code, e.g. `Target.ResponseCodeMismatch`, `Elb.RegistrationInProgress`.
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// A CloudWatch alarm's state value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AlarmValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmValue {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmValue::Ok => "OK",
            AlarmValue::Alarm => "ALARM",
            AlarmValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// A CloudWatch alarm (metric or composite) and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmState {
    pub name: String,
    pub state: AlarmValue,
    /// CloudWatch's `StateReason`.
    pub reason: String,
    /// When it entered this state, seconds since the Unix epoch.
    pub since: Option<u64>,
}

/// One Application Auto Scaling activity (DescribeScalingActivities), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingActivity {
    /// `Pending`, `InProgress`, `Successful`, `Overridden`, `Unfulfilled`, `Failed`.
    pub status: String,
    /// AWS's message for a failed or unfulfilled activity.
    pub status_message: Option<String>,
    pub description: String,
    pub cause: String,
    /// Seconds since the Unix epoch.
    pub start: u64,
    pub end: Option<u64>,
}

impl ScalingActivity {
    /// Whether it failed (AWS's `Failed`; `Unfulfilled` counts too: nothing changed).
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "Failed" | "Unfulfilled")
    }
}

/// One GetMetricData query: a metric's statistic, or a metric math expression over other
/// queries' ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricQuery {
    /// Unique in one request; starts with a lowercase letter (CloudWatch's rule).
    pub id: String,
    pub kind: MetricQueryKind,
    /// Whether its values come back (false for a query only an expression uses).
    pub return_data: bool,
}

/// What a [`MetricQuery`] asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MetricQueryKind {
    /// `MetricStat`: one metric's statistic over each period.
    Stat {
        namespace: String,
        name: String,
        /// Dimension name and value pairs.
        dimensions: Vec<(String, String)>,
        /// Seconds; a multiple of 60 (or 1, 5, 10, 30 for high-resolution metrics).
        period: u32,
        /// `Sum`, `Average`, `p99`, ...
        stat: String,
    },
    /// A metric math expression, e.g. `errors / requests`.
    Expression { expression: String, period: u32 },
}

/// One query's answer: its data points, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSeries {
    pub id: String,
    pub label: String,
    /// Seconds since the Unix epoch, one per value.
    pub timestamps: Vec<u64>,
    pub values: Vec<f64>,
    /// CloudWatch's `StatusCode`: `Complete`, `PartialData`, `InternalError`, `Forbidden`.
    pub status: String,
}

/// The signals read for health, kept between reads (each part is read on its own
/// cadence; see `ecsd_runtime::pass::signals`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signals {
    /// Targets by target group name.
    pub targets: BTreeMap<String, Vec<TargetHealth>>,
    /// Alarms by name; a name that is not there was not found.
    pub alarms: BTreeMap<String, AlarmState>,
    /// Alarm names asked for that CloudWatch does not have.
    pub missing_alarms: Vec<String>,
    /// Scaling activities by scalable target resource id, newest first.
    pub activities: BTreeMap<String, Vec<ScalingActivity>>,
}

impl Signals {
    /// Adds a newer read of some parts: what it read replaces what was there.
    pub fn merge(&mut self, newer: Signals) {
        self.targets.extend(newer.targets);
        for name in newer.alarms.keys() {
            self.missing_alarms.retain(|m| m != name);
        }
        for name in &newer.missing_alarms {
            self.alarms.remove(name);
        }
        self.alarms.extend(newer.alarms);
        self.missing_alarms.extend(newer.missing_alarms);
        self.missing_alarms.sort();
        self.missing_alarms.dedup();
        self.activities.extend(newer.activities);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_states_round_trip_and_unknown_ones_are_kept() {
        for s in [
            "initial",
            "healthy",
            "unhealthy",
            "unhealthy.draining",
            "unused",
            "draining",
            "unavailable",
            "anomalous",
        ] {
            assert_eq!(TargetState::from_aws(s).as_str(), s);
        }
    }

    #[test]
    fn a_newer_read_replaces_only_what_it_read() {
        let alarm = |name: &str, state| AlarmState {
            name: name.into(),
            state,
            reason: String::new(),
            since: None,
        };
        let mut s = Signals::default();
        s.alarms.insert("a".into(), alarm("a", AlarmValue::Ok));
        s.alarms.insert("b".into(), alarm("b", AlarmValue::Ok));
        s.targets.insert("web".into(), vec![]);
        let mut newer = Signals::default();
        newer
            .alarms
            .insert("a".into(), alarm("a", AlarmValue::Alarm));
        newer.missing_alarms.push("b".into());
        s.merge(newer);
        assert_eq!(s.alarms["a"].state, AlarmValue::Alarm);
        assert!(!s.alarms.contains_key("b"));
        assert_eq!(s.missing_alarms, ["b"]);
        assert!(s.targets.contains_key("web"));
    }
}
