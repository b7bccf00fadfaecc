//! Everything `ecsd import` reads for one service, as the renderers of each document
//! kind take it.

use std::collections::BTreeMap;

use ecsd_plan::state::{RuleState, ServiceState, TargetGroupState};

/// Everything read for one service.
pub struct ServiceRead<'a> {
    pub svc: &'a ServiceState,
    pub td: &'a ecsd_plan::state::TaskDefinitionState,
    pub tgs: &'a [TargetGroupState],
    pub rules: &'a [RuleState],
    pub delays: &'a BTreeMap<String, Option<u32>>,
    pub scaling: &'a ecsd_aws::scaling::ServiceScaling,
    /// The scalable target's tags: the ScalingPolicy's labels.
    pub scaling_tags: &'a BTreeMap<String, String>,
    pub group: Option<&'a ecsd_plan::state::DeploymentGroupState>,
}
