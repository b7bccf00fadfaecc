//! ecsd's runtime: the IO around the pure planner. One pass is observe → plan → apply,
//! shared by `ecsd plan`, `ecsd apply` and (later) the controller.
//!
//! # Layout
//! - [`observe`]: reads what the manifests need from AWS with the fewest calls
//!   (batched describes, tags in batches, scaling per namespace, task definitions only
//!   when the service's tag cannot vouch for them).
//! - [`apply`]: executes a [`ecsd_plan::Plan`] in dependency order; one failing object
//!   does not stop the others.
//! - [`wait`]: follows ECS deployments until they complete, fail or roll back.
//! - [`controller`]: `ecsd run`'s loop: snapshots, full passes, workers, backoff,
//!   drift modes, shutdown; [`status`] is what it shows (sync, health, metrics).
//! - [`feed`]: fetches snapshots from a source on an interval and on change.
//! - [`backoff`]: per-object exponential backoff with full jitter, a checked type.
//! - [`queue`]: the controller's work queue (dedup, earliest due wins, one key at a
//!   time, bounded concurrency, dependencies first).

pub mod apply;
pub mod backoff;
pub mod controller;
pub mod feed;
pub mod observe;
pub mod queue;
pub mod status;
pub mod wait;

pub use apply::{ApplyReport, ObjectOutcome, apply};
pub use observe::{ObserveError, observe};
pub use wait::{WaitOutcome, wait_for_code_deployments, wait_for_services};

/// The AWS clients a pass uses.
#[derive(Debug, Clone)]
pub struct Clients<E, L, S, D> {
    pub ecs: E,
    pub elb: L,
    pub scaling: S,
    /// CodeDeploy, for blue/green services.
    pub deploy: D,
}
