//! Delivery: a bounded queue and one sender task per target, so reconciling never
//! waits for a receiver and messages reach each receiver in the order they happened.
//! A 429, 408 or 5xx answer, or none at all, is retried with exponential backoff and
//! full jitter (or after the receiver's `Retry-After`), for up to [`RETRY_WINDOW`];
//! any other 4xx is a rejection, told once in the log. Counters go to the shared status
//! (`/status` `notifications`, `ecsd_notifications_total{target,outcome}`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use ecsd_runtime::notify::{CommitState, Notification, Notifier, TargetStats};
use ecsd_runtime::status::SharedStatus;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::{Outgoing, Post};
use crate::target::{Kind, Target};
use crate::webhook::{self, Context};
use crate::{github, slack};

/// Messages waiting per target unless `--notify-queue` says otherwise; past it, new
/// ones are dropped (and counted).
pub const QUEUE_MAX: usize = 1000;
/// How long a message is retried before it is dropped (and counted).
pub const RETRY_WINDOW: Duration = Duration::from_secs(60 * 60);
/// The first retry's ceiling; it doubles per attempt up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured as given.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(15 * 60);

/// What delivery needs beyond the targets.
#[derive(Clone)]
pub struct Settings {
    pub context: Option<Context>,
    /// `ECSD_NOTIFY_SECRET`: signs webhook bodies.
    pub secret: Option<Vec<u8>>,
    /// `ECSD_GITHUB_TOKEN`: authorises commit statuses.
    pub github_token: Option<String>,
    /// Messages kept waiting per target (`--notify-queue`).
    pub queue_max: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            context: None,
            secret: None,
            github_token: None,
            queue_max: QUEUE_MAX,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("context", &self.context.as_ref().map(|c| &c.owner))
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field(
                "github_token",
                &self.github_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

struct Item {
    request: Outgoing,
    what: &'static str,
    queued_at: Instant,
}

/// One target's queue and the task that empties it.
struct Lane {
    target: Target,
    queue: Mutex<VecDeque<Item>>,
    wake: Notify,
}

/// Hands notifications to every target's queue; implements the runtime's [`Notifier`].
pub struct Dispatcher {
    lanes: Vec<Arc<Lane>>,
    settings: Settings,
    status: SharedStatus,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let targets: Vec<&str> = self.lanes.iter().map(|l| l.target.label.as_str()).collect();
        f.debug_struct("Dispatcher")
            .field("targets", &targets)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// Starts one sender per target on the current runtime.
    pub fn start<P: Post + Clone>(
        targets: Vec<Target>,
        settings: Settings,
        status: SharedStatus,
        post: P,
    ) -> Arc<Self> {
        let lanes: Vec<Arc<Lane>> = targets
            .into_iter()
            .map(|target| {
                Arc::new(Lane {
                    target,
                    queue: Mutex::new(VecDeque::new()),
                    wake: Notify::new(),
                })
            })
            .collect();
        {
            let mut s = status.lock().unwrap_or_else(PoisonError::into_inner);
            for lane in &lanes {
                s.notifications.insert(
                    lane.target.label.clone(),
                    TargetStats {
                        kind: lane.target.kind.as_str(),
                        ..TargetStats::default()
                    },
                );
            }
        }
        for lane in &lanes {
            tokio::spawn(send_loop(Arc::clone(lane), status.clone(), post.clone()));
        }
        Arc::new(Dispatcher {
            lanes,
            settings,
            status,
        })
    }

    fn enqueue(&self, lane: &Lane, request: Outgoing, what: &'static str) {
        let mut queue = lane.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= self.settings.queue_max {
            drop(queue);
            tracing::warn!(target_name = %lane.target.label, what, queued = self.settings.queue_max, "notification dropped: the queue is full");
            count(&self.status, &lane.target, "dropped", None);
            return;
        }
        queue.push_back(Item {
            request,
            what,
            queued_at: Instant::now(),
        });
        let queued = queue.len();
        drop(queue);
        set_queued(&self.status, &lane.target, queued);
        lane.wake.notify_one();
    }

    fn context(&self) -> Context {
        self.settings.context.clone().unwrap_or(Context {
            owner: String::new(),
            public_url: None,
        })
    }
}

impl Notifier for Dispatcher {
    fn send(&self, n: &Notification) {
        let ctx = self.context();
        for lane in &self.lanes {
            let body = match lane.target.kind {
                Kind::Slack => slack::body(&ctx, n),
                Kind::Webhook => webhook::body(&ctx, n),
                Kind::GitHub => continue,
            };
            let body = Bytes::from(body.to_string());
            let mut headers = vec![
                ("content-type", "application/json".to_owned()),
                ("user-agent", user_agent()),
            ];
            if lane.target.kind == Kind::Webhook {
                headers.push(("x-ecsd-event", n.event.as_str().to_owned()));
                headers.push(("x-ecsd-delivery", webhook::id(&ctx, n)));
                if let Some(secret) = &self.settings.secret {
                    headers.push(("x-ecsd-signature", webhook::signature(secret, &body)));
                }
            }
            let request = Outgoing {
                uri: lane.target.url.clone(),
                headers,
                body,
            };
            self.enqueue(lane, request, n.event.as_str());
        }
    }

    fn commit(&self, c: &CommitState) {
        let ctx = self.context();
        for lane in self.lanes.iter().filter(|l| l.target.kind == Kind::GitHub) {
            let Some(repo) = &lane.target.repo else {
                continue;
            };
            let Some(path) = github::path(repo, c) else {
                tracing::debug!(target_name = %lane.target.label, revision = %c.revision, "no commit status: the revision is not a git commit");
                continue;
            };
            let Ok(uri) = format!("{}{path}", lane.target.url).parse() else {
                continue;
            };
            let mut headers = vec![
                ("content-type", "application/json".to_owned()),
                ("accept", "application/vnd.github+json".to_owned()),
                ("x-github-api-version", "2022-11-28".to_owned()),
                ("user-agent", user_agent()),
            ];
            if let Some(token) = &self.settings.github_token {
                headers.push(("authorization", format!("Bearer {token}")));
            }
            let body = Bytes::from(github::body(&ctx, c).to_string());
            self.enqueue(lane, Outgoing { uri, headers, body }, c.state.as_str());
        }
    }
}

fn user_agent() -> String {
    format!("ecsd/{}", env!("CARGO_PKG_VERSION"))
}

/// Sends a lane's messages in order, each until it is delivered, refused or too old.
async fn send_loop<P: Post>(lane: Arc<Lane>, status: SharedStatus, post: P) {
    loop {
        let head = {
            let queue = lane.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue
                .front()
                .map(|i| (i.request.clone(), i.what, i.queued_at))
        };
        let Some((request, what, queued_at)) = head else {
            lane.wake.notified().await;
            continue;
        };
        let outcome = deliver(&lane.target, &status, &post, request, what, queued_at).await;
        count(&status, &lane.target, outcome, None);
        let queued = {
            let mut queue = lane.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.pop_front();
            queue.len()
        };
        set_queued(&status, &lane.target, queued);
    }
}

/// Tries one message until it is delivered (`sent`), refused (`rejected`) or older
/// than the retry window (`dropped`); each failed attempt is counted as `retried`.
async fn deliver<P: Post>(
    target: &Target,
    status: &SharedStatus,
    post: &P,
    request: Outgoing,
    what: &'static str,
    queued_at: Instant,
) -> &'static str {
    let mut attempt: u32 = 0;
    loop {
        let (error, retry_after) = match post.post(request.clone()).await {
            Ok(a) if (200..300).contains(&a.status) => {
                tracing::debug!(target_name = %target.label, what, status = a.status, "notification sent");
                return "sent";
            }
            Ok(a) if a.status == 429 || a.status == 408 || a.status >= 500 => {
                (format!("HTTP {}", a.status), a.retry_after)
            }
            Ok(a) => {
                tracing::warn!(target_name = %target.label, what, status = a.status, "notification refused by the receiver; not retried");
                count(
                    status,
                    target,
                    "",
                    Some(format!("HTTP {}: refused", a.status)),
                );
                return "rejected";
            }
            Err(e) => (e, None),
        };
        let delay = retry_after
            .map(|d| d.min(RETRY_AFTER_MAX))
            .unwrap_or_else(|| backoff(attempt));
        if queued_at.elapsed() + delay > RETRY_WINDOW {
            tracing::warn!(target_name = %target.label, what, error = %error, "notification dropped: not delivered within the retry window");
            count(status, target, "", Some(error));
            return "dropped";
        }
        tracing::info!(target_name = %target.label, what, error = %error, retry_in_s = delay.as_secs_f64(), "notification not delivered; retrying");
        count(status, target, "retried", Some(error));
        tokio::time::sleep(delay).await;
        attempt = attempt.saturating_add(1);
    }
}

/// Full jitter: uniform in [0, min(max, min * 2^attempt)].
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_MIN
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_MAX);
    ceiling.mul_f64(fastrand::f64())
}

fn count(status: &SharedStatus, target: &Target, outcome: &'static str, error: Option<String>) {
    let mut s = status.lock().unwrap_or_else(PoisonError::into_inner);
    let stats = s.notifications.entry(target.label.clone()).or_default();
    stats.kind = target.kind.as_str();
    if !outcome.is_empty() {
        *stats.outcomes.entry(outcome).or_default() += 1;
    }
    if error.is_some() {
        stats.last_error = error;
    }
}

fn set_queued(status: &SharedStatus, target: &Target, queued: usize) {
    let mut s = status.lock().unwrap_or_else(PoisonError::into_inner);
    s.notifications
        .entry(target.label.clone())
        .or_default()
        .queued = queued;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Answer;
    use ecsd_runtime::notify::Event;
    use ecsd_runtime::status::Status;

    /// A receiver that answers from a script (then 200), and records every attempt.
    #[derive(Clone, Default)]
    struct Script {
        answers: Arc<Mutex<VecDeque<Result<Answer, String>>>>,
        seen: Arc<Mutex<Vec<(Instant, Outgoing)>>>,
        /// Never answers (each attempt waits for the client's deadline).
        silent: bool,
    }

    impl Script {
        fn answering(answers: Vec<Result<Answer, String>>) -> Self {
            Script {
                answers: Arc::new(Mutex::new(answers.into())),
                ..Script::default()
            }
        }
        fn seen(&self) -> Vec<(Instant, Outgoing)> {
            self.seen.lock().expect("lock").clone()
        }
    }

    impl Post for Script {
        async fn post(&self, req: Outgoing) -> Result<Answer, String> {
            self.seen.lock().expect("lock").push((Instant::now(), req));
            if self.silent {
                tokio::time::sleep(crate::client::REQUEST_TIMEOUT).await;
                return Err("no answer within 10s".to_owned());
            }
            let next = self.answers.lock().expect("lock").pop_front();
            next.unwrap_or(Ok(ok(200)))
        }
    }

    fn ok(status: u16) -> Answer {
        Answer {
            status,
            retry_after: None,
        }
    }

    fn note(summary: &str) -> Notification {
        Notification {
            event: Event::DriftCorrected,
            at: "2026-12-04T10:00:00Z".to_owned(),
            revision: "r1".to_owned(),
            subject: None,
            summary: summary.to_owned(),
            error_code: None,
            by: None,
            pause: None,
            analysis: None,
        }
    }

    fn webhook() -> Target {
        Target::parse("webhook+http://127.0.0.1:9/hook", crate::target::GITHUB_API)
            .expect("a loopback webhook")
    }

    fn stats(status: &SharedStatus) -> TargetStats {
        status.lock().expect("lock").notifications["webhook:http://127.0.0.1:9"].clone()
    }

    /// Lets the sender tasks run until they wait on time or on the queue.
    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    fn summaries(seen: &[(Instant, Outgoing)]) -> Vec<String> {
        seen.iter()
            .map(|(_, o)| {
                let v: serde_json::Value = serde_json::from_slice(&o.body).expect("JSON");
                v["summary"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }

    fn settings() -> Settings {
        Settings {
            context: Some(Context {
                owner: "shop".to_owned(),
                public_url: None,
            }),
            secret: Some(b"s3cret-key".to_vec()),
            github_token: None,
            queue_max: QUEUE_MAX,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn server_errors_are_retried_in_order_and_each_message_arrives_once() {
        let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let post = Script::answering(vec![Ok(ok(500)), Ok(ok(503)), Ok(ok(429))]);
        let d = Dispatcher::start(vec![webhook()], settings(), status.clone(), post.clone());
        d.send(&note("first"));
        d.send(&note("second"));
        settle().await;
        tokio::time::sleep(Duration::from_secs(120)).await;
        settle().await;

        let seen = post.seen();
        // Three failed attempts of the first, then each once, in order.
        assert_eq!(
            summaries(&seen),
            ["first", "first", "first", "first", "second"]
        );
        let s = stats(&status);
        assert_eq!(s.outcomes.get("sent"), Some(&2));
        assert_eq!(s.outcomes.get("retried"), Some(&3));
        assert_eq!(s.outcomes.get("dropped"), None);
        assert_eq!(s.queued, 0);
        assert_eq!(s.last_error.as_deref(), Some("HTTP 429"));
        // Every attempt carries the same body and a signature of it.
        for (_, o) in &seen[..4] {
            assert_eq!(o.body, seen[0].1.body);
            let sig = o.headers.iter().find(|(n, _)| *n == "x-ecsd-signature");
            assert_eq!(
                sig.map(|(_, v)| v.clone()),
                Some(webhook::signature(b"s3cret-key", &o.body))
            );
        }
        // Backoff grows but stays within its ceilings (full jitter: 0..1 s, 0..2 s, 0..4 s).
        for (i, pair) in seen[..4].windows(2).enumerate() {
            let gap = pair[1].0 - pair[0].0;
            assert!(gap <= BACKOFF_MIN * (1 << i), "retry {i} after {gap:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured() {
        let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let post = Script::answering(vec![Ok(Answer {
            status: 429,
            retry_after: Some(Duration::from_secs(90)),
        })]);
        let d = Dispatcher::start(vec![webhook()], settings(), status.clone(), post.clone());
        d.send(&note("only"));
        settle().await;
        tokio::time::sleep(Duration::from_secs(89)).await;
        settle().await;
        assert_eq!(post.seen().len(), 1, "sent again before Retry-After");
        tokio::time::sleep(Duration::from_secs(2)).await;
        settle().await;
        let seen = post.seen();
        assert_eq!(seen.len(), 2);
        assert!(seen[1].0 - seen[0].0 >= Duration::from_secs(90));
        assert_eq!(stats(&status).outcomes.get("sent"), Some(&1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_error_is_rejected_once_and_the_next_message_goes() {
        let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let post = Script::answering(vec![Ok(ok(404))]);
        let d = Dispatcher::start(vec![webhook()], settings(), status.clone(), post.clone());
        d.send(&note("refused"));
        d.send(&note("next"));
        settle().await;
        assert_eq!(summaries(&post.seen()), ["refused", "next"]);
        let s = stats(&status);
        assert_eq!(s.outcomes.get("rejected"), Some(&1));
        assert_eq!(s.outcomes.get("sent"), Some(&1));
        assert_eq!(s.outcomes.get("retried"), None);
        assert_eq!(s.last_error.as_deref(), Some("HTTP 404: refused"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_receiver_fills_a_bounded_queue_and_drops_are_counted() {
        let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let post = Script {
            silent: true,
            ..Script::default()
        };
        let d = Dispatcher::start(vec![webhook()], settings(), status.clone(), post.clone());
        for i in 0..QUEUE_MAX + 25 {
            d.send(&note(&format!("n{i}")));
        }
        settle().await;
        let s = stats(&status);
        assert_eq!(s.queued, QUEUE_MAX);
        assert_eq!(s.outcomes.get("dropped"), Some(&25));

        // After the retry window the head is given up (and counted); the rest waits.
        tokio::time::sleep(RETRY_WINDOW + Duration::from_secs(60)).await;
        settle().await;
        let s = stats(&status);
        assert!(s.outcomes.get("dropped") > Some(&25), "{s:?}");
        assert!(s.queued < QUEUE_MAX);
        assert!(!s.outcomes.contains_key("sent"));
    }

    #[tokio::test(start_paused = true)]
    async fn github_statuses_go_to_the_commit_with_the_token() {
        let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let post = Script::default();
        let gh = Target::parse("github://acme/shop", "http://127.0.0.1:9/api").expect("github");
        let mut settings = settings();
        settings.github_token = Some("ghp_token".to_owned());
        let d = Dispatcher::start(vec![gh, webhook()], settings, status.clone(), post.clone());
        let sha = "0123456789abcdef0123456789abcdef01234567";
        d.commit(&CommitState {
            revision: sha.to_owned(),
            state: ecsd_runtime::notify::CommitStatus::Pending,
            description: "applying".to_owned(),
        });
        // A revision that is not a commit (a folder's digest) gets no status.
        d.commit(&CommitState {
            revision: "folder:abc".to_owned(),
            state: ecsd_runtime::notify::CommitStatus::Success,
            description: "applied".to_owned(),
        });
        settle().await;
        let seen = post.seen();
        assert_eq!(seen.len(), 1, "only the commit, only to GitHub");
        let o = &seen[0].1;
        assert_eq!(
            o.uri.to_string(),
            format!("http://127.0.0.1:9/api/repos/acme/shop/statuses/{sha}")
        );
        assert!(
            o.headers
                .iter()
                .any(|(n, v)| *n == "authorization" && v == "Bearer ghp_token")
        );
        let v: serde_json::Value = serde_json::from_slice(&o.body).expect("JSON");
        assert_eq!(v["state"], "pending");
        assert_eq!(v["context"], "ecsd/shop");
        assert!(!String::from_utf8_lossy(&o.body).contains("ghp_token"));
    }
}
