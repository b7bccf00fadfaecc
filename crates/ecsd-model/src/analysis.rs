//! A Service's `deployment.analysis`: canary analysis from CloudWatch. At a pause of an
//! ECS-native deployment, ecsd observes the metrics named here for a window and then
//! continues the deployment, rolls it back, or leaves it to a person. Re-exported by
//! [`crate::service`], where `Deployment` holds it; the judging is `ecsd_plan::analysis`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hook::HookStage;

/// What ecsd measures at a paused deployment, and what it does with the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Analysis {
    /// The stage of one of the service's `pause` hooks: the analysis runs while the
    /// deployment waits there (every time it does, e.g. once per linear step).
    pub stage: HookStage,
    /// How long to observe from the moment the deployment paused: `30s`, `5m`, `1h`
    /// (default `5m`).
    #[serde(default = "default_window")]
    pub window: String,
    /// The length of one data point (CloudWatch's period): 1, 5, 10 or 30 seconds (for
    /// high-resolution metrics) or a multiple of 60 seconds (default `1m`); the window
    /// is a whole number of intervals.
    #[serde(default = "default_interval")]
    pub interval: String,
    /// Data points each metric needs for a verdict (default: half the window's
    /// intervals, rounded up); with fewer, the verdict is "no data".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_data_points: Option<u32>,
    /// What to do when every metric is within its bounds (default `continue`).
    #[serde(default = "default_on_pass")]
    pub on_pass: Verdict,
    /// What to do when a metric is out of its bounds (default `rollback`).
    #[serde(default = "default_on_fail")]
    pub on_fail: Verdict,
    /// What to do when a metric has too few data points (default `wait`: a person
    /// decides with `approve:` or `rollback:`).
    #[serde(default = "default_on_no_data")]
    pub on_no_data: Verdict,
    /// The metrics, each with a bound; at most 20.
    #[schemars(length(min = 1, max = 20))]
    pub metrics: Vec<AnalysisMetric>,
}

/// What an analysis does with a paused deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// ContinueServiceDeployment CONTINUE.
    Continue,
    /// ContinueServiceDeployment ROLLBACK.
    Rollback,
    /// Nothing: the pause waits for an `approve:`/`rollback:` commit (or its timeout).
    Wait,
}

impl Verdict {
    /// The manifest's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Continue => "continue",
            Verdict::Rollback => "rollback",
            Verdict::Wait => "wait",
        }
    }
}

fn default_window() -> String {
    "5m".to_owned()
}

fn default_interval() -> String {
    "1m".to_owned()
}

fn default_on_pass() -> Verdict {
    Verdict::Continue
}

fn default_on_fail() -> Verdict {
    Verdict::Rollback
}

fn default_on_no_data() -> Verdict {
    Verdict::Wait
}

impl Analysis {
    /// The window in seconds (`None` when it does not parse; validation reports it).
    pub fn window_seconds(&self) -> Option<u64> {
        duration_seconds(&self.window)
    }

    /// The interval in seconds (`None` when it does not parse).
    pub fn interval_seconds(&self) -> Option<u64> {
        duration_seconds(&self.interval)
    }

    /// The data points a metric needs: `minDataPoints`, else half the window's
    /// intervals rounded up (at least 1).
    pub fn needed_points(&self) -> u32 {
        if let Some(n) = self.min_data_points {
            return n;
        }
        let intervals = match (self.window_seconds(), self.interval_seconds()) {
            (Some(w), Some(i)) if i > 0 => w / i,
            _ => 1,
        };
        u32::try_from(intervals.div_ceil(2))
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

/// `30s`, `5m`, `2h` in seconds; `None` for anything else (or zero).
pub fn duration_seconds(s: &str) -> Option<u64> {
    let unit = match s.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => return None,
    };
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    (n > 0).then_some(n * unit)
}

/// One metric of an analysis: a built-in one, one CloudWatch metric (`query`) or a
/// metric math `expression` over `queries`, with at least one bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalysisMetric {
    /// A name for the verdict: letters, digits, `-` and `_`, unique in the analysis.
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// A metric ecsd computes on the target group receiving the new revision's traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<Builtin>,
    /// One CloudWatch metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<MetricQuerySpec>,
    /// A metric math expression over `queries` (by their keys), e.g. `errors / orders`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub expression: Option<String>,
    /// The metrics `expression` names, by id (a lowercase letter, then letters, digits
    /// and `_`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queries: BTreeMap<String, MetricQuerySpec>,
    /// The value may be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The value must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The value may be at most this many times the same metric on the target group
    /// still serving production (the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub max_ratio: Option<f64>,
    /// The value must be at least this many times the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub min_ratio: Option<f64>,
}

impl AnalysisMetric {
    /// Whether a bound compares with the baseline.
    pub fn relative(&self) -> bool {
        self.max_ratio.is_some() || self.min_ratio.is_some()
    }
}

/// The built-in metrics, from the Application Load Balancer's per-target-group metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Builtin {
    /// `HTTPCode_Target_5XX_Count` over `RequestCount` (both summed over the window).
    ErrorRate,
    /// `TargetResponseTime` p50, in seconds (the worst interval).
    LatencyP50,
    /// `TargetResponseTime` p90, in seconds (the worst interval).
    LatencyP90,
    /// `TargetResponseTime` p99, in seconds (the worst interval).
    LatencyP99,
    /// `HealthyHostCount` over healthy plus `UnHealthyHostCount` (the worst interval).
    HealthyShare,
}

impl Builtin {
    /// The manifest's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::ErrorRate => "errorRate",
            Builtin::LatencyP50 => "latencyP50",
            Builtin::LatencyP90 => "latencyP90",
            Builtin::LatencyP99 => "latencyP99",
            Builtin::HealthyShare => "healthyShare",
        }
    }
}

/// One CloudWatch metric and statistic. In dimension values `${targetGroup}` and
/// `${loadBalancer}` stand for the ALB's dimension values (`targetgroup/NAME/ID`,
/// `app/NAME/ID`) of the group receiving the new revision's traffic, or, for a
/// baseline, of the group serving production.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricQuerySpec {
    #[schemars(length(min = 1, max = 255))]
    pub namespace: String,
    #[schemars(length(min = 1, max = 255))]
    pub metric_name: String,
    /// At most 30.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount` or a percentile `pNN`
    /// (default `Average`).
    #[serde(default = "default_stat")]
    pub stat: String,
}

fn default_stat() -> String {
    "Average".to_owned()
}

/// Whether `stat` is one CloudWatch computes: a basic statistic or `pNN`/`pNN.N`.
pub fn is_stat(stat: &str) -> bool {
    matches!(
        stat,
        "Sum" | "Average" | "Minimum" | "Maximum" | "SampleCount"
    ) || percentile(stat).is_some()
}

/// The percentile `pNN` names (0 < NN ≤ 100).
pub fn percentile(stat: &str) -> Option<f64> {
    let n: f64 = stat.strip_prefix('p')?.parse().ok()?;
    (n > 0.0 && n <= 100.0 && stat.len() <= 7).then_some(n)
}

/// The placeholders dimension values may hold.
pub const TARGET_GROUP_PLACEHOLDER: &str = "${targetGroup}";
pub const LOAD_BALANCER_PLACEHOLDER: &str = "${loadBalancer}";

/// The ids a metric math expression uses: words starting with a lowercase letter
/// (CloudWatch's functions are upper case) that are not a function call.
pub fn expression_ids(e: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = e.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &e[start..i];
            let call = e[i..].trim_start().starts_with('(');
            let quoted = start > 0 && matches!(bytes[start - 1], b'"' | b'\'');
            if word.starts_with(|c: char| c.is_ascii_lowercase()) && !call && !quoted {
                out.push(word);
            }
        } else if c.is_ascii_digit() || c == b'.' {
            // A number, with an exponent such as 1e-3.
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_ids_are_the_lowercase_words_that_are_not_calls_or_numbers() {
        assert_eq!(
            expression_ids("errors / orders * 100"),
            ["errors", "orders"]
        );
        assert_eq!(expression_ids("SUM(METRICS()) / total_2"), ["total_2"]);
        assert_eq!(expression_ids("FILL(m1, 0) + 1e3"), ["m1"]);
    }

    #[test]
    fn durations_take_seconds_minutes_and_hours_only() {
        assert_eq!(duration_seconds("30s"), Some(30));
        assert_eq!(duration_seconds("5m"), Some(300));
        assert_eq!(duration_seconds("2h"), Some(7200));
        for bad in ["", "m", "0m", "5", "5d", "-5m", "1.5m", "5 m", "9999999h"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn percentiles_are_p_and_a_number_up_to_100() {
        assert!(is_stat("p99") && is_stat("p99.9") && is_stat("Sum"));
        assert!(!is_stat("p0") && !is_stat("p101") && !is_stat("sum") && !is_stat("tm99"));
    }
}
