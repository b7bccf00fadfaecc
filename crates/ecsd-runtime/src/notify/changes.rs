//! An object's status before and after a change → what to tell people. Each state is
//! told once: a pass that sets an object back to OutOfSync before its retry fails
//! again, or health judged again every tick, says nothing new ([`ObjectMemory`]).

use std::collections::{BTreeMap, BTreeSet};

use ecsd_model::ObjectKey;

use super::{Event, Notification, Pause, Subject};
use crate::status::{AwaitingApproval, Health, ObjectStatus, SyncStatus};

/// What the controller knows around one status change that the statuses do not say.
#[derive(Debug, Clone, Default)]
pub struct ObjectContext<'a> {
    pub revision: &'a str,
    /// RFC 3339, UTC.
    pub at: &'a str,
    /// The change was a correction of drift (the job's "drift corrected").
    pub drift_corrected: bool,
    /// `--drift report` and the manifest did not change: a difference is drift to report.
    pub drift_reported: bool,
    /// Who made the drift, when an event from AWS said.
    pub by: Option<&'a str>,
    /// The manifest's `spec.deployment.approve`, if any.
    pub approve: Option<&'a str>,
}

/// What was already told about each object, so each state is told once.
#[derive(Debug, Default)]
pub struct ObjectMemory {
    /// The (revision, error code or message) of the failure told last.
    failed: BTreeMap<ObjectKey, (String, String)>,
    degraded: BTreeSet<ObjectKey>,
    drifted: BTreeSet<ObjectKey>,
    rolled_back: BTreeMap<ObjectKey, String>,
}

impl ObjectMemory {
    /// The objects it remembers something about.
    pub fn keys(&self) -> Vec<ObjectKey> {
        let mut keys: BTreeSet<ObjectKey> = self.failed.keys().cloned().collect();
        keys.extend(self.degraded.iter().cloned());
        keys.extend(self.drifted.iter().cloned());
        keys.extend(self.rolled_back.keys().cloned());
        keys.into_iter().collect()
    }

    /// Forgets an object that left the source.
    pub fn forget(&mut self, key: &ObjectKey) {
        self.failed.remove(key);
        self.degraded.remove(key);
        self.drifted.remove(key);
        self.rolled_back.remove(key);
    }
}

/// What to say about `key` going from `prev` to `next`.
pub fn object_changes(
    memory: &mut ObjectMemory,
    key: &ObjectKey,
    prev: Option<&ObjectStatus>,
    next: &ObjectStatus,
    ctx: &ObjectContext<'_>,
) -> Vec<Notification> {
    let mut out = Vec::new();
    let subject = Subject::of(key, &next.application);
    let say = |event: Event, summary: String| Notification {
        event,
        at: ctx.at.to_owned(),
        revision: ctx.revision.to_owned(),
        subject: Some(subject.clone()),
        summary,
        error_code: None,
        by: None,
        pause: None,
        analysis: None,
    };
    let prev_pause = prev.and_then(|p| p.awaiting_approval.as_ref());

    // A deployment paused at a hook: once per pause.
    if let Some(a) = &next.awaiting_approval
        && prev_pause != Some(a)
    {
        let mut n = say(
            Event::DeploymentPaused,
            format!(
                "{} {}: deployment {} is paused at {}; commit spec.deployment.{} to continue it (or {})",
                key.kind,
                key.name,
                a.deployment,
                a.stage.as_deref().unwrap_or("a PAUSE hook"),
                a.approve_line,
                a.rollback_line
            ),
        );
        n.pause = Some(pause_of(a));
        out.push(n);
    }
    // The pause is gone after ecsd acted on an `approve:` naming it.
    if let Some(a) = prev_pause
        && next.awaiting_approval.is_none()
        && ctx.approve.is_some_and(|name| names(a, name))
    {
        let mut n = say(
            Event::DeploymentApproved,
            format!(
                "{} {}: deployment {} approved by commit ({}); ECS continues it",
                key.kind, key.name, a.deployment, a.approve_line
            ),
        );
        n.pause = Some(pause_of(a));
        out.push(n);
    }

    // A canary analysis reached a verdict: once per pause and outcome.
    if let Some(s) = &next.analysis
        && let Some(j) = s.judgement()
        && prev.and_then(|p| p.analysis.as_ref()).is_none_or(|p| {
            p.hook != s.hook || p.judgement().map(|pj| pj.outcome) != Some(j.outcome)
        })
    {
        let mut n = say(
            Event::DeploymentAnalysed,
            format!(
                "{} {}: {}",
                key.kind,
                key.name,
                crate::status::analysis::message(s)
            ),
        );
        n.analysis = Some(crate::status::analysis::to_json(s));
        out.push(n);
    }

    // A rollback, with AWS's reason: once per reason.
    let rolled_back = match &next.details.rollback {
        Some(reason) if memory.rolled_back.get(key) != Some(reason) => {
            memory.rolled_back.insert(key.clone(), reason.clone());
            out.push(say(
                Event::DeploymentRolledBack,
                format!(
                    "{} {}: deployment rolled back: {reason}",
                    key.kind, key.name
                ),
            ));
            true
        }
        Some(_) => true,
        None => {
            memory.rolled_back.remove(key);
            false
        }
    };

    // Degraded for another reason: once until it is Healthy again.
    match next.health {
        Health::Degraded if !rolled_back && !memory.degraded.contains(key) => {
            memory.degraded.insert(key.clone());
            out.push(say(
                Event::ObjectDegraded,
                format!("{} {} is Degraded: {}", key.kind, key.name, next.message),
            ));
        }
        Health::Healthy => {
            memory.degraded.remove(key);
        }
        _ => {}
    }

    // A failure to apply: once per revision and error.
    match next.sync {
        SyncStatus::Error => {
            let what = next
                .error_code
                .clone()
                .unwrap_or_else(|| next.message.clone());
            let told = (ctx.revision.to_owned(), what);
            if memory.failed.get(key) != Some(&told) {
                memory.failed.insert(key.clone(), told);
                let code = next
                    .error_code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default();
                let mut n = say(
                    Event::RevisionFailed,
                    format!(
                        "{} {} failed to apply: {code}{}",
                        key.kind, key.name, next.message
                    ),
                );
                n.error_code = next.error_code.clone();
                out.push(n);
            }
        }
        SyncStatus::Synced => {
            memory.failed.remove(key);
            memory.drifted.remove(key);
        }
        SyncStatus::OutOfSync => {}
    }

    // Drift: put back, or (with --drift report) found.
    if ctx.drift_corrected {
        memory.drifted.remove(key);
        let by = ctx
            .by
            .map(|b| format!(" (changed by {b})"))
            .unwrap_or_default();
        let mut n = say(
            Event::DriftCorrected,
            format!(
                "{} {}: drift from another client found and corrected{by}",
                key.kind, key.name
            ),
        );
        n.by = ctx.by.map(str::to_owned);
        out.push(n);
    } else if ctx.drift_reported
        && next.sync == SyncStatus::OutOfSync
        && prev.is_some_and(|p| p.sync == SyncStatus::Synced)
        && !memory.drifted.contains(key)
    {
        memory.drifted.insert(key.clone());
        let by = ctx
            .by
            .map(|b| format!(" (changed by {b})"))
            .unwrap_or_default();
        let mut n = say(
            Event::DriftFound,
            format!(
                "{} {} drifted from its manifest{by}; not corrected (--drift report)",
                key.kind, key.name
            ),
        );
        n.by = ctx.by.map(str::to_owned);
        out.push(n);
    }
    out
}

fn pause_of(a: &AwaitingApproval) -> Pause {
    Pause {
        deployment: a.deployment.clone(),
        stage: a.stage.clone(),
        approve: a.approve_line.clone(),
        rollback: a.rollback_line.clone(),
        expires_at: a.expires_at.clone(),
        timeout_action: a.timeout_action.clone(),
    }
}

/// Whether an `approve:` value names this pause (its deployment's id or ARN, or the hook).
fn names(a: &AwaitingApproval, name: &str) -> bool {
    name == a.deployment || name == a.deployment_arn || name == a.hook
}

#[cfg(test)]
mod tests {
    use ecsd_model::Kind;

    use super::*;

    fn key() -> ObjectKey {
        ObjectKey {
            kind: Kind::Service,
            name: "web".into(),
        }
    }

    fn status(sync: SyncStatus, health: Health) -> ObjectStatus {
        ObjectStatus {
            sync,
            health,
            message: "m".into(),
            application: "web".into(),
            ..ObjectStatus::default()
        }
    }

    fn ctx(revision: &str) -> ObjectContext<'_> {
        ObjectContext {
            revision,
            at: "2026-01-01T00:00:00Z",
            ..ObjectContext::default()
        }
    }

    fn events(n: &[Notification]) -> Vec<Event> {
        n.iter().map(|n| n.event).collect()
    }

    fn pause() -> AwaitingApproval {
        AwaitingApproval {
            deployment: "d1".into(),
            deployment_arn: "arn:d1".into(),
            hook: "h1".into(),
            stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
            expires_at: None,
            timeout_action: None,
            approve_line: "approve: d1".into(),
            rollback_line: "rollback: d1".into(),
        }
    }

    #[test]
    fn a_canary_verdict_is_told_once_per_pause_and_outcome_with_its_numbers() {
        use ecsd_model::service::Verdict;
        use ecsd_plan::analysis::{
            AnalysisState, Judgement, MetricResult, Outcome, Progress, Window,
        };
        let state = |hook: &str, progress| AnalysisState {
            deployment: "d1".into(),
            deployment_arn: "arn:d1".into(),
            hook: hook.into(),
            stage: "POST_TEST_TRAFFIC_SHIFT".into(),
            window: Window {
                paused_at: 0,
                start: 0,
                end: 300,
            },
            progress,
        };
        let judged = |outcome, action| {
            Progress::Judged(Judgement {
                outcome,
                action,
                metrics: vec![MetricResult {
                    name: "errors".into(),
                    measures: "errorRate".into(),
                    value: Some(0.3),
                    baseline: None,
                    bound: "max 0.05".into(),
                    lowest: None,
                    highest: Some(0.05),
                    data_points: 5,
                    needed: 3,
                    outcome,
                }],
            })
        };
        let mut m = ObjectMemory::default();
        let mut observing = status(SyncStatus::Synced, Health::Progressing);
        observing.analysis = Some(state("h1", Progress::Observing));
        let mut failed = observing.clone();
        failed.analysis = Some(state("h1", judged(Outcome::Fail, Verdict::Rollback)));
        assert!(object_changes(&mut m, &key(), None, &observing, &ctx("r1")).is_empty());
        let out = object_changes(&mut m, &key(), Some(&observing), &failed, &ctx("r1"));
        assert_eq!(events(&out), [Event::DeploymentAnalysed]);
        assert!(
            out[0]
                .summary
                .contains("fail (errors 0.3 > max 0.05 (5 data points)) -> roll it back"),
            "{}",
            out[0].summary
        );
        let told = out[0].analysis.clone().unwrap_or_default();
        assert_eq!(told["metrics"][0]["dataPoints"], 5, "{told}");
        // Judged again by the next pass: nothing new; the next pause's verdict is told.
        assert!(object_changes(&mut m, &key(), Some(&failed), &failed, &ctx("r1")).is_empty());
        let mut next = failed.clone();
        next.analysis = Some(state("h2", judged(Outcome::Fail, Verdict::Rollback)));
        assert_eq!(
            events(&object_changes(
                &mut m,
                &key(),
                Some(&failed),
                &next,
                &ctx("r1")
            )),
            [Event::DeploymentAnalysed]
        );
    }

    #[test]
    fn a_failure_is_told_once_per_revision_and_code_even_when_a_pass_resets_it() {
        let mut m = ObjectMemory::default();
        let ok = status(SyncStatus::Synced, Health::Healthy);
        let mut failed = status(SyncStatus::Error, Health::Healthy);
        failed.error_code = Some("InvalidParameterException".into());
        let out = object_changes(&mut m, &key(), Some(&ok), &failed, &ctx("r1"));
        assert_eq!(events(&out), [Event::RevisionFailed]);
        assert_eq!(
            out[0].error_code.as_deref(),
            Some("InvalidParameterException")
        );
        // The next pass sets it OutOfSync, the retry fails again: nothing new.
        let pending = status(SyncStatus::OutOfSync, Health::Healthy);
        assert!(object_changes(&mut m, &key(), Some(&failed), &pending, &ctx("r1")).is_empty());
        assert!(object_changes(&mut m, &key(), Some(&pending), &failed, &ctx("r1")).is_empty());
        // A new revision failing the same way is told.
        assert_eq!(
            events(&object_changes(
                &mut m,
                &key(),
                Some(&pending),
                &failed,
                &ctx("r2")
            )),
            [Event::RevisionFailed]
        );
    }

    #[test]
    fn degraded_is_told_once_until_healthy_again_and_a_rollback_replaces_it() {
        let mut m = ObjectMemory::default();
        let ok = status(SyncStatus::Synced, Health::Healthy);
        let bad = status(SyncStatus::Synced, Health::Degraded);
        let c = ctx("r1");
        assert_eq!(
            events(&object_changes(&mut m, &key(), Some(&ok), &bad, &c)),
            [Event::ObjectDegraded]
        );
        let progressing = status(SyncStatus::Synced, Health::Progressing);
        assert!(object_changes(&mut m, &key(), Some(&bad), &progressing, &c).is_empty());
        assert!(object_changes(&mut m, &key(), Some(&progressing), &bad, &c).is_empty());
        assert!(object_changes(&mut m, &key(), Some(&bad), &ok, &c).is_empty());
        let mut rolled = bad.clone();
        rolled.details.rollback = Some("circuit breaker".into());
        let out = object_changes(&mut m, &key(), Some(&ok), &rolled, &c);
        assert_eq!(events(&out), [Event::DeploymentRolledBack]);
        assert!(out[0].summary.contains("circuit breaker"));
        assert!(object_changes(&mut m, &key(), Some(&rolled), &rolled, &c).is_empty());
    }

    #[test]
    fn a_pause_is_told_once_and_its_approval_when_the_commit_names_it() {
        let mut m = ObjectMemory::default();
        let running = status(SyncStatus::OutOfSync, Health::Progressing);
        let mut paused = running.clone();
        paused.awaiting_approval = Some(pause());
        let out = object_changes(&mut m, &key(), Some(&running), &paused, &ctx("r1"));
        assert_eq!(events(&out), [Event::DeploymentPaused]);
        assert_eq!(
            out[0].pause.as_ref().map(|p| p.approve.as_str()),
            Some("approve: d1")
        );
        assert!(object_changes(&mut m, &key(), Some(&paused), &paused, &ctx("r1")).is_empty());
        // Gone without an approve naming it (a timeout, a rollback): no approval.
        assert!(object_changes(&mut m, &key(), Some(&paused), &running, &ctx("r1")).is_empty());
        let approved = ObjectContext {
            approve: Some("d1"),
            ..ctx("r2")
        };
        assert_eq!(
            events(&object_changes(
                &mut m,
                &key(),
                Some(&paused),
                &running,
                &approved
            )),
            [Event::DeploymentApproved]
        );
    }

    #[test]
    fn drift_is_told_when_corrected_with_who_made_it_or_once_when_only_reported() {
        let mut m = ObjectMemory::default();
        let ok = status(SyncStatus::Synced, Health::Healthy);
        let corrected = ObjectContext {
            drift_corrected: true,
            by: Some("arn:aws:sts::1:assumed-role/Admin/alice"),
            ..ctx("r1")
        };
        let out = object_changes(&mut m, &key(), Some(&ok), &ok, &corrected);
        assert_eq!(events(&out), [Event::DriftCorrected]);
        assert!(out[0].summary.contains("alice"));
        let reported = ObjectContext {
            drift_reported: true,
            ..ctx("r1")
        };
        let drifted = status(SyncStatus::OutOfSync, Health::Healthy);
        assert_eq!(
            events(&object_changes(
                &mut m,
                &key(),
                Some(&ok),
                &drifted,
                &reported
            )),
            [Event::DriftFound]
        );
        assert!(object_changes(&mut m, &key(), Some(&ok), &drifted, &reported).is_empty());
    }
}
