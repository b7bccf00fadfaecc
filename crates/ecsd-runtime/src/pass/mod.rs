//! The reconcile pass: observe → plan → apply, shared by `ecsd plan`, `ecsd apply` and
//! the controller. Planning itself is pure and lives in `ecsd-plan`; this room holds
//! the IO on either side of it.
//!
//! # Layout
//! - [`observe`](mod@observe): reads what the manifests need from AWS with the fewest calls, the
//!   independent ones at the same time (batched describes, tags in batches, scaling per
//!   namespace or, for a few services, per service; task definitions, attributes,
//!   rollback evidence, label tags and listeners the manifests do not name only when
//!   ecsd's tags and what was read cannot vouch; a blue/green, linear or canary
//!   deployment only while one is under way).
//! - [`analysis`]: canary analysis at a paused deployment: its window from the hook's
//!   expiry and, once it ended, one GetMetricData call judged by `ecsd_plan::analysis`.
//! - [`execute`]: [`apply`] executes a [`ecsd_plan::Plan`], independent objects at the same
//!   time, each after what it depends on; one failing object does not stop the others.
//! - [`wait`]: follows ECS and CodeDeploy deployments (task sets for CODE_DEPLOY
//!   services, the service deployment of ECS blue/green, linear and canary, which stops
//!   at a pause awaiting approval) until they complete, fail or roll back, and deleted
//!   services until they stop DRAINING.
//! - [`schedule`]: the one scheduler, a dependency-ordered bounded work queue, for a
//!   plan's changes here and the controller's per-object jobs.
//! - [`signals`]: reads what health needs beyond the observation (target health,
//!   deployment alarms, scaling activities), for the objects the caller says are due.
//! - [`health`]: sync and health of each object from a plan, what was observed and
//!   those signals.
//! - [`clients`]: [`Clients`], the AWS clients a pass uses, one per service trait.

pub mod analysis;
pub mod clients;
pub mod execute;
pub mod health;
pub mod observe;
pub mod schedule;
pub mod signals;
pub mod wait;

pub use clients::Clients;
pub use execute::{
    ApplyError, ApplyOptions, ApplyReport, DrainWait, ObjectOutcome, RolledOut, StartedDeployment,
    apply,
};
pub use observe::{ObserveError, observe};
pub use wait::{Progress, WaitOutcome, wait_for_code_deployments, wait_for_services};
