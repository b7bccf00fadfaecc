//! The fake's CloudWatch: alarms a test sets with [`super::FakeState::alarms`].

use ecsd_plan::signals::AlarmState;

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
}
