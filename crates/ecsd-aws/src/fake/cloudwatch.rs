//! The fake's CloudWatch: alarms a test sets with [`super::FakeState::alarms`], and
//! metric data it sets with [`super::FakeState::metrics`] (by query id: the fake does not
//! compute statistics or expressions).

use ecsd_plan::signals::{AlarmState, MetricQuery, MetricSeries};

use crate::cloudwatch::CloudWatchApi;
use crate::error::AwsError;

use super::FakeAws;

impl CloudWatchApi for FakeAws {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, AwsError> {
        let s = self.call("CloudWatch", "DescribeAlarms").await?;
        Ok(names
            .iter()
            .filter_map(|n| s.alarms.get(n).cloned())
            .collect())
    }

    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: u64,
        end: u64,
    ) -> Result<Vec<MetricSeries>, AwsError> {
        let s = self.call("CloudWatch", "GetMetricData").await?;
        Ok(queries
            .iter()
            .filter(|q| q.return_data)
            .map(|q| {
                let mut series = s
                    .metrics
                    .get(&q.id)
                    .cloned()
                    .unwrap_or_else(|| MetricSeries {
                        id: q.id.clone(),
                        status: "Complete".to_owned(),
                        ..MetricSeries::default()
                    });
                let keep: Vec<(u64, f64)> = series
                    .timestamps
                    .iter()
                    .zip(&series.values)
                    .filter(|(t, _)| (start..end).contains(*t))
                    .map(|(t, v)| (*t, *v))
                    .collect();
                series.timestamps = keep.iter().map(|(t, _)| *t).collect();
                series.values = keep.iter().map(|(_, v)| *v).collect();
                series
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use ecsd_plan::signals::{MetricQuery, MetricQueryKind, MetricSeries};

    use crate::cloudwatch::CloudWatchApi;
    use crate::fake::FakeAws;

    #[tokio::test]
    async fn metric_data_answers_what_the_test_set_within_the_time_range() {
        let aws = FakeAws::default();
        aws.edit(|s| {
            s.metrics.insert(
                "ratio".to_owned(),
                MetricSeries {
                    id: "ratio".to_owned(),
                    label: "5xx ratio".to_owned(),
                    timestamps: vec![60, 120, 180],
                    values: vec![0.1, 0.2, 0.3],
                    status: "Complete".to_owned(),
                },
            )
        });
        let query = |id: &str, return_data| MetricQuery {
            id: id.to_owned(),
            kind: MetricQueryKind::Expression {
                expression: "errors / requests".to_owned(),
                period: 60,
            },
            return_data,
        };
        let got = aws
            .metric_data(
                &[
                    query("ratio", true),
                    query("hidden", false),
                    query("none", true),
                ],
                100,
                200,
            )
            .await
            .expect("GetMetricData");
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].timestamps, [120, 180]);
        assert_eq!(got[0].values, [0.2, 0.3]);
        assert!(got[1].values.is_empty() && got[1].id == "none", "{got:?}");
    }
}
