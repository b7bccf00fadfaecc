//! The one YAML writer of generated manifests (`ecsd import`, `ecsd migrate`): each
//! [`Document`] as `apiVersion`/`kind`/`metadata`/`spec`, strings double-quoted, lists of
//! scalars in flow style, values equal to ecsd's defaults marked `# the default`, and a
//! document's comments above it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// One document to write: its kind, name, spec (as the manifest's JSON), labels, and
/// comments to put above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: &'static str,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub spec: Value,
    pub comments: Vec<String>,
}

/// Tags that become labels: not AWS's, not ecsd's.
pub fn labels(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("ecsd:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A scalar as YAML: strings double-quoted (as JSON, which YAML reads the same).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A mapping key as YAML: plain when it is a simple name, else double-quoted.
fn key(k: &str) -> String {
    let simple = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if simple {
        k.to_owned()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

/// `v` as YAML block lines at `indent`, values that are ecsd's defaults for `kind` (at
/// their path from `at`) marked.
fn emit(out: &mut Vec<String>, v: &Value, indent: usize) {
    emit_at(out, v, indent, "", "")
}

fn emit_at(out: &mut Vec<String>, v: &Value, indent: usize, kind: &str, at: &str) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (name, val) in map {
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                let mark = if ecsd_model::defaults::is_default(kind, &path, val) {
                    "  # the default"
                } else {
                    ""
                };
                let k = key(name);
                match val {
                    Value::Null => {}
                    Value::Object(m) if m.is_empty() => out.push(format!("{pad}{k}: {{}}")),
                    Value::Object(_) => {
                        out.push(format!("{pad}{k}:"));
                        emit_at(out, val, indent + 2, kind, &path);
                    }
                    Value::Array(items)
                        if items.iter().all(|i| !i.is_object() && !i.is_array()) =>
                    {
                        let flow: Vec<String> = items.iter().map(scalar).collect();
                        out.push(format!("{pad}{k}: [{}]", flow.join(", ")));
                    }
                    Value::Array(items) => {
                        out.push(format!("{pad}{k}:"));
                        for item in items {
                            let mut lines = Vec::new();
                            emit_at(&mut lines, item, indent + 4, kind, &format!("{path}[]"));
                            let first = indent + 4;
                            for (i, line) in lines.into_iter().enumerate() {
                                if i == 0 {
                                    out.push(format!(
                                        "{pad}  - {}",
                                        &line[first.min(line.len())..]
                                    ));
                                } else {
                                    out.push(line);
                                }
                            }
                        }
                    }
                    scalar_value => out.push(format!("{pad}{k}: {}{mark}", scalar(scalar_value))),
                }
            }
        }
        other => out.push(format!("{pad}{}", scalar(other))),
    }
}

/// Documents as one YAML file under `header` (comment lines), each with its comments.
pub fn yaml_documents(header: &str, documents: &[Document]) -> String {
    let mut docs = Vec::new();
    for d in documents {
        let mut lines: Vec<String> = d.comments.iter().map(|c| format!("# {c}")).collect();
        lines.push("apiVersion: ecsd/v1".to_owned());
        lines.push(format!("kind: {}", d.kind));
        lines.push("metadata:".to_owned());
        lines.push(format!("  name: {}", scalar(&json!(d.name))));
        if !d.labels.is_empty() {
            lines.push("  labels:".to_owned());
            emit(&mut lines, &json!(d.labels), 4);
        }
        lines.push("spec:".to_owned());
        emit_at(&mut lines, &d.spec, 2, d.kind, "");
        docs.push(lines.join("\n"));
    }
    format!("{header}\n{}\n", docs.join("\n---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quotes_what_needs_it_and_lays_out_lists_of_mappings() {
        let mut lines = Vec::new();
        emit(
            &mut lines,
            &json!({
                "plain": "x", "@odd:key": 1, "list": ["a", 2],
                "items": [{"name": "app", "ports": [1]}, {"name": "b"}],
                "empty": {}, "gone": null,
            }),
            0,
        );
        let text = lines.join("\n");
        assert!(text.contains("plain: \"x\""), "{text}");
        assert!(text.contains("\"@odd:key\": 1"), "{text}");
        assert!(text.contains("list: [\"a\", 2]"), "{text}");
        assert!(
            text.contains("items:\n  - name: \"app\"\n    ports: [1]\n  - name: \"b\""),
            "{text}"
        );
        assert!(
            text.contains("empty: {}") && !text.contains("gone"),
            "{text}"
        );
    }
}
