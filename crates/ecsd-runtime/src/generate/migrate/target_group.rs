//! `ecsd migrate`: one `ip` TargetGroup per instance target group of the fleet, its
//! listener rule just ahead of the fleet's with the same conditions (or, for a fleet
//! served by a listener's default action, a catch-all rule evaluated last), forwarding
//! by weight (all traffic still on the fleet).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use ecsd_plan::state::RuleState;

use ecsd_model::limits::TARGET_GROUP_NAME_MAX;

use super::names::{priority_ahead, sanitize};

/// The highest listener rule priority ALB takes (1-50000): evaluated last.
const MAX_PRIORITY: u32 = 50000;
use super::read::FleetRead;
use crate::generate::yaml::Document;

/// What the target groups give the Service: its `loadBalancers` and container port.
pub(super) struct ForService {
    pub(super) load_balancers: Vec<Value>,
    pub(super) port: Option<u16>,
}

/// The TargetGroups of the fleet's service `service`; what cannot be carried over is
/// told in `service_comments`.
pub(super) fn target_groups(
    r: &FleetRead,
    service: &str,
    service_comments: &mut Vec<String>,
    documents: &mut Vec<Document>,
) -> ForService {
    let fleet = &r.fleet;
    // Target groups: one `ip` target group per instance target group, its rule just
    // ahead of the fleet's.
    let mut used: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for rule in &r.rules {
        if let Some(p) = rule.priority {
            used.entry(rule.listener_arn.clone()).or_default().insert(p);
        }
    }
    let mut load_balancers = Vec::new();
    let mut port = None;
    for (i, arn) in fleet.target_group_arns.iter().enumerate() {
        let Some(tg) = r.target_groups.iter().find(|t| t.arn == *arn) else {
            service_comments.push(format!(
                "target group {arn} of the group was not found: it is left out"
            ));
            continue;
        };
        let name = if i == 0 {
            sanitize(service, TARGET_GROUP_NAME_MAX, "-")
        } else {
            // Room for "-N".
            let base = sanitize(service, TARGET_GROUP_NAME_MAX - 4, "-");
            format!("{base}-{}", i + 1)
        };
        let mut comments = vec![format!(
            "Replaces {:?} (target type {}) for Fargate tasks, which register by IP; same port, protocol, health check and deregistration delay.",
            tg.name, tg.target_type
        )];
        let hc = &tg.health_check;
        let mut spec = json!({
            "vpcId": tg.vpc_id,
            "port": tg.port,
            "protocol": tg.protocol,
            "targetType": "ip",
            "healthCheck": {
                "path": hc.path.clone().unwrap_or_else(|| "/".to_owned()),
                "intervalSeconds": hc.interval_seconds,
                "timeoutSeconds": hc.timeout_seconds,
                "healthyThreshold": hc.healthy_threshold,
                "unhealthyThreshold": hc.unhealthy_threshold,
                "matcher": hc.matcher,
            },
        });
        if let Some(Some(d)) = r.delays.get(&tg.arn) {
            spec["deregistrationDelaySeconds"] = json!(d);
        }
        // The fleet's rule: the first (by priority) that forwards to its target group.
        let mut fleet_rules: Vec<&RuleState> = r
            .rules
            .iter()
            .filter(|rule| rule.priority.is_some() && rule.forwards_to(&tg.arn))
            .collect();
        fleet_rules.sort_by_key(|rule| rule.priority);
        match fleet_rules.first() {
            Some(rule) if rule.path_patterns.is_empty() && rule.host_headers.is_empty() => {
                comments.push(format!(
                    "the fleet's rule {} matches on conditions other than paths and hosts, which a manifest cannot express: add a listenerRule by hand (priority below {}, the same conditions, weight 0 and alsoForwardTo the fleet's target group)",
                    rule.arn,
                    rule.priority.unwrap_or_default()
                ));
            }
            Some(rule) => {
                let fleet_priority = rule.priority.unwrap_or_default();
                let taken = used.entry(rule.listener_arn.clone()).or_default();
                let priority = match priority_ahead(fleet_priority, taken) {
                    Some(p) => p,
                    None => {
                        let p = (fleet_priority..=50000)
                            .find(|p| !taken.contains(p))
                            .unwrap_or(50000);
                        comments.push(format!(
                            "no priority below the fleet's rule ({fleet_priority}) is free on its listener, so this rule at {p} is evaluated after it and gets no traffic: renumber the fleet's rule first"
                        ));
                        p
                    }
                };
                taken.insert(priority);
                comments.push(format!(
                    "Its rule sits at priority {priority}, just ahead of the fleet's rule ({fleet_priority}), with the same conditions. It starts with all traffic on the fleet; move it a commit at a time (weight 10 / 90, then 50 / 50, then 100 / 0), then delete weight and alsoForwardTo. ecsd never changes the fleet's target group or rule."
                ));
                let mut rule_spec = json!({
                    "listenerArn": rule.listener_arn,
                    "priority": priority,
                    "weight": 0,
                    "alsoForwardTo": [{"targetGroupArn": tg.arn, "weight": 100}],
                });
                if !rule.path_patterns.is_empty() {
                    rule_spec["pathPatterns"] = json!(rule.path_patterns);
                }
                if !rule.host_headers.is_empty() {
                    rule_spec["hostHeaders"] = json!(rule.host_headers);
                }
                spec["listenerRule"] = rule_spec;
            }
            None => match r
                .rules
                .iter()
                .find(|rule| rule.priority.is_none() && rule.forwards_to(&tg.arn))
            {
                // Served by a listener's default action: a catch-all rule evaluated
                // after every other rule takes exactly the traffic the default action
                // takes, and moves by weight like any other.
                Some(default) => {
                    let taken = used.entry(default.listener_arn.clone()).or_default();
                    let priority = (1..=MAX_PRIORITY)
                        .rev()
                        .find(|p| !taken.contains(p))
                        .unwrap_or(MAX_PRIORITY);
                    taken.insert(priority);
                    comments.push(format!(
                        "The fleet is served by the default action of listener {}. This rule matches every path (/*) at priority {priority}, after every other rule, so it takes exactly the traffic the default action takes. It starts with all traffic on the fleet; move it a commit at a time (weight 10 / 90, then 50 / 50, then 100 / 0). ecsd never changes the listener's default action.",
                        default.listener_arn
                    ));
                    spec["listenerRule"] = json!({
                        "listenerArn": default.listener_arn,
                        "priority": priority,
                        "pathPatterns": ["/*"],
                        "weight": 0,
                        "alsoForwardTo": [{"targetGroupArn": tg.arn, "weight": 100}],
                    });
                }
                None => comments.push(format!(
                    "no listener rule or default action forwards to {:?}: add a listenerRule for this target group",
                    tg.name
                )),
            },
        }
        for extra in fleet_rules.iter().skip(1) {
            comments.push(format!(
                "the fleet's target group is also reached through rule {} (priority {}): add a TargetGroup per further rule, or move them by hand",
                extra.arn,
                extra.priority.unwrap_or_default()
            ));
        }
        if port.is_none() {
            port = Some(tg.port);
        }
        load_balancers
            .push(json!({"targetGroup": name, "containerName": "app", "containerPort": tg.port}));
        documents.push(Document {
            kind: "TargetGroup",
            name,
            labels: BTreeMap::new(),
            spec,
            comments,
        });
    }

    ForService {
        load_balancers,
        port,
    }
}
