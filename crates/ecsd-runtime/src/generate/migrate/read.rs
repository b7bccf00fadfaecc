//! What `ecsd migrate` reads for one Auto Scaling group, and what the user chose.

use std::collections::BTreeMap;

use ecsd_aws::{AwsError, Elbv2Api, Fleet, FleetApi};
use ecsd_plan::state::{RuleState, TargetGroupState};

use crate::generate::target_groups::{read_target_groups, target_group_name};

/// Migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("reading AWS: {0}")]
    Aws(#[from] AwsError),
    #[error("no Auto Scaling group {0:?}")]
    NoGroup(String),
}

/// What the user chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The container image; without it the manifest holds a placeholder `validate`
    /// points at.
    pub image: Option<String>,
    /// The ECS cluster the service goes to (it must exist).
    pub cluster: String,
}

/// Everything read for one Auto Scaling group.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRead {
    pub fleet: Fleet,
    /// Its target groups.
    pub target_groups: Vec<TargetGroupState>,
    /// The rules of every listener of their load balancers.
    pub rules: Vec<RuleState>,
    /// Each target group's deregistration delay, by ARN.
    pub delays: BTreeMap<String, Option<u32>>,
}

/// Reads the group `name`, its target groups and the rules of their load balancers'
/// listeners.
pub async fn read<F: FleetApi, L: Elbv2Api>(
    fleet_api: &F,
    elb: &L,
    name: &str,
) -> Result<FleetRead, MigrateError> {
    let fleet = fleet_api
        .describe_fleet(name)
        .await?
        .ok_or_else(|| MigrateError::NoGroup(name.to_owned()))?;
    let names: Vec<String> = fleet
        .target_group_arns
        .iter()
        .map(|a| target_group_name(a))
        .collect();
    let (target_groups, rules, delays) = read_target_groups(elb, &names).await?;
    Ok(FleetRead {
        fleet,
        target_groups,
        rules,
        delays,
    })
}
