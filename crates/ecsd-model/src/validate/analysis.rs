//! A Service's `deployment.analysis`: the pause it runs at, a window and interval
//! CloudWatch can answer, and metrics that each say what they measure and have a bound.

use std::collections::HashSet;

use super::Validator;
use crate::analysis::{
    Analysis, AnalysisMetric, LOAD_BALANCER_PLACEHOLDER, MetricQuerySpec, TARGET_GROUP_PLACEHOLDER,
    duration_seconds, expression_ids, is_stat,
};
use crate::document::Document;
use crate::service::{HookKind, ServiceSpec};

/// CloudWatch's periods below a minute (high-resolution metrics).
const SUB_MINUTE_PERIODS: [u64; 4] = [1, 5, 10, 30];
/// The longest window: CloudWatch keeps 1-second data for 3 hours, and a pause longer
/// than a day is a person's job anyway.
const MAX_WINDOW_SECONDS: u64 = 24 * 3600;
/// Dimensions of one CloudWatch metric.
const MAX_DIMENSIONS: usize = 30;

impl Validator<'_> {
    pub(super) fn analysis(&mut self, doc: &Document, svc: &ServiceSpec) {
        let Some(a) = &svc.deployment.analysis else {
            return;
        };
        let base = "spec.deployment.analysis";
        let pause = svc
            .deployment
            .lifecycle_hooks
            .iter()
            .find(|h| h.kind == HookKind::Pause && h.stages.contains(&a.stage));
        if pause.is_none() {
            self.err(
                doc,
                &format!("{base}.stage"),
                format!(
                    "{base}.stage {} is not the stage of a pause hook of this service: the analysis runs while a pause hook waits (add `- {{type: pause, stages: [{}]}}` to spec.deployment.lifecycleHooks)",
                    a.stage.ecs_name(),
                    a.stage.ecs_name()
                ),
            );
        }
        let window = self.duration(doc, &format!("{base}.window"), &a.window);
        let interval = self.duration(doc, &format!("{base}.interval"), &a.interval);
        if let Some(i) = interval
            && !(SUB_MINUTE_PERIODS.contains(&i) || i % 60 == 0)
        {
            self.err(doc, &format!("{base}.interval"), format!(
                "{base}.interval is CloudWatch's period: 1s, 5s, 10s, 30s or a whole number of minutes, found {:?}", a.interval
            ));
        }
        if let Some(w) = window {
            if w > MAX_WINDOW_SECONDS {
                self.err(
                    doc,
                    &format!("{base}.window"),
                    format!("{base}.window may be at most 24h, found {:?}", a.window),
                );
            }
            if let Some(h) = pause
                && w >= u64::from(h.timeout_minutes) * 60
            {
                self.err(doc, &format!("{base}.window"), format!(
                    "{base}.window {:?} does not end before the pause hook times out ({} minutes, then ECS takes its timeoutAction): make the window shorter or timeoutMinutes longer",
                    a.window, h.timeout_minutes
                ));
            }
        }
        if let (Some(w), Some(i)) = (window, interval) {
            if w < i || w % i != 0 {
                self.err(
                    doc,
                    &format!("{base}.window"),
                    format!(
                        "{base}.window {:?} must be a whole number of intervals ({:?})",
                        a.window, a.interval
                    ),
                );
            } else if let Some(n) = a.min_data_points
                && u64::from(n) > w / i
            {
                self.err(doc, &format!("{base}.minDataPoints"), format!(
                    "{base}.minDataPoints {n} is more than the window holds ({} intervals of {:?})", w / i, a.interval
                ));
            }
        }
        self.analysis_metrics(doc, a);
    }

    fn duration(&mut self, doc: &Document, path: &str, value: &str) -> Option<u64> {
        let d = duration_seconds(value);
        if d.is_none() {
            self.err(
                doc,
                path,
                format!("{path} is a duration such as 30s, 5m or 1h, found {value:?}"),
            );
        }
        d
    }

    fn analysis_metrics(&mut self, doc: &Document, a: &Analysis) {
        let mut names = HashSet::new();
        for (i, m) in a.metrics.iter().enumerate() {
            let base = format!("spec.deployment.analysis.metrics[{i}]");
            let valid_name = m
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_name {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!(
                        "{base}.name may hold letters, digits, '-' and '_', found {:?}",
                        m.name
                    ),
                );
            } else if !names.insert(m.name.as_str()) {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!("{base}.name {:?} is used twice in the analysis", m.name),
                );
            }
            let kinds = [
                m.builtin.is_some(),
                m.query.is_some(),
                m.expression.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                self.err(doc, &base, format!(
                    "{base} needs exactly one of builtin, query or expression (what it measures)"
                ));
            }
            if m.expression.is_none() && !m.queries.is_empty() {
                self.err_key(
                    doc,
                    &format!("{base}.queries"),
                    format!("{base}.queries is only for an expression: it names what the expression uses"),
                );
            }
            if let Some(q) = &m.query {
                self.metric_query(doc, &format!("{base}.query"), q);
            }
            if let Some(e) = &m.expression {
                self.expression(doc, &base, e, m);
            }
            self.bounds(doc, &base, m);
        }
    }

    fn expression(&mut self, doc: &Document, base: &str, e: &str, m: &AnalysisMetric) {
        if m.queries.is_empty() {
            self.err(
                doc,
                &format!("{base}.expression"),
                format!("{base}.expression needs queries: the metrics it computes with, by id"),
            );
        }
        for (id, q) in &m.queries {
            let path = format!("{base}.queries.{id}");
            if !is_query_id(id) {
                self.err_key(doc, &path, format!(
                    "{path}: a query id starts with a lowercase letter, then letters, digits and '_' (CloudWatch's rule), found {id:?}"
                ));
            }
            self.metric_query(doc, &path, q);
        }
        for id in expression_ids(e) {
            if !m.queries.contains_key(id) {
                let known: Vec<&str> = m.queries.keys().map(String::as_str).collect();
                self.err(
                    doc,
                    &format!("{base}.expression"),
                    format!(
                        "{base}.expression uses {id:?}, which is not one of its queries ({})",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn metric_query(&mut self, doc: &Document, base: &str, q: &MetricQuerySpec) {
        if !is_stat(&q.stat) {
            self.err(doc, &format!("{base}.stat"), format!(
                "{base}.stat is Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99, found {:?}", q.stat
            ));
        }
        if q.dimensions.len() > MAX_DIMENSIONS {
            self.err(
                doc,
                &format!("{base}.dimensions"),
                format!(
                    "{base}.dimensions has {}; CloudWatch allows {MAX_DIMENSIONS}",
                    q.dimensions.len()
                ),
            );
        }
        for (k, v) in &q.dimensions {
            let unknown =
                v.contains("${") && v != TARGET_GROUP_PLACEHOLDER && v != LOAD_BALANCER_PLACEHOLDER;
            if unknown {
                self.err(doc, &format!("{base}.dimensions.{k}"), format!(
                    "{base}.dimensions.{k}: the placeholders are {TARGET_GROUP_PLACEHOLDER} and {LOAD_BALANCER_PLACEHOLDER}, as the whole value; found {v:?}"
                ));
            }
        }
    }

    fn bounds(&mut self, doc: &Document, base: &str, m: &AnalysisMetric) {
        if m.max.is_none() && m.min.is_none() && !m.relative() {
            self.err(doc, base, format!(
                "{base} needs a bound: max, min, maxRatio or minRatio (the value, or its ratio to the production target group's)"
            ));
        }
        if let (Some(lo), Some(hi)) = (m.min, m.max)
            && lo > hi
        {
            self.err(
                doc,
                &format!("{base}.min"),
                format!("{base}.min {lo} is above max {hi}: no value passes"),
            );
        }
        if let (Some(lo), Some(hi)) = (m.min_ratio, m.max_ratio)
            && lo > hi
        {
            self.err(
                doc,
                &format!("{base}.minRatio"),
                format!("{base}.minRatio {lo} is above maxRatio {hi}: no value passes"),
            );
        }
        let per_group = m.builtin.is_some()
            || m.query
                .iter()
                .chain(m.queries.values())
                .any(|q| q.dimensions.values().any(|v| v == TARGET_GROUP_PLACEHOLDER));
        if m.relative() && !per_group {
            let key = if m.max_ratio.is_some() {
                "maxRatio"
            } else {
                "minRatio"
            };
            self.err(doc, &format!("{base}.{key}"), format!(
                "{base}.{key} compares with the production target group's value, but no dimension of the query is {TARGET_GROUP_PLACEHOLDER}: both sides would read the same metric"
            ));
        }
    }
}

/// CloudWatch's rule for a query id: a lowercase letter, then letters, digits and `_`.
fn is_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}
