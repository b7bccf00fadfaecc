//! One HTTP POST, behind [`Post`] so delivery is tested with a fake receiver. The real
//! one ([`Https`]) uses `ecsd_aws::https`: hyper over the rustls stack the AWS SDK
//! builds, with the system's root certificates, HTTP/1.1, and a deadline per request.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full, Limited};

use crate::NotifyError;

/// A request, built once so every attempt sends the same bytes (and signature).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub uri: Uri,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

/// What the receiver answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `Retry-After`, in seconds (the only form receivers of webhooks send in practice;
    /// an HTTP date is ignored and the backoff applies).
    pub retry_after: Option<Duration>,
}

/// Sends one POST. An `Err` is a failure to get any answer (connection, timeout).
pub trait Post: Send + Sync + 'static {
    fn post(&self, req: Outgoing) -> impl Future<Output = Result<Answer, String>> + Send;
}

/// How long one attempt may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of a response body read (and discarded) to reuse the connection.
const MAX_RESPONSE: usize = 64 * 1024;

/// POSTs over HTTPS (or http to loopback: see `target.rs`).
#[derive(Clone)]
pub struct Https {
    client: ecsd_aws::https::HttpsClient,
}

impl Https {
    pub fn new() -> Result<Self, NotifyError> {
        Ok(Https {
            client: ecsd_aws::https::https_client().map_err(NotifyError::Tls)?,
        })
    }
}

impl Post for Https {
    async fn post(&self, req: Outgoing) -> Result<Answer, String> {
        let mut builder = Request::post(req.uri);
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        let request = builder
            .body(Full::new(req.body))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let attempt = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("no answer: {}", cause(&e)))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let _ = Limited::new(response.into_body(), MAX_RESPONSE)
                .collect()
                .await;
            Ok(Answer {
                status,
                retry_after,
            })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, attempt)
            .await
            .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
    }
}

/// The innermost cause of an error, which says what went wrong (refused, DNS, TLS).
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}
