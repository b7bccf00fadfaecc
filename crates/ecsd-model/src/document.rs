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

/// Why a document could not be decoded: the errors, and the object they belong to when
/// its kind and name could be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rejected {
    pub(crate) object: Option<ObjectKey>,
    pub(crate) errors: Vec<(Pos, String)>,
}

/// Decodes one parsed document.
pub(crate) fn decode(file: &str, root: &Node) -> Result<Document, Rejected> {
    let object = object_key(root);
    if root.as_map().is_none() {
        return Err(Rejected {
            object,
            errors: vec![(
                root.pos,
                format!(
                    "a manifest must be a mapping with apiVersion, kind, metadata and spec, found {}",
                    root.value.describe()
                ),
            )],
        });
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
    if let Some(entry) = root.get("apiVersion") {
        if let Some(v) = entry.value.as_str() {
            if v != API_VERSION {
                checker.errors.push((
                    entry.value.pos,
                    format!("apiVersion must be {API_VERSION:?}, found {v:?}"),
                ));
            }
        }
    }
    let mut kind = None;
    if let Some(entry) = root.get("kind") {
        if let Some(v) = entry.value.as_str() {
            kind = Kind::parse(v);
            if kind.is_none() {
                let names = Kind::ALL.map(Kind::as_str);
                let hint = suggest::hint(v, names);
                checker.errors.push((
                    entry.value.pos,
                    format!(
                        "unknown kind {v:?}, expected one of: {}{hint}",
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    let spec_node = root.get("spec").map(|e| &e.value);
    if let (Some(kind), Some(spec)) = (kind, spec_node) {
        if spec.as_map().is_some() {
            checker.check(spec, &schema::spec_schema(kind), "spec");
        }
    }
    let reject = |errors| Rejected {
        object: object.clone(),
        errors,
    };
    if !checker.errors.is_empty() {
        return Err(reject(checker.errors));
    }
    let (Some(kind), Some(spec), Some(meta)) = (kind, spec_node, root.get("metadata")) else {
        return Err(reject(vec![(root.pos, "incomplete manifest".to_owned())]));
    };
    let metadata: Metadata = typed(&meta.value, "metadata").map_err(|e| reject(vec![e]))?;
    let spec = match kind {
        Kind::TargetGroup => typed(spec, "spec").map(Spec::TargetGroup),
        Kind::Service => typed(spec, "spec").map(|s| Spec::Service(Box::new(s))),
        Kind::ScalingPolicy => typed(spec, "spec").map(Spec::ScalingPolicy),
    }
    .map_err(|e| reject(vec![e]))?;
    let mut spans = HashMap::new();
    collect_spans(root, "", &mut spans);
    Ok(Document {
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

fn typed<T: DeserializeOwned>(node: &Node, path: &str) -> Result<T, (Pos, String)> {
    // The schema check passed, so this only fails if the schema and the types disagree.
    serde_json::from_value(to_json(node)).map_err(|e| (node.pos, format!("{path}: {e}")))
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
