//! Ownership tags and the names ecsd gives the resources it creates.

use ecsd_model::ObjectKey;

use crate::state::Tags;

/// The tag that marks a resource as ecsd's: `ecsd:owner=<owner>`.
pub const OWNER_TAG: &str = "ecsd:owner";
/// The tag naming the manifest a resource belongs to: `ecsd:manifest=<Kind>/<name>`.
pub const MANIFEST_TAG: &str = "ecsd:manifest";
/// On a service: the task definition revision ecsd last put there and the hash of the
/// desired definition it was registered from (`family:revision sha256hex`). Lets a
/// cold `plan` know a service runs the desired definition without describing it.
pub const TASK_DEFINITION_TAG: &str = "ecsd:task-definition";
/// On a target group: the attribute values ecsd last set (`deregistration=30`), so
/// attributes are read only when the manifest asks for something else.
pub const ATTRIBUTES_TAG: &str = "ecsd:attributes";
/// Prefix of scaling policy and scheduled action names ecsd creates
/// (`ecsd-<ScalingPolicy name>-<metric or action name>`). Application Auto Scaling
/// resources carry no tags ecsd can rely on, so the name is their ownership mark.
pub const SCALING_NAME_PREFIX: &str = "ecsd-";

/// Whether `tags` mark the resource as owned by `owner`.
pub fn is_owned(tags: &Tags, owner: &str) -> bool {
    tags.get(OWNER_TAG).is_some_and(|v| v == owner)
}

/// The tags ecsd puts on everything it creates for `key`: the labels, then its own.
pub fn owner_tags(
    owner: &str,
    key: &ObjectKey,
    labels: &std::collections::BTreeMap<String, String>,
) -> Tags {
    let mut tags: Tags = labels.clone();
    tags.insert(OWNER_TAG.to_owned(), owner.to_owned());
    tags.insert(MANIFEST_TAG.to_owned(), key.to_string());
    tags
}

/// The Application Auto Scaling resource id of a service.
pub fn scaling_resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The name of a target-tracking policy ecsd creates.
pub fn policy_name(scaling_policy: &str, metric: &str) -> String {
    format!("{SCALING_NAME_PREFIX}{scaling_policy}-{metric}")
}

/// The name of a scheduled action ecsd creates.
pub fn scheduled_action_name(scaling_policy: &str, action: &str) -> String {
    format!("{SCALING_NAME_PREFIX}{scaling_policy}-{action}")
}

/// A cluster's name from its name or ARN.
pub fn cluster_name(cluster: &str) -> &str {
    cluster.rsplit_once(":cluster/").map_or(cluster, |(_, n)| n)
}
