//! Health between passes: which objects' health signals are due, reading them, and
//! judging health again from them and what the last full pass observed.
//!
//! An object's signals (target health, scaling activities; deployment alarms are one
//! call per 100 names and ride along) are due when they were never read, are older than
//! `--health-interval`, or its Service is deploying or not Healthy, or the object itself
//! is not Healthy. Each full pass reads what is due; between passes, every
//! [`HEALTH_TICK`] (or the health interval, if shorter) reads what is due again and
//! updates health, so a failing target group shows within half a minute while its
//! Service is unwell, and a quiet fleet costs nothing between its slow reads.

use std::sync::Arc;
use std::time::Duration;

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{Manifest, ObjectKey, Spec};
use ecsd_plan::Observed;
use tokio::time::Instant;

use super::Controller;
use crate::pass::health::{HealthInputs, object_health, service_health};
use crate::pass::signals;
use crate::status::{Health, SyncStatus};

/// How often due health signals are read between passes.
pub(super) const HEALTH_TICK: Duration = Duration::from_secs(30);

impl<E, L, S, D, W> Controller<E, L, S, D, W>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    /// The time between health ticks.
    pub(super) fn health_tick(&self) -> Duration {
        HEALTH_TICK.min(self.opts.health_interval)
    }

    /// The inputs health is judged with now.
    pub(super) fn health_inputs(&self) -> HealthInputs<'_> {
        HealthInputs {
            scaling_bound_warning: self.opts.scaling_bound_warning.as_secs(),
            ..HealthInputs::now(&self.signals)
        }
    }

    /// Reads the health signals that are due (see the module's doc). A signal that
    /// cannot be read keeps its last value. True if anything was read.
    pub(super) async fn read_signals(
        &mut self,
        manifests: &[Arc<Manifest>],
        observed: &Observed,
    ) -> bool {
        let now = Instant::now();
        let interval = self.opts.health_interval;
        let wanted = {
            let status = self.lock();
            signals::wanted(manifests, observed, |key| {
                let stale = self
                    .signals_read
                    .get(key)
                    .is_none_or(|at| now.duration_since(*at) >= interval);
                let unwell = status
                    .objects
                    .get(key)
                    .is_some_and(|o| o.health != Health::Healthy);
                let service_unwell = manifests
                    .iter()
                    .find(|m| &m.key() == key)
                    .and_then(|m| signals::service_of(manifests, m))
                    .is_some_and(|id| {
                        observed.native_deployments.contains_key(&id)
                            || observed.services.get(&id).is_none_or(|s| {
                                s.deploying() || service_health(Some(s)).0 != Health::Healthy
                            })
                    });
                stale || unwell || service_unwell
            })
        };
        if wanted.is_empty() {
            return false;
        }
        let (read, errors) = signals::read(&wanted, &self.clients).await;
        for e in &errors {
            tracing::warn!(error = %e, "health signal not read; the last one read stays in force");
        }
        let read_keys: Vec<ObjectKey> = manifests
            .iter()
            .filter(|m| match &m.spec {
                Spec::TargetGroup(_) => read.targets.contains_key(&m.metadata.name),
                Spec::Service(svc) => svc.deployment.alarms.as_ref().is_some_and(|a| {
                    a.alarm_names
                        .iter()
                        .all(|n| read.alarms.contains_key(n) || read.missing_alarms.contains(n))
                }),
                Spec::ScalingPolicy(_) => signals::service_of(manifests, m)
                    .is_some_and(|id| read.activities.contains_key(&id.scaling_resource_id())),
            })
            .map(|m| m.key())
            .collect();
        for key in read_keys {
            self.signals_read.insert(key, now);
        }
        self.signals.merge(read);
        true
    }

    /// Between passes: reads the signals that are due and judges health again from
    /// them and the last pass's observation. Sync is left as the last pass found it;
    /// an object in sync also takes the new health message.
    pub(super) async fn refresh_health(&mut self) {
        let Some(observed) = self.last_observed.clone() else {
            return;
        };
        let manifests = self.desired();
        if !self.read_signals(&manifests, &observed).await {
            return;
        }
        let inputs = self.health_inputs();
        let assessed: Vec<_> = manifests
            .iter()
            .map(|m| (m.key(), object_health(&manifests, m, &observed, inputs)))
            .collect();
        // Judged from the last pass's observation: what ecsd changed since stays unread.
        self.refreshing(true);
        for (key, a) in assessed {
            let mut next = self.current(&key);
            if next.sync == SyncStatus::Synced {
                next.health = a.health;
                next.message = a.message;
            }
            next.warnings = a.warnings;
            next.details = a.details;
            self.set(&key, next, None);
        }
        self.refreshing(false);
        self.tell_revision();
    }
}
