//! A revision's overall state: `pending` from the moment it is read, `failure` while
//! any object fails (with the first error), `success` once every object is Synced and
//! Healthy. Each change of that state is a commit status; the first success of a
//! revision is also the `revision.applied` notification.

use std::collections::{BTreeMap, BTreeSet};

use ecsd_model::ObjectKey;

use super::{CommitState, CommitStatus, Event, Notification};
use crate::status::{Health, ObjectStatus, SyncStatus};

/// GitHub's limit on a status's description.
const DESCRIPTION_MAX: usize = 140;

/// The state of the revision being applied, and what was told of it.
#[derive(Debug, Default)]
pub struct RevisionWatch {
    revision: String,
    /// A full pass has looked at every object since the revision was read: before
    /// that, statuses still describe the previous revision.
    looked: bool,
    told: Option<CommitStatus>,
    applied: bool,
    /// Objects ecsd changed and has not read back since.
    stale: BTreeSet<ObjectKey>,
    /// The source's file errors were told for this revision.
    errors_told: bool,
}

impl RevisionWatch {
    /// A new revision was read: it is pending.
    pub fn begin(&mut self, revision: &str) -> Option<CommitState> {
        if revision == self.revision || revision.is_empty() {
            return None;
        }
        *self = RevisionWatch {
            revision: revision.to_owned(),
            stale: std::mem::take(&mut self.stale),
            ..RevisionWatch::default()
        };
        self.told = Some(CommitStatus::Pending);
        Some(CommitState {
            revision: revision.to_owned(),
            state: CommitStatus::Pending,
            description: "ecsd is applying this revision".to_owned(),
        })
    }

    /// A full pass judged every object of the current revision.
    pub fn looked(&mut self) {
        self.looked = true;
    }

    /// ecsd just changed the object: its health is what it was before the change (a
    /// deployment an update starts shows only when AWS is read again), so the revision
    /// is not judged until the object is observed again.
    pub fn changed(&mut self, key: &ObjectKey) {
        self.stale.insert(key.clone());
    }

    /// The object's status comes from reading AWS again.
    pub fn observed(&mut self, key: &ObjectKey) {
        self.stale.remove(key);
    }

    /// The object is gone from the source.
    pub fn forget(&mut self, key: &ObjectKey) {
        self.stale.remove(key);
    }

    /// The source's files that cannot be read in this revision: `revision.failed`,
    /// once per revision.
    pub fn source_errors(&mut self, errors: &[String], at: &str) -> Option<Notification> {
        let first = errors.first()?;
        if self.errors_told || self.revision.is_empty() {
            return None;
        }
        self.errors_told = true;
        Some(Notification {
            event: Event::RevisionFailed,
            at: at.to_owned(),
            revision: self.revision.clone(),
            subject: None,
            summary: format!("revision {} has invalid files: {first}", self.revision),
            error_code: None,
            by: None,
            pause: None,
            analysis: None,
        })
    }

    /// The revision's state from the objects' statuses and the source's file errors:
    /// the commit status when it changed, and `revision.applied` the first time it
    /// succeeds.
    pub fn judge(
        &mut self,
        objects: &BTreeMap<ObjectKey, ObjectStatus>,
        errors: &[String],
        at: &str,
    ) -> (Option<CommitState>, Option<Notification>) {
        if !self.looked || self.revision.is_empty() || !self.stale.is_empty() {
            return (None, None);
        }
        let failed = objects.iter().find(|(_, o)| o.sync == SyncStatus::Error);
        let done = objects
            .values()
            .all(|o| o.sync == SyncStatus::Synced && o.health == Health::Healthy);
        let (state, description) = match failed {
            _ if !errors.is_empty() => (CommitStatus::Failure, errors[0].clone()),
            Some((key, o)) => {
                let code = o
                    .error_code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default();
                (
                    CommitStatus::Failure,
                    format!("{} {}: {code}{}", key.kind, key.name, o.message),
                )
            }
            None if done => (
                CommitStatus::Success,
                format!("{} objects Synced and Healthy", objects.len()),
            ),
            None => (
                CommitStatus::Pending,
                "ecsd is applying this revision".to_owned(),
            ),
        };
        // A verdict stands until the next one: retries after a failure, drift and its
        // correction after success do not make the commit pending again.
        let settled = state == CommitStatus::Pending && self.told.is_some();
        let commit = (self.told != Some(state) && !settled).then(|| {
            self.told = Some(state);
            CommitState {
                revision: self.revision.clone(),
                state,
                description: shorten(&description, DESCRIPTION_MAX),
            }
        });
        let applied = (state == CommitStatus::Success && !self.applied).then(|| {
            self.applied = true;
            Notification {
                event: Event::RevisionApplied,
                at: at.to_owned(),
                revision: self.revision.clone(),
                subject: None,
                summary: format!(
                    "revision {} applied: {} objects Synced and Healthy",
                    self.revision,
                    objects.len()
                ),
                error_code: None,
                by: None,
                pause: None,
                analysis: None,
            }
        });
        (commit, applied)
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use ecsd_model::Kind;

    use super::*;

    fn objects(states: &[(SyncStatus, Health)]) -> BTreeMap<ObjectKey, ObjectStatus> {
        states
            .iter()
            .enumerate()
            .map(|(i, (sync, health))| {
                (
                    ObjectKey {
                        kind: Kind::Service,
                        name: format!("s{i}"),
                    },
                    ObjectStatus {
                        sync: *sync,
                        health: *health,
                        message: "boom".into(),
                        error_code: (*sync == SyncStatus::Error).then(|| "AccessDenied".into()),
                        ..ObjectStatus::default()
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_revision_goes_pending_then_failure_then_success_each_told_once() {
        let mut w = RevisionWatch::default();
        assert_eq!(w.begin("abc").map(|c| c.state), Some(CommitStatus::Pending));
        assert!(w.begin("abc").is_none());
        let ok = objects(&[(SyncStatus::Synced, Health::Healthy)]);
        // Before a pass has looked, the statuses are the previous revision's.
        assert_eq!(w.judge(&ok, &[], "t"), (None, None));
        w.looked();
        let progressing = objects(&[(SyncStatus::Synced, Health::Progressing)]);
        assert_eq!(w.judge(&progressing, &[], "t"), (None, None));
        // A change made since the pass: the statuses are stale until the next one.
        let key = ObjectKey {
            kind: Kind::Service,
            name: "s0".to_owned(),
        };
        w.changed(&key);
        assert_eq!(w.judge(&ok, &[], "t"), (None, None));
        w.observed(&key);
        let failed = objects(&[(SyncStatus::Error, Health::Healthy)]);
        let (c, n) = w.judge(&failed, &[], "t");
        let c = c.expect("a failure status");
        assert_eq!(c.state, CommitStatus::Failure);
        assert_eq!(c.description, "Service s0: AccessDenied: boom");
        assert!(n.is_none());
        assert_eq!(w.judge(&failed, &[], "t"), (None, None));
        let (c, n) = w.judge(&ok, &[], "t");
        assert_eq!(c.map(|c| c.state), Some(CommitStatus::Success));
        assert_eq!(n.map(|n| n.event), Some(Event::RevisionApplied));
        assert_eq!(w.judge(&ok, &[], "t"), (None, None));
        // A file that cannot be read fails the revision, told once.
        let errors = ["a.yaml:1:1: error: bad".to_owned()];
        assert_eq!(
            w.judge(&ok, &errors, "t").0.map(|c| c.state),
            Some(CommitStatus::Failure)
        );
        assert_eq!(
            w.source_errors(&errors, "t").map(|n| n.event),
            Some(Event::RevisionFailed)
        );
        assert!(w.source_errors(&errors, "t").is_none());
    }

    #[test]
    fn descriptions_fit_githubs_limit() {
        let long = "x".repeat(300);
        let s = shorten(&long, DESCRIPTION_MAX);
        assert_eq!(s.chars().count(), DESCRIPTION_MAX);
        assert!(s.ends_with('…'));
    }
}
