//! The loop of `run --events`: long-polls the queue (20 s waits, batches of 10), reads
//! each message ([`crate::events::read`]), hands what it says to the controller
//! ([`Event::Notices`]) and, for an object event of the S3 source's bucket and prefix,
//! wakes the source feed; then deletes the batch. A message it cannot read is logged
//! once per shape and deleted too (it would only come back).
//!
//! Only the leader reads the queue (a standby would take messages the leader never
//! sees). A queue that cannot be read is reported ([`Event::Feed`]`(false)`, `/status`,
//! `/readyz`), retried with backoff, and the controller falls back to its short resync
//! until a receive works again.

use std::collections::BTreeSet;
use std::sync::PoisonError;
use std::time::Duration;

use ecsd_aws::queue::{EventQueue, MAX_WAIT, QueueMessage};
use tokio::sync::{mpsc, watch};

use super::Event;
use super::lease::Leading;
use crate::events::read::read;
use crate::events::{EventKind, Notice};
use crate::status::{FeedStatus, SharedStatus, unix_now};

/// How the listener runs.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// The S3 source's bucket and key prefix: its object events fetch the source now.
    pub source: Option<(String, String)>,
    /// With leader election: read the queue only while leading.
    pub leading: Option<Leading>,
    /// The longest wait between receives after failures.
    pub max_backoff: Duration,
}

/// How many distinct unreadable shapes are remembered (each is logged once).
const SHAPES_KEPT: usize = 256;

/// Runs until `shutdown` turns true or the controller goes away.
pub async fn listen<Q: EventQueue>(
    queue: Q,
    opts: ListenOptions,
    events: mpsc::Sender<Event>,
    refresh: mpsc::Sender<()>,
    status: SharedStatus,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener = Listener {
        queue,
        opts,
        events,
        refresh,
        status,
        logged: BTreeSet::new(),
        failures: 0,
        readable: None,
    };
    listener.init();
    let mut leading = listener.opts.leading.clone();
    loop {
        if let Some(l) = leading.as_mut()
            && !*l.borrow_and_update()
        {
            listener.feed(|f| f.standby = true);
            tokio::select! {
                changed = l.changed() => if changed.is_err() { leading = None; },
                _ = shutdown.changed() => return,
            }
            continue;
        }
        listener.feed(|f| f.standby = false);
        let received = tokio::select! {
            r = listener.queue.receive(MAX_WAIT) => r,
            _ = shutdown.changed() => return,
        };
        let alive = match received {
            Ok(messages) => listener.handle(messages).await,
            // This replica stopped leading during the call: the loop waits.
            Err(e) if e.is_fenced() => true,
            Err(e) => {
                let alive = listener.unreadable(e.to_string()).await;
                let wait = listener.backoff();
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => return,
                }
                alive
            }
        };
        if !alive {
            return;
        }
    }
}

struct Listener<Q> {
    queue: Q,
    opts: ListenOptions,
    events: mpsc::Sender<Event>,
    refresh: mpsc::Sender<()>,
    status: SharedStatus,
    /// Unreadable shapes already logged.
    logged: BTreeSet<String>,
    /// Consecutive failed receives.
    failures: u32,
    /// Whether the last receive worked (`None`: none tried yet).
    readable: Option<bool>,
}

impl<Q: EventQueue> Listener<Q> {
    /// The feed's entry in the status, unless the caller made it (with the resync in force).
    fn init(&self) {
        let queue = self.queue.describe();
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.event_feed.get_or_insert_with(|| FeedStatus {
            queue,
            ..FeedStatus::default()
        });
    }

    fn feed(&self, change: impl FnOnce(&mut FeedStatus)) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = status.event_feed.as_mut() {
            change(f);
        }
    }

    /// Reads, hands on and deletes one batch. False when the controller has gone.
    async fn handle(&mut self, messages: Vec<QueueMessage>) -> bool {
        self.failures = 0;
        if self.readable != Some(true) {
            if self.readable == Some(false) {
                tracing::info!(queue = %self.queue.describe(), "the event queue can be read again; the full resync is the backstop again");
            } else {
                tracing::info!(queue = %self.queue.describe(), "reading events from the queue");
            }
            self.readable = Some(true);
            let queue = self.queue.describe();
            {
                let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
                status.errors.retain(|e| !e.contains(&queue));
                if let Some(f) = status.event_feed.as_mut() {
                    f.error = None;
                }
            }
            if self.events.send(Event::Feed(true)).await.is_err() {
                return false;
            }
        }
        if messages.is_empty() {
            return true;
        }
        let mut notices: Vec<Notice> = Vec::new();
        let mut kinds: Vec<EventKind> = Vec::new();
        for m in &messages {
            match read(&m.body) {
                Ok(notice) => {
                    kinds.push(notice.kind);
                    if let Some(object) = &notice.object
                        && let Some((bucket, prefix)) = &self.opts.source
                        && object.bucket == *bucket
                        && object.key.starts_with(prefix.as_str())
                    {
                        // A fetch already pending will see this change too.
                        let _ = self.refresh.try_send(());
                    }
                    tracing::debug!(what = %notice.what, who = notice.who.as_deref().unwrap_or_default(),
                        receive_count = m.receive_count, "event");
                    notices.push(notice);
                }
                Err(unreadable) => {
                    kinds.push(if unreadable.ignored {
                        EventKind::Ignored
                    } else {
                        EventKind::Unknown
                    });
                    if self.logged.len() < SHAPES_KEPT
                        && self.logged.insert(unreadable.shape.clone())
                    {
                        if unreadable.ignored {
                            tracing::info!(shape = %unreadable.shape, reason = %unreadable, "event not acted on (said once per kind of event)");
                        } else {
                            tracing::warn!(shape = %unreadable.shape, reason = %unreadable, message_id = %m.id,
                                "event not understood; deleted (said once per kind of event)");
                        }
                    }
                }
            }
        }
        self.feed(|f| {
            f.last_event_at = Some(unix_now());
            for kind in &kinds {
                *f.received.entry(kind.as_str()).or_default() += 1;
            }
        });
        if !notices.is_empty() && self.events.send(Event::Notices(notices)).await.is_err() {
            return false;
        }
        match self.queue.delete(&messages).await {
            Ok(failed) => {
                if !failed.is_empty() {
                    tracing::warn!(messages = ?failed, "some handled events could not be deleted; they come back and change nothing");
                }
                let deleted = (messages.len() - failed.len()) as u64;
                self.feed(|f| f.deleted += deleted);
            }
            Err(e) => {
                tracing::warn!(error = %e, "handled events could not be deleted; they come back and change nothing")
            }
        }
        true
    }

    /// A receive failed. False when the controller has gone.
    async fn unreadable(&mut self, error: String) -> bool {
        self.failures += 1;
        let queue = self.queue.describe();
        let message = format!("cannot read the event queue {queue}: {error}");
        let first = self.readable != Some(false);
        self.readable = Some(false);
        {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            status.errors.retain(|e| !e.contains(&queue));
            status.errors.push(format!(
                "{message}; resyncing on the short --resync until it can"
            ));
            if let Some(f) = status.event_feed.as_mut() {
                f.error = Some(error.clone());
            }
        }
        if first {
            tracing::error!(queue = %queue, error = %error, "cannot read the event queue; falling back to the short --resync until it can");
            return self.events.send(Event::Feed(false)).await.is_ok();
        }
        true
    }

    /// The wait before the next receive after `failures` failed ones: 1 s doubling to
    /// the maximum, with jitter.
    fn backoff(&self) -> Duration {
        let exp = self.failures.saturating_sub(1).min(16);
        let base = Duration::from_secs(1).saturating_mul(1 << exp);
        let capped = base.min(self.opts.max_backoff);
        capped.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use ecsd_aws::AwsError;
    use serde_json::json;

    use super::*;
    use crate::status::Status;

    /// What one receive answers.
    type Batch = Result<Vec<QueueMessage>, AwsError>;

    /// An in-memory queue: batches to hand out, failures to answer, what was deleted.
    #[derive(Clone, Default)]
    struct Fake {
        batches: Arc<Mutex<VecDeque<Batch>>>,
        deleted: Arc<Mutex<Vec<String>>>,
    }

    impl EventQueue for Fake {
        async fn receive(&self, _wait: Duration) -> Result<Vec<QueueMessage>, AwsError> {
            let next = self.batches.lock().expect("lock").pop_front();
            match next {
                Some(r) => r,
                None => {
                    tokio::time::sleep(Duration::from_secs(20)).await;
                    Ok(Vec::new())
                }
            }
        }

        async fn delete(&self, messages: &[QueueMessage]) -> Result<Vec<String>, AwsError> {
            let mut deleted = self.deleted.lock().expect("lock");
            deleted.extend(messages.iter().map(|m| m.id.clone()));
            Ok(Vec::new())
        }

        fn describe(&self) -> String {
            "https://sqs.us-east-1.amazonaws.com/1/ecsd-events".into()
        }
    }

    fn message(id: &str, body: &serde_json::Value) -> QueueMessage {
        QueueMessage {
            id: id.into(),
            receipt: format!("r-{id}"),
            body: body.to_string(),
            receive_count: 1,
        }
    }

    /// A running listener on `queue`, and what it talks to.
    struct Running {
        status: SharedStatus,
        events: mpsc::Receiver<Event>,
        refresh: mpsc::Receiver<()>,
        _stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
    }

    fn start(queue: &Fake, source: Option<(String, String)>, leading: Option<Leading>) -> Running {
        let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let (events_tx, events) = mpsc::channel(16);
        let (refresh_tx, refresh) = mpsc::channel(1);
        let (stop, shutdown) = watch::channel(false);
        let opts = ListenOptions {
            source,
            leading,
            max_backoff: Duration::from_secs(30),
        };
        let task = tokio::spawn(listen(
            queue.clone(),
            opts,
            events_tx,
            refresh_tx,
            status.clone(),
            shutdown,
        ));
        Running {
            status,
            events,
            refresh,
            _stop: stop,
            task,
        }
    }

    fn down() -> AwsError {
        AwsError::Transport {
            service: "SQS",
            operation: "ReceiveMessage",
            message: "connection refused".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn events_reach_the_controller_and_the_source_every_message_is_deleted_and_an_outage_is_said()
     {
        let queue = Fake::default();
        let upload = json!({"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "manifests"}, "object": {"key": "prod/web.yaml"}}});
        let elsewhere = json!({"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "manifests"}, "object": {"key": "staging/web.yaml"}}});
        let drift = json!({"source": "aws.ecs", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "UpdateService",
                "requestParameters": {"cluster": "prod", "service": "web"}}});
        queue.batches.lock().expect("lock").extend([
            Ok(vec![
                message("1", &drift),
                message("2", &json!({"nonsense": true})),
                message("3", &elsewhere),
            ]),
            Err(down()),
            Err(down()),
            Ok(vec![message("4", &upload)]),
        ]);
        let Running {
            status,
            mut events,
            mut refresh,
            _stop,
            task,
        } = start(&queue, Some(("manifests".into(), "prod/".into())), None);
        assert_eq!(events.recv().await, Some(Event::Feed(true)));
        let Some(Event::Notices(notices)) = events.recv().await else {
            panic!("no notices")
        };
        assert_eq!(
            notices.len(),
            2,
            "the drift and the upload elsewhere: {notices:?}"
        );
        assert!(
            refresh.try_recv().is_err(),
            "another prefix's upload fetches nothing"
        );
        assert_eq!(events.recv().await, Some(Event::Feed(false)));
        {
            let s = status.lock().expect("lock");
            assert!(
                s.errors
                    .iter()
                    .any(|e| e.contains("cannot read the event queue")
                        && e.contains("connection refused")),
                "{:?}",
                s.errors
            );
        }
        assert_eq!(
            events.recv().await,
            Some(Event::Feed(true)),
            "one word per change, not per failure"
        );
        assert!(matches!(events.recv().await, Some(Event::Notices(_))));
        refresh
            .recv()
            .await
            .expect("the source's own upload fetches it");
        assert_eq!(*queue.deleted.lock().expect("lock"), ["1", "2", "3", "4"]);
        let s = status.lock().expect("lock");
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        let feed = s.event_feed.as_ref().expect("feed");
        assert_eq!(feed.deleted, 4);
        assert_eq!(feed.received.get("unknown"), Some(&1));
        assert_eq!(feed.received.get("cloudtrail_api_call"), Some(&1));
        assert_eq!(feed.received.get("s3_object"), Some(&2));
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_standby_leaves_the_queue_to_the_leader() {
        let queue = Fake::default();
        queue
            .batches
            .lock()
            .expect("lock")
            .push_back(Ok(vec![message("1", &json!({}))]));
        let (lead, leading) = watch::channel(false);
        let Running {
            status,
            mut events,
            _stop,
            task,
            ..
        } = start(&queue, None, Some(leading));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            queue.deleted.lock().expect("lock").is_empty(),
            "a standby took a message"
        );
        assert!(
            status
                .lock()
                .expect("lock")
                .event_feed
                .as_ref()
                .is_some_and(|f| f.standby)
        );
        lead.send(true).expect("send");
        assert_eq!(events.recv().await, Some(Event::Feed(true)));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(*queue.deleted.lock().expect("lock"), ["1"]);
        task.abort();
    }
}
