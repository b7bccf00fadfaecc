//! AWS's limits that validation enforces, each named once. The validator uses these
//! constants and `docs/manifest.md`'s table "AWS limits ecsd checks" is [`ALL`] (a test
//! holds the two together), so a limit changes in one place.

/// ECS names: clusters, services, task definition families and containers are 1-255
/// letters, digits, `_` and `-`.
pub const ECS_NAME_MAX: usize = 255;
/// An ECS container image reference.
pub const IMAGE_MAX: usize = 255;
/// A target group's name: 1-32 letters, digits and `-`.
pub const TARGET_GROUP_NAME_MAX: usize = 32;
/// A CloudWatch alarm's name (a deployment's rollback alarms).
pub const ALARM_NAME_MAX: usize = 255;
/// CodeDeploy application and deployment group names.
pub const CODE_DEPLOY_NAME_MAX: usize = 100;
/// Condition values (path patterns plus host headers) of one listener rule.
pub const RULE_CONDITION_VALUES_MAX: usize = 5;
/// One listener rule condition value.
pub const RULE_CONDITION_VALUE_MAX: usize = 128;
/// Target groups one forward action sends to.
pub const FORWARD_TARGET_GROUPS_MAX: usize = 5;
/// A tag key.
pub const TAG_KEY_MAX: usize = 128;
/// A tag value.
pub const TAG_VALUE_MAX: usize = 256;
/// Tags on one resource.
pub const TAGS_MAX: usize = 50;
/// Tags ecsd puts on one resource itself (owner, manifest, the label record, and on a
/// service the task definition and scaling-label markers).
pub const ECSD_TAGS_MAX: usize = 5;
/// Most labels per object: what AWS's tag limit leaves next to ecsd's own tags.
pub const MAX_LABELS: usize = TAGS_MAX - ECSD_TAGS_MAX;
/// ecsd records the label keys in one tag value (space-separated).
pub const MAX_LABEL_KEYS_CHARS: usize = TAG_VALUE_MAX;
/// A scheduled action's time zone name.
pub const TIMEZONE_MAX: usize = 64;

/// Every limit: its name in the docs table, its value, what it applies to.
pub const ALL: &[(&str, usize, &str)] = &[
    (
        "ECS_NAME_MAX",
        ECS_NAME_MAX,
        "cluster, service, task definition family and container names",
    ),
    ("IMAGE_MAX", IMAGE_MAX, "characters of a container image"),
    (
        "TARGET_GROUP_NAME_MAX",
        TARGET_GROUP_NAME_MAX,
        "characters of a TargetGroup's name",
    ),
    (
        "ALARM_NAME_MAX",
        ALARM_NAME_MAX,
        "characters of a deployment alarm's name",
    ),
    (
        "CODE_DEPLOY_NAME_MAX",
        CODE_DEPLOY_NAME_MAX,
        "characters of a CodeDeploy application or deployment group name",
    ),
    (
        "RULE_CONDITION_VALUES_MAX",
        RULE_CONDITION_VALUES_MAX,
        "path patterns plus host headers of one listener rule",
    ),
    (
        "RULE_CONDITION_VALUE_MAX",
        RULE_CONDITION_VALUE_MAX,
        "characters of one listener rule condition value",
    ),
    (
        "FORWARD_TARGET_GROUPS_MAX",
        FORWARD_TARGET_GROUPS_MAX,
        "target groups of one forward (the rule's own plus alsoForwardTo)",
    ),
    ("TAG_KEY_MAX", TAG_KEY_MAX, "characters of a label key"),
    (
        "TAG_VALUE_MAX",
        TAG_VALUE_MAX,
        "characters of a label value",
    ),
    (
        "MAX_LABELS",
        MAX_LABELS,
        "labels of one object (AWS's 50 tags less ecsd's own 5)",
    ),
    (
        "MAX_LABEL_KEYS_CHARS",
        MAX_LABEL_KEYS_CHARS,
        "characters of an object's label keys joined by spaces",
    ),
    (
        "TIMEZONE_MAX",
        TIMEZONE_MAX,
        "characters of a scheduled action's time zone",
    ),
];

#[cfg(test)]
mod tests {
    /// docs/manifest.md's table lists every limit with this value.
    #[test]
    fn the_docs_table_is_this_module() {
        let docs = include_str!("../../../docs/manifest.md");
        for (name, value, what) in super::ALL {
            let row = format!("| `{name}` | {value} | {what} |");
            assert!(docs.contains(&row), "docs/manifest.md lacks the row\n{row}");
        }
    }
}
