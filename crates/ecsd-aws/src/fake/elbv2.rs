//! The fake's Elastic Load Balancing: target groups, listener rules, tags.

use std::collections::BTreeMap;

use ecsd_model::arn::load_balancer_of_listener;
use ecsd_plan::ops::{HealthCheckInput, RuleConditions, TargetGroupInput};
use ecsd_plan::state::{
    ForwardTarget, HealthCheckState, RuleState, Tags, TargetGroupProtocol, TargetGroupState,
    TargetKind,
};

use crate::elbv2::Elbv2Api;
use crate::error::AwsError;

#[allow(unused_imports)]
use super::{
    ACCOUNT, DRAIN, FakeAws, FakeGroup, FakeServiceDeployment, FakeState, REGION, error, not_found,
};

/// A plain forward, or with an alternate a 100/0 weighted forward to both.
pub(super) fn health(input: &HealthCheckInput) -> HealthCheckState {
    HealthCheckState {
        path: Some(input.path.clone()),
        interval_seconds: input.interval_seconds,
        timeout_seconds: input.timeout_seconds,
        healthy_threshold: input.healthy_threshold,
        unhealthy_threshold: input.unhealthy_threshold,
        matcher: input.matcher.clone(),
    }
}

impl Elbv2Api for FakeAws {
    async fn describe_target_groups(
        &self,
        names: &[String],
    ) -> Result<Vec<TargetGroupState>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroups").await?;
        Ok(names
            .iter()
            .filter_map(|n| s.target_groups.get(n))
            .map(|t| TargetGroupState {
                tags: Tags::new(),
                ..t.clone()
            })
            .collect())
    }

    async fn list_target_groups(&self) -> Result<Vec<TargetGroupState>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroups").await?;
        Ok(s.target_groups
            .values()
            .map(|t| TargetGroupState {
                tags: Tags::new(),
                ..t.clone()
            })
            .collect())
    }

    async fn describe_tags(&self, arns: &[String]) -> Result<BTreeMap<String, Tags>, AwsError> {
        let s = self.call("ELBv2", "DescribeTags").await?;
        let mut out = BTreeMap::new();
        for arn in arns {
            let tags = s
                .target_groups
                .values()
                .find(|t| &t.arn == arn)
                .map(|t| t.tags.clone())
                .or_else(|| {
                    s.rules
                        .values()
                        .flatten()
                        .find(|r| &r.arn == arn)
                        .map(|r| r.tags.clone())
                });
            if let Some(tags) = tags {
                out.insert(arn.clone(), tags);
            }
        }
        Ok(out)
    }

    async fn deregistration_delay(&self, arn: &str) -> Result<Option<u32>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroupAttributes").await?;
        Ok(Some(
            s.deregistration_delays.get(arn).copied().unwrap_or(300),
        ))
    }

    async fn describe_target_health(
        &self,
        arn: &str,
    ) -> Result<Vec<ecsd_plan::signals::TargetHealth>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetHealth").await?;
        if !s.target_groups.values().any(|t| t.arn == arn) {
            return Err(not_found(
                "ELBv2",
                "DescribeTargetHealth",
                "TargetGroupNotFound",
                arn,
            ));
        }
        if let Some(set) = s.targets.get(arn) {
            return Ok(set.clone());
        }
        // As ECS does: each running task of a service routing to the group is a
        // registered target, healthy unless a test sets `FakeState::targets`.
        let mut out = Vec::new();
        for svc in s.services.values() {
            for lb in svc
                .load_balancers
                .iter()
                .filter(|lb| lb.target_group_arn == arn)
            {
                for i in 0..svc.running_count {
                    out.push(ecsd_plan::signals::TargetHealth {
                        id: format!("10.0.{}.{}", out.len() / 250, i % 250 + 1),
                        port: Some(u32::from(lb.container_port)),
                        state: ecsd_plan::signals::TargetState::Healthy,
                        reason: None,
                        description: None,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn create_target_group(
        &self,
        input: &TargetGroupInput,
    ) -> Result<TargetGroupState, AwsError> {
        let mut s = self.call("ELBv2", "CreateTargetGroup").await?;
        if s.target_groups.contains_key(&input.name) {
            return Err(not_found(
                "ELBv2",
                "CreateTargetGroup",
                "DuplicateTargetGroupName",
                &input.name,
            ));
        }
        let id = s.id();
        let tg = TargetGroupState {
            arn: format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{}/{id}",
                input.name
            ),
            name: input.name.clone(),
            vpc_id: input.vpc_id.clone(),
            port: input.port,
            protocol: TargetGroupProtocol::parse(&input.protocol),
            target_type: TargetKind::Ip,
            health_check: health(&input.health_check),
            load_balancer_arns: Vec::new(),
            tags: input.tags.clone(),
            deregistration_delay_seconds: None,
        };
        s.target_groups.insert(input.name.clone(), tg.clone());
        drop(s);
        self.deliver("ELBv2", "CreateTargetGroup", tg)
    }

    async fn modify_health_check(&self, arn: &str, hc: &HealthCheckInput) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyTargetGroup").await?;
        let tg = s
            .target_groups
            .values_mut()
            .find(|t| t.arn == arn)
            .ok_or_else(|| not_found("ELBv2", "ModifyTargetGroup", "TargetGroupNotFound", arn))?;
        tg.health_check = health(hc);
        Ok(())
    }

    async fn set_deregistration_delay(&self, arn: &str, seconds: u32) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyTargetGroupAttributes").await?;
        s.deregistration_delays.insert(arn.to_owned(), seconds);
        Ok(())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "AddTags").await?;
        if let Some(t) = s.target_groups.values_mut().find(|t| t.arn == arn) {
            t.tags.extend(tags.clone());
        } else if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == arn) {
            r.tags.extend(tags.clone());
        }
        Ok(())
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "RemoveTags").await?;
        if let Some(t) = s.target_groups.values_mut().find(|t| t.arn == arn) {
            t.tags.retain(|k, _| !keys.contains(k));
        } else if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == arn) {
            r.tags.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "DeleteTargetGroup").await?;
        s.target_groups.retain(|_, t| t.arn != arn);
        Ok(())
    }

    async fn describe_rules(&self, listener_arn: &str) -> Result<Vec<RuleState>, AwsError> {
        let s = self.call("ELBv2", "DescribeRules").await?;
        let rules = s
            .rules
            .get(listener_arn)
            .ok_or_else(|| not_found("ELBv2", "DescribeRules", "ListenerNotFound", listener_arn))?;
        Ok(rules
            .iter()
            .map(|r| RuleState {
                tags: Tags::new(),
                ..r.clone()
            })
            .collect())
    }

    async fn describe_listeners(&self, load_balancer_arn: &str) -> Result<Vec<String>, AwsError> {
        let s = self.call("ELBv2", "DescribeListeners").await?;
        Ok(s.rules
            .keys()
            .filter(|l| load_balancer_of_listener(l).as_deref() == Some(load_balancer_arn))
            .cloned()
            .collect())
    }

    async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: &RuleConditions,
        forward: &[ForwardTarget],
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut s = self.call("ELBv2", "CreateRule").await?;
        let id = s.id();
        let rules = s
            .rules
            .get_mut(listener_arn)
            .ok_or_else(|| not_found("ELBv2", "CreateRule", "ListenerNotFound", listener_arn))?;
        if rules.iter().any(|r| r.priority == Some(priority)) {
            return Err(not_found(
                "ELBv2",
                "CreateRule",
                "PriorityInUse",
                &priority.to_string(),
            ));
        }
        let arn = format!(
            "{}/{id}",
            listener_arn.replace(":listener/", ":listener-rule/")
        );
        rules.push(RuleState {
            arn: arn.clone(),
            listener_arn: listener_arn.to_owned(),
            priority: Some(priority),
            path_patterns: conditions.path_patterns.clone(),
            host_headers: conditions.host_headers.clone(),
            forward: forward.to_vec(),
            tags: tags.clone(),
        });
        s.relink();
        Ok(arn)
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: Option<&RuleConditions>,
        forward: Option<&[ForwardTarget]>,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyRule").await?;
        let rule = s
            .rules
            .values_mut()
            .flatten()
            .find(|r| r.arn == rule_arn)
            .ok_or_else(|| not_found("ELBv2", "ModifyRule", "RuleNotFound", rule_arn))?;
        if let Some(c) = conditions {
            rule.path_patterns = c.path_patterns.clone();
            rule.host_headers = c.host_headers.clone();
        }
        if let Some(f) = forward {
            rule.forward = f.to_vec();
        }
        s.relink();
        Ok(())
    }

    async fn set_rule_priority(&self, rule_arn: &str, priority: u32) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "SetRulePriorities").await?;
        if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == rule_arn) {
            r.priority = Some(priority);
        }
        Ok(())
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "DeleteRule").await?;
        for rules in s.rules.values_mut() {
            rules.retain(|r| r.arn != rule_arn);
        }
        s.relink();
        Ok(())
    }
}
