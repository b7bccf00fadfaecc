//! CloudWatch: the [`CloudWatchApi`] trait and its SDK implementation. ecsd reads the
//! state of the alarms a Service names as its deployment alarms, for health; it never
//! changes an alarm.

use std::future::Future;

use aws_sdk_cloudwatch as cw;
use ecsd_plan::signals::{AlarmState, AlarmValue};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};

/// DescribeAlarms takes at most 100 alarm names per call.
pub const ALARM_NAMES_BATCH: usize = 100;

/// The CloudWatch calls ecsd makes.
pub trait CloudWatchApi: Send + Sync {
    /// The alarms (metric and composite) of these names, 100 names per call; names
    /// CloudWatch does not have are left out.
    fn describe_alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmState>, AwsError>> + Send;
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
}
