//! Pacing every AWS request to the rate AWS allows, and resending what AWS throttled.
//!
//! AWS throttles each API action with a token bucket per account and Region ("Request
//! throttling for the Amazon ECS API"; ELBv2, Application Auto Scaling and CodeDeploy
//! work alike). A throttled request was refused before anything was done, so it is
//! safe to send again, creates included. `Paced` wraps the SDK's HTTP client:
//!
//! - every request waits for a token of its action's [`Adaptive`] bucket, which starts
//!   generous and learns the real rate from the answers: a throttle empties the bucket
//!   and halves the rate (once per round: answers to requests sent before the last
//!   halving do not halve it again), each success adds a little back (AIMD, as TCP
//!   does); never below a floor (1 a second, reads 5), so throttles that are not about
//!   the rate cannot starve an action;
//! - a throttled answer is not handed to the SDK: the same signed request is sent
//!   again once its action has a token, for up to [`RESEND_FOR`] (well inside the five
//!   minutes a SigV4 signature stays valid);
//! - with `--aws-rps`, every request also waits for a token of one global bucket;
//! - a mutating request is sent only while the [`Fence`] allows it (leader election:
//!   only the lease holder changes AWS), checked after every wait, for every resend.
//!
//! Ambiguous failures (timeouts, resets, 5xx) are left to the SDK's retry policy and
//! ecsd's own (see `config.rs`): they may have taken effect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use tokio::time::Instant;

use crate::fence::{Fence, Fenced};
use crate::rate::TokenBucket;
use crate::stats::CallStats;

/// How long a throttled request is sent again before its throttled answer is returned.
pub const RESEND_FOR: Duration = Duration::from_secs(60);
/// The slowest an action is ever paced to, in requests per second. Throttles that are
/// not about the rate (a busy AWS answers some at random) must not starve an action.
const MIN_RATE: f64 = 1.0;
/// The floor of reads (Describe, List, Get), whose documented buckets refill at 10 or
/// more a second (ELBv2 non-mutating calls: 10; ECS cluster reads: more).
const MIN_READ_RATE: f64 = 5.0;
/// What each success adds back to an action's rate, in requests per second.
const INCREASE: f64 = 0.5;

/// Where an action's bucket starts: ECS's documented buckets are of this order for the
/// calls ecsd makes (tens of requests of burst, a few to tens per second sustained);
/// the rate is learned from AWS's answers either way.
const START_RATE: f64 = 20.0;
const START_BURST: f64 = 50.0;

/// A token bucket whose rate follows AWS's answers.
#[derive(Debug)]
pub struct Adaptive {
    state: tokio::sync::Mutex<AdaptiveState>,
}

#[derive(Debug, Clone, Copy)]
struct AdaptiveState {
    rate: f64,
    floor: f64,
    burst: f64,
    /// The burst it started with: what successes win back, never more.
    max_burst: f64,
    tokens: f64,
    last: Instant,
    /// When the rate was last halved.
    halved: Instant,
}

impl Adaptive {
    /// A bucket refilling at `rate` per second (never halved below `floor`), holding at
    /// most `burst`, full.
    pub fn new(rate: f64, burst: f64, floor: f64) -> Adaptive {
        let floor = floor.max(0.01);
        Adaptive {
            state: tokio::sync::Mutex::new(AdaptiveState {
                rate: rate.max(floor),
                floor,
                burst: burst.max(1.0),
                max_burst: burst.max(1.0),
                tokens: burst.max(1.0),
                last: Instant::now(),
                halved: Instant::now(),
            }),
        }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let tokens =
                    (s.tokens + now.duration_since(s.last).as_secs_f64() * s.rate).min(s.burst);
                s.last = now;
                if tokens >= 1.0 {
                    s.tokens = tokens - 1.0;
                    return;
                }
                s.tokens = tokens;
                Duration::from_secs_f64((1.0 - tokens) / s.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// AWS throttled a request sent at `sent`: start saving up from nothing, and halve
    /// the rate unless it was already halved after that request was sent.
    pub async fn throttled(&self, sent: Instant) {
        let mut s = self.state.lock().await;
        let now = Instant::now();
        if sent >= s.halved {
            s.rate = (s.rate / 2.0).max(s.floor);
            s.burst = (s.burst / 2.0).max(1.0);
            s.halved = now;
        }
        s.tokens = 0.0;
        s.last = now;
    }

    /// AWS answered: allow a little more.
    pub async fn succeeded(&self) {
        let mut s = self.state.lock().await;
        s.rate += INCREASE;
        s.burst = (s.burst + INCREASE).min(s.max_burst);
    }

    /// The current rate, in requests per second.
    pub async fn rate(&self) -> f64 {
        self.state.lock().await.rate
    }
}

/// The pacing state shared by every client of one configuration.
#[derive(Debug)]
pub struct Pacer {
    global: Option<TokenBucket>,
    actions: Mutex<HashMap<String, Arc<Adaptive>>>,
    stats: CallStats,
}

impl Pacer {
    /// A pacer, with a global cap of `requests_per_second` (bursts of twice as many),
    /// counting throttled answers in `stats`.
    pub fn new(requests_per_second: Option<f64>, stats: CallStats) -> Pacer {
        Pacer {
            global: requests_per_second.and_then(|r| TokenBucket::new(r, 2.0 * r)),
            actions: Mutex::default(),
            stats,
        }
    }

    /// The bucket of `action`.
    pub fn action(&self, action: &str) -> Arc<Adaptive> {
        self.actions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(action.to_owned())
            .or_insert_with(|| {
                let op = action.rsplit('.').next().unwrap_or(action);
                let floor = if crate::stats::is_mutating(op) {
                    MIN_RATE
                } else {
                    MIN_READ_RATE
                };
                Arc::new(Adaptive::new(START_RATE, START_BURST, floor))
            })
            .clone()
    }

    async fn admit(&self, action: &Adaptive) {
        if let Some(global) = &self.global {
            global.acquire().await;
        }
        action.acquire().await;
    }
}

/// The action a request calls: `Service.Operation` from the `X-Amz-Target` header (the
/// JSON protocols of ECS, Application Auto Scaling and CodeDeploy), or the `Action`
/// form field (the query protocol of ELBv2: `Query.Action`), else the host (S3).
pub fn action_of(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.to_owned();
    }
    if let Some(body) = request.body().bytes()
        && let Ok(text) = std::str::from_utf8(body)
        && let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action="))
    {
        return format!("Query.{action}");
    }
    request
        .uri()
        .split('/')
        .nth(2)
        .unwrap_or("other")
        .to_owned()
}

/// Whether a request changes AWS and so needs the [`Fence`]: by its operation's name
/// for the JSON and query protocols, by its HTTP method otherwise (S3). The lease
/// table's own calls (DynamoDB) never do: they are what keeps the fence open.
fn needs_fence(request: &HttpRequest, action: &str) -> bool {
    if action.starts_with("DynamoDB_") {
        return false;
    }
    if action.contains('.') {
        let op = action.rsplit('.').next().unwrap_or(action);
        return crate::stats::is_mutating(op);
    }
    !matches!(request.method(), "GET" | "HEAD")
}

/// The error codes AWS answers when it throttled a request (and did nothing).
const THROTTLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Whether an answer says AWS throttled the request.
pub fn is_throttle(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if !matches!(status, 400 | 503) {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    THROTTLE_CODES.iter().any(|code| {
        text.contains(&format!("<Code>{code}</Code>"))
            || text.contains(&format!("\"{code}\""))
            || text.contains(&format!("#{code}\""))
    })
}

/// The SDK's HTTP client, paced per action.
#[derive(Debug, Clone)]
pub(crate) struct Paced {
    pub(crate) inner: SharedHttpClient,
    pub(crate) pacer: Arc<Pacer>,
    /// The fence every mutating request of this client must pass (unfenced until
    /// leader election closes it). Clients of one deployment target share theirs;
    /// the pacing and the connections are shared by all.
    pub(crate) fence: Fence,
}

impl HttpClient for Paced {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
            fence: self.fence.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
    fence: Fence,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, pacer) = (self.inner.clone(), self.pacer.clone());
        HttpConnectorFuture::new(send(inner, pacer, self.fence.clone(), request))
    }
}

async fn send(
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
    fence: Fence,
    request: HttpRequest,
) -> Result<HttpResponse, ConnectorError> {
    let action = action_of(&request);
    let fenced = needs_fence(&request, &action);
    let bucket = pacer.action(&action);
    let until = Instant::now() + RESEND_FOR;
    let mut next = request;
    loop {
        pacer.admit(&bucket).await;
        if fenced && !fence.allows(Instant::now()) {
            return Err(ConnectorError::user(Box::new(Fenced)));
        }
        let spare = next.try_clone();
        let sent = Instant::now();
        let mut response = inner.call(next).await?;
        let status = response.status().as_u16();
        if status < 400 {
            bucket.succeeded().await;
            return Ok(response);
        }
        let body = ByteStream::new(response.take_body())
            .collect()
            .await
            .map_err(|e| ConnectorError::io(e.into()))?
            .into_bytes();
        let throttled = is_throttle(status, &body);
        *response.body_mut() = SdkBody::from(body);
        if !throttled {
            bucket.succeeded().await;
            return Ok(response);
        }
        pacer.stats.record_throttle(&action);
        bucket.throttled(sent).await;
        match spare {
            Some(again) if Instant::now() < until => next = again,
            _ => return Ok(response),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_are_recognised_in_every_protocol() {
        let json = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        let namespaced = br#"{"__type":"com.amazonaws.ecs#ThrottlingException","message":"x"}"#;
        let xml = b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>";
        assert!(is_throttle(400, json));
        assert!(is_throttle(400, namespaced));
        assert!(is_throttle(400, xml));
        assert!(is_throttle(429, b""));
        assert!(is_throttle(503, b"<Error><Code>SlowDown</Code></Error>"));
        let refused = br#"{"__type":"InvalidParameterException","message":"Throttling is fine"}"#;
        assert!(!is_throttle(400, refused), "a word in a message is no code");
        assert!(!is_throttle(503, b"<html>Service Unavailable</html>"));
        assert!(
            !is_throttle(500, json),
            "a 500 is ambiguous, not a throttle"
        );
    }

    fn request(uri: &str, target: Option<&str>, body: &'static str) -> HttpRequest {
        let mut r = HttpRequest::new(SdkBody::from(body));
        r.set_uri(uri).expect("uri");
        if let Some(t) = target {
            r.headers_mut().insert("X-Amz-Target", t.to_owned());
        }
        r
    }

    #[test]
    fn the_action_comes_from_the_target_header_or_the_form() {
        let ecs = request(
            "https://ecs.us-east-1.amazonaws.com/",
            Some("AmazonEC2ContainerServiceV20141113.CreateService"),
            "{}",
        );
        assert_eq!(
            action_of(&ecs),
            "AmazonEC2ContainerServiceV20141113.CreateService"
        );
        let elb = request(
            "https://elasticloadbalancing.us-east-1.amazonaws.com/",
            None,
            "Action=CreateTargetGroup&Version=2015-12-01",
        );
        assert_eq!(action_of(&elb), "Query.CreateTargetGroup");
        let s3 = request("https://bucket.s3.amazonaws.com/key", None, "");
        assert_eq!(action_of(&s3), "bucket.s3.amazonaws.com");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_halves_the_rate_once_per_round_and_successes_win_it_back_slowly() {
        tokio::time::advance(Duration::from_secs(1)).await;
        let bucket = Adaptive::new(8.0, 1.0, MIN_RATE);
        let sent = Instant::now();
        tokio::time::advance(Duration::from_millis(10)).await;
        bucket.throttled(sent).await;
        assert_eq!(bucket.rate().await, 4.0);
        bucket.throttled(sent).await;
        assert_eq!(
            bucket.rate().await,
            4.0,
            "a request sent before the halving does not halve again"
        );
        let started = Instant::now();
        bucket.acquire().await;
        let waited = started.elapsed().as_secs_f64();
        assert!(
            (waited - 0.25).abs() < 0.01,
            "an emptied bucket waits a token at the new rate, waited {waited}"
        );
        for _ in 0..2 {
            bucket.succeeded().await;
        }
        assert!((bucket.rate().await - 5.0).abs() < 1e-9);
        for _ in 0..20 {
            tokio::time::advance(Duration::from_millis(10)).await;
            bucket.throttled(Instant::now()).await;
        }
        assert_eq!(bucket.rate().await, MIN_RATE, "never slower than the floor");
    }

    #[tokio::test(start_paused = true)]
    async fn reads_keep_a_higher_floor_than_writes() {
        let pacer = Pacer::new(None, CallStats::default());
        for (action, floor) in [
            (
                "AmazonEC2ContainerServiceV20141113.DescribeServices",
                MIN_READ_RATE,
            ),
            ("Query.CreateTargetGroup", MIN_RATE),
        ] {
            let bucket = pacer.action(action);
            for _ in 0..20 {
                tokio::time::advance(Duration::from_millis(10)).await;
                bucket.throttled(Instant::now()).await;
            }
            assert_eq!(bucket.rate().await, floor, "{action}");
        }
    }

    /// Answers 200 to everything and counts what reached it.
    #[derive(Debug, Default, Clone)]
    struct Counting(Arc<Mutex<Vec<String>>>);

    impl HttpConnector for Counting {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(action_of(&request));
            HttpConnectorFuture::ready(Ok(HttpResponse::new(
                200.try_into().expect("status"),
                SdkBody::empty(),
            )))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_fence_stops_mutating_requests_only_and_expires_by_itself() {
        let wire = Counting::default();
        let pacer = Arc::new(Pacer::new(None, CallStats::default()));
        let fence = Fence::default();
        let connector = SharedHttpConnector::new(wire.clone());
        let send_one = |uri: &str, target: Option<&str>, body: &'static str| {
            send(
                connector.clone(),
                pacer.clone(),
                fence.clone(),
                request(uri, target, body),
            )
        };
        let create = (
            "https://ecs/",
            Some("AmazonEC2ContainerServiceV20141113.CreateService"),
            "{}",
        );
        let describe = (
            "https://ecs/",
            Some("AmazonEC2ContainerServiceV20141113.DescribeServices"),
            "{}",
        );
        let modify = ("https://elb/", None, "Action=ModifyRule&Version=2015-12-01");
        let lease = ("https://ddb/", Some("DynamoDB_20120810.PutItem"), "{}");
        let s3_get = ("https://s3/bucket/key", None, "");
        // Unfenced (no leader election): everything passes.
        assert!(send_one(create.0, create.1, create.2).await.is_ok());
        fence.close();
        for (uri, target, body) in [create, modify] {
            let refused = send_one(uri, target, body).await;
            assert!(refused.is_err(), "{target:?} {body} must not be sent");
        }
        for (uri, target, body) in [describe, lease, s3_get] {
            assert!(
                send_one(uri, target, body).await.is_ok(),
                "{uri} is no change"
            );
        }
        fence.open_until(Instant::now() + Duration::from_secs(2));
        assert!(send_one(create.0, create.1, create.2).await.is_ok());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(
            send_one(modify.0, modify.1, modify.2).await.is_err(),
            "expired by itself"
        );
        let sent = wire
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let creates = sent.iter().filter(|a| a.ends_with("CreateService")).count();
        assert_eq!(
            creates, 2,
            "only the unfenced and the open-fence creates: {sent:?}"
        );
        assert!(!sent.iter().any(|a| a.ends_with("ModifyRule")), "{sent:?}");
    }
}
