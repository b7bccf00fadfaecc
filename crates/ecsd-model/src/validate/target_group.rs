//! `kind: TargetGroup`: the VPC id, the health check (its timeout below its interval,
//! defaults included) and the listener rule's conditions.

use super::Validator;
use crate::arn;
use crate::defaults;
use crate::document::Document;
use crate::target_group::TargetGroupSpec;

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
            } else if values > 5 {
                self.err(doc, "spec.listenerRule", format!(
                    "spec.listenerRule has {values} condition values; ELB allows at most 5 per rule"
                ));
            }
            for (field, list) in [
                ("pathPatterns", &rule.path_patterns),
                ("hostHeaders", &rule.host_headers),
            ] {
                for (i, v) in list.iter().enumerate() {
                    let path = format!("spec.listenerRule.{field}[{i}]");
                    if v.is_empty() || v.len() > 128 || v.chars().any(char::is_whitespace) {
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
