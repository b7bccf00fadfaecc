//! ecsd's AWS layer: one small trait per AWS service ecsd talks to, returning ecsd's own
//! types, with an implementation over the official aws-sdk-rust clients and an in-memory
//! fake for unit tests. SDK types do not leave this crate.
//!
//! Credentials, region and endpoint come only from the standard AWS chain (environment,
//! profile, container credentials on Fargate, `AWS_ENDPOINT_URL` for an emulator).
//!
//! # Layout
//! - [`config`]: loading the shared SDK configuration with ecsd's retry and timeout policy.
//! - [`pace`]: every request paced to the rate AWS allows per action, and a throttled
//!   request sent again (AWS did nothing with it), in front of the SDK's HTTP client.
//! - [`error`]: [`AwsError`], an AWS failure with service, operation, code and message.
//! - [`ecs`], [`elbv2`], [`scaling`], [`codedeploy`]: one trait per service ([`EcsApi`],
//!   [`Elbv2Api`], [`ScalingApi`], [`CodeDeployApi`]) and its SDK implementation; `task_definition` converts task
//!   definitions between the manifest's form and the SDK's.
//! - [`cloudwatch`]: the state of alarms ([`CloudWatchApi`]), read for health.
//! - [`fleet`]: an EC2 Auto Scaling group with its policies and launch template
//!   ([`FleetApi`]), read (never changed) for `ecsd migrate --asg`; [`ec2`]: its one EC2
//!   call, sent over EC2's Query API with SigV4 instead of the (huge) EC2 SDK.
//! - [`https`]: the one plain HTTPS client outside the SDK (EC2's Query API, notifications).
//! - [`s3`]: the S3 manifest source's object store.
//! - [`queue`]: the SQS queue EventBridge feeds for `run --events` ([`EventQueue`]).
//! - [`lease`]: the DynamoDB lease table of leader election ([`LeaseApi`]), and
//!   [`fence`]: the gate that refuses mutating requests while this replica does not
//!   hold the lease.
//! - [`rate`]: the `--aws-rps` token bucket the pacer also waits for.
//! - [`stats`]: an SDK interceptor counting every call by service, operation, outcome.
//! - `int`: the one `u32` ↔ `i32` conversion at the SDK boundary.
//! - `fake` (feature `fake`, for tests only): an in-memory AWS account implementing
//!   every trait, one file per trait, modelling the AWS behaviours the local emulator
//!   lacks; `fake/native`
//!   runs ECS blue/green, linear and canary deployments on tokio's clock.

pub mod cloudwatch;
pub mod codedeploy;
pub mod config;
pub mod ec2;
pub mod ecs;
pub mod elbv2;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod fence;
pub mod fleet;
pub mod https;
mod int;
pub mod lease;
pub mod pace;
pub mod queue;
pub mod rate;
pub mod s3;
pub mod scaling;
pub mod stats;
mod task_definition;

pub use cloudwatch::{CloudWatchApi, SdkCloudWatch};
pub use codedeploy::{CodeDeployApi, ObservedGroup, SdkCodeDeploy};
pub use config::{AssumeRole, AwsConfig, load_config, load_config_limited};
pub use ecs::{
    Cluster, ClusterLookup, CreateService, EcsApi, ResolvedLoadBalancer, RollbackFound, SdkEcs,
    UpdateService,
};
pub use elbv2::{Elbv2Api, SdkElbv2};
pub use error::AwsError;
pub use fence::Fence;
pub use fleet::{Fleet, FleetApi, FleetHealthCheck, FleetPolicy, LaunchTemplate, SdkFleet};
pub use lease::{LeaseApi, SdkLease};
pub use queue::{EventQueue, QueueMessage, SdkQueue};
pub use s3::SdkS3;
pub use scaling::{ScalingApi, SdkScaling};
pub use stats::CallStats;
