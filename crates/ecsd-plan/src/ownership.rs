//! Ownership tags, the markers ecsd leaves on resources so that a no-op pass can skip
//! reads, labels kept in sync as tags, and the names ecsd gives what it creates.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use ecsd_model::ObjectKey;

use crate::diff::FieldDiff;
use crate::state::Tags;

/// The tag that marks a resource as ecsd's: `ecsd:owner=<owner>`.
pub const OWNER_TAG: &str = "ecsd:owner";
/// The tag naming the manifest a resource belongs to: `ecsd:manifest=<Kind>/<name>`.
pub const MANIFEST_TAG: &str = "ecsd:manifest";
/// The tag keys ecsd set from `metadata.labels`, separated by spaces. Only these are
/// ever removed when a label is deleted; tags added outside ecsd are left alone.
pub const LABELS_TAG: &str = "ecsd:labels";
/// On a service: the task definition revision ecsd last put there and the hash of the
/// desired definition it was registered from (`family:revision sha256hex`). Lets a
/// cold `plan` know a service runs the desired definition without describing it.
pub const TASK_DEFINITION_TAG: &str = "ecsd:task-definition";
/// On a target group: the attribute values ecsd last set (`deregistration=30`), so
/// attributes are read only when the manifest asks for something else.
pub const ATTRIBUTES_TAG: &str = "ecsd:attributes";
/// On a service: a hash of the labels its ScalingPolicy's scalable target carries, so
/// the scalable target's tags are read only when those labels changed; then, separated
/// by spaces, the names of another tool's policies and scheduled actions `--adopt` took
/// over under their own names (`<hash> their-cpu nightly`). They carry no tags, so this
/// record is what makes them ecsd's.
pub const SCALING_LABELS_TAG: &str = "ecsd:scaling-labels";
/// The longest tag value AWS takes (ECS, ELBv2, Application Auto Scaling).
pub const MAX_TAG_VALUE: usize = 256;
/// Every tag ecsd may put on one resource besides labels (a service carries the most:
/// owner, manifest, labels, task definition and scaling labels).
pub const MAX_OWN_TAGS: usize = 5;
/// Prefix of scaling policy and scheduled action names ecsd creates
/// (`ecsd-<ScalingPolicy name>-<metric or action name>`). Application Auto Scaling
/// policies and scheduled actions carry no tags, so the name is their ownership mark.
pub const SCALING_NAME_PREFIX: &str = "ecsd-";

/// Labels of a manifest.
pub type Labels = BTreeMap<String, String>;

/// Whether `tags` mark the resource as owned by `owner`.
pub fn is_owned(tags: &Tags, owner: &str) -> bool {
    tags.get(OWNER_TAG).is_some_and(|v| v == owner)
}

/// The tags ecsd puts on everything it creates for `key`: the labels, then its own
/// (including the record of which keys are labels).
pub fn owner_tags(owner: &str, key: &ObjectKey, labels: &Labels) -> Tags {
    let mut tags: Tags = labels.clone();
    tags.insert(OWNER_TAG.to_owned(), owner.to_owned());
    tags.insert(MANIFEST_TAG.to_owned(), key.to_string());
    if !labels.is_empty() {
        tags.insert(LABELS_TAG.to_owned(), labels_marker(labels));
    }
    tags
}

/// The value of the labels tag: the label keys, sorted, separated by spaces (label keys
/// contain no spaces; validation makes sure).
pub fn labels_marker(labels: &Labels) -> String {
    labels
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The label keys ecsd set on a resource, from its labels tag.
pub fn labels_set_by_ecsd(tags: &Tags) -> Vec<&str> {
    tags.get(LABELS_TAG)
        .map(|v| v.split(' ').filter(|k| !k.is_empty()).collect())
        .unwrap_or_default()
}

/// What it takes to bring a resource's tags in line with the labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSync {
    /// Tags to add or overwrite (labels, and the labels tag itself).
    pub set: Tags,
    /// Tag keys to remove: labels ecsd set that the manifest no longer has.
    pub remove: Vec<String>,
}

impl LabelSync {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// Compares a resource's tags with the labels: the label diff (at
/// `metadata.labels.<key>`) and the tag changes that fix it.
pub fn label_sync(tags: &Tags, labels: &Labels) -> (Vec<FieldDiff>, LabelSync) {
    let ours = labels_set_by_ecsd(tags);
    let mut diff = Vec::new();
    let mut sync = LabelSync::default();
    for (k, v) in labels {
        if tags.get(k) != Some(v) {
            diff.push(FieldDiff {
                path: format!("metadata.labels.{k}"),
                from: tags.get(k).map_or(Value::Null, |t| json!(t)),
                to: json!(v),
            });
            sync.set.insert(k.clone(), v.clone());
        }
    }
    for k in ours {
        if !labels.contains_key(k)
            && let Some(old) = tags.get(k)
        {
            diff.push(FieldDiff {
                path: format!("metadata.labels.{k}"),
                from: json!(old),
                to: Value::Null,
            });
            sync.remove.push(k.to_owned());
        }
    }
    let marker = (!labels.is_empty()).then(|| labels_marker(labels));
    match (&marker, tags.get(LABELS_TAG)) {
        (Some(m), current) if current != Some(m) => {
            sync.set.insert(LABELS_TAG.to_owned(), m.clone());
        }
        (None, Some(_)) => sync.remove.push(LABELS_TAG.to_owned()),
        _ => {}
    }
    (diff, sync)
}

/// How many hex digits [`labels_hash`] keeps.
const LABELS_HASH_LEN: usize = 16;

/// A short hash of labels, for markers that vouch for tags kept elsewhere.
pub fn labels_hash(labels: &Labels) -> String {
    let bytes = serde_json::to_vec(labels).unwrap_or_default();
    hex(&Sha256::digest(&bytes))[..LABELS_HASH_LEN].to_owned()
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of the task definition tag: `family:revision hash`.
pub fn task_definition_marker(task_definition_arn: &str, hash: &str) -> String {
    format!("{} {hash}", revision_of(task_definition_arn))
}

/// `family:revision` from a task definition ARN (or the input if it is not an ARN).
pub fn revision_of(task_definition_arn: &str) -> &str {
    task_definition_arn
        .rsplit_once(":task-definition/")
        .map_or(task_definition_arn, |(_, r)| r)
}

/// What the task definition tag ends with once ECS rolled that revision back: the
/// record that holds it back (docs/aws-behaviours.md, `service-deployments`), kept on
/// the service itself so it outlives AWS's deployment history (90 days).
pub const ROLLED_BACK_MARK: &str = "rolled-back";

/// The value of the task definition tag for a revision ECS rolled back.
pub fn rolled_back_marker(task_definition_arn: &str, hash: &str) -> String {
    format!(
        "{} {ROLLED_BACK_MARK}",
        task_definition_marker(task_definition_arn, hash)
    )
}

/// The revision (`family:revision`) a service's tag records as rolled back by ECS, when
/// it was registered from a definition whose hash is `hash`.
pub fn rolled_back_recorded<'t>(tags: &'t Tags, hash: &str) -> Option<&'t str> {
    let mut parts = tags.get(TASK_DEFINITION_TAG)?.split(' ');
    let (revision, recorded, mark) = (parts.next()?, parts.next()?, parts.next()?);
    (recorded == hash && mark == ROLLED_BACK_MARK && parts.next().is_none()).then_some(revision)
}

/// Whether a service's tags prove it runs `task_definition_arn`, registered from a
/// definition whose (complete) hash is `hash`.
pub fn task_definition_vouched(tags: &Tags, task_definition_arn: &str, hash: &str) -> bool {
    tags.get(TASK_DEFINITION_TAG)
        .is_some_and(|v| *v == task_definition_marker(task_definition_arn, hash))
}

/// The value of the attributes tag for a deregistration delay.
pub fn attributes_marker(seconds: u32) -> String {
    format!("deregistration={seconds}")
}

/// The deregistration delay the attributes tag records, if any.
pub fn attributes_recorded(tags: &Tags) -> Option<u32> {
    tags.get(ATTRIBUTES_TAG)?
        .strip_prefix("deregistration=")?
        .parse()
        .ok()
}

/// The name of a target-tracking policy ecsd creates.
pub fn policy_name(scaling_policy: &str, metric: &str) -> String {
    format!("{SCALING_NAME_PREFIX}{scaling_policy}-{metric}")
}

/// The name of a scheduled action ecsd creates.
pub fn scheduled_action_name(scaling_policy: &str, action: &str) -> String {
    format!("{SCALING_NAME_PREFIX}{scaling_policy}-{action}")
}

/// Whether a service's scaling marker vouches for `labels` on its scalable target.
pub fn scaling_labels_vouched(tags: &Tags, labels: &Labels) -> bool {
    tags.get(SCALING_LABELS_TAG)
        .and_then(|v| v.split(' ').next())
        .is_some_and(|h| h == labels_hash(labels))
}

/// The policies and scheduled actions of another tool that the service's scaling
/// marker records as adopted under their own names.
pub fn scaling_adopted(tags: &Tags) -> BTreeSet<String> {
    tags.get(SCALING_LABELS_TAG)
        .map(|v| v.split(' ').skip(1).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The value of the scaling marker: the labels hash (or `-` when unknown), then the
/// adopted names.
pub fn scaling_marker(hash: &str, adopted: &BTreeSet<String>) -> String {
    std::iter::once(hash)
        .chain(adopted.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether another tool's policy or scheduled action name can be recorded in the
/// scaling marker: the characters AWS allows in a tag value, without spaces (they
/// separate the names), and room left under AWS's 256 characters with `recorded`.
pub fn recordable(name: &str, recorded: &BTreeSet<String>) -> bool {
    let allowed = |c: char| c.is_alphanumeric() || "+-=._:/@".contains(c);
    let length =
        LABELS_HASH_LEN + recorded.iter().map(|n| n.len() + 1).sum::<usize>() + name.len() + 1;
    !name.is_empty() && name.chars().all(allowed) && length <= MAX_TAG_VALUE
}

/// A cluster's name from its name or ARN.
pub fn cluster_name(cluster: &str) -> &str {
    cluster.rsplit_once(":cluster/").map_or(cluster, |(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_scaling_marker_vouches_for_labels_and_records_adopted_names() {
        let labels = Labels::from([("team".to_owned(), "web".to_owned())]);
        let names: BTreeSet<String> = ["their-cpu".to_owned(), "nightly".to_owned()].into();
        let value = scaling_marker(&labels_hash(&labels), &names);
        let t = tags(&[(SCALING_LABELS_TAG, &value)]);
        assert!(scaling_labels_vouched(&t, &labels));
        assert!(!scaling_labels_vouched(&t, &Labels::new()));
        assert_eq!(scaling_adopted(&t), names);
        // A marker written before names were recorded still vouches, with none.
        let old = tags(&[(SCALING_LABELS_TAG, &labels_hash(&labels))]);
        assert!(scaling_labels_vouched(&old, &labels) && scaling_adopted(&old).is_empty());
    }

    #[test]
    fn only_names_a_tag_value_can_hold_are_recorded() {
        let none = BTreeSet::new();
        assert!(recordable("their-cpu", &none));
        assert!(recordable("team/web:cpu@v2.1", &none));
        assert!(!recordable("their cpu", &none), "spaces separate the names");
        assert!(!recordable("cpu(v2)", &none));
        assert!(!recordable("", &none));
        let long: BTreeSet<String> = ["a".repeat(200)].into();
        assert!(recordable(&"b".repeat(38), &long));
        assert!(!recordable(&"b".repeat(39), &long), "16 + 201 + 40 > 256");
    }

    #[test]
    fn a_new_label_is_set_and_recorded_as_ecsd_s() {
        let have = tags(&[("ecsd:owner", "ecsd")]);
        let (diff, sync) = label_sync(&have, &tags(&[("team", "web")]));
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].path, "metadata.labels.team");
        assert_eq!(sync.set, tags(&[("team", "web"), (LABELS_TAG, "team")]));
        assert!(sync.remove.is_empty());
    }

    #[test]
    fn a_deleted_label_is_removed_but_tags_added_outside_ecsd_stay() {
        let have = tags(&[
            ("team", "web"),
            ("cost-center", "42"),
            ("added-by-hand", "yes"),
            (LABELS_TAG, "cost-center team"),
        ]);
        let (diff, sync) = label_sync(&have, &tags(&[("team", "web")]));
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].path, "metadata.labels.cost-center");
        assert_eq!(diff[0].to, Value::Null);
        assert_eq!(sync.remove, vec!["cost-center".to_owned()]);
        assert_eq!(sync.set, tags(&[(LABELS_TAG, "team")]));
    }

    #[test]
    fn removing_the_last_label_removes_the_record_too() {
        let have = tags(&[("team", "web"), (LABELS_TAG, "team")]);
        let (_, sync) = label_sync(&have, &Labels::new());
        assert_eq!(sync.remove, vec!["team".to_owned(), LABELS_TAG.to_owned()]);
    }

    #[test]
    fn labels_in_sync_need_nothing() {
        let have = tags(&[("team", "web"), (LABELS_TAG, "team"), ("other", "x")]);
        let (diff, sync) = label_sync(&have, &tags(&[("team", "web")]));
        assert!(diff.is_empty());
        assert!(sync.is_empty());
    }

    #[test]
    fn labels_and_ecsd_s_own_tags_fit_aws_s_fifty() {
        assert_eq!(ecsd_model::MAX_LABELS + MAX_OWN_TAGS, 50);
    }

    #[test]
    fn markers_round_trip() {
        let arn = "arn:aws:ecs:us-east-1:1:task-definition/web:7";
        let t = tags(&[(TASK_DEFINITION_TAG, &task_definition_marker(arn, "abc"))]);
        assert!(task_definition_vouched(&t, arn, "abc"));
        assert!(!task_definition_vouched(&t, arn, "abd"));
        let a = tags(&[(ATTRIBUTES_TAG, &attributes_marker(30))]);
        assert_eq!(attributes_recorded(&a), Some(30));
    }
}
