//! The pair of target groups ECS shifts production (and test) traffic between in a
//! Service's blue/green, linear and canary deployments, as ECS has it now.
//!
//! ECS owns the weights of the listener rules `traffic` names: it moves them during a
//! deployment, and when a deployment completes the target group that received the new
//! revision is the one that serves. DescribeServices then reports the pair swapped: the
//! service's `loadBalancers[0].targetGroupArn` is the manifest's alternate and
//! `advancedConfiguration.alternateTargetGroupArn` the manifest's own (docs/aws-behaviours.md,
//! `native-traffic`). Whatever ecsd sends for these rules and load balancers therefore
//! starts from what AWS reports, never from the manifest's order: a rule written with
//! weight 100 on the idle group sends production traffic where no task runs.

use ecsd_model::service::{ServiceSpec, Traffic};
use ecsd_model::target_group::ListenerRule;
use ecsd_model::{Manifest, Spec};

use super::Context;
use crate::state::ServiceState;

/// The two target groups of a Service's native deployments, by TargetGroup name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShiftPair<'a> {
    /// The manifest's order: the service's own target group, then the alternate.
    pub(crate) primary: &'a str,
    pub(crate) alternate: &'a str,
    /// ECS's order now: the group that serves production traffic (weight 100 outside a
    /// deployment) and the idle one (weight 0).
    pub(crate) serving: &'a str,
    pub(crate) idle: &'a str,
}

impl<'a> Context<'a> {
    /// The Services (name, spec, traffic settings) deployed by ECS blue/green, linear or
    /// canary whose production or test listener rule is this TargetGroup's.
    fn shifting(
        &self,
        target_group: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a ServiceSpec, &'a Traffic)> + 'a {
        self.manifests.iter().filter_map(move |m| match &m.spec {
            Spec::Service(s) if s.deployment.is_native() => {
                let t = s.deployment.traffic.as_ref()?;
                let named = t.production_listener_rule == target_group
                    || t.test_listener_rule.as_deref() == Some(target_group);
                named.then_some((m.metadata.name.as_str(), s.as_ref(), t))
            }
            _ => None,
        })
    }

    /// For a TargetGroup whose listener rule ECS shifts in a Service's native
    /// deployments: the Service's two target groups (its own, then the alternate).
    pub(crate) fn shifted_rule(&self, target_group: &'a str) -> Option<(&'a str, &'a str)> {
        self.shift_pair(target_group)
            .map(|p| (p.primary, p.alternate))
    }

    /// For a TargetGroup whose listener rule ECS shifts: the pair, with the group that
    /// serves now as ECS reports it (the manifest's order until the service exists).
    pub(crate) fn shift_pair(&self, target_group: &'a str) -> Option<ShiftPair<'a>> {
        self.shifting(target_group).find_map(|(name, s, t)| {
            let primary = s.load_balancers.first()?.target_group.as_str();
            let alternate = t.alternate_target_group.as_str();
            let swapped = self
                .observed
                .services
                .get(&self.service_id(name, s))
                .is_some_and(|svc| self.swapped(svc, primary, alternate));
            let (serving, idle) = if swapped {
                (alternate, primary)
            } else {
                (primary, alternate)
            };
            Some(ShiftPair {
                primary,
                alternate,
                serving,
                idle,
            })
        })
    }

    /// Whether ECS reports the service's pair the other way round from the manifest:
    /// its load balancer on `alternate`, and `primary` as the alternate.
    pub(crate) fn swapped(&self, svc: &ServiceState, primary: &str, alternate: &str) -> bool {
        let Some(lb) = svc.load_balancers.first() else {
            return false;
        };
        let Some(a) = &lb.advanced else {
            return false;
        };
        self.target_group_name(&lb.target_group_arn) == Some(alternate)
            && self.target_group_name(&a.alternate_target_group_arn) == Some(primary)
    }

    /// Which of `primary` and `alternate` the rule of the TargetGroup `production` sends
    /// all its traffic to now, by the weights AWS reports (CodeDeploy moves them without
    /// changing what the service reports); `None` when it splits or names neither.
    pub(crate) fn serving_by_rule(
        &self,
        production: &str,
        primary: &'a str,
        alternate: &'a str,
    ) -> Option<&'a str> {
        let rule = self.owned_rule(production)?;
        let share = |name: &str| {
            let arn = &self.observed.target_groups.get(name)?.arn;
            rule.forward
                .iter()
                .find(|f| f.target_group_arn == *arn)
                .map(|f| f.weight.unwrap_or(1))
        };
        match (share(primary), share(alternate)) {
            (Some(p), None | Some(0)) if p > 0 => Some(primary),
            (None | Some(0), Some(a)) if a > 0 => Some(alternate),
            _ => None,
        }
    }

    /// Whether the Service that shifts this TargetGroup's rule has a deployment under
    /// way (then the rule's action is ECS's alone).
    pub(crate) fn deploying(&self, target_group: &'a str) -> bool {
        self.shifting(target_group).any(|(name, s, _)| {
            let id = self.service_id(name, s);
            self.observed.native_deployments.contains_key(&id)
                || self
                    .observed
                    .services
                    .get(&id)
                    .is_some_and(ServiceState::deploying)
        })
    }

    /// The alternate's shifted rule that the change of `primary` (a Service's own
    /// target group, being created in this pass) creates: a rule ECS shifts needs both
    /// target groups from its first request, and the alternate's change runs before the
    /// primary exists (the primary waits for it). `None` when the alternate's rule
    /// exists, or the primary already exists (then the alternate's change makes it).
    pub(crate) fn partner_rule(
        &self,
        primary: &'a str,
    ) -> Option<(&'a Manifest, &'a ListenerRule)> {
        if self.observed.target_groups.contains_key(primary) {
            return None;
        }
        let alternate = self.manifests.iter().find_map(|m| match &m.spec {
            Spec::Service(s) if s.deployment.is_native() => {
                let first = s.load_balancers.first()?;
                let traffic = s.deployment.traffic.as_ref()?;
                (first.target_group == primary).then_some(traffic.alternate_target_group.as_str())
            }
            _ => None,
        })?;
        let pair = self.shift_pair(alternate)?;
        if pair.primary != primary || self.owned_rule(alternate).is_some() {
            return None;
        }
        self.manifests.iter().copied().find_map(|m| match &m.spec {
            Spec::TargetGroup(tg) if m.metadata.name == alternate => {
                tg.listener_rule.as_ref().map(|r| (m, r))
            }
            _ => None,
        })
    }
}
