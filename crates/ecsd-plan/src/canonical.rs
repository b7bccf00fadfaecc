//! Task definitions in one canonical form, so that the manifest's definition and the one
//! AWS reports compare equal exactly when they mean the same: every field the manifest
//! format models is kept, and only what AWS fills in by itself ([`crate::defaults`]) is
//! normalised.
//!
//! The task definition marker tag stores a hash of the canonical *whole* definition, so
//! it can never vouch for a revision that differs from the manifest in any field.

use sha2::{Digest, Sha256};

use ecsd_model::service::{Container, ContainerHealthCheck, TaskDefinition};

use crate::defaults;
use crate::ownership::hex;

/// The definition with AWS's defaults filled in where it leaves fields out.
pub fn task_definition(td: &TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        containers: td.containers.iter().map(container).collect(),
        ..td.clone()
    }
}

fn container(c: &Container) -> Container {
    let non_empty = |v: &Option<Vec<String>>| v.clone().filter(|v| !v.is_empty());
    Container {
        cpu: Some(c.cpu.unwrap_or(defaults::CONTAINER_CPU)),
        readonly_root_filesystem: Some(
            c.readonly_root_filesystem
                .unwrap_or(defaults::READONLY_ROOT_FILESYSTEM),
        ),
        command: non_empty(&c.command),
        entry_point: non_empty(&c.entry_point),
        health_check: c.health_check.as_ref().map(health_check),
        ..c.clone()
    }
}

fn health_check(h: &ContainerHealthCheck) -> ContainerHealthCheck {
    ContainerHealthCheck {
        command: h.command.clone(),
        interval_seconds: Some(
            h.interval_seconds
                .unwrap_or(defaults::CONTAINER_HEALTH_CHECK_INTERVAL),
        ),
        timeout_seconds: Some(
            h.timeout_seconds
                .unwrap_or(defaults::CONTAINER_HEALTH_CHECK_TIMEOUT),
        ),
        retries: Some(
            h.retries
                .unwrap_or(defaults::CONTAINER_HEALTH_CHECK_RETRIES),
        ),
        start_period_seconds: Some(
            h.start_period_seconds
                .unwrap_or(defaults::CONTAINER_HEALTH_CHECK_START_PERIOD),
        ),
    }
}

/// Whether two definitions mean the same to AWS.
pub fn same_task_definition(a: &TaskDefinition, b: &TaskDefinition) -> bool {
    task_definition(a) == task_definition(b)
}

/// A stable hash of a definition's whole canonical content (hex SHA-256). The `v2`
/// prefix retires markers written when the hash covered less.
pub fn task_definition_hash(td: &TaskDefinition) -> String {
    let mut bytes = b"v2 ".to_vec();
    bytes.extend(serde_json::to_vec(&task_definition(td)).unwrap_or_default());
    hex(&Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests {
    use ecsd_model::service::{PortMapping, PortProtocol};

    use super::*;

    fn td(c: Container) -> TaskDefinition {
        TaskDefinition {
            family: Some("web".into()),
            cpu: 256,
            memory: 512,
            execution_role_arn: None,
            task_role_arn: None,
            containers: vec![c],
        }
    }

    fn app() -> Container {
        Container {
            name: "app".into(),
            image: "web:1".into(),
            port_mappings: vec![PortMapping {
                container_port: 5001,
                protocol: PortProtocol::Tcp,
            }],
            environment: Default::default(),
            secrets: Default::default(),
            logging: None,
            health_check: None,
            user: None,
            readonly_root_filesystem: None,
            command: None,
            entry_point: None,
            essential: true,
            cpu: None,
            memory: None,
            memory_reservation: None,
            working_directory: None,
            stop_timeout_seconds: None,
            depends_on: vec![],
        }
    }

    #[test]
    fn what_aws_fills_in_is_the_same_definition() {
        let mut reported = app();
        reported.cpu = Some(0);
        reported.readonly_root_filesystem = Some(false);
        reported.command = Some(vec![]);
        assert!(same_task_definition(&td(app()), &td(reported.clone())));
        assert_eq!(
            task_definition_hash(&td(app())),
            task_definition_hash(&td(reported))
        );
    }

    #[test]
    fn a_deleted_variable_command_or_check_is_a_different_definition() {
        let mut with = app();
        with.environment.insert("FEATURE_X".into(), "on".into());
        assert!(!same_task_definition(&td(app()), &td(with.clone())));
        assert_ne!(
            task_definition_hash(&td(app())),
            task_definition_hash(&td(with))
        );
        let mut with = app();
        with.command = Some(vec!["gunicorn".into()]);
        assert!(!same_task_definition(&td(app()), &td(with)));
        let mut with = app();
        with.health_check = Some(ContainerHealthCheck {
            command: vec!["CMD".into(), "true".into()],
            interval_seconds: None,
            timeout_seconds: None,
            retries: None,
            start_period_seconds: None,
        });
        assert!(!same_task_definition(&td(app()), &td(with)));
    }
}
