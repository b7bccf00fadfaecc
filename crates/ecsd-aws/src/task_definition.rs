//! Task definitions between the manifest's form and the SDK's container definitions.
//!
//! Reading back keeps every field the manifest can express, so the planner compares
//! like with like; fields AWS adds on its own (empty lists, `cpu: 0`, host ports) either
//! map to what the manifest would say or are dropped, and the planner only compares
//! what the manifest sets.

use std::collections::BTreeMap;

use aws_sdk_ecs::types as sdk;
use ecsd_model::service::{
    Container, ContainerDependency, ContainerHealthCheck, DependencyCondition, LogDriver, Logging,
    PortMapping, PortProtocol, TaskDefinition,
};

use crate::error::AwsError;
use crate::int::{i32_of, u32_of};

/// The container definitions to register for a task definition.
pub(crate) fn to_sdk(td: &TaskDefinition) -> Result<Vec<sdk::ContainerDefinition>, AwsError> {
    td.containers.iter().map(container_to_sdk).collect()
}

fn container_to_sdk(c: &Container) -> Result<sdk::ContainerDefinition, AwsError> {
    let invalid = |what: &str, e: aws_sdk_ecs::error::BuildError| AwsError::invalid("ECS", what, e);
    let mut b = sdk::ContainerDefinition::builder()
        .name(&c.name)
        .image(&c.image)
        .essential(c.essential)
        .set_cpu(c.cpu.map(i32_of))
        .set_memory(c.memory.map(i32_of))
        .set_memory_reservation(c.memory_reservation.map(i32_of))
        .set_user(c.user.clone())
        .set_readonly_root_filesystem(c.readonly_root_filesystem)
        .set_command(c.command.clone())
        .set_entry_point(c.entry_point.clone())
        .set_working_directory(c.working_directory.clone())
        .set_stop_timeout(c.stop_timeout_seconds.map(i32_of));
    for p in &c.port_mappings {
        b = b.port_mappings(
            sdk::PortMapping::builder()
                .container_port(i32::from(p.container_port))
                .protocol(match p.protocol {
                    PortProtocol::Tcp => sdk::TransportProtocol::Tcp,
                    PortProtocol::Udp => sdk::TransportProtocol::Udp,
                })
                .build(),
        );
    }
    for (k, v) in &c.environment {
        b = b.environment(sdk::KeyValuePair::builder().name(k).value(v).build());
    }
    for (k, v) in &c.secrets {
        let secret = sdk::Secret::builder()
            .name(k)
            .value_from(v)
            .build()
            .map_err(|e| invalid("Secret", e))?;
        b = b.secrets(secret);
    }
    if let Some(log) = &c.logging {
        let driver = match log.driver {
            LogDriver::Awslogs => sdk::LogDriver::Awslogs,
            LogDriver::Awsfirelens => sdk::LogDriver::Awsfirelens,
            LogDriver::Splunk => sdk::LogDriver::Splunk,
        };
        let conf = sdk::LogConfiguration::builder()
            .log_driver(driver)
            .set_options(Some(log.options.clone().into_iter().collect()))
            .build()
            .map_err(|e| invalid("LogConfiguration", e))?;
        b = b.log_configuration(conf);
    }
    if let Some(hc) = &c.health_check {
        let check = sdk::HealthCheck::builder()
            .set_command(Some(hc.command.clone()))
            .set_interval(hc.interval_seconds.map(i32_of))
            .set_timeout(hc.timeout_seconds.map(i32_of))
            .set_retries(hc.retries.map(i32_of))
            .set_start_period(hc.start_period_seconds.map(i32_of))
            .build()
            .map_err(|e| invalid("HealthCheck", e))?;
        b = b.health_check(check);
    }
    for d in &c.depends_on {
        let condition = match d.condition {
            DependencyCondition::Start => sdk::ContainerCondition::Start,
            DependencyCondition::Complete => sdk::ContainerCondition::Complete,
            DependencyCondition::Success => sdk::ContainerCondition::Success,
            DependencyCondition::Healthy => sdk::ContainerCondition::Healthy,
        };
        let dep = sdk::ContainerDependency::builder()
            .container_name(&d.container_name)
            .condition(condition)
            .build()
            .map_err(|e| invalid("ContainerDependency", e))?;
        b = b.depends_on(dep);
    }
    Ok(b.build())
}

/// A registered task definition in the manifest's form.
pub(crate) fn from_sdk(td: &sdk::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        family: td.family().map(str::to_owned),
        cpu: td.cpu().and_then(|c| c.parse().ok()).unwrap_or(0),
        memory: td.memory().and_then(|m| m.parse().ok()).unwrap_or(0),
        execution_role_arn: td.execution_role_arn().map(str::to_owned),
        task_role_arn: td.task_role_arn().map(str::to_owned),
        containers: td
            .container_definitions()
            .iter()
            .map(container_from_sdk)
            .collect(),
    }
}

/// Settings of a registered task definition that the manifest format has no key for,
/// as `key` or `containers[NAME].key` (ecsd does not manage them; `ecsd import` keeps
/// them as comments instead of dropping them silently).
pub(crate) fn unmodeled(td: &sdk::TaskDefinition) -> Vec<String> {
    let mut out = Vec::new();
    let mut task = |set: bool, key: &str| {
        if set {
            out.push(key.to_owned());
        }
    };
    task(!td.volumes().is_empty(), "volumes");
    task(
        !td.placement_constraints().is_empty(),
        "placementConstraints",
    );
    task(td.runtime_platform().is_some(), "runtimePlatform");
    task(
        !td.inference_accelerators().is_empty(),
        "inferenceAccelerators",
    );
    task(td.pid_mode().is_some(), "pidMode");
    task(td.ipc_mode().is_some(), "ipcMode");
    task(td.proxy_configuration().is_some(), "proxyConfiguration");
    task(td.ephemeral_storage().is_some(), "ephemeralStorage");
    task(
        td.enable_fault_injection() == Some(true),
        "enableFaultInjection",
    );
    for c in td.container_definitions() {
        let name = c.name().unwrap_or_default();
        let checks = [
            (
                c.repository_credentials().is_some(),
                "repositoryCredentials",
            ),
            (!c.links().is_empty(), "links"),
            (c.restart_policy().is_some(), "restartPolicy"),
            (!c.environment_files().is_empty(), "environmentFiles"),
            (!c.mount_points().is_empty(), "mountPoints"),
            (!c.volumes_from().is_empty(), "volumesFrom"),
            (c.linux_parameters().is_some(), "linuxParameters"),
            (c.start_timeout().is_some(), "startTimeout"),
            (c.version_consistency().is_some(), "versionConsistency"),
            (c.hostname().is_some(), "hostname"),
            (c.disable_networking().is_some(), "disableNetworking"),
            (c.privileged().is_some(), "privileged"),
            (!c.dns_servers().is_empty(), "dnsServers"),
            (!c.dns_search_domains().is_empty(), "dnsSearchDomains"),
            (!c.extra_hosts().is_empty(), "extraHosts"),
            (
                !c.docker_security_options().is_empty(),
                "dockerSecurityOptions",
            ),
            (c.interactive().is_some(), "interactive"),
            (c.pseudo_terminal().is_some(), "pseudoTerminal"),
            (
                c.docker_labels().is_some_and(|l| !l.is_empty()),
                "dockerLabels",
            ),
            (!c.ulimits().is_empty(), "ulimits"),
            (!c.system_controls().is_empty(), "systemControls"),
            (
                !c.resource_requirements().is_empty(),
                "resourceRequirements",
            ),
            (
                c.firelens_configuration().is_some(),
                "firelensConfiguration",
            ),
            (!c.credential_specs().is_empty(), "credentialSpecs"),
        ];
        out.extend(
            checks
                .iter()
                .filter(|(set, _)| *set)
                .map(|(_, key)| format!("containers[{name}].{key}")),
        );
    }
    out
}

fn container_from_sdk(c: &sdk::ContainerDefinition) -> Container {
    let non_empty = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
    Container {
        name: c.name().unwrap_or_default().to_owned(),
        image: c.image().unwrap_or_default().to_owned(),
        port_mappings: c
            .port_mappings()
            .iter()
            .map(|p| PortMapping {
                container_port: p
                    .container_port()
                    .and_then(|x| u16::try_from(x).ok())
                    .unwrap_or(0),
                protocol: match p.protocol() {
                    Some(sdk::TransportProtocol::Udp) => PortProtocol::Udp,
                    _ => PortProtocol::Tcp,
                },
            })
            .collect(),
        environment: c
            .environment()
            .iter()
            .filter_map(|kv| {
                Some((
                    kv.name()?.to_owned(),
                    kv.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        secrets: c
            .secrets()
            .iter()
            .map(|s| (s.name().to_owned(), s.value_from().to_owned()))
            .collect(),
        logging: c.log_configuration().and_then(|l| {
            let driver = match l.log_driver() {
                sdk::LogDriver::Awslogs => LogDriver::Awslogs,
                sdk::LogDriver::Awsfirelens => LogDriver::Awsfirelens,
                sdk::LogDriver::Splunk => LogDriver::Splunk,
                _ => return None,
            };
            let options: BTreeMap<String, String> = l
                .options()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            Some(Logging { driver, options })
        }),
        health_check: c.health_check().map(|h| ContainerHealthCheck {
            command: h.command().to_vec(),
            interval_seconds: h.interval().map(u32_of),
            timeout_seconds: h.timeout().map(u32_of),
            retries: h.retries().map(u32_of),
            start_period_seconds: h.start_period().map(u32_of),
        }),
        user: c.user().map(str::to_owned),
        readonly_root_filesystem: c.readonly_root_filesystem(),
        command: non_empty(c.command()),
        entry_point: non_empty(c.entry_point()),
        essential: c.essential().unwrap_or(true),
        cpu: Some(u32_of(c.cpu())),
        memory: c.memory().map(u32_of),
        memory_reservation: c.memory_reservation().map(u32_of),
        working_directory: c.working_directory().map(str::to_owned),
        stop_timeout_seconds: c.stop_timeout().map(u32_of),
        depends_on: c
            .depends_on()
            .iter()
            .map(|d| ContainerDependency {
                container_name: d.container_name().to_owned(),
                condition: match d.condition() {
                    sdk::ContainerCondition::Complete => DependencyCondition::Complete,
                    sdk::ContainerCondition::Success => DependencyCondition::Success,
                    sdk::ContainerCondition::Healthy => DependencyCondition::Healthy,
                    _ => DependencyCondition::Start,
                },
            })
            .collect(),
    }
}
