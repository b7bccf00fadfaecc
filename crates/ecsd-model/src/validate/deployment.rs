//! The `deployment` block of a Service: strategy and its blocks (CodeDeploy's
//! `blueGreen`, ECS's `traffic`, `linear`, `canary`, lifecycle hooks and approvals), the
//! circuit breaker, deployment alarms and early success criteria, with the limits and
//! combinations AWS accepts. The canary `analysis` has its own file.

use std::collections::HashSet;

use super::Validator;
use crate::arn;
use crate::document::Document;
use crate::limits::{ALARM_NAME_MAX, CODE_DEPLOY_NAME_MAX};
use crate::manifest::Kind;
use crate::service::{ServiceSpec, Strategy};

/// Whether a percentage is a whole number of tenths, as ECS requires.
fn tenths(p: f64) -> bool {
    ((p * 10.0).round() - p * 10.0).abs() < 1e-6
}

impl Validator<'_> {
    pub(super) fn deployment(&mut self, doc: &Document, docs: &[Document], svc: &ServiceSpec) {
        let d = &svc.deployment;
        if let Some(cb) = d.circuit_breaker
            && cb.rollback
            && !cb.enable
        {
            self.err(
                doc,
                "spec.deployment.circuitBreaker.rollback",
                "circuitBreaker.rollback needs enable: true",
            );
        }
        self.deployment_alarms(doc, svc);
        self.early_success(doc, svc);
        if d.approve.is_some() && d.rollback.is_some() {
            self.err_key(
                doc,
                "spec.deployment.rollback",
                "spec.deployment takes approve or rollback, not both: a paused deployment either continues or rolls back",
            );
        }
        if d.is_native() {
            self.native_deployment(doc, docs, svc);
            self.analysis(doc, svc);
        } else {
            self.forbidden(
                doc,
                "spec.deployment",
                &[
                    ("bakeTimeMinutes", d.bake_time_minutes.is_some()),
                    ("traffic", d.traffic.is_some()),
                    ("lifecycleHooks", !d.lifecycle_hooks.is_empty()),
                    ("approve", d.approve.is_some()),
                    ("rollback", d.rollback.is_some()),
                    ("analysis", d.analysis.is_some()),
                ],
                "is only allowed with strategy ecsBlueGreen, linear or canary",
            );
        }
        self.forbidden(
            doc,
            "spec.deployment",
            &[(
                "linear",
                d.linear.is_some() && d.strategy != Strategy::Linear,
            )],
            "is only allowed with strategy: linear",
        );
        self.forbidden(
            doc,
            "spec.deployment",
            &[(
                "canary",
                d.canary.is_some() && d.strategy != Strategy::Canary,
            )],
            "is only allowed with strategy: canary",
        );
        match (d.strategy, &d.blue_green) {
            (s, Some(_)) if s != Strategy::BlueGreen => self.err_key(
                doc,
                "spec.deployment.blueGreen",
                "spec.deployment.blueGreen is only allowed with strategy: blueGreen",
            ),
            (s, _) if s != Strategy::BlueGreen => {}
            (_, None) => {
                let path = if doc.key_pos("spec.deployment.strategy") == doc.pos {
                    "spec.deployment"
                } else {
                    "spec.deployment.strategy"
                };
                self.err(
                    doc,
                    path,
                    "strategy blueGreen needs a spec.deployment.blueGreen block",
                );
            }
            (_, Some(bg)) => {
                if d.circuit_breaker.is_some() {
                    self.err_key(doc, "spec.deployment.circuitBreaker", "circuitBreaker works only with strategy rolling; CodeDeploy rolls back blue/green deployments (autoRollback)");
                }
                if svc.load_balancers.len() != 1 {
                    self.err(
                        doc,
                        "spec.loadBalancers",
                        format!(
                            "strategy blueGreen needs exactly one loadBalancers entry, found {}",
                            svc.load_balancers.len()
                        ),
                    );
                }
                let base = "spec.deployment.blueGreen";
                let alt = format!("{base}.alternateTargetGroup");
                if svc
                    .load_balancers
                    .iter()
                    .any(|lb| lb.target_group == bg.alternate_target_group)
                {
                    self.err(
                        doc,
                        &alt,
                        format!(
                            "{alt} {:?} must differ from the service's own target group",
                            bg.alternate_target_group
                        ),
                    );
                } else {
                    self.reference(
                        doc,
                        docs,
                        &alt,
                        Kind::TargetGroup,
                        &bg.alternate_target_group,
                    );
                }
                for (field, value) in [
                    ("prodListenerArn", Some(&bg.prod_listener_arn)),
                    ("testListenerArn", bg.test_listener_arn.as_ref()),
                ] {
                    if let Some(v) = value {
                        self.listener_arn(doc, &format!("{base}.{field}"), v);
                    }
                }
                if bg.test_listener_arn.as_ref() == Some(&bg.prod_listener_arn) {
                    self.err(
                        doc,
                        &format!("{base}.testListenerArn"),
                        "testListenerArn must differ from prodListenerArn",
                    );
                }
                self.role_arn(doc, &format!("{base}.serviceRoleArn"), &bg.service_role_arn);
                if bg.traffic_shift.trim().is_empty() {
                    self.err(
                        doc,
                        &format!("{base}.trafficShift"),
                        "trafficShift must name a CodeDeploy deployment configuration",
                    );
                }
                self.code_deploy_names(doc, svc);
                for (i, a) in bg.alarms.iter().enumerate() {
                    if a.trim().is_empty() || a.len() > ALARM_NAME_MAX {
                        self.err(
                            doc,
                            &format!("{base}.alarms[{i}]"),
                            format!("alarm names must be 1-{ALARM_NAME_MAX} characters"),
                        );
                    }
                }
                if let Some(hooks) = &bg.validation_hooks {
                    for (hook, f) in hooks.iter() {
                        if !arn::is_lambda_function(f) {
                            let path = format!("{base}.validationHooks.{hook}");
                            self.err(doc, &path, format!("{path} is neither a Lambda function name nor its ARN, found {f:?}"));
                        }
                    }
                }
            }
        }
    }

    /// ECS's own blue/green, linear and canary: what ECS documents for
    /// `deploymentConfiguration` and `loadBalancers[].advancedConfiguration`
    /// (API_DeploymentConfiguration, API_AdvancedConfiguration, API_DeploymentLifecycleHook).
    fn native_deployment(&mut self, doc: &Document, docs: &[Document], svc: &ServiceSpec) {
        let d = &svc.deployment;
        let name = match d.strategy {
            Strategy::Linear => "linear",
            Strategy::Canary => "canary",
            _ => "ecsBlueGreen",
        };
        if d.bake_time_minutes.is_none() {
            self.err(
                doc,
                "spec.deployment.strategy",
                format!("strategy {name} needs spec.deployment.bakeTimeMinutes (0-1440): how long both revisions run after production traffic moved"),
            );
        }
        if let Some(l) = &d.linear
            && !tenths(l.step_percent)
        {
            self.err(
                doc,
                "spec.deployment.linear.stepPercent",
                format!(
                    "stepPercent must be a multiple of 0.1 from 3.0 to 100.0, found {}",
                    l.step_percent
                ),
            );
        }
        if let Some(c) = &d.canary
            && !tenths(c.canary_percent)
        {
            self.err(
                doc,
                "spec.deployment.canary.canaryPercent",
                format!(
                    "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0, found {}",
                    c.canary_percent
                ),
            );
        }
        if svc.load_balancers.len() != 1 {
            self.err(
                doc,
                "spec.loadBalancers",
                format!(
                    "strategy {name} needs exactly one loadBalancers entry (ECS shifts its traffic), found {}",
                    svc.load_balancers.len()
                ),
            );
        }
        let Some(t) = &d.traffic else {
            self.err(
                doc,
                "spec.deployment.strategy",
                format!("strategy {name} needs a spec.deployment.traffic block (alternateTargetGroup, productionListenerRule, roleArn)"),
            );
            self.lifecycle_hooks(doc, svc);
            return;
        };
        let base = "spec.deployment.traffic";
        let primary = svc
            .load_balancers
            .first()
            .map(|lb| lb.target_group.as_str());
        let alt = format!("{base}.alternateTargetGroup");
        if primary == Some(t.alternate_target_group.as_str()) {
            self.err(
                doc,
                &alt,
                format!(
                    "{alt} {:?} must differ from the service's own target group",
                    t.alternate_target_group
                ),
            );
        } else {
            self.reference(
                doc,
                docs,
                &alt,
                Kind::TargetGroup,
                &t.alternate_target_group,
            );
        }
        let pair = [
            primary.unwrap_or_default(),
            t.alternate_target_group.as_str(),
        ];
        for (field, value) in [
            ("productionListenerRule", Some(&t.production_listener_rule)),
            ("testListenerRule", t.test_listener_rule.as_ref()),
        ] {
            let Some(v) = value else { continue };
            let path = format!("{base}.{field}");
            if !pair.contains(&v.as_str()) {
                self.err(
                    doc,
                    &path,
                    format!("{path} names the TargetGroup whose listenerRule ECS shifts: the service's target group {:?} or the alternate {:?}, found {v:?}", pair[0], pair[1]),
                );
                continue;
            }
            let target = docs
                .iter()
                .find(|o| o.manifest.kind() == Kind::TargetGroup && o.manifest.metadata.name == *v);
            if let Some(o) = target
                && let crate::Spec::TargetGroup(tg) = &o.manifest.spec
                && tg.listener_rule.is_none()
            {
                self.err(
                    doc,
                    &path,
                    format!("{path}: TargetGroup {v:?} has no listenerRule for ECS to shift"),
                );
            }
        }
        if t.test_listener_rule.as_ref() == Some(&t.production_listener_rule) {
            self.err(
                doc,
                &format!("{base}.testListenerRule"),
                "testListenerRule must differ from productionListenerRule",
            );
        }
        // Both rules forward to both target groups, and a target group serves one load
        // balancer only (ALB quota "load balancers per target group": 1).
        let load_balancer = |name: &str| {
            docs.iter().find_map(|o| match &o.manifest.spec {
                crate::Spec::TargetGroup(tg) if o.manifest.metadata.name == name => tg
                    .listener_rule
                    .as_ref()
                    .and_then(|r| crate::arn::load_balancer_of_listener(&r.listener_arn)),
                _ => None,
            })
        };
        if let Some(test) = &t.test_listener_rule
            && let (Some(p), Some(q)) = (
                load_balancer(&t.production_listener_rule),
                load_balancer(test),
            )
            && p != q
        {
            self.err(
                doc,
                &format!("{base}.testListenerRule"),
                format!(
                    "{base}.testListenerRule is on load balancer {q} and productionListenerRule on {p}: both rules forward to both target groups, and a target group serves one load balancer only (ALB quota: load balancers per target group, 1); put both listeners on one load balancer"
                ),
            );
        }
        self.role_arn(doc, &format!("{base}.roleArn"), &t.role_arn);
        self.lifecycle_hooks(doc, svc);
    }

    /// `deployment.alarms`: ECS's deployment alarms (the ECS deployment controller only:
    /// CodeDeploy has `blueGreen.alarms`), at least one CloudWatch alarm name of 1-255
    /// characters.
    fn deployment_alarms(&mut self, doc: &Document, svc: &ServiceSpec) {
        let Some(a) = &svc.deployment.alarms else {
            return;
        };
        if svc.deployment.strategy == Strategy::BlueGreen {
            self.err_key(
                doc,
                "spec.deployment.alarms",
                "spec.deployment.alarms works with ECS's deployment controller only; with strategy blueGreen, CodeDeploy watches spec.deployment.blueGreen.alarms",
            );
            return;
        }
        if a.alarm_names.is_empty() {
            self.err(
                doc,
                "spec.deployment.alarms.alarmNames",
                "spec.deployment.alarms.alarmNames needs at least one CloudWatch alarm name",
            );
        }
        for (i, name) in a.alarm_names.iter().enumerate() {
            let path = format!("spec.deployment.alarms.alarmNames[{i}]");
            if name.is_empty() || name.chars().count() > ALARM_NAME_MAX {
                self.err(
                    doc,
                    &path,
                    format!("{path}: a CloudWatch alarm name has 1-{ALARM_NAME_MAX} characters"),
                );
            }
        }
        if a.rollback && !a.enable {
            self.err(
                doc,
                "spec.deployment.alarms.rollback",
                "alarms.rollback needs enable: true",
            );
        }
    }

    /// `deployment.earlySuccessCriteria`: rolling only; when enabled, `healthyPercent`
    /// (0-100, at least `minimumHealthyPercent`) and `sourceServiceRevisionCleanup`.
    fn early_success(&mut self, doc: &Document, svc: &ServiceSpec) {
        let d = &svc.deployment;
        let Some(e) = d.early_success_criteria else {
            return;
        };
        let base = "spec.deployment.earlySuccessCriteria";
        if d.strategy != Strategy::Rolling {
            self.err_key(
                doc,
                base,
                format!("{base} works with strategy rolling only"),
            );
            return;
        }
        if !e.enable {
            return;
        }
        match e.healthy_percent {
            None => self.err(
                doc,
                base,
                format!("{base} needs healthyPercent when enabled"),
            ),
            Some(p) => {
                let floor = d
                    .minimum_healthy_percent
                    .unwrap_or(crate::defaults::MINIMUM_HEALTHY_PERCENT);
                let path = format!("{base}.healthyPercent");
                if p > 100 {
                    self.err(doc, &path, format!("{path} is 0-100, found {p}"));
                } else if p < floor {
                    self.err(
                        doc,
                        &path,
                        format!("{path} ({p}) must be at least minimumHealthyPercent ({floor})"),
                    );
                }
            }
        }
        if e.source_service_revision_cleanup.is_none() {
            self.err(
                doc,
                base,
                format!(
                    "{base} needs sourceServiceRevisionCleanup (blocking or deferred) when enabled"
                ),
            );
        }
    }

    /// Lambda hooks need a function ARN and a role; pause hooks take neither, nor
    /// details, and ECS refuses them at TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT.
    fn lifecycle_hooks(&mut self, doc: &Document, svc: &ServiceSpec) {
        use crate::service::HookKind;
        for (i, h) in svc.deployment.lifecycle_hooks.iter().enumerate() {
            let base = format!("spec.deployment.lifecycleHooks[{i}]");
            let mut seen = HashSet::new();
            for (j, stage) in h.stages.iter().enumerate() {
                let path = format!("{base}.stages[{j}]");
                if !seen.insert(stage) {
                    self.err(doc, &path, format!("{path} repeats {}", stage.ecs_name()));
                } else if h.kind == HookKind::Pause && stage.shifts_traffic() {
                    self.err(
                        doc,
                        &path,
                        format!("a pause hook cannot run at {}: ECS allows only lambda hooks while traffic shifts (use PRE_/POST_ stages)", stage.ecs_name()),
                    );
                }
            }
            match h.kind {
                HookKind::Lambda => {
                    match &h.function_arn {
                        None => self.err(
                            doc,
                            &base,
                            format!("{base}: a lambda hook needs functionArn"),
                        ),
                        Some(f) if !(f.starts_with("arn:") && arn::is_lambda_function(f)) => {
                            let path = format!("{base}.functionArn");
                            self.err(doc, &path, format!("{path} is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME), found {f:?}"));
                        }
                        Some(_) => {}
                    }
                    match &h.role_arn {
                        None => self.err(
                            doc,
                            &base,
                            format!("{base}: a lambda hook needs roleArn, the role ECS invokes the function with"),
                        ),
                        Some(r) => self.role_arn(doc, &format!("{base}.roleArn"), r),
                    }
                }
                HookKind::Pause => self.forbidden(
                    doc,
                    &base,
                    &[
                        ("functionArn", h.function_arn.is_some()),
                        ("roleArn", h.role_arn.is_some()),
                        ("details", h.details.is_some()),
                    ],
                    "is only for lambda hooks; a pause hook waits for an approval",
                ),
            }
        }
    }

    /// ecsd names a blue/green Service's CodeDeploy application `ecsd-<cluster>-<name>`
    /// and its deployment group `<name>`; CodeDeploy allows 100 characters for each.
    fn code_deploy_names(&mut self, doc: &Document, svc: &ServiceSpec) {
        let name = &doc.manifest.metadata.name;
        let cluster = svc
            .cluster
            .rsplit_once(":cluster/")
            .map_or(svc.cluster.as_str(), |(_, c)| c);
        let application = format!("ecsd-{cluster}-{name}");
        if name.chars().count() > CODE_DEPLOY_NAME_MAX {
            self.err(doc, "metadata.name", format!(
                "a blueGreen Service's name is its CodeDeploy deployment group name, which CodeDeploy limits to {CODE_DEPLOY_NAME_MAX} characters; found {}",
                name.chars().count()
            ));
        } else if application.chars().count() > CODE_DEPLOY_NAME_MAX {
            self.err(doc, "metadata.name", format!(
                "the CodeDeploy application name {application:?} would be {} characters; CodeDeploy allows {CODE_DEPLOY_NAME_MAX}: shorten the service or cluster name",
                application.chars().count()
            ));
        }
    }

    /// Reports each of `fields` under `base` that is set (`true`) where it may not be,
    /// at its key: "`base.field` `why`".
    fn forbidden(&mut self, doc: &Document, base: &str, fields: &[(&str, bool)], why: &str) {
        for (key, set) in fields {
            if *set {
                let path = format!("{base}.{key}");
                self.err_key(doc, &path, format!("{path} {why}"));
            }
        }
    }
}
