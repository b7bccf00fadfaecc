//! `ecsd import`: a TargetGroup document from what was read, with the listener rule
//! that forwards to it.

use serde_json::Value;

use ecsd_model::target_group::{
    ListenerRule, Protocol, TargetGroupHealthCheck, TargetGroupSpec, TargetType,
    WeightedTargetGroup,
};
use ecsd_plan::state::{RuleState, TargetGroupProtocol, TargetGroupState, TargetKind};

use super::read::ServiceRead;
use crate::generate::yaml::{Document, labels};

/// The TargetGroup `tg` with its `rule`; `others` are rules forwarding to it that are
/// not its own (written as comments).
pub(super) fn target_group(
    r: &ServiceRead<'_>,
    tg: &TargetGroupState,
    rule: Option<&RuleState>,
    others: &[&RuleState],
) -> Document {
    let mut comments = Vec::new();
    for o in others {
        comments.push(format!(
            "also forwarded to by the rule at priority {} of {} ({}): one rule per TargetGroup is managed; this one is left as it is",
            o.priority.unwrap_or_default(),
            o.listener_arn,
            o.arn
        ));
    }
    if !matches!(
        tg.protocol,
        TargetGroupProtocol::Http | TargetGroupProtocol::Https
    ) {
        comments.push(format!(
            "protocol {} has no manifest value (HTTP or HTTPS)",
            tg.protocol
        ));
    }
    let hc = &tg.health_check;
    let spec = TargetGroupSpec {
        vpc_id: tg.vpc_id.clone(),
        port: tg.port,
        protocol: if tg.protocol == TargetGroupProtocol::Https {
            Protocol::Https
        } else {
            Protocol::Http
        },
        target_type: TargetType::Ip,
        health_check: Some(TargetGroupHealthCheck {
            path: hc.path.clone(),
            interval_seconds: Some(hc.interval_seconds),
            timeout_seconds: Some(hc.timeout_seconds),
            healthy_threshold: Some(hc.healthy_threshold),
            unhealthy_threshold: Some(hc.unhealthy_threshold),
            matcher: Some(hc.matcher.clone()),
        }),
        deregistration_delay_seconds: r.delays.get(&tg.arn).copied().flatten(),
        listener_rule: rule.map(|rule| {
            // A weighted forward to target groups outside the service (an EC2
            // fleet's, mid-migration) is the rule's `alsoForwardTo`; one to the
            // service's own pair is ECS's or CodeDeploy's business.
            let outside: Vec<WeightedTargetGroup> = rule
                .forward
                .iter()
                .filter(|f| !r.tgs.iter().any(|t| t.arn == f.target_group_arn))
                .map(|f| WeightedTargetGroup {
                    target_group_arn: f.target_group_arn.clone(),
                    weight: f.weight.unwrap_or(1),
                })
                .collect();
            let own = rule
                .forward
                .iter()
                .find(|f| f.target_group_arn == tg.arn)
                .map_or(0, |f| f.weight.unwrap_or(1));
            ListenerRule {
                listener_arn: rule.listener_arn.clone(),
                priority: rule.priority.unwrap_or_default(),
                path_patterns: rule.path_patterns.clone(),
                host_headers: rule.host_headers.clone(),
                weight: (!outside.is_empty()).then_some(own),
                also_forward_to: outside,
            }
        }),
    };
    if tg.target_type != TargetKind::Ip {
        comments.push(format!(
            "target type {} is not ip: Fargate needs ip (ecsd cannot change it in place)",
            tg.target_type
        ));
    }
    Document {
        kind: "TargetGroup",
        name: tg.name.clone(),
        labels: labels(&tg.tags),
        spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
        comments,
    }
}
