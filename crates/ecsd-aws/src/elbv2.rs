//! Elastic Load Balancing v2: the [`Elbv2Api`] trait and its SDK implementation.

use futures_util::future::try_join_all;
use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_elasticloadbalancingv2 as elb;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsError;
use aws_sdk_elasticloadbalancingv2::types as sdk;
use ecsd_plan::ops::{HealthCheckInput, RuleConditions, TargetGroupInput};
use ecsd_plan::signals::{TargetHealth, TargetState};
use ecsd_plan::state::{
    ForwardTarget, HealthCheckState, RuleState, Tags, TargetGroupProtocol, TargetGroupState,
    TargetKind,
};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};
use crate::int::i32_of;

/// The ELBv2 calls ecsd makes.
pub trait Elbv2Api: Send + Sync {
    /// Target groups by name; names that do not exist are left out. Tags are not filled
    /// in (see [`Elbv2Api::describe_tags`]).
    fn describe_target_groups(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<TargetGroupState>, AwsError>> + Send;
    /// Every target group of the account and region (for pruning).
    fn list_target_groups(
        &self,
    ) -> impl Future<Output = Result<Vec<TargetGroupState>, AwsError>> + Send;
    /// Tags of any ELB resources, 20 per call.
    fn describe_tags(
        &self,
        arns: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, Tags>, AwsError>> + Send;
    fn deregistration_delay(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<u32>, AwsError>> + Send;
    /// Every registered target of a target group and its health (DescribeTargetHealth).
    fn describe_target_health(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<TargetHealth>, AwsError>> + Send;
    fn create_target_group(
        &self,
        input: &TargetGroupInput,
    ) -> impl Future<Output = Result<TargetGroupState, AwsError>> + Send;
    fn modify_health_check(
        &self,
        arn: &str,
        hc: &HealthCheckInput,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn set_deregistration_delay(
        &self,
        arn: &str,
        seconds: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn add_tags(&self, arn: &str, tags: &Tags)
    -> impl Future<Output = Result<(), AwsError>> + Send;
    fn remove_tags(
        &self,
        arn: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_target_group(&self, arn: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The rules of a listener, without tags.
    fn describe_rules(
        &self,
        listener_arn: &str,
    ) -> impl Future<Output = Result<Vec<RuleState>, AwsError>> + Send;
    /// The listeners of a load balancer.
    fn describe_listeners(
        &self,
        load_balancer_arn: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Creates a rule forwarding to `forward`: one target group with no weight is a
    /// plain forward, anything else a weighted one.
    fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: &RuleConditions,
        forward: &[ForwardTarget],
        tags: &Tags,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Sets a rule's conditions and/or its forward action; `None` leaves either as it is.
    fn modify_rule(
        &self,
        rule_arn: &str,
        conditions: Option<&RuleConditions>,
        forward: Option<&[ForwardTarget]>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn set_rule_priority(
        &self,
        rule_arn: &str,
        priority: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_rule(&self, rule_arn: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
}

sdk_client!(
    /// [`Elbv2Api`] over the aws-sdk-elasticloadbalancingv2 client.
    SdkElbv2,
    elb
);

impl SdkElbv2 {
    /// The target groups of one batch of names, or `None` when one of them does not
    /// exist (AWS then fails the whole call with TargetGroupNotFound).
    async fn describe_names(
        &self,
        names: &[String],
    ) -> Result<Option<Vec<TargetGroupState>>, AwsError> {
        let res = self
            .client
            .describe_target_groups()
            .set_names(Some(names.to_vec()))
            .send()
            .await;
        match res {
            Ok(out) => Ok(Some(
                out.target_groups().iter().map(target_group_state).collect(),
            )),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DescribeTargetGroupsError::TargetGroupNotFoundException(_))
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("ELBv2", "DescribeTargetGroups", e)),
        }
    }
}

/// DescribeTargetGroups takes at most 20 names; DescribeTags at most 20 ARNs.
const NAMES_BATCH: usize = 20;
const TAGS_BATCH: usize = 20;

fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

fn conditions(c: &RuleConditions) -> Vec<sdk::RuleCondition> {
    let (path_patterns, host_headers) = (&c.path_patterns, &c.host_headers);
    let mut out = Vec::new();
    if !path_patterns.is_empty() {
        out.push(
            sdk::RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    sdk::PathPatternConditionConfig::builder()
                        .set_values(Some(path_patterns.to_vec()))
                        .build(),
                )
                .build(),
        );
    }
    if !host_headers.is_empty() {
        out.push(
            sdk::RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    sdk::HostHeaderConditionConfig::builder()
                        .set_values(Some(host_headers.to_vec()))
                        .build(),
                )
                .build(),
        );
    }
    out
}

fn forward(target_group_arn: &str) -> sdk::Action {
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .target_group_arn(target_group_arn)
        .build()
}

/// The forward action to `targets`: plain for one target group without a weight,
/// weighted otherwise (see docs/aws-behaviours.md).
fn forward_action(targets: &[ForwardTarget]) -> sdk::Action {
    if let [only] = targets
        && only.weight.is_none()
    {
        return forward(&only.target_group_arn);
    }
    let mut config = sdk::ForwardActionConfig::builder();
    for t in targets {
        config = config.target_groups(
            sdk::TargetGroupTuple::builder()
                .target_group_arn(&t.target_group_arn)
                .set_weight(t.weight.map(i32_of))
                .build(),
        );
    }
    sdk::Action::builder()
        .r#type(sdk::ActionTypeEnum::Forward)
        .forward_config(config.build())
        .build()
}

impl Elbv2Api for SdkElbv2 {
    async fn describe_target_groups(
        &self,
        names: &[String],
    ) -> Result<Vec<TargetGroupState>, AwsError> {
        let chunks: Vec<&[String]> = names.chunks(NAMES_BATCH).collect();
        let batches = try_join_all(chunks.iter().map(|batch| self.describe_names(batch))).await?;
        // A batch of one name that is not found is that name missing; only a larger
        // batch hides which of its names exist.
        let hidden = batches
            .iter()
            .zip(&chunks)
            .any(|(found, batch)| found.is_none() && batch.len() > 1);
        if !hidden {
            return Ok(batches.into_iter().flatten().flatten().collect());
        }
        // Some names do not exist yet (a first apply): one listing, 400 a page, finds
        // the ones that do, where splitting the batches would cost a call per name.
        let wanted: std::collections::BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let all = self.list_target_groups().await?;
        Ok(all
            .into_iter()
            .filter(|t| wanted.contains(t.name.as_str()))
            .collect())
    }

    async fn list_target_groups(&self) -> Result<Vec<TargetGroupState>, AwsError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .describe_target_groups()
            .page_size(400)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ELBv2", "DescribeTargetGroups"))?;
            found.extend(page.target_groups().iter().map(target_group_state));
        }
        Ok(found)
    }

    async fn describe_tags(&self, arns: &[String]) -> Result<BTreeMap<String, Tags>, AwsError> {
        let mut out = BTreeMap::new();
        let answers = try_join_all(arns.chunks(TAGS_BATCH).map(|batch| {
            self.client
                .describe_tags()
                .set_resource_arns(Some(batch.to_vec()))
                .send()
        }))
        .await
        .map_err(failed("ELBv2", "DescribeTags"))?;
        for res in &answers {
            for d in res.tag_descriptions() {
                let tags = d
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_owned(),
                            t.value().unwrap_or_default().to_owned(),
                        ))
                    })
                    .collect();
                out.insert(d.resource_arn().unwrap_or_default().to_owned(), tags);
            }
        }
        Ok(out)
    }

    async fn deregistration_delay(&self, arn: &str) -> Result<Option<u32>, AwsError> {
        let out = self
            .client
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(failed("ELBv2", "DescribeTargetGroupAttributes"))?;
        Ok(out
            .attributes()
            .iter()
            .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
            .and_then(|a| a.value())
            .and_then(|v| v.parse().ok()))
    }

    async fn describe_target_health(&self, arn: &str) -> Result<Vec<TargetHealth>, AwsError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(failed("ELBv2", "DescribeTargetHealth"))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let health = d.target_health();
                TargetHealth {
                    id: d
                        .target()
                        .and_then(|t| t.id())
                        .unwrap_or_default()
                        .to_owned(),
                    port: d
                        .target()
                        .and_then(|t| t.port())
                        .and_then(|p| u32::try_from(p).ok()),
                    state: TargetState::from_aws(
                        health
                            .and_then(|h| h.state())
                            .map_or("unavailable", |s| s.as_str()),
                    ),
                    reason: health
                        .and_then(|h| h.reason())
                        .map(|r| r.as_str().to_owned()),
                    description: health.and_then(|h| h.description()).map(str::to_owned),
                }
            })
            .collect())
    }

    async fn create_target_group(
        &self,
        input: &TargetGroupInput,
    ) -> Result<TargetGroupState, AwsError> {
        let hc = &input.health_check;
        // Not idempotent when settings differ: one attempt; the controller re-observes
        // before trying again (see `single_attempt` in ecs.rs).
        let out = self
            .client
            .create_target_group()
            .name(&input.name)
            .protocol(sdk::ProtocolEnum::from(input.protocol.as_str()))
            .port(i32::from(input.port))
            .vpc_id(&input.vpc_id)
            .target_type(sdk::TargetTypeEnum::Ip)
            .health_check_path(&hc.path)
            .health_check_interval_seconds(i32_of(hc.interval_seconds))
            .health_check_timeout_seconds(i32_of(hc.timeout_seconds))
            .healthy_threshold_count(i32_of(hc.healthy_threshold))
            .unhealthy_threshold_count(i32_of(hc.unhealthy_threshold))
            .matcher(sdk::Matcher::builder().http_code(&hc.matcher).build())
            .set_tags(Some(sdk_tags(&input.tags)))
            .customize()
            .config_override(
                elb::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(failed("ELBv2", "CreateTargetGroup"))?;
        let mut tg = out
            .target_groups()
            .first()
            .map(target_group_state)
            .ok_or_else(|| AwsError::missing("ELBv2", "CreateTargetGroup", "targetGroups"))?;
        tg.tags = input.tags.clone();
        Ok(tg)
    }

    async fn modify_health_check(&self, arn: &str, hc: &HealthCheckInput) -> Result<(), AwsError> {
        self.client
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_path(&hc.path)
            .health_check_interval_seconds(i32_of(hc.interval_seconds))
            .health_check_timeout_seconds(i32_of(hc.timeout_seconds))
            .healthy_threshold_count(i32_of(hc.healthy_threshold))
            .unhealthy_threshold_count(i32_of(hc.unhealthy_threshold))
            .matcher(sdk::Matcher::builder().http_code(&hc.matcher).build())
            .send()
            .await
            .map_err(failed("ELBv2", "ModifyTargetGroup"))?;
        Ok(())
    }

    async fn set_deregistration_delay(&self, arn: &str, seconds: u32) -> Result<(), AwsError> {
        self.client
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(
                sdk::TargetGroupAttribute::builder()
                    .key("deregistration_delay.timeout_seconds")
                    .value(seconds.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(failed("ELBv2", "ModifyTargetGroupAttributes"))?;
        Ok(())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(failed("ELBv2", "AddTags"))?;
        Ok(())
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(failed("ELBv2", "RemoveTags"))?;
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<(), AwsError> {
        self.client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(failed("ELBv2", "DeleteTargetGroup"))?;
        Ok(())
    }

    async fn describe_rules(&self, listener_arn: &str) -> Result<Vec<RuleState>, AwsError> {
        let mut rules = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_rules()
                .listener_arn(listener_arn)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(failed("ELBv2", "DescribeRules"))?;
            rules.extend(out.rules().iter().map(|r| rule_state(listener_arn, r)));
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => break,
            }
        }
        Ok(rules)
    }

    async fn describe_listeners(&self, load_balancer_arn: &str) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .describe_listeners()
            .load_balancer_arn(load_balancer_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ELBv2", "DescribeListeners"))?;
            out.extend(
                page.listeners()
                    .iter()
                    .filter_map(|l| l.listener_arn().map(str::to_owned)),
            );
        }
        Ok(out)
    }

    async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        rule_conditions: &RuleConditions,
        targets: &[ForwardTarget],
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let action = forward_action(targets);
        let out = self
            .client
            .create_rule()
            .listener_arn(listener_arn)
            .priority(i32_of(priority))
            .set_conditions(Some(conditions(rule_conditions)))
            .actions(action)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(failed("ELBv2", "CreateRule"))?;
        out.rules()
            .first()
            .and_then(|r| r.rule_arn())
            .map(str::to_owned)
            .ok_or_else(|| AwsError::missing("ELBv2", "CreateRule", "rules"))
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        rule_conditions: Option<&RuleConditions>,
        targets: Option<&[ForwardTarget]>,
    ) -> Result<(), AwsError> {
        // Leaving out Actions keeps the rule's action (CodeDeploy's weighted forward).
        self.client
            .modify_rule()
            .rule_arn(rule_arn)
            .set_conditions(rule_conditions.map(conditions))
            .set_actions(targets.map(|t| vec![forward_action(t)]))
            .send()
            .await
            .map_err(failed("ELBv2", "ModifyRule"))?;
        Ok(())
    }

    async fn set_rule_priority(&self, rule_arn: &str, priority: u32) -> Result<(), AwsError> {
        self.client
            .set_rule_priorities()
            .rule_priorities(
                sdk::RulePriorityPair::builder()
                    .rule_arn(rule_arn)
                    .priority(i32_of(priority))
                    .build(),
            )
            .send()
            .await
            .map_err(failed("ELBv2", "SetRulePriorities"))?;
        Ok(())
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        self.client
            .delete_rule()
            .rule_arn(rule_arn)
            .send()
            .await
            .map_err(failed("ELBv2", "DeleteRule"))?;
        Ok(())
    }
}

fn to_u32(n: Option<i32>, default: u32) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(default)
}

fn target_group_state(t: &sdk::TargetGroup) -> TargetGroupState {
    TargetGroupState {
        arn: t.target_group_arn().unwrap_or_default().to_owned(),
        name: t.target_group_name().unwrap_or_default().to_owned(),
        vpc_id: t.vpc_id().unwrap_or_default().to_owned(),
        port: t.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
        protocol: TargetGroupProtocol::parse(t.protocol().map_or("", |p| p.as_str())),
        target_type: TargetKind::parse(t.target_type().map_or("", |p| p.as_str())),
        health_check: HealthCheckState {
            path: t.health_check_path().map(str::to_owned),
            interval_seconds: to_u32(t.health_check_interval_seconds(), 30),
            timeout_seconds: to_u32(t.health_check_timeout_seconds(), 5),
            healthy_threshold: to_u32(t.healthy_threshold_count(), 5),
            unhealthy_threshold: to_u32(t.unhealthy_threshold_count(), 2),
            matcher: t
                .matcher()
                .and_then(|m| m.http_code())
                .unwrap_or("200")
                .to_owned(),
        },
        load_balancer_arns: t.load_balancer_arns().to_vec(),
        tags: Tags::new(),
        deregistration_delay_seconds: None,
    }
}

fn rule_state(listener_arn: &str, r: &sdk::Rule) -> RuleState {
    let mut path_patterns = Vec::new();
    let mut host_headers = Vec::new();
    for c in r.conditions() {
        match c.field() {
            Some("path-pattern") => path_patterns.extend(
                c.path_pattern_config()
                    .map(|p| p.values().to_vec())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| c.values().to_vec()),
            ),
            Some("host-header") => host_headers.extend(
                c.host_header_config()
                    .map(|p| p.values().to_vec())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| c.values().to_vec()),
            ),
            _ => {}
        }
    }
    let mut forward: Vec<ForwardTarget> = Vec::new();
    for a in r.actions() {
        match a.forward_config().map(|fc| fc.target_groups()) {
            // A weighted forward (what CodeDeploy turns blue/green rules into).
            Some(groups) if !groups.is_empty() => {
                forward.extend(groups.iter().filter_map(|t| {
                    Some(ForwardTarget {
                        target_group_arn: t.target_group_arn()?.to_owned(),
                        weight: t.weight().and_then(|w| u32::try_from(w).ok()),
                    })
                }));
            }
            _ => forward.extend(a.target_group_arn().map(|arn| ForwardTarget {
                target_group_arn: arn.to_owned(),
                weight: None,
            })),
        }
    }
    RuleState {
        arn: r.rule_arn().unwrap_or_default().to_owned(),
        listener_arn: listener_arn.to_owned(),
        priority: r.priority().and_then(|p| p.parse().ok()),
        path_patterns,
        host_headers,
        forward,
        tags: Tags::new(),
    }
}
