//! Semantic checks that a schema cannot express: AWS name rules, Fargate sizes, ARN
//! shapes, ranges that depend on other fields, and references between the objects of a
//! source (a Service's target groups, a ScalingPolicy's service), which must resolve.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::arn;
use crate::diag::Diagnostic;
use crate::document::Document;
use crate::fargate;
use crate::manifest::{Kind, ObjectKey, Spec};
use crate::scaling_policy::{ScalingMetric, ScalingPolicySpec};
use crate::service::{DependencyCondition, LogDriver, ServiceSpec, Strategy};
use crate::target_group::TargetGroupSpec;

/// Most labels per object: AWS allows 50 tags, ecsd adds two of its own.
pub const MAX_LABELS: usize = 48;

/// Words that mark an environment variable as a secret.
const SECRET_WORDS: [&str; 5] = ["PASSWORD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY"];

/// Checks every document and their references; `invalid` names the objects whose
/// documents failed to decode (references to them are not reported again).
pub(crate) fn validate(docs: &[Document], invalid: &HashSet<ObjectKey>) -> Vec<Diagnostic> {
    let mut v = Validator {
        diags: Vec::new(),
        names: HashMap::new(),
        invalid,
    };
    for (i, doc) in docs.iter().enumerate() {
        let key = doc.manifest.key();
        if let Some(&first) = v.names.get(&key) {
            let first = &docs[first];
            let msg = format!(
                "duplicate {} {:?} (first defined at {}:{})",
                key.kind,
                key.name,
                first.file,
                first.value_pos("metadata.name")
            );
            v.err(doc, "metadata.name", msg);
        } else {
            v.names.insert(key, i);
        }
    }
    for doc in docs {
        v.metadata(doc);
        match &doc.manifest.spec {
            Spec::TargetGroup(tg) => v.target_group(doc, tg),
            Spec::Service(svc) => v.service(doc, docs, svc),
            Spec::ScalingPolicy(sp) => v.scaling_policy(doc, docs, sp),
        }
    }
    v.across(docs);
    v.diags
}

struct Validator<'a> {
    diags: Vec<Diagnostic>,
    names: HashMap<ObjectKey, usize>,
    invalid: &'a HashSet<ObjectKey>,
}

impl Validator<'_> {
    fn err(&mut self, doc: &Document, path: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            object: Some(doc.manifest.key()),
            ..Diagnostic::new(&doc.file, doc.value_pos(path), message)
        });
    }

    fn err_key(&mut self, doc: &Document, path: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            object: Some(doc.manifest.key()),
            ..Diagnostic::new(&doc.file, doc.key_pos(path), message)
        });
    }

    /// Resolves a reference by name; reports it unless the target is only invalid.
    fn reference<'d>(
        &mut self,
        doc: &Document,
        docs: &'d [Document],
        path: &str,
        kind: Kind,
        name: &str,
    ) -> Option<&'d Document> {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        if let Some(i) = self.names.get(&key) {
            return docs.get(*i);
        }
        if !self.invalid.contains(&key) {
            let known: Vec<&str> = docs
                .iter()
                .filter(|d| d.manifest.kind() == kind)
                .map(|d| d.manifest.metadata.name.as_str())
                .collect();
            let hint = crate::suggest::hint(name, known.iter().copied());
            self.err(
                doc,
                path,
                format!(
                    "{path} refers to {kind} {name:?}, which is not defined in this source{hint}"
                ),
            );
        }
        None
    }

    fn role_arn(&mut self, doc: &Document, path: &str, value: &str) {
        if !arn::is_role_arn(value) {
            let msg = format!(
                "{path} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), found {value:?}"
            );
            self.err(doc, path, msg);
        }
    }

    fn listener_arn(&mut self, doc: &Document, path: &str, value: &str) {
        if !arn::is_listener_arn(value) {
            let msg = format!(
                "{path} is not an ALB listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID), found {value:?}"
            );
            self.err(doc, path, msg);
        }
    }

    fn metadata(&mut self, doc: &Document) {
        let m = &doc.manifest.metadata;
        let (ok, rule) = match doc.manifest.kind() {
            Kind::TargetGroup => (
                arn::is_name(&m.name, 32, "-")
                    && !m.name.starts_with('-')
                    && !m.name.ends_with('-'),
                "1-32 letters, digits and '-', not starting or ending with '-'",
            ),
            Kind::Service | Kind::ScalingPolicy => (
                arn::is_name(&m.name, 255, "_-"),
                "1-255 letters, digits, '_' and '-'",
            ),
        };
        if !ok {
            let msg = format!(
                "metadata.name {:?} is not a valid {} name ({rule})",
                m.name,
                doc.manifest.kind()
            );
            self.err(doc, "metadata.name", msg);
        }
        if m.labels.len() > MAX_LABELS {
            let msg = format!(
                "metadata.labels has {} labels; at most {MAX_LABELS} fit in AWS's 50 tags next to ecsd's own",
                m.labels.len()
            );
            self.err(doc, "metadata.labels", msg);
        }
        for (k, v) in &m.labels {
            let path = format!("metadata.labels.{k}");
            let tag_chars = |s: &str| {
                s.chars()
                    .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
            };
            if k.to_lowercase().starts_with("aws:") || k.starts_with("ecsd:") {
                self.err_key(
                    doc,
                    &path,
                    format!("label {k:?} uses a reserved prefix (aws: and ecsd: are not allowed)"),
                );
            } else if k.is_empty() || k.chars().count() > 128 || !tag_chars(k) {
                self.err_key(doc, &path, format!("label key {k:?} is not a valid AWS tag key (1-128 letters, digits, spaces and _.:/=+-@)"));
            }
            if v.chars().count() > 256 || !tag_chars(v) {
                self.err(doc, &path, format!("label value for {k:?} is not a valid AWS tag value (0-256 letters, digits, spaces and _.:/=+-@)"));
            }
        }
    }

    fn target_group(&mut self, doc: &Document, tg: &TargetGroupSpec) {
        if !arn::is_resource_id(&tg.vpc_id, "vpc") {
            self.err(
                doc,
                "spec.vpcId",
                format!("spec.vpcId {:?} is not a VPC id (vpc-...)", tg.vpc_id),
            );
        }
        if let Some(hc) = &tg.health_check {
            // AWS defaults for ip targets over HTTP(S): interval 30, timeout 5.
            let interval = hc.interval_seconds.unwrap_or(30);
            let timeout = hc.timeout_seconds.unwrap_or(5);
            if timeout >= interval {
                let path = if hc.timeout_seconds.is_some() {
                    "spec.healthCheck.timeoutSeconds"
                } else {
                    "spec.healthCheck.intervalSeconds"
                };
                self.err(doc, path, format!(
                    "spec.healthCheck.timeoutSeconds ({timeout}) must be less than intervalSeconds ({interval})"
                ));
            }
            if let Some(p) = &hc.path
                && !p.starts_with('/')
            {
                self.err(
                    doc,
                    "spec.healthCheck.path",
                    format!("spec.healthCheck.path must start with '/', found {p:?}"),
                );
            }
            if let Some(m) = &hc.matcher
                && let Err(e) = check_matcher(m)
            {
                self.err(
                    doc,
                    "spec.healthCheck.matcher",
                    format!("spec.healthCheck.matcher {m:?} {e}"),
                );
            }
        }
        if let Some(rule) = &tg.listener_rule {
            self.listener_arn(doc, "spec.listenerRule.listenerArn", &rule.listener_arn);
            let values = rule.path_patterns.len() + rule.host_headers.len();
            if values == 0 {
                self.err(
                    doc,
                    "spec.listenerRule",
                    "spec.listenerRule needs pathPatterns or hostHeaders to match on",
                );
            } else if values > 5 {
                self.err(doc, "spec.listenerRule", format!(
                    "spec.listenerRule has {values} condition values; ELB allows at most 5 per rule"
                ));
            }
            for (field, list) in [
                ("pathPatterns", &rule.path_patterns),
                ("hostHeaders", &rule.host_headers),
            ] {
                for (i, v) in list.iter().enumerate() {
                    let path = format!("spec.listenerRule.{field}[{i}]");
                    if v.is_empty() || v.len() > 128 || v.chars().any(char::is_whitespace) {
                        self.err(
                            doc,
                            &path,
                            format!("{path} must be 1-128 characters without spaces, found {v:?}"),
                        );
                    } else if field == "pathPatterns" && !v.starts_with('/') {
                        self.err(
                            doc,
                            &path,
                            format!("{path} must start with '/', found {v:?}"),
                        );
                    }
                }
            }
        }
    }

    fn service(&mut self, doc: &Document, docs: &[Document], svc: &ServiceSpec) {
        if !(arn::is_name(&svc.cluster, 255, "_-") || arn::is_cluster_arn(&svc.cluster)) {
            self.err(
                doc,
                "spec.cluster",
                format!(
                    "spec.cluster {:?} is neither a cluster name nor a cluster ARN",
                    svc.cluster
                ),
            );
        }
        self.network(doc, svc);
        self.task_definition(doc, svc);
        self.load_balancers(doc, docs, svc);
        self.deployment(doc, docs, svc);
    }

    fn network(&mut self, doc: &Document, svc: &ServiceSpec) {
        let n = &svc.network;
        if n.subnets.is_empty() || n.subnets.len() > 16 {
            self.err(
                doc,
                "spec.network.subnets",
                format!(
                    "spec.network.subnets needs 1 to 16 subnets, found {}",
                    n.subnets.len()
                ),
            );
        }
        if n.security_groups.len() > 5 {
            self.err(
                doc,
                "spec.network.securityGroups",
                format!(
                    "spec.network.securityGroups allows at most 5, found {}",
                    n.security_groups.len()
                ),
            );
        }
        for (field, prefix, list) in [
            ("subnets", "subnet", &n.subnets),
            ("securityGroups", "sg", &n.security_groups),
        ] {
            let mut seen = HashSet::new();
            for (i, id) in list.iter().enumerate() {
                let path = format!("spec.network.{field}[{i}]");
                if !arn::is_resource_id(id, prefix) {
                    self.err(
                        doc,
                        &path,
                        format!("{path} {id:?} is not an id of the form {prefix}-..."),
                    );
                } else if !seen.insert(id) {
                    self.err(doc, &path, format!("{path} repeats {id:?}"));
                }
            }
        }
    }

    fn task_definition(&mut self, doc: &Document, svc: &ServiceSpec) {
        let td = &svc.task_definition;
        let family = td.family.as_deref().unwrap_or(&doc.manifest.metadata.name);
        // A defaulted family is the service name, whose own check already reports it.
        if td.family.is_some() && !arn::is_name(family, 255, "_-") {
            self.err(
                doc,
                "spec.taskDefinition.family",
                format!(
                    "task definition family {family:?} must be 1-255 letters, digits, '_' and '-'"
                ),
            );
        }
        if let Err(e) = fargate::check(td.cpu, td.memory) {
            let path = if fargate::memory_options(td.cpu).is_none() {
                "spec.taskDefinition.cpu"
            } else {
                "spec.taskDefinition.memory"
            };
            self.err(doc, path, e);
        }
        for (field, value) in [
            ("executionRoleArn", &td.execution_role_arn),
            ("taskRoleArn", &td.task_role_arn),
        ] {
            if let Some(v) = value {
                self.role_arn(doc, &format!("spec.taskDefinition.{field}"), v);
            }
        }
        if td.containers.is_empty() {
            self.err(
                doc,
                "spec.taskDefinition.containers",
                "spec.taskDefinition.containers needs at least one container",
            );
        } else if td.containers.len() > 10 {
            self.err(doc, "spec.taskDefinition.containers", format!(
                "spec.taskDefinition.containers allows at most 10 containers per task, found {}", td.containers.len()
            ));
        } else if !td.containers.iter().any(|c| c.essential) {
            self.err(
                doc,
                "spec.taskDefinition.containers",
                "at least one container must be essential",
            );
        }
        let names: HashSet<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
        let mut seen_names = HashSet::new();
        let mut ports: HashMap<(u16, bool), &str> = HashMap::new();
        let (mut cpu_sum, mut mem_sum) = (0u64, 0u64);
        let needs_secrets_access = td.containers.iter().any(|c| !c.secrets.is_empty());
        if needs_secrets_access && td.execution_role_arn.is_none() {
            self.err(
                doc,
                "spec.taskDefinition",
                "containers read secrets, so spec.taskDefinition.executionRoleArn is required",
            );
        }
        for (i, c) in td.containers.iter().enumerate() {
            let base = format!("spec.taskDefinition.containers[{i}]");
            if !arn::is_name(&c.name, 255, "_-") {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!(
                        "container name {:?} must be 1-255 letters, digits, '_' and '-'",
                        c.name
                    ),
                );
            } else if !seen_names.insert(c.name.as_str()) {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!("container name {:?} is used twice", c.name),
                );
            }
            if c.image.trim().is_empty()
                || c.image.chars().any(char::is_whitespace)
                || c.image.len() > 255
            {
                self.err(
                    doc,
                    &format!("{base}.image"),
                    format!(
                        "{base}.image must be an image reference without spaces, found {:?}",
                        c.image
                    ),
                );
            }
            cpu_sum += u64::from(c.cpu.unwrap_or(0));
            mem_sum += u64::from(c.memory.or(c.memory_reservation).unwrap_or(0));
            if let (Some(hard), Some(soft)) = (c.memory, c.memory_reservation)
                && soft > hard
            {
                self.err(
                    doc,
                    &format!("{base}.memoryReservation"),
                    format!("{base}.memoryReservation ({soft}) must not exceed memory ({hard})"),
                );
            }
            for (j, pm) in c.port_mappings.iter().enumerate() {
                let udp = pm.protocol == crate::service::PortProtocol::Udp;
                if let Some(other) = ports.insert((pm.container_port, udp), &c.name) {
                    self.err(doc, &format!("{base}.portMappings[{j}].containerPort"), format!(
                        "port {} is mapped twice in the task (containers {other:?} and {:?}); awsvpc tasks share one network namespace",
                        pm.container_port, c.name
                    ));
                }
            }
            for k in c.environment.keys() {
                let path = format!("{base}.environment.{k}");
                let upper = k.to_uppercase();
                if let Some(word) = SECRET_WORDS.iter().find(|w| upper.contains(**w)) {
                    self.err_key(doc, &path, format!(
                        "environment variable {k:?} looks like a secret ({word}); put a Secrets Manager or SSM parameter ARN under secrets instead"
                    ));
                }
                if c.secrets.contains_key(k) {
                    self.err_key(
                        doc,
                        &path,
                        format!("{k:?} is set in both environment and secrets"),
                    );
                }
            }
            for (k, v) in &c.secrets {
                if !arn::is_secret_arn(v) {
                    let path = format!("{base}.secrets.{k}");
                    self.err(doc, &path, format!(
                        "secret {k:?} must be a Secrets Manager or SSM Parameter Store ARN, not a value"
                    ));
                }
            }
            if let Some(log) = &c.logging
                && log.driver == LogDriver::Awslogs
            {
                for opt in ["awslogs-group", "awslogs-region", "awslogs-stream-prefix"] {
                    if !log.options.contains_key(opt) {
                        self.err(doc, &format!("{base}.logging"), format!(
                                "{base}.logging: the awslogs driver on Fargate needs the option {opt:?}"
                            ));
                    }
                }
            }
            if let Some(hc) = &c.health_check {
                let first = hc.command.first().map(String::as_str);
                if !matches!(first, Some("CMD" | "CMD-SHELL" | "NONE")) {
                    self.err(doc, &format!("{base}.healthCheck.command[0]"), format!(
                        "{base}.healthCheck.command must start with \"CMD\" or \"CMD-SHELL\", found {:?}",
                        first.unwrap_or("")
                    ));
                }
            }
            for (j, dep) in c.depends_on.iter().enumerate() {
                let path = format!("{base}.dependsOn[{j}].containerName");
                if dep.container_name == c.name {
                    self.err(
                        doc,
                        &path,
                        format!("container {:?} cannot depend on itself", c.name),
                    );
                } else if !names.contains(dep.container_name.as_str()) {
                    let hint = crate::suggest::hint(&dep.container_name, names.iter().copied());
                    self.err(
                        doc,
                        &path,
                        format!(
                            "{path} {:?} is not a container of this task{hint}",
                            dep.container_name
                        ),
                    );
                } else if dep.condition == DependencyCondition::Healthy
                    && td
                        .containers
                        .iter()
                        .any(|o| o.name == dep.container_name && o.health_check.is_none())
                {
                    self.err(
                        doc,
                        &format!("{base}.dependsOn[{j}].condition"),
                        format!(
                            "condition HEALTHY needs a healthCheck on container {:?}",
                            dep.container_name
                        ),
                    );
                }
            }
        }
        if cpu_sum > u64::from(td.cpu) {
            self.err(
                doc,
                "spec.taskDefinition.containers",
                format!(
                    "the containers reserve {cpu_sum} cpu units, more than the task's {}",
                    td.cpu
                ),
            );
        }
        if mem_sum > u64::from(td.memory) {
            self.err(
                doc,
                "spec.taskDefinition.containers",
                format!(
                    "the containers reserve {mem_sum} MiB, more than the task's {}",
                    td.memory
                ),
            );
        }
    }

    fn load_balancers(&mut self, doc: &Document, docs: &[Document], svc: &ServiceSpec) {
        if svc.load_balancers.len() > 5 {
            self.err(
                doc,
                "spec.loadBalancers",
                format!(
                    "spec.loadBalancers allows at most 5 target groups, found {}",
                    svc.load_balancers.len()
                ),
            );
        }
        let mut seen = HashSet::new();
        for (i, lb) in svc.load_balancers.iter().enumerate() {
            let base = format!("spec.loadBalancers[{i}]");
            if !seen.insert(lb.target_group.as_str()) {
                self.err(
                    doc,
                    &format!("{base}.targetGroup"),
                    format!("target group {:?} is listed twice", lb.target_group),
                );
            }
            self.reference(
                doc,
                docs,
                &format!("{base}.targetGroup"),
                Kind::TargetGroup,
                &lb.target_group,
            );
            let containers = &svc.task_definition.containers;
            match containers.iter().find(|c| c.name == lb.container_name) {
                None => {
                    let hint = crate::suggest::hint(
                        &lb.container_name,
                        containers.iter().map(|c| c.name.as_str()),
                    );
                    self.err(doc, &format!("{base}.containerName"), format!(
                        "{base}.containerName {:?} is not a container of the task definition{hint}", lb.container_name
                    ));
                }
                Some(c)
                    if !c
                        .port_mappings
                        .iter()
                        .any(|p| p.container_port == lb.container_port) =>
                {
                    let ports: Vec<String> = c
                        .port_mappings
                        .iter()
                        .map(|p| p.container_port.to_string())
                        .collect();
                    let have = if ports.is_empty() {
                        "no ports".to_owned()
                    } else {
                        ports.join(", ")
                    };
                    self.err(doc, &format!("{base}.containerPort"), format!(
                        "{base}.containerPort {} is not in the portMappings of container {:?} ({have})",
                        lb.container_port, c.name
                    ));
                }
                Some(_) => {}
            }
        }
        if svc.health_check_grace_period_seconds.is_some() && svc.load_balancers.is_empty() {
            self.err(
                doc,
                "spec.healthCheckGracePeriodSeconds",
                "spec.healthCheckGracePeriodSeconds only applies to services with loadBalancers",
            );
        }
    }

    fn deployment(&mut self, doc: &Document, docs: &[Document], svc: &ServiceSpec) {
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
        match (d.strategy, &d.blue_green) {
            (Strategy::Rolling, Some(_)) => self.err_key(
                doc,
                "spec.deployment.blueGreen",
                "spec.deployment.blueGreen is only allowed with strategy: blueGreen",
            ),
            (Strategy::BlueGreen, None) => {
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
            (Strategy::Rolling, None) => {}
            (Strategy::BlueGreen, Some(bg)) => {
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
                if bg.alarms.len() > 10 {
                    self.err(
                        doc,
                        &format!("{base}.alarms"),
                        format!(
                            "{base}.alarms allows at most 10 alarms, found {}",
                            bg.alarms.len()
                        ),
                    );
                }
                for (i, a) in bg.alarms.iter().enumerate() {
                    if a.trim().is_empty() || a.len() > 255 {
                        self.err(
                            doc,
                            &format!("{base}.alarms[{i}]"),
                            "alarm names must be 1-255 characters",
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

    fn scaling_policy(&mut self, doc: &Document, docs: &[Document], sp: &ScalingPolicySpec) {
        let service = self.reference(doc, docs, "spec.service", Kind::Service, &sp.service);
        if sp.min_capacity > sp.max_capacity {
            self.err(
                doc,
                "spec.minCapacity",
                format!(
                    "spec.minCapacity ({}) must not exceed spec.maxCapacity ({})",
                    sp.min_capacity, sp.max_capacity
                ),
            );
        }
        let mut metrics = HashSet::new();
        for (i, t) in sp.target_tracking.iter().enumerate() {
            let base = format!("spec.targetTracking[{i}]");
            if !metrics.insert(t.metric) {
                self.err(
                    doc,
                    &format!("{base}.metric"),
                    format!(
                        "metric {} has two target-tracking policies; keep one",
                        t.metric.as_str()
                    ),
                );
            }
            let percent = matches!(t.metric, ScalingMetric::Cpu | ScalingMetric::Memory);
            if !(t.target > 0.0 && (!percent || t.target <= 100.0)) {
                let range = if percent {
                    "a percentage above 0 and at most 100"
                } else {
                    "above 0"
                };
                self.err(
                    doc,
                    &format!("{base}.target"),
                    format!("{base}.target must be {range}, found {}", t.target),
                );
            }
            if t.metric == ScalingMetric::RequestsPerTarget
                && let Some(Spec::Service(svc)) = service.map(|d| &d.manifest.spec)
                && svc.load_balancers.is_empty()
            {
                self.err(
                    doc,
                    &format!("{base}.metric"),
                    format!(
                        "metric requestsPerTarget needs Service {:?} to have a loadBalancers entry",
                        sp.service
                    ),
                );
            }
        }
        let mut names = HashSet::new();
        for (i, s) in sp.scheduled.iter().enumerate() {
            let base = format!("spec.scheduled[{i}]");
            if !names.insert(s.name.as_str()) {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!("scheduled action {:?} is defined twice", s.name),
                );
            }
            if s.name.contains([':', '/', '|']) {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!("{base}.name must not contain ':', '/' or '|'"),
                );
            }
            let sched = s.schedule.trim();
            let shaped = ["cron(", "rate(", "at("]
                .iter()
                .any(|p| sched.starts_with(p))
                && sched.ends_with(')');
            if !shaped {
                self.err(
                    doc,
                    &format!("{base}.schedule"),
                    format!(
                        "{base}.schedule must be cron(...), rate(...) or at(...), found {:?}",
                        s.schedule
                    ),
                );
            }
            if let Some(tz) = &s.timezone {
                let ok = !tz.is_empty()
                    && tz.len() <= 64
                    && tz
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
                if !ok {
                    self.err(
                        doc,
                        &format!("{base}.timezone"),
                        format!("{base}.timezone {tz:?} is not an IANA time zone name"),
                    );
                }
            }
            match (s.min_capacity, s.max_capacity) {
                (None, None) => self.err(
                    doc,
                    &base,
                    format!("{base} needs minCapacity or maxCapacity"),
                ),
                (Some(lo), Some(hi)) if lo > hi => self.err(
                    doc,
                    &format!("{base}.minCapacity"),
                    format!("{base}.minCapacity ({lo}) must not exceed maxCapacity ({hi})"),
                ),
                _ => {}
            }
        }
    }

    /// Rules that span several objects.
    fn across(&mut self, docs: &[Document]) {
        let mut policies: HashMap<&str, &Document> = HashMap::new();
        let mut priorities: BTreeMap<(&str, u32), &Document> = BTreeMap::new();
        for doc in docs {
            match &doc.manifest.spec {
                Spec::ScalingPolicy(sp) => {
                    if let Some(first) = policies.get(sp.service.as_str()) {
                        let msg = format!(
                            "Service {:?} already has ScalingPolicy {:?} ({}:{}); one ScalingPolicy per Service",
                            sp.service, first.manifest.metadata.name, first.file, first.pos
                        );
                        self.err(doc, "spec.service", msg);
                    } else {
                        policies.insert(&sp.service, doc);
                    }
                }
                Spec::TargetGroup(tg) => {
                    if let Some(rule) = &tg.listener_rule {
                        if let Some(first) =
                            priorities.get(&(rule.listener_arn.as_str(), rule.priority))
                        {
                            let msg = format!(
                                "listener rule priority {} is already used on this listener by TargetGroup {:?}",
                                rule.priority, first.manifest.metadata.name
                            );
                            self.err(doc, "spec.listenerRule.priority", msg);
                        } else {
                            priorities.insert((&rule.listener_arn, rule.priority), doc);
                        }
                    }
                }
                Spec::Service(_) => {}
            }
        }
    }
}

/// `200`, `200,202` or `200-299`, with codes from 200 to 499.
fn check_matcher(m: &str) -> Result<(), &'static str> {
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (200..=499).contains(c))
    };
    let ok = if let Some((lo, hi)) = m.split_once('-') {
        matches!((code(lo), code(hi)), (Some(a), Some(b)) if a <= b)
    } else {
        !m.is_empty() && m.split(',').all(|c| code(c).is_some())
    };
    if ok {
        Ok(())
    } else {
        Err("must be HTTP codes 200-499 as \"200\", \"200,302\" or \"200-299\"")
    }
}
