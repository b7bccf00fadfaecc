//! Names, listener priorities and labels for the manifests `ecsd migrate` writes.

use std::collections::{BTreeMap, BTreeSet};

use crate::generate::yaml::labels;

/// A name made of letters, digits and `allowed`, at most `max` long, with other
/// characters turned into `-` and no `-` at either end.
pub(super) fn sanitize(name: &str, max: usize, allowed: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || allowed.contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(max)
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() { "app".to_owned() } else { s }
}

/// The free priority nearest below `priority` on a listener (so the new rule is
/// evaluated first), skipping `used`; `None` when every one is taken.
pub(super) fn priority_ahead(priority: u32, used: &BTreeSet<u32>) -> Option<u32> {
    (1..priority).rev().find(|p| !used.contains(p))
}

/// The group's tags as labels (not `aws:` ones, and only what validation takes as a
/// label, within the label count and the key record's length), and the keys left out.
pub(super) fn fleet_labels(
    tags: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut kept = BTreeMap::new();
    let mut dropped = Vec::new();
    let mut key_chars = 0;
    for (k, v) in labels(tags) {
        let fits = kept.len() < ecsd_model::MAX_LABELS
            && key_chars + k.chars().count() + usize::from(!kept.is_empty())
                <= ecsd_model::MAX_LABEL_KEYS_CHARS;
        if ecsd_model::is_label(&k, &v) && fits {
            key_chars += k.chars().count() + usize::from(!kept.is_empty());
            kept.insert(k, v);
        } else {
            dropped.push(k);
        }
    }
    (kept, dropped)
}
