//! What the loop does with the event feed (`run --events`): the objects an event names
//! are queued now, a deployment's event starts a full pass, and the full resync in
//! force depends on whether the queue can be read.

use std::collections::BTreeSet;
use std::time::Duration;

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::ObjectKey;
use tokio::time::Instant;

use super::{Controller, DriftMode};
use crate::events::Notice;
use crate::events::affect::affected;
use crate::notify::Event;

/// An event's objects are reconciled this long after it arrives, so a burst of events
/// about one object (duplicates, one call's several events) costs one reconcile.
const EVENT_SETTLE: Duration = Duration::from_millis(200);

impl<E, L, S, D, W> Controller<E, L, S, D, W>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    /// The full resync in force now.
    pub(super) fn resync(&self) -> Duration {
        match self.opts.backstop {
            Some(backstop) if self.feed_up => backstop,
            _ => self.opts.resync,
        }
    }

    /// The event queue became readable (`true`) or unreadable.
    pub(super) fn set_feed(&mut self, up: bool) {
        if !up && (self.feed_up || !self.feed_seen) {
            self.tell_controller(
                Event::ControllerFeedLost,
                format!(
                    "the event queue cannot be read: falling back to a full resync every {}s",
                    self.opts.resync.as_secs()
                ),
            );
        }
        self.feed_seen = true;
        self.feed_up = up;
        let resync = self.resync();
        if let Some(f) = self.lock().event_feed.as_mut() {
            f.resync = resync;
        }
        tracing::info!(
            resync_s = resync.as_secs(),
            "full resync every {}s",
            resync.as_secs()
        );
    }

    /// Events arrived: the objects they name are queued now (unless already queued, or
    /// backing off after a failure: an event does not cut a backoff short). True when
    /// a full pass should come now: a deployment moved (its pause, progress or rollback
    /// shows at once), or drift is only reported (a pass shows it).
    pub(super) fn hear(&mut self, notices: Vec<Notice>) -> bool {
        let manifests = self.desired();
        let mut keys: BTreeSet<ObjectKey> = BTreeSet::new();
        let mut deployment = false;
        for n in &notices {
            let concerned = affected(manifests.iter().map(|m| &**m), &n.resources);
            deployment |= n.deployment && !concerned.is_empty();
            if !concerned.is_empty() {
                let objects: Vec<String> = concerned.iter().map(ToString::to_string).collect();
                if let Some(who) = &n.who {
                    let keys: Vec<ObjectKey> = concerned.iter().cloned().collect();
                    self.remember_who(&keys, who);
                }
                tracing::info!(event = %n.what, by = n.who.as_deref().unwrap_or_default(), objects = %objects.join(", "),
                    "event: looking at its objects now");
            }
            keys.extend(concerned);
        }
        if !self.leading || keys.is_empty() {
            return false;
        }
        if self.opts.drift == DriftMode::Report {
            return true;
        }
        let due = Instant::now() + EVENT_SETTLE;
        for key in keys {
            let reconcilable = self
                .records
                .get(&key)
                .is_some_and(|r| r.desired.is_some() && r.invalid.is_none());
            if reconcilable && self.queue.due(&key).is_none() {
                self.queue.schedule(key, due);
            }
        }
        deployment
    }
}
