//! ECS rewriting the listener rules of a blue/green, linear or canary service in the
//! fake account (docs/aws-behaviours.md, `native-traffic`): at each stage and step the
//! production rule splits by the new revision's weight and the test rule moves to the
//! new revision once test traffic shifted; a completed deployment leaves all traffic
//! on the new revision's target group, which then serves (the service reports the pair
//! swapped); a rollback puts all traffic back on the old one.

use std::collections::BTreeMap;

use ecsd_plan::state::{ForwardTarget, ServiceLoadBalancer};

use super::FakeState;

/// The target groups and rules of one native deployment, from the service's load
/// balancer when the deployment started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficPair {
    /// The group that served before the deployment.
    pub blue: String,
    /// The group the new revision registers with.
    pub green: String,
    pub production_rule: Option<String>,
    pub test_rule: Option<String>,
}

impl TrafficPair {
    /// The pair of a service's first load balancer, if it has advanced configuration.
    pub fn of(lbs: &[ServiceLoadBalancer]) -> Option<TrafficPair> {
        let lb = lbs.first()?;
        let a = lb.advanced.as_ref()?;
        Some(TrafficPair {
            blue: lb.target_group_arn.clone(),
            green: a.alternate_target_group_arn.clone(),
            production_rule: a.production_listener_rule.clone(),
            test_rule: a.test_listener_rule.clone(),
        })
    }
}

/// Where a deployment's traffic stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shift {
    /// Under way: the new revision's production share in percent, and whether test
    /// traffic moved to it.
    At { weight: f64, tested: bool },
    /// Completed: everything on the new revision.
    Complete,
    /// Rolled back: everything on the old revision.
    RolledBack,
}

impl FakeState {
    /// Sets the production and test rules of `pair` as ECS leaves them at `shift`.
    pub(super) fn shift_rules(&mut self, pair: &TrafficPair, shift: Shift) {
        let (weight, tested) = match shift {
            Shift::At { weight, tested } => (weight, tested),
            Shift::Complete => (100.0, true),
            Shift::RolledBack => (0.0, false),
        };
        // ALB weights are integers 0-999.
        let green = weight.round().clamp(0.0, 100.0) as u32;
        if let Some(rule) = &pair.production_rule {
            self.set_weights(
                rule,
                &[
                    (pair.blue.as_str(), 100 - green),
                    (pair.green.as_str(), green),
                ],
            );
        }
        if let Some(rule) = &pair.test_rule {
            let test = if tested { 100 } else { 0 };
            self.set_weights(
                rule,
                &[
                    (pair.blue.as_str(), 100 - test),
                    (pair.green.as_str(), test),
                ],
            );
        }
    }

    /// The rule `arn` becomes a weighted forward with these weights, in the order the
    /// rule lists its target groups (any it lacks after).
    fn set_weights(&mut self, arn: &str, weights: &[(&str, u32)]) {
        let Some(rule) = self.rules.values_mut().flatten().find(|r| r.arn == arn) else {
            return;
        };
        let wanted: BTreeMap<&str, u32> = weights.iter().copied().collect();
        let mut order: Vec<String> = rule
            .forward
            .iter()
            .map(|f| f.target_group_arn.clone())
            .filter(|a| wanted.contains_key(a.as_str()))
            .collect();
        for (a, _) in weights {
            if !order.iter().any(|o| o == a) {
                order.push((*a).to_owned());
            }
        }
        rule.forward = order
            .into_iter()
            .map(|a| ForwardTarget {
                weight: wanted.get(a.as_str()).copied(),
                target_group_arn: a,
            })
            .collect();
    }

    /// After a completed deployment the new revision's group serves: the service
    /// reports it as its target group and the old one as the alternate.
    pub(super) fn swap_pair(&mut self, service: &ecsd_plan::state::ServiceId, pair: &TrafficPair) {
        let Some(svc) = self.services.get_mut(service) else {
            return;
        };
        if let Some(lb) = svc.load_balancers.first_mut()
            && lb.target_group_arn == pair.blue
            && let Some(a) = &mut lb.advanced
        {
            lb.target_group_arn = pair.green.clone();
            a.alternate_target_group_arn = pair.blue.clone();
        }
    }
}
