//! `ecsd import`: manifests for services that already run, so a team can adopt what
//! Terraform, Copilot, the console or a script made. For each service: a Service (its
//! running task definition, network, load balancers, deployment settings), the
//! TargetGroups it uses with the listener rule that forwards to each, and its
//! ScalingPolicy (target tracking and scheduled actions). AWS tags that are not
//! `aws:` or `ecsd:` ones become labels (ecsd then keeps them as they are). Settings the
//! manifest format has no key for are written as comments, never dropped silently;
//! secrets stay ARNs.
//!
//! Reading is IO ([`import`]); writing the YAML is pure ([`render`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use ecsd_aws::{AwsError, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::scaling_policy::{
    ScalingMetric, ScalingPolicySpec, ScheduledAction, TargetTracking,
};
use ecsd_model::service::{
    BlueGreen, CircuitBreaker, Deployment, LoadBalancer, Network, ServiceSpec, Strategy, Traffic,
};
use ecsd_model::target_group::{
    ListenerRule, Protocol, TargetGroupHealthCheck, TargetGroupSpec, TargetType,
    WeightedTargetGroup,
};
use ecsd_plan::application_name;
use ecsd_plan::ownership::scheduled_action_name;
use ecsd_plan::state::{
    DeploymentController, RuleState, ServiceId, ServiceState, TargetGroupState,
};

use crate::pass::Clients;

/// Importing failed for one service (the others are still imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading AWS: {0}")]
    Aws(#[from] AwsError),
    #[error("service {0} does not exist (or is not ACTIVE)")]
    NoService(ServiceId),
    #[error(
        "service {service} is deployed by CodeDeploy, but no deployment group {group:?} of application {application:?} exists: ecsd names them so; import it after creating them or switch it to an ECS strategy"
    )]
    NoCodeDeployGroup {
        service: ServiceId,
        application: String,
        group: String,
    },
}

/// One document to write: its kind, name, spec (as the manifest's JSON), labels, and
/// comments to put above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: &'static str,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub spec: Value,
    pub comments: Vec<String>,
}

/// Values that equal what ecsd assumes when a field is left out, by path in `spec`
/// (`[]` for any list item): they are marked `# the default` in the YAML.
fn is_default(kind: &str, path: &str, value: &Value) -> bool {
    use ecsd_model::defaults as d;
    let expected = match (kind, path) {
        ("Service", "desiredCount") => json!(1),
        ("Service", "healthCheckGracePeriodSeconds") => json!(d::HEALTH_CHECK_GRACE_PERIOD),
        ("Service", "network.assignPublicIp") => json!(d::ASSIGN_PUBLIC_IP),
        ("Service", "deployment.strategy") => json!("rolling"),
        ("Service", "deployment.minimumHealthyPercent") => json!(d::MINIMUM_HEALTHY_PERCENT),
        ("Service", "deployment.maximumPercent") => json!(d::MAXIMUM_PERCENT),
        ("Service", "deployment.circuitBreaker.enable") => json!(d::CIRCUIT_BREAKER.0),
        ("Service", "deployment.circuitBreaker.rollback") => json!(d::CIRCUIT_BREAKER.1),
        ("Service", "deployment.lifecycleHooks[].timeoutMinutes") => json!(1440),
        ("Service", "deployment.lifecycleHooks[].timeoutAction") => json!("rollback"),
        ("Service", "taskDefinition.containers[].essential") => json!(d::CONTAINER_ESSENTIAL),
        ("Service", "taskDefinition.containers[].cpu") => json!(d::CONTAINER_CPU),
        ("Service", "taskDefinition.containers[].portMappings[].protocol") => json!("tcp"),
        ("TargetGroup", "protocol") => json!("HTTP"),
        ("TargetGroup", "targetType") => json!("ip"),
        ("TargetGroup", "deregistrationDelaySeconds") => {
            json!(d::TARGET_GROUP_DEREGISTRATION_DELAY)
        }
        ("TargetGroup", "healthCheck.path") => json!(d::TARGET_GROUP_HEALTH_CHECK_PATH),
        ("TargetGroup", "healthCheck.intervalSeconds") => {
            json!(d::TARGET_GROUP_HEALTH_CHECK_INTERVAL)
        }
        ("TargetGroup", "healthCheck.healthyThreshold") => json!(d::TARGET_GROUP_HEALTHY_THRESHOLD),
        ("TargetGroup", "healthCheck.unhealthyThreshold") => {
            json!(d::TARGET_GROUP_UNHEALTHY_THRESHOLD)
        }
        ("TargetGroup", "healthCheck.matcher") => json!(d::TARGET_GROUP_MATCHER),
        (
            "ScalingPolicy",
            "targetTracking[].scaleInCooldownSeconds" | "targetTracking[].scaleOutCooldownSeconds",
        ) => {
            json!(d::SCALING_COOLDOWN)
        }
        ("ScalingPolicy", "targetTracking[].disableScaleIn") => json!(d::DISABLE_SCALE_IN),
        ("ScalingPolicy", "scheduled[].timezone") => json!(d::SCHEDULE_TIMEZONE),
        _ => return false,
    };
    value == &expected
}

/// What was read for one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub service: ServiceId,
    pub documents: Vec<Document>,
}

/// Tags that become labels: not AWS's, not ecsd's.
pub(crate) fn labels(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("ecsd:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The name of a target group from its ARN (`...:targetgroup/NAME/ID`).
pub(crate) fn target_group_name(arn: &str) -> String {
    arn.split(":targetgroup/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(arn)
        .to_owned()
}

/// Reads `services` of `cluster` (every ACTIVE one when empty) and turns each into
/// manifests.
pub async fn import<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
    clients: &Clients<E, L, S, D>,
    cluster: &str,
    services: &[String],
) -> Result<Vec<(ServiceId, Result<Imported, ImportError>)>, ImportError> {
    let names = if services.is_empty() {
        clients.ecs.list_services(cluster).await?
    } else {
        services.to_vec()
    };
    let found = clients.ecs.describe_services(cluster, &names).await?;
    let mut out = Vec::new();
    for name in &names {
        let id = ServiceId::new(ecsd_plan::ownership::cluster_name(cluster), name);
        let result = match found.iter().find(|s| s.id.name == *name) {
            Some(svc) => one(clients, svc).await,
            None => Err(ImportError::NoService(id.clone())),
        };
        out.push((id, result));
    }
    Ok(out)
}

/// Which TargetGroup each listener rule belongs to (a manifest carries one rule): the
/// production and test rules of a native deployment go to the service's target group
/// and the alternate; any other rule to the target group it sends the most traffic to,
/// lowest priority first. The rules forwarding to a target group that are not its own
/// are returned too, by target group.
type Assigned<'a> = (
    BTreeMap<String, &'a RuleState>,
    BTreeMap<String, Vec<&'a RuleState>>,
);

fn assign_rules<'a>(
    rules: &'a [RuleState],
    tgs: &[TargetGroupState],
    fixed: &[(Option<&str>, &str)],
) -> Assigned<'a> {
    let mut chosen: BTreeMap<String, &RuleState> = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    for (rule_arn, tg_arn) in fixed {
        if let Some(r) = rules.iter().find(|r| Some(r.arn.as_str()) == *rule_arn) {
            chosen.insert((*tg_arn).to_owned(), r);
            taken.insert(r.arn.clone());
        }
    }
    let mut sorted: Vec<&RuleState> = rules.iter().filter(|r| r.priority.is_some()).collect();
    sorted.sort_by_key(|r| r.priority);
    for r in &sorted {
        if taken.contains(&r.arn) {
            continue;
        }
        let main = r
            .forward
            .iter()
            .filter(|f| tgs.iter().any(|t| t.arn == f.target_group_arn))
            .max_by_key(|f| f.weight.unwrap_or(1))
            .map(|f| f.target_group_arn.clone());
        if let Some(tg) = main
            && !chosen.contains_key(&tg)
        {
            chosen.insert(tg, r);
            taken.insert(r.arn.clone());
        }
    }
    let mut others: BTreeMap<String, Vec<&RuleState>> = BTreeMap::new();
    for t in tgs {
        others.insert(
            t.arn.clone(),
            sorted
                .iter()
                .copied()
                .filter(|r| r.forwards_to(&t.arn) && !taken.contains(&r.arn))
                .collect(),
        );
    }
    (chosen, others)
}

async fn one<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
    clients: &Clients<E, L, S, D>,
    svc: &ServiceState,
) -> Result<Imported, ImportError> {
    let td = clients
        .ecs
        .describe_task_definition(&svc.task_definition_arn)
        .await?;
    let group = match svc.deployment_controller {
        DeploymentController::CodeDeploy => {
            let application = application_name(&svc.id.cluster, &svc.id.name);
            match clients
                .deploy
                .get_deployment_group(&application, &svc.id.name)
                .await?
            {
                Some(g) => Some(g.group),
                None => {
                    return Err(ImportError::NoCodeDeployGroup {
                        service: svc.id.clone(),
                        application,
                        group: svc.id.name.clone(),
                    });
                }
            }
        }
        _ => None,
    };
    // Target groups, by name, each once: those of the load balancers, the alternate of
    // a native deployment, and the pair of a CodeDeploy deployment group.
    let alternate = svc
        .load_balancers
        .first()
        .and_then(|lb| lb.advanced.as_ref())
        .map(|a| &a.alternate_target_group_arn);
    let mut seen = std::collections::BTreeSet::new();
    let tg_names: Vec<String> = svc
        .load_balancers
        .iter()
        .map(|lb| &lb.target_group_arn)
        .chain(alternate)
        .map(|arn| target_group_name(arn))
        .chain(group.iter().flat_map(|g| g.target_groups.iter().cloned()))
        .filter(|n| seen.insert(n.clone()))
        .collect();
    let (mut tgs, rules, delays) = read_target_groups(&clients.elb, &tg_names).await?;
    let arns: Vec<String> = tgs.iter().map(|t| t.arn.clone()).collect();
    let mut tags = clients.elb.describe_tags(&arns).await?;
    for t in &mut tgs {
        if let Some(found) = tags.remove(&t.arn) {
            t.tags = found;
        }
    }
    let rid = svc.id.scaling_resource_id();
    let scaling = clients.scaling.describe(std::slice::from_ref(&rid)).await?;
    let scaling_tags = match scaling.targets.get(&rid) {
        Some(t) => clients.scaling.list_tags(&t.arn).await?,
        None => BTreeMap::new(),
    };
    Ok(render(&Read {
        svc,
        td: &td,
        tgs: &tgs,
        rules: &rules,
        delays: &delays,
        scaling: &scaling,
        scaling_tags: &scaling_tags,
        group: group.as_ref(),
    }))
}

/// Target groups by name, the rules of every listener of their load balancers (each
/// load balancer and listener read once), and each target group's deregistration
/// delay by ARN: what `import` and `migrate` write a TargetGroup from.
pub(crate) async fn read_target_groups<L: Elbv2Api>(
    elb: &L,
    names: &[String],
) -> Result<TargetGroupsRead, AwsError> {
    if names.is_empty() {
        return Ok((Vec::new(), Vec::new(), BTreeMap::new()));
    }
    let tgs = elb.describe_target_groups(names).await?;
    let load_balancers: std::collections::BTreeSet<&String> =
        tgs.iter().flat_map(|t| &t.load_balancer_arns).collect();
    let mut rules: Vec<RuleState> = Vec::new();
    let mut listeners = std::collections::BTreeSet::new();
    for lb in load_balancers {
        for l in elb.describe_listeners(lb).await? {
            if listeners.insert(l.clone()) {
                rules.extend(elb.describe_rules(&l).await?);
            }
        }
    }
    let mut delays = BTreeMap::new();
    for t in &tgs {
        delays.insert(t.arn.clone(), elb.deregistration_delay(&t.arn).await?);
    }
    Ok((tgs, rules, delays))
}

/// What [`read_target_groups`] returns.
pub(crate) type TargetGroupsRead = (
    Vec<TargetGroupState>,
    Vec<RuleState>,
    BTreeMap<String, Option<u32>>,
);

/// Everything read for one service.
pub struct Read<'a> {
    pub svc: &'a ServiceState,
    pub td: &'a ecsd_plan::state::TaskDefinitionState,
    pub tgs: &'a [TargetGroupState],
    pub rules: &'a [RuleState],
    pub delays: &'a BTreeMap<String, Option<u32>>,
    pub scaling: &'a ecsd_aws::scaling::ServiceScaling,
    /// The scalable target's tags: the ScalingPolicy's labels.
    pub scaling_tags: &'a BTreeMap<String, String>,
    pub group: Option<&'a ecsd_plan::state::DeploymentGroupState>,
}

/// The manifests for what was read.
pub fn render(r: &Read<'_>) -> Imported {
    let svc = r.svc;
    let mut documents = Vec::new();
    let name_of = |arn: &str| {
        r.tgs
            .iter()
            .find(|t| t.arn == arn)
            .map_or_else(|| target_group_name(arn), |t| t.name.clone())
    };
    // The rule each target group's manifest carries, and which TargetGroup a rule ARN
    // belongs to (for a native deployment's production and test rules).
    let mut rule_owner: BTreeMap<String, String> = BTreeMap::new();
    let mut fixed = Vec::new();
    if let Some((lb, a)) = svc
        .load_balancers
        .first()
        .and_then(|lb| lb.advanced.as_ref().map(|a| (lb, a)))
    {
        fixed.push((
            a.production_listener_rule.as_deref(),
            lb.target_group_arn.as_str(),
        ));
        fixed.push((
            a.test_listener_rule.as_deref(),
            a.alternate_target_group_arn.as_str(),
        ));
    }
    let (chosen, extra) = assign_rules(r.rules, r.tgs, &fixed);
    for tg in r.tgs {
        let rule = chosen.get(&tg.arn).copied();
        let others = extra.get(&tg.arn).cloned().unwrap_or_default();
        let mut comments = Vec::new();
        if let Some(rule) = rule {
            rule_owner.insert(rule.arn.clone(), tg.name.clone());
        }
        for o in &others {
            comments.push(format!(
                "also forwarded to by the rule at priority {} of {} ({}): one rule per TargetGroup is managed; this one is left as it is",
                o.priority.unwrap_or_default(),
                o.listener_arn,
                o.arn
            ));
        }
        if tg.protocol != "HTTP" && tg.protocol != "HTTPS" {
            comments.push(format!(
                "protocol {} has no manifest value (HTTP or HTTPS)",
                tg.protocol
            ));
        }
        let hc = &tg.health_check;
        let spec = TargetGroupSpec {
            vpc_id: tg.vpc_id.clone(),
            port: tg.port,
            protocol: if tg.protocol == "HTTPS" {
                Protocol::Https
            } else {
                Protocol::Http
            },
            target_type: TargetType::Ip,
            health_check: Some(TargetGroupHealthCheck {
                path: hc.path.clone(),
                interval_seconds: Some(hc.interval_seconds),
                timeout_seconds: Some(hc.timeout_seconds),
                healthy_threshold: Some(hc.healthy_threshold),
                unhealthy_threshold: Some(hc.unhealthy_threshold),
                matcher: Some(hc.matcher.clone()),
            }),
            deregistration_delay_seconds: r.delays.get(&tg.arn).copied().flatten(),
            listener_rule: rule.map(|rule| {
                // A weighted forward to target groups outside the service (an EC2
                // fleet's, mid-migration) is the rule's `alsoForwardTo`; one to the
                // service's own pair is ECS's or CodeDeploy's business.
                let outside: Vec<WeightedTargetGroup> = rule
                    .forward
                    .iter()
                    .filter(|f| !r.tgs.iter().any(|t| t.arn == f.target_group_arn))
                    .map(|f| WeightedTargetGroup {
                        target_group_arn: f.target_group_arn.clone(),
                        weight: f.weight.unwrap_or(1),
                    })
                    .collect();
                let own = rule
                    .forward
                    .iter()
                    .find(|f| f.target_group_arn == tg.arn)
                    .map_or(0, |f| f.weight.unwrap_or(1));
                ListenerRule {
                    listener_arn: rule.listener_arn.clone(),
                    priority: rule.priority.unwrap_or_default(),
                    path_patterns: rule.path_patterns.clone(),
                    host_headers: rule.host_headers.clone(),
                    weight: (!outside.is_empty()).then_some(own),
                    also_forward_to: outside,
                }
            }),
        };
        if tg.target_type != "ip" {
            comments.push(format!(
                "target type {} is not ip: Fargate needs ip (ecsd cannot change it in place)",
                tg.target_type
            ));
        }
        documents.push(Document {
            kind: "TargetGroup",
            name: tg.name.clone(),
            labels: labels(&tg.tags),
            spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
            comments,
        });
    }

    let dc = &svc.deployment_configuration;
    let mut comments: Vec<String> = svc
        .unmodeled
        .iter()
        .map(|k| format!("the service's {k} has no manifest key: ecsd leaves it as it is"))
        .collect();
    comments.extend(r.td.unmodeled.iter().map(|k| {
        format!("the task definition's {k} has no manifest key: a new revision registered by ecsd would not have it")
    }));
    let native = svc
        .load_balancers
        .first()
        .and_then(|lb| lb.advanced.as_ref());
    let strategy = svc.strategy();
    let traffic = native.filter(|_| strategy.is_native()).map(|a| Traffic {
        alternate_target_group: name_of(&a.alternate_target_group_arn),
        production_listener_rule: a
            .production_listener_rule
            .as_ref()
            .and_then(|p| rule_owner.get(p).cloned())
            .unwrap_or_default(),
        test_listener_rule: a
            .test_listener_rule
            .as_ref()
            .and_then(|t| rule_owner.get(t).cloned()),
        role_arn: a.role_arn.clone().unwrap_or_default(),
    });
    if r.group.is_some() {
        comments.push("validationHooks (the Lambda functions CodeDeploy runs) live in each deployment's AppSpec and cannot be read back: add them to deployment.blueGreen if the service used any".to_owned());
    }
    let blue_green = r.group.map(|g| BlueGreen {
        alternate_target_group: g.target_groups.get(1).cloned().unwrap_or_default(),
        prod_listener_arn: g.prod_listener_arns.first().cloned().unwrap_or_default(),
        test_listener_arn: g.test_listener_arns.first().cloned(),
        traffic_shift: g.deployment_config.clone(),
        terminate_blue_after_minutes: g.terminate_blue_after_minutes,
        auto_rollback: g.auto_rollback,
        alarms: g.alarms.clone(),
        service_role_arn: g.service_role_arn.clone(),
        validation_hooks: None,
    });
    let ecs = svc.deployment_controller == DeploymentController::Ecs;
    let spec = ServiceSpec {
        cluster: svc.id.cluster.clone(),
        desired_count: svc.desired_count,
        network: Network {
            subnets: svc.network.subnets.clone(),
            security_groups: svc.network.security_groups.clone(),
            assign_public_ip: svc.network.assign_public_ip,
        },
        task_definition: r.td.definition.clone(),
        load_balancers: svc
            .load_balancers
            .iter()
            .map(|lb| LoadBalancer {
                target_group: name_of(&lb.target_group_arn),
                container_name: lb.container_name.clone(),
                container_port: lb.container_port,
            })
            .collect(),
        health_check_grace_period_seconds: (!svc.load_balancers.is_empty()).then_some(
            svc.health_check_grace_period_seconds
                .unwrap_or(ecsd_model::defaults::HEALTH_CHECK_GRACE_PERIOD),
        ),
        deployment: Deployment {
            strategy,
            minimum_healthy_percent: dc.minimum_healthy_percent,
            maximum_percent: dc.maximum_percent,
            circuit_breaker: ecs.then(|| {
                let (enable, rollback) = ecsd_model::defaults::CIRCUIT_BREAKER;
                dc.circuit_breaker
                    .unwrap_or(CircuitBreaker { enable, rollback })
            }),
            blue_green,
            bake_time_minutes: dc.bake_time_minutes.filter(|_| strategy.is_native()),
            linear: dc.linear.filter(|_| strategy == Strategy::Linear),
            canary: dc.canary.filter(|_| strategy == Strategy::Canary),
            traffic,
            lifecycle_hooks: if strategy.is_native() {
                dc.lifecycle_hooks.clone()
            } else {
                Vec::new()
            },
            approve: None,
            rollback: None,
        },
    };
    if svc.load_balancers.len() > 5 {
        comments.push("more than 5 load balancers: the manifest allows 5".to_owned());
    }
    documents.push(Document {
        kind: "Service",
        name: svc.id.name.clone(),
        labels: labels(&svc.tags),
        spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
        comments,
    });

    let rid = svc.id.scaling_resource_id();
    if let Some(target) = r.scaling.targets.get(&rid) {
        let mut comments = Vec::new();
        let mut tracking = Vec::new();
        for p in r.scaling.policies.get(&rid).into_iter().flatten() {
            match ScalingMetric::from_predefined_metric_type(&p.metric_type) {
                Some(metric) => tracking.push(TargetTracking {
                    metric,
                    target: p.target,
                    scale_in_cooldown_seconds: p.scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds: p.scale_out_cooldown_seconds,
                    disable_scale_in: p.disable_scale_in,
                }),
                None => comments.push(format!(
                    "the policy {:?} ({}) has no manifest form: only target tracking of CPU, memory and requests per target is managed",
                    p.name, p.metric_type
                )),
            }
        }
        let scheduled = r
            .scaling
            .actions
            .get(&rid)
            .into_iter()
            .flatten()
            .map(|a| ScheduledAction {
                // One ecsd made is named after its ScalingPolicy (the service's name here).
                name: a
                    .name
                    .strip_prefix(&scheduled_action_name(&svc.id.name, ""))
                    .unwrap_or(&a.name)
                    .to_owned(),
                schedule: a.schedule.clone(),
                timezone: a.timezone.clone(),
                min_capacity: a.min_capacity,
                max_capacity: a.max_capacity,
            })
            .collect();
        let spec = ScalingPolicySpec {
            service: svc.id.name.clone(),
            min_capacity: target.min_capacity,
            max_capacity: target.max_capacity,
            target_tracking: tracking,
            scheduled,
        };
        documents.push(Document {
            kind: "ScalingPolicy",
            name: svc.id.name.clone(),
            labels: labels(r.scaling_tags),
            spec: serde_json::to_value(&spec).unwrap_or(Value::Null),
            comments,
        });
    }
    Imported {
        service: svc.id.clone(),
        documents,
    }
}

/// A scalar as YAML: strings double-quoted (as JSON, which YAML reads the same).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A mapping key as YAML: plain when it is a simple name, else double-quoted.
fn key(k: &str) -> String {
    let simple = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if simple {
        k.to_owned()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

/// `v` as YAML block lines at `indent`, values that are ecsd's defaults for `kind` (at
/// their path from `at`) marked.
fn emit(out: &mut Vec<String>, v: &Value, indent: usize) {
    emit_at(out, v, indent, "", "")
}

fn emit_at(out: &mut Vec<String>, v: &Value, indent: usize, kind: &str, at: &str) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (name, val) in map {
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                let mark = if is_default(kind, &path, val) {
                    "  # the default"
                } else {
                    ""
                };
                let k = key(name);
                match val {
                    Value::Null => {}
                    Value::Object(m) if m.is_empty() => out.push(format!("{pad}{k}: {{}}")),
                    Value::Object(_) => {
                        out.push(format!("{pad}{k}:"));
                        emit_at(out, val, indent + 2, kind, &path);
                    }
                    Value::Array(items)
                        if items.iter().all(|i| !i.is_object() && !i.is_array()) =>
                    {
                        let flow: Vec<String> = items.iter().map(scalar).collect();
                        out.push(format!("{pad}{k}: [{}]", flow.join(", ")));
                    }
                    Value::Array(items) => {
                        out.push(format!("{pad}{k}:"));
                        for item in items {
                            let mut lines = Vec::new();
                            emit_at(&mut lines, item, indent + 4, kind, &format!("{path}[]"));
                            let first = indent + 4;
                            for (i, line) in lines.into_iter().enumerate() {
                                if i == 0 {
                                    out.push(format!(
                                        "{pad}  - {}",
                                        &line[first.min(line.len())..]
                                    ));
                                } else {
                                    out.push(line);
                                }
                            }
                        }
                    }
                    scalar_value => out.push(format!("{pad}{k}: {}{mark}", scalar(scalar_value))),
                }
            }
        }
        other => out.push(format!("{pad}{}", scalar(other))),
    }
}

/// The YAML of one service's manifests, with a header and each document's comments.
pub fn yaml(imported: &Imported, revision_note: &str) -> String {
    yaml_documents(
        &format!(
            "# Imported by `ecsd import` from service {} ({revision_note}).\n# Every value is what AWS had (`# the default`: what ecsd assumes when the field is left out);\n# review it, then `ecsd apply --adopt` takes the resources over.",
            imported.service
        ),
        &imported.documents,
    )
}

/// Documents as one YAML file under `header` (comment lines), each with its comments.
pub fn yaml_documents(header: &str, documents: &[Document]) -> String {
    let mut docs = Vec::new();
    for d in documents {
        let mut lines: Vec<String> = d.comments.iter().map(|c| format!("# {c}")).collect();
        lines.push("apiVersion: ecsd/v1".to_owned());
        lines.push(format!("kind: {}", d.kind));
        lines.push("metadata:".to_owned());
        lines.push(format!("  name: {}", scalar(&json!(d.name))));
        if !d.labels.is_empty() {
            lines.push("  labels:".to_owned());
            emit(&mut lines, &json!(d.labels), 4);
        }
        lines.push("spec:".to_owned());
        emit_at(&mut lines, &d.spec, 2, d.kind, "");
        docs.push(lines.join("\n"));
    }
    format!("{header}\n{}\n", docs.join("\n---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quotes_what_needs_it_and_lays_out_lists_of_mappings() {
        let mut lines = Vec::new();
        emit(
            &mut lines,
            &json!({
                "plain": "x", "@odd:key": 1, "list": ["a", 2],
                "items": [{"name": "app", "ports": [1]}, {"name": "b"}],
                "empty": {}, "gone": null,
            }),
            0,
        );
        let text = lines.join("\n");
        assert!(text.contains("plain: \"x\""), "{text}");
        assert!(text.contains("\"@odd:key\": 1"), "{text}");
        assert!(text.contains("list: [\"a\", 2]"), "{text}");
        assert!(
            text.contains("items:\n  - name: \"app\"\n    ports: [1]\n  - name: \"b\""),
            "{text}"
        );
        assert!(
            text.contains("empty: {}") && !text.contains("gone"),
            "{text}"
        );
    }
}
