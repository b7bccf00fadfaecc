//! Structural checks: walks a positioned YAML node against the manifest JSON Schema and
//! reports every mismatch (wrong type, unknown or missing field, bad enum value, out of
//! range) at the key or value that causes it, with a hint where one helps.
//!
//! It understands the subset of JSON Schema that [`crate::schema`] generates: `$ref`,
//! `allOf`, `anyOf`/`oneOf`, `type`, `enum`/`const`, `properties`/`required`/
//! `additionalProperties`, `items`, and numeric and length bounds.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};

use crate::node::{Node, Pos, Value};
use crate::suggest;

/// Collects structural errors as (position, message) pairs.
///
/// Unknown keys and out-of-range values are *recoverable*: the document still decodes
/// (without the unknown keys, see [`to_json`]) so its semantic checks run too and one
/// run reports everything. Any other error (wrong type, bad enum value, missing field)
/// is fatal for the document.
pub(crate) struct Checker<'a> {
    definitions: &'a Map<String, Json>,
    pub(crate) errors: Vec<(Pos, String)>,
    pub(crate) fatal: bool,
    /// Unknown keys by position: `Some(field)` for a typo read as that field, `None` to drop.
    pub(crate) unknown_keys: HashMap<Pos, Option<String>>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(definitions: &'a Map<String, Json>) -> Self {
        Checker {
            definitions,
            errors: Vec::new(),
            fatal: false,
            unknown_keys: HashMap::new(),
        }
    }

    fn error(&mut self, pos: Pos, message: String) {
        self.fatal = true;
        self.errors.push((pos, message));
    }

    fn recoverable(&mut self, pos: Pos, message: String) {
        self.errors.push((pos, message));
    }

    /// Checks `node` (found at `path`, e.g. `spec.healthCheck`) against `schema`.
    pub(crate) fn check(&mut self, node: &Node, schema: &Json, path: &str) {
        if let Some(target) = schema.get("$ref").and_then(Json::as_str) {
            match self.resolve(target) {
                Some(resolved) => self.check(node, resolved, path),
                None => self.error(
                    node.pos,
                    format!("{path}: schema reference {target} is missing"),
                ),
            }
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Json::as_array) {
            for s in all {
                self.check(node, s, path);
            }
        }
        if let Some(any) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array)
        {
            self.check_alternatives(node, any, path);
            return;
        }
        if let Some(types) = schema.get("type")
            && !self.check_type(node, types, path)
        {
            return;
        }
        if node.value == Value::Null {
            return;
        }
        if let Some(allowed) = allowed_values(schema) {
            self.check_enum(node, &allowed, path);
            return;
        }
        match &node.value {
            Value::Int(_) | Value::Float(_) => self.check_number(node, schema, path),
            Value::Str(s) => self.check_string(node, s, schema, path),
            Value::Seq(items) => self.check_list(node, items, schema, path),
            Value::Map(_) => self.check_mapping(node, schema, path),
            Value::Null | Value::Bool(_) => {}
        }
    }

    fn resolve(&self, target: &str) -> Option<&'a Json> {
        let name = target
            .strip_prefix("#/definitions/")
            .or_else(|| target.strip_prefix("#/$defs/"))?;
        self.definitions.get(name)
    }

    fn check_alternatives(&mut self, node: &Node, alternatives: &[Json], path: &str) {
        let allows_null = |s: &Json| match s.get("type") {
            Some(Json::String(t)) => t == "null",
            Some(Json::Array(ts)) => ts.iter().any(|t| t == "null"),
            _ => false,
        };
        if node.value == Value::Null && alternatives.iter().any(allows_null) {
            return;
        }
        let rest: Vec<&Json> = alternatives
            .iter()
            .filter(|s| s.get("type") != Some(&Json::String("null".into())))
            .collect();
        let all_constants: Option<Vec<Json>> = rest
            .iter()
            .map(|s| allowed_values(s))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect());
        if let Some(allowed) = all_constants {
            self.check_enum(node, &allowed, path);
            return;
        }
        let mut best: Option<Vec<(Pos, String)>> = None;
        for alternative in &rest {
            let mut trial = Checker::new(self.definitions);
            trial.check(node, alternative, path);
            if trial.errors.is_empty() {
                return;
            }
            if !trial.fatal {
                self.unknown_keys.extend(trial.unknown_keys);
                self.errors.extend(trial.errors);
                return;
            }
            if best.as_ref().is_none_or(|b| trial.errors.len() < b.len()) {
                best = Some(trial.errors);
            }
        }
        self.fatal = true;
        self.errors.extend(best.unwrap_or_default());
    }

    /// Returns whether the node has one of the allowed types.
    fn check_type(&mut self, node: &Node, types: &Json, path: &str) -> bool {
        let types: Vec<&str> = match types {
            Json::String(t) => vec![t.as_str()],
            Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
            _ => return true,
        };
        let matches = |t: &str| {
            matches!(
                (&node.value, t),
                (Value::Null, "null")
                    | (Value::Bool(_), "boolean")
                    | (Value::Int(_), "integer" | "number")
                    | (Value::Float(_), "number")
                    | (Value::Str(_), "string")
                    | (Value::Seq(_), "array")
                    | (Value::Map(_), "object")
            )
        };
        if types.iter().any(|t| matches(t)) {
            if let Value::Float(f) = node.value
                && !f.is_finite()
            {
                self.error(node.pos, format!("{path} must be a finite number"));
                return false;
            }
            return true;
        }
        let wanted = types
            .iter()
            .filter(|t| **t != "null")
            .map(|t| describe_type(t))
            .collect::<Vec<_>>()
            .join(" or ");
        let hint = type_hint(node, &types);
        self.error(
            node.pos,
            format!(
                "{path} must be {wanted}, found {}{hint}",
                node.value.describe()
            ),
        );
        false
    }

    fn check_enum(&mut self, node: &Node, allowed: &[Json], path: &str) {
        let actual = scalar_json(node);
        if actual.as_ref().is_some_and(|a| allowed.contains(a)) {
            return;
        }
        let names: Vec<String> = allowed
            .iter()
            .map(|v| match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let text = node
            .scalar_text()
            .unwrap_or_else(|| node.value.describe().to_owned());
        let hint = suggest::hint(&text, names.iter().map(String::as_str));
        let message = if names.len() == 1 {
            format!("{path} must be {:?}, found {text:?}{hint}", names[0])
        } else {
            format!(
                "{path} has an invalid value {text:?}, expected one of: {}{hint}",
                names.join(", ")
            )
        };
        self.error(node.pos, message);
    }

    fn check_number(&mut self, node: &Node, schema: &Json, path: &str) {
        let n = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => return,
        };
        let min = schema.get("minimum").and_then(Json::as_f64);
        let max = schema.get("maximum").and_then(Json::as_f64);
        let text = node.scalar_text().unwrap_or_default();
        let out = min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m);
        if out {
            let bound = match (min, max) {
                (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
                (Some(lo), None) => format!("at least {lo}"),
                (None, Some(hi)) => format!("at most {hi}"),
                (None, None) => String::new(),
            };
            self.recoverable(node.pos, format!("{path} must be {bound}, found {text}"));
        }
        if let Some(lo) = schema.get("exclusiveMinimum").and_then(Json::as_f64)
            && n <= lo
        {
            self.recoverable(
                node.pos,
                format!("{path} must be greater than {lo}, found {text}"),
            );
        }
    }

    fn check_string(&mut self, node: &Node, s: &str, schema: &Json, path: &str) {
        let len = s.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Json::as_u64)
            && len < min
        {
            let message = if min == 1 {
                format!("{path} must not be empty")
            } else {
                format!("{path} must be at least {min} characters long")
            };
            self.recoverable(node.pos, message);
        }
        if let Some(max) = schema.get("maxLength").and_then(Json::as_u64)
            && len > max
        {
            self.recoverable(
                node.pos,
                format!("{path} must be at most {max} characters long, found {len}"),
            );
        }
    }

    fn check_list(&mut self, node: &Node, items: &[Node], schema: &Json, path: &str) {
        let n = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Json::as_u64)
            && n < min
        {
            self.recoverable(node.pos, format!("{path} needs at least {min} item(s)"));
        }
        if let Some(max) = schema.get("maxItems").and_then(Json::as_u64)
            && n > max
        {
            self.recoverable(
                node.pos,
                format!("{path} allows at most {max} items, found {n}"),
            );
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(item, item_schema, &format!("{path}[{i}]"));
            }
        }
    }

    fn check_mapping(&mut self, node: &Node, schema: &Json, path: &str) {
        let Some(entries) = node.as_map() else { return };
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        let place = if path.is_empty() {
            "the document"
        } else {
            path
        };
        if let Some(max) = schema.get("maxProperties").and_then(Json::as_u64)
            && entries.len() as u64 > max
        {
            self.recoverable(
                node.pos,
                format!(
                    "{place} allows at most {max} entries, found {}",
                    entries.len()
                ),
            );
        }
        let present: HashSet<&str> = entries.iter().filter_map(|e| e.key.as_str()).collect();
        let mut seen = HashSet::new();
        let mut misspelt = HashSet::new();
        for entry in entries {
            let Some(key) = entry.key.as_str() else {
                let found = entry.key.value.describe();
                self.error(
                    entry.key.pos,
                    format!("{path}: keys must be strings, found {found}"),
                );
                continue;
            };
            if !seen.insert(key) {
                self.error(entry.key.pos, format!("{path}: duplicate key {key:?}"));
                continue;
            }
            if let Some(prop) = properties.and_then(|p| p.get(key)) {
                self.check(&entry.value, prop, &join(path, key));
                continue;
            }
            match additional {
                Some(Json::Bool(false)) => {
                    let known: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let Some(meant) = suggest::closest(key, known.iter().copied()) else {
                        self.unknown_keys.insert(entry.key.pos, None);
                        let allowed = known.join(", ");
                        self.recoverable(
                            entry.key.pos,
                            format!("unknown field {key:?} in {place} (allowed: {allowed})"),
                        );
                        continue;
                    };
                    self.recoverable(
                        entry.key.pos,
                        format!("unknown field {key:?} in {place}, did you mean {meant:?}?"),
                    );
                    // A typo of a field the mapping lacks: read the value as that field,
                    // so errors inside it are found and nothing cascades from its absence
                    // ("missing field", "no such port", ...).
                    if !present.contains(meant) && misspelt.insert(meant) {
                        self.unknown_keys
                            .insert(entry.key.pos, Some(meant.to_owned()));
                        if let Some(prop) = properties.and_then(|p| p.get(meant)) {
                            self.check(&entry.value, prop, &join(path, meant));
                        }
                    } else {
                        self.unknown_keys.insert(entry.key.pos, None);
                    }
                }
                Some(s @ Json::Object(_)) => self.check(&entry.value, s, &join(path, key)),
                _ => {}
            }
        }
        if let Some(required) = schema.get("required").and_then(Json::as_array) {
            for name in required.iter().filter_map(Json::as_str) {
                if !seen.contains(name) && !misspelt.contains(name) {
                    self.error(
                        node.pos,
                        format!("missing required field {name:?} in {place}"),
                    );
                }
            }
        }
    }
}

/// `parent.key`, or `key` at the top.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn allowed_values(schema: &Json) -> Option<Vec<Json>> {
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        return Some(values.clone());
    }
    schema.get("const").map(|c| vec![c.clone()])
}

fn scalar_json(node: &Node) -> Option<Json> {
    match &node.value {
        Value::Null => Some(Json::Null),
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::Int(i) => Some(Json::from(*i)),
        Value::Float(f) => serde_json::Number::from_f64(*f).map(Json::Number),
        Value::Str(s) => Some(Json::String(s.clone())),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

fn describe_type(t: &str) -> &'static str {
    match t {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        _ => "a value of another type",
    }
}

fn type_hint(node: &Node, wanted: &[&str]) -> String {
    let wants = |t: &str| wanted.contains(&t);
    match &node.value {
        Value::Str(s) if wants("integer") && s.trim().parse::<i64>().is_ok() => {
            " (remove the quotes)".to_owned()
        }
        Value::Str(s) if wants("number") && s.trim().parse::<f64>().is_ok() => {
            " (remove the quotes)".to_owned()
        }
        Value::Str(s)
            if wants("boolean")
                && matches!(
                    s.to_lowercase().as_str(),
                    "yes" | "no" | "on" | "off" | "y" | "n"
                ) =>
        {
            " (YAML 1.2 booleans are true and false)".to_owned()
        }
        Value::Int(_) | Value::Float(_) | Value::Bool(_) if wants("string") => format!(
            " (quote it: \"{}\")",
            node.scalar_text().unwrap_or_default()
        ),
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) if wants("array") => {
            " (write a list, e.g. [value] or one \"- value\" per line)".to_owned()
        }
        Value::Null if wants("object") || wants("array") || wants("string") => {
            " (the value is empty)".to_owned()
        }
        _ => String::new(),
    }
}

/// Converts a node to JSON for typed decoding, renaming or leaving out the unknown keys
/// a [`Checker`] found. Call only when the checker found nothing fatal.
pub(crate) fn to_json(node: &Node, unknown: &HashMap<Pos, Option<String>>) -> Json {
    match &node.value {
        Value::Seq(items) => Json::Array(items.iter().map(|i| to_json(i, unknown)).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .filter_map(|e| {
                    let key = match unknown.get(&e.key.pos) {
                        Some(None) => return None,
                        Some(Some(meant)) => meant.clone(),
                        None => e.key.scalar_text().unwrap_or_default(),
                    };
                    Some((key, to_json(&e.value, unknown)))
                })
                .collect(),
        ),
        _ => scalar_json(node).unwrap_or(Json::Null),
    }
}
