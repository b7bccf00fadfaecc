//! Printing plans for people: a readable diff, coloured on a terminal (unless NO_COLOR).

use std::io::IsTerminal;

use ecsd_plan::{Action, Plan};
use serde_json::Value;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Leaf values of `v` with their paths under `path` (lists of scalars stay whole).
fn leaves(path: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                leaves(&format!("{path}.{k}"), x, out);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            for (i, x) in a.iter().enumerate() {
                leaves(&format!("{path}[{i}]"), x, out);
            }
        }
        other => out.push((path.to_owned(), other.clone())),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    }
}

/// The plan as text.
pub(crate) fn plan_text(plan: &Plan, revision: &str) -> String {
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut out = String::new();
    let (mut create, mut update, mut delete) = (0, 0, 0);
    for c in &plan.changes {
        let (sign, color, verb) = match c.action {
            Action::Create => {
                create += 1;
                ("+", "32", "create")
            }
            Action::Update => {
                update += 1;
                ("~", "33", "update")
            }
            Action::Delete => {
                delete += 1;
                ("-", "31", "delete")
            }
        };
        out.push_str(&style.paint(color, &format!("{sign} {verb} {}\n", c.key)));
        for d in &c.diff {
            match (&d.from, &d.to) {
                (Value::Null, to) => {
                    let mut added = Vec::new();
                    leaves(&d.path, to, &mut added);
                    for (p, v) in added {
                        out.push_str(&style.paint("32", &format!("    + {p}: {}\n", show(&v))));
                    }
                }
                (from, Value::Null) => {
                    let mut removed = Vec::new();
                    leaves(&d.path, from, &mut removed);
                    for (p, v) in removed {
                        out.push_str(&style.paint("31", &format!("    - {p}: {}\n", show(&v))));
                    }
                }
                (from, to) => out.push_str(&format!(
                    "    ~ {}: {} -> {}\n",
                    d.path,
                    show(from),
                    show(to)
                )),
            }
        }
        for n in &c.notes {
            out.push_str(&format!("    note: {n}\n"));
        }
    }
    for h in &plan.holds {
        out.push_str(&style.paint("33", &format!("! held: {}: {}\n", h.key, h.reason)));
    }
    for e in &plan.errors {
        let who = e.key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default();
        out.push_str(&style.paint("31", &format!("! error: {who}{}\n", e.message)));
    }
    if plan.is_empty() {
        out.push_str(&format!(
            "No changes: AWS matches the manifests (revision {revision}).\n"
        ));
    } else {
        out.push_str(&format!(
            "Plan (revision {revision}): {create} to create, {update} to update, {delete} to delete, {} held, {} error(s).\n",
            plan.holds.len(),
            plan.errors.len()
        ));
    }
    out
}
