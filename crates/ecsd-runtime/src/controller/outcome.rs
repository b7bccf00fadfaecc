//! What a finished job changes: the reconcile counters, the object's status and history,
//! its record, and when it is queued again (a retry after backoff, a look after a wait).

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{Kind, ObjectKey};
use ecsd_plan::Action;
use tokio::time::Instant;

use super::job::{Failure, Outcome, WorkResult};
use super::{Controller, WAITING_RECHECK};
use crate::status::details;
use crate::status::{Health, HistoryEntry, ReconcileResult, SyncStatus, now_rfc3339};

impl<E, L, S, D, W> Controller<E, L, S, D, W>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    /// Takes a worker's result: the counters, then what its outcome means for the
    /// object's status, record and queue.
    pub(super) fn finish(&mut self, r: WorkResult) {
        self.queue.done(&r.key);
        if matches!(&r.outcome, Outcome::Failed(f) if f.fenced()) {
            // Not this object's failure: the next leader reconciles it.
            tracing::debug!(kind = %r.key.kind, name = %r.key.name, "change not sent: this replica no longer leads");
            return;
        }
        self.count(&r);
        match r.outcome {
            Outcome::Done(action) => self.finished(&r.key, action, r.drift),
            Outcome::Waiting(reason) => self.waiting(&r.key, reason),
            Outcome::Failed(f) => self.failed(&r.key, &f),
        }
        self.tell_revision();
    }

    /// The reconcile counters and durations of `/metrics`.
    fn count(&self, r: &WorkResult) {
        let result = if matches!(r.outcome, Outcome::Failed(_)) {
            ReconcileResult::Error
        } else {
            ReconcileResult::Success
        };
        let mut status = self.lock();
        *status.reconciles.entry((r.key.kind, result)).or_default() += 1;
        status
            .durations
            .entry(r.key.kind)
            .or_default()
            .observe(r.elapsed);
    }

    /// The object's change went through (`None`: there was nothing to do).
    fn finished(&mut self, key: &ObjectKey, action: Option<Action>, drift: bool) {
        let mut next = self.current(key);
        if action == Some(Action::Delete) {
            tracing::info!(kind = %key.kind, name = %key.name, revision = %self.revision, "deleted");
            self.lock().objects.remove(key);
            if self
                .records
                .get(key)
                .is_some_and(|rec| rec.desired.is_none())
            {
                self.records.remove(key);
            }
            return;
        }
        let invalid = self.records.get_mut(key).map(|rec| {
            rec.applied = rec.desired.clone();
            rec.invalid.is_some()
        });
        next.sync = if invalid == Some(true) {
            SyncStatus::Error
        } else {
            SyncStatus::Synced
        };
        next.error_code = None;
        next.failures = 0;
        next.backoff_seconds = 0.0;
        if action == Some(Action::Update) {
            // The pause may have been acted on; the next look shows any still there.
            next.awaiting_approval = None;
        }
        if key.kind == Kind::Service && action.is_some() {
            self.recheck_soon = true;
        }
        let event = match action {
            Some(Action::Create) => Some("created"),
            Some(Action::Update) if drift => Some("drift corrected"),
            Some(Action::Update) => Some("updated"),
            _ => None,
        };
        if next.sync == SyncStatus::Synced {
            next.message = action.map_or("in sync", Action::past_tense).to_owned();
            next.diff.clear();
        }
        if let Some(what) = event {
            details::remember(
                &mut next.history,
                HistoryEntry {
                    at: now_rfc3339(),
                    revision: self.revision.clone(),
                    action: what.to_owned(),
                    result: "applied".to_owned(),
                },
            );
        }
        self.set(key, next, event);
    }

    /// AWS cannot do the object's next step yet: look again soon.
    fn waiting(&mut self, key: &ObjectKey, reason: String) {
        let mut next = self.current(key);
        next.sync = SyncStatus::OutOfSync;
        next.health = Health::Progressing;
        next.message = reason;
        self.set(key, next, None);
        if self
            .records
            .get(key)
            .is_some_and(|rec| rec.desired.is_some())
        {
            self.queue
                .schedule(key.clone(), Instant::now() + WAITING_RECHECK);
        }
    }

    /// The object's reconcile failed: back off, harder when AWS throttles.
    fn failed(&mut self, key: &ObjectKey, f: &Failure) {
        let mut next = self.current(key);
        let Some(record) = self.records.get(key) else {
            return;
        };
        // The status keeps the count of consecutive failures (the record does not).
        let failures = next.failures + 1;
        let desired = record.desired.is_some();
        let delay = self.opts.backoff.jittered(failures, f.throttled());
        next.sync = SyncStatus::Error;
        next.message = f.message();
        next.error_code = f.code().map(str::to_owned);
        next.failures = failures;
        next.backoff_seconds = delay.as_secs_f64();
        // One entry per failure and revision, not one per retry.
        let result = format!(
            "failed: {}{}",
            f.code().map(|c| format!("{c}: ")).unwrap_or_default(),
            next.message
        );
        let repeated = next
            .history
            .back()
            .is_some_and(|h| h.revision == self.revision && h.result == result);
        if !repeated {
            details::remember(
                &mut next.history,
                HistoryEntry {
                    at: now_rfc3339(),
                    revision: self.revision.clone(),
                    action: "apply".to_owned(),
                    result,
                },
            );
        }
        self.set(key, next, None);
        // A failed deletion is planned again by the next pass.
        if desired {
            self.queue.schedule(key.clone(), Instant::now() + delay);
        }
    }
}
