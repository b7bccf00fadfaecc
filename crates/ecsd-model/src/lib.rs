//! The ecsd manifest, version 1: typed objects, parsing that keeps positions, and
//! validation that reports every error in a source at once as
//! `file:line:col: error: message`.
//!
//! Nothing here talks to AWS or the file system; callers hand in file names and bytes
//! ([`SourceFile`]) and get back a [`Source`]: the documents that decoded and every
//! [`Diagnostic`].
//!
//! # Layout
//! - [`node`]: YAML text to a tree of positioned nodes, with limits on depth, size and
//!   alias expansion (hostile input fails fast).
//! - [`schema`]: the JSON Schema of a manifest, derived from the typed model;
//!   `check` walks it for type, field, enum and range errors.
//! - [`document`]: one node tree to a typed [`Manifest`] plus a path-to-position table.
//! - [`manifest`], [`service`] (with [`deployment`], its `deployment` block, [`hook`],
//!   that block's lifecycle hooks, and [`analysis`], its canary analysis),
//!   [`target_group`], [`scaling_policy`]: the typed model the rest of ecsd uses, with
//!   defaults applied.
//! - `validate`: rules a schema cannot express (names, Fargate sizes, ARNs, references,
//!   what AWS refuses), one file per kind.
//! - [`source`]: all of the above over the files of one source; [`target`]: the
//!   targets a source declares (`kind: Target`, *added*) and which one an object
//!   belongs to.
//! - [`fargate`]: the valid Fargate cpu/memory pairs; [`limits`]: the other AWS limits
//!   validation enforces, each named once (and the docs table of them).
//! - [`arn`]: the shapes of the ARNs and ids manifests use.
//! - [`defaults`]: what AWS fills in for a field a manifest leaves out; a deleted field
//!   means its default.

pub mod analysis;
pub mod arn;
mod check;
pub mod defaults;
pub mod deployment;
pub mod diag;
pub mod document;
pub mod fargate;
pub mod hook;
pub mod limits;
pub mod manifest;
pub mod node;
pub mod scaling_policy;
pub mod schema;
pub mod service;
pub mod source;
mod suggest;
pub mod target;
pub mod target_group;
mod validate;

pub use diag::Diagnostic;
pub use document::Document;
pub use manifest::{API_VERSION, Kind, Manifest, Metadata, ObjectKey, Spec};
pub use source::{MAX_FILE_BYTES, Source, SourceFile, parse_source};
pub use target::{Target, TargetSpec, Targets};
pub use validate::{MAX_LABEL_KEYS_CHARS, MAX_LABELS, is_label};
