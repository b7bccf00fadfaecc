//! What `import` and `migrate` both read from ELBv2 to write TargetGroups: the groups,
//! the rules of their load balancers' listeners, their deregistration delays.

use std::collections::{BTreeMap, BTreeSet};

use ecsd_aws::{AwsError, Elbv2Api};
use ecsd_plan::state::{RuleState, TargetGroupState};

/// The name of a target group from its ARN (`...:targetgroup/NAME/ID`).
pub fn target_group_name(arn: &str) -> String {
    arn.split(":targetgroup/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(arn)
        .to_owned()
}

/// Target groups by name, the rules of every listener of their load balancers (each
/// load balancer and listener read once), and each target group's deregistration
/// delay by ARN: what `import` and `migrate` write a TargetGroup from.
pub async fn read_target_groups<L: Elbv2Api>(
    elb: &L,
    names: &[String],
) -> Result<TargetGroupsRead, AwsError> {
    if names.is_empty() {
        return Ok((Vec::new(), Vec::new(), BTreeMap::new()));
    }
    let tgs = elb.describe_target_groups(names).await?;
    let load_balancers: BTreeSet<&String> =
        tgs.iter().flat_map(|t| &t.load_balancer_arns).collect();
    let mut rules: Vec<RuleState> = Vec::new();
    let mut listeners = BTreeSet::new();
    for lb in load_balancers {
        for l in elb.describe_listeners(lb).await? {
            if listeners.insert(l.clone()) {
                rules.extend(elb.describe_rules(&l).await?);
            }
        }
    }
    let mut delays = BTreeMap::new();
    for t in &tgs {
        delays.insert(t.arn.clone(), elb.deregistration_delay(&t.arn).await?);
    }
    Ok((tgs, rules, delays))
}

/// What [`read_target_groups`] returns.
pub type TargetGroupsRead = (
    Vec<TargetGroupState>,
    Vec<RuleState>,
    BTreeMap<String, Option<u32>>,
);
