//! ecsd's runtime: the IO around the pure planner, in three rooms.
//!
//! # Layout
//! - [`pass`]: one reconcile pass, observe → plan → apply → wait, shared by `ecsd plan`,
//!   `ecsd apply` and the controller; [`pass::health`] judges sync and health.
//! - [`controller`]: `ecsd run`'s loop: snapshots from a source ([`controller::feed`]),
//!   jobs through the pass's scheduler, per-object backoff, the DynamoDB lease, metrics.
//! - [`events`]: what an event from AWS (EventBridge → SQS, `run --events`) says and
//!   which objects it concerns; pure, read by the controller's queue listener.
//! - [`generate`]: manifests written from what runs (`ecsd import`, `ecsd migrate`).
//! - [`notify`]: what a change of state tells people (`run --notify`), once per change;
//!   pure, handed to a [`notify::Notifier`] (delivery is the `ecsd-notify` crate).
//! - [`status`]: the vocabulary every room reports in (sync, health, a deployment
//!   awaiting approval, counters), shared with the HTTP endpoints.
//! - [`targets`]: one controller per deployment target a source declares (*added*),
//!   each with its own account's clients and region, and the promotion order between
//!   them ([`targets::promote`], pure).
//!
//! Imports run one way: `targets` uses `controller`; `controller` and `generate` use
//! `pass`; every room uses `status`; the controller uses `events` and `notify`.

pub mod controller;
pub mod events;
pub mod generate;
pub mod notify;
pub mod pass;
pub mod status;
pub mod targets;

pub use pass::{
    ApplyError, ApplyOptions, ApplyReport, Clients, DrainWait, ObjectOutcome, ObserveError,
    Progress, RolledOut, StartedDeployment, WaitOutcome, apply, observe, wait_for_code_deployments,
    wait_for_services,
};
