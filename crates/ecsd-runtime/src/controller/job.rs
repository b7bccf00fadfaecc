//! One object's reconcile, run on a worker: re-observe the object (and what it depends
//! on), plan it and apply its change, so a retry after a lost answer sees what the first
//! attempt did instead of creating it twice.

use std::time::Duration;

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{Manifest, ObjectKey};
use ecsd_plan::{Action, Change, Observed, Plan, PlanOptions};
use tokio::time::Instant;

use ecsd_aws::AwsError;

use crate::pass::{
    ApplyError, ApplyOptions, Clients, DrainWait, ObjectOutcome, ObserveError, apply, observe,
};

/// One object's reconcile, run on a worker.
pub(super) struct Job {
    pub(super) key: ObjectKey,
    pub(super) manifests: Vec<Manifest>,
    pub(super) delete: Option<Change>,
    pub(super) opts: PlanOptions,
    /// The manifest was already applied: a change now is drift.
    pub(super) drift: bool,
}

/// How one object's reconcile ended.
pub(super) enum Outcome {
    /// The action taken (`None`: nothing to do).
    Done(Option<Action>),
    /// AWS cannot do the next step yet; look again soon (not a failure).
    Waiting(String),
    Failed(Failure),
}

pub(super) struct WorkResult {
    pub(super) key: ObjectKey,
    pub(super) outcome: Outcome,
    pub(super) elapsed: Duration,
    pub(super) drift: bool,
}

pub(super) enum Failure {
    /// Reading what the object needs from AWS failed.
    Observe(ObserveError),
    /// The planner refused the object (e.g. a reference AWS does not know).
    Plan(String),
    /// An operation of its change failed; `doing` says which.
    Apply { doing: String, error: ApplyError },
    /// An object it depends on has not finished its change.
    Dependency(ObjectKey),
}

impl Failure {
    /// What the object's status shows.
    pub(super) fn message(&self) -> String {
        match self {
            Failure::Observe(e) => e.to_string(),
            Failure::Plan(m) => m.clone(),
            Failure::Apply { doing, error } => format!("{doing}: {error}"),
            Failure::Dependency(key) => format!("waiting for {key}"),
        }
    }

    /// The AWS error behind it, if AWS answered.
    pub(super) fn aws(&self) -> Option<&AwsError> {
        match self {
            Failure::Observe(e) => Some(e.aws()),
            Failure::Apply {
                error: ApplyError::Aws(e),
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// AWS's error code, if AWS answered with one.
    pub(super) fn code(&self) -> Option<&str> {
        self.aws().and_then(AwsError::code)
    }

    /// AWS throttled the object's calls: back off harder.
    pub(super) fn throttled(&self) -> bool {
        self.aws().is_some_and(AwsError::is_throttling)
    }

    /// Refused by the fence: this replica stopped leading while it worked.
    pub(super) fn fenced(&self) -> bool {
        self.aws().is_some_and(AwsError::is_fenced)
    }
}

impl Job {
    pub(super) async fn run<
        E: EcsApi,
        L: Elbv2Api,
        S: ScalingApi,
        D: CodeDeployApi,
        W: CloudWatchApi,
    >(
        self,
        clients: Clients<E, L, S, D, W>,
    ) -> WorkResult {
        let started = Instant::now();
        let outcome = self.reconcile(&clients).await;
        WorkResult {
            key: self.key,
            outcome,
            elapsed: started.elapsed(),
            drift: self.drift,
        }
    }

    async fn reconcile<
        E: EcsApi,
        L: Elbv2Api,
        S: ScalingApi,
        D: CodeDeployApi,
        W: CloudWatchApi,
    >(
        &self,
        clients: &Clients<E, L, S, D, W>,
    ) -> Outcome {
        let (plan, observed) = match &self.delete {
            Some(change) => (
                Plan {
                    changes: vec![change.clone()],
                    ..Plan::default()
                },
                Observed::default(),
            ),
            None => {
                let observed = match observe::observe(&self.manifests, clients, false).await {
                    Ok(o) => o,
                    Err(e) => return Outcome::Failed(Failure::Observe(e)),
                };
                let full = ecsd_plan::plan(&self.manifests, &observed, &self.opts);
                if let Some(err) = full
                    .errors
                    .iter()
                    .find(|e| e.key.as_ref() == Some(&self.key))
                {
                    return Outcome::Failed(Failure::Plan(err.message.clone()));
                }
                let changes: Vec<Change> = full
                    .changes
                    .into_iter()
                    .filter(|c| c.key == self.key)
                    .collect();
                (
                    Plan {
                        changes,
                        ..Plan::default()
                    },
                    observed,
                )
            }
        };
        let Some(change) = plan.changes.first() else {
            return Outcome::Done(None);
        };
        let action = change.action;
        // A job applies one object's change: nothing to run beside it.
        let opts = ApplyOptions {
            drain: DrainWait::Defer,
            concurrency: 1,
        };
        let report = apply(&plan, &observed, clients, opts).await;
        match report.outcomes.into_iter().next().map(|(_, o)| o) {
            Some(ObjectOutcome::Done(_)) | None => Outcome::Done(Some(action)),
            Some(ObjectOutcome::Waiting { reason }) => Outcome::Waiting(reason),
            Some(ObjectOutcome::Failed { doing, error }) => {
                Outcome::Failed(Failure::Apply { doing, error })
            }
            Some(ObjectOutcome::Skipped { because }) => {
                Outcome::Failed(Failure::Dependency(because))
            }
        }
    }
}
