//! `/ui/object/KIND/NAME`: one object in full: its status, the pending diff, the
//! signals behind its health (a TargetGroup's targets by state with AWS's reasons, a
//! Service's deployment alarms and tasks, a ScalingPolicy's bounds and activities), its
//! warnings, and its history (each revision applied: when, which, the result).

use serde_json::Value;

use super::overview::{approval, deployment_bar};
use super::{diff_text, esc, field, frame};
use ecsd_runtime::status::rfc3339;

/// A table with a caption, column headings and rows of cells (already escaped).
fn table(caption: &str, columns: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = format!("<table><caption>{}</caption><thead><tr>", esc(caption));
    for c in columns {
        html.push_str(&format!("<th scope=\"col\">{}</th>", esc(c)));
    }
    html.push_str("</tr></thead><tbody>");
    for r in rows {
        html.push_str("<tr>");
        for cell in r {
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn time(v: &Value) -> String {
    v.as_u64().map(rfc3339).unwrap_or_default()
}

/// The health details of `o`, as headed sections.
fn details(o: &Value) -> String {
    let d = &o["details"];
    let mut html = String::new();
    if field(o, "kind") == "TargetGroup" && d["targets"].as_array().is_none() {
        html.push_str("<h2>Targets</h2><p class=\"line\">No targets registered.</p>");
    }
    if let Some(targets) = d["targets"].as_array() {
        let rows: Vec<Vec<String>> = targets
            .iter()
            .map(|t| {
                vec![
                    esc(field(t, "id")),
                    t["port"]
                        .as_u64()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    format!(
                        "<span class=\"target {s}\">{s}</span>",
                        s = esc(field(t, "state"))
                    ),
                    esc(field(t, "reason")),
                    esc(field(t, "description")),
                ]
            })
            .collect();
        html.push_str("<h2>Targets</h2>");
        html.push_str(&table(
            "registered targets and their health (ELBv2 DescribeTargetHealth)",
            &["target", "port", "state", "reason", "description"],
            &rows,
        ));
    }
    let alarms = d["alarms"].as_array();
    let missing = d["missingAlarms"].as_array();
    if alarms.is_some() || missing.is_some() {
        let mut rows: Vec<Vec<String>> = alarms
            .into_iter()
            .flatten()
            .map(|a| {
                vec![
                    esc(field(a, "name")),
                    esc(field(a, "state")),
                    esc(field(a, "reason")),
                    time(&a["since"]),
                ]
            })
            .collect();
        rows.extend(missing.into_iter().flatten().map(|m| {
            vec![
                esc(m.as_str().unwrap_or_default()),
                "not found".to_owned(),
                "CloudWatch has no alarm of this name".to_owned(),
                String::new(),
            ]
        }));
        html.push_str("<h2>Deployment alarms</h2>");
        html.push_str(&table(
            "CloudWatch alarms ECS watches during a deployment",
            &["alarm", "state", "reason", "since"],
            &rows,
        ));
    }
    let s = &d["scaling"];
    if s.is_object() {
        html.push_str(&format!(
            "<h2>Scaling</h2><p class=\"line scaling\">{} task(s) wanted within {}–{}{}</p>",
            s["desiredCount"],
            s["minCapacity"],
            s["maxCapacity"],
            match s["atBound"].as_str() {
                Some(b) => format!(
                    ", at its {} since {}",
                    esc(b),
                    esc(&time(&s["atBoundSince"]))
                ),
                None => String::new(),
            }
        ));
        if let Some(acts) = s["activities"].as_array() {
            let rows: Vec<Vec<String>> = acts
                .iter()
                .map(|a| {
                    vec![
                        time(&a["start"]),
                        esc(field(a, "status")),
                        esc(field(a, "description")),
                        esc(field(a, "statusMessage")),
                    ]
                })
                .collect();
            html.push_str(&table(
                "newest scaling activities",
                &["started", "status", "what", "message"],
                &rows,
            ));
        }
    }
    if let Some(e) = d["startImpaired"].as_str() {
        html.push_str(&format!(
            "<h2>Task starts</h2><p class=\"line Degraded\">{}</p>",
            esc(e)
        ));
    }
    html
}

/// The page of the object `kind`/`name` in the `/status` document, if it is there.
pub(crate) fn object_page(doc: &Value, kind: &str, name: &str) -> Option<String> {
    let o = doc["objects"]
        .as_array()?
        .iter()
        .find(|o| field(o, "kind") == kind && field(o, "name") == name)?;
    let (sync, health) = (esc(field(o, "sync")), esc(field(o, "health")));
    let mut html = format!(
        "<header><p><a href=\"/ui\">← all applications</a></p><h1>{k} {n}</h1><p>application: {app}; revision <code id=\"revision\">{rev}</code>{target}</p></header><main>",
        k = esc(kind),
        n = esc(name),
        target = o["target"]
            .as_str()
            .map(|t| format!("; target <code id=\"target\">{}</code>", esc(t)))
            .unwrap_or_default(),
        app = esc(o["application"].as_str().unwrap_or(name)),
        rev = esc(field(doc, "revision")),
    );
    html.push_str(&format!(
        "<p class=\"line status\"><span class=\"sync {sync}\">{sync}</span>, <span class=\"health {health}\">{health}</span>: <span class=\"msg\">{}</span></p>",
        esc(field(o, "message"))
    ));
    if let Some(t) = o["tasks"].as_object() {
        html.push_str(&format!(
            "<p class=\"line tasks\">{}/{} tasks running, revision <code>{}</code></p>",
            t.get("running").unwrap_or(&Value::Null),
            t.get("desired").unwrap_or(&Value::Null),
            esc(t
                .get("taskDefinition")
                .and_then(Value::as_str)
                .unwrap_or_default())
        ));
    }
    if o["deployment"].is_object() {
        html.push_str(&deployment_bar(&o["deployment"]));
    }
    if o["awaitingApproval"].is_object() {
        html.push_str(&approval(&o["awaitingApproval"]));
    }
    if o["analysis"].is_object() {
        html.push_str(&analysis(&o["analysis"]));
    }
    if let Some(ws) = o["warnings"].as_array() {
        html.push_str("<h2>Warnings</h2><ul id=\"warnings\">");
        for w in ws {
            html.push_str(&format!(
                "<li class=\"warn\">{}</li>",
                esc(w.as_str().unwrap_or_default())
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str("<h2>Diff</h2>");
    match diff_text(o) {
        Some(diff) => html.push_str(&format!("<pre class=\"diff\">{}</pre>", esc(&diff))),
        None => html.push_str("<p class=\"line\">AWS matches the manifest: nothing to change.</p>"),
    }
    html.push_str(&details(o));
    html.push_str("<h2>History</h2>");
    let rows: Vec<Vec<String>> = o["history"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .map(|h| {
            vec![
                esc(field(h, "at")),
                format!("<code>{}</code>", esc(field(h, "revision"))),
                esc(field(h, "action")),
                esc(field(h, "result")),
            ]
        })
        .collect();
    if rows.is_empty() {
        html.push_str("<p class=\"line\">ecsd has not changed this object since it started.</p>");
    } else {
        html.push_str(&table(
            "what ecsd applied, newest first",
            &["when", "source revision", "change", "result"],
            &rows,
        ));
    }
    html.push_str("</main>");
    Some(frame(&format!("ecsd: {kind} {name}"), &html))
}

/// A canary analysis: what it found and did, and a table of its metrics.
fn analysis(a: &Value) -> String {
    let mut html = format!(
        "<h2>Canary analysis</h2><p class=\"line analysis\">{}</p>",
        esc(field(a, "message"))
    );
    let Some(metrics) = a["metrics"].as_array().filter(|m| !m.is_empty()) else {
        return html;
    };
    html.push_str(&format!(
        "<table id=\"analysis\"><caption>Metrics over {} to {}</caption><thead><tr><th scope=\"col\">Metric</th><th scope=\"col\">Measures</th><th scope=\"col\">Value</th><th scope=\"col\">Baseline</th><th scope=\"col\">Bound</th><th scope=\"col\">Data points</th><th scope=\"col\">Outcome</th></tr></thead><tbody>",
        esc(field(a, "windowStart")),
        esc(field(a, "windowEnd"))
    ));
    for m in metrics {
        let baseline = match &m["baseline"] {
            Value::Null => String::new(),
            b => b.to_string(),
        };
        html.push_str(&format!(
            "<tr class=\"{outcome}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{} ({} needed)</td><td>{outcome}</td></tr>",
            esc(field(m, "name")),
            esc(field(m, "measures")),
            esc(&ecsd_runtime::status::analysis::value_text(&m["value"])),
            esc(&baseline),
            esc(field(m, "bound")),
            m["dataPoints"],
            m["needed"],
            outcome = esc(field(m, "outcome")),
        ));
    }
    html.push_str("</tbody></table>");
    html
}
