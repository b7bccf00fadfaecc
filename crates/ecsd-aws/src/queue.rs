//! The SQS queue of `run --events`, where EventBridge delivers what changed in AWS
//! (ECS events, CloudTrail API calls, S3 object events). This module only moves
//! messages; what an event means lives in `ecsd_runtime::events`.
//!
//! AWS facts relied on (docs/aws-behaviours.md, "event-feed"): `ReceiveMessage` long
//! polls for up to 20 seconds and returns at most 10 messages; a received message is
//! hidden for the queue's visibility timeout and comes back unless deleted with its
//! receipt handle; `DeleteMessageBatch` takes at most 10 entries and reports each
//! entry's failure separately; delivery is at least once, so a message may arrive twice.

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs as sqs;
use sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

use crate::config::AwsConfig;
use crate::error::AwsError;
use crate::int::i32_of;

const SERVICE: &str = "SQS";
/// The longest long poll SQS allows, and the most messages one receive returns.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
pub const MAX_BATCH: usize = 10;

/// One message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    /// What deleting it takes (valid for this receive only).
    pub receipt: String,
    pub body: String,
    /// How often it was received, this time included (`ApproximateReceiveCount`).
    pub receive_count: u32,
}

/// The event queue.
pub trait EventQueue: Send + Sync {
    /// Waits up to `wait` (at most [`MAX_WAIT`]) for up to [`MAX_BATCH`] messages.
    fn receive(
        &self,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<QueueMessage>, AwsError>> + Send;
    /// Deletes handled messages (at most [`MAX_BATCH`]); the ids of those SQS could not
    /// delete (they come back after the visibility timeout, and are handled again).
    fn delete(
        &self,
        messages: &[QueueMessage],
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The queue, as logs and `/status` name it.
    fn describe(&self) -> String;
}

/// [`EventQueue`] over the aws-sdk-sqs client, for one queue URL.
#[derive(Debug, Clone)]
pub struct SdkQueue {
    client: sqs::Client,
    url: String,
}

impl SdkQueue {
    /// A client from the shared configuration, with a read timeout that outlasts the
    /// long poll and few attempts per call: the listener backs off between receives.
    pub fn new(config: &AwsConfig, url: &str) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(3100))
            .read_timeout(MAX_WAIT + Duration::from_secs(10))
            .operation_timeout(MAX_WAIT + Duration::from_secs(40))
            .build();
        let conf = sqs::config::Builder::from(&config.sdk)
            .interceptor(config.interceptor())
            .retry_partition(config.retry_partition.clone())
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(timeouts)
            .build();
        SdkQueue {
            client: sqs::Client::from_conf(conf),
            url: url.to_owned(),
        }
    }
}

impl EventQueue for SdkQueue {
    async fn receive(&self, wait: Duration) -> Result<Vec<QueueMessage>, AwsError> {
        let wait = wait.min(MAX_WAIT).as_secs();
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32_of(MAX_BATCH as u32))
            .wait_time_seconds(i32_of(u32::try_from(wait).unwrap_or(20)))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(QueueMessage {
                    id: m.message_id()?.to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    receive_count: count,
                })
            })
            .collect())
    }

    async fn delete(&self, messages: &[QueueMessage]) -> Result<Vec<String>, AwsError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        // Entry ids must be unique within a batch and short: the position serves.
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt)
                    .build()
                    .map_err(|e| AwsError::invalid(SERVICE, "DeleteMessageBatch entry", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(SERVICE, "DeleteMessageBatch", e))?;
        Ok(out
            .failed()
            .iter()
            .filter_map(|f| f.id().parse::<usize>().ok())
            .filter_map(|i| messages.get(i).map(|m| m.id.clone()))
            .collect())
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}
