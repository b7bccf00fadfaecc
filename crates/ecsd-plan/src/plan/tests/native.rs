//! Services ECS deploys blue/green, linear or canary: weights ECS owns, approvals, hooks.

use super::*;

/// The stack deployed canary by ECS: `green` (its rule on the test listener) is the
/// alternate; `extra` is appended to the deployment block.
fn native_stack(extra: &str) -> String {
    format!(
        "{}  deployment:\n    strategy: canary\n    bakeTimeMinutes: 5\n    traffic: {{alternateTargetGroup: green, productionListenerRule: web, testListenerRule: green, roleArn: \"arn:aws:iam::123456789012:role/elb\"}}\n    lifecycleHooks:\n      - {{type: pause, stages: [POST_TEST_TRAFFIC_SHIFT]}}\n{extra}---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: green}}\nspec: {{vpcId: vpc-1, port: 5001, healthCheck: {{path: /healthz}}, listenerRule: {{listenerArn: \"{TEST_LISTENER}\", priority: 10, pathPatterns: [\"/api/*\"]}}}}\n",
        stack("", "", false)
    )
}

fn green_arn() -> String {
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2".into()
}

/// AWS exactly as `native_stack("")` asks.
fn native_in_sync(ms: &[Manifest]) -> Observed {
    let mut o = in_sync(ms);
    let mut green = o.target_groups["web"].clone();
    green.arn = green_arn();
    green.name = "green".into();
    green.tags = owned("TargetGroup/green", &[]);
    o.target_groups.insert("green".into(), green);
    let pair = vec![
        ForwardTarget {
            target_group_arn: tg_arn(),
            weight: Some(100),
        },
        ForwardTarget {
            target_group_arn: green_arn(),
            weight: Some(0),
        },
    ];
    let mut test_rule = o.rules[LISTENER][0].clone();
    test_rule.arn = format!("{TEST_LISTENER}/rule-2");
    test_rule.listener_arn = TEST_LISTENER.into();
    test_rule.forward = pair.clone();
    test_rule.tags = owned("TargetGroup/green", &[]);
    o.rules.insert(TEST_LISTENER.into(), vec![test_rule]);
    o.rules.get_mut(LISTENER).expect("rules")[0].forward = pair;
    let svc = web(&mut o);
    let dc = &mut svc.deployment_configuration;
    dc.strategy = Some("CANARY".into());
    dc.bake_time_minutes = Some(5);
    dc.canary = Some(ecsd_model::service::Canary {
        canary_percent: 5.0,
        canary_bake_time_minutes: 10,
    });
    dc.lifecycle_hooks = vec![ecsd_model::service::LifecycleHook {
        kind: ecsd_model::service::HookKind::Pause,
        function_arn: None,
        role_arn: None,
        stages: vec![ecsd_model::service::HookStage::PostTestTrafficShift],
        details: None,
        timeout_minutes: 1440,
        timeout_action: ecsd_model::service::HookAction::Rollback,
    }];
    svc.load_balancers[0].advanced = Some(AdvancedConfigState {
        alternate_target_group_arn: green_arn(),
        production_listener_rule: Some(format!("{LISTENER}/rule-1")),
        test_listener_rule: Some(format!("{TEST_LISTENER}/rule-2")),
        role_arn: Some("arn:aws:iam::123456789012:role/elb".into()),
    });
    o
}

/// A deployment of web paused at its PAUSE hook.
fn paused(o: &mut Observed) -> NativeDeployment {
    let d = NativeDeployment {
        arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/Sd7Yq".into(),
        status: ServiceDeploymentStatus::InProgress,
        status_reason: None,
        stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
        target_revision_arn: Some(
            "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/Rv9".into(),
        ),
        production_weight: Some(0.0),
        hooks: vec![HookDetail {
            hook_id: "ecs-pause-H1".into(),
            target_type: crate::state::HookTarget::Pause,
            status: HookStatus::AwaitingAction,
            expires_at: None,
            timeout_action: Some(ecsd_model::service::HookAction::Rollback),
        }],
        rollback_reason: None,
    };
    o.native_deployments
        .insert(ServiceId::new("prod", "web"), d.clone());
    d
}

#[test]
fn a_native_service_as_the_manifest_asks_plans_nothing_whatever_ecs_did_to_the_weights() {
    let ms = manifests(&native_stack(""));
    let mut o = native_in_sync(&ms);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");

    // ECS shifted the weights, and serves from the alternate now: not drift.
    for rule in o.rules.values_mut().flatten() {
        for f in &mut rule.forward {
            f.weight = Some(if f.weight == Some(100) { 0 } else { 100 });
        }
    }
    let lb = &mut web(&mut o).load_balancers[0];
    lb.target_group_arn = green_arn();
    if let Some(a) = &mut lb.advanced {
        a.alternate_target_group_arn = tg_arn();
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn a_rule_missing_a_target_group_is_completed_only_outside_a_deployment() {
    let ms = manifests(&native_stack(""));
    let mut o = native_in_sync(&ms);
    o.rules.get_mut(TEST_LISTENER).expect("rules")[0].forward = vec![ForwardTarget {
        target_group_arn: green_arn(),
        weight: None,
    }];
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/green");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule {
                forward: Some(f),
                ..
            }] if *f == crate::ops::Forward::shiftable(
                crate::ops::TargetGroupRef::Arn(tg_arn()),
                crate::ops::TargetGroupRef::Arn(green_arn()),
            )
        ),
        "{modify:#?}"
    );
    paused(&mut o);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(
        ops(&p, "TargetGroup/green").is_empty(),
        "the rule is ECS's while a deployment runs"
    );
}

#[test]
fn an_approval_continues_only_the_paused_deployment_it_names() {
    let mut o = native_in_sync(&manifests(&native_stack("")));
    let d = paused(&mut o);
    let continues = |o: &Observed, extra: &str| -> Vec<Op> {
        let ms = manifests(&native_stack(extra));
        let p = plan(&ms, o, &PlanOptions::default());
        ops(&p, "Service/web")
    };
    assert!(
        continues(&o, "").is_empty(),
        "no approval, nothing continues"
    );
    assert!(
        continues(&o, "    approve: Sd0ther\n").is_empty(),
        "a stale approval is ignored"
    );
    for name in [d.id(), d.arn.as_str(), "Rv9", "ecs-pause-H1"] {
        let got = continues(&o, &format!("    approve: {name}\n"));
        assert_eq!(
            got,
            vec![Op::ContinueServiceDeployment {
                service: ServiceId::new("prod", "web"),
                deployment_arn: d.arn.clone(),
                hook_id: "ecs-pause-H1".into(),
                action: ecsd_model::service::HookAction::Continue,
            }],
            "approve: {name}"
        );
    }
    let got = continues(&o, &format!("    rollback: {}\n", d.id()));
    assert!(
        matches!(
            &got[..],
            [Op::ContinueServiceDeployment {
                action: ecsd_model::service::HookAction::Rollback,
                ..
            }]
        ),
        "{got:#?}"
    );
    // Once ECS acted on the hook it no longer awaits action: nothing is sent again.
    o.native_deployments
        .get_mut(&ServiceId::new("prod", "web"))
        .expect("deployment")
        .hooks[0]
        .status = HookStatus::Succeeded;
    assert!(continues(&o, &format!("    approve: {}\n", d.id())).is_empty());
}

#[test]
fn a_canary_analysis_continues_or_rolls_back_its_pause_once_and_a_commit_wins() {
    use crate::analysis::{AnalysisState, Judgement, Outcome, Progress, Window};
    use ecsd_model::service::{HookAction, Verdict};
    let analysis = "    analysis:\n      stage: POST_TEST_TRAFFIC_SHIFT\n      window: 2m\n      metrics: [{name: errors, builtin: errorRate, max: 0.01}]\n";
    let mut o = native_in_sync(&manifests(&native_stack(analysis)));
    let d = paused(&mut o);
    let id = ServiceId::new("prod", "web");
    let judged = |outcome, action| AnalysisState {
        deployment: d.id().to_owned(),
        deployment_arn: d.arn.clone(),
        hook: "ecs-pause-H1".into(),
        stage: "POST_TEST_TRAFFIC_SHIFT".into(),
        window: Window {
            paused_at: 0,
            start: 0,
            end: 120,
        },
        progress: Progress::Judged(Judgement {
            outcome,
            action,
            metrics: Vec::new(),
        }),
    };
    let sent = |o: &Observed, extra: &str| -> Vec<Option<HookAction>> {
        let ms = manifests(&native_stack(&format!("{analysis}{extra}")));
        ops(&plan(&ms, o, &PlanOptions::default()), "Service/web")
            .into_iter()
            .map(|op| match op {
                Op::ContinueServiceDeployment { action, .. } => Some(action),
                _ => None,
            })
            .collect()
    };
    assert!(sent(&o, "").is_empty(), "no verdict yet: nothing is sent");
    o.analyses
        .insert(id.clone(), judged(Outcome::Pass, Verdict::Continue));
    assert_eq!(sent(&o, ""), [Some(HookAction::Continue)]);
    o.analyses
        .insert(id.clone(), judged(Outcome::Fail, Verdict::Rollback));
    assert_eq!(sent(&o, ""), [Some(HookAction::Rollback)]);
    o.analyses
        .insert(id.clone(), judged(Outcome::NoData, Verdict::Wait));
    assert!(sent(&o, "").is_empty(), "no data: a person decides");
    // A commit naming the deployment wins over the analysis; a stale one does not.
    assert_eq!(
        sent(&o, &format!("    approve: {}\n", d.id())),
        [Some(HookAction::Continue)]
    );
    o.analyses
        .insert(id.clone(), judged(Outcome::Fail, Verdict::Rollback));
    assert_eq!(
        sent(&o, "    approve: Sd0ther\n"),
        [Some(HookAction::Rollback)]
    );
    // A verdict about another pause (an earlier hook) does nothing to this one.
    let mut other = judged(Outcome::Pass, Verdict::Continue);
    other.hook = "ecs-pause-H0".into();
    o.analyses.insert(id.clone(), other);
    assert!(sent(&o, "").is_empty());
    // Once ECS acted on the hook it no longer awaits action: nothing is sent again.
    o.analyses
        .insert(id.clone(), judged(Outcome::Pass, Verdict::Continue));
    o.native_deployments.get_mut(&id).expect("deployment").hooks[0].status = HookStatus::Succeeded;
    assert!(sent(&o, "").is_empty());
}

#[test]
fn deleting_the_hooks_or_switching_to_rolling_is_sent_whole_in_place() {
    let o = native_in_sync(&manifests(&native_stack("")));
    let ms = manifests(&native_stack("").replace(
        "    lifecycleHooks:\n      - {type: pause, stages: [POST_TEST_TRAFFIC_SHIFT]}\n",
        "",
    ));
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(paths(&p), vec!["deployment.lifecycleHooks".to_owned()]);
    let update = ops(&p, "Service/web");
    assert!(
        matches!(&update[..], [Op::UpdateService(u)]
            if u.deployment.as_ref().is_some_and(|d| d.lifecycle_hooks.is_empty()
                && d.strategy == Some(ecsd_model::service::Strategy::Canary))),
        "{update:#?}"
    );
    let ms = manifests(&stack("", "", false));
    let p = plan(&ms, &o, &PlanOptions::default());
    let update = ops(&p, "Service/web");
    assert!(
        matches!(&update[..], [Op::UpdateService(u)]
            if u.deployment.as_ref().is_some_and(|d| d.strategy == Some(ecsd_model::service::Strategy::Rolling) && d.native.is_none())
            && u.load_balancers.as_ref().is_some_and(|l| l[0].advanced.is_none())),
        "{update:#?}"
    );
    assert!(
        errors(&p).is_empty(),
        "rolling <-> canary needs no --recreate"
    );
}

#[test]
fn a_native_setting_added_or_deleted_is_a_change_and_a_deleted_one_means_its_default() {
    let o = native_in_sync(&manifests(&native_stack("")));
    // Added: a canary share of its own, and no test listener rule.
    let ms = manifests(&native_stack(
        "    canary: {canaryPercent: 20, canaryBakeTimeMinutes: 10}\n",
    ));
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        paths(&p),
        vec!["deployment.canary.canaryPercent".to_owned()]
    );
    let ms = manifests(&native_stack("").replace(", testListenerRule: green", ""));
    let p = plan(&ms, &o, &PlanOptions::default());
    // The green rule is ECS's no more: its 100/0 forward to both is pointed back at
    // green alone, and the plan shows the weights going.
    assert_eq!(
        paths(&p),
        vec![
            "listenerRule.alsoForwardTo".to_owned(),
            "listenerRule.weight".to_owned(),
            "deployment.traffic.testListenerRule".to_owned()
        ]
    );
    let update = ops(&p, "Service/web");
    assert!(
        matches!(&update[..], [Op::UpdateService(u)]
            if u.load_balancers.as_ref().is_some_and(|l| l[0].advanced.as_ref().is_some_and(|a| a.test_listener_rule.is_none()))),
        "{update:#?}"
    );
    // Deleted: AWS at 20% while the manifest leaves the block out means back to 5%.
    let mut o = o;
    if let Some(c) = &mut web(&mut o).deployment_configuration.canary {
        c.canary_percent = 20.0;
    }
    let p = plan(&manifests(&native_stack("")), &o, &PlanOptions::default());
    assert_eq!(
        paths(&p),
        vec!["deployment.canary.canaryPercent".to_owned()]
    );
}

#[test]
fn after_a_swap_a_completed_rule_and_an_updated_service_follow_the_group_that_serves() {
    let ms = manifests(&native_stack(""));
    let mut o = native_in_sync(&ms);
    // ECS serves from green now (after a deployment), and someone cut the production
    // rule down to green alone.
    let lb = &mut web(&mut o).load_balancers[0];
    lb.target_group_arn = green_arn();
    if let Some(a) = &mut lb.advanced {
        a.alternate_target_group_arn = tg_arn();
    }
    o.rules.get_mut(LISTENER).expect("rules")[0].forward = vec![ForwardTarget {
        target_group_arn: green_arn(),
        weight: None,
    }];
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/web");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule { forward: Some(f), .. }] if *f == crate::ops::Forward::shiftable(
                crate::ops::TargetGroupRef::Arn(green_arn()),
                crate::ops::TargetGroupRef::Arn(tg_arn()),
            )
        ),
        "weight 100 on green, which serves: {modify:#?}"
    );

    // An edit of the role goes out with the pair in AWS's order.
    let ms = manifests(&native_stack("").replace("role/elb", "role/elb-v2"));
    let p = plan(&ms, &o, &PlanOptions::default());
    let update = ops(&p, "Service/web")
        .into_iter()
        .find_map(|op| match op {
            Op::UpdateService(u) => Some(u),
            _ => None,
        })
        .expect("an UpdateService");
    let lbs = update.load_balancers.expect("load balancers sent");
    assert_eq!(
        lbs[0].target_group,
        crate::ops::TargetGroupRef::Arn(green_arn()),
        "{lbs:#?}"
    );
    assert_eq!(
        lbs[0]
            .advanced
            .as_ref()
            .map(|a| a.alternate_target_group.clone()),
        Some(crate::ops::TargetGroupRef::Arn(tg_arn()))
    );
}

#[test]
fn when_neither_group_exists_the_service_s_own_creates_both_rules_whole() {
    // The production rule is the alternate's (allowed): it must not be created as a
    // forward to the alternate alone, where no task will run.
    let text = native_stack("").replace(
        "productionListenerRule: web, testListenerRule: green",
        "productionListenerRule: green, testListenerRule: web",
    );
    let ms = manifests(&text);
    let p = plan(&ms, &Observed::default(), &PlanOptions::default());
    let creates = |key: &str| -> Vec<Vec<crate::ops::Forward>> {
        ops(&p, key)
            .into_iter()
            .filter_map(|op| match op {
                Op::CreateRule { forward, .. } => Some(forward),
                _ => None,
            })
            .collect()
    };
    assert!(creates("TargetGroup/green").is_empty(), "{p:#?}");
    let both = crate::ops::Forward::shiftable(
        crate::ops::TargetGroupRef::Name("web".into()),
        crate::ops::TargetGroupRef::Name("green".into()),
    );
    assert_eq!(
        creates("TargetGroup/web"),
        vec![both.clone(), both],
        "{p:#?}"
    );
}

#[test]
fn a_codedeploy_service_moves_to_ecs_in_place_once_no_codedeploy_deployment_runs() {
    let ms = manifests(&native_stack(""));
    let mut o = native_in_sync(&ms);
    let svc = web(&mut o);
    svc.deployment_controller = DeploymentController::CodeDeploy;
    svc.deployment_configuration = DeploymentConfigurationState::default();
    svc.load_balancers[0].advanced = None;
    let id = svc.id.clone();
    let app = "arn:aws:codedeploy:us-east-1:123456789012:application:ecsd-prod-web".to_owned();
    o.tags.insert(app.clone(), owned("Service/web", &[]));
    o.blue_green.insert(
        id.clone(),
        BlueGreenState {
            application_exists: true,
            application_arn: Some(app),
            in_flight: Some(CodeDeployment {
                id: "d-RUNNING".into(),
                status: CodeDeployStatus::InProgress,
                task_definition_arn: None,
                error: None,
            }),
            ..BlueGreenState::default()
        },
    );
    // A CodeDeploy deployment in flight: held, nothing sent.
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(ops(&p, "Service/web").is_empty(), "{p:#?}");
    assert!(
        p.holds.iter().any(|h| h.reason.contains("d-RUNNING")),
        "{p:#?}"
    );
    assert!(p.errors.is_empty(), "no --recreate needed: {p:#?}");

    // Once it has finished: the owned application goes, then one UpdateService moves
    // the service to ECS's controller in place.
    if let Some(b) = o.blue_green.get_mut(&id) {
        b.in_flight = None;
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    let service_ops = ops(&p, "Service/web");
    assert!(
        matches!(
            &service_ops[..],
            [Op::DeleteCodeDeployApplication { .. }, Op::UpdateService(u)]
                if u.to_ecs_controller && u.load_balancers.is_some() && u.task_definition.is_none()
        ),
        "{service_ops:#?}"
    );
    assert!(
        !op_names(&service_ops)
            .iter()
            .any(|n| n == "deleteService" || n == "createService")
    );
}
