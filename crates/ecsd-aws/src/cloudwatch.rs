//! CloudWatch: the [`CloudWatchApi`] trait and its SDK implementation. ecsd reads the
//! state of the alarms a Service names as its deployment alarms, for health, and metric
//! data (GetMetricData); it never changes an alarm or writes a metric.

use std::future::Future;

use aws_sdk_cloudwatch as cw;
use ecsd_plan::signals::{AlarmState, AlarmValue, MetricQuery, MetricQueryKind, MetricSeries};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};

/// DescribeAlarms takes at most 100 alarm names per call.
pub const ALARM_NAMES_BATCH: usize = 100;
/// GetMetricData takes at most 500 queries per call.
pub const METRIC_QUERIES_MAX: usize = 500;

/// The CloudWatch calls ecsd makes.
pub trait CloudWatchApi: Send + Sync {
    /// The alarms (metric and composite) of these names, 100 names per call; names
    /// CloudWatch does not have are left out.
    fn describe_alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmState>, AwsError>> + Send;

    /// The data points of `queries` (at most [`METRIC_QUERIES_MAX`]) from `start` to
    /// `end` (seconds since the Unix epoch), oldest first: one request, with its pages
    /// (NextToken) joined per query id.
    fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: u64,
        end: u64,
    ) -> impl Future<Output = Result<Vec<MetricSeries>, AwsError>> + Send;
}

sdk_client!(
    /// [`CloudWatchApi`] over the aws-sdk-cloudwatch client.
    SdkCloudWatch,
    cw
);

/// CloudWatch's `StateValue` as ours; an unknown value counts as no data.
fn value_of(v: &cw::types::StateValue) -> AlarmValue {
    match v {
        cw::types::StateValue::Ok => AlarmValue::Ok,
        cw::types::StateValue::Alarm => AlarmValue::Alarm,
        _ => AlarmValue::InsufficientData,
    }
}

fn secs(t: Option<&aws_smithy_types::DateTime>) -> Option<u64> {
    t.and_then(|t| u64::try_from(t.secs()).ok())
}

fn time(secs: u64) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Our query as the SDK's `MetricDataQuery`.
fn query_of(q: &MetricQuery) -> cw::types::MetricDataQuery {
    let period = |p: u32| i32::try_from(p).unwrap_or(i32::MAX);
    let builder = cw::types::MetricDataQuery::builder()
        .id(&q.id)
        .return_data(q.return_data);
    let builder = match &q.kind {
        MetricQueryKind::Stat {
            namespace,
            name,
            dimensions,
            period: p,
            stat,
        } => {
            let mut metric = cw::types::Metric::builder()
                .namespace(namespace)
                .metric_name(name);
            for (k, v) in dimensions {
                metric =
                    metric.dimensions(cw::types::Dimension::builder().name(k).value(v).build());
            }
            builder.metric_stat(
                cw::types::MetricStat::builder()
                    .metric(metric.build())
                    .period(period(*p))
                    .stat(stat)
                    .build(),
            )
        }
        MetricQueryKind::Expression {
            expression,
            period: p,
        } => builder.expression(expression).period(period(*p)),
    };
    builder.build()
}

impl CloudWatchApi for SdkCloudWatch {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, AwsError> {
        let mut out = Vec::new();
        for batch in names.chunks(ALARM_NAMES_BATCH) {
            let mut pages = self
                .client
                .describe_alarms()
                .set_alarm_names(Some(batch.to_vec()))
                .alarm_types(cw::types::AlarmType::MetricAlarm)
                .alarm_types(cw::types::AlarmType::CompositeAlarm)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(failed("CloudWatch", "DescribeAlarms"))?;
                for a in page.metric_alarms() {
                    out.push(AlarmState {
                        name: a.alarm_name().unwrap_or_default().to_owned(),
                        state: a
                            .state_value()
                            .map_or(AlarmValue::InsufficientData, value_of),
                        reason: a.state_reason().unwrap_or_default().to_owned(),
                        since: secs(a.state_updated_timestamp()),
                    });
                }
                for a in page.composite_alarms() {
                    out.push(AlarmState {
                        name: a.alarm_name().unwrap_or_default().to_owned(),
                        state: a
                            .state_value()
                            .map_or(AlarmValue::InsufficientData, value_of),
                        reason: a.state_reason().unwrap_or_default().to_owned(),
                        since: secs(a.state_updated_timestamp()),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: u64,
        end: u64,
    ) -> Result<Vec<MetricSeries>, AwsError> {
        let sdk_queries = queries.iter().map(query_of).collect();
        let mut pages = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(sdk_queries))
            .start_time(time(start))
            .end_time(time(end))
            .scan_by(cw::types::ScanBy::TimestampAscending)
            .into_paginator()
            .send();
        let mut out: Vec<MetricSeries> = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("CloudWatch", "GetMetricData"))?;
            for r in page.metric_data_results() {
                let id = r.id().unwrap_or_default();
                let at = match out.iter().position(|s| s.id == id) {
                    Some(i) => i,
                    None => {
                        out.push(MetricSeries {
                            id: id.to_owned(),
                            label: r.label().unwrap_or_default().to_owned(),
                            ..MetricSeries::default()
                        });
                        out.len() - 1
                    }
                };
                let series = &mut out[at];
                series
                    .timestamps
                    .extend(r.timestamps().iter().filter_map(|t| secs(Some(t))));
                series.values.extend_from_slice(r.values());
                // A later page's status is the one that counts (PartialData until the last).
                series.status = r
                    .status_code()
                    .map_or("Complete", |c| c.as_str())
                    .to_owned();
            }
        }
        Ok(out)
    }
}
