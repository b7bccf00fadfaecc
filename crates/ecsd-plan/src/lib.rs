//! ecsd's planner: `plan(desired manifests, observed AWS state) -> Plan`, pure data in
//! and out. No tokio, no AWS SDK, no IO: `plan`, `apply` and `run` all share it, and its
//! tests need nothing but values.
//!
//! A manifest is the whole object: desired and observed objects are both rendered into
//! the manifest's own shape with AWS's documented defaults filled in, and compared field
//! by field over every key of either side, so a deletion reaches AWS like an addition.
//! A diff's path is the manifest path the user wrote
//! (`taskDefinition.containers[0].image`, `metadata.labels.team`).
//!
//! # Layout
//! - [`state`]: what was observed in AWS ([`Observed`]), with AWS's statuses as enums.
//! - `defaults` (ecsd-model's, re-exported): what AWS fills in by itself, the only
//!   normalisation.
//! - [`canonical`]: task definitions with those defaults filled in, and their hash.
//! - [`diff`]: complete field-level diffs.
//! - [`ops`]: the AWS operations a plan carries, as data.
//! - [`plan`](mod@plan): the [`Plan`], its [`Context`](mod@plan) and one planner per kind (target
//!   group, service with its create/replace/update/blue-green paths and the approval
//!   of a paused ECS deployment, scaling), and pruning behind the safety valve.
//! - [`analysis`]: canary analysis of a paused deployment: its window, the
//!   GetMetricData queries and the judgement of their answer.
//! - [`signals`]: what AWS says about how objects are doing (target health, alarms,
//!   scaling activities), read for health only.
//! - [`ownership`]: owner tags, markers that spare reads, labels kept in sync, names.

pub mod analysis;
pub mod canonical;
pub mod diff;
pub mod ops;
pub mod ownership;
pub mod plan;
pub mod signals;
pub mod state;

pub use diff::FieldDiff;
pub use ecsd_model::defaults;
pub use ops::Op;
pub use plan::{
    Action, Change, Hold, Plan, PlanError, PlanErrorKind, PlanOptions, application_name,
    desired_task_definition, plan,
};
pub use state::{Observed, ServiceId};
