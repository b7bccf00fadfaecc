//! The shared SDK configuration, with retries, timeouts and pacing chosen for a
//! controller that must hold up on a bad day.
//!
//! - Throttles: never reach the SDK's retry policy. The [`Paced`](crate::pace) HTTP client
//!   paces every action to the rate AWS allows and sends a throttled request again
//!   itself: AWS refused it before doing anything, so that is safe for every call,
//!   creates included.
//! - Other failures (5xx, timeouts, resets): the SDK's *standard* mode retries them with
//!   exponential backoff and jitter, from 200 ms up to 5 s, [`MAX_ATTEMPTS`] attempts,
//!   for reads and idempotent updates. Calls that are not idempotent (CreateService,
//!   RegisterTaskDefinition, CreateRule, CreateDeployment) opt out per call: their
//!   outcome is unknown after such a failure, and the next pass observes it first.
//! - The retry quota: the standard mode's shared token bucket (500 tokens, 5 per retry,
//!   10 per timeout) is replaced by an unlimited one. Under sustained faults it drains
//!   in seconds, after which *no* call is retried, so one bad minute fails every read of
//!   a pass. What that quota protects against, a retry storm, is the pacer's job here:
//!   it slows each action down at AWS's first throttle.
//! - Adaptive mode is not used: measured here, it waited 20 s after a single throttle.
//! - Timeouts: connect 3.1 s and a response within [`READ_TIMEOUT`], so a hung
//!   connection cannot hold a worker; no per-attempt limit, because an attempt includes
//!   the wait for its action's token; the whole call, retries included, at most
//!   [`OPERATION_TIMEOUT`]. The SDK's stalled-stream protection is off: it takes a
//!   request waiting for its action's token for a stalled upload and fails it (a
//!   create with it); AWS's answers here are small, and the response deadline covers
//!   a connection that stops answering.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket as RetryQuota};

use crate::fence::Fence;
use crate::pace::{Paced, Pacer};
use crate::stats::{CallStats, StatsInterceptor};

/// The loaded configuration, shared by every client, and the call counters every client
/// reports to.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    pub(crate) sdk: aws_config::SdkConfig,
    pub(crate) stats: CallStats,
    pub(crate) retry_partition: RetryPartition,
    /// The HTTP client every client of this configuration sends through.
    pub(crate) paced: Paced,
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

    /// The fence every mutating request of these clients must pass (leader election).
    pub fn fence(&self) -> &Fence {
        &self.paced.fence
    }

    /// This configuration with mutating requests gated by `fence` instead (one lease per
    /// deployment target: each target's clients pass its own fence). Pacing, call
    /// counters, connections and credentials stay shared.
    pub fn with_fence(&self, fence: Fence) -> AwsConfig {
        let paced = Paced {
            fence,
            ..self.paced.clone()
        };
        let mut builder = self.sdk.to_builder();
        builder.set_http_client(Some(
            aws_smithy_runtime_api::client::http::SharedHttpClient::new(paced.clone()),
        ));
        AwsConfig {
            sdk: builder.build(),
            paced,
            ..self.clone()
        }
    }

    /// The region the standard chain resolved, if any.
    pub fn region(&self) -> Option<String> {
        self.sdk.region().map(ToString::to_string)
    }

    /// The configuration for another account or region (groundwork of deployment
    /// targets, issue 27): with `assume`, credentials of that role assumed with this
    /// configuration's own (`sts:AssumeRole`, session `ecsd`, with the external ID when
    /// given), which the SDK refreshes before they expire; with `region`, that region.
    /// Its clients share this configuration's HTTP client (pacing), call counters,
    /// retry partition and fence.
    pub async fn for_target(&self, assume: Option<&AssumeRole>, region: Option<&str>) -> AwsConfig {
        use aws_config::Region;
        use aws_credential_types::provider::SharedCredentialsProvider;
        let mut builder = self.sdk.to_builder();
        if let Some(r) = region {
            builder.set_region(Some(Region::new(r.to_owned())));
        }
        if let Some(a) = assume {
            let mut provider = aws_config::sts::AssumeRoleProvider::builder(&a.role_arn)
                .session_name("ecsd")
                .configure(&self.sdk);
            if let Some(id) = &a.external_id {
                provider = provider.external_id(id);
            }
            if let Some(r) = region {
                provider = provider.region(Region::new(r.to_owned()));
            }
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(
                provider.build().await,
            )));
        }
        AwsConfig {
            sdk: builder.build(),
            ..self.clone()
        }
    }

    /// The access key id of the credentials these clients sign with (never the
    /// secret), for a log line and tests; the error when none can be had.
    pub async fn access_key_id(&self) -> Result<String, String> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self
            .sdk
            .credentials_provider()
            .ok_or_else(|| "no credentials provider".to_owned())?;
        provider
            .provide_credentials()
            .await
            .map(|c| c.access_key_id().to_owned())
            .map_err(|e| {
                format!(
                    "{e}: {}",
                    std::error::Error::source(&e)
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )
            })
    }
}

/// A role to assume for another account's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    /// The external ID the role's trust policy asks for, if any.
    pub external_id: Option<String>,
}

/// Attempts per call, the first included, for failures other than throttles.
pub const MAX_ATTEMPTS: u32 = 8;
/// The longest AWS may take to start answering a request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a call may take, pacing and retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

/// Loads the configuration from the standard AWS chain, without a rate limit.
pub async fn load_config() -> AwsConfig {
    load_config_limited(None).await
}

/// Loads the configuration; with `requests_per_second`, every AWS request also waits
/// for a token of one bucket that refills at that rate (bursts of up to twice as many).
pub async fn load_config_limited(requests_per_second: Option<f64>) -> AwsConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(3100))
        .read_timeout(READ_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let stats = CallStats::default();
    let pacer = Arc::new(Pacer::new(requests_per_second, stats.clone()));
    let paced = Paced {
        inner: default_https_client(),
        pacer,
        fence: Fence::default(),
    };
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .http_client(paced.clone())
        .load()
        .await;
    AwsConfig {
        sdk,
        stats,
        retry_partition: RetryPartition::custom("ecsd")
            .token_bucket(RetryQuota::unlimited())
            .build(),
        paced,
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

/// Declares `$name`, an implementation over the `$sdk` service crate's client, built
/// from the shared configuration with its call counters and retry partition (and any
/// further builder settings, e.g. `force_path_style(true)`).
macro_rules! sdk_client {
    ($(#[$doc:meta])* $name:ident, $sdk:ident $(, $setting:ident($($arg:expr),*))*) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            client: $sdk::Client,
        }

        impl $name {
            /// A client from the shared configuration, reporting to its call counters.
            pub fn new(config: &$crate::config::AwsConfig) -> Self {
                let conf = $sdk::config::Builder::from(&config.sdk)
                    .interceptor(config.interceptor())
                    .retry_partition(config.retry_partition.clone())
                    $(.$setting($($arg),*))*
                    .build();
                $name {
                    client: $sdk::Client::from_conf(conf),
                }
            }
        }
    };
}
pub(crate) use sdk_client;
