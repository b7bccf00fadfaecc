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
use ecsd_plan::state::{CodeDeployStatus, ServiceId, Tags};
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
                blue_green,
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
                    blue_green,
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

fn clients(aws: &FakeAws) -> Clients<FakeAws, FakeAws, FakeAws, FakeAws, FakeAws> {
    Clients::all(aws)
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
    let finished = finish_code_deployments(aws);
    // Once CodeDeploy is done, ecsd records the revision it deployed (a tag, no field
    // changes): the bookkeeping pass of a blue/green rollout, and only of one.
    let (after, observed) = plan_for(aws, ms).await?;
    if finished && !after.is_empty() && after.changes.iter().all(|c| c.diff.is_empty()) {
        let report = apply(&after, &observed, &clients(aws), ApplyOptions::default()).await;
        if !report.succeeded() {
            return Err(format!("bookkeeping apply failed: {report:?}"));
        }
    }
    Ok(p)
}

/// CodeDeploy finishes every deployment in flight, successfully; whether there was one.
fn finish_code_deployments(aws: &FakeAws) -> bool {
    let open: Vec<(String, ServiceId)> = aws.edit(|s| {
        s.code_deployments
            .iter()
            .filter(|(_, d)| d.status.in_flight())
            .filter_map(|(k, d)| {
                Some((
                    d.id.clone(),
                    s.deployment_groups.get(k)?.group.service.clone(),
                ))
            })
            .collect()
    });
    for (id, service) in &open {
        aws.finish_code_deployment(id, CodeDeployStatus::Succeeded, None);
        aws.complete_deployment(service);
    }
    !open.is_empty()
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
    /// "desiredCount and autoscaling"), and the running count is within its range; or
    /// to validation hooks, which are part of the next deployment's AppSpec, not a
    /// setting AWS keeps.
    NoChange,
}

impl Expect {
    fn of(edit: &Edit, after: &[Manifest]) -> Expect {
        let scaled = after
            .iter()
            .any(|m| matches!(m.spec, Spec::ScalingPolicy(_)));
        let path = &edit.path().1;
        let key = |k: &str| Seg::Key(k.into());
        if scaled && *path == [key("spec"), key("desiredCount")] {
            return Expect::NoChange;
        }
        let hooks = [
            key("spec"),
            key("deployment"),
            key("blueGreen"),
            key("validationHooks"),
        ];
        if path.starts_with(&hooks) {
            return Expect::NoChange;
        }
        Expect::Change
    }
}

/// How one (M, M') went.
enum Outcome {
    Checked,
    /// M is valid, but ecsd refuses to plan it from nothing (a Service behind a target
    /// group no load balancer uses), or M' changes what AWS cannot change in place;
    /// both as documented.
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
    if next.errors.iter().any(|e| {
        matches!(
            e.kind,
            ecsd_plan::PlanErrorKind::Immutable | ecsd_plan::PlanErrorKind::StrategySwitch
        )
    }) {
        // Documented: what AWS cannot change in place, and a switch between rolling and
        // blueGreen (a new service: --recreate), are refused, naming the way out.
        return Ok(Outcome::Refused);
    }
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
                // ecsd's rules for this TargetGroup, by their tags.
                let key = m.key().to_string();
                let rules: Vec<_> = s
                    .rules
                    .values()
                    .flatten()
                    .filter(|r| r.tags.get("ecsd:manifest") == Some(&key))
                    .collect();
                // A blue/green pair's rules forward where CodeDeploy put them.
                let pair = pair_of(ms, name);
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
                                match &pair {
                                    None => rule.forwards_only_to(&tg.arn),
                                    Some(names) => rule.forward.iter().all(|f| {
                                        names.iter().any(|n| {
                                            s.target_groups
                                                .get(n)
                                                .is_some_and(|t| t.arn == f.target_group_arn)
                                        })
                                    }),
                                },
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
                        // A blue/green service has no circuit breaker (CodeDeploy rolls back).
                        spec.deployment.blue_green.is_none().then(|| {
                            spec.deployment
                                .circuit_breaker
                                .map_or((enable, rollback), |c| (c.enable, c.rollback))
                        }),
                    ),
                )?;
                if let Some(bg) = &spec.deployment.blue_green {
                    let g = s
                        .deployment_groups
                        .values()
                        .find(|g| g.group.service == svc.id)
                        .ok_or("no deployment group")?;
                    let blue = spec
                        .load_balancers
                        .first()
                        .map(|l| l.target_group.clone())
                        .unwrap_or_default();
                    same(
                        "deployment group",
                        (
                            g.group.deployment_config.clone(),
                            g.group.terminate_blue_after_minutes,
                            g.group.auto_rollback,
                            g.group.alarms.clone(),
                            g.group.service_role_arn.clone(),
                            g.group.target_groups.clone(),
                            g.group.prod_listener_arns.clone(),
                            g.group.test_listener_arns.clone(),
                        ),
                        (
                            bg.traffic_shift.clone(),
                            bg.terminate_blue_after_minutes,
                            bg.auto_rollback,
                            bg.alarms.clone(),
                            bg.service_role_arn.clone(),
                            vec![blue, bg.alternate_target_group.clone()],
                            vec![bg.prod_listener_arn.clone()],
                            bg.test_listener_arn.iter().cloned().collect::<Vec<_>>(),
                        ),
                    )?;
                }
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

/// The blue/green target group pair `target_group` belongs to, if any.
fn pair_of(ms: &[Manifest], target_group: &str) -> Option<[String; 2]> {
    ms.iter().find_map(|m| match &m.spec {
        Spec::Service(svc) => {
            let bg = svc.deployment.blue_green.as_ref()?;
            let blue = svc.load_balancers.first()?.target_group.clone();
            let pair = [blue, bg.alternate_target_group.clone()];
            pair.contains(&target_group.to_owned()).then_some(pair)
        }
        _ => None,
    })
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
        match rt.block_on(check(&before, &after, Expect::of(edit, &after))) {
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

/// Every edit of the full stack made from `base` keeps the property.
fn every_edit_keeps_the_property(base: &Base) {
    let docs = documents(base, &names());
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
        "only {} of {} edits checked ({} refused)",
        tally.checked,
        all.len(),
        tally.refused
    );
}

#[test]
fn every_single_edit_of_a_full_stack_reaches_aws_and_then_settles() {
    every_edit_keeps_the_property(&Base::default());
}

#[test]
fn every_single_edit_of_a_full_blue_green_stack_reaches_aws_and_then_settles() {
    every_edit_keeps_the_property(&Base {
        blue_green: true,
        ..Base::default()
    });
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
