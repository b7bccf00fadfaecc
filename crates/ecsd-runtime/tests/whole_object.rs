//! The whole-object property (manifest-v1, "What a manifest means"): for a valid
//! manifest set M and M' = M with one field, map entry or list entry added, changed or
//! deleted, after `apply(M)` the plan for M' is not empty; after `apply(M')` the plan for
//! M' is empty and what AWS (the in-memory fake) holds is M', field for field, defaults
//! included.
//!
//! The edits are not hand-picked (`ecsd_tests::edits`): every node of a generated stack
//! (TargetGroup, Service, ScalingPolicy, nearly every optional field set to a
//! non-default value) is deleted, changed and, for maps and lists, grown by one entry;
//! every deletion is also tried the other way round (the field added). Edits the
//! validator refuses are skipped and counted; the identity fields AWS cannot change in
//! place are left out (`IDENTITY`). `tests/cli/edits.rs` runs a sample of the same edits
//! through the binary against the emulator.

use std::collections::BTreeMap;

use ecsd_aws::fake::{FakeAws, FakeState};
use ecsd_model::{Manifest, SourceFile, Spec, parse_source};
use ecsd_plan::defaults;
use ecsd_plan::ownership::{policy_name, scheduled_action_name};
use ecsd_plan::state::{ServiceId, Tags};
use ecsd_plan::{Plan, PlanOptions, plan};
use ecsd_runtime::{ApplyOptions, Clients, apply, observe};
use ecsd_tests::edits::{Base, Edit, Names, Seg, documents, edits, text};
use proptest::prelude::*;
use serde_json::Value;

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2";
/// The listener a changed `listenerArn` names (the same load balancer).
const LISTENER_2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab22";

/// The ids of the fake account.
fn names() -> Names {
    Names {
        name: "web".into(),
        cluster: "prod".into(),
        vpc: "vpc-0abc1234".into(),
        subnets: vec!["subnet-0a1b2c3d".into(), "subnet-0e1f2a3b".into()],
        security_groups: vec!["sg-0abc1234".into(), "sg-0def5678".into()],
        listeners: [LISTENER.into(), LISTENER_2.into()],
    }
}

fn base() -> impl Strategy<Value = Base> {
    let word = "[a-z]{1,6}";
    (
        1..50u32,
        prop::collection::btree_map("[A-Z][A-Z_]{0,5}", word, 1..4),
        prop::collection::btree_map("[a-z]{1,5}", word, 0..3),
        1..6u32,
        prop::sample::select(vec![10u32, 15, 20, 45]),
        prop::sample::select(vec![0u32, 50, 75]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                tag,
                env,
                labels,
                desired,
                interval,
                minimum_healthy,
                sidecar,
                host_header,
                policy,
            )| {
                Base {
                    tag,
                    env,
                    labels,
                    desired,
                    interval,
                    minimum_healthy,
                    sidecar,
                    host_header,
                    policy,
                }
            },
        )
}

/// The documents as one file, if the validator accepts them.
fn valid(docs: &[Value]) -> Option<Vec<Manifest>> {
    parsed(docs).ok()
}

/// The documents as one file, or what the validator says about them.
fn parsed(docs: &[Value]) -> Result<Vec<Manifest>, String> {
    let source = parse_source(&[SourceFile {
        name: "stack.yaml".into(),
        bytes: text(docs).into_bytes(),
    }]);
    if source.is_valid() {
        Ok(source.documents.into_iter().map(|d| d.manifest).collect())
    } else {
        Err(format!("{:?}", source.diagnostics))
    }
}

fn clients(aws: &FakeAws) -> Clients<FakeAws, FakeAws, FakeAws, FakeAws> {
    Clients {
        ecs: aws.clone(),
        elb: aws.clone(),
        scaling: aws.clone(),
        deploy: aws.clone(),
    }
}

async fn plan_for(aws: &FakeAws, ms: &[Manifest]) -> Result<(Plan, ecsd_plan::Observed), String> {
    let opts = PlanOptions::default();
    let observed = observe(ms, &clients(aws), false)
        .await
        .map_err(|e| format!("observe: {e}"))?;
    Ok((plan(ms, &observed, &opts), observed))
}

async fn apply_all(aws: &FakeAws, ms: &[Manifest]) -> Result<Plan, String> {
    let (p, observed) = plan_for(aws, ms).await?;
    if !p.errors.is_empty() || !p.holds.is_empty() {
        return Err(format!(
            "plan errors or holds: {:?} {:?}",
            p.errors, p.holds
        ));
    }
    let report = apply(&p, &observed, &clients(aws), ApplyOptions::default()).await;
    if !report.succeeded() {
        return Err(format!("apply failed: {report:?}"));
    }
    Ok(p)
}

fn summary(p: &Plan) -> String {
    p.changes
        .iter()
        .map(|c| {
            let paths: Vec<&str> = c.diff.iter().map(|d| d.path.as_str()).collect();
            format!("{} {:?} {paths:?} notes {:?}", c.key, c.action, c.notes)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the plan for M' must show after `apply(M)`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// At least one field difference.
    Change,
    /// Nothing: the edit is to a desiredCount a ScalingPolicy owns (manifest-v1,
    /// "desiredCount and autoscaling"), and the running count is within its range.
    NoChange,
}

/// How one (M, M') went.
enum Outcome {
    Checked,
    /// M is valid, but ecsd refuses to plan it from nothing, as documented (a Service
    /// behind a target group no load balancer uses).
    Refused,
}

/// The property for one (M, M').
async fn check(before: &[Manifest], after: &[Manifest], expect: Expect) -> Result<Outcome, String> {
    let aws = FakeAws::with(&["prod"], &[LISTENER, LISTENER_2]);
    let (first, _) = plan_for(&aws, before).await?;
    if !first.errors.is_empty() {
        return Ok(Outcome::Refused);
    }
    apply_all(&aws, before).await?;
    let (settled, _) = plan_for(&aws, before).await?;
    if !settled.is_empty() {
        return Err(format!("M does not settle: {}", summary(&settled)));
    }
    let (next, _) = plan_for(&aws, after).await?;
    let changed = next.changes.iter().any(|c| !c.diff.is_empty());
    match expect {
        Expect::Change if !changed => {
            return Err(format!("the edit shows no change: {}", summary(&next)));
        }
        Expect::NoChange if !next.is_empty() => {
            return Err(format!(
                "an autoscaled count is not ecsd's: {}",
                summary(&next)
            ));
        }
        _ => {}
    }
    apply_all(&aws, after).await?;
    let (last, _) = plan_for(&aws, after).await?;
    if !last.is_empty() {
        return Err(format!("M' does not settle: {}", summary(&last)));
    }
    aws.edit(|s| holds(s, after))?;
    Ok(Outcome::Checked)
}

fn labels_of(tags: &Tags) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("ecsd:") && !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, aws: T, manifest: T) -> Result<(), String> {
    if aws == manifest {
        Ok(())
    } else {
        Err(format!(
            "{what}: AWS has {aws:?}, the manifest says {manifest:?}"
        ))
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// What the fake holds is what `ms` say, defaults filled in from the documented table.
fn holds(s: &FakeState, ms: &[Manifest]) -> Result<(), String> {
    let scaled: Vec<&str> = ms
        .iter()
        .filter_map(|m| match &m.spec {
            Spec::ScalingPolicy(p) => Some(p.service.as_str()),
            _ => None,
        })
        .collect();
    for m in ms {
        let name = &m.metadata.name;
        match &m.spec {
            Spec::TargetGroup(spec) => {
                let tg = s.target_groups.get(name).ok_or("no target group")?;
                let hc = spec.health_check.clone().unwrap_or_default();
                let h = &tg.health_check;
                same(
                    "health check",
                    (
                        h.path.clone(),
                        h.interval_seconds,
                        h.timeout_seconds,
                        h.healthy_threshold,
                        h.unhealthy_threshold,
                        h.matcher.clone(),
                    ),
                    (
                        Some(
                            hc.path
                                .unwrap_or_else(|| defaults::TARGET_GROUP_HEALTH_CHECK_PATH.into()),
                        ),
                        hc.interval_seconds
                            .unwrap_or(defaults::TARGET_GROUP_HEALTH_CHECK_INTERVAL),
                        hc.timeout_seconds
                            .unwrap_or(defaults::target_group_health_check_timeout(spec.protocol)),
                        hc.healthy_threshold
                            .unwrap_or(defaults::TARGET_GROUP_HEALTHY_THRESHOLD),
                        hc.unhealthy_threshold
                            .unwrap_or(defaults::TARGET_GROUP_UNHEALTHY_THRESHOLD),
                        hc.matcher
                            .unwrap_or_else(|| defaults::TARGET_GROUP_MATCHER.into()),
                    ),
                )?;
                same(
                    "deregistration delay",
                    s.deregistration_delays
                        .get(&tg.arn)
                        .copied()
                        .unwrap_or(defaults::TARGET_GROUP_DEREGISTRATION_DELAY),
                    spec.deregistration_delay_seconds
                        .unwrap_or(defaults::TARGET_GROUP_DEREGISTRATION_DELAY),
                )?;
                same(
                    "target group labels",
                    labels_of(&tg.tags),
                    m.metadata.labels.clone(),
                )?;
                let rules: Vec<_> = s
                    .rules
                    .values()
                    .flatten()
                    .filter(|r| r.forwards_to(&tg.arn))
                    .collect();
                match &spec.listener_rule {
                    None => same("listener rules", rules.len(), 0)?,
                    Some(want) => {
                        let [rule] = rules.as_slice() else {
                            return Err(format!("{} rules forward to it", rules.len()));
                        };
                        same(
                            "listener rule",
                            (
                                rule.listener_arn.clone(),
                                rule.priority,
                                sorted(&rule.path_patterns),
                                sorted(&rule.host_headers),
                                rule.forwards_only_to(&tg.arn),
                            ),
                            (
                                want.listener_arn.clone(),
                                Some(want.priority),
                                sorted(&want.path_patterns),
                                sorted(&want.host_headers),
                                true,
                            ),
                        )?;
                        same(
                            "rule labels",
                            labels_of(&rule.tags),
                            m.metadata.labels.clone(),
                        )?;
                    }
                }
            }
            Spec::Service(spec) => {
                let svc = s
                    .services
                    .get(&ServiceId::new(&spec.cluster, name))
                    .ok_or("no service")?;
                if !scaled.contains(&name.as_str()) {
                    same("desiredCount", svc.desired_count, spec.desired_count)?;
                }
                same(
                    "network",
                    (
                        sorted(&svc.network.subnets),
                        sorted(&svc.network.security_groups),
                        svc.network.assign_public_ip,
                    ),
                    (
                        sorted(&spec.network.subnets),
                        sorted(&spec.network.security_groups),
                        spec.network.assign_public_ip,
                    ),
                )?;
                let lbs: Vec<(String, String, u16)> = svc
                    .load_balancers
                    .iter()
                    .map(|l| {
                        let tg = s
                            .target_groups
                            .values()
                            .find(|t| t.arn == l.target_group_arn)
                            .map(|t| t.name.clone())
                            .unwrap_or_default();
                        (tg, l.container_name.clone(), l.container_port)
                    })
                    .collect();
                let want: Vec<(String, String, u16)> = spec
                    .load_balancers
                    .iter()
                    .map(|l| {
                        (
                            l.target_group.clone(),
                            l.container_name.clone(),
                            l.container_port,
                        )
                    })
                    .collect();
                same("load balancers", lbs, want)?;
                same(
                    "grace period",
                    svc.health_check_grace_period_seconds
                        .unwrap_or(defaults::HEALTH_CHECK_GRACE_PERIOD),
                    spec.health_check_grace_period_seconds
                        .unwrap_or(defaults::HEALTH_CHECK_GRACE_PERIOD),
                )?;
                let d = &svc.deployment_configuration;
                let (enable, rollback) = defaults::CIRCUIT_BREAKER;
                let cb = d.circuit_breaker.map(|c| (c.enable, c.rollback));
                same(
                    "deployment configuration",
                    (d.minimum_healthy_percent, d.maximum_percent, cb),
                    (
                        Some(
                            spec.deployment
                                .minimum_healthy_percent
                                .unwrap_or(defaults::MINIMUM_HEALTHY_PERCENT),
                        ),
                        Some(
                            spec.deployment
                                .maximum_percent
                                .unwrap_or(defaults::MAXIMUM_PERCENT),
                        ),
                        Some(
                            spec.deployment
                                .circuit_breaker
                                .map_or((enable, rollback), |c| (c.enable, c.rollback)),
                        ),
                    ),
                )?;
                let td = s
                    .task_definitions
                    .get(&svc.task_definition_arn)
                    .ok_or("no task definition")?;
                let mut want = spec.task_definition.clone();
                want.family.get_or_insert_with(|| name.clone());
                same("task definition", &td.definition, &want)?;
                same(
                    "service labels",
                    labels_of(&svc.tags),
                    m.metadata.labels.clone(),
                )?;
                let td_tags = s.ecs_tags.get(&td.arn).cloned().unwrap_or_default();
                same(
                    "revision labels",
                    labels_of(&td_tags),
                    m.metadata.labels.clone(),
                )?;
            }
            Spec::ScalingPolicy(spec) => {
                let rid = format!("service/prod/{}", spec.service);
                let target = s.scaling.targets.get(&rid).ok_or("no scalable target")?;
                same(
                    "capacity",
                    (target.min_capacity, target.max_capacity),
                    (spec.min_capacity, spec.max_capacity),
                )?;
                let target_tags = s.scaling_tags.get(&target.arn).cloned().unwrap_or_default();
                same(
                    "scalable target labels",
                    labels_of(&target_tags),
                    m.metadata.labels.clone(),
                )?;
                let mut policies: Vec<String> = s
                    .scaling
                    .policies
                    .get(&rid)
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        format!(
                            "{} {} {} {} {} {}",
                            p.name,
                            p.metric_type,
                            p.target,
                            p.scale_in_cooldown_seconds
                                .unwrap_or(defaults::SCALING_COOLDOWN),
                            p.scale_out_cooldown_seconds
                                .unwrap_or(defaults::SCALING_COOLDOWN),
                            p.disable_scale_in.unwrap_or(defaults::DISABLE_SCALE_IN),
                        )
                    })
                    .collect();
                let mut want: Vec<String> = spec
                    .target_tracking
                    .iter()
                    .map(|t| {
                        format!(
                            "{} {} {} {} {} {}",
                            policy_name(name, t.metric.as_str()),
                            t.metric.predefined_metric_type(),
                            t.target,
                            t.scale_in_cooldown_seconds
                                .unwrap_or(defaults::SCALING_COOLDOWN),
                            t.scale_out_cooldown_seconds
                                .unwrap_or(defaults::SCALING_COOLDOWN),
                            t.disable_scale_in.unwrap_or(defaults::DISABLE_SCALE_IN),
                        )
                    })
                    .collect();
                policies.sort();
                want.sort();
                same("target tracking", policies, want)?;
                let mut actions: Vec<String> = s
                    .scaling
                    .actions
                    .get(&rid)
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        format!(
                            "{} {} {} {:?} {:?}",
                            a.name,
                            a.schedule,
                            a.timezone.as_deref().unwrap_or(defaults::SCHEDULE_TIMEZONE),
                            a.min_capacity,
                            a.max_capacity
                        )
                    })
                    .collect();
                let mut want: Vec<String> = spec
                    .scheduled
                    .iter()
                    .map(|a| {
                        format!(
                            "{} {} {} {:?} {:?}",
                            scheduled_action_name(name, &a.name),
                            a.schedule,
                            a.timezone.as_deref().unwrap_or(defaults::SCHEDULE_TIMEZONE),
                            a.min_capacity,
                            a.max_capacity
                        )
                    })
                    .collect();
                actions.sort();
                want.sort();
                same("scheduled actions", actions, want)?;
            }
        }
    }
    Ok(())
}

/// How a run of edits went.
#[derive(Debug, Default)]
struct Tally {
    checked: usize,
    /// Refused by the validator, or (as documented) by the planner.
    refused: usize,
    failures: Vec<String>,
}

fn run_edits(rt: &tokio::runtime::Runtime, docs: &[Value], edits: &[Edit]) -> Tally {
    let mut tally = Tally::default();
    for edit in edits {
        let Some((m, m2)) = edit.apply(docs, &names()) else {
            continue;
        };
        let (Some(before), Some(after)) = (valid(&m), valid(&m2)) else {
            tally.refused += 1;
            continue;
        };
        if before == after {
            // The same manifests written differently (a default spelled out).
            continue;
        }
        let scaled = after
            .iter()
            .any(|m| matches!(m.spec, Spec::ScalingPolicy(_)));
        let expect = if scaled
            && edit.path().1 == [Seg::Key("spec".into()), Seg::Key("desiredCount".into())]
        {
            Expect::NoChange
        } else {
            Expect::Change
        };
        match rt.block_on(check(&before, &after, expect)) {
            Ok(Outcome::Checked) => tally.checked += 1,
            Ok(Outcome::Refused) => tally.refused += 1,
            Err(e) => {
                tally.checked += 1;
                tally.failures.push(format!("{}: {e}", edit.describe()));
            }
        }
    }
    tally
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

#[test]
fn every_single_edit_of_a_full_stack_reaches_aws_and_then_settles() {
    let docs = documents(&Base::default(), &names());
    if let Err(e) = parsed(&docs) {
        panic!("the generated stack is invalid: {e}");
    }
    let all = edits(&docs);
    let tally = run_edits(&runtime(), &docs, &all);
    assert!(
        tally.failures.is_empty(),
        "{} of {} edits break the property:\n{}",
        tally.failures.len(),
        tally.checked,
        tally.failures.join("\n")
    );
    // The generator and the validator still agree on most edits: a test that checks
    // nothing passes too.
    assert!(
        tally.checked >= 150,
        "only {} edits checked ({} refused by validation)",
        tally.checked,
        tally.refused
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_of_random_stacks_reach_aws_and_then_settle(
        b in base(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 6),
    ) {
        let docs = documents(&b, &names());
        let base = parsed(&docs);
        prop_assert!(base.is_ok(), "the generated stack is invalid: {:?}", base.err());
        let all = edits(&docs);
        let chosen: Vec<Edit> = picks.iter().map(|i| i.get(&all).clone()).collect();
        let tally = run_edits(&runtime(), &docs, &chosen);
        prop_assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    }
}
