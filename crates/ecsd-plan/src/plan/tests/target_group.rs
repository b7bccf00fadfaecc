//! TargetGroups and their listener rules: load balancers, CodeDeploy's forward, weights, adoption.

use super::*;

#[test]
fn a_target_group_no_load_balancer_uses_is_refused_naming_listener_rule() {
    let text = stack("", "", false).replace(
        &format!("  listenerRule: {{listenerArn: \"{LISTENER}\", priority: 10, pathPatterns: [\"/api/*\"]}}\n"),
        "",
    );
    let ms = manifests(&text);
    let mut o = in_sync(&ms);
    o.services.clear();
    o.rules.clear();
    if let Some(t) = o.target_groups.get_mut("web") {
        t.load_balancer_arns.clear();
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        errors(&p),
        vec![("Service/web".to_owned(), PlanErrorKind::NoLoadBalancer)]
    );
    assert!(p.errors[0].message.contains("listenerRule"), "{p:#?}");
    // Attached to a listener outside ecsd, it is fine.
    if let Some(t) = o.target_groups.get_mut("web") {
        t.load_balancer_arns.push(LB.into());
    }
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.errors.is_empty(), "{p:#?}");
}

#[test]
fn a_blue_green_rule_keeps_codedeploy_s_forward_and_a_rolling_one_is_pointed_back() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    let other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/2";
    o.rules.get_mut(LISTENER).expect("listener")[0].forward = vec![
        ForwardTarget {
            target_group_arn: tg_arn(),
            weight: Some(0),
        },
        ForwardTarget {
            target_group_arn: other.into(),
            weight: Some(100),
        },
    ];
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/web");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule {
                conditions: None,
                forward: Some(f),
                ..
            }] if f.len() == 1 && f[0].weight.is_none()
        ),
        "a rolling target group's rule forwarding elsewhere is drift: {modify:#?}"
    );

    // The same rule for a blue/green target group is CodeDeploy's: only conditions change.
    let bg = format!(
        "{}---\napiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: green}}\nspec: {{vpcId: vpc-1, port: 5001, listenerRule: {{listenerArn: \"{TEST_LISTENER}\", priority: 1, pathPatterns: [\"/*\"]}}}}\n",
        stack("", "", false).replace(
            "  loadBalancers: [{targetGroup: web, containerName: app, containerPort: 5001}]\n",
            &format!("  loadBalancers: [{{targetGroup: web, containerName: app, containerPort: 5001}}]\n  deployment:\n    strategy: blueGreen\n    blueGreen: {{alternateTargetGroup: green, prodListenerArn: \"{LISTENER}\", serviceRoleArn: \"arn:aws:iam::123456789012:role/cd\"}}\n"),
        )
    )
    .replace("pathPatterns: [\"/api/*\"]", "pathPatterns: [\"/v2/*\"]");
    let ms = manifests(&bg);
    let p = plan(&ms, &o, &PlanOptions::default());
    let modify = ops(&p, "TargetGroup/web");
    assert!(
        matches!(
            &modify[..],
            [Op::ModifyRule {
                conditions: Some(_),
                forward: None,
                ..
            }]
        ),
        "{modify:#?}"
    );
}

/// The ASG's target group in the weighted cutover tests.
const ASG_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-asg/9";

/// The stack with its rule forwarding `own` to web and `asg` to the ASG's target group.
fn weighted_stack(own: u32, asg: u32) -> String {
    stack("", "", false).replace(
        r#"pathPatterns: ["/api/*"]}"#,
        &format!(
            r#"pathPatterns: ["/api/*"], weight: {own}, alsoForwardTo: [{{targetGroupArn: "{ASG_TG}", weight: {asg}}}]}}"#
        ),
    )
}

/// The rule of `o` forwarding `own` to web and `asg` to the ASG's target group.
fn weigh(o: &mut Observed, own: u32, asg: u32) {
    o.rules.get_mut(LISTENER).expect("listener")[0].forward = vec![
        ForwardTarget {
            target_group_arn: tg_arn(),
            weight: Some(own),
        },
        ForwardTarget {
            target_group_arn: ASG_TG.into(),
            weight: Some(asg),
        },
    ];
}

#[test]
fn a_weight_commit_is_one_modify_rule_and_the_plan_shows_the_weights() {
    let ms = manifests(&weighted_stack(10, 90));
    let mut o = in_sync(&manifests(&stack("", "", false)));
    // From a plain rule: the weights are the change.
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        paths(&p),
        vec![
            "listenerRule.alsoForwardTo[0]".to_owned(),
            "listenerRule.weight".to_owned()
        ]
    );
    let want = |own: u32, asg: u32| {
        vec![
            crate::ops::Forward {
                target_group: crate::ops::TargetGroupRef::Arn(tg_arn()),
                weight: Some(own),
            },
            crate::ops::Forward {
                target_group: crate::ops::TargetGroupRef::Arn(ASG_TG.into()),
                weight: Some(asg),
            },
        ]
    };
    assert!(
        matches!(&ops(&p, "TargetGroup/web")[..],
            [Op::ModifyRule { conditions: None, forward: Some(f), .. }] if *f == want(10, 90)),
        "{:#?}",
        ops(&p, "TargetGroup/web")
    );
    // In place: nothing to do, in any order AWS lists the target groups.
    weigh(&mut o, 10, 90);
    assert!(plan(&ms, &o, &PlanOptions::default()).changes.is_empty());
    o.rules.get_mut(LISTENER).expect("listener")[0]
        .forward
        .reverse();
    assert!(plan(&ms, &o, &PlanOptions::default()).changes.is_empty());
    // The next commit: exactly the two weights, in one ModifyRule.
    weigh(&mut o, 10, 90);
    let p = plan(
        &manifests(&weighted_stack(50, 50)),
        &o,
        &PlanOptions::default(),
    );
    assert_eq!(
        paths(&p),
        vec![
            "listenerRule.alsoForwardTo[0].weight".to_owned(),
            "listenerRule.weight".to_owned()
        ]
    );
    assert!(
        matches!(&ops(&p, "TargetGroup/web")[..],
            [Op::ModifyRule { conditions: None, forward: Some(f), .. }] if *f == want(50, 50)),
        "{:#?}",
        ops(&p, "TargetGroup/web")
    );
    // The last commit drops the ASG: all traffic to web, a plain forward again.
    weigh(&mut o, 100, 0);
    let p = plan(
        &manifests(&stack("", "", false)),
        &o,
        &PlanOptions::default(),
    );
    assert!(
        matches!(&ops(&p, "TargetGroup/web")[..],
            [Op::ModifyRule { forward: Some(f), .. }] if f.len() == 1 && f[0].weight.is_none()),
        "{:#?}",
        ops(&p, "TargetGroup/web")
    );
}

#[test]
fn a_weighted_rule_is_created_with_its_weights() {
    let ms = manifests(&weighted_stack(0, 100));
    let mut o = in_sync(&ms);
    o.rules.clear();
    let p = plan(&ms, &o, &PlanOptions::default());
    let create = ops(&p, "TargetGroup/web");
    assert!(
        matches!(&create[..], [Op::CreateRule { forward, .. }]
            if forward.len() == 2 && forward[0].weight == Some(0) && forward[1].weight == Some(100)
                && forward[1].target_group == crate::ops::TargetGroupRef::Arn(ASG_TG.into())),
        "{create:#?}"
    );
}

#[test]
fn adopting_takes_over_the_rule_that_forwards_to_the_adopted_target_group() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    // Made by another tool: nothing carries ecsd's tags.
    for tg in o.target_groups.values_mut() {
        tg.tags.clear();
    }
    for rule in o.rules.values_mut().flatten() {
        rule.tags.clear();
    }
    for svc in o.services.values_mut() {
        svc.tags.clear();
    }
    let refused = plan(&ms, &o, &PlanOptions::default());
    assert!(
        errors(&refused)
            .iter()
            .any(|(k, e)| k == "TargetGroup/web" && *e == PlanErrorKind::NotOwned),
        "{refused:#?}"
    );
    let adopt = PlanOptions {
        adopt: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &adopt);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let tg_ops = ops(&p, "TargetGroup/web");
    let tagged: Vec<&Tagged> = tg_ops
        .iter()
        .filter_map(|op| match op {
            Op::TagResource { resource, .. } => Some(resource),
            _ => None,
        })
        .collect();
    assert_eq!(
        tagged,
        vec![
            &Tagged::Elb(tg_arn()),
            &Tagged::Elb(format!("{LISTENER}/rule-1"))
        ],
        "{tg_ops:#?}"
    );
    assert!(
        !op_names(&tg_ops)
            .iter()
            .any(|n| n == "createRule" || n == "modifyRule"),
        "the rule is taken over as it is: {tg_ops:#?}"
    );
}
