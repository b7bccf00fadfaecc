//! What the controller tells people (`run --notify`): every status change goes
//! through [`crate::notify::object_changes`], a revision's state through
//! [`crate::notify::RevisionWatch`]; only the leader hands them to the notifier, and
//! only after scrubbing environment values from their text. A standby keeps the same
//! memory, so a new leader does not repeat what the old one told.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{ObjectKey, Spec};

use super::{Controller, DriftMode};
use crate::notify::changes::ObjectMemory;
use crate::notify::{
    Event, Notification, Notifier, ObjectContext, RevisionWatch, Scrubber, object_changes,
};
use crate::status::{ObjectStatus, SyncStatus, now_rfc3339};

/// The controller's notification state.
#[derive(Debug, Default)]
pub(super) struct Telling {
    memory: ObjectMemory,
    watch: RevisionWatch,
    scrubber: Scrubber,
    /// Who last changed each object, from events (CloudTrail's user).
    by: BTreeMap<ObjectKey, String>,
    /// The current snapshot's unreadable files.
    file_errors: Vec<String>,
    /// Health is being judged again from the last pass's observation.
    refreshing: bool,
}

pub(super) type SharedTelling = Mutex<Telling>;

impl<E, L, S, D, W> Controller<E, L, S, D, W>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    fn telling(&self) -> std::sync::MutexGuard<'_, Telling> {
        self.telling.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notifier(&self) -> Option<&Arc<dyn Notifier>> {
        self.opts.notifier.as_ref().filter(|_| self.leading)
    }

    fn send(&self, scrubber: &Scrubber, n: Notification) {
        if let Some(notifier) = self.notifier() {
            let n = scrubber.notification(n);
            tracing::debug!(event = n.event.as_str(), summary = %n.summary, "notify");
            notifier.send(&n);
        }
    }

    /// An object's status changes from `prev` to `next` (`event`: what the job did).
    pub(super) fn tell_change(
        &self,
        key: &ObjectKey,
        prev: Option<&ObjectStatus>,
        next: &ObjectStatus,
        event: Option<&str>,
    ) {
        if self.opts.notifier.is_none() {
            return;
        }
        let record = self.records.get(key);
        let approve = record
            .and_then(|r| r.desired.as_deref())
            .and_then(|m| match &m.spec {
                Spec::Service(svc) => svc.deployment.approve.as_deref(),
                _ => None,
            });
        let drift_corrected = event == Some("drift corrected");
        let drift_reported = self.opts.drift == DriftMode::Report
            && record.is_some_and(|r| r.desired.is_some() && !r.manifest_changed());
        let at = now_rfc3339();
        let mut t = self.telling();
        let by = t.by.get(key).cloned();
        let ctx = ObjectContext {
            revision: &self.revision,
            at: &at,
            drift_corrected,
            drift_reported,
            by: by.as_deref(),
            approve,
        };
        // What ecsd changed (created, updated, drift corrected, ...) is judged only
        // once AWS is read again.
        match event {
            Some("awaiting approval") => {}
            Some(_) if next.sync == SyncStatus::Synced => t.watch.changed(key),
            Some(_) => {}
            None if !t.refreshing => t.watch.observed(key),
            None => {}
        }
        let told = object_changes(&mut t.memory, key, prev, next, &ctx);
        if drift_corrected {
            t.by.remove(key);
        }
        for n in told {
            self.send(&t.scrubber, n);
        }
    }

    /// Between [`Self::refreshing`]`(true)` and `(false)`, statuses set come from the
    /// last pass's observation, not a new read.
    pub(super) fn refreshing(&self, on: bool) {
        self.telling().refreshing = on;
    }

    /// An event from AWS said who changed these objects.
    pub(super) fn remember_who(&self, keys: &[ObjectKey], who: &str) {
        let mut t = self.telling();
        for key in keys {
            t.by.insert(key.clone(), who.to_owned());
        }
    }

    /// A snapshot was read: a new revision is pending (a commit status), its
    /// unreadable files fail it; values to scrub come from its manifests.
    pub(super) fn tell_snapshot(&self, file_errors: &[String]) {
        let Some(notifier) = &self.opts.notifier else {
            return;
        };
        let at = now_rfc3339();
        let scrubber = Scrubber::of(self.records.values().filter_map(|r| r.desired.as_deref()));
        let mut t = self.telling();
        t.scrubber = scrubber;
        t.file_errors = file_errors.to_vec();
        let keys: Vec<ObjectKey> = t.memory.keys();
        for key in keys.iter().filter(|k| !self.records.contains_key(*k)) {
            t.memory.forget(key);
            t.watch.forget(key);
        }
        if let Some(c) = t.watch.begin(&self.revision)
            && self.leading
        {
            notifier.commit(&c);
        }
        if let Some(n) = t.watch.source_errors(file_errors, &at) {
            self.send(&t.scrubber, n);
        }
    }

    /// A full pass has judged every object of the current revision.
    pub(super) fn tell_pass_done(&self) {
        if self.opts.notifier.is_some() {
            self.telling().watch.looked();
            self.tell_revision();
        }
    }

    /// The revision's state from every object's status, told when it changed.
    pub(super) fn tell_revision(&self) {
        let Some(notifier) = &self.opts.notifier else {
            return;
        };
        let at = now_rfc3339();
        let mut t = self.telling();
        let errors = t.file_errors.clone();
        let (commit, applied) = {
            let status = self.lock();
            t.watch.judge(&status.objects, &errors, &at)
        };
        if let Some(c) = commit
            && self.leading
        {
            tracing::debug!(revision = %c.revision, state = c.state.as_str(), "commit status");
            notifier.commit(&c);
        }
        if let Some(n) = applied {
            self.send(&t.scrubber, n);
        }
    }

    /// Something about the controller itself (leadership, the event feed).
    pub(super) fn tell_controller(&self, event: Event, summary: String) {
        let n = Notification {
            event,
            at: now_rfc3339(),
            revision: self.revision.clone(),
            subject: None,
            summary,
            error_code: None,
            by: None,
            pause: None,
            analysis: None,
        };
        let scrubber = self.telling().scrubber.clone();
        self.send(&scrubber, n);
    }
}
