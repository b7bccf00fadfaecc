//! Field-level diffs between a desired and an observed object, both rendered into the
//! manifest's own shape (so paths read like `taskDefinition.containers[0].image`).
//!
//! The comparison is complete: every key of either side is compared, so a field, map
//! entry or list entry that is only in AWS is a difference (its deletion from the manifest
//! must reach AWS). Callers render both sides with AWS's documented defaults filled in
//! (see [`crate::defaults`]), so a field the manifest leaves out compares equal to the
//! default AWS reports.

use serde::Serialize;
use serde_json::Value;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// Path in manifest terms, relative to `spec`.
    pub path: String,
    /// What AWS has (`null` when absent).
    pub from: Value,
    /// What the manifest asks for (`null` when it is to be removed).
    pub to: Value,
}

/// The differences of `observed` from `desired`: keys in `desired`'s order, then keys only
/// `observed` has.
pub fn diff(desired: &Value, observed: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    walk("", desired, observed, &mut out);
    out
}

fn walk(path: &str, desired: &Value, observed: &Value, out: &mut Vec<FieldDiff>) {
    // A map on one side only is compared entry by entry with an empty one, so each
    // added or deleted entry shows at its own path (`environment.FEATURE_X`).
    let empty = Value::Object(serde_json::Map::new());
    let (desired, observed) = match (desired, observed) {
        (Value::Object(_), Value::Null) if !path.is_empty() => (desired, &empty),
        (Value::Null, Value::Object(_)) if !path.is_empty() => (&empty, observed),
        _ => (desired, observed),
    };
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => {
            let only_observed = o.keys().filter(|k| !d.contains_key(*k));
            for k in d.keys().chain(only_observed) {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(
                    &child,
                    d.get(k).unwrap_or(&Value::Null),
                    o.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(d), Value::Array(o)) if d.iter().chain(o).all(Value::is_object) => {
            for i in 0..d.len().max(o.len()) {
                let child = format!("{path}[{i}]");
                match (d.get(i), o.get(i)) {
                    (Some(dv), Some(ov)) => walk(&child, dv, ov, out),
                    (Some(dv), None) => out.push(change(&child, Value::Null, dv.clone())),
                    (None, Some(ov)) => out.push(change(&child, ov.clone(), Value::Null)),
                    (None, None) => {}
                }
            }
        }
        _ if equal(desired, observed) => {}
        _ => out.push(change(path, observed.clone(), desired.clone())),
    }
}

fn change(path: &str, from: Value, to: Value) -> FieldDiff {
    FieldDiff {
        path: path.to_owned(),
        from,
        to,
    }
}

/// Equality with numbers compared by value (`60` equals `60.0`) and an absent value
/// equal to an empty list or map.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Null, Value::Array(v)) | (Value::Array(v), Value::Null) => v.is_empty(),
        (Value::Null, Value::Object(m)) | (Value::Object(m), Value::Null) => m.is_empty(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_only_aws_has_is_a_difference_to_remove() {
        let desired = json!({"environment": {"LOG_LEVEL": "info"}});
        let observed = json!({"environment": {"LOG_LEVEL": "info", "FEATURE_X": "on"}});
        assert_eq!(
            diff(&desired, &observed),
            vec![FieldDiff {
                path: "environment.FEATURE_X".into(),
                from: json!("on"),
                to: Value::Null,
            }]
        );
    }

    #[test]
    fn a_key_only_the_manifest_has_is_a_difference_to_add() {
        let desired = json!({"command": ["gunicorn"]});
        assert_eq!(diff(&desired, &json!({}))[0].path, "command");
        assert_eq!(diff(&json!({}), &desired)[0].to, Value::Null);
    }

    #[test]
    fn a_changed_scalar_is_reported_at_its_path() {
        let desired =
            json!({"taskDefinition": {"containers": [{"name": "app", "image": "web:2"}]}});
        let observed =
            json!({"taskDefinition": {"containers": [{"name": "app", "image": "web:1"}]}});
        assert_eq!(
            diff(&desired, &observed),
            vec![FieldDiff {
                path: "taskDefinition.containers[0].image".into(),
                from: json!("web:1"),
                to: json!("web:2"),
            }]
        );
    }

    #[test]
    fn normalisation_table() {
        // (desired, observed, equal?)
        let table = [
            (json!({"t": 60}), json!({"t": 60.0}), true),
            (json!({"l": []}), json!({}), true),
            (json!({"m": {}}), json!({"m": null}), true),
            (json!({"l": ["a", "b"]}), json!({"l": ["a", "b"]}), true),
            (json!({"l": ["a", "b"]}), json!({"l": ["b", "a"]}), false),
            (json!({"s": "1"}), json!({"s": 1}), false),
            (json!({"b": false}), json!({}), false),
        ];
        for (d, o, same) in table {
            assert_eq!(diff(&d, &o).is_empty(), same, "{d} vs {o}");
        }
    }

    #[test]
    fn a_map_on_one_side_only_is_reported_entry_by_entry() {
        let desired = json!({"secrets": null});
        let observed = json!({"secrets": {"DB_URL": "arn:x"}});
        let d = diff(&desired, &observed);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "secrets.DB_URL");
    }

    #[test]
    fn extra_and_missing_list_items_are_reported() {
        let desired = json!({"targetTracking": [{"metric": "cpu"}]});
        let observed = json!({"targetTracking": [{"metric": "cpu"}, {"metric": "memory"}]});
        let d = diff(&desired, &observed);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "targetTracking[1]");
        assert_eq!(d[0].to, Value::Null);
    }
}
