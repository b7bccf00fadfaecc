//! The shared SDK configuration, with retries and timeouts chosen for a controller.
//!
//! - Retries: the SDK's *standard* mode, 3 attempts, backoff with jitter from 200 ms up to
//!   5 s. Throttling and 5xx answers are retried; client errors are not. Adaptive mode is
//!   not used: measured here, it waited 20 s after a single throttle, which
//!   would stall a worker; ecsd's own per-object backoff handles longer outages.
//! - Timeouts: connect 3.1 s, one attempt 10 s, the whole call including retries 30 s,
//!   so a hung connection cannot hold a worker forever.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use std::sync::Arc;

use crate::rate::{Limited, TokenBucket};
use crate::stats::{CallStats, StatsInterceptor};

/// The loaded configuration, shared by every client, and the call counters every client
/// reports to.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub(crate) sdk: aws_config::SdkConfig,
    pub(crate) stats: CallStats,
}

impl AwsConfig {
    /// The counters of every call made by clients built from this configuration.
    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    pub(crate) fn interceptor(&self) -> StatsInterceptor {
        StatsInterceptor {
            stats: self.stats.clone(),
        }
    }

    /// The region the standard chain resolved, if any.
    pub fn region(&self) -> Option<String> {
        self.sdk.region().map(ToString::to_string)
    }
}

/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 3;
/// The longest a single attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a call may take, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// Loads the configuration from the standard AWS chain, without a rate limit.
pub async fn load_config() -> AwsConfig {
    load_config_limited(None).await
}

/// Loads the configuration; with `requests_per_second`, every AWS request waits for a
/// token of a bucket that refills at that rate (bursts of up to twice as many).
pub async fn load_config_limited(requests_per_second: Option<f64>) -> AwsConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(3100))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts)
        .load()
        .await;
    let bucket = requests_per_second.and_then(|r| TokenBucket::new(r, 2.0 * r));
    let sdk = match bucket {
        Some(bucket) => sdk
            .to_builder()
            .http_client(Limited {
                inner: default_https_client(),
                bucket: Arc::new(bucket),
            })
            .build(),
        None => sdk,
    };
    AwsConfig {
        sdk,
        stats: CallStats::default(),
    }
}

/// The HTTPS client the SDK builds by default (rustls with aws-lc, proxy settings from
/// the environment), built here so it can be wrapped.
fn default_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
