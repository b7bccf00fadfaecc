//! `kind: TargetGroup`: the VPC id, the health check (its timeout below its interval,
//! defaults included) and the listener rule's conditions and weights.

use super::Validator;
use crate::arn;
use crate::defaults;
use crate::document::Document;
use crate::limits::{
    FORWARD_TARGET_GROUPS_MAX, RULE_CONDITION_VALUE_MAX, RULE_CONDITION_VALUES_MAX,
};
use crate::target_group::{ListenerRule, TargetGroupSpec};

impl Validator<'_> {
    pub(super) fn target_group(&mut self, doc: &Document, tg: &TargetGroupSpec) {
        if !arn::is_resource_id(&tg.vpc_id, "vpc") {
            self.err(
                doc,
                "spec.vpcId",
                format!("spec.vpcId {:?} is not a VPC id (vpc-...)", tg.vpc_id),
            );
        }
        if let Some(hc) = &tg.health_check {
            // AWS refuses a timeout that is not below the interval, defaults included.
            let interval = hc
                .interval_seconds
                .unwrap_or(defaults::TARGET_GROUP_HEALTH_CHECK_INTERVAL);
            let timeout = hc
                .timeout_seconds
                .unwrap_or_else(|| defaults::target_group_health_check_timeout(tg.protocol));
            if timeout >= interval {
                let path = if hc.timeout_seconds.is_some() {
                    "spec.healthCheck.timeoutSeconds"
                } else {
                    "spec.healthCheck.intervalSeconds"
                };
                self.err(doc, path, format!(
                    "spec.healthCheck.timeoutSeconds ({timeout}) must be less than intervalSeconds ({interval})"
                ));
            }
            if let Some(p) = &hc.path
                && !p.starts_with('/')
            {
                self.err(
                    doc,
                    "spec.healthCheck.path",
                    format!("spec.healthCheck.path must start with '/', found {p:?}"),
                );
            }
            if let Some(m) = &hc.matcher
                && let Err(e) = check_matcher(m)
            {
                self.err(
                    doc,
                    "spec.healthCheck.matcher",
                    format!("spec.healthCheck.matcher {m:?} {e}"),
                );
            }
        }
        if let Some(rule) = &tg.listener_rule {
            self.listener_arn(doc, "spec.listenerRule.listenerArn", &rule.listener_arn);
            let values = rule.path_patterns.len() + rule.host_headers.len();
            if values == 0 {
                self.err(
                    doc,
                    "spec.listenerRule",
                    "spec.listenerRule needs pathPatterns or hostHeaders to match on",
                );
            } else if values > RULE_CONDITION_VALUES_MAX {
                self.err(doc, "spec.listenerRule", format!(
                    "spec.listenerRule has {values} condition values; ELB allows at most {RULE_CONDITION_VALUES_MAX} per rule"
                ));
            }
            self.weights(doc, rule);
            for (field, list) in [
                ("pathPatterns", &rule.path_patterns),
                ("hostHeaders", &rule.host_headers),
            ] {
                for (i, v) in list.iter().enumerate() {
                    let path = format!("spec.listenerRule.{field}[{i}]");
                    if v.is_empty()
                        || v.len() > RULE_CONDITION_VALUE_MAX
                        || v.chars().any(char::is_whitespace)
                    {
                        self.err(
                            doc,
                            &path,
                            format!("{path} must be 1-128 characters without spaces, found {v:?}"),
                        );
                    } else if field == "pathPatterns" && !v.starts_with('/') {
                        self.err(
                            doc,
                            &path,
                            format!("{path} must start with '/', found {v:?}"),
                        );
                    }
                }
            }
        }
    }
}

impl Validator<'_> {
    /// A weighted rule: this target group's `weight` and up to four others by ARN (ELB
    /// forwards to at most five target groups per action; the schema keeps each weight
    /// in ELB's 0-999).
    fn weights(&mut self, doc: &Document, rule: &ListenerRule) {
        let base = "spec.listenerRule";
        match (rule.weight, rule.also_forward_to.is_empty()) {
            (Some(_), true) => self.err(
                doc,
                &format!("{base}.weight"),
                format!("{base}.weight needs {base}.alsoForwardTo: without other target groups this one takes all traffic"),
            ),
            (None, false) => self.err(
                doc,
                &format!("{base}.alsoForwardTo"),
                format!("{base}.weight is required with {base}.alsoForwardTo (0-999: this target group's share)"),
            ),
            _ => {}
        }
        if rule.also_forward_to.len() >= FORWARD_TARGET_GROUPS_MAX {
            self.err(
                doc,
                &format!("{base}.alsoForwardTo"),
                format!(
                    "{base}.alsoForwardTo has {} target groups; ELB forwards to at most {FORWARD_TARGET_GROUPS_MAX} per rule, this one included",
                    rule.also_forward_to.len()
                ),
            );
        }
        for (i, o) in rule.also_forward_to.iter().enumerate() {
            let path = format!("{base}.alsoForwardTo[{i}]");
            if !arn::is_target_group_arn(&o.target_group_arn) {
                self.err(doc, &format!("{path}.targetGroupArn"), format!(
                    "{path}.targetGroupArn is not a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID), found {:?}",
                    o.target_group_arn
                ));
            } else if rule.also_forward_to[..i]
                .iter()
                .any(|p| p.target_group_arn == o.target_group_arn)
            {
                self.err(
                    doc,
                    &format!("{path}.targetGroupArn"),
                    format!("{path}.targetGroupArn is listed twice"),
                );
            }
        }
    }
}

/// `200`, `200,202` or `200-299`, with codes from 200 to 499.
fn check_matcher(m: &str) -> Result<(), &'static str> {
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (200..=499).contains(c))
    };
    let ok = if let Some((lo, hi)) = m.split_once('-') {
        matches!((code(lo), code(hi)), (Some(a), Some(b)) if a <= b)
    } else {
        !m.is_empty() && m.split(',').all(|c| code(c).is_some())
    };
    if ok {
        Ok(())
    } else {
        Err("must be HTTP codes 200-499 as \"200\", \"200,302\" or \"200-299\"")
    }
}
