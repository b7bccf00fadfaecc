//! Recording an object's new status: the transition logged once, kept among the
//! status events, and told to people (with the status lock released).

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::ObjectKey;

use super::Controller;
use crate::status::{EVENTS_KEPT, ObjectStatus, StatusEvent, SyncStatus, analysis, now_rfc3339};

impl<E, L, S, D, W> Controller<E, L, S, D, W>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    /// Records a status, logging the transition once (and keeping it among the events).
    pub(super) fn set(&self, key: &ObjectKey, mut next: ObjectStatus, event: Option<&str>) {
        let mut status = self.lock();
        let previous = status.objects.get(key).cloned();
        if let Some(a) = &next.awaiting_approval
            && previous
                .as_ref()
                .is_none_or(|p| p.awaiting_approval.as_ref() != Some(a))
        {
            tracing::warn!(kind = %key.kind, name = %key.name, revision = %self.revision, deployment = %a.deployment, hook = %a.hook,
                stage = a.stage.as_deref().unwrap_or_default(), expires_at = a.expires_at.as_deref().unwrap_or_default(),
                timeout_action = a.timeout_action.as_deref().unwrap_or_default(),
                "awaiting approval: commit spec.deployment.approve: {} (or rollback: {}) to act on it", a.deployment, a.deployment);
            status.events.push_back(StatusEvent {
                at: now_rfc3339(),
                kind: key.kind.as_str().to_owned(),
                name: key.name.clone(),
                what: "awaiting approval".to_owned(),
                detail: format!(
                    "deployment {} paused at {} (hook {})",
                    a.deployment,
                    a.stage.as_deref().unwrap_or("a PAUSE hook"),
                    a.hook
                ),
            });
        }
        if let Some(s) = &next.analysis {
            let step = |a: &ecsd_plan::analysis::AnalysisState| {
                (
                    a.hook.clone(),
                    analysis::state_name(a),
                    a.judgement().map(|j| j.outcome),
                )
            };
            let before = previous
                .as_ref()
                .and_then(|p| p.analysis.as_ref())
                .map(step);
            if before != Some(step(s)) {
                let message = analysis::message(s);
                tracing::info!(kind = %key.kind, name = %key.name, revision = %self.revision, deployment = %s.deployment,
                    hook = %s.hook, state = analysis::state_name(s), "{message}");
                status.events.push_back(StatusEvent {
                    at: now_rfc3339(),
                    kind: key.kind.as_str().to_owned(),
                    name: key.name.clone(),
                    what: "canary analysis".to_owned(),
                    detail: message,
                });
            }
        }
        let changed = previous.as_ref().is_none_or(|p| {
            p.sync != next.sync
                || p.health != next.health
                || p.error_code != next.error_code
                || (next.sync == SyncStatus::Error && p.message != next.message)
        });
        if changed || event.is_some() {
            let what = event.unwrap_or(match next.sync {
                SyncStatus::Synced
                    if previous
                        .as_ref()
                        .is_some_and(|p| p.sync == SyncStatus::Error) =>
                {
                    "recovered"
                }
                SyncStatus::Synced => "in sync",
                SyncStatus::OutOfSync => "out of sync",
                SyncStatus::Error => "failed",
            });
            let code = next.error_code.clone().unwrap_or_default();
            let at = now_rfc3339();
            next.last_change = Some(at.clone());
            status.events.push_back(StatusEvent {
                at,
                kind: key.kind.as_str().to_owned(),
                name: key.name.clone(),
                what: what.to_owned(),
                detail: next.message.clone(),
            });
            while status.events.len() > EVENTS_KEPT {
                status.events.pop_front();
            }
            if next.sync == SyncStatus::Error {
                tracing::error!(kind = %key.kind, name = %key.name, revision = %self.revision, sync = %next.sync, health = %next.health, aws_error_code = %code, error = %next.message, "{what}");
            } else {
                tracing::info!(kind = %key.kind, name = %key.name, revision = %self.revision, sync = %next.sync, health = %next.health, detail = %next.message, "{what}");
            }
        }
        status.objects.insert(key.clone(), next.clone());
        // The notifier counts into the status: tell with its lock released.
        drop(status);
        self.tell_change(key, previous.as_ref(), &next, event);
    }
}
