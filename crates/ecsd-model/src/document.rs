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
use crate::target::TARGET_KIND;
use crate::target::{Target, TargetSpec};

/// A decoded document: the manifest, where it came from, and the position of every
/// key and value in it (looked up by path, e.g. `spec.loadBalancers[0].containerPort`).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub file: String,
    /// Where the document starts (its first key).
    pub pos: Pos,
    pub manifest: Manifest,
    /// The target the object belongs to, in a source that declares targets.
    pub target: Option<String>,
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
    /// A `kind: Target` document, which declares a target instead of an object.
    pub(crate) target: Option<Target>,
    /// The target a document names in `metadata.target`, even when it is invalid.
    pub(crate) names_target: Option<String>,
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
            target: None,
            names_target: None,
        };
    }
    let names_target = root
        .get("metadata")
        .and_then(|m| m.value.get("target"))
        .and_then(|t| t.value.as_str())
        .map(str::to_owned);
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
    let mut declares_target = false;
    if let Some(entry) = root.get("kind")
        && let Some(v) = entry.value.as_str()
    {
        kind = Kind::parse(v);
        declares_target = v == TARGET_KIND;
        if kind.is_none() && !declares_target {
            let names = [Kind::ALL.map(Kind::as_str).as_slice(), &[TARGET_KIND]].concat();
            let hint = suggest::hint(v, names.iter().copied());
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
    if declares_target {
        return decode_target(file, root, spec_node, checker, names_target);
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
        target: None,
        names_target,
    }
}

/// A `kind: Target` document: its spec checked against the schema, the rules of one
/// target (name, role, external ID, region) checked here; those across targets are
/// [`crate::source`]'s.
fn decode_target(
    file: &str,
    root: &Node,
    spec: Option<&Node>,
    mut checker: Checker<'_>,
    names_target: Option<String>,
) -> Decoded {
    if let Some(spec) = spec
        && spec.as_map().is_some()
    {
        checker.check(spec, &schema::target_spec_schema(), "spec");
    }
    let mut errors = std::mem::take(&mut checker.errors);
    let meta = root.get("metadata").map(|m| &m.value);
    let field = |node: Option<&Node>, key: &str| node.and_then(|n| n.get(key)).map(|e| e.value.pos);
    let name_pos = field(meta, "name").unwrap_or(root.pos);
    if let Some(pos) = field(meta, "target") {
        errors.push((
            pos,
            "a Target cannot name a target in metadata.target".to_owned(),
        ));
    }
    if let Some(m) = meta
        && let Some(e) = m.get("labels")
    {
        errors.push((
            e.key.pos,
            "a Target has no labels: it creates nothing in AWS".to_owned(),
        ));
    }
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(|e| e.value.as_str())
        .map(str::to_owned);
    let typed_spec: Option<TargetSpec> = if checker.fatal {
        None
    } else {
        spec.and_then(|s| typed(s, &checker.unknown_keys))
    };
    let target = match (name, typed_spec) {
        (Some(name), Some(spec_value)) => {
            if !crate::target::is_target_name(&name) {
                errors.push((name_pos, format!(
                    "metadata.name {name:?} is not a valid Target name (1-{} lower-case letters, digits and '-', starting with a letter, not ending with '-')",
                    crate::target::TARGET_NAME_MAX
                )));
            }
            let at = |key: &str| field(spec, key).unwrap_or(root.pos);
            if let Some(role) = &spec_value.role_arn
                && !crate::arn::is_role_arn(role)
            {
                errors.push((at("roleArn"), format!(
                    "spec.roleArn is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), found {role:?}"
                )));
            }
            if let Some(id) = &spec_value.external_id {
                if spec_value.role_arn.is_none() {
                    errors.push((at("externalId"), "spec.externalId needs spec.roleArn: an external ID is sent when assuming a role".to_owned()));
                } else if !crate::target::is_external_id(id) {
                    errors.push((at("externalId"), "spec.externalId must be 2-1224 characters of letters, digits and _+=,.@:/- (what STS takes)".to_owned()));
                }
            }
            if let Some(region) = &spec_value.region
                && !crate::target::is_region(region)
            {
                errors.push((at("region"), format!(
                    "spec.region {region:?} is not an AWS region name (e.g. us-east-1, eu-west-1)"
                )));
            }
            let after_pos = spec
                .and_then(|s| s.get("after"))
                .and_then(|e| match &e.value.value {
                    Value::Seq(items) => Some(items.iter().map(|i| i.pos).collect()),
                    _ => None,
                })
                .unwrap_or_default();
            Some(Target {
                name,
                spec: spec_value,
                file: file.to_owned(),
                pos: root.pos,
                name_pos,
                folder_pos: at("folder"),
                after_pos,
            })
        }
        _ => None,
    };
    if target.is_none() && errors.is_empty() {
        errors.push((
            root.pos,
            "the document does not match the Target type".to_owned(),
        ));
    }
    Decoded {
        object: None,
        errors,
        document: None,
        target,
        names_target,
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
        target: None,
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
