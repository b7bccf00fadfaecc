//! `kind: Service`: cluster, network, the task definition (Fargate sizes, what needs
//! the execution role, containers and their references), load balancers, and the
//! deployment block (in `deployment.rs`).

use std::collections::{HashMap, HashSet};

use super::{SECRET_WORDS, Validator};
use crate::arn;
use crate::document::Document;
use crate::fargate;
use crate::manifest::Kind;
use crate::service::{DependencyCondition, LogDriver, ServiceSpec};

use crate::limits::{ECS_NAME_MAX, IMAGE_MAX};

impl Validator<'_> {
    pub(super) fn service(&mut self, doc: &Document, docs: &[Document], svc: &ServiceSpec) {
        if !(arn::is_name(&svc.cluster, ECS_NAME_MAX, "_-") || arn::is_cluster_arn(&svc.cluster)) {
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
        // How many subnets and security groups: the schema's limits.
        let n = &svc.network;
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
        if td.family.is_some() && !arn::is_name(family, ECS_NAME_MAX, "_-") {
            self.err(
                doc,
                "spec.taskDefinition.family",
                format!(
                    "task definition family {family:?} must be 1-{ECS_NAME_MAX} letters, digits, '_' and '-'"
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
        // How many containers: the schema's limits.
        if !td.containers.is_empty() && !td.containers.iter().any(|c| c.essential) {
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
        // On Fargate the execution role also pulls private ECR images and writes awslogs.
        if td.execution_role_arn.is_none() {
            for (i, c) in td.containers.iter().enumerate() {
                let base = format!("spec.taskDefinition.containers[{i}]");
                if arn::is_private_ecr_image(&c.image) {
                    self.err(doc, &format!("{base}.image"), format!(
                        "pulling {:?} from a private ECR repository needs spec.taskDefinition.executionRoleArn on Fargate",
                        c.image
                    ));
                }
                if c.logging
                    .as_ref()
                    .is_some_and(|l| l.driver == LogDriver::Awslogs)
                {
                    self.err(doc, &format!("{base}.logging.driver"), format!(
                        "{base}.logging: the awslogs driver needs spec.taskDefinition.executionRoleArn on Fargate"
                    ));
                }
            }
        }
        for (i, c) in td.containers.iter().enumerate() {
            let base = format!("spec.taskDefinition.containers[{i}]");
            if !arn::is_name(&c.name, ECS_NAME_MAX, "_-") {
                self.err(
                    doc,
                    &format!("{base}.name"),
                    format!(
                        "container name {:?} must be 1-{ECS_NAME_MAX} letters, digits, '_' and '-'",
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
            if c.image.starts_with(crate::service::IMAGE_TO_FILL_IN) {
                self.err(
                    doc,
                    &format!("{base}.image"),
                    format!(
                        "{base}.image is still the placeholder `ecsd migrate` wrote: set the image of your containerised app (or run `ecsd migrate --image IMAGE`)"
                    ),
                );
            } else if c.image.trim().is_empty()
                || c.image.chars().any(char::is_whitespace)
                || c.image.len() > IMAGE_MAX
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
        // How many: the schema's limit.
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
}
