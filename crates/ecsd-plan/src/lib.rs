//! ecsd's planner: `plan(desired manifests, observed AWS state) -> Plan`, pure data in
//! and out. No tokio, no AWS SDK, no IO: `plan`, `apply` and `run` all share it, and its
//! tests need nothing but values.
//!
//! Desired and observed objects are both rendered into the manifest's own shape and
//! compared field by field, so a diff's path is the manifest path the user wrote
//! (`taskDefinition.containers[0].image`). Only fields the manifest sets are compared
//! (apply-what-you-own).
//!
//! # Layout
//! - [`state`]: what was observed in AWS ([`Observed`]).
//! - [`diff`]: field-level diffs with normalisation (numbers, empty vs absent).
//! - [`ops`]: the AWS operations a plan carries, as data.
//! - [`plan`]: the [`Plan`] and the entry point; `target_group`, `service` and
//!   `scaling` plan one kind each; `prune` plans deletions behind the safety valve.
//! - [`blue_green`]: the CodeDeploy application, deployment group and deployments of
//!   blue/green Services.
//! - [`ownership`]: owner tags and the names ecsd gives what it creates.

pub mod blue_green;
pub mod diff;
pub mod ops;
pub mod ownership;
pub mod plan;
mod prune;
pub mod scaling;
pub mod service;
pub mod state;
pub mod target_group;

pub use diff::FieldDiff;
pub use ops::Op;
pub use plan::{Action, Change, Plan, PlanError, PlanOptions, plan};
pub use state::Observed;
