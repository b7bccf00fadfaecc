//! Planning a TargetGroup: the target group, its attributes, and its listener rule.

use serde_json::{Map, Value, json};

use ecsd_model::target_group::TargetGroupSpec;
use ecsd_model::{Kind, Manifest};

use crate::ops::{HealthCheckInput, Op, TargetGroupInput, TargetGroupRef};
use crate::ownership::{self, ATTRIBUTES_TAG, MANIFEST_TAG};
use crate::plan::{Change, Context, change};
use crate::state::{RuleState, TargetGroupState};

/// Fields AWS cannot change on an existing target group.
const IMMUTABLE: [&str; 4] = ["vpcId", "port", "protocol", "targetType"];

pub(crate) fn plan(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &TargetGroupSpec,
) -> Result<Option<Change>, String> {
    let key = m.key();
    let owner = &ctx.opts.owner;
    let tags = ownership::owner_tags(owner, &key, &m.metadata.labels);
    let desired = to_value(spec);
    let observed_tg = ctx.observed.target_groups.get(&m.metadata.name);
    let mut ops = Vec::new();
    let mut notes = Vec::new();
    let (target, observed) = match observed_tg {
        None => {
            ops.push(Op::CreateTargetGroup(TargetGroupInput {
                name: m.metadata.name.clone(),
                vpc_id: spec.vpc_id.clone(),
                port: spec.port,
                protocol: spec.protocol.as_str().to_owned(),
                health_check: health_input(spec),
                tags: tags.clone(),
            }));
            (TargetGroupRef::Name(m.metadata.name.clone()), json!({}))
        }
        Some(tg) => {
            if !ownership::is_owned(&tg.tags, owner) {
                if !ctx.opts.adopt {
                    return Err(format!(
                        "target group {:?} exists but is not owned by ecsd (no {}={owner} tag); use --adopt to take it over",
                        tg.name,
                        ownership::OWNER_TAG
                    ));
                }
                notes.push(format!("adopts the existing target group {}", tg.arn));
                ops.push(Op::TagElbResource {
                    arn: tg.arn.clone(),
                    tags: tags.clone(),
                });
            }
            (
                TargetGroupRef::Arn(tg.arn.clone()),
                observed_value(ctx, tg, spec),
            )
        }
    };
    if let Some(tg) = observed_tg {
        let d = crate::diff::diff(&desired, &observed);
        if let Some(f) = d.iter().find(|f| IMMUTABLE.contains(&f.path.as_str())) {
            return Err(format!(
                "{} cannot change on an existing target group ({} -> {}); give the TargetGroup a new name to create a new one",
                f.path, f.from, f.to
            ));
        }
        if d.iter().any(|f| f.path.starts_with("healthCheck")) {
            ops.push(Op::ModifyTargetGroupHealthCheck {
                arn: tg.arn.clone(),
                health_check: health_input(spec),
            });
        }
    }
    if let Some(seconds) = spec.deregistration_delay_seconds {
        let in_sync = observed
            .get("deregistrationDelaySeconds")
            .and_then(Value::as_u64)
            == Some(u64::from(seconds));
        if !in_sync {
            ops.push(Op::SetDeregistrationDelay {
                target_group: target.clone(),
                seconds,
            });
        }
    }
    rule_ops(ctx, spec, observed_tg, &target, &tags, &mut ops)?;
    Ok(change(
        key,
        observed_tg.is_some(),
        &desired,
        &observed,
        ops,
        notes,
        Vec::new(),
    ))
}

fn to_value(spec: &TargetGroupSpec) -> Value {
    serde_json::to_value(spec).unwrap_or(Value::Null)
}

fn health_input(spec: &TargetGroupSpec) -> HealthCheckInput {
    let hc = spec.health_check.clone().unwrap_or_default();
    HealthCheckInput {
        path: hc.path,
        interval_seconds: hc.interval_seconds,
        timeout_seconds: hc.timeout_seconds,
        healthy_threshold: hc.healthy_threshold,
        unhealthy_threshold: hc.unhealthy_threshold,
        matcher: hc.matcher,
    }
}

/// The value of the attributes tag for a deregistration delay.
pub fn attributes_marker(seconds: u32) -> String {
    format!("deregistration={seconds}")
}

/// Renders what AWS has in the manifest's shape.
fn observed_value(ctx: &Context<'_>, tg: &TargetGroupState, spec: &TargetGroupSpec) -> Value {
    let hc = &tg.health_check;
    let mut health = Map::new();
    if let Some(p) = &hc.path {
        health.insert("path".into(), json!(p));
    }
    health.insert("intervalSeconds".into(), json!(hc.interval_seconds));
    health.insert("timeoutSeconds".into(), json!(hc.timeout_seconds));
    health.insert("healthyThreshold".into(), json!(hc.healthy_threshold));
    health.insert("unhealthyThreshold".into(), json!(hc.unhealthy_threshold));
    health.insert("matcher".into(), json!(hc.matcher));
    let mut v = json!({
        "vpcId": tg.vpc_id,
        "port": tg.port,
        "protocol": tg.protocol,
        "targetType": tg.target_type,
        "healthCheck": health,
    });
    // Attributes are read only when the tag does not already prove they match.
    let delay = tg.deregistration_delay_seconds.or_else(|| {
        let wanted = spec.deregistration_delay_seconds?;
        (tg.tags.get(ATTRIBUTES_TAG) == Some(&attributes_marker(wanted))).then_some(wanted)
    });
    if let (Some(d), Some(obj)) = (delay, v.as_object_mut()) {
        obj.insert("deregistrationDelaySeconds".into(), json!(d));
    }
    if let (Some(rule), Some(obj)) = (owned_rule(ctx, &tg.arn, &spec_key(tg)), v.as_object_mut()) {
        obj.insert(
            "listenerRule".into(),
            json!({
                "listenerArn": rule.listener_arn,
                "priority": rule.priority,
                "pathPatterns": rule.path_patterns,
                "hostHeaders": rule.host_headers,
            }),
        );
    }
    v
}

fn spec_key(tg: &TargetGroupState) -> String {
    format!("{}/{}", Kind::TargetGroup, tg.name)
}

/// The rule ecsd made for this target group, on any observed listener.
fn owned_rule<'a>(ctx: &Context<'a>, tg_arn: &str, key: &str) -> Option<&'a RuleState> {
    ctx.observed.rules.values().flatten().find(|r| {
        ownership::is_owned(&r.tags, &ctx.opts.owner)
            && r.tags.get(MANIFEST_TAG).is_some_and(|k| k == key)
            && r.forward_to.iter().any(|a| a == tg_arn)
    })
}

fn rule_ops(
    ctx: &Context<'_>,
    spec: &TargetGroupSpec,
    tg: Option<&TargetGroupState>,
    target: &TargetGroupRef,
    tags: &crate::state::Tags,
    ops: &mut Vec<Op>,
) -> Result<(), String> {
    let existing = tg.and_then(|tg| owned_rule(ctx, &tg.arn, &spec_key(tg)));
    let Some(want) = &spec.listener_rule else {
        if let Some(rule) = existing {
            ops.push(Op::DeleteRule {
                rule_arn: rule.arn.clone(),
            });
        }
        return Ok(());
    };
    // The priority must be free on the listener, or held by this rule.
    if let Some(taken) = ctx
        .observed
        .rules
        .get(&want.listener_arn)
        .into_iter()
        .flatten()
        .find(|r| r.priority == Some(want.priority) && existing.is_none_or(|e| e.arn != r.arn))
    {
        let whose = if ownership::is_owned(&taken.tags, &ctx.opts.owner) {
            taken
                .tags
                .get(MANIFEST_TAG)
                .map_or("another object", String::as_str)
                .to_string()
        } else {
            "a rule ecsd does not own".to_owned()
        };
        return Err(format!(
            "listener rule priority {} is already taken on {} by {whose} ({})",
            want.priority, want.listener_arn, taken.arn
        ));
    }
    match existing {
        Some(rule) if rule.listener_arn != want.listener_arn => {
            ops.push(Op::DeleteRule {
                rule_arn: rule.arn.clone(),
            });
            ops.push(create_rule(want, target, tags));
        }
        Some(rule) => {
            if rule.path_patterns != want.path_patterns || rule.host_headers != want.host_headers {
                ops.push(Op::ModifyRule {
                    rule_arn: rule.arn.clone(),
                    path_patterns: want.path_patterns.clone(),
                    host_headers: want.host_headers.clone(),
                    target_group: target.clone(),
                });
            }
            if rule.priority != Some(want.priority) {
                ops.push(Op::SetRulePriority {
                    rule_arn: rule.arn.clone(),
                    priority: want.priority,
                });
            }
        }
        None => ops.push(create_rule(want, target, tags)),
    }
    Ok(())
}

fn create_rule(
    want: &ecsd_model::target_group::ListenerRule,
    target: &TargetGroupRef,
    tags: &crate::state::Tags,
) -> Op {
    Op::CreateRule {
        listener_arn: want.listener_arn.clone(),
        priority: want.priority,
        path_patterns: want.path_patterns.clone(),
        host_headers: want.host_headers.clone(),
        target_group: target.clone(),
        tags: tags.clone(),
    }
}
