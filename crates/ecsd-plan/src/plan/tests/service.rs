//! Services: adoption, strategy switches, drains, rollbacks, the task definition marker.

use super::*;

#[test]
fn an_unowned_service_is_adopted_only_when_asked() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    web(&mut o).tags.clear();
    let adopt = PlanOptions {
        adopt: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &adopt);
    assert!(p.errors.is_empty(), "{p:#?}");
    let service_ops = ops(&p, "Service/web");
    assert!(
        matches!(&service_ops[0], Op::TagResource { resource: Tagged::Service(_), tags } if tags.contains_key(OWNER_TAG)),
        "{service_ops:#?}"
    );
}

fn blue_green(o: &mut Observed) {
    let svc = web(o);
    svc.deployment_controller = DeploymentController::CodeDeploy;
}

#[test]
fn switching_strategy_needs_recreate_and_never_replaces_an_unowned_service() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    blue_green(&mut o);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(
        errors(&p),
        vec![("Service/web".to_owned(), PlanErrorKind::StrategySwitch)]
    );
    assert!(p.errors[0].message.contains("--recreate"));
    let recreate = PlanOptions {
        recreate: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &recreate);
    assert_eq!(
        op_names(&ops(&p, "Service/web"))[..4],
        [
            "deleteService",
            "awaitServiceInactive",
            "registerTaskDefinition",
            "createService"
        ]
    );
    web(&mut o).tags.clear();
    let p = plan(&ms, &o, &recreate);
    assert_eq!(
        errors(&p),
        vec![("Service/web".to_owned(), PlanErrorKind::NotOwned)]
    );
    assert!(p.errors[0].message.contains("never replaced"));
}

#[test]
fn a_service_still_draining_is_waited_for_and_never_deleted_again() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    web(&mut o).status = ServiceStatus::Draining;
    let p = plan(&ms, &o, &PlanOptions::default());
    let names = op_names(&ops(&p, "Service/web"));
    assert_eq!(names[0], "awaitServiceInactive", "{names:?}");
    assert!(names.contains(&"createService".to_owned()));
    assert!(!names.contains(&"deleteService".to_owned()));
    assert!(
        p.changes[0].notes.iter().any(|n| n.contains("DRAINING"))
            || p.changes
                .iter()
                .any(|c| c.notes.iter().any(|n| n.contains("DRAINING")))
    );
}

#[test]
fn a_rolled_back_definition_is_held_until_the_manifest_changes_or_a_retry() {
    let bad = stack(", FEATURE_X: \"on\"", "", false);
    let ms = manifests(&bad);
    let mut o = in_sync(&manifests(&stack("", "", false)));
    let spec = ms
        .iter()
        .find_map(|m| match &m.spec {
            ecsd_model::Spec::Service(s) => Some(s.as_ref().clone()),
            _ => None,
        })
        .expect("a Service");
    o.rollbacks.insert(
        ServiceId::new("prod", "web"),
        RolledBack {
            deployment_arn: "arn:aws:ecs:us-east-1:1:service-deployment/prod/web/2".into(),
            status: ServiceDeploymentStatus::RollbackSuccessful,
            reason: "ECS deployment circuit breaker: tasks failed to start".into(),
            task_definition: TaskDefinitionState {
                arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into(),
                family: "web".into(),
                revision: 2,
                definition: desired_task_definition("web", &spec),
                unmodeled: Vec::new(),
            },
        },
    );
    // The marker names the hash of web:1's definition: observe described web:1.
    let p = plan(&ms, &o, &PlanOptions::default());
    assert_eq!(p.holds.len(), 1, "{p:#?}");
    assert!(p.holds[0].reason.contains("circuit breaker"));
    assert!(!op_names(&ops(&p, "Service/web")).contains(&"registerTaskDefinition".to_owned()));

    let retry = PlanOptions {
        retry_rolled_back: true,
        ..PlanOptions::default()
    };
    let p = plan(&ms, &o, &retry);
    assert!(p.holds.is_empty());
    let retried = ops(&p, "Service/web");
    assert!(
        !op_names(&retried).contains(&"registerTaskDefinition".to_owned()),
        "the rolled-back revision is deployed again, not copied: {retried:#?}"
    );
    let web2 =
        TaskDefinitionRef::Arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into());
    assert!(
        retried.iter().any(
            |op| matches!(op, Op::UpdateService(u) if u.task_definition.as_ref() == Some(&web2))
        ),
        "{retried:#?}"
    );

    // Another definition (the manifest changed again) is deployed.
    let ms = manifests(&stack(", FEATURE_X: \"off\"", "", false));
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(p.holds.is_empty(), "{p:#?}");
}

#[test]
fn the_task_definition_marker_is_recorded_only_for_an_identical_running_definition() {
    let ms = manifests(&stack("", "", false));
    let mut o = in_sync(&ms);
    web(&mut o).tags.remove(TASK_DEFINITION_TAG);
    let p = plan(&ms, &o, &PlanOptions::default());
    assert!(paths(&p).is_empty(), "{p:#?}");
    assert!(matches!(
        &ops(&p, "Service/web")[..],
        [Op::MarkTaskDefinition { task_definition: TaskDefinitionRef::Arn(a), .. }] if a == TD1
    ));
    // With one more variable in the running revision there is a diff, and no marker
    // that would vouch for it.
    o.task_definitions.values_mut().for_each(|t| {
        t.definition.containers[0]
            .environment
            .insert("EXTRA".into(), "1".into());
    });
    let p = plan(&ms, &o, &PlanOptions::default());
    let service_ops = ops(&p, "Service/web");
    assert!(service_ops.iter().any(|o| matches!(
        o,
        Op::MarkTaskDefinition {
            task_definition: TaskDefinitionRef::Registered,
            ..
        }
    )));
    assert!(!service_ops.iter().any(|o| matches!(
        o,
        Op::MarkTaskDefinition {
            task_definition: TaskDefinitionRef::Arn(_),
            ..
        }
    )));
}
