//! What holds for every kind: nothing to do when in sync, errors with their kind, deletions meaning defaults, the prune valve, labels and the owner tag.

use super::*;

#[test]
fn aws_exactly_as_the_manifests_ask_plans_nothing() {
    let ms = manifests(&stack("", "", false));
    let p = plan(&ms, &in_sync(&ms), &PlanOptions::default());
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn every_plan_error_has_its_kind_and_holds_back_what_depends_on_it() {
    type Case = (
        &'static str,
        fn(&mut Observed),
        PlanOptions,
        Vec<(&'static str, PlanErrorKind)>,
    );
    let table: Vec<Case> = vec![
        (
            "the cluster does not exist",
            |o| {
                o.missing_clusters.insert("prod".into());
            },
            PlanOptions::default(),
            vec![("Service/web", PlanErrorKind::MissingCluster)],
        ),
        (
            "the service is not ecsd's",
            |o| web(o).tags.clear(),
            PlanOptions::default(),
            vec![("Service/web", PlanErrorKind::NotOwned)],
        ),
        (
            "the target group is not ecsd's: its service's change is held back",
            |o| {
                if let Some(t) = o.target_groups.get_mut("web") {
                    t.tags.clear();
                }
                web(o).desired_count = 3;
            },
            PlanOptions::default(),
            vec![
                ("TargetGroup/web", PlanErrorKind::NotOwned),
                ("Service/web", PlanErrorKind::Dependency),
            ],
        ),
        (
            "the port of an existing target group cannot change",
            |o| {
                if let Some(t) = o.target_groups.get_mut("web") {
                    t.port = 8080;
                }
                web(o).desired_count = 3;
            },
            PlanOptions::default(),
            vec![
                ("TargetGroup/web", PlanErrorKind::Immutable),
                ("Service/web", PlanErrorKind::Dependency),
            ],
        ),
        (
            "another rule holds the priority",
            |o| {
                let r = &mut o.rules.get_mut(LISTENER).expect("listener")[0];
                r.tags.clear();
                web(o).desired_count = 3;
            },
            PlanOptions::default(),
            vec![
                ("TargetGroup/web", PlanErrorKind::PriorityTaken),
                ("Service/web", PlanErrorKind::Dependency),
            ],
        ),
        (
            "the running task definition could not be read",
            |o| {
                web(o).tags.remove(TASK_DEFINITION_TAG);
                o.task_definitions.clear();
            },
            PlanOptions::default(),
            vec![("Service/web", PlanErrorKind::Unobserved)],
        ),
        (
            "pruning without an inventory",
            |_| {},
            PlanOptions {
                prune: true,
                ..PlanOptions::default()
            },
            vec![("", PlanErrorKind::Unobserved)],
        ),
    ];
    let ms = manifests(&stack("", "", false));
    for (case, edit, opts, want) in table {
        let mut o = in_sync(&ms);
        edit(&mut o);
        let p = plan(&ms, &o, &opts);
        let want: Vec<(String, PlanErrorKind)> =
            want.into_iter().map(|(k, e)| (k.to_owned(), e)).collect();
        assert_eq!(errors(&p), want, "{case}: {p:#?}");
        assert!(
            p.changes
                .iter()
                .all(|c| want.iter().all(|(k, _)| *k != c.key.to_string())),
            "{case}: nothing is planned for an object in error: {p:#?}"
        );
    }
}

#[test]
fn deleting_a_field_entry_or_label_is_a_change_back_to_the_default() {
    // (the manifest, how AWS differs from it, the diff path, an op the fix needs)
    type Edit = fn(&mut Observed);
    let table: [(&str, Edit, &str, &str); 5] = [
        (
            "an environment variable deleted from the manifest",
            |o| {
                web(o).tags.remove(TASK_DEFINITION_TAG);
                for t in o.task_definitions.values_mut() {
                    t.definition.containers[0]
                        .environment
                        .insert("FEATURE_X".into(), "on".into());
                }
            },
            "taskDefinition.containers[0].environment.FEATURE_X",
            "registerTaskDefinition",
        ),
        (
            "a command deleted from the manifest",
            |o| {
                web(o).tags.remove(TASK_DEFINITION_TAG);
                for t in o.task_definitions.values_mut() {
                    t.definition.containers[0].command = Some(vec!["gunicorn".into()]);
                }
            },
            "taskDefinition.containers[0].command",
            "registerTaskDefinition",
        ),
        (
            "healthCheck.matcher left out means AWS's 200",
            |o| {
                if let Some(t) = o.target_groups.get_mut("web") {
                    t.health_check.matcher = "200-299".into();
                }
            },
            "healthCheck.matcher",
            "modifyTargetGroupHealthCheck",
        ),
        (
            "a circuit breaker left out means off",
            |o| {
                web(o).deployment_configuration.circuit_breaker =
                    Some(CircuitBreaker::new(true, true));
            },
            "deployment.circuitBreaker.enable",
            "updateService",
        ),
        (
            "a label deleted from the manifest",
            |o| {
                web(o).tags = {
                    let mut t = owned("Service/web", &[("team", "web")]);
                    t.extend(
                        web(o)
                            .tags
                            .clone()
                            .into_iter()
                            .filter(|(k, _)| k.starts_with("ecsd:task")),
                    );
                    t
                };
            },
            "metadata.labels.team",
            "untagResource",
        ),
    ];
    let ms = manifests(&stack("", "", false));
    for (case, edit, path, op) in table {
        let mut o = in_sync(&ms);
        edit(&mut o);
        let p = plan(&ms, &o, &PlanOptions::default());
        assert!(paths(&p).iter().any(|x| x == path), "{case}: {p:#?}");
        let all: Vec<String> = p.changes.iter().flat_map(|c| op_names(&c.ops)).collect();
        assert!(all.iter().any(|x| x == op), "{case}: {all:?}");
    }
}

#[test]
fn the_prune_valve_refuses_to_delete_too_much() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    let mut inventory = Inventory::default();
    for name in ["a", "b", "c", "d"] {
        let id = ServiceId::new("prod", name);
        inventory
            .services
            .push(service(id, owned(&format!("Service/{name}"), &[])));
    }
    inventory.services.push(service(
        ServiceId::new("prod", "web"),
        owned("Service/web", &[]),
    ));
    o.inventory = Some(inventory);
    let prune = |max_prune| PlanOptions {
        prune: true,
        max_prune,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &prune(3));
    assert_eq!(errors(&p), vec![(String::new(), PlanErrorKind::PruneValve)]);
    assert!(p.changes.iter().all(|c| c.action != crate::Action::Delete));
    // Within --max-prune but more than half of the owned objects: refused as well.
    let p = plan(&ms, &o, &prune(10));
    assert_eq!(errors(&p), vec![(String::new(), PlanErrorKind::PruneValve)]);
    // Fewer orphans: pruned, scaling first.
    if let Some(inv) = o.inventory.as_mut() {
        inv.services.truncate(1);
        inv.services.push(service(
            ServiceId::new("prod", "web"),
            owned("Service/web", &[]),
        ));
    }
    let p = plan(&ms, &o, &prune(3));
    assert!(p.errors.is_empty(), "{p:#?}");
    assert_eq!(
        p.changes
            .iter()
            .filter(|c| c.action == crate::Action::Delete)
            .map(|c| c.key.to_string())
            .collect::<Vec<_>>(),
        vec!["Service/a"]
    );
}

#[test]
fn labels_reach_every_resource_made_for_the_object() {
    let ms = manifests(&stack("", ", labels: {team: web}", false));
    let mut o = in_sync(&ms);
    // The running revision's tags were read because the service's labels differ.
    o.tags.insert(TD1.into(), owned("Service/web", &[]));
    let p = plan(&ms, &o, &PlanOptions::default());
    let tagged: BTreeMap<String, Vec<String>> = p
        .changes
        .iter()
        .map(|c| {
            let resources = c
                .ops
                .iter()
                .filter_map(|o| match o {
                    Op::TagResource { resource, tags } if tags.get("team").is_some() => {
                        Some(format!("{resource:?}"))
                    }
                    _ => None,
                })
                .collect();
            (c.key.to_string(), resources)
        })
        .collect();
    assert_eq!(
        tagged["TargetGroup/web"].len(),
        2,
        "target group and rule: {tagged:#?}"
    );
    assert_eq!(
        tagged["Service/web"].len(),
        2,
        "task definition and service: {tagged:#?}"
    );
    assert!(
        tagged["Service/web"]
            .last()
            .is_some_and(|r| r.starts_with("Service")),
        "the service is tagged last (its tags vouch for the others): {tagged:#?}"
    );
}

/// The shipped IAM policy lets ecsd tag only with `aws:RequestTag/ecsd:owner`: every
/// tagging request of a plan carries the owner tag, label syncs and markers included.
#[test]
fn every_tagging_request_carries_the_owner_tag() {
    let opts = PlanOptions {
        owner: "team-a".into(),
        ..PlanOptions::default()
    };
    let with_owner = |o: &Observed, ms: &[Manifest]| {
        let mut o = o.clone();
        for tags in o
            .services
            .values_mut()
            .map(|s| &mut s.tags)
            .chain(o.target_groups.values_mut().map(|t| &mut t.tags))
            .chain(o.rules.values_mut().flatten().map(|r| &mut r.tags))
            .chain(o.tags.values_mut())
        {
            if tags.contains_key(OWNER_TAG) {
                tags.insert(OWNER_TAG.into(), "team-a".into());
            }
        }
        plan(ms, &o, &opts)
    };
    // Labels changed on everything, a deregistration delay to record, a running
    // definition to record on the service.
    let ms = manifests(&stack("", ", labels: {team: web}", false).replace(
        "healthCheck: {path: /healthz}",
        "healthCheck: {path: /healthz}\n  deregistrationDelaySeconds: 30",
    ));
    let mut o = in_sync(&manifests(&stack("", "", false)));
    o.tags.insert(TD1.into(), owned("Service/web", &[]));
    web(&mut o).tags.remove(TASK_DEFINITION_TAG);
    let p = with_owner(&o, &ms);
    let mut seen = BTreeSet::new();
    for op in p.changes.iter().flat_map(|c| &c.ops) {
        match op {
            Op::TagResource { tags, .. } => {
                assert_eq!(
                    tags.get(OWNER_TAG).map(String::as_str),
                    Some("team-a"),
                    "{op:?}"
                );
                seen.insert("TagResource");
            }
            Op::SetDeregistrationDelay { owner, .. } | Op::MarkTaskDefinition { owner, .. } => {
                assert_eq!(owner, "team-a", "{op:?}");
                seen.insert(if matches!(op, Op::MarkTaskDefinition { .. }) {
                    "MarkTaskDefinition"
                } else {
                    "SetDeregistrationDelay"
                });
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from([
            "MarkTaskDefinition",
            "SetDeregistrationDelay",
            "TagResource"
        ]),
        "{p:#?}"
    );
}
