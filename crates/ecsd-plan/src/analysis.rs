//! Canary analysis, pure: when a paused deployment's window ends ([`window`]), the
//! GetMetricData queries that measure it ([`queries`]), and the [`Judgement`] of what
//! CloudWatch answered ([`judge`]). The runtime reads the metrics and puts the result in
//! [`Observed::analyses`](crate::Observed); the service planner acts on it.
//!
//! The window starts when the pause did, which AWS states itself: the hook's
//! `expiresAt` minus the pause's timeout. So a restarted controller, or another replica
//! taking over, judges the same window, and the hook's own status (awaiting action or
//! not) makes the action happen once.

use std::collections::BTreeMap;

use ecsd_model::analysis::{
    Analysis, AnalysisMetric, Builtin, LOAD_BALANCER_PLACEHOLDER, MetricQuerySpec,
    TARGET_GROUP_PLACEHOLDER, Verdict, expression_ids, percentile,
};
use serde::Serialize;

use crate::signals::{MetricQuery, MetricQueryKind, MetricSeries};

/// The ALB's CloudWatch namespace.
pub const ALB_NAMESPACE: &str = "AWS/ApplicationELB";

/// The observed window of one pause, in seconds since the Unix epoch: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// When the deployment paused (the hook's expiry minus its timeout).
    pub paused_at: u64,
    /// The first interval boundary at or after the pause: CloudWatch's periods start on
    /// boundaries, and a period that began before the pause holds the stage before it.
    pub start: u64,
    pub end: u64,
}

/// The window of a pause that expires at `expires_at` after `timeout_minutes`.
pub fn window(a: &Analysis, timeout_minutes: u32, expires_at: u64) -> Option<Window> {
    let interval = a.interval_seconds()?;
    let length = a.window_seconds()?;
    let paused_at = expires_at.checked_sub(u64::from(timeout_minutes) * 60)?;
    let start = paused_at.div_ceil(interval) * interval;
    Some(Window {
        paused_at,
        start,
        end: start + length,
    })
}

/// CloudWatch's dimension values of the target groups measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// The group receiving the new revision's traffic (`targetgroup/NAME/ID`).
    pub canary: String,
    /// The group still serving production (`targetgroup/NAME/ID`).
    pub baseline: String,
    /// The load balancer in front of both (`app/NAME/ID`).
    pub load_balancer: String,
}

/// The `TargetGroup` dimension value of a target group ARN (`targetgroup/NAME/ID`).
pub fn target_group_dimension(arn: &str) -> Option<String> {
    arn.split_once(":targetgroup/")
        .map(|(_, rest)| format!("targetgroup/{rest}"))
}

/// The `LoadBalancer` dimension value of a load balancer ARN (`app/NAME/ID`).
pub fn load_balancer_dimension(arn: &str) -> Option<String> {
    arn.split_once(":loadbalancer/")
        .map(|(_, rest)| rest.to_owned())
}

/// Which side a query measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Canary,
    Baseline,
}

impl Side {
    fn prefix(self) -> char {
        match self {
            Side::Canary => 'c',
            Side::Baseline => 'b',
        }
    }

    fn group(self, s: &Subject) -> &str {
        match self {
            Side::Canary => &s.canary,
            Side::Baseline => &s.baseline,
        }
    }
}

/// The query id of metric `i`'s `part` on `side`.
fn qid(side: Side, i: usize, part: &str) -> String {
    if part.is_empty() {
        format!("{}{i}", side.prefix())
    } else {
        format!("{}{i}_{part}", side.prefix())
    }
}

/// Every query of the analysis, for one GetMetricData call: each metric on the canary
/// group, and on the production group where a bound is relative.
pub fn queries(a: &Analysis, s: &Subject) -> Vec<MetricQuery> {
    let period = a
        .interval_seconds()
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(60);
    let mut out = Vec::new();
    for (i, m) in a.metrics.iter().enumerate() {
        let sides: &[Side] = if m.relative() {
            &[Side::Canary, Side::Baseline]
        } else {
            &[Side::Canary]
        };
        for &side in sides {
            metric_queries(m, i, side, s, period, &mut out);
        }
    }
    out
}

fn metric_queries(
    m: &AnalysisMetric,
    i: usize,
    side: Side,
    s: &Subject,
    period: u32,
    out: &mut Vec<MetricQuery>,
) {
    let alb = |id: String, name: &str, stat: &str| MetricQuery {
        id,
        kind: MetricQueryKind::Stat {
            namespace: ALB_NAMESPACE.to_owned(),
            name: name.to_owned(),
            dimensions: vec![
                ("LoadBalancer".to_owned(), s.load_balancer.clone()),
                ("TargetGroup".to_owned(), side.group(s).to_owned()),
            ],
            period,
            stat: stat.to_owned(),
        },
        return_data: true,
    };
    let custom = |id: String, q: &MetricQuerySpec, return_data: bool| MetricQuery {
        id,
        kind: MetricQueryKind::Stat {
            namespace: q.namespace.clone(),
            name: q.metric_name.clone(),
            dimensions: q
                .dimensions
                .iter()
                .map(|(k, v)| {
                    let v = match v.as_str() {
                        TARGET_GROUP_PLACEHOLDER => side.group(s).to_owned(),
                        LOAD_BALANCER_PLACEHOLDER => s.load_balancer.clone(),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            period,
            stat: q.stat.clone(),
        },
        return_data,
    };
    match (m.builtin, &m.query, &m.expression) {
        (Some(Builtin::ErrorRate), _, _) => {
            out.push(alb(qid(side, i, "req"), "RequestCount", "Sum"));
            out.push(alb(qid(side, i, "err"), "HTTPCode_Target_5XX_Count", "Sum"));
        }
        (Some(Builtin::HealthyShare), _, _) => {
            out.push(alb(qid(side, i, "ok"), "HealthyHostCount", "Average"));
            out.push(alb(qid(side, i, "bad"), "UnHealthyHostCount", "Average"));
        }
        (Some(b), _, _) => {
            let stat = match b {
                Builtin::LatencyP50 => "p50",
                Builtin::LatencyP90 => "p90",
                _ => "p99",
            };
            out.push(alb(qid(side, i, ""), "TargetResponseTime", stat));
        }
        (None, Some(q), _) => out.push(custom(qid(side, i, ""), q, true)),
        (None, None, Some(e)) => {
            for (key, q) in &m.queries {
                out.push(custom(qid(side, i, key), q, false));
            }
            out.push(MetricQuery {
                id: qid(side, i, ""),
                kind: MetricQueryKind::Expression {
                    expression: rename_ids(e, |id| qid(side, i, id)),
                    period,
                },
                return_data: true,
            });
        }
        (None, None, None) => {}
    }
}

/// `e` with every query id it uses renamed (the canary's and the baseline's copies of
/// one expression go in one request, so their ids differ).
fn rename_ids(e: &str, rename: impl Fn(&str) -> String) -> String {
    let ids = expression_ids(e);
    let mut out = String::with_capacity(e.len() + 8 * ids.len());
    let mut rest = e;
    for id in ids {
        // Ids come in the order they appear; each is found after the previous one.
        if let Some(at) = find_word(rest, id) {
            out.push_str(&rest[..at]);
            out.push_str(&rename(id));
            rest = &rest[at + id.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// Where `word` occurs in `s` as a whole word.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = s[from..].find(word).map(|a| a + from) {
        let before = s[..at].chars().next_back().is_none_or(|c| !is_word(c));
        let after = s[at + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word(c));
        if before && after {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// How an analysis came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every metric had enough data and was within its bounds.
    Pass,
    /// A metric was out of its bounds.
    Fail,
    /// A metric had too few data points (and none failed).
    NoData,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NoData => "noData",
        }
    }
}

/// One metric's measurement and how it compares with its bounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    pub name: String,
    /// What it measures: `errorRate`, `latencyP99`, `Shop/OrdersPlaced Sum`, an expression.
    pub measures: String,
    /// The value over the window (`None`: too few data points).
    pub value: Option<f64>,
    /// The production group's value, for a relative bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The bounds, as written (`max 0.01`, `maxRatio 1.5`).
    pub bound: String,
    /// The limits the value was held to (ratios times the baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lowest: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest: Option<f64>,
    /// Intervals of the window with data, and how many it needs.
    pub data_points: u32,
    pub needed: u32,
    pub outcome: Outcome,
}

impl MetricResult {
    /// `error-rate 0.2 > max 0.01 (5 data points)`, `p99 no data (1 of 3 data points)`.
    pub fn summary(&self) -> String {
        let Some(v) = self.value else {
            return format!(
                "{} has too few data points ({} of {} needed)",
                self.name, self.data_points, self.needed
            );
        };
        let cmp = match self.outcome {
            Outcome::Fail if self.highest.is_some_and(|h| v > h) => ">",
            Outcome::Fail => "<",
            _ => "within",
        };
        let baseline = self
            .baseline
            .map(|b| format!(", baseline {}", num(b)))
            .unwrap_or_default();
        format!(
            "{} {} {cmp} {}{baseline} ({} data points)",
            self.name,
            num(v),
            self.bound,
            self.data_points
        )
    }
}

/// A number as people read it: up to 4 significant decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// The verdict on one pause, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judgement {
    pub outcome: Outcome,
    /// What the manifest says to do on that outcome.
    pub action: Verdict,
    pub metrics: Vec<MetricResult>,
}

impl Judgement {
    /// The metrics that decided it (those that failed, or lacked data), in one line;
    /// every metric when it passed.
    pub fn reason(&self) -> String {
        let deciding: Vec<String> = self
            .metrics
            .iter()
            .filter(|m| self.outcome == Outcome::Pass || m.outcome == self.outcome)
            .map(MetricResult::summary)
            .collect();
        deciding.join("; ")
    }
}

/// The verdict on what CloudWatch answered for [`queries`].
pub fn judge(a: &Analysis, series: &[MetricSeries]) -> Judgement {
    let by_id: BTreeMap<&str, &MetricSeries> = series.iter().map(|s| (s.id.as_str(), s)).collect();
    let needed = a.needed_points();
    let metrics: Vec<MetricResult> = a
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let canary = measure(m, i, Side::Canary, &by_id);
            let baseline = m.relative().then(|| measure(m, i, Side::Baseline, &by_id));
            result(m, canary, baseline, needed)
        })
        .collect();
    let outcome = if metrics.iter().any(|m| m.outcome == Outcome::Fail) {
        Outcome::Fail
    } else if metrics.iter().any(|m| m.outcome == Outcome::NoData) {
        Outcome::NoData
    } else {
        Outcome::Pass
    };
    let action = match outcome {
        Outcome::Pass => a.on_pass,
        Outcome::Fail => a.on_fail,
        Outcome::NoData => a.on_no_data,
    };
    Judgement {
        outcome,
        action,
        metrics,
    }
}

/// One side's measurement: the value over the window (`None` without data) and the
/// intervals that had data.
#[derive(Debug, Clone, Copy)]
struct Measured {
    value: Option<f64>,
    points: u32,
}

fn points(s: Option<&&MetricSeries>) -> Vec<(u64, f64)> {
    s.map(|s| {
        s.timestamps
            .iter()
            .copied()
            .zip(s.values.iter().copied())
            .collect()
    })
    .unwrap_or_default()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn measure(
    m: &AnalysisMetric,
    i: usize,
    side: Side,
    by_id: &BTreeMap<&str, &MetricSeries>,
) -> Measured {
    let get = |part: &str| points(by_id.get(qid(side, i, part).as_str()));
    match m.builtin {
        Some(Builtin::ErrorRate) => {
            let requests = get("req");
            let errors: BTreeMap<u64, f64> = get("err").into_iter().collect();
            let total: f64 = requests.iter().map(|(_, v)| v).sum();
            let failed: f64 = requests
                .iter()
                .map(|(t, _)| errors.get(t).copied().unwrap_or(0.0))
                .sum();
            Measured {
                value: (total > 0.0).then(|| failed / total),
                points: count(requests.len()),
            }
        }
        Some(Builtin::HealthyShare) => {
            let bad: BTreeMap<u64, f64> = get("bad").into_iter().collect();
            let shares: Vec<f64> = get("ok")
                .into_iter()
                .filter_map(|(t, ok)| {
                    let all = ok + bad.get(&t).copied().unwrap_or(0.0);
                    (all > 0.0).then(|| ok / all)
                })
                .collect();
            Measured {
                value: shares.iter().copied().reduce(f64::min),
                points: count(shares.len()),
            }
        }
        Some(_) => worst(&get(""), f64::max),
        None => {
            let values = get("");
            match &m.query {
                Some(q) => aggregate(&values, &q.stat),
                None => mean(&values),
            }
        }
    }
}

fn worst(values: &[(u64, f64)], pick: fn(f64, f64) -> f64) -> Measured {
    Measured {
        value: values.iter().map(|(_, v)| *v).reduce(pick),
        points: count(values.len()),
    }
}

fn mean(values: &[(u64, f64)]) -> Measured {
    let n = values.len();
    Measured {
        value: (n > 0).then(|| values.iter().map(|(_, v)| v).sum::<f64>() / n as f64),
        points: count(n),
    }
}

/// A custom metric's intervals as one value, by its statistic: sums add up, a minimum
/// or maximum is the window's, a percentile the worst interval's, an average the mean.
fn aggregate(values: &[(u64, f64)], stat: &str) -> Measured {
    match stat {
        "Sum" | "SampleCount" => Measured {
            value: (!values.is_empty()).then(|| values.iter().map(|(_, v)| v).sum()),
            points: count(values.len()),
        },
        "Minimum" => worst(values, f64::min),
        "Maximum" => worst(values, f64::max),
        s if percentile(s).is_some() => worst(values, f64::max),
        _ => mean(values),
    }
}

fn result(
    m: &AnalysisMetric,
    canary: Measured,
    baseline: Option<Measured>,
    needed: u32,
) -> MetricResult {
    let mut bounds = Vec::new();
    let (mut lowest, mut highest): (Option<f64>, Option<f64>) = (m.min, m.max);
    if let Some(x) = m.max {
        bounds.push(format!("max {}", num(x)));
    }
    if let Some(x) = m.min {
        bounds.push(format!("min {}", num(x)));
    }
    let base_value = baseline.and_then(|b| (b.points >= needed).then_some(b.value).flatten());
    if let Some(r) = m.max_ratio {
        bounds.push(format!("maxRatio {} of the baseline", num(r)));
        if let Some(b) = base_value {
            highest = Some(highest.map_or(r * b, |h| h.min(r * b)));
        }
    }
    if let Some(r) = m.min_ratio {
        bounds.push(format!("minRatio {} of the baseline", num(r)));
        if let Some(b) = base_value {
            lowest = Some(lowest.map_or(r * b, |l| l.max(r * b)));
        }
    }
    let value = canary.value.filter(|_| canary.points >= needed);
    let outcome = match value {
        None => Outcome::NoData,
        Some(v) if highest.is_some_and(|h| v > h) || lowest.is_some_and(|l| v < l) => Outcome::Fail,
        // A relative bound without a baseline cannot be checked.
        Some(_) if m.relative() && base_value.is_none() => Outcome::NoData,
        Some(_) => Outcome::Pass,
    };
    let measures = match (m.builtin, &m.query, &m.expression) {
        (Some(b), _, _) => b.as_str().to_owned(),
        (None, Some(q), _) => format!("{}/{} {}", q.namespace, q.metric_name, q.stat),
        (None, None, Some(e)) => e.clone(),
        (None, None, None) => String::new(),
    };
    MetricResult {
        name: m.name.clone(),
        measures,
        value,
        baseline: base_value,
        bound: bounds.join(", "),
        lowest,
        highest,
        data_points: canary.points,
        needed,
        outcome,
    }
}

/// The analysis of one paused deployment, as far as it got.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisState {
    /// The deployment's id and ARN, and the paused hook's id.
    pub deployment: String,
    pub deployment_arn: String,
    pub hook: String,
    /// The stage it paused at.
    pub stage: String,
    pub window: Window,
    pub progress: Progress,
}

/// Where an analysis is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Progress {
    /// The window has not ended.
    Observing,
    /// The window ended and CloudWatch answered.
    Judged(Judgement),
    /// The metrics could not be read (the reason); the pause waits, and the next look
    /// tries again.
    Unreadable(String),
}

impl AnalysisState {
    /// The judgement, once there is one.
    pub fn judgement(&self) -> Option<&Judgement> {
        match &self.progress {
            Progress::Judged(j) => Some(j),
            _ => None,
        }
    }
}

/// Seconds since the Unix epoch of an RFC 3339 UTC time as AWS's SDK writes it
/// (`2026-12-04T18:23:47Z`, fractions of a second allowed; offsets other than `Z`
/// are not).
pub fn epoch_seconds(rfc3339: &str) -> Option<u64> {
    let b = rfc3339.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if !rfc3339.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| rfc3339.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3_600 + mi * 60 + s).ok()
}

#[cfg(test)]
mod tests;
