//! Manifest generation: manifests written from what already runs, for a user to commit.
//!
//! # Layout
//! - [`import`](mod@import): `ecsd import`, manifests for ECS services that already run, with
//!   their target groups, listener rules and scaling.
//! - [`migrate`]: `ecsd migrate --asg`, manifests for the Fargate equivalent of an EC2
//!   Auto Scaling group.
//! - [`yaml`]: the one YAML writer both use ([`yaml::Document`]); [`target_groups`]:
//!   what both read from ELBv2 for a TargetGroup.
//!
//! Both read through the traits of `ecsd-aws` and never change AWS.

pub mod import;
pub mod migrate;
pub mod target_groups;
pub mod yaml;
