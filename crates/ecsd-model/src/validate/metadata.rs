//! `metadata`: names by kind, and labels that must fit AWS's tag rules next to ecsd's
//! own tags.

use super::Validator;
use crate::arn;
use crate::document::Document;
use crate::manifest::Kind;

use crate::limits::{ECS_NAME_MAX, TAG_KEY_MAX, TAG_VALUE_MAX, TARGET_GROUP_NAME_MAX};
pub use crate::limits::{MAX_LABEL_KEYS_CHARS, MAX_LABELS};

/// Characters AWS allows in a tag key or value.
fn tag_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

/// A key or value AWS takes for a tag: (`aws:`/`ecsd:` prefix, valid key, valid value).
fn label_checks(k: &str, v: &str) -> (bool, bool, bool) {
    let reserved = k.to_lowercase().starts_with("aws:") || k.starts_with("ecsd:");
    let key = !k.is_empty() && k.chars().count() <= TAG_KEY_MAX && tag_chars(k) && !k.contains(' ');
    let value = v.chars().count() <= TAG_VALUE_MAX && tag_chars(v);
    (reserved, key, value)
}

/// Whether `k: v` can be a label: not a reserved key, and a key and value AWS takes as a
/// tag.
pub fn is_label(k: &str, v: &str) -> bool {
    matches!(label_checks(k, v), (false, true, true))
}

impl Validator<'_> {
    pub(super) fn metadata(&mut self, doc: &Document) {
        let m = &doc.manifest.metadata;
        let (ok, rule) = match doc.manifest.kind() {
            Kind::TargetGroup => (
                arn::is_name(&m.name, TARGET_GROUP_NAME_MAX, "-")
                    && !m.name.starts_with('-')
                    && !m.name.ends_with('-'),
                format!(
                    "1-{TARGET_GROUP_NAME_MAX} letters, digits and '-', not starting or ending with '-'"
                ),
            ),
            Kind::Service | Kind::ScalingPolicy => (
                arn::is_name(&m.name, ECS_NAME_MAX, "_-"),
                format!("1-{ECS_NAME_MAX} letters, digits, '_' and '-'"),
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
        let keys: usize = m.labels.keys().map(|k| k.chars().count() + 1).sum();
        if keys > MAX_LABEL_KEYS_CHARS + 1 {
            self.err_key(doc, "metadata.labels", format!(
                "the label keys take {} characters together; ecsd records them in one tag value, which AWS limits to {MAX_LABEL_KEYS_CHARS}",
                keys - 1
            ));
        }
        for (k, v) in &m.labels {
            let path = format!("metadata.labels.{k}");
            let (reserved, key_ok, value_ok) = label_checks(k, v);
            if reserved {
                self.err_key(
                    doc,
                    &path,
                    format!("label {k:?} uses a reserved prefix (aws: and ecsd: are not allowed)"),
                );
            } else if !key_ok {
                self.err_key(doc, &path, format!("label key {k:?} is not a valid label key (1-128 letters, digits and _.:/=+-@; no spaces)"));
            }
            if !value_ok {
                self.err(doc, &path, format!("label value for {k:?} is not a valid AWS tag value (0-256 letters, digits, spaces and _.:/=+-@)"));
            }
        }
    }
}
