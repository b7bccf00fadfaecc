//! One document of a source decoded into a typed [`Manifest`], with the positions of
//! its keys and values kept for later checks.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::json;

use crate::check::{Checker, join, to_json};
use crate::manifest::{API_VERSION, Kind, Manifest, Metadata, ObjectKey, Spec};
use crate::node::{Node, Pos, Value};
use crate::schema;
use crate::suggest;

/// A decoded document: the manifest, where it came from, and the position of every
/// key and value in it (looked up by path, e.g. `spec.loadBalancers[0].containerPort`).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub file: String,
    /// Where the document starts (its first key).
    pub pos: Pos,
    pub manifest: Manifest,
    spans: HashMap<String, Span>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    key: Pos,
    value: Pos,
}

impl Document {
    /// The position of the value at `path`, or of the nearest enclosing value that the
    /// document spells out (a defaulted field points at its parent).
    pub fn value_pos(&self, path: &str) -> Pos {
        self.lookup(path).map_or(self.pos, |s| s.value)
    }

    /// The position of the key at `path` (falls back like [`Document::value_pos`]).
    pub fn key_pos(&self, path: &str) -> Pos {
        self.lookup(path).map_or(self.pos, |s| s.key)
    }

    fn lookup(&self, path: &str) -> Option<Span> {
        let mut p = path;
        loop {
            if let Some(span) = self.spans.get(p) {
                return Some(*span);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

/// The outcome of decoding one document: the errors found, the object they belong to
/// when its kind and name could be read, and the decoded document unless an error was
/// fatal. A document with only recoverable errors (unknown keys, out-of-range values)
/// is still decoded, so its semantic checks can run, but it is invalid all the same.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded {
    pub(crate) object: Option<ObjectKey>,
    pub(crate) errors: Vec<(Pos, String)>,
    pub(crate) document: Option<Document>,
}

/// Decodes one parsed document.
pub(crate) fn decode(file: &str, root: &Node) -> Decoded {
    let object = object_key(root);
    if root.as_map().is_none() {
        let message = format!(
            "a manifest must be a mapping with apiVersion, kind, metadata and spec, found {}",
            root.value.describe()
        );
        return Decoded {
            object,
            errors: vec![(root.pos, message)],
            document: None,
        };
    }
    let mut checker = Checker::new(schema::definitions());
    let top = json!({
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": schema::metadata_schema(),
            "spec": {"type": "object"},
        }
    });
    checker.check(root, &top, "");
    if let Some(entry) = root.get("apiVersion")
        && let Some(v) = entry.value.as_str()
        && v != API_VERSION
    {
        checker.fatal = true;
        checker.errors.push((
            entry.value.pos,
            format!("apiVersion must be {API_VERSION:?}, found {v:?}"),
        ));
    }
    let mut kind = None;
    if let Some(entry) = root.get("kind")
        && let Some(v) = entry.value.as_str()
    {
        kind = Kind::parse(v);
        if kind.is_none() {
            let names = Kind::ALL.map(Kind::as_str);
            let hint = suggest::hint(v, names);
            checker.fatal = true;
            checker.errors.push((
                entry.value.pos,
                format!(
                    "unknown kind {v:?}, expected one of: {}{hint}",
                    names.join(", ")
                ),
            ));
        }
    }
    let spec_node = root.get("spec").map(|e| &e.value);
    if let (Some(kind), Some(spec)) = (kind, spec_node)
        && spec.as_map().is_some()
    {
        checker.check(spec, &schema::spec_schema(kind), "spec");
    }
    let document = if checker.fatal {
        None
    } else {
        typed_document(file, root, kind, &checker)
    };
    let mut errors = checker.errors;
    if document.is_none() && errors.is_empty() {
        // Only reachable if the schema and the types disagree: still an error, never a panic.
        errors.push((
            root.pos,
            "the document does not match the manifest types".to_owned(),
        ));
    }
    Decoded {
        object,
        errors,
        document,
    }
}

fn typed_document(
    file: &str,
    root: &Node,
    kind: Option<Kind>,
    checker: &Checker<'_>,
) -> Option<Document> {
    let skip = &checker.unknown_keys;
    let meta = root.get("metadata")?;
    let spec = &root.get("spec")?.value;
    let metadata: Metadata = typed(&meta.value, skip)?;
    let spec = match kind? {
        Kind::TargetGroup => Spec::TargetGroup(typed(spec, skip)?),
        Kind::Service => Spec::Service(Box::new(typed(spec, skip)?)),
        Kind::ScalingPolicy => Spec::ScalingPolicy(typed(spec, skip)?),
    };
    let mut spans = HashMap::new();
    collect_spans(root, "", &mut spans);
    Some(Document {
        file: file.to_owned(),
        pos: root.pos,
        manifest: Manifest { metadata, spec },
        spans,
    })
}

/// The kind and name of a document, if both can be read, even when the rest is invalid.
pub(crate) fn object_key(root: &Node) -> Option<ObjectKey> {
    let kind = Kind::parse(root.get("kind")?.value.as_str()?)?;
    let name = root.get("metadata")?.value.get("name")?.value.as_str()?;
    Some(ObjectKey {
        kind,
        name: name.to_owned(),
    })
}

/// The typed value, or `None` when a recoverable error left a value serde cannot take
/// (e.g. a port of 70000 for a `u16`); that error is already reported.
fn typed<T: DeserializeOwned>(node: &Node, skip: &HashMap<Pos, Option<String>>) -> Option<T> {
    serde_json::from_value(to_json(node, skip)).ok()
}

fn collect_spans(node: &Node, path: &str, spans: &mut HashMap<String, Span>) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                let Some(key) = e.key.as_str() else { continue };
                let child = join(path, key);
                spans.insert(
                    child.clone(),
                    Span {
                        key: e.key.pos,
                        value: e.value.pos,
                    },
                );
                collect_spans(&e.value, &child, spans);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let child = format!("{path}[{i}]");
                spans.insert(
                    child.clone(),
                    Span {
                        key: item.pos,
                        value: item.pos,
                    },
                );
                collect_spans(item, &child, spans);
            }
        }
        _ => {}
    }
}
