//! What executing a plan reports: per object, done / failed (with the typed error) /
//! skipped / waiting, and the deployments it started.

use std::time::Duration;

use ecsd_aws::AwsError;
use ecsd_model::ObjectKey;
use ecsd_plan::Action;
use ecsd_plan::state::ServiceId;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// AWS refused or did not answer.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A reference the operation needs is not known (what an earlier operation of the
    /// same apply should have created).
    #[error("{0} is not known")]
    Unresolved(String),
    /// A deleted service did not finish draining in time.
    #[error(
        "service {service} was still DRAINING after {waited:?}; it is created once AWS has finished deleting it (run apply again)"
    )]
    StillDraining {
        service: ServiceId,
        waited: Duration,
    },
}

impl ApplyError {
    /// The AWS error code, if AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApplyError::Aws(e) => e.code(),
            _ => None,
        }
    }

    /// Whether AWS said it is throttling.
    pub fn is_throttling(&self) -> bool {
        matches!(self, ApplyError::Aws(e) if e.is_throttling())
    }

    /// Whether the fence refused the call: this replica does not lead.
    pub fn is_fenced(&self) -> bool {
        matches!(self, ApplyError::Aws(e) if e.is_fenced())
    }
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectOutcome {
    /// Every operation succeeded.
    Done(Action),
    /// An operation failed; `doing` says which.
    Failed { doing: String, error: ApplyError },
    /// Not attempted because an object it depends on failed.
    Skipped { because: ObjectKey },
    /// Stopped before an operation AWS cannot do yet (a deleted service still draining);
    /// nothing failed, and the rest follows once it can.
    Waiting { reason: String },
}

/// A service whose deployment changed, and the task definition it now runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledOut {
    pub service: ServiceId,
    pub task_definition_arn: String,
}

/// A CodeDeploy deployment that was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedDeployment {
    pub service: ServiceId,
    pub deployment_id: String,
}

/// The outcome of an apply, per object, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub outcomes: Vec<(ObjectKey, ObjectOutcome)>,
    /// Services whose deployment changed.
    pub rolled_out: Vec<RolledOut>,
    /// CodeDeploy deployments started.
    pub code_deployments: Vec<StartedDeployment>,
}

impl ApplyReport {
    /// True when every object's operations succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, o)| matches!(o, ObjectOutcome::Done(_)))
    }
}

/// What to do when a change must wait for a deleted service to finish draining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainWait {
    /// Poll until it is gone (one-shot `apply`), up to `timeout`.
    Poll {
        interval: Duration,
        timeout: Duration,
    },
    /// Stop the change with [`ObjectOutcome::Waiting`] (the controller comes back).
    Defer,
}

/// How to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOptions {
    pub drain: DrainWait,
    /// Objects whose changes run at the same time (at least 1).
    pub concurrency: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            drain: DrainWait::Poll {
                interval: Duration::from_secs(5),
                timeout: Duration::from_secs(15 * 60),
            },
            concurrency: 1,
        }
    }
}
