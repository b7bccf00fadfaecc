//! `kind: Target` (*added*): a place a source deploys to — an account's role to assume,
//! a region — and the targets a revision must reach first (`after`).
//!
//! A source without Target documents has one implicit target: the process's own
//! credentials and region, exactly as before targets existed. Once a source declares
//! targets, every object belongs to exactly one: the one its `metadata.target` names, or
//! else the one whose `spec.folder` holds its file (the longest such folder).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::Pos;

/// The kind of a document that declares a [`Target`].
pub const TARGET_KIND: &str = "Target";

/// The spec of a `kind: Target` document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetSpec {
    /// The AWS region to deploy to (default: the region of ecsd's own configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The IAM role ecsd assumes (sts:AssumeRole) to deploy here, usually in another
    /// account (default: ecsd's own credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The external ID the role's trust policy asks for (needs roleArn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Manifests in a directory of this name (and below it) belong to this target
    /// unless their metadata.target says otherwise, e.g. `prod` or `prod/eu`; the
    /// directory nearest a file wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// Targets a revision must be Synced and Healthy in (every object) before it
    /// reaches this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

/// One declared target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub spec: TargetSpec,
    /// Where it is declared: the document, its name, its folder and each `after` entry.
    pub file: String,
    pub pos: Pos,
    pub name_pos: Pos,
    pub folder_pos: Pos,
    pub after_pos: Vec<Pos>,
}

impl Target {
    /// The folder as a path prefix (`prod` and `prod/` both mean `prod/`), if set.
    pub fn folder_prefix(&self) -> Option<String> {
        let f = self.spec.folder.as_deref()?.trim_matches('/');
        let f = f.strip_prefix("./").unwrap_or(f);
        (!f.is_empty()).then(|| format!("{f}/"))
    }
}

/// The targets of a source, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub by_name: BTreeMap<String, Target>,
}

impl Targets {
    /// No target is declared: everything goes to the implicit one.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The target a file's object belongs to when its metadata does not name one: the
    /// declared folder nearest the file among the directories of its path (a source
    /// names files by where it read them: `/srv/repo/prod/web.yaml`,
    /// `s3://bucket/manifests/prod/web.yaml`), the longer folder on a tie.
    pub fn by_folder(&self, file: &str) -> Option<&str> {
        let dirs = match file.rfind('/') {
            Some(i) => format!("/{}", &file[..=i]),
            None => return None,
        };
        self.by_name
            .values()
            .filter_map(|t| {
                let needle = format!("/{}", t.folder_prefix()?);
                let at = dirs.rfind(&needle)?;
                Some(((at + needle.len(), needle.len()), t.name.as_str()))
            })
            .max_by_key(|(score, _)| *score)
            .map(|(_, name)| name)
    }

    /// Every target `name` waits for, directly or through others (itself excluded).
    pub fn waits_for(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = vec![name];
        while let Some(n) = todo.pop() {
            let Some(t) = self.by_name.get(n) else {
                continue;
            };
            for a in &t.spec.after {
                if a != name && seen.insert(a.clone()) {
                    todo.push(a);
                }
            }
        }
        seen
    }
}

/// Valid target names: 1-32 lower-case letters, digits and '-', starting with a letter
/// (a metric label, a lease item and a folder name alike).
pub const TARGET_NAME_MAX: usize = 32;

/// Whether `s` is a valid target name.
pub fn is_target_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && s.len() <= TARGET_NAME_MAX
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

/// Whether `s` looks like an AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Whether `s` is an external ID STS takes: 2-1224 characters of `[\w+=,.@:/-]`.
pub fn is_external_id(s: &str) -> bool {
    (2..=1224).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, folder: Option<&str>, after: &[&str]) -> Target {
        Target {
            name: name.into(),
            spec: TargetSpec {
                folder: folder.map(str::to_owned),
                after: after.iter().map(|s| (*s).to_owned()).collect(),
                ..TargetSpec::default()
            },
            file: "targets.yaml".into(),
            pos: Pos::new(1, 1),
            name_pos: Pos::new(1, 1),
            folder_pos: Pos::new(1, 1),
            after_pos: Vec::new(),
        }
    }

    #[test]
    fn the_longest_folder_holding_a_file_names_its_target() {
        let t = Targets {
            by_name: [
                target("prod", Some("prod"), &[]),
                target("prod-eu", Some("./prod/eu/"), &[]),
                target("staging", None, &[]),
            ]
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect(),
        };
        assert_eq!(t.by_folder("prod/web.yaml"), Some("prod"));
        assert_eq!(t.by_folder("prod/eu/web.yaml"), Some("prod-eu"));
        assert_eq!(t.by_folder("production/web.yaml"), None);
        assert_eq!(t.by_folder("web.yaml"), None);
        // Where the source read it from: the directory nearest the file wins.
        assert_eq!(
            t.by_folder("/srv/prod/repo/prod/eu/x.yaml"),
            Some("prod-eu")
        );
        assert_eq!(t.by_folder("/tmp/src/prod/eu/web.yaml"), Some("prod-eu"));
        assert_eq!(t.by_folder("s3://b/m/prod/web.yaml"), Some("prod"));
    }

    #[test]
    fn a_target_waits_for_what_its_targets_wait_for() {
        let t = Targets {
            by_name: [
                target("dev", None, &[]),
                target("staging", None, &["dev"]),
                target("prod", None, &["staging"]),
            ]
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect(),
        };
        assert_eq!(
            t.waits_for("prod").into_iter().collect::<Vec<_>>(),
            ["dev", "staging"]
        );
        assert!(t.waits_for("dev").is_empty());
    }

    #[test]
    fn names_regions_and_external_ids() {
        assert!(is_target_name("prod-eu-1"));
        assert!(!is_target_name("Prod") && !is_target_name("1st") && !is_target_name("a-"));
        assert!(!is_target_name(""));
        assert!(is_region("us-east-1") && is_region("us-gov-west-1") && is_region("eu-central-2"));
        assert!(!is_region("useast1") && !is_region("us-east") && !is_region("US-east-1"));
        assert!(is_external_id("ab") && is_external_id("Acme:prod/ecsd@1"));
        assert!(!is_external_id("a") && !is_external_id("has space"));
    }
}
