//! Planning a TargetGroup: the target group, its attributes, its listener rule and the
//! labels on both.
//!
//! A listener rule is found by ecsd's tags, not by where it forwards: CodeDeploy rewrites
//! the forward action of blue/green rules (a weighted forward to the other target group),
//! and that is CodeDeploy's business. For those, a condition change modifies the
//! conditions only; for every other rule, a forward pointed elsewhere is drift and is
//! pointed back.

use serde_json::{Map, Value, json};

use ecsd_model::target_group::{ListenerRule, TargetGroupSpec};
use ecsd_model::{Kind, Manifest, ObjectKey};

use super::{Context, Draft, PlanError, PlanErrorKind, Planned};
use crate::defaults;
use crate::ops::{
    Forward, HealthCheckInput, Op, RuleConditions, Tagged, TargetGroupInput, TargetGroupRef,
};
use crate::ownership::{
    self, ATTRIBUTES_TAG, MANIFEST_TAG, attributes_marker, attributes_recorded, label_sync,
};
use crate::state::{ForwardTarget, RuleState, Tags, TargetGroupState};

/// Fields AWS cannot change on an existing target group.
const IMMUTABLE: [&str; 4] = ["vpcId", "port", "protocol", "targetType"];

pub(super) fn plan(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &TargetGroupSpec,
) -> Result<Planned, PlanError> {
    let key = m.key();
    let owner = &ctx.opts.owner;
    let mut tags = ownership::owner_tags(owner, &key, &m.metadata.labels);
    let desired = desired_value(spec);
    let observed_tg = ctx.observed.target_groups.get(&m.metadata.name);
    let mut draft = Draft::new(key.clone(), observed_tg.is_some());
    let delay = spec
        .deregistration_delay_seconds
        .unwrap_or(defaults::TARGET_GROUP_DEREGISTRATION_DELAY);
    let existing_rule = observed_tg.and_then(|tg| owned_rule(ctx, tg));
    let target = match observed_tg {
        None => {
            // AWS creates a target group with the default delay: record it right away,
            // or set and record another.
            if delay == defaults::TARGET_GROUP_DEREGISTRATION_DELAY {
                tags.insert(ATTRIBUTES_TAG.to_owned(), attributes_marker(delay));
            }
            draft.ops.push(Op::CreateTargetGroup(TargetGroupInput {
                name: m.metadata.name.clone(),
                vpc_id: spec.vpc_id.clone(),
                port: spec.port,
                protocol: spec.protocol.as_str().to_owned(),
                health_check: health_input(spec),
                tags: tags.clone(),
            }));
            let target = TargetGroupRef::Name(m.metadata.name.clone());
            if delay != defaults::TARGET_GROUP_DEREGISTRATION_DELAY {
                draft.ops.push(Op::SetDeregistrationDelay {
                    target_group: target.clone(),
                    seconds: delay,
                    owner: owner.clone(),
                });
            }
            draft.compare(&desired, &json!({}));
            target
        }
        Some(tg) => {
            let owned = ownership::is_owned(&tg.tags, owner);
            if !owned && !ctx.opts.adopt {
                return Err(PlanError::new(
                    PlanErrorKind::NotOwned,
                    format!(
                        "target group {:?} exists but is not owned by ecsd (no {}={owner} tag); use --adopt to take it over",
                        tg.name,
                        ownership::OWNER_TAG
                    ),
                ));
            }
            let mut observed = observed_value(tg, existing_rule, delay);
            if let (Some(rule), Some(want)) = (existing_rule, &spec.listener_rule)
                && !ctx.in_blue_green(&m.metadata.name)
                && let Some(r) = observed.get_mut("listenerRule")
            {
                observed_weights(r, rule, want, &tg.arn);
            }
            draft.compare(&desired, &observed);
            if let Some(f) = draft
                .diff
                .iter()
                .find(|f| IMMUTABLE.contains(&f.path.as_str()))
            {
                return Err(PlanError::new(
                    PlanErrorKind::Immutable,
                    format!(
                        "{} cannot change on an existing target group ({} -> {}); give the TargetGroup a new name to create a new one",
                        f.path, f.from, f.to
                    ),
                ));
            }
            if owned {
                draft.sync_labels(Tagged::Elb(tg.arn.clone()), &tg.tags, &m.metadata.labels);
            } else {
                draft.adopt("target group", &tg.arn, Tagged::Elb(tg.arn.clone()), &tags);
            }
            if draft.touches("healthCheck") {
                draft.ops.push(Op::ModifyTargetGroupHealthCheck {
                    arn: tg.arn.clone(),
                    health_check: health_input(spec),
                });
            }
            let target = TargetGroupRef::Arn(tg.arn.clone());
            if draft.touches("deregistrationDelaySeconds") {
                draft.ops.push(Op::SetDeregistrationDelay {
                    target_group: target.clone(),
                    seconds: delay,
                    owner: owner.clone(),
                });
            }
            target
        }
    };
    rule_ops(ctx, m, spec, existing_rule, &target, &tags, &mut draft)?;
    Ok(draft.finish().into())
}

/// Every health check setting, with AWS's defaults where the manifest leaves one out.
fn health_input(spec: &TargetGroupSpec) -> HealthCheckInput {
    let hc = spec.health_check.clone().unwrap_or_default();
    HealthCheckInput {
        path: hc
            .path
            .unwrap_or_else(|| defaults::TARGET_GROUP_HEALTH_CHECK_PATH.to_owned()),
        interval_seconds: hc
            .interval_seconds
            .unwrap_or(defaults::TARGET_GROUP_HEALTH_CHECK_INTERVAL),
        timeout_seconds: hc
            .timeout_seconds
            .unwrap_or_else(|| defaults::target_group_health_check_timeout(spec.protocol)),
        healthy_threshold: hc
            .healthy_threshold
            .unwrap_or(defaults::TARGET_GROUP_HEALTHY_THRESHOLD),
        unhealthy_threshold: hc
            .unhealthy_threshold
            .unwrap_or(defaults::TARGET_GROUP_UNHEALTHY_THRESHOLD),
        matcher: hc
            .matcher
            .unwrap_or_else(|| defaults::TARGET_GROUP_MATCHER.to_owned()),
    }
}

fn health_value(h: &HealthCheckInput) -> Value {
    json!({
        "path": h.path,
        "intervalSeconds": h.interval_seconds,
        "timeoutSeconds": h.timeout_seconds,
        "healthyThreshold": h.healthy_threshold,
        "unhealthyThreshold": h.unhealthy_threshold,
        "matcher": h.matcher,
    })
}

fn rule_value(
    listener_arn: &str,
    priority: Option<u32>,
    paths: &[String],
    hosts: &[String],
) -> Value {
    json!({
        "listenerArn": listener_arn,
        "priority": priority,
        "pathPatterns": paths,
        "hostHeaders": hosts,
    })
}

/// The manifest as compared: every field, defaults filled in.
fn desired_value(spec: &TargetGroupSpec) -> Value {
    let mut v = Map::new();
    v.insert("vpcId".into(), json!(spec.vpc_id));
    v.insert("port".into(), json!(spec.port));
    v.insert("protocol".into(), json!(spec.protocol.as_str()));
    v.insert("targetType".into(), json!(spec.target_type));
    v.insert("healthCheck".into(), health_value(&health_input(spec)));
    v.insert(
        "deregistrationDelaySeconds".into(),
        json!(
            spec.deregistration_delay_seconds
                .unwrap_or(defaults::TARGET_GROUP_DEREGISTRATION_DELAY)
        ),
    );
    if let Some(r) = &spec.listener_rule {
        let mut rule = rule_value(
            &r.listener_arn,
            Some(r.priority),
            &r.path_patterns,
            &r.host_headers,
        );
        if !r.also_forward_to.is_empty() {
            rule["weight"] = json!(r.weight);
            rule["alsoForwardTo"] = json!(
                r.also_forward_to
                    .iter()
                    .map(|o| json!({"targetGroupArn": o.target_group_arn, "weight": o.weight}))
                    .collect::<Vec<_>>()
            );
        }
        v.insert("listenerRule".into(), rule);
    }
    Value::Object(v)
}

/// The weights of a rule in the manifest's shape, into `value`: when the manifest
/// weighs target groups, or the rule sends traffic to another target group. The
/// others follow the manifest's order, then any the manifest does not name.
fn observed_weights(value: &mut Value, rule: &RuleState, want: &ListenerRule, own_arn: &str) {
    if want.also_forward_to.is_empty() && rule.only_target_is(own_arn) {
        return;
    }
    let weight_of = |f: &ForwardTarget| f.weight.unwrap_or(1);
    let own = rule
        .forward
        .iter()
        .find(|f| f.target_group_arn == own_arn)
        .map(weight_of);
    let mut others: Vec<&ForwardTarget> = rule
        .forward
        .iter()
        .filter(|f| f.target_group_arn != own_arn)
        .collect();
    let rank = |arn: &str| {
        want.also_forward_to
            .iter()
            .position(|o| o.target_group_arn == arn)
            .unwrap_or(usize::MAX)
    };
    others.sort_by_key(|f| rank(&f.target_group_arn));
    value["weight"] = json!(own.unwrap_or(0));
    value["alsoForwardTo"] = json!(
        others
            .iter()
            .map(|f| json!({"targetGroupArn": f.target_group_arn, "weight": weight_of(f)}))
            .collect::<Vec<_>>()
    );
}

/// What AWS has, in the manifest's shape. The deregistration delay is what was read, or
/// `wanted` when the attributes tag vouches for it (then it was not read).
fn observed_value(tg: &TargetGroupState, rule: Option<&RuleState>, wanted: u32) -> Value {
    let hc = &tg.health_check;
    let mut v = Map::new();
    v.insert("vpcId".into(), json!(tg.vpc_id));
    v.insert("port".into(), json!(tg.port));
    v.insert("protocol".into(), json!(tg.protocol));
    v.insert("targetType".into(), json!(tg.target_type));
    v.insert(
        "healthCheck".into(),
        health_value(&HealthCheckInput {
            path: hc
                .path
                .clone()
                .unwrap_or_else(|| defaults::TARGET_GROUP_HEALTH_CHECK_PATH.to_owned()),
            interval_seconds: hc.interval_seconds,
            timeout_seconds: hc.timeout_seconds,
            healthy_threshold: hc.healthy_threshold,
            unhealthy_threshold: hc.unhealthy_threshold,
            matcher: hc.matcher.clone(),
        }),
    );
    let delay = tg
        .deregistration_delay_seconds
        .or_else(|| (attributes_recorded(&tg.tags) == Some(wanted)).then_some(wanted));
    if let Some(d) = delay {
        v.insert("deregistrationDelaySeconds".into(), json!(d));
    }
    if let Some(r) = rule {
        v.insert(
            "listenerRule".into(),
            rule_value(
                &r.listener_arn,
                r.priority,
                &r.path_patterns,
                &r.host_headers,
            ),
        );
    }
    Value::Object(v)
}

/// The rule ecsd made for this target group, on any observed listener: found by its
/// tags (its forward action may have been rewritten by CodeDeploy), or the one
/// `--adopt` takes over.
fn owned_rule<'a>(ctx: &Context<'a>, tg: &TargetGroupState) -> Option<&'a RuleState> {
    ctx.owned_rule(&tg.name)
}

fn conditions(want: &ListenerRule) -> RuleConditions {
    RuleConditions {
        path_patterns: want.path_patterns.clone(),
        host_headers: want.host_headers.clone(),
    }
}

/// Where the manifest's rule forwards: everything to this target group, or with
/// `alsoForwardTo` this one and the others by weight, in the manifest's order.
fn weighted_forward(want: &ListenerRule, target: &TargetGroupRef) -> Vec<Forward> {
    if want.also_forward_to.is_empty() {
        return Forward::all(target.clone());
    }
    std::iter::once(Forward {
        target_group: target.clone(),
        weight: Some(want.weight.unwrap_or(0)),
    })
    .chain(want.also_forward_to.iter().map(|o| Forward {
        target_group: TargetGroupRef::Arn(o.target_group_arn.clone()),
        weight: Some(o.weight),
    }))
    .collect()
}

/// The priority must be free on the listener, or held by this rule.
fn check_priority(
    ctx: &Context<'_>,
    want: &ListenerRule,
    existing: Option<&RuleState>,
) -> Result<(), PlanError> {
    let taken = ctx
        .observed
        .rules
        .get(&want.listener_arn)
        .into_iter()
        .flatten()
        .find(|r| r.priority == Some(want.priority) && existing.is_none_or(|e| e.arn != r.arn));
    let Some(taken) = taken else {
        return Ok(());
    };
    let whose = if ownership::is_owned(&taken.tags, &ctx.opts.owner) {
        taken
            .tags
            .get(MANIFEST_TAG)
            .map_or("another object", String::as_str)
            .to_string()
    } else {
        "a rule ecsd does not own".to_owned()
    };
    Err(PlanError::new(
        PlanErrorKind::PriorityTaken,
        format!(
            "listener rule priority {} is already taken on {} by {whose} ({})",
            want.priority, want.listener_arn, taken.arn
        ),
    ))
}

fn rule_ops(
    ctx: &Context<'_>,
    m: &Manifest,
    spec: &TargetGroupSpec,
    existing: Option<&RuleState>,
    target: &TargetGroupRef,
    tags: &Tags,
    draft: &mut Draft,
) -> Result<(), PlanError> {
    // A Service's own target group created in this pass also creates the alternate's
    // shifted rule, which could not be made whole before this group existed.
    if let Some((alt, alt_rule)) = ctx.partner_rule(&m.metadata.name) {
        draft.notes.push(format!(
            "creates the listener rule of {} too, once both target groups exist: ECS shifts it between the two, weighted 100 to this one and 0 to that one",
            alt.key()
        ));
        draft.depends_on.push(alt.key());
        draft.ops.push(Op::CreateRule {
            listener_arn: alt_rule.listener_arn.clone(),
            priority: alt_rule.priority,
            conditions: conditions(alt_rule),
            forward: Forward::shiftable(target.clone(), ctx.target_group_ref(&alt.metadata.name)),
            tags: ownership::owner_tags(&ctx.opts.owner, &alt.key(), &alt.metadata.labels),
        });
    }
    let Some(want) = &spec.listener_rule else {
        if let Some(rule) = existing {
            draft.ops.push(Op::DeleteRule {
                rule_arn: rule.arn.clone(),
            });
        }
        return Ok(());
    };
    // With --adopt, the rule found where the manifest puts it is another tool's until
    // this pass tags it.
    if let Some(rule) = existing.filter(|r| !ownership::is_owned(&r.tags, &ctx.opts.owner)) {
        draft.adopt(
            "listener rule",
            &rule.arn,
            Tagged::Elb(rule.arn.clone()),
            tags,
        );
    }
    check_priority(ctx, want, existing)?;
    // Where the rule forwards. A rule ECS shifts goes to both of its Service's target
    // groups from its first request: 100 to the one that serves now (as ECS reports
    // it: after a deployment the pair is swapped), 0 to the idle one. The service's own
    // target group waits for the alternate; the alternate cannot wait for it (a cycle),
    // so while the service's own does not exist the alternate's rule is left to that
    // group's change (`None` here).
    let this = m.metadata.name.as_str();
    let shifted = ctx.shift_pair(this);
    let forward: Option<Vec<Forward>> = match shifted {
        Some(p) => {
            let alternate = ObjectKey {
                kind: Kind::TargetGroup,
                name: p.alternate.to_owned(),
            };
            if p.primary == this && !draft.depends_on.contains(&alternate) {
                draft.depends_on.push(alternate);
            }
            let ref_of = |name: &str| {
                if name == this {
                    target.clone()
                } else {
                    ctx.target_group_ref(name)
                }
            };
            let ready = p.primary == this || ctx.observed.target_groups.contains_key(p.primary);
            ready.then(|| Forward::shiftable(ref_of(p.serving), ref_of(p.idle)))
        }
        None => Some(weighted_forward(want, target)),
    };
    let deferred = || {
        format!(
            "its listener rule is created by TargetGroup/{}'s change, once both target groups ECS shifts between exist",
            shifted.map_or("", |p| p.primary)
        )
    };
    let create = |forward: &[Forward]| Op::CreateRule {
        listener_arn: want.listener_arn.clone(),
        priority: want.priority,
        conditions: conditions(want),
        forward: forward.to_vec(),
        tags: tags.clone(),
    };
    let Some(rule) = existing else {
        match &forward {
            Some(f) => draft.ops.push(create(f)),
            None => draft.notes.push(deferred()),
        }
        return Ok(());
    };
    if rule.listener_arn != want.listener_arn {
        draft.ops.push(Op::DeleteRule {
            rule_arn: rule.arn.clone(),
        });
        match &forward {
            Some(f) => draft.ops.push(create(f)),
            None => draft.notes.push(deferred()),
        }
        return Ok(());
    }
    let conditions_differ =
        rule.path_patterns != want.path_patterns || rule.host_headers != want.host_headers;
    // The rule forwards as the manifest says (to this target group alone, or by its
    // weights) when the comparison found no weight to change; a rule CodeDeploy or ECS
    // shifts between two target groups has no weights in the comparison (not drift).
    // A rule ECS shifts is never pointed at one group alone.
    let forward_elsewhere = shifted.is_none()
        && (draft.touches("listenerRule.weight") || draft.touches("listenerRule.alsoForwardTo"));
    if forward_elsewhere && want.also_forward_to.is_empty() {
        draft.notes.push(
            "the listener rule forwards elsewhere (or to other target groups too); it is pointed back at this target group alone"
                .to_owned(),
        );
    }
    // A rule ECS shifts must forward to both target groups (any weights, which are
    // ECS's); outside a deployment a rule that lacks one is completed, with the weight
    // on the group that serves.
    let incomplete = match (shifted, forward.as_deref()) {
        (Some(_), Some([a, b])) => match (&a.target_group, &b.target_group) {
            (TargetGroupRef::Arn(a), TargetGroupRef::Arn(b)) => {
                let complete =
                    rule.forwards_to(a) && rule.forwards_to(b) && rule.forward.len() == 2;
                !complete && !ctx.deploying(this)
            }
            _ => false,
        },
        _ => false,
    };
    if incomplete {
        draft.notes.push(
            "the listener rule is made a weighted forward to both target groups ECS shifts between, 100 to the one that serves"
                .to_owned(),
        );
    }
    if conditions_differ || forward_elsewhere || incomplete {
        draft.ops.push(Op::ModifyRule {
            rule_arn: rule.arn.clone(),
            conditions: conditions_differ.then(|| conditions(want)),
            forward: if forward_elsewhere || incomplete {
                forward.clone()
            } else {
                None
            },
        });
    }
    if rule.priority != Some(want.priority) {
        draft.ops.push(Op::SetRulePriority {
            rule_arn: rule.arn.clone(),
            priority: want.priority,
        });
    }
    if ownership::is_owned(&rule.tags, &ctx.opts.owner) {
        draft.sync_tags(
            Tagged::Elb(rule.arn.clone()),
            label_sync(&rule.tags, &m.metadata.labels).1,
        );
    }
    Ok(())
}
